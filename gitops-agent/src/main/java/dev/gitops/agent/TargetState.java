package dev.gitops.agent;

import dev.gitops.api.Action;
import dev.gitops.api.Cancellation;
import dev.gitops.api.Change;
import dev.gitops.api.Outcome;
import dev.gitops.api.PlanRefusedException;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncListener;
import dev.gitops.api.SyncResult;
import dev.gitops.micrometer.SyncMetrics;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the agent knows of one target: the end of each sync, written to the target's status file,
 * and whether the target is ready (synced successfully at least once) and not stuck (a sync
 * finished recently enough). Times shown or written come from the clock; how long since a sync
 * finished is measured on a monotonic ticker, so that a step of the wall clock (NTP) neither marks
 * a running target stuck nor hides a stuck one.
 *
 * <p>One state is one run of the target (it restarts with a new one). Until a sync of the run ends,
 * {@link #last()} is what the status file recorded before, {@linkplain TargetStatus#carriedOver()
 * carried over}, so that a restart does not hide where the target stood; readiness and stuck
 * detection are of this run alone: a success carried over does not make the target ready, and the
 * time before the run started does not count towards stuck (a restart after a long outage is not
 * stuck at once; one whose first sync hangs is, {@code stuckAfter} after it started).
 */
final class TargetState implements SyncListener {

  private static final Logger LOG = LoggerFactory.getLogger(TargetState.class);

  private final String target;
  private final String provider;
  private final Path stateDir;
  private final Clock clock;
  /** Monotonic nanoseconds ({@link System#nanoTime()}): what stuck detection measures durations with. */
  private final LongSupplier ticker;
  private final Duration stuckAfter;
  /** The ticker when the last sync was recorded, or when this run started before any. */
  private volatile long lastRecordedTick;
  private final Set<ResourceKey> drift = new TreeSet<>();
  /** The status of the last sync of this run, or, before one ends, the one the file recorded (carried over). */
  private volatile TargetStatus last;
  private volatile Instant lastSuccess;
  /**
   * Whether a sync of this run succeeded: not told by comparing {@code lastSuccess} with when this
   * run started, since a success read from the file may have been stamped by a clock that was ahead.
   */
  private volatile boolean succeededSinceStart;
  /** The orphans the last sync found (marked as ours, in no inventory): logged when they change. */
  private volatile Set<ResourceKey> orphans = Set.of();
  /**
   * What the last out-of-sync sync skipped, each key with why ({@link #notApplied}): said at WARN
   * when it changes, at DEBUG while it stays; empty once a sync leaves nothing skipped.
   */
  private List<String> notAppliedSaid = List.of();
  /**
   * Set when the target stops, under this object's monitor like every record: a sync that outlived
   * the stop records nothing.
   */
  private boolean stopped;
  /**
   * Why the agent cancels this target's syncs (it stops the target or itself), or null: a sync
   * that then ends without success was cut short by the agent, and is recorded as cancelled, not
   * failed. Set once, never cleared: a restarted target has a state of its own.
   */
  private volatile String cancelledBecause;
  /**
   * Why this agent no longer holds the target while it still runs ({@link
   * dev.gitops.agent.spi.Placement#lost}), or null: asked when a sync ends without success.
   */
  private volatile Supplier<String> lost = () -> null;
  /** Why the last sync was refused on another owner's store (it never succeeds so), or null. */
  private volatile String refusedStore;

  TargetState(String target, String provider, Path stateDir, Clock clock, LongSupplier ticker, Duration stuckAfter) {
    this.target = target;
    this.provider = provider;
    this.stateDir = stateDir;
    this.clock = clock;
    this.ticker = ticker;
    this.stuckAfter = stuckAfter;
    this.lastRecordedTick = ticker.getAsLong();
    // A restarted agent (or target) shows the status it recorded, marked carried over, until a sync of this run
    // ends; it keeps the last success and the revision for the statuses after it, and for the metrics.
    Optional<TargetStatus> before = Optional.empty();
    try {
      before = TargetStatus.read(stateDir, target);
    } catch (RuntimeException e) {
      // for people only: the target starts without a status, and its next sync writes the file anew
      LOG.warn("target {}: ignoring an unreadable status file, the target starts without a status until its first"
          + " sync ends: {}", target, e.getMessage());
    }
    this.lastSuccess = before.map(TargetStatus::lastSuccess).orElse(null);
    this.last = before.map(TargetStatus::asCarriedOver).orElse(null);
  }

  /** When the last successful sync ended, read from the status file until this run succeeds; null: never. */
  Instant lastSuccess() {
    return lastSuccess;
  }

  /**
   * The status after the last sync of this run; before one ends, the one the status file recorded
   * before the run started, {@linkplain TargetStatus#carriedOver() carried over}; null when there
   * is neither (never synced, or the file is unreadable).
   */
  TargetStatus last() {
    return last;
  }

  @Override
  public synchronized void onEvent(SyncEvent event) {
    if (stopped) {
      return;
    }
    if (event instanceof SyncEvent.SourceRead) {
      drift.clear();
    } else if (event instanceof SyncEvent.DriftDetected d) {
      drift.add(d.key());
    } else if (event instanceof SyncEvent.Finished f) {
      refusedStore = null;
      finished(f.result());
    } else if (event instanceof SyncEvent.Aborted a && !(a.error() instanceof Cancellation.CancelledException)) {
      String result = a.error() instanceof PlanRefusedException ? SyncMetrics.Result.REFUSED.tag()
          : SyncMetrics.Result.ERROR.tag();
      Throwable error = TargetStoreOwnerException.of(target, a.error());  // in the agent's terms
      String message = error.getMessage() == null ? error.getClass().getSimpleName() : error.getMessage();
      refusedStore = error instanceof TargetStoreOwnerException ? message : null;
      record(a.revision(), result, false, message);
    }
  }

  /**
   * The target stopped: a sync that reached no safe point within the grace period and ends later
   * must not write its status over the one a restarted target records, nor bring back the status
   * of a removed one. Under the monitor {@link #onEvent} holds while it records: a record under way
   * finishes first, and none starts after this returns.
   */
  synchronized void stopped() {
    stopped = true;
  }

  /**
   * The agent is about to cancel this target's sync in flight, for {@code reason}: called before
   * it does, so that the sync's end is recorded as {@code cancelled}, here and by the listeners
   * {@link #cancelledAs} wraps.
   */
  void cancelling(String reason) {
    cancelledBecause = reason;
  }

  /**
   * {@code listener}, except that a sync cut off ({@link #cutOff}: the agent cancelled it, or the
   * placement says this agent lost the target) that ends without success, with a failed result or
   * an error, reaches it as what it is, a cancellation: metrics count it {@code cancelled},
   * notifications say nothing of it, as of any cancelled sync.
   */
  SyncListener cancelledAs(SyncListener listener) {
    return event -> {
      if (event instanceof SyncEvent.Finished f && !f.result().isSuccessful()) {
        String why = cutOff();
        listener.onEvent(why == null ? event
            : new SyncEvent.Aborted(f.revision(), new Cancellation.CancelledException(why)));
      } else if (event instanceof SyncEvent.Aborted a && !(a.error() instanceof Cancellation.CancelledException)) {
        String why = cutOff();
        listener.onEvent(why == null ? event : new SyncEvent.Aborted(a.revision(),
            new Cancellation.CancelledException(why)));
      } else {
        listener.onEvent(event);
      }
    };
  }

  /**
   * Why a sync ending now without success was cut off rather than failed: the agent cancels it
   * ({@link #cancelling}), or the placement says this agent no longer holds the target ({@link
   * #lostWhen}: its writes were fenced); null when neither.
   */
  private String cutOff() {
    String why = cancelledBecause;
    return why != null ? why : lost.get();
  }

  /**
   * Asks {@code why} ({@link dev.gitops.agent.spi.Placement#lost}) when a sync ends without success:
   * when it names a reason, the sync is cut off, as by {@link #cancelling}, for the listeners
   * {@link #cancelledAs} wraps.
   */
  void lostWhen(Supplier<String> why) {
    lost = java.util.Objects.requireNonNull(why, "why");
  }

  /** The objects the last sync skipped as orphans: they carry the target's mark but no inventory records them. */
  Set<ResourceKey> orphans() {
    return orphans;
  }

  private void finished(SyncResult r) {
    noteOrphans(r);
    boolean corrected = drift.stream().allMatch(k -> {
      Outcome o = r.outcomes().get(k);
      return o != null && (o.kind() == Outcome.Kind.CREATED || o.kind() == Outcome.Kind.CONFIGURED);
    });
    String error = null;
    if (r.status() == SyncResult.Status.FAILED) {
      List<String> failed = new ArrayList<>();
      r.failures().forEach((k, o) -> failed.add(k + ": " + o.kind() + (o.message().isEmpty() ? "" : " " + o.message())));
      error = failed.size() + " of " + r.outcomes().size() + " changes failed: "
          + String.join("; ", failed.subList(0, Math.min(3, failed.size()))) + (failed.size() > 3 ? "; ..." : "");
    } else if (r.status() == SyncResult.Status.INCOMPLETE) {
      error = "could not observe " + r.plan().unknown() + (r.plan().unobserved().isEmpty() ? ""
          : " and " + r.plan().unobserved().keySet()) + "; held back " + r.plan().heldBack().size() + " deletions";
    }
    SyncMetrics.Result result = SyncMetrics.Result.of(r);
    String cancelled = cancelledBecause;
    if (cancelled != null && !r.isSuccessful()) {
      // the agent cut it short (a stop, a restart): what did not finish is its doing, not a failure
      result = SyncMetrics.Result.CANCELLED;
      error = "cancelled (" + cancelled + ")" + (error == null ? "" : ": " + error.replaceFirst(" failed: ",
          " did not finish: "));
    } else if (result == SyncMetrics.Result.OUT_OF_SYNC) {
      error = notApplied(r);
    } else if (result == SyncMetrics.Result.PLANNED) {
      error = pending(r);
    }
    if (result != SyncMetrics.Result.OUT_OF_SYNC && r.isSuccessful()) {
      notAppliedSaid = List.of();  // in sync: the same skip coming back is news again
    }
    if (result == SyncMetrics.Result.SUCCEEDED || result == SyncMetrics.Result.PLANNED) {
      lastSuccess = clock.instant();
    }
    if (r.isSuccessful()) {
      // Ready also when out of sync: the agent did all it may; what is left is the live system's
      // (another owner's objects), said at WARN when it changes, in the status and by gitops.syncs.
      succeededSinceStart = true;
    }
    record(r.revision(), result.tag(), corrected, error);
  }

  /**
   * A sync that ran without a failure but skipped resources Git declares, naming the first few
   * with why and the way forward: said at WARN when what is skipped (the keys and why) differs from
   * the last sync's, at DEBUG while it stays the same (nothing changes until someone acts, and a
   * WARN per target every interval would bury the news; the status file and {@code gitops.syncs}
   * say it at every sync). Returns what the status records as its error.
   */
  private String notApplied(SyncResult r) {
    List<Change> skipped = SyncMetrics.notApplied(r.plan());
    List<String> all = skipped.stream().map(c -> c.key() + " (" + c.reason() + ")").toList();
    List<String> first = all.subList(0, Math.min(3, all.size()));
    String what = skipped.size() + " resource(s) in Git not applied, every sync skips them: " + String.join("; ", first)
        + (skipped.size() > first.size() ? "; ..." : "");
    String error = what + ". Way forward: " + wayForward(skipped);
    if (all.equals(notAppliedSaid)) {
      LOG.debug("target {} at {}: still out of sync: {}", target, r.revision(), error);
    } else {
      LOG.warn("target {} at {}: out of sync: {}", target, r.revision(), error);
      notAppliedSaid = List.copyOf(all);
    }
    return error;
  }

  /**
   * What a sync that applied nothing on purpose (detect-only) left different from Git, naming the
   * first few changes, or null when the live system matches Git: without it the status of a
   * detect-only target read {@code planned}, no error, whether or not changes were waiting, while
   * its notifications and commit status said it was out of sync.
   */
  private static String pending(SyncResult r) {
    List<String> all = new ArrayList<>();
    r.plan().changes().stream().filter(c -> c.action().mutates())
        .forEach(c -> all.add(c.action().name().toLowerCase(java.util.Locale.ROOT) + " " + c.key()));
    SyncMetrics.notApplied(r.plan()).forEach(c -> all.add("skip " + c.key() + " (" + c.reason() + ")"));
    if (all.isEmpty()) {
      return null;
    }
    List<String> first = all.subList(0, Math.min(3, all.size()));
    return all.size() + " change(s) pending, not applied (detect-only): " + String.join("; ", first)
        + (all.size() > first.size() ? "; ..." : "");
  }

  /** What someone can do about {@code skipped}, by why they were skipped. */
  private String wayForward(List<Change> skipped) {
    SortedSet<String> owners = new TreeSet<>();
    boolean unmarked = false;
    for (Change c : skipped) {
      java.util.regex.Matcher m = OTHER_OWNER.matcher(c.reason());
      if (m.find()) {
        owners.add(m.group(1));
      } else if (c.conflict()) {
        unmarked = true;
      }
    }
    List<String> ways = new ArrayList<>();
    if (!owners.isEmpty()) {
      ways.add("they carry the mark of owner " + String.join(", ", owners) + ": if they are this target's under an"
          + " earlier name or owner (a renamed target, a changed owner:), set 'owner: " + owners.first() + "' on target "
          + target + " (its owner defaults to its name); the agent has no option to take over objects another owner"
          + " marked (policies.adopt takes only unmarked ones), so otherwise delete them from the live system, once"
          + " their owner no longer manages them, and the next sync creates them");
    }
    if (unmarked) {
      ways.add("objects without a mark are taken over with 'policies: {adopt: true}' on target " + target);
    }
    if (ways.isEmpty()) {
      ways.add("'gitops status' and 'gitops diff' of the target say why each is skipped");
    }
    return String.join("; ", ways);
  }

  /** The owner named in the reason the planner gives for skipping an object another owner marked. */
  private static final java.util.regex.Pattern OTHER_OWNER = java.util.regex.Pattern.compile("carries the mark of (.+?) for ");

  /**
   * Orphans carry our mark but are in no inventory (a write that landed after its store write was
   * refused: a fenced member's batch, a crash between the two); the planner skips them, since the
   * agent never deletes what it did not record, so nothing clears them and every sync counts them as
   * SKIPPED. Said at WARN, naming them, whenever the set changes, so that someone can look.
   */
  private void noteOrphans(SyncResult r) {
    SortedSet<ResourceKey> now = new TreeSet<>();
    r.plan().changes(Action.SKIP).stream().filter(c -> c.has(Change.Flag.ORPHAN)).forEach(c -> now.add(c.key()));
    if (now.equals(orphans)) {
      return;
    }
    if (!now.isEmpty()) {
      List<String> names = now.stream().limit(20).map(ResourceKey::toString).toList();
      LOG.warn("target {} at {}: {} object(s) carry its owner's mark but are in no inventory, so no sync changes or"
          + " deletes them (they are skipped as orphans); delete them by hand if Git does not have them: {}{}", target,
          r.revision(), now.size(), String.join(", ", names), now.size() > names.size() ? ", ..." : "");
    } else {
      LOG.info("target {} at {}: no orphans any more", target, r.revision());
    }
    orphans = Collections.unmodifiableSortedSet(now);
  }

  private void record(String revision, String result, boolean corrected, String error) {
    List<String> keys = drift.stream().map(ResourceKey::toString).toList();
    // a sync that ended before reading the source (it is unreachable) keeps the revision last recorded
    String known = last != null ? last.revision() : "";  // the carried-over one's before this run's first
    TargetStatus s = new TargetStatus(target, provider, revision.isEmpty() ? known : revision,
        result, clock.instant(), lastSuccess, keys, !keys.isEmpty() && corrected, error);
    drift.clear();
    try {
      s.write(stateDir);
    } catch (IOException e) {
      // The status file is for people; the sync's own record is in the store, already written.
      LOG.warn("target {}: cannot write its status file under {}: {}", target, stateDir, e.toString());
    }
    lastRecordedTick = ticker.getAsLong();
    last = s;  // published after the file, so whoever sees it in memory reads the same on disk
  }

  /**
   * Why this target is not ready, or empty: stuck (no sync of this run finished for {@code
   * stuckAfter}, counted from when the run started until one does), refused on another owner's
   * store, or without a successful sync in this run (with the last sync's error when one of this
   * run ended in error; a status carried over from before the run counts for neither).
   */
  Optional<String> notReady() {
    TargetStatus s = last;
    Duration since = Duration.ofNanos(ticker.getAsLong() - lastRecordedTick);
    if (since.compareTo(stuckAfter) > 0) {
      return Optional.of("target " + target + " is stuck: no sync finished for "
          + since.toSeconds() + " s (stuck after " + stuckAfter.toSeconds() + " s)");
    }
    String refused = refusedStore;
    if (refused != null) {
      // no sync succeeds until the configuration changes: readiness says why and the way out
      return Optional.of(refused);
    }
    if (s == null || !succeededSinceStart) {
      // what its syncs ran into so far, so that /readyz says why (one line: it gives one reason a line)
      String last = s == null || s.carriedOver() || s.lastError() == null ? ""
          : "; its last sync: " + s.result() + ": " + s.lastError().replaceAll("\\s*\\R\\s*", " ");
      return Optional.of("target " + target + " has not finished a successful sync yet" + last);
    }
    return Optional.empty();
  }
}
