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

  /** Marks the store's Secret with the token after {@code o}'s, as a newer owner's lock would. */
  private void newerTokenOnTheSecret(SecretStateStore store, Ownership o) {
    Secret s = client.secrets().inNamespace("gitops").withName(store.secretName()).get();
    client.secrets().inNamespace("gitops").resource(new SecretBuilder(s).editMetadata()
        .addToAnnotations(SecretStateStore.TOKEN_ANNOTATION, Long.toString(o.token() + 1)).endMetadata().build())
        .update();
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
      newerTokenOnTheSecret(store, o);
      assertThatThrownBy(() -> store.commit(file(A, "v1"), "r1")).isInstanceOf(FencedException.class)
          .hasMessageContaining("token " + (o.token() + 1));
    }
    assertThat(store.load().inventory()).isEmpty();
    assertThat(store.load().pending()).containsOnlyKeys(A);
  }

  @Test
  void aConflictingWriteUnderItsOwnTokenNumberByAnotherHolderIsRefusedAsStale() {
    // the Secret rewritten under this writer's token number by another holder (its target Lease made anew at the
    // same count, or taken again under it), after this writer's Lease check passed: its retry must not overwrite it
    LeaseCoordinator m1 = joined("m1");
    Ownership o = m1.tryAcquire("payments").orElseThrow();
    SecretStateStore store = SecretStateStore.open(m1, o);
    try (StoreLock l = store.lock(LOCK)) {
      store.writePending(file(A, "v1"));
      Secret s = client.secrets().inNamespace("gitops").withName(store.secretName()).get();
      client.secrets().inNamespace("gitops").resource(new SecretBuilder(s).editMetadata()
          .addToAnnotations(LeaseCoordinator.MEMBER_ANNOTATION, "m2").endMetadata().build()).update();
      assertThatThrownBy(() -> store.commit(file(A, "stale"), "r1")).isInstanceOf(FencedException.class)
          .hasMessageContaining("m2").hasMessageContaining("token " + o.token());
    }
    assertThat(store.load().inventory()).isEmpty();
    assertThat(client.secrets().inNamespace("gitops").withName(store.secretName()).get().getMetadata()
        .getAnnotations()).containsEntry(LeaseCoordinator.MEMBER_ANNOTATION, "m2");
    // the Lease still says m1's grant is the current one: locking marks the Secret as its own again, so that the
    // other writer's next write conflicts and finds it is not its own
    try (StoreLock l = store.lock(LOCK)) {
      assertThat(client.secrets().inNamespace("gitops").withName(store.secretName()).get().getMetadata()
          .getAnnotations()).containsEntry(LeaseCoordinator.MEMBER_ANNOTATION, "m1");
      store.commit(file(A, "v1"), "r1");
    }
    assertThat(store.load().inventory()).containsKey(A);
  }

  /** The store's Secret rewritten as a build before the grant annotations wrote it: {@code token}, no member or grant time. */
  private void writtenByThePreviousBuild(SecretStateStore store, long token) {
    Secret s = client.secrets().inNamespace("gitops").withName(store.secretName()).get();
    java.util.Map<String, String> a = new java.util.HashMap<>(s.getMetadata().getAnnotations());
    a.remove(LeaseCoordinator.MEMBER_ANNOTATION);
    a.remove(SecretStateStore.ACQUIRED_ANNOTATION);
    a.put(SecretStateStore.TOKEN_ANNOTATION, Long.toString(token));
    client.secrets().inNamespace("gitops").resource(new SecretBuilder(s).editMetadata().withAnnotations(a).endMetadata()
        .build()).update();
  }

  private java.util.Map<String, String> annotations(SecretStateStore store) {
    return client.secrets().inNamespace("gitops").withName(store.secretName()).get().getMetadata().getAnnotations();
  }

  @Test
  void aSecretOfTheBuildBeforeTheGrantAnnotationsIsClaimedByALockAndAConflictWithItIsDecidedByTheLease() {
    // a rolling upgrade: the Secret as the previous build wrote it, its token alone
    LeaseCoordinator m1 = joined("m1");
    Ownership o = m1.tryAcquire("payments").orElseThrow();
    SecretStateStore store = SecretStateStore.open(m1, o);
    try (StoreLock l = store.lock(LOCK)) {
      store.writePending(file(A, "v1"));
    }
    writtenByThePreviousBuild(store, o.token() - 1);
    try (StoreLock l = store.lock(LOCK)) {
      assertThat(annotations(store)).as("claimed for this grant")
          .containsEntry(SecretStateStore.TOKEN_ANNOTATION, Long.toString(o.token()))
          .containsEntry(LeaseCoordinator.MEMBER_ANNOTATION, "m1")
          .containsEntry(SecretStateStore.ACQUIRED_ANNOTATION, o.since().toString());
      // a write of that build at this writer's own number (a grant it cannot name): the Lease says this grant is
      // the current one, so the write that conflicts with it is retried, not refused at every sync
      writtenByThePreviousBuild(store, o.token());
      store.commit(file(A, "v1"), "r1");
    }
    assertThat(store.load().inventory()).containsOnlyKeys(A);
    assertThat(annotations(store)).containsEntry(LeaseCoordinator.MEMBER_ANNOTATION, "m1")
        .containsEntry(SecretStateStore.ACQUIRED_ANNOTATION, o.since().toString());
  }

  @Test
  void aStaleWriterWhoseWriteConflictsWithTheBuildBeforeTheGrantAnnotationsAtItsNumberIsRefusedByTheLease()
      throws Exception {
    // between this writer's Lease check and its write, its target Lease is taken again at the same count (another
    // grant: another acquireTime) and a member of the previous build writes the Secret under that number, naming no
    // writer: the conflicting write must find out by the Lease and write nothing over it
    java.util.concurrent.atomic.AtomicReference<Runnable> beforeSecretUpdate = new java.util.concurrent.atomic.AtomicReference<>();
    io.fabric8.kubernetes.client.KubernetesClient hooked = new io.fabric8.kubernetes.client.KubernetesClientBuilder()
        .withConfig(client.getConfiguration())
        .withHttpClientBuilderConsumer(b -> b.addOrReplaceInterceptor("race", new io.fabric8.kubernetes.client.http.Interceptor() {
          @Override
          public void before(io.fabric8.kubernetes.client.http.BasicBuilder builder,
              io.fabric8.kubernetes.client.http.HttpRequest request, RequestTags tags) {
            if (request.method().equals("PUT") && request.uri().getPath().contains("/secrets/")) {
              Runnable r = beforeSecretUpdate.getAndSet(null);
              if (r != null) {
                r.run();
              }
            }
          }
        })).build();
    try {
      LeaseCoordinator m1 = LeaseCoordinator.builder(hooked, "gitops", "m1").ttl(Duration.ofSeconds(4)).build();
      opened.add(m1);
      m1.join();
      Ownership o = m1.tryAcquire("payments").orElseThrow();
      SecretStateStore store = SecretStateStore.open(m1, o);
      try (StoreLock l = store.lock(LOCK)) {
        store.writePending(file(A, "v1"));
        beforeSecretUpdate.set(() -> {
          Lease lease = client.leases().inNamespace("gitops").withName(m1.leaseName("t", "payments")).get();
          client.leases().inNamespace("gitops").resource(new io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder(
              lease).editSpec().withAcquireTime(lease.getSpec().getAcquireTime().plusSeconds(1)).endSpec().build())
              .update();
          writtenByThePreviousBuild(store, o.token());
        });
        assertThatThrownBy(() -> store.commit(file(A, "stale"), "r1")).isInstanceOf(FencedException.class)
            .hasMessageContaining("m1").hasMessageContaining("token " + o.token())
            .hasMessageContaining("its Lease says so");
        assertThat(beforeSecretUpdate.get()).as("the race ran").isNull();
      }
      assertThat(store.load().inventory()).isEmpty();
      assertThat(store.load().pending()).containsOnlyKeys(A);
      assertThat(annotations(store)).as("nothing written over it")
          .doesNotContainKeys(LeaseCoordinator.MEMBER_ANNOTATION, SecretStateStore.ACQUIRED_ANNOTATION);
    } finally {
      opened.forEach(LeaseCoordinator::close);
      opened.clear();
      hooked.close();
    }
  }

  @Test
  void aTargetLeaseMadeAnewCountsAboveAnEarlierIncarnationsTokenAndItsStoreRefusesThatOne() throws Exception {
    dev.gitops.cluster.MovableClock clock = new dev.gitops.cluster.MovableClock();
    LeaseCoordinator m1 = LeaseCoordinator.builder(client, "gitops", "m1").ttl(Duration.ofSeconds(30)).clock(clock)
        .build();
    opened.add(m1);
    m1.join();
    Ownership old = m1.tryAcquire("payments").orElseThrow();
    SecretStateStore stale = SecretStateStore.open(m1, old);
    try (StoreLock l1 = stale.lock(LOCK)) {  // nothing written yet: the Secret does not exist, nor its token
      clock.advance(Duration.ofSeconds(31));  // paused past its Lease: it joins again as a new incarnation
      m1.join();
      client.leases().inNamespace("gitops").withName(m1.leaseName("t", "payments")).delete();  // kubectl delete
      Ownership current = m1.tryAcquire("payments").orElseThrow();
      assertThat(current.token()).as("above the count it saw, which the store never saw").isGreaterThan(old.token());
      assertThat(m1.holds(old)).isFalse();
      SecretStateStore store = SecretStateStore.open(m1, current);
      try (StoreLock l2 = store.lock(LOCK)) {
        store.commit(file(A, "v2"), "r2");
      }
      assertThatThrownBy(() -> stale.commit(file(A, "stale"), "r1")).isInstanceOf(FencedException.class);
      assertThat(store.load().inventory().get(A).resource()).isEqualTo(file(A, "v2"));
    }
  }

  @Test
  void aTargetLeaseMadeAgainAtTheSameCountForTheSameHolderIsAnotherGrant() {
    // restored by hand (kubectl replace of a saved manifest with the count and holder it had): the number and the
    // holder are the same, the grant is not; the ownership taken before is not the one the Lease records
    LeaseCoordinator m1 = joined("m1");
    Ownership o = m1.tryAcquire("payments").orElseThrow();
    SecretStateStore store = SecretStateStore.open(m1, o);
    try (StoreLock l = store.lock(LOCK)) {
      store.writePending(file(A, "v1"));
      Lease lease = client.leases().inNamespace("gitops").withName(m1.leaseName("t", "payments")).get();
      client.leases().inNamespace("gitops").withName(lease.getMetadata().getName()).delete();
      client.leases().inNamespace("gitops").resource(new io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder()
          .withNewMetadata().withName(lease.getMetadata().getName()).withNamespace("gitops")
          .withLabels(lease.getMetadata().getLabels()).withAnnotations(lease.getMetadata().getAnnotations())
          .endMetadata().withSpec(new io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpecBuilder(lease.getSpec())
              .withAcquireTime(lease.getSpec().getAcquireTime().plusSeconds(1)).build()).build()).create();
      assertThat(m1.holds(o)).isFalse();
      assertThatThrownBy(() -> store.commit(file(A, "v1"), "r1")).isInstanceOf(FencedException.class);
      Ownership again = m1.tryAcquire("payments").orElseThrow();
      assertThat(again.token()).isEqualTo(o.token());
      assertThat(m1.holds(again)).isTrue();
    }
    assertThat(store.load().inventory()).isEmpty();
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

  /**
   * A state edited by hand into JSON that is no store state (gzip intact), and a chunk that no
   * longer matches the digest the Secret names: the lock is still handed out, load() names the
   * Secret and its target, and every write is refused with nothing written over the damage.
   */
  @Test
  void aDamagedStateOrChunkRefusesLoadAndEveryWriteNamingTheSecretAndWritesNothing() throws Exception {
    LeaseCoordinator m1 = joined("m1");
    SecretStateStore plain = SecretStateStore.open(m1, m1.tryAcquire("plain").orElseThrow(), 10, 1024);
    SecretStateStore chunked = SecretStateStore.open(m1, m1.tryAcquire("chunked").orElseThrow(), 10, 1024);
    byte[] noise = new byte[4000];
    new Random(5).nextBytes(noise);
    try (StoreLock l = plain.lock(LOCK); StoreLock l2 = chunked.lock(LOCK)) {
      plain.commit(file(A, "v1"), "r1");
      chunked.commit(file(A, java.util.Base64.getEncoder().encodeToString(noise)), "r1");
    }
    java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(gz)) {
      z.write("{\"format\": 1, \"serial\": 2, \"inventory\": [".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    assertThat(SecretStateStoreContractTest.damage(client, plain, old -> gz.toByteArray())).isTrue();
    assertThat(SecretStateStoreContractTest.damage(client, chunked, old -> old)).isTrue();
    assertThat(annotations(chunked)).as("the chunked store is chunked").containsKey(
        SecretStateStore.GENERATION_ANNOTATION);
    for (SecretStateStore store : List.of(plain, chunked)) {
      String target = store.ownership().target();
      List<Secret> before = client.secrets().inNamespace("gitops").list().getItems();
      SecretStateStore again = SecretStateStore.open(m1, store.ownership(), 10, 1024);
      try (StoreLock l = again.lock(LOCK)) {
        assertThatThrownBy(again::load).as(target).isInstanceOf(dev.gitops.api.StoreCorruptException.class)
            .hasMessageContaining("Secret store gitops/" + store.secretName() + " (target " + target + ")")
            .hasMessageContaining(target.equals("plain") ? "not valid JSON" : "do not match the digest");
        for (org.assertj.core.api.ThrowableAssert.ThrowingCallable write : List.<org.assertj.core.api.ThrowableAssert
            .ThrowingCallable>of(() -> again.commit(file(A, "v2"), "r2"), () -> again.forget(A),
            () -> again.recordRevisions("r3", "r3"), () -> again.claimOwner("team-a"))) {
          assertThatThrownBy(write).as(target).isInstanceOf(dev.gitops.api.StoreCorruptException.class)
              .hasMessageContaining("Secret store gitops/" + store.secretName()).hasMessageContaining("refuses to");
        }
      }
      assertThat(client.secrets().inNamespace("gitops").list().getItems()).as("%s: every Secret as it was", target)
          .isEqualTo(before);
    }
  }

  /**
   * A history entry edited by hand into JSON that is no history entry (the oldest, the one the next
   * append trims past the limit): the lock's read names it, so load() and every write are refused
   * and no Secret changes. Before, only history() read the entries: load() passed, and the append
   * wrote the state again without the damaged entry, never named.
   */
  @Test
  void aDamagedHistoryEntryRefusesLoadAndEveryWriteBeforeAnAppendTrimsIt() throws Exception {
    LeaseCoordinator m1 = joined("m1");
    SecretStateStore store = SecretStateStore.open(m1, m1.tryAcquire("t").orElseThrow(), 3, 1024);
    try (StoreLock l = store.lock(LOCK)) {
      store.commit(file(A, "v1"), "r1");
      for (int i = 1; i <= 3; i++) {
        store.appendHistory(new dev.gitops.api.spi.HistoryEntry("sync-" + i, java.time.Instant.EPOCH, "r1", "p",
            dev.gitops.api.SyncResult.Status.SUCCEEDED, java.util.Map.of(), ""));
      }
    }
    assertThat(editState(store, json -> ((com.fasterxml.jackson.databind.node.ArrayNode) json.get("history")).set(0,
        JsonNodeFactory.instance.objectNode().put("id", 7)))).isTrue();
    List<Secret> before = client.secrets().inNamespace("gitops").list().getItems();
    SecretStateStore again = SecretStateStore.open(m1, store.ownership(), 3, 1024);
    try (StoreLock l = again.lock(LOCK)) {
      assertThatThrownBy(again::load).isInstanceOf(dev.gitops.api.StoreCorruptException.class)
          .hasMessageContaining("Secret store gitops/" + store.secretName() + " (target t), history entry 3");
      for (org.assertj.core.api.ThrowableAssert.ThrowingCallable write : List.<org.assertj.core.api.ThrowableAssert
          .ThrowingCallable>of(() -> again.appendHistory(new dev.gitops.api.spi.HistoryEntry("sync-4",
              java.time.Instant.EPOCH, "r2", "p", dev.gitops.api.SyncResult.Status.SUCCEEDED, java.util.Map.of(), "")),
          () -> again.commit(file(A, "v2"), "r2"))) {
        assertThatThrownBy(write).isInstanceOf(dev.gitops.api.StoreCorruptException.class)
            .hasMessageContaining("refuses to").hasMessageContaining("history entry 3");
      }
    }
    assertThat(client.secrets().inNamespace("gitops").list().getItems()).as("every Secret as it was")
        .isEqualTo(before);
  }

  /** Edits the JSON state of {@code store}'s Secret by hand, its gzip kept whole. */
  private boolean editState(SecretStateStore store,
      java.util.function.Consumer<com.fasterxml.jackson.databind.node.ObjectNode> edit) {
    return SecretStateStoreContractTest.damage(client, store, gz -> {
      try {
        var json = (com.fasterxml.jackson.databind.node.ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(gz)));
        edit.accept(json);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(out)) {
          z.write(json.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        return out.toByteArray();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
  }

  /**
   * The inventory (or pending records) edited to hold one resource twice (its entry copied by hand,
   * with another revision or wave): no store writes that, and read into a map the later entry hid
   * the earlier, which the next write dropped. It is damage naming the key: load() and writes are
   * refused, nothing written.
   */
  @Test
  void aResourceTwiceInTheStateIsDamageNamingItsKey() {
    LeaseCoordinator m1 = joined("m1");
    for (String kind : List.of("inventory", "pending")) {
      SecretStateStore store = SecretStateStore.open(m1, m1.tryAcquire("twice-" + kind).orElseThrow(), 3, 1024);
      try (StoreLock l = store.lock(LOCK)) {
        if (kind.equals("inventory")) {
          store.commit(file(A, "v1"), "r1");
        } else {
          store.writePending(file(A, "v1"));
        }
      }
      // A's entry again, of another revision or wave: one of the two was lost to the map
      assertThat(editState(store, json -> {
        var entries = (com.fasterxml.jackson.databind.node.ArrayNode) json.get(kind);
        entries.add(((com.fasterxml.jackson.databind.node.ObjectNode) entries.get(0).deepCopy())
            .put(kind.equals("inventory") ? "revision" : "wave", kind.equals("inventory") ? "r0" : "7"));
      })).isTrue();
      List<Secret> before = client.secrets().inNamespace("gitops").list().getItems();
      SecretStateStore again = SecretStateStore.open(m1, store.ownership(), 3, 1024);
      try (StoreLock l = again.lock(LOCK)) {
        assertThatThrownBy(again::load).as(kind).isInstanceOf(dev.gitops.api.StoreCorruptException.class)
            .hasMessageContaining("Secret store gitops/" + store.secretName())
            .hasMessageContaining("two " + kind + " entries of " + A);
        assertThatThrownBy(() -> again.commit(file(A, "v2"), "r2")).as(kind)
            .isInstanceOf(dev.gitops.api.StoreCorruptException.class).hasMessageContaining("refuses to");
      }
      assertThat(client.secrets().inNamespace("gitops").list().getItems()).as("%s: every Secret as it was", kind)
          .isEqualTo(before);
    }
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
  void aStaleMembersClaimOfTheStoreIsFencedAndRecordsNoOwner() {
    LeaseCoordinator m1 = joined("m1");
    LeaseCoordinator m2 = joined("m2");
    Ownership o1 = m1.tryAcquire("t").orElseThrow();
    SecretStateStore s1 = SecretStateStore.open(m1, o1);
    try (StoreLock l1 = s1.lock(LOCK)) {
      pause("m1");
      Ownership o2 = m2.tryAcquire("t").orElseThrow();
      assertThatThrownBy(() -> s1.claimOwner("team-a")).isInstanceOf(FencedException.class)
          .hasMessageContaining("m1").hasMessageContaining(Long.toString(o1.token()));
      SecretStateStore s2 = SecretStateStore.open(m2, o2);
      assertThat(s2.owner()).isEmpty();
      try (StoreLock l2 = s2.lock(LOCK)) {
        s2.claimOwner("team-b");
      }
      assertThat(s1.owner()).contains("team-b");
      assertThatThrownBy(() -> s1.claimOwner("team-a")).isInstanceOf(dev.gitops.api.StoreOwnerException.class);
    }
  }

  @Test
  void aClaimIsFencedByTheSecretsNewerTokenEvenWhenItsLeaseLooksCurrent() {
    // the new owner locked the store between this writer's Lease check and its claim
    LeaseCoordinator m1 = joined("m1");
    Ownership o = m1.tryAcquire("payments").orElseThrow();
    SecretStateStore store = SecretStateStore.open(m1, o);
    try (StoreLock l = store.lock(LOCK)) {
      store.writePending(file(A, "v1"));
      newerTokenOnTheSecret(store, o);
      assertThatThrownBy(() -> store.claimOwner("team-a")).isInstanceOf(FencedException.class)
          .hasMessageContaining("token " + (o.token() + 1));
    }
    assertThat(store.owner()).isEmpty();
    assertThat(client.secrets().inNamespace("gitops").withName(store.secretName()).get().getData())
        .doesNotContainKey(SecretStateStore.OWNER_KEY);
  }

  @Test
  void theOwnerMovesWithTheStoreAndSurvivesWritesOfEverySize() {
    LeaseCoordinator m1 = joined("m1");
    LeaseCoordinator m2 = joined("m2");
    Ownership first = m1.tryAcquire("payments").orElseThrow();
    SecretStateStore old = SecretStateStore.open(m1, first, 10, 1024);
    Random random = new Random(7);
    try (StoreLock l = old.lock(LOCK)) {
      old.claimOwner("team-a");
      old.secretKey();
      byte[] noise = new byte[4000];  // past one 1 KiB chunk: the head Secret points at chunk Secrets
      random.nextBytes(noise);
      old.commit(file(A, java.util.Base64.getEncoder().encodeToString(noise)), "r1");
      old.commit(file(A, "small again"), "r2");
    }
    m1.release(first);
    SecretStateStore current = SecretStateStore.open(m2, m2.tryAcquire("payments").orElseThrow(), 10, 1024);
    try (StoreLock l = current.lock(LOCK)) {
      assertThat(current.owner()).contains("team-a");
      current.claimOwner("team-a");
      assertThatThrownBy(() -> current.claimOwner("team-b")).isInstanceOf(dev.gitops.api.StoreOwnerException.class)
          .hasMessageContaining(current.secretName()).hasMessageContaining("'team-a'")
          .hasMessageContaining("'team-b'");
      current.commit(file(A, "v3"), "r3");
    }
    assertThat(current.owner()).contains("team-a");
    assertThat(current.load().inventory().get(A).resource()).isEqualTo(file(A, "v3"));
  }

  @Test
  void membersRacingToClaimANewStoreRecordOneOwner() throws Exception {
    LeaseCoordinator m1 = joined("m1");
    Ownership o = m1.tryAcquire("t").orElseThrow();
    int racers = 4;
    List<SecretStateStore> stores = new ArrayList<>();
    List<StoreLock> locks = new ArrayList<>();
    for (int i = 0; i < racers; i++) {
      SecretStateStore s = SecretStateStore.open(m1, o);  // one store object each, as in processes of their own
      stores.add(s);
      locks.add(s.lock(LOCK));
    }
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(racers);
    try {
      java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
      List<java.util.concurrent.Future<String>> results = new ArrayList<>();
      for (int i = 0; i < racers; i++) {
        SecretStateStore s = stores.get(i);
        String owner = "team-" + i;
        results.add(pool.submit(() -> {
          go.await();
          try {
            s.claimOwner(owner);
            return owner;
          } catch (dev.gitops.api.StoreOwnerException e) {
            return "refused by " + e.recordedOwner();
          }
        }));
      }
      go.countDown();
      List<String> outcomes = new ArrayList<>();
      for (java.util.concurrent.Future<String> f : results) {
        outcomes.add(f.get(30, java.util.concurrent.TimeUnit.SECONDS));
      }
      String recorded = stores.get(0).owner().orElseThrow();
      assertThat(outcomes).containsOnlyOnce(recorded).filteredOn(x -> !x.equals(recorded))
          .hasSize(racers - 1).allMatch(x -> x.equals("refused by " + recorded));
      for (SecretStateStore s : stores) {
        assertThat(s.owner()).contains(recorded);
      }
    } finally {
      pool.shutdownNow();
      locks.forEach(StoreLock::close);
    }
  }

  @Test
  void anUnreadableOwnerIsACorruptStoreNamingTheSecret() {
    LeaseCoordinator m1 = joined("m1");
    SecretStateStore store = SecretStateStore.open(m1, m1.tryAcquire("t").orElseThrow());
    try (StoreLock l = store.lock(LOCK)) {
      store.claimOwner("team-a");
      store.commit(file(A, "v1"), "r1");
    }
    Secret s = client.secrets().inNamespace("gitops").withName(store.secretName()).get();
    for (String bad : List.of("not base64!", java.util.Base64.getEncoder().encodeToString("team-a".getBytes()),
        java.util.Base64.getEncoder().encodeToString("{\"owner\": \" \"}".getBytes()))) {
      s = client.secrets().inNamespace("gitops").resource(new SecretBuilder(s)
          .addToData(SecretStateStore.OWNER_KEY, bad).build()).update();
      assertThatThrownBy(store::owner).as(bad).isInstanceOf(dev.gitops.api.StoreCorruptException.class)
          .hasMessageContaining(store.secretName()).hasMessageContaining(SecretStateStore.OWNER_KEY);
      try (StoreLock l = store.lock(LOCK)) {
        assertThatThrownBy(() -> store.claimOwner("team-a")).as(bad)
            .isInstanceOf(dev.gitops.api.StoreCorruptException.class).hasMessageContaining(store.secretName());
      }
    }
    assertThat(store.load().inventory().get(A).resource()).isEqualTo(file(A, "v1"));
  }

  @Test
  void badSettingsAreRefusedNamingThem() {
    LeaseCoordinator m1 = joined("m1");
    Ownership o = m1.tryAcquire("t").orElseThrow();
    assertThatThrownBy(() -> SecretStateStore.open(m1, o, 0, 4096)).hasMessageContaining("history limit");
    assertThatThrownBy(() -> SecretStateStore.open(m1, o, 10, 2 * 1024 * 1024)).hasMessageContaining("chunk size");
  }

  @Test
  void aTargetLeaseDeletedByHandStartsAgainAboveTheStoresTokenSoItsNextOwnerCanUseTheStore() {
    LeaseCoordinator m1 = joined("m1");
    LeaseCoordinator m2 = joined("m2");
    Ownership first = m1.tryAcquire("payments").orElseThrow();
    m1.release(first);
    first = m1.tryAcquire("payments").orElseThrow();
    m1.release(first);
    Ownership third = m1.tryAcquire("payments").orElseThrow();
    SecretStateStore old = SecretStateStore.open(m1, third);
    try (StoreLock l = old.lock(LOCK)) {
      old.commit(file(A, "v1"), "r1");
    }
    m1.release(third);
    // kubectl delete lease gitops-t-...: the count that was the token is gone with it
    client.leases().inNamespace("gitops").withName(m1.leaseName("t", "payments")).delete();

    Ownership next = m2.tryAcquire("payments").orElseThrow();
    assertThat(next.token()).as("a token above every one the store has seen").isGreaterThan(third.token());
    SecretStateStore store = SecretStateStore.open(m2, next);
    try (StoreLock l = store.lock(LOCK)) {
      assertThat(store.load().inventory().get(A).resource()).isEqualTo(file(A, "v1"));
      store.commit(file(A, "v2"), "r2");
    }
    assertThat(old.load().inventory().get(A).resource()).isEqualTo(file(A, "v2"));
    try (StoreLock l = old.lock(LOCK)) {
      throw new AssertionError("the old ownership locked the store");
    } catch (FencedException expected) {
      assertThat(expected).hasMessageContaining("payments");
    }

    m2.release(next);
    client.leases().inNamespace("gitops").withName(m1.leaseName("t", "payments")).delete();
    Secret s = client.secrets().inNamespace("gitops").withName(store.secretName()).get();
    client.secrets().inNamespace("gitops").resource(new SecretBuilder(s).editMetadata()
        .addToAnnotations(SecretStateStore.TOKEN_ANNOTATION, "x").endMetadata().build()).update();
    assertThatThrownBy(() -> m2.tryAcquire("payments")).hasMessageContaining(store.secretName())
        .hasMessageContaining(SecretStateStore.TOKEN_ANNOTATION).hasMessageContaining("'x'");
  }
}
