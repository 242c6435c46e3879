package dev.gitops.cluster.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.cluster.Await;
import dev.gitops.cluster.FencedException;
import dev.gitops.cluster.LogLines;
import dev.gitops.cluster.MovableClock;
import dev.gitops.cluster.Ownership;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The Lease backend on fabric8's mock API server in CRUD mode (which stores Leases and checks resourceVersions). */
class LeaseCoordinatorTest extends LeaseTestBase {

  @Test
  void membersAreListedAndLeavingFreesTheirTargetsAtOnce() throws Exception {
    LeaseCoordinator m1 = member("m1");
    LeaseCoordinator m2 = member("m2");
    m1.join();
    m2.join();
    assertThat(m1.members()).containsExactly("m1", "m2");
    Ownership o = m1.tryAcquire("payments").orElseThrow();
    assertThat(m2.tryAcquire("payments")).isEmpty();
    assertThat(m2.owners()).containsOnlyKeys("payments");
    m1.close();
    // m2's cache hears of another member's leave through its watch, within its delivery time
    Await.until("m2 seeing m1 leave", () -> m2.members().equals(Set.of("m2")) && m2.owners().isEmpty(),
        Duration.ofSeconds(5));
    Ownership taken = m2.tryAcquire("payments").orElseThrow();
    assertThat(taken.token()).isGreaterThan(o.token());
    assertThat(taken.member()).isEqualTo("m2");
  }

  @Test
  void aReleasedTargetGoesToTheNextWithAHigherTokenAndTheOldOneIsFenced() {
    LeaseCoordinator m1 = member("m1");
    LeaseCoordinator m2 = member("m2");
    m1.join();
    m2.join();
    Ownership first = m1.tryAcquire("a/b c").orElseThrow();
    assertThat(m1.tryAcquire("a/b c")).contains(first);
    m1.release(first);
    Ownership second = m2.tryAcquire("a/b c").orElseThrow();
    assertThat(second.token()).isGreaterThan(first.token());
    m1.release(first);  // stale: releases nothing
    assertThat(m2.holds(second)).isTrue();
    assertThat(m1.holds(first)).isFalse();
    assertThatThrownBy(() -> m1.checkFence(first)).isInstanceOf(FencedException.class).hasMessageContaining("m1");
  }

  @Test
  void aRenewalTheServerAppliedButWhoseResponseWasLostKeepsTheMembersLease() throws Exception {
    LeaseCoordinator m1 = member("m1");
    m1.join();
    // what the API server holds after a renewal it applied while the member's request timed out:
    // the member's own incarnation, a renewTime later than the last one the member saw acknowledged; written right
    // after a renewal, so that it does not race with the next one (whose update would then conflict)
    java.time.ZonedDateTime joined = memberLease("m1").getSpec().getRenewTime();
    Await.until("a first renewal", () -> !memberLease("m1").getSpec().getRenewTime().equals(joined),
        Duration.ofSeconds(5));
    Lease l = memberLease("m1");
    java.time.ZonedDateTime lost = l.getSpec().getRenewTime().plusNanos(1_000_000);
    client.leases().inNamespace("gitops").resource(new io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder(l)
        .editSpec().withRenewTime(lost).endSpec().build()).update();
    // the member's next renewal (every third of the 4 s TTL) writes a later renewTime: it kept its Lease
    Await.until("m1 renewing past the lost renewal", () -> memberLease("m1").getSpec().getRenewTime().isAfter(lost),
        Duration.ofSeconds(15));
    assertThat(m1.isMember()).isTrue();
    assertThat(m1.tryAcquire("t")).isPresent();
  }

  private Lease memberLease(String id) {
    return client.leases().inNamespace("gitops").withLabel(LeaseCoordinator.ROLE_LABEL, "member").list().getItems()
        .stream().filter(x -> id.equals(x.getMetadata().getAnnotations().get(LeaseCoordinator.MEMBER_ANNOTATION)))
        .findFirst().orElseThrow();
  }

  @Test
  void aPausedMembersTargetsAreTakenOverAndItLearnsItLostThem() throws Exception {
    LeaseCoordinator m1 = member("m1");
    LeaseCoordinator m2 = member("m2");
    m1.join();
    m2.join();
    Ownership o = m1.tryAcquire("t").orElseThrow();
    pause("m1");
    assertThat(m2.members()).containsExactly("m2");
    Ownership taken = m2.tryAcquire("t").orElseThrow();
    assertThat(taken.token()).isGreaterThan(o.token());
    assertThat(m1.holds(o)).isFalse();
    Await.until("m1 noticing", () -> !m1.isMember(), Duration.ofSeconds(15));  // its next renewal finds its Lease changed
    m1.join();
    Await.until("m2 seeing m1 again", () -> m2.members().equals(Set.of("m1", "m2")), Duration.ofSeconds(5));
    assertThat(m1.tryAcquire("t")).isEmpty();
  }

  @Test
  void aMemberIdInUseIsRefusedNamingIt() {
    member("m1").join();
    LeaseCoordinator twin = member("m1");
    // both named: the process holding the id (pid and host) and the one refused
    String process = dev.gitops.cluster.LeaseKeeper.process();
    assertThat(process).startsWith("pid " + ProcessHandle.current().pid());
    assertThatThrownBy(twin::join).isInstanceOf(IllegalStateException.class).hasMessageContaining("m1")
        .hasMessageContaining("--member").hasMessageContaining(", " + process + ", renewed at ")
        .hasMessageContaining("this is " + process)
        .hasMessageEndingWith("wait up to 4 s for a previous run's Lease to expire");
  }

  @Test
  void badSettingsAreRefusedNamingThem() {
    assertThatThrownBy(() -> LeaseCoordinator.builder(client, "gitops", "m").cluster("not a label!"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a label!");
    assertThatThrownBy(() -> LeaseCoordinator.builder(client, "", "m")).hasMessageContaining("namespace");
    assertThatThrownBy(() -> LeaseCoordinator.builder(client, "ops/web", "m"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("namespace 'ops/web' is not a Kubernetes"
            + " namespace name");
    assertThatThrownBy(() -> LeaseCoordinator.builder(client, "gitops", "m").ttl(Duration.ofSeconds(1)))
        .hasMessageContaining("TTL");
  }

  @Test
  void aLeasePastItsDurationByTheMembersClockIsTakenAgainUnderANewIncarnation() {
    MovableClock clock = new MovableClock();
    LeaseCoordinator m1 = LeaseCoordinator.builder(client, "gitops", "m1").ttl(Duration.ofSeconds(30)).clock(clock)
        .build();
    opened.add(m1);
    m1.join();
    Ownership old = m1.tryAcquire("t").orElseThrow();
    clock.advance(Duration.ofSeconds(31));  // paused, or cut off from the API server, past its Lease
    assertThat(m1.isMember()).isFalse();
    m1.join();
    assertThat(m1.isMember()).as("a live Lease after joining").isTrue();
    assertThat(m1.holds(old)).isFalse();
    assertThat(m1.owners()).as("the old incarnation's targets are free").doesNotContainKey("t");
    assertThat(m1.tryAcquire("t")).get().extracting(Ownership::token).matches(t -> t > old.token());
  }

  @Test
  void aDeadMembersLeaseWhoseRenewTimeIsInTheFutureEndsADurationAfterItWasLastSeenToChange() throws Exception {
    LeaseCoordinator m1 = member("m1");
    m1.join();
    // a member that died on a node whose clock ran an hour ahead (or whose renewTime was edited by hand)
    java.time.ZonedDateTime ahead = java.time.Instant.now().plusSeconds(3600).atZone(java.time.ZoneOffset.UTC);
    client.leases().inNamespace("gitops").resource(new io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder()
        .withNewMetadata().withName(m1.leaseName("m", "m2")).withNamespace("gitops")
        .addToLabels(LeaseCoordinator.CLUSTER_LABEL, "default").addToLabels(LeaseCoordinator.ROLE_LABEL, "member")
        .addToAnnotations(LeaseCoordinator.MEMBER_ANNOTATION, "m2").endMetadata()
        .withNewSpec().withHolderIdentity("m2#dead").withLeaseDurationSeconds(2).withRenewTime(ahead)
        .withAcquireTime(ahead).withLeaseTransitions(1).endSpec().build()).create();
    client.leases().inNamespace("gitops").resource(new io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder()
        .withNewMetadata().withName(m1.leaseName("t", "payments")).withNamespace("gitops")
        .addToLabels(LeaseCoordinator.CLUSTER_LABEL, "default").addToLabels(LeaseCoordinator.ROLE_LABEL, "target")
        .addToAnnotations(LeaseCoordinator.TARGET_ANNOTATION, "payments").endMetadata()
        .withNewSpec().withHolderIdentity("m2#dead").withLeaseDurationSeconds(2).withRenewTime(ahead)
        .withAcquireTime(ahead).withLeaseTransitions(4).endSpec().build()).create();
    assertThat(m1.members()).containsExactly("m1", "m2");
    assertThat(m1.tryAcquire("payments")).isEmpty();
    Thread.sleep(2_200);  // its duration, and nothing renewed it
    assertThat(m1.members()).containsExactly("m1");
    assertThat(m1.owners()).doesNotContainKey("payments");
    assertThat(m1.tryAcquire("payments")).hasValueSatisfying(o -> assertThat(o.token()).isEqualTo(5));
  }

  @Test
  void aMembersRenewalPutsBackTheDurationItsLeaseWasEditedTo() throws Exception {
    LeaseCoordinator m1 = member("m1");
    m1.join();
    String name = m1.leaseName("m", "m1");
    java.time.ZonedDateTime joined = client.leases().inNamespace("gitops").withName(name).get().getSpec().getRenewTime();
    // right after a renewal, so that the edit does not race with the next one (a 409 either way)
    Await.until("a first renewal", () -> !client.leases().inNamespace("gitops").withName(name).get().getSpec()
        .getRenewTime().equals(joined), Duration.ofSeconds(3));
    Lease l = client.leases().inNamespace("gitops").withName(name).get();
    // kubectl edit: an hour, which the others would wait for once m1 dies
    client.leases().inNamespace("gitops").resource(new io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder(l)
        .editSpec().withLeaseDurationSeconds(3600).endSpec().build()).update();
    Await.until("a renewal of m1's Lease", () -> !client.leases().inNamespace("gitops").withName(name).get().getSpec()
        .getRenewTime().equals(l.getSpec().getRenewTime()), Duration.ofSeconds(3));
    assertThat(client.leases().inNamespace("gitops").withName(name).get().getSpec().getLeaseDurationSeconds())
        .isEqualTo(4);
    assertThat(m1.isMember()).isTrue();
  }

  @Test
  void aLiveMemberWhoseClockIsBehindCountsAsLiveOnceSeenRenewedAndTheSkewIsNamed() throws Exception {
    // m1's node runs an hour behind: every renewTime it writes is an hour old by m2's clock
    LeaseCoordinator m1 = LeaseCoordinator.builder(client, "gitops", "m1").ttl(Duration.ofSeconds(4))
        .clock(java.time.Clock.offset(java.time.Clock.systemUTC(), Duration.ofHours(-1))).build();
    opened.add(m1);
    LeaseCoordinator m2 = member("m2");
    m1.join();
    m2.join();
    Ownership o = m1.tryAcquire("t").orElseThrow();
    try (LogLines log = LogLines.of(LeaseCoordinator.class)) {
      // at first sight its renewTime is all m2 has to go by; once m2 sees it renewed, it is live while it is renewed
      Await.until("m2 seeing m1 renewed", () -> m2.members().equals(Set.of("m1", "m2")), Duration.ofSeconds(10));
      assertThat(m2.tryAcquire("t")).isEmpty();
      assertThat(m2.owners()).containsKey("t");
      assertThat(m1.holds(o)).isTrue();
      assertThat(log.lines()).filteredOn(l -> l.startsWith("WARN") && l.contains("clock")).hasSize(1).first()
          .satisfies(l -> assertThat(l).contains("m1").contains("m2"));
    }
  }
}
