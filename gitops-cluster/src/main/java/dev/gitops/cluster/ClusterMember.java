package dev.gitops.cluster;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
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
 * target twice); a member that leaves frees only its own targets, and they move at once. A member that is no longer a target's assignee stops it first and then releases its
 * ownership; the new assignee takes the ownership only once it is free, so a target never has two
 * owners. A member that loses its lease stops every target at once.
 *
 * <pre>{@code
 * ClusterMember member = ClusterMember.builder(coordinator, new ClusterMember.Targets() {
 *       public void start(Ownership o) { log.info("reconciling {} as {}", o.target(), o.token()); }
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
    /** Starts reconciling {@code ownership.target()}; its side effects carry {@code ownership}'s token. */
    void start(Ownership ownership);

    /** Stops reconciling {@code target}; returns once no sync of it runs any more. */
    void stop(String target, String reason);
  }

  private final Coordinator coordinator;
  private final Targets runner;
  private final Duration settleDelay;
  private final Duration pollInterval;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final Map<String, Ownership> owned = new ConcurrentHashMap<>();
  private volatile Set<String> configured = Set.of();
  private SortedSet<String> lastMembers;
  private Instant changedAt;
  private volatile boolean closed;
  /** When the first of the failed rounds in a row began (null while rounds succeed), and the last failure. */
  private volatile Instant unreachableSince;
  private volatile String lastFailure = "";

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

  /** The configured targets (all members run the same configuration); the next round acts on them. */
  public void targets(Set<String> names) {
    configured = Set.copyOf(names);
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
      Instant since = unreachableSince;
      if (since != null) {
        unreachableSince = null;
        LOG.warn("member {}: the cluster's coordinator answers again (it did not since {})", coordinator.memberId(),
            since);
      }
    } catch (RuntimeException e) {
      // The engine may be unreachable for a while: nothing is started or released this round, and
      // a lease that cannot be renewed ends membership (isMember), which stops every target.
      lastFailure = e.toString();
      if (unreachableSince == null) {
        unreachableSince = clock.instant();
        LOG.warn("member {}: a coordination round failed ({}); it runs only what it holds until its lease"
            + " ends, and retries every {}", coordinator.memberId(), e.toString(), pollInterval);
      } else {
        LOG.debug("member {}: coordination round failed again: {}", coordinator.memberId(), e.toString());
      }
    }
  }

  /**
   * Why this member is not ready: its last coordination round failed (the coordinator cannot be
   * reached, or refused it), so it takes no target and keeps what it holds only while its lease
   * lasts. Empty while rounds succeed.
   */
  public Optional<String> notReady() {
    Instant since = unreachableSince;
    return since == null ? Optional.empty() : Optional.of("member " + coordinator.memberId()
        + " cannot coordinate with the cluster since " + since + ": " + lastFailure);
  }

  /** One round: check membership and ownership, then stop, release and acquire what moved. */
  void round() {
    String me = coordinator.memberId();
    if (!coordinator.isMember()) {
      if (!owned.isEmpty() || lastMembers != null) {
        LOG.warn("member {} lost its lease: it stops its {} target(s) and joins again", me, owned.size());
      }
      stopAll("member " + me + " lost its lease");
      coordinator.join();
      lastMembers = null;
      return;
    }
    SortedSet<String> members = coordinator.members();
    Instant now = clock.instant();
    if (!members.equals(lastMembers)) {
      // Only a join settles: a leave changes the assignee of the leaver's targets alone (rendezvous), which
      // nobody runs any more, so waiting would only keep them down; a join takes targets from running members.
      boolean joined = lastMembers == null || !lastMembers.containsAll(members);
      LOG.info("member {}: members now {}{}", me, members, joined ? "; settling for " + settleDelay : "");
      lastMembers = new TreeSet<>(members);
      if (joined) {
        changedAt = now;
      }
    }
    Map<String, Ownership> current = coordinator.owners();
    for (Ownership o : owned.values()) {
      Ownership now0 = current.get(o.target());
      if (now0 == null || now0.token() != o.token() || !now0.member().equals(me)) {
        owned.remove(o.target());
        runner.stop(o.target(), "member " + me + " no longer holds it (token " + o.token() + ")");
      }
    }
    if (now.isBefore(changedAt.plus(settleDelay))) {
      return;
    }
    Set<String> targets = configured;
    for (Ownership o : owned.values()) {
      Optional<String> assignee = Rendezvous.owner(o.target(), members);
      if (!targets.contains(o.target()) || !assignee.equals(Optional.of(me))) {
        runner.stop(o.target(), targets.contains(o.target()) ? "it moves to member " + assignee.orElse("?")
            : "it left the configuration");
        owned.remove(o.target());
        coordinator.release(o);
      }
    }
    for (String t : targets) {
      if (owned.containsKey(t) || !Rendezvous.owner(t, members).equals(Optional.of(me))) {
        continue;
      }
      Ownership mine = current.get(t);
      if (mine != null && !mine.member().equals(me)) {
        continue;  // the previous owner has not released it yet: ask again next round
      }
      Optional<Ownership> got = coordinator.tryAcquire(t);
      if (got.isPresent()) {
        owned.put(t, got.get());
        LOG.info("member {} took {}", me, got.get());
        runner.start(got.get());
      }
    }
  }

  private void stopAll(String reason) {
    for (String t : Set.copyOf(owned.keySet())) {
      owned.remove(t);
      runner.stop(t, reason);
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
    for (Ownership o : Set.copyOf(owned.values())) {
      owned.remove(o.target());
      runner.stop(o.target(), "member " + coordinator.memberId() + " is leaving");
    }
    coordinator.close();
  }

  /** Builds a {@link ClusterMember}. */
  public static final class Builder {
    private final Coordinator coordinator;
    private final Targets runner;
    private Duration settleDelay = Duration.ofSeconds(2);
    private Duration pollInterval = Duration.ofMillis(500);
    private Clock clock = Clock.systemUTC();

    private Builder(Coordinator coordinator, Targets runner) {
      this.coordinator = Objects.requireNonNull(coordinator, "coordinator");
      this.runner = Objects.requireNonNull(runner, "targets");
    }

    /** How long the membership must stay unchanged before targets move (default 2 s; zero is allowed). */
    public Builder settleDelay(Duration d) {
      if (d.isNegative()) {
        throw new IllegalArgumentException("settle delay must not be negative, got " + d);
      }
      this.settleDelay = d;
      return this;
    }

    /** How often a round runs (default 500 ms). */
    public Builder pollInterval(Duration d) {
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("poll interval must be positive, got " + d);
      }
      this.pollInterval = d;
      return this;
    }

    /** The clock of the settle delay (default: UTC system clock). */
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
