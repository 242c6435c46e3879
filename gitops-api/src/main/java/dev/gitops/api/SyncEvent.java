package dev.gitops.api;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Something that happened during a sync, delivered to {@link SyncListener}s. Every event names
 * the revision it belongs to. Values of sensitive fields never appear in events. The interface is
 * sealed, so a listener can switch over every kind of event:
 *
 * <pre>{@code
 * SyncListener audit = e -> {
 *   if (e instanceof SyncEvent.Finished f) {
 *     log.info("{}: {}", f.revision(), f.result().isSuccessful() ? "in sync" : f.result().failures().keySet());
 *   } else if (e instanceof SyncEvent.Aborted a) {
 *     log.warn("{}: aborted: {}", a.revision(), a.error().getMessage());
 *   }
 * };
 * }</pre>
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
   *     log.warn("{} drifted at {}", d.key(), d.paths());
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

  /**
   * A provider's progress inside a change or a batch: one step (a task, a phase) on one key, for
   * example an Ansible task that finished on one host. Providers emit it to the listeners they are
   * given; {@code detail} never holds a sensitive value.
   *
   * <pre>{@code
   * listener.onEvent(new SyncEvent.Progress(revision, hostKey, "template nginx.conf", "changed", ""));
   * }</pre>
   *
   * @param revision the revision being applied
   * @param key the key the step ran for
   * @param step what ran (a task name, a phase)
   * @param status how it went, in the provider's words (ok, changed, failed, started)
   * @param detail a short explanation, or ""
   */
  record Progress(String revision, ResourceKey key, String step, String status, String detail) implements SyncEvent {}

  /** A resource is waited on for health. */
  record WaitingForHealth(String revision, ResourceKey key, Health health) implements SyncEvent {}

  /** The sync finished. */
  record Finished(String revision, SyncResult result) implements SyncEvent {}

  /**
   * The sync ended with {@code error} instead of a result, and no {@link Finished} follows: the
   * source could not be read, a guard refused the plan ({@link PlanRefusedException}), the store
   * was locked or damaged, or the sync was cancelled ({@link Cancellation.CancelledException}).
   *
   * <pre>{@code
   * SyncListener alerts = e -> {
   *   if (e instanceof SyncEvent.Aborted a && a.error() instanceof PlanRefusedException r) {
   *     log.warn("refused by {} at {}", r.guard(), a.revision());
   *   }
   * };
   * }</pre>
   *
   * @param revision the revision planned when planning got that far, else the one asked for, else ""
   * @param error what ended the sync; the caller of the sync gets the same exception, except for an
   *     {@link Error} (a provider's assertion, a class it cannot load), which this is a {@link
   *     GitOpsException} caused by, while the caller gets the error itself
   */
  record Aborted(String revision, RuntimeException error) implements SyncEvent {}
}
