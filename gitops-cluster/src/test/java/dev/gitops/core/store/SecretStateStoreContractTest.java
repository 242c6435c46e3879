package dev.gitops.core.store;

import dev.gitops.api.spi.StateStore;
import dev.gitops.cluster.k8s.LeaseCoordinator;
import dev.gitops.cluster.k8s.SecretStateStore;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.InetAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * gitops-core's {@link StateStoreContract}, run against the Kubernetes Secret store on fabric8's
 * mock API server in CRUD mode (this class sits in the contract's package to extend it; it belongs
 * to gitops-cluster's tests). {@link #chunkBytes()} is the smallest chunk, so that the larger
 * states of the contract are split into chunk Secrets too.
 */
class SecretStateStoreContractTest extends StateStoreContract {

  /** Held so the level sticks: the mock web server logs every request through java.util.logging. */
  private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  static {
    MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
  }

  static KubernetesMockServer server;
  static KubernetesClient client;
  static LeaseCoordinator coordinator;
  static final AtomicInteger targets = new AtomicInteger();

  @BeforeAll
  static void join() {
    server = new KubernetesMockServer(new Context(Serialization.jsonMapper()), new MockWebServer(), new HashMap<>(),
        new KubernetesCrudDispatcher(), false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    client = server.createClient();
    coordinator = LeaseCoordinator.builder(client, "gitops", "contract").ttl(Duration.ofSeconds(30)).build();
    coordinator.join();
  }

  @AfterAll
  static void leave() {
    coordinator.close();
    client.close();
    server.destroy();
  }

  /** The chunk size the stores of this run use. */
  protected int chunkBytes() {
    return 1024;
  }

  @Override
  protected StateStore newStore(int historyLimit) {
    String target = "target-" + targets.incrementAndGet();
    return SecretStateStore.open(coordinator, coordinator.tryAcquire(target).orElseThrow(), historyLimit,
        chunkBytes());
  }
}
