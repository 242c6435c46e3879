package dev.gitops.core.apply;

import dev.gitops.api.Change;
import dev.gitops.api.FieldPath;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncListener;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Where the {@link Executor} tells the rest of the engine what it is doing: the state store
 * records pending writes and outcomes, listeners receive events.
 *
 * <p>All hooks are called from the single thread that runs {@link Executor#execute}, one at a
 * time and in order, so implementations need no locking; they should be quick, as no new change
 * starts while a hook runs.
 *
 * <pre>{@code
 * ExecutionHooks hooks = new ExecutionHooks() {
 *   public void beforeApply(Change c) { store.writePending(c.resource()); }
 *
 *   public void afterOutcome(Change c, Outcome o) {
 *     if (o.isOk() && c.action() == Action.DELETE) {
 *       store.forget(c.key());
 *     } else if (o.isOk()) {
 *       store.commit(c.resource(), plan.revision());
 *     }  // a failure keeps the pending entry, so its fields stay owned
 *   }
 *
 *   public void event(SyncEvent e) { listener.onEvent(e); }
 * };
 * }</pre>
 */
public interface ExecutionHooks {

  /**
   * Called once before the first provider call of a CREATE, UPDATE or REPLACE, before {@link
   * #beforeApply}: returns the change to send, which may differ from the planned one where the plan
   * could not know a value yet (an output reference to a planning provider's value known only
   * after apply, resolved from {@code outcomes}, the outcomes of the keys settled so far; a key not settled
   * yet maps to null). The
   * returned change is the one sent, recorded and reported from then on. If it throws, the change
   * fails PERMANENT with the exception's message and nothing is sent. The default returns {@code
   * change}.
   */
  default Change resolve(Change change, java.util.Map<dev.gitops.api.ResourceKey, Outcome> outcomes) {
    return change;
  }

  /**
   * Called once before the first provider call of a CREATE, UPDATE or REPLACE (the store writes
   * the pending document here). If it throws, the change fails PERMANENT, nothing is sent to the
   * provider, and {@link #afterOutcome} is not called for it.
   */
  default void beforeApply(Change change) {}

  /**
   * Called once per dispatch round with every CREATE, UPDATE and REPLACE about to be sent for the
   * first time, before any of them is: the store writes all their pending documents in one
   * durable write here (group commit). Returns the changes whose pending write failed (they fail
   * PERMANENT and are not sent); if it throws, every change of the round fails that way, and the
   * execution sends nothing more (it is cancelled), as it does when one of the failures is a
   * {@link dev.gitops.api.StoreLockedException} (the store has another holder now). The default
   * calls {@link #beforeApply} for each, and stops calling it at such a failure: the changes after
   * it fail with the same exception.
   */
  default Map<ResourceKey, RuntimeException> beforeApplyAll(List<Change> changes) {
    Map<ResourceKey, RuntimeException> failed = new LinkedHashMap<>();
    RuntimeException lost = null;
    for (Change c : changes) {
      if (lost != null) {
        failed.put(c.key(), lost);
        continue;
      }
      try {
        beforeApply(c);
      } catch (dev.gitops.api.StoreLockedException e) {
        lost = e;
        failed.put(c.key(), e);
      } catch (RuntimeException e) {
        failed.put(c.key(), e);
      }
    }
    return failed;
  }

  /**
   * Called after the provider reported a CREATE, UPDATE or REPLACE done and the object was
   * observed again ({@code live} is PRESENT and normalized): returns the key-addressed paths
   * where the live object does not hold what the change set out to write, empty when it does.
   * A non-empty answer (or an exception) fails the change PERMANENT, naming the paths, and
   * {@link #afterOutcome} gets that failure, so nothing is recorded as applied that did not
   * land. The default checks nothing; the {@code Reconciler}'s hooks run the three-way merge
   * again against the fresh observation.
   */
  default List<FieldPath> verify(Change change, Observation live) {
    return List.of();
  }

  /**
   * Called at most once per change, when the provider reported a {@linkplain Outcome#isConflict()
   * conflict} (the object changed since it was observed, nothing was written) and the key was
   * observed again ({@code live}: normalized, never UNKNOWN): returns the change to send instead,
   * planned against {@code live}, or empty to keep the conflict's UNKNOWN outcome. The returned
   * change goes through {@link #resolve} and {@link #beforeApply} like a planned one; a second
   * conflict is final. If it throws, the change fails PERMANENT. The default plans nothing again.
   */
  default java.util.Optional<Change> replan(Change change, Observation live) {
    return java.util.Optional.empty();
  }

  /**
   * Called exactly once per change that was sent to a provider, with what the live system is
   * known to hold (the store commits or forgets here):
   *
   * <ul>
   *   <li>CREATE, UPDATE, REPLACE: the provider's final outcome after retries once the object
   *       was observed again and {@link #verify verified}, before any health wait, so that what
   *       was written is recorded even if the object never becomes healthy;
   *   <li>DELETE: after the object was seen ABSENT (or the wait failed, with that failure);
   *   <li>UNKNOWN outcomes (timed out, cancelled mid-call) are passed as they are: treat them like
   *       a crash and keep the pending document.
   * </ul>
   *
   * <p>If it throws, the change is reported PERMANENT and its dependents are blocked.
   */
  default void afterOutcome(Change change, Outcome outcome) {}

  /**
   * Makes the outcomes {@link #afterOutcome} took since the last call durable, for hooks that
   * collect them to record together (group commit). Called before the executor sends anything
   * more, before it waits for results, and before it returns. If it throws, every change whose
   * outcome was taken since the last call is reported PERMANENT ("recording the outcome failed")
   * and the execution is cancelled. The default does nothing: afterOutcome recorded already.
   */
  default void flushOutcomes() {}

  /** Every {@link SyncEvent} of the execution (ChangeStarted, ChangeFinished, Retrying, WaitingForHealth). */
  default void event(SyncEvent event) {}

  /** Hooks that do nothing. */
  static ExecutionHooks none() {
    return new ExecutionHooks() {};
  }

  /** Hooks that only forward events to {@code listener}. */
  static ExecutionHooks events(SyncListener listener) {
    Objects.requireNonNull(listener, "listener");
    return new ExecutionHooks() {
      @Override
      public void event(SyncEvent event) {
        listener.onEvent(event);
      }
    };
  }
}
