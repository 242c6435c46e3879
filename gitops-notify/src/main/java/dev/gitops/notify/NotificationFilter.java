package dev.gitops.notify;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which notifications a notifier sends: some events (empty: all), some targets (empty: all), and a
 * minimum severity.
 *
 * <pre>{@code
 * NotificationFilter f = NotificationFilter.all()
 *     .withEvents(Set.of(Event.SYNC_FAILED, Event.GUARD_REFUSED))
 *     .withTargets(Set.of("web"))
 *     .withMinimum(Severity.WARNING);
 * }</pre>
 *
 * @param events the events sent; empty sends every event
 * @param targets the target names sent; empty sends every target
 * @param minimum the lowest severity sent
 */
public record NotificationFilter(Set<Event> events, Set<String> targets, Severity minimum) {

  /** Copies. */
  public NotificationFilter {
    events = events.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(events));
    targets = Set.copyOf(new TreeSet<>(targets));
    Objects.requireNonNull(minimum, "minimum");
  }

  /** Every event of every target. */
  public static NotificationFilter all() {
    return new NotificationFilter(Set.of(), Set.of(), Severity.INFO);
  }

  /** Only these events (empty: all). */
  public NotificationFilter withEvents(Set<Event> only) {
    return new NotificationFilter(only, targets, minimum);
  }

  /** Only these targets (empty: all). */
  public NotificationFilter withTargets(Set<String> only) {
    return new NotificationFilter(events, only, minimum);
  }

  /** Only this severity and above. */
  public NotificationFilter withMinimum(Severity lowest) {
    return new NotificationFilter(events, targets, lowest);
  }

  /** Whether {@code n} passes. */
  public boolean accepts(Notification n) {
    return (events.isEmpty() || events.contains(n.event()))
        && (targets.isEmpty() || targets.contains(n.target()))
        && n.severity().compareTo(minimum) >= 0;
  }
}
