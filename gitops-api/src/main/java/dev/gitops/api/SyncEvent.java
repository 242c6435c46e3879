package dev.gitops.api;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Something that happened during a sync, delivered to {@link SyncListener}s. Every event names
 * the revision it belongs to. Values of sensitive fields never appear in events.
 */
public sealed interface SyncEvent {

  /** The revision the event belongs to. */
  String revision();

  /** The source was read: {@code skipped} when the commit was unchanged and decoding was skipped. */
  record SourceRead(String revision, boolean skipped, boolean historyRewritten, int resources) implements SyncEvent {}

  /** A plan was computed. */
  record Planned(String revision, Plan plan) implements SyncEvent {}

  /**
   * Drift was found on {@code key} at {@code paths} by the plan {@code planId}. Every plan reports
   * its drift, so a {@code plan()} followed by a {@code sync()} reports it twice: a listener that
   * wants each drift once remembers the {@code (planId, key)} pairs it has seen (an unchanged
   * system plans with the same id both times).
   *
   * <pre>{@code
   * Set<String> seen = ConcurrentHashMap.newKeySet();
   * SyncListener alerts = e -> {
   *   if (e instanceof SyncEvent.DriftDetected d && seen.add(d.planId() + " " + d.key())) {
   *     System.out.println(d.key() + " drifted at " + d.paths());
   *   }
   * };
   * }</pre>
   *
   * @param revision the revision planned
   * @param planId the {@linkplain Plan#id() id} of the plan that found the drift
   * @param key the drifted resource
   * @param paths the drifted fields
   */
  record DriftDetected(String revision, String planId, ResourceKey key, List<FieldPath> paths) implements SyncEvent {
    /** Validates and copies. */
    public DriftDetected {
      Objects.requireNonNull(revision, "revision");
      Objects.requireNonNull(planId, "planId");
      Objects.requireNonNull(key, "key");
      paths = List.copyOf(paths);
    }
  }

  /** A change is about to be applied (attempt counts from 1). */
  record ChangeStarted(String revision, Change change, int attempt) implements SyncEvent {}

  /** A change finished with {@code outcome} after {@code attempt} attempts. */
  record ChangeFinished(String revision, Change change, Outcome outcome, int attempt) implements SyncEvent {}

  /** A transient failure will be retried after {@code delay}. */
  record Retrying(String revision, Change change, Outcome outcome, int attempt, Duration delay) implements SyncEvent {}

  /** A resource is waited on for health. */
  record WaitingForHealth(String revision, ResourceKey key, Health health) implements SyncEvent {}

  /** The sync finished. */
  record Finished(String revision, SyncResult result) implements SyncEvent {}
}
