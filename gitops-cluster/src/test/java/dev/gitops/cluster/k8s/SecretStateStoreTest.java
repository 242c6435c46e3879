package dev.gitops.cluster.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.StoreLock;
import dev.gitops.cluster.FencedException;
import dev.gitops.cluster.Ownership;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The Secret store's fencing and chunking, on fabric8's mock API server in CRUD mode. */
// locks are held for a try block's scope without being referenced in it
@SuppressWarnings("try")
class SecretStateStoreTest extends LeaseTestBase {

  static final Duration LOCK = Duration.ofSeconds(10);
  static final ResourceKey A = ResourceKey.of("files", "file", "", "a.txt");

  LeaseCoordinator joined(String id) {
    LeaseCoordinator c = member(id);
    c.join();
    return c;
  }

  static Resource file(ResourceKey key, String content) {
    return Resource.of(key, JsonNodeFactory.instance.objectNode().put("content", content));
  }

  List<Secret> secrets(String role) {
    return client.secrets().inNamespace("gitops").withLabel(LeaseCoordinator.ROLE_LABEL, role).list().getItems();
  }

  @Test
  void aStaleOwnerWritesNothingOnceTheTargetWasTakenOver() {
    LeaseCoordinator m1 = joined("m1");
    LeaseCoordinator m2 = joined("m2");
    Ownership first = m1.tryAcquire("payments").orElseThrow();
    SecretStateStore old = SecretStateStore.open(m1, first);
    try (StoreLock l1 = old.lock(LOCK)) {
      old.commit(file(A, "v1"), "r1");
      pause("m1");
      Ownership second = m2.tryAcquire("payments").orElseThrow();
      SecretStateStore current = SecretStateStore.open(m2, second);
      try (StoreLock l2 = current.lock(LOCK)) {
        assertThat(current.load().inventory().get(A).resource()).isEqualTo(file(A, "v1"));  // the state moved
        current.commit(file(A, "v2"), "r2");
      }
      assertThatThrownBy(() -> old.commit(file(A, "stale"), "r3")).isInstanceOf(FencedException.class)
          .hasMessageContaining("payments").hasMessageContaining("m1");
      assertThatThrownBy(() -> old.forget(A)).isInstanceOf(FencedException.class);
    }
    assertThat(old.load().inventory().get(A).resource()).isEqualTo(file(A, "v2"));
    assertThatThrownBy(() -> old.lock(LOCK)).isInstanceOf(FencedException.class);
  }

  @Test
  void theSecretsTokenRefusesAnOlderOneEvenWhenItsLeaseLooksCurrent() {
    // a writer whose Lease check passed just before a newer owner claimed the Secret: the
    // resourceVersion it read is gone and the Secret carries a newer token
    LeaseCoordinator m1 = joined("m1");
    Ownership o = m1.tryAcquire("payments").orElseThrow();
    SecretStateStore store = SecretStateStore.open(m1, o);
    try (StoreLock l = store.lock(LOCK)) {
      store.writePending(file(A, "v1"));
      Secret s = client.secrets().inNamespace("gitops").withName(store.secretName()).get();
      client.secrets().inNamespace("gitops").resource(new SecretBuilder(s).editMetadata()
          .addToAnnotations(SecretStateStore.TOKEN_ANNOTATION, Long.toString(o.token() + 1)).endMetadata().build())
          .update();
      assertThatThrownBy(() -> store.commit(file(A, "v1"), "r1")).isInstanceOf(FencedException.class)
          .hasMessageContaining("token " + (o.token() + 1));
    }
    assertThat(store.load().inventory()).isEmpty();
    assertThat(store.load().pending()).containsOnlyKeys(A);
  }

  @Test
  void aLargeStateIsSplitIntoChunksUnderTheObjectLimitAndOldChunksGo() throws Exception {
    LeaseCoordinator m1 = joined("m1");
    SecretStateStore store = SecretStateStore.open(m1, m1.tryAcquire("big").orElseThrow());
    Random random = new Random(16);
    List<Resource> written = new ArrayList<>();
    try (StoreLock l = store.lock(LOCK)) {
      for (int i = 0; i < 12; i++) {
        byte[] noise = new byte[150_000];  // incompressible: 12 × 150 KB is about 2.4 MB even gzipped
        random.nextBytes(noise);
        Resource r = file(A.withName("f" + i), java.util.Base64.getEncoder().encodeToString(noise));
        written.add(r);
        store.commit(r, "r");
      }
    }
    List<Secret> chunks = secrets(SecretStateStore.ROLE_CHUNK);
    assertThat(chunks).hasSizeGreaterThanOrEqualTo(4);
    Secret head = client.secrets().inNamespace("gitops").withName(store.secretName()).get();
    assertThat(chunks).hasSize(Integer.parseInt(head.getMetadata().getAnnotations().get(SecretStateStore.CHUNKS_ANNOTATION)))
        .allMatch(c -> c.getMetadata().getName().contains(head.getMetadata().getAnnotations()
            .get(SecretStateStore.GENERATION_ANNOTATION)));  // only the current generation is left
    for (Secret c : chunks) {
      assertThat(Serialization.jsonMapper().writeValueAsBytes(c).length).isLessThan(1024 * 1024);
    }
    assertThat(Serialization.jsonMapper().writeValueAsBytes(head).length).isLessThan(1024 * 1024);
    assertThat(store.load().inventory().values()).extracting(s -> s.resource()).containsExactlyInAnyOrderElementsOf(written);
  }

  @Test
  void aMissingChunkIsACorruptStoreNamingIt() {
    LeaseCoordinator m1 = joined("m1");
    SecretStateStore store = SecretStateStore.open(m1, m1.tryAcquire("t").orElseThrow(), 10, 1024);
    Random random = new Random(3);
    try (StoreLock l = store.lock(LOCK)) {
      byte[] noise = new byte[4000];
      random.nextBytes(noise);
      store.commit(file(A, java.util.Base64.getEncoder().encodeToString(noise)), "r");
    }
    Secret chunk = secrets(SecretStateStore.ROLE_CHUNK).get(0);
    client.secrets().inNamespace("gitops").withName(chunk.getMetadata().getName()).delete();
    assertThatThrownBy(store::load).isInstanceOf(dev.gitops.api.StoreCorruptException.class)
        .hasMessageContaining(chunk.getMetadata().getName());
  }

  @Test
  void badSettingsAreRefusedNamingThem() {
    LeaseCoordinator m1 = joined("m1");
    Ownership o = m1.tryAcquire("t").orElseThrow();
    assertThatThrownBy(() -> SecretStateStore.open(m1, o, 0, 4096)).hasMessageContaining("history limit");
    assertThatThrownBy(() -> SecretStateStore.open(m1, o, 10, 2 * 1024 * 1024)).hasMessageContaining("chunk size");
  }
}
