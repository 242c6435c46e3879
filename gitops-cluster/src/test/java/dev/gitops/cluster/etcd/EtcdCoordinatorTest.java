package dev.gitops.cluster.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.cluster.Await;
import dev.gitops.cluster.FencedException;
import dev.gitops.cluster.MovableClock;
import dev.gitops.cluster.Ownership;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The etcd backend against a real etcd on loopback. */
class EtcdCoordinatorTest extends EtcdTestBase {

  @Test
  void joinedMembersAreListedAndLeavingRemovesThemAtOnce() throws Exception {
    EtcdCoordinator m1 = member("m1");
    EtcdCoordinator m2 = member("m2");
    m1.join();
    m2.join();
    assertThat(m1.isMember()).isTrue();
    assertThat(m2.members()).containsExactly("m1", "m2");
    Ownership o = m1.tryAcquire("payments").orElseThrow();
    m1.close();
    // m2's views hear of another member's leave through their watch, within its delivery time
    Await.until("m2 seeing m1 leave", () -> m2.members().equals(Set.of("m2")) && m2.owners().isEmpty(),
        Duration.ofSeconds(5));
    assertThat(m2.tryAcquire("payments")).get().extracting(Ownership::token).matches(t -> t > o.token());
  }

  @Test
  void aTargetHasOneOwnerUntilItIsReleased() {
    EtcdCoordinator m1 = member("m1");
    EtcdCoordinator m2 = member("m2");
    m1.join();
    m2.join();
    Ownership first = m1.tryAcquire("a/b").orElseThrow();
    assertThat(m2.tryAcquire("a/b")).isEmpty();
    assertThat(m1.tryAcquire("a/b")).contains(first);
    assertThat(m2.owners()).containsOnlyKeys("a/b");
    assertThat(m2.owners().get("a/b").member()).isEqualTo("m1");
    m1.release(first);
    Ownership second = m2.tryAcquire("a/b").orElseThrow();
    assertThat(second.token()).isGreaterThan(first.token());
    assertThat(m1.holds(first)).isFalse();
    assertThat(m2.holds(second)).isTrue();
  }

  @Test
  void aStaleReleaseReleasesNothing() {
    EtcdCoordinator m1 = member("m1");
    EtcdCoordinator m2 = member("m2");
    m1.join();
    m2.join();
    Ownership old = m1.tryAcquire("t").orElseThrow();
    m1.release(old);
    Ownership now = m2.tryAcquire("t").orElseThrow();
    m1.release(old);
    assertThat(m2.holds(now)).isTrue();
    assertThatThrownBy(() -> m1.checkFence(old)).isInstanceOf(FencedException.class)
        .hasMessageContaining("m1").hasMessageContaining("t").hasMessageContaining(Long.toString(old.token()));
  }

  @Test
  void aLiveMemberWhoseKeyWasDeletedRegistersAgainOnItsLeaseAndKeepsItsTargets() throws Exception {
    EtcdCoordinator m1 = joined("m1");
    EtcdCoordinator m2 = joined("m2");
    Ownership o = m1.tryAcquire("t").orElseThrow();
    call(admin.getKVClient().delete(io.etcd.jetcd.ByteSequence.from(prefix + "members/m1",
        java.nio.charset.StandardCharsets.UTF_8)), "delete");
    Await.until("m2 no longer seeing m1", () -> m2.members().equals(Set.of("m2")), Duration.ofSeconds(5));
    m1.join();
    assertThat(m1.members()).containsExactly("m1", "m2");
    Await.until("m2 seeing m1 again", () -> m2.members().equals(Set.of("m1", "m2")), Duration.ofSeconds(5));
    assertThat(m1.isMember()).isTrue();
    assertThat(m1.holds(o)).as("its ownership, on the same lease").isTrue();
  }

  @Test
  void aJoinWhoseRegistrationFailsRevokesTheLeaseItWasGranted() throws Exception {
    java.util.List<Long> granted = new java.util.concurrent.CopyOnWriteArrayList<>();
    // etcd refusing the member's write (authentication enabled, say) after granting its lease
    io.etcd.jetcd.Client refusing = (io.etcd.jetcd.Client) java.lang.reflect.Proxy.newProxyInstance(
        getClass().getClassLoader(), new Class<?>[] {io.etcd.jetcd.Client.class}, (p, m, args) -> {
          if (m.getName().equals("getKVClient")) {
            return java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {io.etcd.jetcd.KV.class}, (p2, m2, a2) -> {
                  throw new IllegalStateException("etcdserver: user name is empty");
                });
          }
          if (m.getName().equals("getLeaseClient")) {
            io.etcd.jetcd.Lease real = admin.getLeaseClient();
            return java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {io.etcd.jetcd.Lease.class}, (p2, m2, a2) -> {
                  Object out = m2.invoke(real, a2);
                  if (m2.getName().equals("grant")) {
                    return ((java.util.concurrent.CompletableFuture<io.etcd.jetcd.lease.LeaseGrantResponse>) out)
                        .thenApply(r -> {
                          granted.add(r.getID());
                          return r;
                        });
                  }
                  return out;
                });
          }
          return m.invoke(admin, args);
        });
    EtcdCoordinator c = EtcdCoordinator.builder(refusing, "m1").prefix(prefix).ttl(Duration.ofSeconds(30)).build();
    try {
      for (int i = 0; i < 3; i++) {
        assertThatThrownBy(c::join).isInstanceOf(IllegalStateException.class);
      }
      assertThat(granted).hasSize(3);
      for (long lease : granted) {
        assertThat(call(admin.getLeaseClient().timeToLive(lease, io.etcd.jetcd.options.LeaseOption.DEFAULT), "ttl")
            .getTTL()).as("lease %s left behind by a failed join", Long.toHexString(lease)).isEqualTo(-1);
      }
    } finally {
      c.close();
    }
  }

  @Test
  void anEtcdThatWantsAUserIsSaidToBeUnsupported() {
    java.util.concurrent.CompletableFuture<Object> f = java.util.concurrent.CompletableFuture.failedFuture(
        new RuntimeException("io.grpc.StatusRuntimeException: INVALID_ARGUMENT: etcdserver: user name is empty"));
    assertThatThrownBy(() -> EtcdCoordinator.call(f, "grant a lease", Duration.ofSeconds(1), "etcd at http://e:2379"))
        .hasMessageContaining("etcd at http://e:2379 failed to grant a lease")
        .hasMessageContaining("has authentication enabled, which the agent does not support");
  }

  @Test
  void leavingSaysTheLeaseWasRevokedOnlyWhenItWas() throws Exception {
    EtcdCoordinator m1 = joined("m1");
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(EtcdCoordinator.class);
    ch.qos.logback.classic.Level level = logger.getLevel();
    logger.setLevel(ch.qos.logback.classic.Level.INFO);  // the leave is said at INFO
    try (dev.gitops.cluster.LogLines log = dev.gitops.cluster.LogLines.of(EtcdCoordinator.class)) {
      // etcd forgets the lease first: the member's revoke fails ("not found")
      long lease = call(admin.getKVClient().get(io.etcd.jetcd.ByteSequence.from(prefix + "members/m1",
          java.nio.charset.StandardCharsets.UTF_8)), "read").getKvs().get(0).getLease();
      call(admin.getLeaseClient().revoke(lease), "revoke");
      m1.close();
      assertThat(log.lines()).anyMatch(l -> l.startsWith("WARN member m1: revoking lease"))
          .anyMatch(l -> l.startsWith("INFO member m1 left") && l.contains("not revoked"))
          .noneMatch(l -> l.contains(" revoked)"));
    } finally {
      logger.setLevel(level);
    }
  }

  @Test
  void aMemberIdInUseIsRefusedNamingIt() {
    member("m1").join();
    long lease = call(admin.getKVClient().get(EtcdCoordinator.bytes(prefix + "members/m1")), "read").getKvs().get(0)
        .getLease();
    EtcdCoordinator twin = member("m1");
    // both named: the process holding the id (its lease, pid and host) and the one refused
    assertThatThrownBy(twin::join).isInstanceOf(IllegalStateException.class).hasMessageContaining("m1")
        .hasMessageContaining("--member").hasMessageContaining("held by lease " + Long.toHexString(lease) + ", "
            + dev.gitops.cluster.LeaseKeeper.process() + ", since ")
        .hasMessageContaining("this is " + dev.gitops.cluster.LeaseKeeper.process());
    assertThat(twin.isMember()).isFalse();
  }

  @Test
  void aLostLeaseEndsMembershipAndFreesItsTargets() throws Exception {
    EtcdCoordinator m1 = member("m1");
    EtcdCoordinator m2 = member("m2");
    m1.join();
    m2.join();
    Ownership o = m1.tryAcquire("t").orElseThrow();
    expireLeaseOf(m1, o);
    assertThat(m1.holds(o)).isFalse();
    assertThat(m2.tryAcquire("t")).isPresent();
    Await.until("m1 noticing", () -> !m1.isMember(), Duration.ofSeconds(15));
    assertThat(m2.members()).containsExactly("m2");
    m1.join();
    assertThat(m1.isMember()).isTrue();
    Await.until("m2 seeing m1 again", () -> m2.members().equals(Set.of("m1", "m2")), Duration.ofSeconds(5));
  }

  @Test
  void aLeasePastItsTtlByTheMembersClockIsReplacedAtTheNextJoinWithoutWaitingForEtcd() {
    MovableClock clock = new MovableClock();
    EtcdCoordinator m1 = EtcdCoordinator.builder(admin, "m1").prefix(prefix).ttl(Duration.ofSeconds(30)).clock(clock)
        .build();
    try {
      m1.join();
      Ownership old = m1.tryAcquire("t").orElseThrow();
      // paused, or cut off from etcd, past its TTL: etcd may still keep the lease (it does after a restart)
      clock.advance(Duration.ofSeconds(31));
      assertThat(m1.isMember()).isFalse();
      m1.join();
      assertThat(m1.isMember()).as("a live lease after joining").isTrue();
      EtcdCoordinator m2 = joined("m2");
      assertThat(m2.members()).containsExactly("m1", "m2");
      assertThat(m2.owners()).as("the old lease's ownerships, revoked with it").doesNotContainKey("t");
      assertThat(m1.holds(old)).isFalse();
      assertThat(m1.tryAcquire("t")).get().extracting(Ownership::token).matches(t -> t > old.token());
    } finally {
      m1.close();
    }
  }

  @Test
  void aJoinEtcdDoesNotAnswerNamesTheEndpointsButNoCredentialsAndAReadableDuration() throws Exception {
    // a port that takes the connection and never answers, as an etcd that hangs
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        EtcdCoordinator c = EtcdCoordinator.connectBuilder("http://gitops:s3cret@127.0.0.1:" + silent.getLocalPort(), "m1")
            .callTimeout(Duration.ofMillis(1500)).build()) {
      assertThatThrownBy(c::join).isInstanceOf(IllegalStateException.class)
          .hasMessage("etcd at http://127.0.0.1:" + silent.getLocalPort()
              + " did not answer within 1.5 s to grant a lease (127.0.0.1:" + silent.getLocalPort()
              + " takes connections but did not answer as etcd (is it etcd's client port?))");
    }
  }

  @Test
  void anEtcdThatRefusesConnectionsIsWaitedForUntilTheTimeoutUnlessTheCoordinatorIsToldNotTo() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();  // closed again: nothing listens there
    }
    String endpoint = "http://127.0.0.1:" + port;
    try (EtcdCoordinator waits = EtcdCoordinator.connectBuilder(endpoint, "m1").callTimeout(Duration.ofMillis(1500))
        .build()) {
      assertThatThrownBy(waits::members).isInstanceOf(IllegalStateException.class)
          .hasMessageStartingWith("etcd at " + endpoint + " did not answer within 1.5 s to read /gitops/default/members/"
              + " (127.0.0.1:" + port + " refuses connections (");
      assertThatThrownBy(waits::join).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("to grant a lease (127.0.0.1:" + port + " refuses connections");
    }
    try (EtcdCoordinator unknown = EtcdCoordinator.connectBuilder("http://no-such-host.invalid:2379", "m1")
        .callTimeout(Duration.ofMillis(1500)).build()) {
      assertThatThrownBy(unknown::join).isInstanceOf(IllegalStateException.class)
          .hasMessageEndingWith("to grant a lease (host no-such-host.invalid cannot be resolved)");
    }
    // a timeout far above jetcd's own retries of a refused connection: only the refusal can end the call early
    try (EtcdCoordinator failsFast = EtcdCoordinator.connectBuilder(endpoint, "m1").callTimeout(Duration.ofSeconds(30))
        .waitForConnection(false).build()) {
      assertThatThrownBy(failsFast::members).isInstanceOf(IllegalStateException.class)
          .hasMessageStartingWith("etcd at " + endpoint + " failed to read /gitops/default/members/: UNAVAILABLE");
    }
    assertThatThrownBy(() -> EtcdCoordinator.builder(admin, "m1").waitForConnection(false))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("connectBuilder");
  }

  @Test
  void aCallTimeoutBelowATenthOfASecondOrAboveAnHourIsRefusedAndTheDefaultIsTenSeconds() {
    EtcdCoordinator.Builder b = EtcdCoordinator.builder(admin, "m1");
    assertThatThrownBy(() -> b.callTimeout(Duration.ofMillis(99))).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("etcd call timeout must be at least 100 ms and at most 1 h, got PT0.099S");
    assertThatThrownBy(() -> b.callTimeout(Duration.ofSeconds(Long.MAX_VALUE)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at most 1 h");
    assertThatThrownBy(() -> b.callTimeout(null)).isInstanceOf(IllegalArgumentException.class);
    try (EtcdCoordinator c = b.build()) {
      assertThat(c.callTimeout()).isEqualTo(Duration.ofSeconds(10));
    }
    try (EtcdCoordinator c = b.callTimeout(Duration.ofMillis(100)).build()) {
      assertThat(c.callTimeout()).isEqualTo(Duration.ofMillis(100));
    }
  }

  @Test
  void aKeyWhoseNameIsNoEscapedNameIsLeftOutNamedOnceNotFailingEveryRound() throws Exception {
    EtcdCoordinator m1 = joined("m1");
    m1.tryAcquire("payments").orElseThrow();
    // etcdctl put by hand: URLDecoder threw on it ("Illegal hex characters in escape (%) pattern"), in every round
    call(admin.getKVClient().put(EtcdCoordinator.bytes(prefix + "owners/50%off"), EtcdCoordinator.bytes("{}")), "put");
    call(admin.getKVClient().put(EtcdCoordinator.bytes(prefix + "members/%zz"), EtcdCoordinator.bytes("{}")), "put");
    try (dev.gitops.cluster.LogLines log = dev.gitops.cluster.LogLines.of(EtcdCoordinator.class)) {
      Await.until("the watch delivering both keys", () -> {
        m1.owners();
        m1.members();
        return log.lines().size() >= 2;
      }, Duration.ofSeconds(3));
      for (int round = 0; round < 3; round++) {
        assertThat(m1.owners()).containsOnlyKeys("payments");
        assertThat(m1.members()).containsExactly("m1");
      }
      assertThat(log.lines()).filteredOn(l -> l.startsWith("WARN")).containsExactlyInAnyOrder(
          "WARN ownership key " + prefix + "owners/50%off names no target a member writes (URLDecoder: Illegal hex"
              + " characters in escape (%) pattern - Error at index 0 in: \"of\"); it is left out",
          "WARN member key " + prefix + "members/%zz names no member id a member writes (URLDecoder: Illegal hex"
              + " characters in escape (%) pattern - Error at index 0 in: \"zz\"); it is left out");
    }
  }

  @Test
  void aMemberKeyOnNoLeaseIsNoMemberAndIsNamedOnce() throws Exception {
    EtcdCoordinator m1 = joined("m1");
    // etcdctl put by hand: it never expires, and counted as a member its share of the targets ran nowhere for ever
    call(admin.getKVClient().put(EtcdCoordinator.bytes(prefix + "members/ghost"), EtcdCoordinator.bytes("x")), "put");
    try (dev.gitops.cluster.LogLines log = dev.gitops.cluster.LogLines.of(EtcdCoordinator.class)) {
      Await.until("the watch delivering it", () -> {
        m1.members();
        return !log.lines().isEmpty();
      }, Duration.ofSeconds(3));
      for (int round = 0; round < 3; round++) {
        assertThat(m1.members()).containsExactly("m1");
      }
      assertThat(log.lines()).containsExactly("WARN member key " + prefix + "members/ghost is on no lease, so no member"
          + " wrote it (by hand?); it is no member: delete it");
    }
  }

  @Test
  void anOwnershipKeyWithAnUnreadableValueIsWarnedOfOnceNotAtEveryRound() throws Exception {
    EtcdCoordinator m1 = joined("m1");
    io.etcd.jetcd.ByteSequence key = m1.ownerKey("payments");
    call(admin.getKVClient().put(key, EtcdCoordinator.bytes("taken by ops")), "put");  // etcdctl put, by hand
    try (dev.gitops.cluster.LogLines log = dev.gitops.cluster.LogLines.of(EtcdCoordinator.class)) {
      for (int round = 0; round < 5; round++) {
        assertThat(m1.owners().get("payments").member()).isEqualTo("?");
      }
      assertThat(log.lines().stream().filter(l -> l.startsWith("WARN") && l.contains("unreadable value"))).hasSize(1);
      call(admin.getKVClient().put(key, EtcdCoordinator.bytes("still by hand")), "put");  // a new value: said again
      Await.until("the watch delivering it", () -> {
        m1.owners();
        return log.lines().stream().filter(l -> l.startsWith("WARN") && l.contains("unreadable value")).count() == 2;
      }, Duration.ofSeconds(3));
      m1.owners();
      assertThat(log.lines().stream().filter(l -> l.startsWith("WARN") && l.contains("unreadable value"))).hasSize(2);
    }
  }
}
