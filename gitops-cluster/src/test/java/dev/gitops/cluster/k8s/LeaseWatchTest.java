package dev.gitops.cluster.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.cluster.Await;
import dev.gitops.cluster.ClusterMember;
import dev.gitops.cluster.CountingCoordinator;
import dev.gitops.cluster.Ownership;
import dev.gitops.cluster.RunningMembers;
import dev.gitops.k8s.StandInApiServer;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The rounds' reads of members and owners come from an informer's cache of the Leases: no list in
 * steady rounds, a change made behind a member's back seen through the watch, and an API server
 * that went away still failing the rounds.
 */
class LeaseWatchTest extends LeaseTestBase {

  static final Set<String> TARGETS = RunningMembers.TARGETS;

  final RunningMembers members = new RunningMembers();
  final Map<String, String> running = members.running;
  final List<String> stops = members.stops;
  /** The coordinator of the last member started, counting its rounds (those that got as far as reading the owners). */
  CountingCoordinator counted;

  @AfterEach
  void stopMembers() {
    members.close();
  }

  ClusterMember start(LeaseCoordinator c) {
    counted = new CountingCoordinator(c);
    return members.start(counted);
  }

  void awaitRounds(int n) throws InterruptedException {
    RunningMembers.awaitRounds(counted, n);
  }

  @Test
  void roundsWithoutOwnershipChangesListNoLeasesAfterTheFirst() throws Exception {
    LeaseCoordinator c = member("m1");
    start(c);
    Await.until("m1 running its targets", () -> running.keySet().equals(TARGETS), Duration.ofSeconds(20));
    awaitRounds(2);
    long lists = c.leaseLists();
    awaitRounds(50);
    assertThat(c.leaseLists()).as("lists of the Leases in 50 steady rounds").isEqualTo(lists).isEqualTo(1);
    assertThat(running.keySet()).isEqualTo(TARGETS);
    assertThat(stops).isEmpty();
  }

  @Test
  void anOwnershipTakenOverBehindTheMembersBackIsSeenThroughTheWatchAndStopped() throws Exception {
    LeaseCoordinator c = member("m1");
    ClusterMember m1 = start(c);
    Await.until("m1 running its targets", () -> running.keySet().equals(TARGETS), Duration.ofSeconds(20));
    Ownership held = m1.ownership("t1").orElseThrow();

    // another writer takes t1's Lease over (a holder that is no live member: the target is free again)
    Lease l = client.leases().inNamespace("gitops").withName(c.leaseName("t", "t1")).get();
    client.leases().inNamespace("gitops").resource(new LeaseBuilder(l).editSpec().withHolderIdentity("intruder#1")
        .withLeaseTransitions(l.getSpec().getLeaseTransitions() + 1).endSpec().build()).update();

    Await.until("m1 stopping t1", () -> stops.size() == 1, Duration.ofSeconds(10));
    assertThat(stops).singleElement().asString()
        .startsWith("t1: member m1 no longer holds it (token " + held.token() + ")");
    Await.until("m1 taking t1 again", () -> running.containsKey("t1")
        && m1.ownership("t1").map(o -> o.token() > held.token() + 1).orElse(false), Duration.ofSeconds(10));
    assertThat(c.leaseLists()).as("the change came through the watch").isEqualTo(1);
  }

  @Test
  void aTargetLeaseRestoredAtTheSameCountAndHolderIsAnotherGrantTheTargetRestartsUnder() throws Exception {
    LeaseCoordinator c = member("m1");
    ClusterMember m1 = start(c);
    Await.until("m1 running its targets", () -> running.keySet().equals(TARGETS), Duration.ofSeconds(20));
    Ownership held = m1.ownership("t1").orElseThrow();

    // kubectl replace of a saved copy: the same holder and count, another acquireTime; under the grant it runs t1
    // with, every write is refused as stale from now on
    Lease l = client.leases().inNamespace("gitops").withName(c.leaseName("t", "t1")).get();
    client.leases().inNamespace("gitops").resource(new LeaseBuilder(l).editSpec()
        .withAcquireTime(l.getSpec().getAcquireTime().plusSeconds(1)).endSpec().build()).update();
    assertThat(c.holds(held)).isFalse();

    Await.until("m1 running t1 under the new grant", () -> running.containsKey("t1")
        && m1.ownership("t1").filter(o -> !o.sameGrant(held)).isPresent(), Duration.ofSeconds(10));
    Ownership again = m1.ownership("t1").orElseThrow();
    assertThat(again.token()).isEqualTo(held.token());
    assertThat(again.since()).isEqualTo(held.since().plusSeconds(1));
    assertThat(c.holds(again)).isTrue();
    assertThat(stops).singleElement().asString().startsWith("t1: member m1 holds it under another grant now (token "
        + held.token() + ", since " + again.since());
  }

  @Test
  void withTheApiServerGoneTheRoundsFailAndTheTargetsStopWhenTheLeaseEndsAsBefore() throws Exception {
    // an API server of this test's own, which goes away while its client stays
    KubernetesMockServer own = StandInApiServer.crud();
    KubernetesClient mockClient = own.createClient();
    // without the client's retries of a refused connection (seconds of backoff): the rounds fail at once
    KubernetesClient ownClient = new KubernetesClientBuilder().withConfig(new ConfigBuilder(mockClient.getConfiguration())
        .withRequestRetryBackoffLimit(0).build()).build();
    mockClient.close();
    try {
      LeaseCoordinator c = LeaseCoordinator.builder(ownClient, "gitops", "m1").ttl(Duration.ofSeconds(2)).build();
      ClusterMember m1 = start(c);
      Await.until("m1 running its targets", () -> running.keySet().equals(TARGETS), Duration.ofSeconds(20));
      awaitRounds(3);
      assertThat(m1.notReady()).isEmpty();
      int before = counted.ownersCalls.get();

      own.destroy();
      Await.until("m1 not ready", () -> m1.notReady().isPresent(), Duration.ofSeconds(30));
      assertThat(m1.notReady().orElseThrow()).contains("member m1 cannot coordinate with the cluster since");
      Await.until("m1 stopping its targets", running::isEmpty, Duration.ofSeconds(30));
      assertThat(stops).hasSize(TARGETS.size()).allSatisfy(s -> assertThat(s).contains("lost its lease"));
      assertThat(m1.owned()).isEmpty();
      // the informer notices its lost watch within a few rounds; on a loaded machine that takes longer, so the
      // bound only says the cache was not served on and on (the not-ready state above needs failed rounds)
      assertThat(counted.ownersCalls.get() - before).as("rounds served from the cache after the API server went away")
          .isLessThan(40);
    } finally {
      members.close();
      ownClient.close();
    }
  }
}
