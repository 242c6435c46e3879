package dev.gitops.notify;

import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One thing worth telling people about a target's syncs. Carries keys, counts and messages, never
 * a document's values (events reach listeners redacted).
 *
 * <pre>{@code
 * Notification n = Notification.of(Event.SYNC_FAILED, "web", "files", "main@sha1:3f2a...", "1 of 4 changes failed");
 * n.severity();   // ERROR
 * n.commit();     // Optional[3f2a...]
 * }</pre>
 *
 * @param event what happened
 * @param target the target's name
 * @param provider the target's provider id
 * @param revision the revision synced ({@code main@sha1:<hex>}), or "" when the sync ended before reading it
 * @param message one line for people
 * @param resources the keys concerned (failed, drifted, unobservable), with a reason where there is one
 * @param counts outcomes by kind ({@code CREATED}, {@code FAILED}...) for a finished sync
 * @param time when it happened
 */
public record Notification(Event event, String target, String provider, String revision, String message,
    List<String> resources, SortedMap<String, Integer> counts, Instant time) {

  private static final Pattern COMMIT = Pattern.compile("@sha1:([0-9a-f]{40})$");

  /** Copies and checks. */
  public Notification {
    Objects.requireNonNull(event, "event");
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(provider, "provider");
    Objects.requireNonNull(revision, "revision");
    Objects.requireNonNull(message, "message");
    resources = List.copyOf(resources);
    counts = Collections.unmodifiableSortedMap(new TreeMap<>(counts));
    Objects.requireNonNull(time, "time");
  }

  /** A notification without resources or counts, at the current time. */
  public static Notification of(Event event, String target, String provider, String revision, String message) {
    return new Notification(event, target, provider, revision, message, List.of(), new TreeMap<>(), Instant.now());
  }

  /** The event's severity. */
  public Severity severity() {
    return event.severity();
  }

  /** The commit id when the revision names one ({@code main@sha1:<40 hex>}); commit statuses need it. */
  public Optional<String> commit() {
    Matcher m = COMMIT.matcher(revision);
    return m.find() ? Optional.of(m.group(1)) : Optional.empty();
  }
}
