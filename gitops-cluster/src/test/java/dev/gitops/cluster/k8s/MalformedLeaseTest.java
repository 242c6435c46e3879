package dev.gitops.cluster.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.spi.StoreLock;
import dev.gitops.cluster.Await;
import dev.gitops.cluster.FencedException;
import dev.gitops.cluster.LogLines;
import dev.gitops.cluster.Ownership;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpec;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpecBuilder;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Leases edited by hand into shapes no member writes ({@code kubectl edit} removing the spec or a
 * field of it, or a negative number): they are read as what they safely are, warned of once per
 * problem, and the member's calls go on.
 */
// locks are held for a try block's scope without being referenced in it
@SuppressWarnings("try")
class MalformedLeaseTest extends LeaseTestBase {

  private Lease lease(String name) {
    return client.leases().inNamespace("gitops").withName(name).get();
  }

  private void edit(String name, UnaryOperator<LeaseSpec> spec) {
    Lease l = lease(name);
    client.leases().inNamespace("gitops").resource(new LeaseBuilder(l).withSpec(spec.apply(l.getSpec())).build())
        .update();
  }

  private static List<String> warningsNaming(LogLines log, String lease) {
    return log.lines().stream().filter(l -> l.startsWith("WARN") && l.contains("gitops/" + lease)).toList();
  }

  @Test
  void aMemberLeaseWithoutAValidSpecIsNoLiveMemberAndEachProblemIsWarnedOfOnce() throws Exception {
    LeaseCoordinator m1 = member("m1");
    m1.join();
    String m2 = m1.leaseName("m", "m2");
    ZonedDateTime now = Instant.now().atZone(ZoneOffset.UTC);
    client.leases().inNamespace("gitops").resource(new LeaseBuilder().withNewMetadata().withName(m2)
        .withNamespace("gitops").addToLabels(LeaseCoordinator.CLUSTER_LABEL, "default")
        .addToLabels(LeaseCoordinator.ROLE_LABEL, "member").addToAnnotations(LeaseCoordinator.MEMBER_ANNOTATION, "m2")
        .endMetadata().withNewSpec().withHolderIdentity("m2#1").withLeaseDurationSeconds(60).withRenewTime(now)
        .withAcquireTime(now).withLeaseTransitions(1).endSpec().build()).create();
    assertThat(m1.members()).containsExactly("m1", "m2");
    LeaseSpec valid = lease(m2).getSpec();
    Map<String, LeaseSpec> broken = new LinkedHashMap<>();
    broken.put("no spec", null);
    broken.put("holderIdentity", new LeaseSpecBuilder(valid).withHolderIdentity(null).build());
    broken.put("renewTime", new LeaseSpecBuilder(valid).withRenewTime(null).build());
    broken.put("leaseDurationSeconds", new LeaseSpecBuilder(valid).withLeaseDurationSeconds(null).build());
    broken.put("-5", new LeaseSpecBuilder(valid).withLeaseDurationSeconds(-5).build());
    try (LogLines log = LogLines.of(LeaseCoordinator.class)) {
      for (Map.Entry<String, LeaseSpec> b : broken.entrySet()) {
        edit(m2, s -> b.getValue());
        for (int round = 0; round < 3; round++) {
          // what a member's round asks; the cache shows the edit a moment later (another writer's change)
          Await.until("m1 no longer counting m2 (" + b.getKey() + ")", () -> m1.members().equals(
              java.util.Set.of("m1")), Duration.ofSeconds(2));
          assertThat(m1.owners().values()).allMatch(o -> o.member().equals("m1"));
          assertThat(m1.tryAcquire("t" + round)).isPresent();
        }
        // m1 counted m2 out already for the edit before: the cache may show this edit a moment after the rounds
        Await.until("the warning of " + b.getKey(), () -> {
          m1.members();  // a round reads the Lease, as the cache shows it now
          List<String> warned = warningsNaming(log, m2);
          return !warned.isEmpty() && warned.get(warned.size() - 1).contains(b.getKey());
        }, Duration.ofSeconds(2));
      }
      assertThat(warningsNaming(log, m2)).as("one warning per problem, not one per round").hasSize(broken.size());
    }
    // put right by hand: a live member again
    edit(m2, s -> valid);
    Await.until("m2 live again", () -> m1.members().equals(java.util.Set.of("m1", "m2")), Duration.ofSeconds(2));
  }

  @Test
  void aMembersOwnLeaseStrippedOfItsSpecIsLostAtTheNextRenewalAndTakenAgainByTheJoin() throws Exception {
    LeaseCoordinator m1 = LeaseCoordinator.builder(client, "gitops", "m1").ttl(Duration.ofSeconds(2)).build();
    opened.add(m1);
    m1.join();
    String name = m1.leaseName("m", "m1");
    try (LogLines log = LogLines.of(dev.gitops.cluster.LeaseKeeper.class)) {
      edit(name, s -> null);
      // renewed every third of 2 s: the next renewal finds no holder (not a renewal failing until the TTL ends)
      Await.until("m1 noticing its Lease lost its spec", () -> !m1.isMember(), Duration.ofMillis(1500));
      assertThat(log.lines()).anyMatch(l -> l.contains("no spec"));
    }
    m1.join();
    assertThat(m1.isMember()).isTrue();
    assertThat(lease(name).getSpec().getHolderIdentity()).startsWith("m1#");
    assertThat(lease(name).getSpec().getLeaseDurationSeconds()).isEqualTo(2);
    assertThat(m1.members()).containsExactly("m1");
  }

  @Test
  void aLiveMemberWhoseLeaseLostItsSpecTakesItAgainWhenItJoins() throws Exception {
    // what a member's round does when it is missing from the members although its lease is live: it joins; with a
    // 30 s Lease no renewal comes in between to notice first
    LeaseCoordinator m1 = LeaseCoordinator.builder(client, "gitops", "m1").ttl(Duration.ofSeconds(30)).build();
    opened.add(m1);
    m1.join();
    String name = m1.leaseName("m", "m1");
    String before = lease(name).getSpec().getHolderIdentity();
    edit(name, s -> null);
    Await.until("m1 missing from the members", () -> m1.members().isEmpty(), Duration.ofSeconds(2));
    m1.join();
    assertThat(m1.isMember()).isTrue();
    assertThat(lease(name).getSpec().getHolderIdentity()).startsWith("m1#").isNotEqualTo(before);
    assertThat(m1.members()).containsExactly("m1");
  }

  @Test
  void aTargetLeaseWithoutAValidSpecIsUnheldAndItsTokenNeverGoesBack() throws Exception {
    LeaseCoordinator m1 = member("m1");
    LeaseCoordinator m2 = member("m2");
    m1.join();
    m2.join();
    Ownership o = m1.tryAcquire("payments").orElseThrow();
    m1.release(o);
    o = m1.tryAcquire("payments").orElseThrow();
    SecretStateStore store = SecretStateStore.open(m1, o);
    try (StoreLock l = store.lock(SecretStateStoreTest.LOCK)) {
      store.commit(SecretStateStoreTest.file(SecretStateStoreTest.A, "v1"), "r1");  // the Secret carries o's token
    }
    String name = m1.leaseName("t", "payments");
    long last = o.token();
    try (LogLines log = LogLines.of(LeaseCoordinator.class)) {
      for (UnaryOperator<LeaseSpec> broken : List.<UnaryOperator<LeaseSpec>>of(s -> null,
          s -> new LeaseSpecBuilder(s).withLeaseTransitions(null).build(),
          s -> new LeaseSpecBuilder(s).withLeaseTransitions(-7).build(),
          s -> new LeaseSpecBuilder(s).withLeaseTransitions(0).withHolderIdentity(null).build(),
          // the largest count there is: its take went one above, to a negative count, and a token of 0
          s -> new LeaseSpecBuilder(s).withLeaseTransitions(Integer.MAX_VALUE).build())) {
        Ownership held = o;  // m1's at first, then m2's: held until the edit
        LeaseCoordinator holder = held.member().equals("m1") ? m1 : m2;
        edit(name, broken);
        Await.until("the owners without payments", () -> !m1.owners().containsKey("payments")
            && !m2.owners().containsKey("payments"), Duration.ofSeconds(2));
        assertThat(m1.holds(held)).isFalse();
        assertThat(holder.holds(held)).isFalse();
        assertThatThrownBy(() -> holder.checkFence(held)).isInstanceOf(FencedException.class);
        holder.release(held);  // already lost: nothing to release, nothing thrown
        o = m2.tryAcquire("payments").orElseThrow();
        assertThat(o.token()).as("a token above every one before").isGreaterThan(last);
        last = o.token();
        assertThat(m2.holds(o)).isTrue();
        if (held.member().equals("m1")) {
          SecretStateStore next = SecretStateStore.open(m2, o);  // the token is one its store takes
          try (StoreLock l = next.lock(SecretStateStoreTest.LOCK)) {
            assertThat(next.load().inventory()).containsKey(SecretStateStoreTest.A);
            next.commit(SecretStateStoreTest.file(SecretStateStoreTest.A, "v2"), "r2");
          }
        }
      }
      // one per problem and member (the one that took it with a token above the store's: m2)
      assertThat(warningsNaming(log, name)).filteredOn(w -> w.contains("member m2:")).hasSize(5)
          .allMatch(w -> w.contains("(target payments)"));
    }
    edit(name, s -> null);
    m1.close();  // leaving reads every target Lease: a malformed one is no reason to fail
    m2.close();
    assertThat(lease(m2.leaseName("m", "m2"))).isNull();
  }
}
