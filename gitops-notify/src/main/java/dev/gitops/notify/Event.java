package dev.gitops.notify;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What a notification is about; each has a fixed {@link Severity}.
 *
 * <pre>{@code
 * Event e = Event.parse("sync-failed");   // or "SYNC_FAILED"
 * Severity s = e.severity();              // ERROR
 * String name = e.wireName();             // "sync-failed", as configuration and JSON write it
 * NotificationFilter f = NotificationFilter.all().withEvents(Set.of(Event.SYNC_FAILED, Event.DRIFT_DETECTED));
 * }</pre>
 */
public enum Event {
  /** A new revision is being synced (commit status: pending). */
  SYNC_STARTED(Severity.INFO),
  /** A sync succeeded (announced when it changed something, or when the previous one did not succeed). */
  SYNC_SUCCEEDED(Severity.INFO),
  /** A sync failed: a change failed, or the sync ended with an error (the source unreadable, the store locked). */
  SYNC_FAILED(Severity.ERROR),
  /** Resources were found changed outside gitops. */
  DRIFT_DETECTED(Severity.WARNING),
  /** A safety guard (the mass-deletion guard) refused the plan. */
  GUARD_REFUSED(Severity.ERROR),
  /** Some keys could not be observed: the sync applied what it could and held deletes back. */
  INCOMPLETE_PLAN(Severity.WARNING),
  /**
   * A sync left something Git declares not applied: changes pending (detect-only, dry run) or
   * resources skipped (a conflict, a policy): the target differs from its revision (commit status:
   * failure, as a target that is not in sync is not ready).
   */
  OUT_OF_SYNC(Severity.WARNING);

  private final Severity severity;

  Event(Severity severity) {
    this.severity = severity;
  }

  /** How much it matters. */
  public Severity severity() {
    return severity;
  }

  /** The name as in configuration and JSON: {@code sync-failed}. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /**
   * The event named {@code text} ({@code sync-failed} or {@code SYNC_FAILED}).
   *
   * @throws IllegalArgumentException naming the text and the choices
   */
  public static Event parse(String text) {
    for (Event e : values()) {
      if (e.wireName().equalsIgnoreCase(text) || e.name().equalsIgnoreCase(text)) {
        return e;
      }
    }
    throw new IllegalArgumentException("unknown event '" + text + "' (one of: "
        + Arrays.stream(values()).map(Event::wireName).collect(Collectors.joining(", ")) + ")");
  }
}
