package dev.gitops.cluster.k8s;

import dev.gitops.agent.StandInCluster;
import dev.gitops.api.spi.StateStore;
import dev.gitops.testkit.StateStoreContract;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * gitops-testkit's {@link StateStoreContract}, run against the Kubernetes Secret store on fabric8's
 * mock API server in CRUD mode, with the default chunk size; {@code
 * ChunkedSecretStateStoreContractTest} runs it with the smallest.
 */
class SecretStateStoreContractTest extends StateStoreContract {

  static StandInCluster server;
  static LeaseCoordinator coordinator;
  static final AtomicInteger targets = new AtomicInteger();

  @BeforeAll
  static void join() {
    server = StandInCluster.start();
    coordinator = LeaseCoordinator.builder(server.client(), "gitops", "contract").ttl(Duration.ofSeconds(30)).build();
    coordinator.join();
  }

  @AfterAll
  static void leave() {
    coordinator.close();
    server.close();
  }

  /** The chunk size the stores of this run use. */
  protected int chunkBytes() {
    return SecretStateStore.DEFAULT_CHUNK_BYTES;
  }

  /** Another store object on the same Secret, as another process of the same member would open it. */
  @Override
  protected StateStore sameStore(StateStore s) {
    return SecretStateStore.open(coordinator, ((SecretStateStore) s).ownership(), 100, chunkBytes());
  }

  @Override
  protected StateStore newStore(int historyLimit) {
    String target = "target-" + targets.incrementAndGet();
    return SecretStateStore.open(coordinator, coordinator.tryAcquire(target).orElseThrow(), historyLimit,
        chunkBytes());
  }
}
