package dev.gitops.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.agent.spi.Placement;
import dev.gitops.cluster.agent.ClusterPlacement;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link ClusterPlacement#lost}: what the agent asks when a sync ends without success, to tell a
 * sync cut off by fencing (the member no longer holds the target) from a failure to announce.
 */
class ClusterPlacementLostTest {

  @Test
  void aTargetIsLostWhenTheMembersLeaseIsNotLiveByItsOwnClockOrItOwnsItNoLonger() throws InterruptedException {
    FakeCoordinator fake = new FakeCoordinator(new FakeCoordinator.Engine(), "m1");
    ClusterPlacement placement = ClusterPlacement.of(fake, Duration.ZERO, Duration.ofMillis(20));
    try {
      placement.configured(Set.of("web"));
      placement.start(new Placement.Control() {
        @Override
        public boolean startTarget(String name) {
          return true;
        }

        @Override
        public void stopTarget(String name, String reason) {}
      });
      Await.until("web owned", () -> placement.owned().containsKey("web"), Duration.ofSeconds(30));
      assertThat(placement.lost("web")).as("held").isEmpty();
      assertThat(placement.lost("api")).as("never owned here").hasValue("member m1 no longer owns target api");

      fake.expire();  // a pause past the lease: the member's own clock says it is over
      assertThat(placement.lost("web")).hasValue("member m1 no longer holds target web: its lease is not live by its"
          + " own clock");
    } finally {
      placement.close();
    }
  }
}
