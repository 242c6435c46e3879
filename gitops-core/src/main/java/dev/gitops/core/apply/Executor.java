package dev.gitops.core.apply;

import dev.gitops.api.Cancellation;
import dev.gitops.api.DependencyCycleException;
import dev.gitops.api.Outcome;
import dev.gitops.api.Plan;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.Provider;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

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
 * UNKNOWN (never retried: it is treated like a crash). Providers that {@link
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
 * <p>An {@code Executor} holds no state between calls; {@code execute} may be called again (also
 * from several threads at once, each run getting its own worker threads).
 */
public final class Executor {
  private static final AtomicInteger THREAD_NUMBER = new AtomicInteger();

  private final ExecutionOptions options;

  /** An executor with {@code options}. */
  public Executor(ExecutionOptions options) {
    this.options = Objects.requireNonNull(options, "options");
  }

  /** The options this executor runs with. */
  public ExecutionOptions options() {
    return options;
  }

  /**
   * Runs every change of {@code plan} that does something (CREATE, UPDATE, DELETE, REPLACE, READ,
   * FORGET) and returns an outcome for every change of the plan, in plan order: NOOP gives
   * UNCHANGED, SKIP gives SKIPPED with the change's reason, a change whose dependency failed gives
   * PERMANENT "blocked by &lt;key&gt;: &lt;its message&gt;", and a change not started when the run
   * was cancelled gives PERMANENT "cancelled before start: &lt;reason&gt;".
   *
   * <p>Returns promptly once {@code cancellation} is cancelled or {@link
   * ExecutionOptions#syncTimeout()} passes: calls still running are cancelled through their
   * tokens and reported UNKNOWN.
   *
   * @param plan the plan; its {@link Plan#dependencies()} say which keys wait for which
   * @param providersById the providers by {@link Provider#id()}; a change whose provider is
   *     missing fails PERMANENT
   * @param hooks store and event callbacks, called from this thread
   * @param cancellation cancels the run
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
    // Threads are created on demand up to parallelism; more appear only when a call that was
    // abandoned at its deadline still occupies its thread, so the bound holds for live calls.
    ThreadPoolExecutor pool = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS,
        new SynchronousQueue<>(), r -> {
          Thread t = new Thread(r, "gitops-apply-" + THREAD_NUMBER.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    try {
      return run.run(pool, cancellation);
    } finally {
      // Interrupts only calls that were abandoned (timed out or cancelled); the others finished.
      pool.shutdownNow();
    }
  }
}
