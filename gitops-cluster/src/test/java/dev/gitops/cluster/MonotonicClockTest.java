package dev.gitops.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.cluster.etcd.EtcdCoordinatorClock;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Leases are timed by a clock that a step of the wall clock does not move. */
class MonotonicClockTest {

  /** A wall clock the test steps, as NTP or {@code date -s} would. */
  static final class SteppedWall extends Clock {
    volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @Test
  void aStepOfTheWallClockMovesNeitherTheClockNorALeaseTimedByIt() {
    SteppedWall wall = new SteppedWall();
    AtomicLong nanos = new AtomicLong(42);
    MonotonicClock clock = new MonotonicClock(wall, nanos::get);
    assertThat(clock.instant()).isEqualTo(wall.now);
    try (LeaseKeeper keeper = new LeaseKeeper("m1", Duration.ofSeconds(3), clock, () -> { })) {
      keeper.joined(keeper.now());
      wall.now = wall.now.minus(Duration.ofHours(1));  // a step back: a wall-clock lease would stay live an hour
      nanos.addAndGet(Duration.ofSeconds(2).toNanos());
      assertThat(keeper.isLive()).isTrue();
      nanos.addAndGet(Duration.ofSeconds(2).toNanos());
      assertThat(keeper.isLive()).as("a TTL elapsed, whatever the wall clock says").isFalse();
      assertThat(clock.instant()).isEqualTo(Instant.parse("2026-01-01T00:00:04Z"));
    }
    try (LeaseKeeper keeper = new LeaseKeeper("m1", Duration.ofSeconds(3), clock, () -> { })) {
      keeper.joined(keeper.now());
      wall.now = wall.now.plus(Duration.ofHours(2));  // a step forward: a wall-clock lease would end at once
      assertThat(keeper.isLive()).isTrue();
    }
  }

  @Test
  void theBackendsAndTheRoundsTimeLeasesMonotonicallyByDefault() {
    assertThat(EtcdCoordinatorClock.defaultClock()).isInstanceOf(MonotonicClock.class);
    ClusterMember m = ClusterMember.builder(new FakeCoordinator(new FakeCoordinator.Engine(), "m1"),
        new ClusterMember.Targets() {
          @Override
          public boolean start(Ownership o) {
            return true;
          }

          @Override
          public void stop(String target, String reason) {
          }
        }).build();
    assertThat(m.clock()).isInstanceOf(MonotonicClock.class);
  }
}
