package dev.gitops.cluster;

import dev.gitops.core.internal.Durations;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The time side of a member's lease, the same for every backend: it runs the backend's renewal
 * every third of the TTL and says whether the lease is live. A lease is live from a join until
 * the backend reports it lost, or until a TTL passes without a renewal by its clock (a
 * {@link MonotonicClock} in the backends, so that a step of the wall clock changes nothing) (the engine may have
 * expired it by then, so the member must assume it did and stop writing). A lease past its TTL
 * is lost for good ({@link #checkLive()}): it is not renewed again, and the next join takes a new
 * one rather than wait for the engine to say that the old one is gone.
 *
 * <pre>{@code
 * LeaseKeeper keeper = new LeaseKeeper("m1", Duration.ofSeconds(10), MonotonicClock.system(),
 *     () -> log.info("renew the lease"));
 * Instant asked = keeper.now();
 * // ... the backend grants the lease
 * keeper.joined(asked);
 * keeper.renewed(keeper.now());  // from renew(): the time the successful renewal was sent
 * keeper.isLive();
 * }</pre>
 */
public final class LeaseKeeper implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(LeaseKeeper.class);

  private final String member;
  private final Duration ttl;
  private final Clock clock;
  private final Runnable renew;
  private final ScheduledExecutorService renewer;
  private Instant renewedAt;
  private boolean lost;
  private boolean closed;
  private ScheduledFuture<?> renewal;

  /** A keeper of {@code member}'s lease of {@code ttl} that calls {@code renew} every third of it once joined. */
  public LeaseKeeper(String member, Duration ttl, Clock clock, Runnable renew) {
    this.member = checkMember(member);
    this.ttl = checkTtl(ttl);
    this.clock = Objects.requireNonNull(clock, "clock");
    this.renew = Objects.requireNonNull(renew, "renew");
    this.renewer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "gitops-lease-" + member);
      t.setDaemon(true);
      return t;
    });
  }

  /** This process as {@link #process()} names it, found once. */
  private static final String PROCESS = findProcess();

  /**
   * This process, as a member records it beside its membership so that a member refused for an id
   * another process uses can name that process: {@code pid 4242 on host-a}.
   *
   * <pre>{@code
   * log.info("member m1 is {}", LeaseKeeper.process());
   * }</pre>
   */
  public static String process() {
    return PROCESS;
  }

  private static String findProcess() {
    String pid = "pid " + ProcessHandle.current().pid();
    // "pid@host", by the JVM's own gethostname: no name lookup that could hang on a DNS without answers
    String vm = java.lang.management.ManagementFactory.getRuntimeMXBean().getName();
    int at = vm.indexOf('@');
    return at < 0 || at == vm.length() - 1 ? pid : pid + " on " + vm.substring(at + 1);
  }

  /** A member id, checked: not empty. */
  public static String checkMember(String member) {
    if (member == null || member.isBlank()) {
      throw new IllegalArgumentException("member id must not be empty");
    }
    return member;
  }

  /** A lease TTL, checked and cut to whole seconds: at least 2 s. */
  public static Duration checkTtl(Duration ttl) {
    if (ttl == null || ttl.toSeconds() < 2) {
      throw new IllegalArgumentException("lease TTL must be at least 2 seconds, got " + (ttl == null ? null : Durations.human(ttl)));
    }
    return Duration.ofSeconds(ttl.toSeconds());
  }

  /**
   * The lease was granted at {@code at} (a time taken before the grant was asked for): live until a
   * TTL after it, renewed a third of the TTL after it (at once if that is past) and then every third.
   */
  public synchronized void joined(Instant at) {
    if (closed) {
      throw new IllegalStateException("member " + member + " has left the cluster");
    }
    renewedAt = at;
    lost = false;
    if (renewal != null) {
      renewal.cancel(false);
    }
    long every = Math.max(100, ttl.toMillis() / 3);
    // a third of the TTL after the stamp, not after now: a grant that waited for the engine (the stamp is
    // taken before it) has used part of the lease already, and one that waited past a third renews at once
    long first = Math.max(0, every - Duration.between(at, clock.instant()).toMillis());
    renewal = renewer.scheduleWithFixedDelay(this::renewWhileLive, first, every, TimeUnit.MILLISECONDS);
  }

  private void renewWhileLive() {
    try {
      if (checkLive()) {
        renew.run();
      }
    } catch (RuntimeException | Error e) {
      // thrown out of this task, it would end the renewals for good (the executor drops a task that throws) and the
      // lease would lapse a TTL later without a word of why; the next renewal comes a third of the TTL later
      LOG.warn("member {}: renewing its lease failed: {}; trying again in a third of its TTL", member, e.toString(), e);
    }
  }

  /**
   * Whether the lease is live, as {@link #isLive()}; one that is held but was not renewed within
   * the TTL is marked lost here, by the local clock (no round trip). A renewal that answers late
   * (an engine that was down, a process that was paused) must not bring it back: the engine may
   * have expired it and the others taken its targets, so the member stops everything and joins
   * afresh.
   */
  public synchronized boolean checkLive() {
    if (isLive()) {
      return true;
    }
    if (isHeld()) {
      lost("no renewal within its TTL of " + Durations.human(ttl) + " by its own clock (last at " + renewedAt
          + "); it joins with a new lease");
    }
    return false;
  }

  /**
   * How long a renewal may wait for the engine: while the lease is live by the local clock (at
   * least 100 ms). An answer after that comes too late to matter, and a renewal hung on a dead
   * connection must not hold the renewer past the lease's end, when the next join's lease needs it.
   */
  public synchronized Duration renewalTimeout() {
    Duration left = renewedAt == null ? ttl : Duration.between(clock.instant(), renewedAt.plus(ttl));
    return left.compareTo(Duration.ofMillis(100)) < 0 ? Duration.ofMillis(100) : left;
  }

  /**
   * A renewal succeeded; {@code at} is when it was sent (the engine restarts the TTL after that,
   * so the local view of the lease ends first).
   */
  public synchronized void renewed(Instant at) {
    renewedAt = at;
  }

  /** The backend says the lease is gone: no more renewals, not live until the next join. */
  public synchronized void lost(String why) {
    lost = true;
    if (renewal != null) {
      renewal.cancel(false);
    }
    LOG.warn("member {} lost its membership: {}", member, why);
  }

  /** Whether the member joined and has not lost or closed its lease. */
  public synchronized boolean isHeld() {
    return renewedAt != null && !lost && !closed;
  }

  /** Whether the lease is held and was renewed within the TTL. */
  public synchronized boolean isLive() {
    return isHeld() && clock.instant().isBefore(renewedAt.plus(ttl));
  }

  /** Now, by the clock that times this lease: what {@link #joined} and {@link #renewed} are given. */
  public Instant now() {
    return clock.instant();
  }

  /** Whether {@link #close()} ran. */
  public synchronized boolean isClosed() {
    return closed;
  }

  /** The TTL. */
  public Duration ttl() {
    return ttl;
  }

  /** Stops renewing; whether the lease was still held (and so is worth revoking). */
  public boolean stop() {
    boolean held;
    synchronized (this) {
      if (closed) {
        return false;
      }
      held = isHeld();
      closed = true;
      if (renewal != null) {
        renewal.cancel(false);
      }
    }
    renewer.shutdownNow();
    return held;
  }

  /** Stops renewing. */
  @Override
  public void close() {
    stop();
  }
}
