package dev.gitops.cluster.etcd;

import dev.gitops.api.spi.StateStore;
import dev.gitops.testkit.StateStoreContract;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * gitops-testkit's {@link StateStoreContract}, run against the etcd store on a real etcd.
 */
class EtcdStateStoreContractTest extends StateStoreContract {

  static EtcdCoordinator coordinator;
  static final AtomicInteger targets = new AtomicInteger();

  @BeforeAll
  static void join() {
    coordinator = EtcdCoordinator.connectBuilder(EtcdServer.shared().endpoint(), "contract")
        .prefix("/contract/" + UUID.randomUUID() + "/").ttl(Duration.ofSeconds(10)).build();
    coordinator.join();
  }

  @AfterAll
  static void leave() {
    coordinator.close();
  }

  @Override
  protected StateStore newStore(int historyLimit) {
    String target = "target-" + targets.incrementAndGet();
    return EtcdStateStore.open(coordinator, coordinator.tryAcquire(target).orElseThrow(), historyLimit);
  }

  @Override
  protected StateStore sameStore(StateStore s) {
    return EtcdStateStore.open(coordinator, ((EtcdStateStore) s).ownership());
  }
}
