package dev.gitops.cluster;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Members started on real coordinators for the watch tests: who runs which target and every stop,
 * as the members' callbacks say; {@link #close()} stops them.
 */
public final class RunningMembers implements AutoCloseable {

  /** The targets every member here is configured with. */
  public static final Set<String> TARGETS = Set.of("t1", "t2", "t3");

  /** Target to the member running it. */
  public final Map<String, String> running = new ConcurrentHashMap<>();
  /** Every stop, as {@code "<target>: <reason>"}. */
  public final List<String> stops = new CopyOnWriteArrayList<>();
  private final List<ClusterMember> started = new CopyOnWriteArrayList<>();

  /** Starts a member on {@code c} running {@link #TARGETS}: no settle delay, a round every 20 ms. */
  public ClusterMember start(CountingCoordinator c) {
    String id = c.memberId();
    ClusterMember m = ClusterMember.builder(c, new ClusterMember.Targets() {
      @Override
      public boolean start(Ownership o) {
        running.put(o.target(), id);
        return true;
      }

      @Override
      public void stop(String target, String reason) {
        running.remove(target, id);
        stops.add(target + ": " + reason);
      }
    }).settleDelay(Duration.ZERO).pollInterval(Duration.ofMillis(20)).build();
    m.targets(TARGETS);
    m.start();
    started.add(m);
    return m;
  }

  /** Waits for {@code rounds} more rounds of the member on {@code c} (counted by their reads of the owners). */
  public static void awaitRounds(CountingCoordinator c, int rounds) throws InterruptedException {
    int until = c.ownersCalls.get() + rounds;
    Await.until(rounds + " rounds", () -> c.ownersCalls.get() >= until, Duration.ofSeconds(20));
  }

  @Override
  public void close() {
    started.forEach(ClusterMember::close);
    started.clear();
  }
}
