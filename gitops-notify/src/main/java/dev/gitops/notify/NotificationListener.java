package dev.gitops.notify;

import dev.gitops.api.Action;
import dev.gitops.api.Cancellation;
import dev.gitops.api.Change;
import dev.gitops.api.FieldPath;
import dev.gitops.api.Outcome;
import dev.gitops.api.PlanRefusedException;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncListener;
import dev.gitops.api.SyncResult;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Turns one target's sync events into {@link Notification}s: sync started (a new revision),
 * succeeded, failed, drift detected, guard refused, incomplete plan. It keeps people's inboxes
 * quiet: a sync that changed nothing and ended as the one before it did (a success at the same
 * revision; the same failure, refusal or incomplete plan with the same message) is not announced
 * again, nor is the same drift at the same revision, and "started" is said once per revision.
 *
 * <pre>{@code
 * Notifier hook = WebhookNotifier.builder(URI.create("https://hooks.example.com/gitops")).build();
 * Reconciler reconciler = Reconciler.builder().source(gitSource).provider(filesProvider).store(store)
 *     .listener(new NotificationListener("web", "files", hook::send))
 *     .build();
 * }</pre>
 */
public final class NotificationListener implements SyncListener {

  private final String target;
  private final String provider;
  private final Consumer<Notification> sink;
  /** Drift found by the sync in progress: key and paths, in the order found. */
  private final Map<ResourceKey, List<FieldPath>> drift = new TreeMap<>();
  private String lastStarted = "";
  private String lastOutcome = "";
  /** The drift last announced (revision, message and drifted keys and paths); "" after a sync without drift. */
  private String lastDrift = "";

  /** A listener for {@code target} (whose provider is {@code provider}) handing notifications to {@code sink}. */
  public NotificationListener(String target, String provider, Consumer<Notification> sink) {
    this.target = Objects.requireNonNull(target, "target");
    this.provider = Objects.requireNonNull(provider, "provider");
    this.sink = Objects.requireNonNull(sink, "sink");
  }

  @Override
  public synchronized void onEvent(SyncEvent event) {
    if (event instanceof SyncEvent.SourceRead r) {
      drift.clear();
      if (!r.skipped() && !r.revision().equals(lastStarted)) {
        lastStarted = r.revision();
        sink.accept(notification(Event.SYNC_STARTED, r.revision(), "syncing " + shortRevision(r.revision()),
            List.of(), Map.of()));
      }
    } else if (event instanceof SyncEvent.DriftDetected d) {
      drift.put(d.key(), d.paths());
    } else if (event instanceof SyncEvent.Finished f) {
      announceDrift(f.revision(), f.result());
      finished(f.result());
    } else if (event instanceof SyncEvent.Aborted a) {
      announceDrift(a.revision(), null);
      aborted(a);
    }
  }

  private void announceDrift(String revision, SyncResult result) {
    if (drift.isEmpty()) {
      if (result != null) {
        lastDrift = "";  // a sync found none: drift found later is news again
      }
      return;
    }
    int corrected = 0;
    List<String> resources = new ArrayList<>();
    for (Map.Entry<ResourceKey, List<FieldPath>> e : drift.entrySet()) {
      Outcome o = result == null ? null : result.outcomes().get(e.getKey());
      if (o != null && (o.kind() == Outcome.Kind.CREATED || o.kind() == Outcome.Kind.CONFIGURED)) {
        corrected++;
      }
      resources.add(e.getKey() + (e.getValue().isEmpty() ? "" : ": "
          + e.getValue().stream().map(FieldPath::toString).collect(Collectors.joining(", "))));
    }
    int n = drift.size();
    String message = n + " resource" + (n == 1 ? "" : "s") + " changed outside gitops at " + shortRevision(revision)
        + (corrected == n ? ", corrected" : corrected == 0 ? ", not corrected" : ", " + corrected + " corrected");
    drift.clear();
    // Lasting drift (a detect-only target, a policy that forbids the update) is found by every sync:
    // said once, and again when the drifted set, whether it was corrected, or the revision changes.
    String announced = revision + "\n" + message + "\n" + String.join("\n", resources);
    if (announced.equals(lastDrift)) {
      return;
    }
    lastDrift = announced;
    sink.accept(notification(Event.DRIFT_DETECTED, revision, message, resources, Map.of()));
  }

  private void finished(SyncResult r) {
    SortedMap<String, Integer> counts = new TreeMap<>();
    r.outcomes().values().forEach(o -> counts.merge(o.kind().name(), 1, Integer::sum));
    String rev = shortRevision(r.revision());
    switch (r.status()) {
      case PLANNED -> {
        long pending = pending(r);
        List<String> skipped = skipped(r);
        if (pending == 0 && skipped.isEmpty()) {
          announce(Event.SYNC_SUCCEEDED, r.revision(), "in sync with " + rev, List.of(), counts, false);
        } else {
          List<String> keys = new ArrayList<>();
          r.plan().changes().stream().filter(c -> c.action().mutates()).forEach(c -> keys.add(c.action() + " " + c.key()));
          keys.addAll(skipped);
          String message = "out of sync with " + rev + ": " + (pending == 0 ? ""
              : pending + " change" + (pending == 1 ? "" : "s") + " pending (not applied: detect-only or dry run)")
              + (pending == 0 || skipped.isEmpty() ? "" : ", ") + skippedPhrase(skipped.size());
          announce(Event.OUT_OF_SYNC, r.revision(), message, keys, withSkipped(counts, skipped.size()), false);
        }
      }
      case SUCCEEDED -> {
        String changed = changes(r);
        List<String> skipped = skipped(r);
        if (skipped.isEmpty()) {
          announce(Event.SYNC_SUCCEEDED, r.revision(), changed.isEmpty() ? "in sync with " + rev
              : "synced " + rev + ": " + changed, List.of(), counts, r.changedAnything());
        } else {
          // Something Git declares is not live as declared: never a success, whatever else was applied.
          announce(Event.OUT_OF_SYNC, r.revision(), "out of sync with " + rev + ": " + skippedPhrase(skipped.size())
              + (changed.isEmpty() ? "" : "; " + changed), skipped, withSkipped(counts, skipped.size()),
              r.changedAnything());
        }
      }
      case FAILED -> {
        List<String> failed = new ArrayList<>();
        r.failures().forEach((k, o) -> failed.add(k + ": " + o.kind() + (o.message().isEmpty() ? "" : " " + o.message())));
        announce(Event.SYNC_FAILED, r.revision(), "sync of " + rev + " failed: " + failed.size() + " of "
            + r.outcomes().size() + " changes failed", failed, counts, r.changedAnything());
      }
      case INCOMPLETE -> {
        List<String> unknown = new ArrayList<>();
        r.plan().unknown().forEach(k -> unknown.add(k.toString()));
        r.plan().unobserved().forEach((what, why) -> unknown.add(what + ": " + why));
        int held = r.plan().heldBack().size();
        announce(Event.INCOMPLETE_PLAN, r.revision(), "sync of " + rev + " is incomplete: could not observe "
            + unknown.size() + (unknown.size() == 1 ? " thing" : " things") + "; " + held + " deletion"
            + (held == 1 ? "" : "s") + " held back", unknown, counts, r.changedAnything());
      }
      default -> throw new IllegalStateException("unknown sync status " + r.status());
    }
  }

  private void aborted(SyncEvent.Aborted a) {
    RuntimeException e = a.error();
    if (e instanceof Cancellation.CancelledException) {
      return;  // a new revision or a shutdown: not news
    }
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    if (e instanceof PlanRefusedException) {
      announce(Event.GUARD_REFUSED, a.revision(), message, List.of(), Map.of(), false);
    } else {
      announce(Event.SYNC_FAILED, a.revision(), "sync failed: " + message, List.of(), Map.of(), false);
    }
  }

  private void announce(Event event, String revision, String message, List<String> resources,
      Map<String, Integer> counts, boolean changedAnything) {
    // A success is the same news at the same revision whatever it says; a failure is new when it says something new.
    String outcome = event + "\n" + revision + (event == Event.SYNC_SUCCEEDED ? "" : "\n" + message);
    if (!changedAnything && outcome.equals(lastOutcome)) {
      return;
    }
    lastOutcome = outcome;
    sink.accept(notification(event, revision, message, resources, counts));
  }

  private Notification notification(Event event, String revision, String message, List<String> resources,
      Map<String, Integer> counts) {
    return new Notification(event, target, provider, revision, message, resources, new TreeMap<>(counts),
        Instant.now());
  }

  /** "2 created, 1 updated, 1 deleted", or "" when nothing changed. */
  private static String changes(SyncResult r) {
    List<String> parts = new ArrayList<>();
    int created = r.count(Outcome.Kind.CREATED);
    int updated = r.count(Outcome.Kind.CONFIGURED);
    int deleted = r.count(Outcome.Kind.DELETED);
    if (created > 0) {
      parts.add(created + " created");
    }
    if (updated > 0) {
      parts.add(updated + " updated");
    }
    if (deleted > 0) {
      parts.add(deleted + " deleted");
    }
    return String.join(", ", parts);
  }

  /**
   * The resources Git declares that the plan skipped (a conflict: an object that exists but is not
   * ours with adoption off, another owner's mark; a policy that forbids the change; a replace held
   * back), as {@code SKIP <key>: <reason>}. Skips of what Git no longer declares (a delete with
   * prune off, an orphan) leave nothing Git declares unapplied and are not counted.
   */
  private static List<String> skipped(SyncResult r) {
    List<String> out = new ArrayList<>();
    for (Change c : r.plan().changes()) {
      if (c.action() == Action.SKIP && c.desired() != null) {
        out.add(c.action() + " " + c.key() + (c.reason().isEmpty() ? "" : ": " + c.reason()));
      }
    }
    return out;
  }

  private static String skippedPhrase(int skipped) {
    return skipped == 0 ? "" : skipped + " resource" + (skipped == 1 ? "" : "s") + " skipped (not applied: see resources)";
  }

  /** {@code counts} with the skipped resources counted as SKIPPED (a plan-only sync has no outcomes for them). */
  private static SortedMap<String, Integer> withSkipped(SortedMap<String, Integer> counts, int skipped) {
    SortedMap<String, Integer> out = new TreeMap<>(counts);
    out.merge(Outcome.Kind.SKIPPED.name(), skipped, Math::max);
    return out;
  }

  /** How many changes of a sync that applied nothing would have changed the target. */
  private static long pending(SyncResult r) {
    return r.plan().changes().stream().map(Change::action).filter(Action::mutates).count();
  }

  /** {@code main@3f2a1b0} for {@code main@sha1:3f2a1b0...}; anything else as it is. */
  static String shortRevision(String revision) {
    int at = revision.indexOf("@sha1:");
    if (at < 0 || revision.length() < at + 6 + 7) {
      return revision.isEmpty() ? "(no revision)" : revision;
    }
    return revision.substring(0, at + 1) + revision.substring(at + 6, at + 13);
  }
}
