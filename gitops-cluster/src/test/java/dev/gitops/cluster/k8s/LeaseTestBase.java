package dev.gitops.cluster.k8s;

import dev.gitops.agent.StandInCluster;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** The Lease backend's tests: a fresh stand-in API server (fabric8's, CRUD mode) per test, members in namespace gitops. */
abstract class LeaseTestBase {

  /** Held so the level sticks: the mock web server logs every request through java.util.logging. */
  private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  static {
    MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
  }

  StandInCluster server;
  KubernetesClient client;
  final List<LeaseCoordinator> opened = new ArrayList<>();

  @BeforeEach
  void startServer() {
    server = StandInCluster.start();
    client = server.client();
  }

  @AfterEach
  void stopServer() {
    opened.forEach(LeaseCoordinator::close);
    server.close();
  }

  /** Member {@code id} with a 4 s Lease, not joined yet; closed after the test. */
  LeaseCoordinator member(String id) {
    LeaseCoordinator c = LeaseCoordinator.builder(client, "gitops", id).ttl(Duration.ofSeconds(4)).build();
    opened.add(c);
    return c;
  }

  /** Makes a member's Lease look unrenewed past its duration, as when its process is paused. */
  void pause(String member) {
    Lease l = client.leases().inNamespace("gitops").withLabel(LeaseCoordinator.ROLE_LABEL, "member").list().getItems()
        .stream().filter(x -> member.equals(x.getMetadata().getAnnotations().get(LeaseCoordinator.MEMBER_ANNOTATION)))
        .findFirst().orElseThrow();
    client.leases().inNamespace("gitops").resource(new LeaseBuilder(l).editSpec()
        .withRenewTime(Instant.now().minusSeconds(3600).atZone(ZoneOffset.UTC)).endSpec().build()).update();
  }
}
