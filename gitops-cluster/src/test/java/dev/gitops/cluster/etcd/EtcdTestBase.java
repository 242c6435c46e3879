package dev.gitops.cluster.etcd;

import dev.gitops.cluster.Ownership;
import io.etcd.jetcd.Client;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/** Members on the JVM's real etcd, each test under a key prefix of its own, all leaving after it. */
abstract class EtcdTestBase {

  static Client admin;
  final String prefix = "/test/" + UUID.randomUUID() + "/";
  private final List<EtcdCoordinator> opened = new ArrayList<>();

  @BeforeAll
  static void connect() {
    admin = Client.builder().endpoints(EtcdServer.shared().endpoint()).build();
  }

  @AfterAll
  static void disconnect() {
    admin.close();
  }

  @AfterEach
  void leave() {
    opened.forEach(EtcdCoordinator::close);
  }

  /** Member {@code id} with a 3 s lease, not joined yet. */
  EtcdCoordinator member(String id) {
    EtcdCoordinator c = EtcdCoordinator.builder(admin, id).prefix(prefix).ttl(Duration.ofSeconds(3)).build();
    opened.add(c);
    return c;
  }

  /** Member {@code id}, joined. */
  EtcdCoordinator joined(String id) {
    EtcdCoordinator c = member(id);
    c.join();
    return c;
  }

  /** Revokes a member's lease from outside, as etcd does when it expires while the member is paused. */
  static void expireLeaseOf(EtcdCoordinator c, Ownership o) {
    long lease = call(admin.getKVClient().get(c.ownerKey(o.target())), "read").getKvs().get(0).getLease();
    call(admin.getLeaseClient().revoke(lease), "revoke");
  }

  /** Waits for a call of the test's own client as long as a member waits by default. */
  static <T> T call(CompletableFuture<T> f, String what) {
    return EtcdCoordinator.call(f, what, EtcdCoordinator.CALL_TIMEOUT, "etcd");
  }
}
