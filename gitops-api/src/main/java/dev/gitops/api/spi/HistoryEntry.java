package dev.gitops.api.spi;

import dev.gitops.api.SyncResult;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * One past sync, forget or destroy, as the store keeps it; {@link #operation()} says which.
 *
 * <pre>{@code
 * for (HistoryEntry h : reconciler.history()) {    // newest first
 *   log.info("{} {} {} {} {} {}", h.id(), h.time(), h.operation(), h.status(), h.revision(), h.counts());
 * }
 * // roll back: sync again the revision of the successful sync before the newest one (a forget or
 * // a destroy is no sync: its revision is not what it applied, so it is never a rollback target)
 * HistoryEntry good = reconciler.history().stream().filter(HistoryEntry::isRollbackTarget).skip(1).findFirst()
 *     .orElseThrow();
 * reconciler.sync(good.revision(), new Cancellation());
 * }</pre>
 *
 * @param id unique id (for rollback)
 * @param time when it finished
 * @param revision the revision synced; for a {@linkplain Operation#FORGET forget} the source's head
 *     when it ran (nothing of it was applied), for a {@linkplain Operation#DESTROY destroy} the word
 *     {@code destroy}
 * @param planId the id of the plan that ran
 * @param status how the sync ended: {@link SyncResult.Status#SUCCEEDED SUCCEEDED}, {@link
 *     SyncResult.Status#FAILED FAILED} or {@link SyncResult.Status#INCOMPLETE INCOMPLETE} (a plan some
 *     keys of which could not be observed: deletes and replaces were held back); a dry run records
 *     nothing, so PLANNED is not recorded by the engine
 * @param counts outcome counts by kind name
 * @param message a one-line summary (never a secret value)
 * @param owner the owner whose sync it was ({@code ""}: not recorded, as in entries older builds
 *     wrote); owners whose providers mark their objects may share one store and so its history
 * @param operation what wrote the entry: a sync, a forget or a destroy (entries older builds wrote
 *     record none: a store reads them as {@link Operation#SYNC}, unless the entry shows otherwise, as
 *     {@link Operation} says)
 */
public record HistoryEntry(String id, Instant time, String revision, String planId, SyncResult.Status status,
    Map<String, Integer> counts, String message, String owner, Operation operation) {

  /**
   * What wrote a history entry. Only a {@link #SYNC} applied its revision, so only a successful
   * sync is a rollback target ({@link #isRollbackTarget()}).
   *
   * <p>Entries older builds wrote record no operation. Their other fields tell: a forget's message
   * starts {@code "forgot N of M; "}, a {@code destroy(ORPHAN)}'s {@code "orphaned everything; "},
   * a {@code destroy(DELETE)}'s revision is {@code destroy}, and a sync's message starts with a
   * count ({@code "2 to create, ..."}); the stores of this project read such an entry as that
   * operation, and any other as a {@link #SYNC}.
   */
  public enum Operation {
    /**
     * A sync or an apply of a reviewed plan ({@code Reconciler.sync}, {@code apply}; {@code gitops
     * sync}, {@code sync --plan}, {@code rollback}, the agent's syncs): it applied its revision.
     */
    SYNC,
    /**
     * {@code Reconciler.forget(keys)} ({@code gitops forget}): keys stopped being owned, their
     * objects left in place; its revision is the source's head when it ran, not one it applied.
     */
    FORGET,
    /** {@code Reconciler.destroy(DeletionPolicy.DELETE)}: every owned object deleted; its revision is {@code destroy}. */
    DESTROY,
    /**
     * {@code Reconciler.destroy(DeletionPolicy.ORPHAN)}: every owned object forgotten and left in
     * place; its revision is {@code destroy}.
     */
    DESTROY_ORPHAN
  }

  /** Validates and copies. */
  public HistoryEntry {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(revision, "revision");
    Objects.requireNonNull(planId, "planId");
    Objects.requireNonNull(status, "status");
    counts = Map.copyOf(Objects.requireNonNull(counts, "counts"));
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(operation, "operation");
  }

  /**
   * An entry of a {@linkplain Operation#SYNC sync}, as the constructor of builds before {@link
   * #operation()} made them.
   *
   * <pre>{@code
   * HistoryEntry h = new HistoryEntry("h1", Instant.now(), "r1", "p1", SyncResult.Status.SUCCEEDED, Map.of(), "m", "me");
   * assert h.operation() == HistoryEntry.Operation.SYNC && h.isRollbackTarget();
   * }</pre>
   */
  public HistoryEntry(String id, Instant time, String revision, String planId, SyncResult.Status status,
      Map<String, Integer> counts, String message, String owner) {
    this(id, time, revision, planId, status, counts, message, owner, Operation.SYNC);
  }

  /**
   * An entry of a {@linkplain Operation#SYNC sync} that records no owner, as older builds wrote them.
   *
   * <pre>{@code
   * HistoryEntry h = new HistoryEntry("h1", Instant.now(), "r1", "p1", SyncResult.Status.SUCCEEDED, Map.of(), "m");
   * assert h.owner().isEmpty();
   * }</pre>
   */
  public HistoryEntry(String id, Instant time, String revision, String planId, SyncResult.Status status,
      Map<String, Integer> counts, String message) {
    this(id, time, revision, planId, status, counts, message, "");
  }

  /** Whether the sync (or forget, or destroy: see {@link #operation()}) succeeded. */
  public boolean succeeded() {
    return status == SyncResult.Status.SUCCEEDED;
  }

  /** Whether a sync wrote the entry ({@link Operation#SYNC}), not a forget or a destroy. */
  public boolean isSync() {
    return operation == Operation.SYNC;
  }

  /**
   * Whether syncing this entry's revision again returns to what it applied: a {@linkplain #isSync()
   * sync} that {@linkplain #succeeded() succeeded}. A forget's or a destroy's revision is not what
   * it left behind (a destroy's next sync of any revision creates everything again).
   */
  public boolean isRollbackTarget() {
    return isSync() && succeeded();
  }
}
