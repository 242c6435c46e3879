package dev.gitops.core.apply;

import dev.gitops.api.Cancellation;
import dev.gitops.api.DependencyCycleException;
import dev.gitops.api.Outcome;
import dev.gitops.api.Plan;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.Provider;
import dev.gitops.core.internal.apply.AbandonedCalls;
import java.util.Map;
import java.util.Objects;

/**
 * Runs the changes of a {@link Plan} against the providers, in dependency order.
 *
 * <p>A change starts as soon as every change it depends on is done (and healthy), not in waves:
 * a slow change holds back only its own dependents. A dependency the plan SKIPs holds its
 * dependents ("blocked by &lt;key&gt;: skipped: &lt;reason&gt;"), and an unchanged (NOOP)
 * dependency is observed for health like an applied one. After a create, update or replace
 * reports success the object is observed again and {@link ExecutionHooks#verify verified}; a
 * delete completes only once the object is observed absent. At most {@link
 * ExecutionOptions#parallelism()} provider calls run at once; among changes ready together the
 * plan order decides. A failure blocks only its transitive dependents; everything independent
 * still runs. TRANSIENT failures are retried with exponential backoff and jitter; every call gets
 * a deadline and a cancellation token, and a call that overruns its deadline is abandoned as
 * UNKNOWN (never retried: it is treated like a crash, and it may still land). Providers that {@link
 * Provider#prefersBatches() prefer batches} receive the changes that are ready together in one
 * {@link Provider#applyAll} call, and only the keys that failed are retried.
 *
 * <pre>{@code
 * Executor executor = new Executor(ExecutionOptions.defaults().withParallelism(8));
 * Map<ResourceKey, Outcome> outcomes =
 *     executor.execute(plan, Map.of("files", filesProvider), storeHooks, new Cancellation(), "my-app");
 * outcomes.forEach((key, o) -> { if (!o.isOk()) log.warn("{}: {}", key, o.message()); });
 * }</pre>
 *
 * <p>An {@code Executor} lives as long as its user (a {@code Reconciler} keeps one) and holds
 * what must outlive one run: its worker threads — at most twice {@link
 * ExecutionOptions#parallelism()}, created on demand and gone when idle — and the {@link
 * #abandoned() calls it abandoned} whose provider has not returned. A call abandoned at its
 * deadline or on cancellation keeps its thread until the provider returns (an interrupt cannot
 * force it), so such calls shrink the room for new ones instead of adding threads; and no call
 * is started for a key whose abandoned call may still land. {@code execute} may be called again,
 * also from several threads at once; the runs share the threads. {@link #close()} ends the idle
 * threads at once (an abandoned call's thread when its provider returns).
 */
public final class Executor implements AutoCloseable {

  private final ExecutionOptions options;
  private final Workers workers;
  private final AbandonedCalls abandoned = new AbandonedCalls();

  /** An executor with {@code options}. */
  public Executor(ExecutionOptions options) {
    this.options = Objects.requireNonNull(options, "options");
    // Half the threads for live calls, the other half as room for abandoned calls that still run.
    this.workers = new Workers(2 * options.parallelism());
  }

  /** The options this executor runs with. */
  public ExecutionOptions options() {
    return options;
  }

  /**
   * Ends the worker threads: the idle ones at once, one still running a call this executor
   * abandoned when its provider returns. Nothing may be executed after this.
   */
  public void close() {
    workers.shutdown();
  }

  /**
   * The calls this executor abandoned while their provider had not returned, across runs. For the
   * {@code Reconciler}, which plans around them: the registry's type is internal (no compatibility
   * promise).
   */
  public AbandonedCalls abandoned() {
    return abandoned;
  }

  /**
   * Runs every change of {@code plan} that does something (CREATE, UPDATE, DELETE, REPLACE, READ,
   * FORGET) and returns an outcome for every change of the plan, in plan order (read-only; a
   * {@link java.util.SortedMap} when the plan's keys ascend): NOOP gives
   * UNCHANGED, SKIP gives SKIPPED with the change's reason, a change whose dependency failed gives
   * PERMANENT "blocked by &lt;key&gt;: &lt;its message&gt;", a change not started when the run
   * was cancelled gives PERMANENT "cancelled before start: &lt;reason&gt;", and a change whose
   * key has an abandoned call that may still land gives UNKNOWN "not started: ..." without a
   * provider call.
   *
   * <p>Returns promptly once {@code cancellation} is cancelled or {@link
   * ExecutionOptions#syncTimeout()} passes: calls still running are cancelled through their
   * tokens, reported UNKNOWN and recorded in {@link #abandoned()}.
   *
   * @param plan the plan; its {@link Plan#dependencies()} say which keys wait for which
   * @param providersById the providers by {@link Provider#id()}; a change whose provider is
   *     missing fails PERMANENT
   * @param hooks store and event callbacks, called from this thread
   * @param cancellation cancels the run; the run leaves no callback on it once it returns
   * @param owner the owner id handed to providers in every {@code CallContext}
   * @throws DependencyCycleException when the dependencies among the plan's changes form a cycle
   *     (nothing is run then)
   */
  public Map<ResourceKey, Outcome> execute(Plan plan, Map<String, Provider> providersById, ExecutionHooks hooks,
      Cancellation cancellation, String owner) {
    Objects.requireNonNull(plan, "plan");
    Objects.requireNonNull(providersById, "providersById");
    Objects.requireNonNull(hooks, "hooks");
    Objects.requireNonNull(cancellation, "cancellation");
    Objects.requireNonNull(owner, "owner");
    ExecutionRun run = new ExecutionRun(options, plan, providersById, hooks, owner);
    return run.run(workers, abandoned, cancellation);
  }
}
