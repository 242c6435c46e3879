package dev.gitops.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The local side of a lease: what counts as live, and what is renewed. */
class LeaseKeeperTest {

  @Test
  void aGrantThatWaitedPastAThirdOfTheTtlIsRenewedAtOnce() throws Exception {
    MovableClock clock = new MovableClock();
    AtomicInteger renewals = new AtomicInteger();
    AtomicReference<LeaseKeeper> ref = new AtomicReference<>();
    Runnable renew = () -> {
      renewals.incrementAndGet();
      ref.get().renewed(clock.instant());
    };
    try (LeaseKeeper keeper = new LeaseKeeper("m1", Duration.ofSeconds(3), clock, renew)) {
      ref.set(keeper);
      // stamped before a grant that waited 2.4 s for the engine: 0.6 s of the lease left, under a third (1 s)
      keeper.joined(clock.instant().minus(Duration.ofMillis(2400)));
      // a renewal a third of the TTL after the join (not the stamp) would come after the lease ended: none at all
      Await.until("a renewal before the lease ends", () -> renewals.get() > 0, Duration.ofSeconds(3));
      assertThat(keeper.isHeld()).as("not lost").isTrue();
    }
  }

  @Test
  void aLeasePastItsTtlIsLostAndNeverRenewedBackToLife() throws Exception {
    MovableClock clock = new MovableClock();
    AtomicInteger renewals = new AtomicInteger();
    AtomicReference<LeaseKeeper> ref = new AtomicReference<>();
    // a backend whose renewals always succeed: the engine would answer, late
    Runnable renew = () -> {
      renewals.incrementAndGet();
      ref.get().renewed(clock.instant());
    };
    try (LeaseKeeper keeper = new LeaseKeeper("m1", Duration.ofSeconds(3), clock, renew);
         LogLines log = LogLines.of(LeaseKeeper.class)) {
      ref.set(keeper);
      keeper.joined(clock.instant());
      Await.until("a renewal", () -> renewals.get() > 0, Duration.ofSeconds(10));
      assertThat(keeper.isLive()).isTrue();
      clock.advance(Duration.ofSeconds(4));  // a pause past the TTL: the engine may have expired the lease meanwhile
      int before = renewals.get();
      Await.until("the keeper giving the lease up", () -> !keeper.isHeld(), Duration.ofSeconds(10));
      assertThat(keeper.isLive()).isFalse();
      Thread.sleep(1500);  // longer than the renewal period (1 s)
      assertThat(renewals.get()).as("renewals after the TTL passed").isLessThanOrEqualTo(before + 1);
      assertThat(keeper.isHeld()).isFalse();
      assertThat(keeper.isLive()).isFalse();
      // the TTL as people read it, as the etcd coordinator says it: it said "PT3S"
      assertThat(log.lines()).anyMatch(l -> l.startsWith("WARN member m1 lost its membership: no renewal within its"
          + " TTL of 3 s by its own clock"));
    }
  }

  @Test
  void aRenewalThatThrowsIsLoggedAndTheNextOneStillComes() throws Exception {
    MovableClock clock = new MovableClock();
    AtomicInteger renewals = new AtomicInteger();
    AtomicReference<LeaseKeeper> ref = new AtomicReference<>();
    Runnable renew = () -> {
      if (renewals.incrementAndGet() == 1) {
        throw new NullPointerException("the Lease has no spec");  // a backend's bug, or an object edited by hand
      }
      ref.get().renewed(clock.instant());
    };
    try (LogLines log = LogLines.of(LeaseKeeper.class);
         LeaseKeeper keeper = new LeaseKeeper("m1", Duration.ofSeconds(2), clock, renew)) {
      ref.set(keeper);
      keeper.joined(clock.instant().minus(Duration.ofMillis(700)));  // the first renewal at once, the next 0.67 s later
      Await.until("a second renewal", () -> renewals.get() >= 2, Duration.ofSeconds(2));
      assertThat(keeper.isHeld()).isTrue();
      assertThat(log.lines()).anyMatch(l -> l.startsWith("WARN") && l.contains("member m1")
          && l.contains("the Lease has no spec"));
    }
  }
}
