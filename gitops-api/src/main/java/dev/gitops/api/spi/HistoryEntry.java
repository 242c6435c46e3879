package dev.gitops.api.spi;

import dev.gitops.api.SyncResult;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * One past sync, as the store keeps it.
 *
 * <pre>{@code
 * for (HistoryEntry h : reconciler.history()) {    // newest first
 *   log.info("{} {} {} {} {}", h.id(), h.time(), h.status(), h.revision(), h.counts());
 * }
 * // roll back: sync again the revision of the newest success before the last sync
 * HistoryEntry good = reconciler.history().stream().skip(1).filter(HistoryEntry::succeeded).findFirst().orElseThrow();
 * reconciler.sync(good.revision(), new Cancellation());
 * }</pre>
 *
 * @param id unique id (for rollback)
 * @param time when it finished
 * @param revision the revision synced
 * @param planId the id of the plan that ran
 * @param status how the sync ended: {@link SyncResult.Status#SUCCEEDED SUCCEEDED}, {@link
 *     SyncResult.Status#FAILED FAILED} or {@link SyncResult.Status#INCOMPLETE INCOMPLETE} (a plan some
 *     keys of which could not be observed: deletes and replaces were held back); a dry run records
 *     nothing, so PLANNED is not recorded by the engine
 * @param counts outcome counts by kind name
 * @param message a one-line summary (never a secret value)
 * @param owner the owner whose sync it was ({@code ""}: not recorded, as in entries older builds
 *     wrote); owners whose providers mark their objects may share one store and so its history
 */
public record HistoryEntry(String id, Instant time, String revision, String planId, SyncResult.Status status,
    Map<String, Integer> counts, String message, String owner) {
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
  }

  /**
   * An entry that records no owner, as older builds wrote them.
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

  /** Whether the sync succeeded. */
  public boolean succeeded() {
    return status == SyncResult.Status.SUCCEEDED;
  }
}
