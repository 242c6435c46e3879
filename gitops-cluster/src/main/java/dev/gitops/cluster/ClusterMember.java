package dev.gitops.cluster;

import dev.gitops.core.internal.Durations;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One member of a cluster: decides, round after round, which of the configured targets this
 * member should reconcile, and hands them over safely. The assignee of a target is the {@link
 * Rendezvous} winner among the live members. After a member joins, nothing moves until the
 * membership has stayed the same for the settle delay (a rolling restart does not shuffle every
 * target twice), or for at most five settle delays while members keep joining and leaving (warned
 * of once: a crash-looping member must not keep the others from moving anything); a member that leaves frees only its own targets, and they move at once. A member that is no longer a target's assignee stops it first and then releases its
 * ownership; the new assignee takes the ownership only once it is free, so a target never has two
 * owners. A member that loses its lease stops every target at once. A member that cannot start a
 * target it took releases it at once (it keeps no ownership it cannot run), says so in {@link
 * #notReady()}, and tries again later, sooner after {@link #targets} (a reload). A member whose
 * stop of a target fails keeps the target's ownership (a release would let another member start
 * it beside the one still running here) and tries the stop again, backing off, until it stops;
 * {@link #notReady()} names it meanwhile. A target whose ownership the engine records as another
 * grant of this member's ({@link Ownership#sameGrant}: the same token, granted at another time, as
 * when a target Lease is made anew or restored by hand) is stopped, as what it writes under the
 * old grant is refused, and started again under the new one once it has stopped. A configured
 * target that another member should own and nobody does for a while (that member's configuration
 * may not have it) is said to run nowhere, once in the log and in {@link #notReady()}.
 *
 * <pre>{@code
 * ClusterMember member = ClusterMember.builder(coordinator, new ClusterMember.Targets() {
 *       public boolean start(Ownership o) { log.info("reconciling {} as {}", o.target(), o.token()); return true; }
 *       public void stop(String target, String why) { log.info("stopped {}: {}", target, why); }
 *     })
 *     .settleDelay(Duration.ofSeconds(2))
 *     .build();
 * member.targets(Set.of("payments", "search"));
 * member.start();
 * // ... until shutdown
 * member.close();   // stops its targets, releases them and leaves
 * }</pre>
 */
public final class ClusterMember implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterMember.class);

  /** What a member runs: the agent's targets, started and stopped as ownership comes and goes. */
  public interface Targets {
    /**
     * Starts reconciling {@code ownership.target()}; its side effects carry {@code ownership}'s
     * token. Whether it runs now: false (or an exception) makes the member release the ownership
     * and try again later.
     */
    boolean start(Ownership ownership);

    /**
     * Stops reconciling {@code target}; returns once no sync of it runs any more. Throws when it
     * could not stop it (it may still run): the member then keeps the target's ownership, so that
     * no other member starts it, and calls this again, backing off, until it returns.
     */
    void stop(String target, String reason);
  }

  private final Coordinator coordinator;
  private final Targets runner;
  private final Duration settleDelay;
  private final Duration pollInterval;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final Map<String, Ownership> owned = new ConcurrentHashMap<>();
  /**
   * Ownerships this member stopped and has to release, by target: one whose release failed (the
   * engine did not answer) stays here and is released at the next round, since until then its key
   * keeps the target from its new assignee.
   */
  private final Map<String, Ownership> releasing = new ConcurrentHashMap<>();
  private volatile Set<String> configured = Set.of();
  private SortedSet<String> lastMembers;
  /** The last round's assignment of the configured targets; recomputed when the members or the targets change. */
  private Assignment assignment;
  /** How many times the assignment was computed (for tests: once per change of members or targets). */
  private int assignmentsComputed;
  private Instant changedAt;
  /**
   * When the members last began to change after having stayed the same for a settle delay (null
   * while settled): the settle delay waits for the members to stay the same, but no longer than
   * {@link #SETTLE_LIMIT} settle delays from here, or a member that joins and leaves again and
   * again (crash-looping) would keep every member from moving anything, a dead member's targets
   * included, for as long as it does.
   */
  private Instant unsettledSince;
  /** Whether this unsettled spell was said to go on past its limit. */
  private boolean unsettledWarned;
  /** How many settle delays the members may keep changing before targets move anyway. */
  static final int SETTLE_LIMIT = 5;
  private volatile boolean closed;
  /** When the first of the failed rounds in a row began (null while rounds succeed), and the last failure. */
  private volatile Instant unreachableSince;
  private volatile String lastFailure = "";
  /** The targets this member took but could not start, by name: released, and retried when due. */
  private final Map<String, StartFailure> cannotStart = new ConcurrentHashMap<>();

  /**
   * Targets whose stop failed, by name: their ownership is kept and the stop tried again when due;
   * released once it stops.
   */
  private final Map<String, StopFailure> cannotStop = new ConcurrentHashMap<>();

  /**
   * A target whose stop failed: its ownership (and whether this member still holds it, to release
   * once stopped), why it stops, since when, how many attempts, when the next, the last error.
   */
  private record StopFailure(Ownership ownership, boolean held, String reason, Instant since, int attempts,
      Instant retryAt, String error) {
    StopFailure withoutOwnership() {
      return new StopFailure(ownership, false, reason, since, attempts, retryAt, error);
    }
  }

  /** A target that failed to start: since when, how many attempts, when the next one is due. */
  private record StartFailure(Instant since, int attempts, Instant retryAt) {}

  /**
   * A configured target that runs nowhere: assigned to another member that has not taken it, or
   * held by {@code holder}, which is not a live member (null when nobody holds it); since when,
   * and whether that was said.
   */
  private record Unowned(String assignee, String holder, Instant since, boolean warned) {}

  /** The configured targets that run nowhere (see {@link Unowned}), by name. */
  private final Map<String, Unowned> unowned = new ConcurrentHashMap<>();

  /** The first retry of a target that could not start comes after this, doubling up to {@link #MAX_RETRY}. */
  static final Duration FIRST_RETRY = Duration.ofSeconds(2);
  static final Duration MAX_RETRY = Duration.ofMinutes(1);

  private ClusterMember(Builder b) {
    this.coordinator = b.coordinator;
    this.runner = b.runner;
    this.settleDelay = b.settleDelay;
    this.pollInterval = b.pollInterval;
    this.clock = b.clock;
    this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "gitops-cluster-" + coordinator.memberId());
      t.setDaemon(true);
      return t;
    });
  }

  /** A builder of a member that coordinates through {@code coordinator} and runs targets with {@code targets}. */
  public static Builder builder(Coordinator coordinator, Targets targets) {
    return new Builder(coordinator, targets);
  }

  /**
   * The configured targets (all members run the same configuration); the next round acts on them.
   * Targets that could not start are tried again at that round (a reload may have fixed them).
   */
  public void targets(Set<String> names) {
    configured = Set.copyOf(names);
    Instant now = clock.instant();
    cannotStart.replaceAll((t, f) -> new StartFailure(f.since(), f.attempts(), now));
  }

  /** Joins (retried at every round while it fails) and starts the rounds. */
  public void start() {
    try {
      coordinator.join();
    } catch (RuntimeException e) {
      // a previous incarnation's lease may still be live (a restart within the TTL): rounds retry
      LOG.warn("member {} cannot join yet: {}", coordinator.memberId(), e.getMessage());
    }
    scheduler.scheduleWithFixedDelay(this::safeRound, 0, pollInterval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The targets this member owns now, by name. */
  public Map<String, Ownership> owned() {
    return Map.copyOf(owned);
  }

  /** This member's ownership of {@code target}, if it holds it. */
  public Optional<Ownership> ownership(String target) {
    return Optional.ofNullable(owned.get(target));
  }

  /** The clock of the settle delay and the retries (for tests). */
  Clock clock() {
    return clock;
  }

  /** The coordinator this member uses. */
  public Coordinator coordinator() {
    return coordinator;
  }

  /** One round; a failure is logged once per outage (at WARN) and kept for {@link #notReady}. */
  void safeRound() {
    if (closed) {
      return;
    }
    try {
      round();
      if (!coordinator.isMember()) {
        // a join that returned without a live lease (a coordinator that keeps a stale one) is no success
        throw new IllegalStateException("member " + coordinator.memberId() + " holds no live lease");
      }
      Instant since = unreachableSince;
      if (since != null) {
        unreachableSince = null;
        LOG.warn("member {}: the cluster's coordinator answers again (it did not since {})", coordinator.memberId(),
            since);
      }
    } catch (Error e) {
      // Thrown out of a scheduled round, it would end the rounds for good while the lease is still renewed: the
      // member's targets would stay with it, run or not. Said with its stack, and the next round runs as usual.
      lastFailure = e.toString();
      if (unreachableSince == null) {
        unreachableSince = clock.instant();
      }
      LOG.error("member {}: a coordination round failed with {}; the next round runs in {}", coordinator.memberId(),
          e.toString(), pollInterval, e);
    } catch (RuntimeException e) {
      // The engine may be unreachable for a while: nothing is started or released this round, and
      // a lease that cannot be renewed ends membership (isMember), which stops every target.
      lastFailure = e.toString();
      if (unreachableSince == null) {
        unreachableSince = clock.instant();
        LOG.warn("member {}: a coordination round failed ({}); it runs only what it holds until its lease"
            + " ends, and retries every {}", coordinator.memberId(), e.toString(), Durations.human(pollInterval));
      } else {
        LOG.debug("member {}: coordination round failed again: {}", coordinator.memberId(), e.toString());
      }
    }
  }

  /**
   * The targets whose stop failed on this member and is tried again ({@link #notReady()} names
   * each); empty when every stop succeeded.
   *
   * <pre>{@code
   * if (!member.failedStops().isEmpty()) {
   *   log.warn("still stopping: {}", member.failedStops());
   * }
   * }</pre>
   */
  public Set<String> failedStops() {
    return Set.copyOf(cannotStop.keySet());
  }

  /**
   * Why this member is not ready: it holds no live lease ({@link Coordinator#isMember()}); its last coordination round failed (the coordinator cannot be
   * reached, or refused it, or it holds no live lease), so it takes no target and keeps what it
   * holds only while its lease lasts; or a target assigned to it cannot start here; or a target
   * it configures runs nowhere, assigned to a member that has not taken it for {@link
   * #unownedGrace()} (each target is named). Empty while rounds succeed and none of that holds.
   */
  public Optional<String> notReady() {
    List<String> reasons = new ArrayList<>();
    String lease = leaseProblem();
    if (lease != null) {
      reasons.add(lease);
    }
    Instant since = unreachableSince;
    if (since != null) {
      reasons.add("member " + coordinator.memberId() + " cannot coordinate with the cluster since " + since + ": "
          + lastFailure);
    }
    new TreeMap<>(unowned).forEach((t, u) -> {
      if (u.warned() && u.holder() != null) {
        reasons.add("target " + t + " runs nowhere: it is held by " + u.holder() + ", which is not a live member of the"
            + " cluster, since " + u.since() + ", so its assignee " + u.assignee() + " cannot take it (an ownership"
            + " written by hand? delete it)");
      } else if (u.warned()) {
        reasons.add("target " + t + " runs nowhere: it is assigned to member " + u.assignee() + ", which has not taken"
            + " it since " + u.since() + " (its configuration may not have it, or it cannot start it there)");
      }
    });
    new TreeMap<>(cannotStop).forEach((t, f) -> reasons.add("target " + t + " could not be stopped on member "
        + coordinator.memberId() + " (" + f.reason() + "; since " + f.since() + ", " + f.attempts() + " attempt(s), last: "
        + f.error() + "); " + (f.held() ? "it keeps the target's ownership so that no other member starts it"
        : "its ownership is gone, so what it still attempts is refused as fenced") + "; the stop is tried again at "
        + f.retryAt()));
    new TreeMap<>(cannotStart).forEach((t, f) -> reasons.add("target " + t + " cannot start on member "
        + coordinator.memberId() + " (since " + f.since() + ", " + f.attempts() + " attempt(s); the log says why);"
        + " it is released and tried again at " + f.retryAt() + " or at the next reload"));
    return reasons.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", reasons));
  }

  /**
   * Why this member holds no live lease now (it never joined, lost its lease, or its lease ran past
   * its TTL by its own clock while the engine did not answer), or null while it holds one: between
   * rounds, and before the first, readiness must not say ready for a member that is not one.
   */
  private String leaseProblem() {
    String me = coordinator.memberId();
    try {
      if (coordinator.isMember()) {
        return null;
      }
      return "member " + me + " holds no live lease (not joined yet, or its lease was lost or not renewed within its"
          + " TTL by its own clock): it runs nothing until it joins again";
    } catch (RuntimeException e) {
      return "member " + me + " cannot tell whether it holds a live lease: " + e;
    }
  }

  /** One round: check membership and ownership, then stop, release and acquire what moved. */
  void round() {
    String me = coordinator.memberId();
    if (!coordinator.isMember()) {
      if (!owned.isEmpty() || lastMembers != null) {
        LOG.warn("member {} lost its lease: it stops its {} target(s) and joins again", me, owned.size());
      }
      stopAll("member " + me + " lost its lease");
      releasing.clear();  // they went with the lease
      cannotStop.replaceAll((t, f) -> f.withoutOwnership());
      // before joining: a join that keeps failing (another process uses the id) is logged once, by safeRound
      lastMembers = null;
      unsettledSince = null;  // a member that joins again settles anew
      coordinator.join();
      return;
    }
    SortedSet<String> members = coordinator.members();
    if (!members.contains(me)) {
      // Its lease is live but the others do not see it (its key was deleted behind its back): they assign its
      // targets elsewhere, and so would this round. It registers again before assigning anything.
      LOG.warn("member {} is not among the cluster's members {} although its lease is live (was its key deleted?);"
          + " it registers again", me, members);
      coordinator.join();
      members = coordinator.members();
      if (!members.contains(me)) {
        throw new IllegalStateException("member " + me + " is not among the cluster's members " + members
            + " even after registering again");
      }
    }
    Instant now = clock.instant();
    if (!members.equals(lastMembers)) {
      // Only a join settles: a leave changes the assignee of the leaver's targets alone (rendezvous), which
      // nobody runs any more, so waiting would only keep them down; a join takes targets from running members.
      boolean joined = lastMembers == null || !lastMembers.containsAll(members);
      LOG.info("member {}: members now {}{}", me, members, joined ? "; settling for " + Durations.human(settleDelay) : "");
      lastMembers = new TreeSet<>(members);
      if (joined) {
        changedAt = now;
        if (unsettledSince == null) {
          unsettledSince = now;
          unsettledWarned = false;
        }
      }
    }
    Map<String, Ownership> current = coordinator.owners();
    // what the engine says this member holds and nothing here runs, stops or releases (taken before this round acts)
    List<Ownership> unrun = current.values().stream().filter(o -> o.member().equals(me)
        && !owned.containsKey(o.target()) && !cannotStop.containsKey(o.target()) && !releasing.containsKey(o.target()))
        .toList();
    for (Ownership o : owned.values()) {
      // the whole grant (Ownership#sameGrant), not the token and the member alone: a target Lease made anew, or
      // restored, at the same count for this member is another grant, under which this run's writes are refused
      Ownership now0 = current.get(o.target());
      if (!o.sameGrant(now0)) {
        owned.remove(o.target());
        stopThenRelease(o, false, noLongerHeld(o, now0), null, now);
      }
    }
    for (StopFailure f : cannotStop.values()) {
      if (!now.isBefore(f.retryAt())) {
        stopThenRelease(f.ownership(), f.held(), f.reason(), f, now);
      }
    }
    for (Ownership o : releasing.values()) {
      if (o.sameGrant(current.get(o.target()))) {
        coordinator.release(o);  // a release that failed in an earlier round
      }
      // else gone, or another grant (of this member too: made anew behind its back), which is not this release's to
      // give up: one of this member's that it does not run is released by releaseUnrun, or taken back by the acquire
      releasing.remove(o.target(), o);
    }
    if (now.isBefore(changedAt.plus(settleDelay))) {
      if (now.isBefore(unsettledSince.plus(settleDelay.multipliedBy(SETTLE_LIMIT)))) {
        return;
      }
      if (!unsettledWarned) {
        unsettledWarned = true;
        LOG.warn("member {}: the members kept changing for {} (since {}; now {}), never the same for the settle"
            + " delay of {}; it assigns the targets over the members as they are at each round until they settle (is a"
            + " member joining and leaving again and again?)", me, Durations.human(Duration.between(unsettledSince, now)),
            unsettledSince, members, Durations.human(settleDelay));
      }
    } else if (unsettledSince != null) {
      if (unsettledWarned) {
        LOG.info("member {}: the members {} have settled", me, members);
      }
      unsettledSince = null;
    }
    Set<String> targets = configured;
    Assignment assigned = assignment(members, targets);
    cannotStart.keySet().removeIf(t -> !targets.contains(t) || !me.equals(assigned.ownerOf().get(t)));
    for (Ownership o : owned.values()) {
      Optional<String> assignee = Optional.ofNullable(assigned.ownerOf().get(o.target()));
      if (!targets.contains(o.target()) || !assignee.equals(Optional.of(me))) {
        owned.remove(o.target());
        stopThenRelease(o, true, targets.contains(o.target()) ? "it moves to member " + assignee.orElse("?")
            : "it left the configuration", null, now);
      }
    }
    releaseUnrun(unrun, targets, assigned);
    for (String t : assigned.mine()) {
      if (owned.containsKey(t) || cannotStop.containsKey(t)) {
        continue;  // running, or not stopped yet: it starts again only once its stop succeeded
      }
      StartFailure failed = cannotStart.get(t);
      if (failed != null && now.isBefore(failed.retryAt())) {
        continue;
      }
      Ownership mine = current.get(t);
      if (mine != null && !mine.member().equals(me)) {
        continue;  // the previous owner has not released it yet: ask again next round
      }
      Optional<Ownership> got = coordinator.tryAcquire(t);
      if (got.isPresent()) {
        releasing.remove(t);
        owned.put(t, got.get());
        LOG.info("member {} took {}", me, got.get());
        startTaken(got.get(), failed, now);
      }
    }
    noteUnowned(targets, members, assigned, current, now);
  }

  /**
   * Why a round stops {@code o}'s target: the engine's record of it, {@code now}, is not {@code o}'s
   * grant (null: nobody holds it). Another grant of this member's (its target Lease made anew, or
   * restored, at the same count: the same member and token, another grant time) is said at WARN:
   * the run under {@code o} stops, as its writes are refused as stale, and the target starts again
   * under the new grant once it has stopped.
   */
  private String noLongerHeld(Ownership o, Ownership now) {
    String me = coordinator.memberId();
    if (now == null || !now.member().equals(me)) {
      return "member " + me + " no longer holds it (token " + o.token() + ")";
    }
    LOG.warn("member {} holds target {} under another grant now (token {}, since {}) than the one it runs it under"
        + " (token {}, since {}): was its ownership made anew or restored behind its back? What it writes under the"
        + " old grant is refused as stale, so it stops the target and starts it again under the new one", me,
        o.target(), now.token(), now.since(), o.token(), o.since());
    return "member " + me + " holds it under another grant now (token " + now.token() + ", since " + now.since()
        + "; it ran under token " + o.token() + ", since " + o.since() + ")";
  }

  /**
   * Releases {@code unrun}, the ownerships the engine says this member holds but that it does not
   * run, stop or release, when they are not its own to run (assigned to another member, or out of
   * the configuration): an acquire that the engine made but whose answer never came back (a
   * timeout, a dropped connection) leaves such a key on this member's lease, which lives on, and
   * the target's assignee would wait for it for as long as this member lives. One assigned here is
   * left to the acquire, which gets the ownership back; one whose stop failed is kept on purpose.
   */
  private void releaseUnrun(List<Ownership> unrun, Set<String> targets, Assignment assigned) {
    String me = coordinator.memberId();
    for (Ownership o : unrun) {
      String t = o.target();
      if (targets.contains(t) && me.equals(assigned.ownerOf().get(t))) {
        continue;
      }
      String why = targets.contains(t) ? "it is assigned to member " + assigned.ownerOf().get(t)
          : "it is not configured";
      LOG.warn("member {} holds {} but does not run it (an acquire whose answer was lost, or a grant made behind its"
          + " back?); it releases it, as {}",
          me, o, why);
      release(o);
    }
  }

  /**
   * The configured targets' members ({@link Rendezvous#owner}) and this member's targets among them,
   * for one member set and one configuration.
   */
  private record Assignment(SortedSet<String> members, Set<String> targets, Map<String, String> ownerOf,
      List<String> mine) {}

  /**
   * The assignment of {@code targets} over {@code members}: the last round's while both are the
   * same, else computed anew. A round runs every {@code pollInterval} and scores every target
   * against every member: at 100,000 targets and 100 members that is about half a second of CPU, which
   * the rounds between two changes of membership or configuration would each spend again for the
   * same answer (benchmarks/README.md, C1).
   */
  private Assignment assignment(SortedSet<String> members, Set<String> targets) {
    Assignment last = assignment;
    // the configuration is replaced as a whole by targets(Set): the same instance is the same configuration
    if (last != null && last.targets() == targets && last.members().equals(members)) {
      return last;
    }
    String me = coordinator.memberId();
    Map<String, String> ownerOf = Rendezvous.assign(targets, members);
    List<String> mine = new ArrayList<>();
    ownerOf.forEach((t, m) -> {
      if (m.equals(me)) {
        mine.add(t);
      }
    });
    assignmentsComputed++;
    assignment = new Assignment(new TreeSet<>(members), targets, ownerOf, List.copyOf(mine));
    return assignment;
  }

  /** How many times a round computed the assignment (for tests). */
  int assignmentsComputed() {
    return assignmentsComputed;
  }

  /**
   * How long a configured target may stay unowned while assigned to another member before it is
   * said to run nowhere: the settle delay and 60 rounds (32 s at the defaults), longer than a
   * handover takes unless the assignee's rounds are stuck.
   */
  public Duration unownedGrace() {
    return settleDelay.plus(pollInterval.multipliedBy(60));
  }

  /**
   * Notes the configured targets that another member should own and nobody does. Members whose
   * configurations differ (a target in some files only, a rolling edit) assign a target to a
   * member that may not have it, which then never takes it: said once at WARN per target and
   * assignee, and by {@link #notReady()} while it lasts, on the members that do configure it.
   */
  private void noteUnowned(Set<String> targets, SortedSet<String> members, Assignment assigned,
      Map<String, Ownership> current, Instant now) {
    String me = coordinator.memberId();
    Set<String> seen = new HashSet<>();
    for (String t : targets) {
      Ownership held = current.get(t);
      // held by no live member: an ownership that outlived its member (written by hand, on no lease) keeps even
      // its assignee from taking it
      String ghost = held != null && !members.contains(held.member()) ? held.member() : null;
      if ((held != null && ghost == null) || owned.containsKey(t)) {
        continue;
      }
      Optional<String> assignee = Optional.ofNullable(assigned.ownerOf().get(t));
      if (assignee.isEmpty() || (ghost == null && assignee.get().equals(me))) {
        continue;
      }
      seen.add(t);
      Unowned u = unowned.get(t);
      if (u == null || !u.assignee().equals(assignee.get()) || !Objects.equals(u.holder(), ghost)) {
        unowned.put(t, new Unowned(assignee.get(), ghost, now, false));
      } else if (!u.warned() && !now.isBefore(u.since().plus(unownedGrace()))) {
        unowned.put(t, new Unowned(u.assignee(), ghost, u.since(), true));
        if (ghost != null) {
          LOG.warn("member {}: target {} runs nowhere: it is held by {} (token {}), which is not a live member of the"
              + " cluster ({}), since {}, so its assignee {} cannot take it; was the ownership written by hand? Delete"
              + " it (etcd: an owners/ key on no member's lease never expires)", me, t, ghost, held.token(), members,
              u.since(), u.assignee());
        } else {
          LOG.warn("member {}: target {} runs nowhere: it is assigned to member {} (rendezvous over {}), which has not"
              + " taken it since {}; does {}'s configuration have it? (members must share one configuration)", me, t,
              u.assignee(), members, u.since(), u.assignee());
        }
      }
    }
    for (String t : Set.copyOf(unowned.keySet())) {
      if (!seen.contains(t)) {
        Unowned u = unowned.remove(t);
        if (u != null && u.warned()) {
          LOG.info("member {}: target {} is no longer waiting for {}", me, t,
              u.holder() != null ? u.holder() + " to let it go" : "member " + u.assignee());
        }
      }
    }
  }

  /**
   * Starts a target just taken; one that does not start is released at once (nobody else takes it
   * meanwhile, as it is still assigned here, but the engine does not show an owner that runs
   * nothing) and retried later, at a pace that doubles up to {@link #MAX_RETRY}. Logged once
   * when it first fails and once when it starts again, not at every attempt.
   */
  private void startTaken(Ownership o, StartFailure failed, Instant now) {
    String me = coordinator.memberId();
    boolean running;
    String why = "";
    try {
      running = runner.start(o);
    } catch (RuntimeException | Error e) {
      // an Error too (a provider's jar missing a class): thrown out of the round, it would end the rounds for good
      // while the lease is still renewed, and leave the target taken but never started
      running = false;
      why = ": " + e;
    }
    if (running) {
      if (failed != null) {
        cannotStart.remove(o.target());
        LOG.info("member {} started {} after {} failed attempt(s) since {}", me, o.target(), failed.attempts(),
            failed.since());
      }
      return;
    }
    owned.remove(o.target());
    int attempts = failed == null ? 1 : failed.attempts() + 1;
    Duration wait = retryDelay(attempts);
    cannotStart.put(o.target(), new StartFailure(failed == null ? now : failed.since(), attempts, now.plus(wait)));
    if (failed == null) {
      LOG.warn("member {} cannot start target {}{}; it releases it and tries again in {} (then less often, up to"
          + " every {}) and at the next reload", me, o.target(), why, wait, MAX_RETRY);
    } else {
      LOG.debug("member {} still cannot start target {}{} (attempt {}); next in {}", me, o.target(), why, attempts,
          wait);
    }
    // last: should the engine not answer now, the next round releases it (or the retry takes it back)
    release(o);
  }

  /**
   * Stops {@code o}'s target (no longer in {@link #owned}) and releases its ownership when this
   * member still {@code holds} it (not after a lost lease or a takeover). A stop that
   * throws keeps the ownership (the target may still run: released, another member would start it
   * beside it) and is tried again by a later round, at a pace that doubles up to {@link
   * #MAX_RETRY}; logged at ERROR when it first fails and once when it stops. {@code failed}: the
   * earlier failure this retries, or null.
   */
  private void stopThenRelease(Ownership o, boolean holds, String reason, StopFailure failed, Instant now) {
    String me = coordinator.memberId();
    try {
      runner.stop(o.target(), reason);
    } catch (RuntimeException | Error e) {
      // an Error too: the target may still run, so its ownership is kept as for any failed stop
      int attempts = failed == null ? 1 : failed.attempts() + 1;
      Duration wait = retryDelay(attempts);
      cannotStop.put(o.target(), new StopFailure(o, holds, reason, failed == null ? now : failed.since(), attempts,
          now.plus(wait), e.toString()));
      if (failed == null) {
        LOG.error("member {} could not stop target {} ({}): {}; {}, and tries again in {} (then less often, up to"
            + " every {})", me, o.target(), reason, e.toString(), holds ? "it keeps the target's ownership (token "
            + o.token() + ") so that no other member starts it while it may still run here"
            : "its ownership is gone already, so what it still attempts is refused as fenced", wait, MAX_RETRY);
      } else {
        LOG.debug("member {} still cannot stop target {} (attempt {}): {}; next in {}", me, o.target(), attempts,
            e.toString(), wait);
      }
      return;
    }
    if (failed != null) {
      cannotStop.remove(o.target(), failed);
      LOG.warn("member {} stopped target {} after {} failed attempt(s) since {}{}", me, o.target(),
          failed.attempts(), failed.since(), holds ? "; it releases it now" : "");
    }
    if (holds) {
      release(o);
    }
  }

  /** The wait before attempt {@code attempts + 1} of a start or stop: {@link #FIRST_RETRY}, doubling up to {@link #MAX_RETRY}. */
  private static Duration retryDelay(int attempts) {
    Duration wait = FIRST_RETRY.multipliedBy(1L << Math.min(attempts - 1, 10));
    return wait.compareTo(MAX_RETRY) > 0 ? MAX_RETRY : wait;
  }

  /** Releases a stopped target's ownership; if the engine does not answer, the next round tries again. */
  private void release(Ownership o) {
    releasing.put(o.target(), o);
    coordinator.release(o);
    releasing.remove(o.target(), o);
  }

  /**
   * Stops every owned target (the lease is gone: so are the ownerships); one that fails is tried
   * again later. The stops run side by side: each may wait up to the agent's grace period for its
   * sync, and one after the other they would hold the member (and its rejoin) for that many periods.
   */
  private void stopAll(String reason) {
    Instant now = clock.instant();
    List<Ownership> all = List.copyOf(owned.values());
    all.forEach(o -> owned.remove(o.target()));
    inParallel(all, o -> stopThenRelease(o, false, reason, null, now));
  }

  /** How many stops run at once when a member stops all its targets. */
  static final int PARALLEL_STOPS = 8;

  /** Runs {@code action} for each ownership, up to {@link #PARALLEL_STOPS} at once, and waits for all of them. */
  private void inParallel(List<Ownership> all, java.util.function.Consumer<Ownership> action) {
    if (all.size() <= 1) {
      all.forEach(action);
      return;
    }
    String me = coordinator.memberId();
    java.util.concurrent.ExecutorService pool = Executors.newFixedThreadPool(Math.min(all.size(), PARALLEL_STOPS),
        r -> {
          Thread t = new Thread(r, "gitops-stop-" + me);
          t.setDaemon(true);
          return t;
        });
    try {
      List<java.util.concurrent.Future<?>> running = new ArrayList<>();
      for (Ownership o : all) {
        running.add(pool.submit(() -> action.accept(o)));
      }
      for (java.util.concurrent.Future<?> f : running) {
        try {
          f.get();
        } catch (java.util.concurrent.ExecutionException e) {
          // action logs and keeps what it can handle: what is left is a bug, thrown as it would be unparallelled
          if (e.getCause() instanceof Error err) {
            throw err;
          }
          throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      LOG.warn("member {}: interrupted while stopping its targets; the stops go on in the background", me);
    } finally {
      pool.shutdown();
    }
  }

  /** Stops the rounds and every target, releases what it owns and leaves (revoking its lease). */
  @Override
  public void close() {
    closed = true;
    scheduler.shutdown();
    try {
      if (!scheduler.awaitTermination(1, TimeUnit.MINUTES)) {
        LOG.warn("member {}: a coordination round did not end within a minute", coordinator.memberId());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    List<Ownership> stopping = new ArrayList<>(owned.values());
    cannotStop.values().forEach(f -> stopping.add(f.ownership()));  // once more, before the lease goes
    stopping.forEach(o -> owned.remove(o.target()));
    inParallel(stopping, o -> {
      try {
        runner.stop(o.target(), "member " + coordinator.memberId() + " is leaving");
        cannotStop.remove(o.target());
      } catch (RuntimeException | Error e) {
        // Leaving revokes the lease and with it the ownership: fencing refuses what the target still
        // tries under its token, but nothing here can stop it any more.
        LOG.error("member {} is leaving but could not stop target {}: {}; its ownership ends with the lease, and"
            + " what it still attempts is refused as fenced", coordinator.memberId(), o.target(), e.toString());
      }
    });
    coordinator.close();
  }

  /** Builds a {@link ClusterMember}. */
  public static final class Builder {
    private final Coordinator coordinator;
    private final Targets runner;
    private Duration settleDelay = Duration.ofSeconds(2);
    private Duration pollInterval = Duration.ofMillis(500);
    private Clock clock = MonotonicClock.system();

    private Builder(Coordinator coordinator, Targets runner) {
      this.coordinator = Objects.requireNonNull(coordinator, "coordinator");
      this.runner = Objects.requireNonNull(runner, "targets");
    }

    /** How long the membership must stay unchanged before targets move (default 2 s; zero is allowed). */
    public Builder settleDelay(Duration d) {
      if (Objects.requireNonNull(d, "settleDelay").isNegative()) {
        throw new IllegalArgumentException("settle delay must not be negative, got " + d);
      }
      this.settleDelay = d;
      return this;
    }

    /** How often a round runs (default 500 ms). */
    public Builder pollInterval(Duration d) {
      if (Objects.requireNonNull(d, "pollInterval").isNegative() || d.isZero()) {
        throw new IllegalArgumentException("poll interval must be positive, got " + d);
      }
      this.pollInterval = d;
      return this;
    }

    /**
     * The clock of the settle delay and the retries (default: a {@link MonotonicClock}, which a step of the wall
     * clock does not move).
     */
    public Builder clock(Clock c) {
      this.clock = Objects.requireNonNull(c, "clock");
      return this;
    }

    /** The member (not started). */
    public ClusterMember build() {
      return new ClusterMember(this);
    }
  }
}
