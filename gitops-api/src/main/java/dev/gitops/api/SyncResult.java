package dev.gitops.api;

import dev.gitops.api.internal.SortedArrayMap;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What one sync did: the plan it ran, the outcome per key, and whether it succeeded.
 *
 * <pre>{@code
 * SyncResult r = reconciler.sync();
 * if (r.status() == SyncResult.Status.INCOMPLETE) {
 *   log.warn("could not observe {}; held back {}", r.plan().unknown(), r.plan().heldBack());
 * } else if (!r.isSuccessful()) {
 *   r.failures().forEach((key, o) -> log.warn("{} failed: {}", key, o.message()));
 * }
 * }</pre>
 *
 * @param revision the revision synced
 * @param plan the plan that ran
 * @param status the overall status
 * @param outcomes per key, what happened (keys never attempted, for example blocked dependents,
 *     carry a PERMANENT outcome saying what blocked them)
 * @param duration how long it took
 * @param historyId the history entry recorded, or "" when none (dry run)
 */
public record SyncResult(String revision, Plan plan, Status status, SortedMap<ResourceKey, Outcome> outcomes,
    Duration duration, String historyId) {

  /** The overall status of a sync. */
  public enum Status {
    /** Every change succeeded. */
    SUCCEEDED,
    /** At least one change failed or was blocked. */
    FAILED,
    /** Nothing was applied: dry run or detect-only. */
    PLANNED,
    /**
     * Every change that ran succeeded, but the plan was incomplete: some keys (or a provider's
     * search for marked objects) could not be observed, so every delete and replace was held
     * back. Never a success: the same sync is retried.
     */
    INCOMPLETE
  }

  /**
   * Copies; the outcomes of another result are immutable already and shared as they are (a
   * reconciler that reports the outcomes of its last sync again copies none of them).
   */
  public SyncResult {
    Objects.requireNonNull(revision, "revision");
    Objects.requireNonNull(plan, "plan");
    Objects.requireNonNull(status, "status");
    outcomes = SortedArrayMap.copyOf(Objects.requireNonNull(outcomes, "outcomes"));
    Objects.requireNonNull(duration, "duration");
    Objects.requireNonNull(historyId, "historyId");
  }

  /**
   * Whether every change succeeded on a complete plan (a plan-only run counts as successful); an
   * INCOMPLETE sync is not a success.
   */
  public boolean isSuccessful() {
    return status == Status.SUCCEEDED || status == Status.PLANNED;
  }

  /** The failed keys and their outcomes. */
  public SortedMap<ResourceKey, Outcome> failures() {
    TreeMap<ResourceKey, Outcome> m = new TreeMap<>();
    for (Map.Entry<ResourceKey, Outcome> e : outcomes.entrySet()) {
      if (!e.getValue().isOk()) {
        m.put(e.getKey(), e.getValue());
      }
    }
    return m;
  }

  /** How many outcomes are of {@code kind}. */
  public int count(Outcome.Kind kind) {
    Objects.requireNonNull(kind, "kind");
    int n = 0;
    for (Outcome o : outcomes.values()) {
      if (o.kind() == kind) {
        n++;
      }
    }
    return n;
  }

  /** Whether anything in the live system changed. */
  public boolean changedAnything() {
    return count(Outcome.Kind.CREATED) + count(Outcome.Kind.CONFIGURED) + count(Outcome.Kind.DELETED) > 0;
  }
}
