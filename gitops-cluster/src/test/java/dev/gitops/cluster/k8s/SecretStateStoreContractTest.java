package dev.gitops.cluster.k8s;

import dev.gitops.agent.StandInCluster;
import dev.gitops.api.spi.StateStore;
import dev.gitops.testkit.StateStoreContract;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
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

  /**
   * A truncated write: the target's Secret's gzipped state cut in the middle or, when the state is
   * in chunk Secrets, the first chunk made anew (they are immutable) with its second half zeroed,
   * so that it no longer matches the digest the Secret names.
   */
  @Override
  protected boolean corrupt(StateStore s) {
    return damage(server.client(), (SecretStateStore) s, gz -> Arrays.copyOf(gz, gz.length / 2));
  }

  /** {@code damage} applied to the stored (gzipped) state bytes of {@code store}'s Secret, or to its first chunk's. */
  static boolean damage(KubernetesClient client, SecretStateStore store, UnaryOperator<byte[]> damage) {
    var secrets = client.secrets().inNamespace("gitops");
    Secret head = secrets.withName(store.secretName()).get();
    if (head == null) {
      return false;
    }
    String generation = head.getMetadata().getAnnotations().get(SecretStateStore.GENERATION_ANNOTATION);
    if (generation == null) {
      byte[] gz = Base64.getDecoder().decode(head.getData().get("state"));
      secrets.resource(new SecretBuilder(head).addToData("state", Base64.getEncoder().encodeToString(damage.apply(gz)))
          .build()).update();
      return true;
    }
    String first = store.secretName() + "-" + generation + "-0";
    Secret chunk = secrets.withName(first).get();
    byte[] part = Base64.getDecoder().decode(chunk.getData().get("part"));
    byte[] zeroed = part.clone();
    Arrays.fill(zeroed, zeroed.length / 2, zeroed.length, (byte) 0);
    secrets.withName(first).withGracePeriod(0).delete();
    secrets.resource(new SecretBuilder(chunk).editMetadata().withResourceVersion(null).withUid(null).endMetadata()
        .addToData("part", Base64.getEncoder().encodeToString(zeroed)).build()).create();
    return true;
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
