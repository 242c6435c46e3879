package dev.gitops.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Documents;
import dev.gitops.api.ManagementPolicy;
import dev.gitops.api.Origin;
import dev.gitops.api.PathPattern;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.StoreLockedException;
import dev.gitops.api.StoreOwnerException;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.HistoryEntry;
import dev.gitops.api.spi.StateStore;
import dev.gitops.api.spi.StoreLock;
import dev.gitops.api.spi.StoredResource;
import dev.gitops.api.spi.StoredState;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The {@link StateStore} contract, run against every implementation. */
// locks are held for a try block's scope without being referenced in it
@SuppressWarnings("try")
abstract class StateStoreContract {

  static final ResourceKey A = ResourceKey.of("files", "file", "", "conf/a.yaml");
  static final ResourceKey B = ResourceKey.of("k8s", "apps/Deployment", "prod", "web");
  static final Duration SHORT = Duration.ofMillis(200);
  static final Duration LONG = Duration.ofSeconds(10);

  private final List<StoreLock> locks = new ArrayList<>();
  private final List<StateStore> stores = new ArrayList<>();

  /** A new, empty store keeping {@code historyLimit} history entries. */
  protected abstract StateStore newStore(int historyLimit);

  protected StateStore store() {
    StateStore s = newStore(5);
    stores.add(s);
    return s;
  }

  /**
   * Another object on the store {@code s} keeps its content in, as another process would open it;
   * {@code s} itself for an implementation that has no such thing (the in-memory store).
   */
  protected StateStore sameStore(StateStore s) {
    return s;
  }

  /** Registers a store object opened by a test for closing. */
  protected StateStore track(StateStore s) {
    stores.add(s);
    return s;
  }

  protected StoreLock lock(StateStore s) {
    StoreLock l = s.lock(LONG);
    locks.add(l);
    return l;
  }

  @AfterEach
  void releaseAll() {
    locks.forEach(StoreLock::close);
    stores.forEach(StateStore::close);
  }

  static JsonNode doc(String json) {
    try {
      return Documents.freeze(StoreCodec.MAPPER.readTree(json));
    } catch (Exception e) {
      throw new IllegalArgumentException(json, e);
    }
  }

  static Resource resource(ResourceKey key, String json) {
    return Resource.of(key, doc(json));
  }

  static Resource richResource() {
    return Resource.builder(B)
        .document(doc("{\"spec\":{\"replicas\":3,\"ratio\":0.25,\"big\":123456789012345678901234567890,"
            + "\"list\":[1,\"two\",null,true,{\"x\":[]}],\"empty\":{}},\"note\":\"ünïcødé \\\"q\\\"\"}"))
        .origin(Origin.of("apps/web.yaml", 12, "main@sha1:0123456789abcdef0123456789abcdef01234567"))
        .dependsOn(A, ResourceKey.of("tf", "managed/aws_s3_bucket", "module.x", "logs[0]"))
        .wave(-2)
        .policy(ManagementPolicy.NO_PRUNE)
        .sensitive(Set.of(PathPattern.of("/data/*"), PathPattern.of("/spec/**/password")))
        .build();
  }

  static HistoryEntry entry(int i) {
    return new HistoryEntry("sync-" + i, Instant.parse("2025-01-01T00:00:00Z").plusSeconds(i), "main@sha1:" + i,
        "plan-" + i, i % 2 == 0 ? SyncResult.Status.SUCCEEDED : SyncResult.Status.FAILED, Map.of("created", i, "deleted", 0), "sync number " + i);
  }

  /**
   * A document past each of Jackson's default bounds for untrusted input: a number of 1,500 digits,
   * a field name of 60,000 characters, arrays nested 1,100 deep, and a decimal no double holds.
   */
  static JsonNode pastJacksonsDefaultBounds() {
    com.fasterxml.jackson.databind.node.ObjectNode o = StoreCodec.MAPPER.createObjectNode();
    o.put("n", new java.math.BigInteger("9".repeat(1_500)));
    o.put("x".repeat(60_000), 1);
    o.put("d", new java.math.BigDecimal("0.10000000000000000000000001"));
    com.fasterxml.jackson.databind.node.ArrayNode deep = o.putArray("deep");
    for (int i = 0; i < 1_100; i++) {
      deep = deep.addArray();
    }
    deep.add("bottom");
    return Documents.freeze(o);
  }

  @Test
  void whatAStoreRecordedItLoadsAgainWhateverItsSizeOrDepth() {
    StateStore s = store();
    lock(s);
    Resource big = Resource.of(A, pastJacksonsDefaultBounds());
    Resource pending = Resource.of(B, pastJacksonsDefaultBounds());
    s.writePending(big);
    s.commit(big, "main@sha1:aa");
    s.writePending(pending);
    StoredState st = track(sameStore(s)).load();
    assertThat(st.inventory().get(A).resource()).isEqualTo(big);
    assertThat(st.inventory().get(A).resource().document().get("d").decimalValue())
        .isEqualTo(new java.math.BigDecimal("0.10000000000000000000000001"));
    assertThat(st.pending().get(B)).isEqualTo(pending);
  }

  @Test
  void newStoreLoadsEmptyAndFresh() {
    StoredState s = store().load();
    assertThat(s.inventory()).isEmpty();
    assertThat(s.pending()).isEmpty();
    assertThat(s.serial()).isZero();
    assertThat(s.fresh()).isTrue();
    assertThat(s.lastAttemptedRevision()).isEmpty();
    assertThat(s.lastAppliedRevision()).isEmpty();
  }

  @Test
  void writePendingRecordsTheDesiredDocumentAndEndsFreshness() {
    StateStore s = store();
    lock(s);
    Resource a = resource(A, "{\"a\":1}");
    s.writePending(a);
    StoredState st = s.load();
    assertThat(st.pending()).containsExactly(Map.entry(A, a));
    assertThat(st.inventory()).isEmpty();
    assertThat(st.fresh()).isFalse();
    assertThat(st.serial()).isEqualTo(1);
  }

  @Test
  void commitRecordsLastAppliedWithSerialAndRevisionAndClearsPending() {
    StateStore s = store();
    lock(s);
    Resource a = resource(A, "{\"a\":1}");
    s.writePending(a);
    StoredResource stored = s.commit(a, "main@sha1:aa");
    StoredState st = s.load();
    assertThat(stored).isEqualTo(new StoredResource(a, 2, "main@sha1:aa"));
    assertThat(st.inventory()).containsExactly(Map.entry(A, stored));
    assertThat(st.pending()).isEmpty();
    assertThat(st.serial()).isEqualTo(2);
  }

  /**
   * Whether this store hands out the very same maps from loads under its lock with no write
   * between (the in-memory and file stores do; a reader then tells them unchanged by identity).
   */
  protected boolean sharesUnchangedMaps() {
    return false;
  }

  @Test
  void loadedMapsAreImmutableAndStayAsTheyWereWhileLaterWritesShowInLaterLoads() {
    StateStore s = store();
    lock(s);
    Resource a = resource(A, "{\"a\":1}");
    s.commit(a, "r1");
    s.writePending(resource(B, "{}"));
    s.load();
    StoredState first = s.load();
    StoredState again = s.load();
    if (sharesUnchangedMaps()) {
      assertThat(again.inventory()).as("a reader tells an unchanged inventory by identity").isSameAs(first.inventory());
      assertThat(again.pending()).isSameAs(first.pending());
    }
    assertThat(again.inventory()).isEqualTo(first.inventory());
    assertThatThrownBy(() -> first.inventory().remove(A)).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> first.pending().clear()).isInstanceOf(UnsupportedOperationException.class);

    s.commit(resource(B, "{\"b\":1}"), "r2");
    StoredState after = s.load();
    assertThat(after.inventory()).isNotSameAs(first.inventory()).containsOnlyKeys(A, B);
    assertThat(after.pending()).isEmpty();
    assertThat(first.inventory()).as("what was handed out before stays as it was").containsOnlyKeys(A);
    assertThat(first.pending()).containsOnlyKeys(B);
    if (sharesUnchangedMaps()) {
      assertThat(s.load().inventory()).isSameAs(after.inventory());
    }
    // a state made from another shares its maps; one made from a map of the caller's copies it
    assertThat(new StoredState(1, after.inventory(), after.pending(), "", "", false).inventory())
        .isSameAs(after.inventory());
    java.util.TreeMap<ResourceKey, StoredResource> own = new java.util.TreeMap<>(after.inventory());
    StoredState copied = new StoredState(1, own, new java.util.TreeMap<>(), "", "", false);
    own.remove(A);
    assertThat(copied.inventory()).containsOnlyKeys(A, B);
  }

  @Test
  void commitKeepsPendingOfOtherKeys() {
    StateStore s = store();
    lock(s);
    s.writePending(resource(A, "{}"));
    s.writePending(resource(B, "{}"));
    s.commit(resource(A, "{}"), "r1");
    assertThat(s.load().pending()).containsOnlyKeys(B);
  }

  @Test
  void keepsMetadataOfResources() {
    StateStore s = store();
    lock(s);
    Resource r = richResource();
    s.writePending(r);
    s.commit(r, "r1");
    StoredState st = s.load();
    assertThat(st.inventory().get(B).resource()).isEqualTo(r);
    assertThat(st.inventory().get(B).resource().policy()).isEqualTo(ManagementPolicy.NO_PRUNE);
    assertThat(st.inventory().get(B).resource().origin()).isEqualTo(r.origin());
  }

  @Test
  void clearPendingKeepsLastApplied() {
    StateStore s = store();
    lock(s);
    Resource old = resource(A, "{\"v\":1}");
    s.commit(old, "r1");
    s.writePending(resource(A, "{\"v\":2}"));
    s.clearPending(A);
    StoredState st = s.load();
    assertThat(st.pending()).isEmpty();
    assertThat(st.inventory().get(A).resource()).isEqualTo(old);
  }

  @Test
  void forgetDropsInventoryAndPending() {
    StateStore s = store();
    lock(s);
    s.commit(resource(A, "{}"), "r1");
    s.commit(resource(B, "{}"), "r1");
    s.writePending(resource(A, "{\"x\":1}"));
    s.forget(A);
    StoredState st = s.load();
    assertThat(st.inventory()).containsOnlyKeys(B);
    assertThat(st.pending()).isEmpty();
  }

  @Test
  void everyMutationIncreasesTheSerialByOne() {
    StateStore s = store();
    lock(s);
    long before = s.load().serial();
    s.writePending(resource(A, "{}"));
    s.commit(resource(A, "{}"), "r");
    s.clearPending(B);
    s.forget(B);
    s.recordRevisions("r", "r");
    s.appendHistory(entry(1));
    assertThat(s.load().serial()).isEqualTo(before + 6);
  }

  @Test
  void recordRevisionsKeepsTheAppliedRevisionWhenNull() {
    StateStore s = store();
    lock(s);
    s.recordRevisions("main@sha1:1", "main@sha1:1");
    s.recordRevisions("main@sha1:2", null);
    StoredState st = s.load();
    assertThat(st.lastAttemptedRevision()).isEqualTo("main@sha1:2");
    assertThat(st.lastAppliedRevision()).isEqualTo("main@sha1:1");
  }

  @Test
  void historyIsNewestFirstAndBoundedByTheLimit() {
    StateStore s = store();
    lock(s);
    for (int i = 1; i <= 8; i++) {
      s.appendHistory(entry(i));
    }
    assertThat(s.history()).containsExactly(entry(8), entry(7), entry(6), entry(5), entry(4));
  }

  /**
   * Each entry's operation is kept, also as another process reads the store: a forget or a destroy
   * read back as a sync would be a rollback target. The entries' other fields are a sync's, so only
   * the operation the store kept can tell them apart.
   */
  @Test
  void historyKeepsEachEntrysOperation() {
    StateStore s = store();
    lock(s);
    for (HistoryEntry.Operation op : HistoryEntry.Operation.values()) {
      s.appendHistory(new HistoryEntry("h-" + op, Instant.parse("2025-01-01T00:00:00Z"), "main@sha1:1", "plan-1",
          SyncResult.Status.SUCCEEDED, Map.of("UNCHANGED", 1), "0 to create, 1 unchanged", "team-a", op));
    }
    assertThat(track(sameStore(s)).history()).extracting(HistoryEntry::operation).containsExactly(
        HistoryEntry.Operation.DESTROY_ORPHAN, HistoryEntry.Operation.DESTROY, HistoryEntry.Operation.FORGET,
        HistoryEntry.Operation.SYNC);
    assertThat(s.history().get(0)).isEqualTo(new HistoryEntry("h-DESTROY_ORPHAN", Instant.parse("2025-01-01T00:00:00Z"),
        "main@sha1:1", "plan-1", SyncResult.Status.SUCCEEDED, Map.of("UNCHANGED", 1), "0 to create, 1 unchanged",
        "team-a", HistoryEntry.Operation.DESTROY_ORPHAN));
  }

  @Test
  void mutationsWithoutTheLockAreRefused() {
    StateStore s = store();
    assertThatThrownBy(() -> s.writePending(resource(A, "{}"))).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("lock");
    assertThatThrownBy(() -> s.commit(resource(A, "{}"), "r")).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> s.forget(A)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> s.clearPending(A)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> s.recordRevisions("r", null)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> s.appendHistory(entry(1))).isInstanceOf(IllegalStateException.class);
    assertThat(s.load().serial()).isZero();
  }

  @Test
  void mutationsAfterTheLockIsReleasedAreRefused() {
    StateStore s = store();
    try (StoreLock l = s.lock(LONG)) {
      s.writePending(resource(A, "{}"));
    }
    assertThatThrownBy(() -> s.clearPending(A)).isInstanceOf(IllegalStateException.class);
    assertThat(s.load().pending()).containsOnlyKeys(A);
  }

  @Test
  void aSecondLockFromAnotherThreadTimesOut() throws Exception {
    StateStore s = store();
    lock(s);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<?> f = pool.submit(() -> s.lock(SHORT));
      assertThatThrownBy(f::get).hasCauseInstanceOf(StoreLockedException.class);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void theLockIsNotReentrant() {
    StateStore s = store();
    lock(s);
    assertThatThrownBy(() -> s.lock(SHORT)).isInstanceOf(StoreLockedException.class);
  }

  @Test
  void aReleasedLockCanBeTakenByAnotherThread() throws Exception {
    StateStore s = store();
    s.lock(LONG).close();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<Long> f = pool.submit(() -> {
        try (StoreLock l = s.lock(SHORT)) {
          s.recordRevisions("r", null);
          return s.load().serial();
        }
      });
      assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void closingALockTwiceReleasesItOnce() {
    StateStore s = store();
    StoreLock l = s.lock(LONG);
    l.close();
    l.close();
    lock(s);
    assertThatThrownBy(() -> s.lock(SHORT)).isInstanceOf(StoreLockedException.class);
  }

  @Test
  void workerThreadsMayWriteWhileTheLockIsHeld() throws Exception {
    StateStore s = store();
    lock(s);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<StoredResource>> futures = new ArrayList<>();
    try {
      for (int i = 0; i < 20; i++) {
        Resource r = resource(A.withName("f" + i), "{\"i\":" + i + "}");
        futures.add(pool.submit(() -> {
          s.writePending(r);
          return s.commit(r, "r");
        }));
      }
      List<Long> serials = new ArrayList<>();
      for (Future<StoredResource> f : futures) {
        serials.add(f.get(60, TimeUnit.SECONDS).serial());
      }
      assertThat(serials).doesNotHaveDuplicates();
    } finally {
      pool.shutdownNow();
    }
    StoredState st = s.load();
    assertThat(st.inventory()).hasSize(20);
    assertThat(st.pending()).isEmpty();
    assertThat(st.serial()).isEqualTo(40);
  }

  @Test
  void negativeLockTimeoutIsRejected() {
    assertThatThrownBy(() -> store().lock(Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void secretKeyIsThirtyTwoStableBytes() {
    StateStore s = store();
    byte[] first = s.secretKey();
    assertThat(first).hasSize(32);
    first[0] ^= 1;
    assertThat(s.secretKey()).hasSize(32).isNotEqualTo(first);
    first[0] ^= 1;
    assertThat(s.secretKey()).isEqualTo(first);
    assertThat(store().secretKey()).isNotEqualTo(first);
  }

  @Test
  void loadedDocumentsAreFrozen() {
    StateStore s = store();
    lock(s);
    s.commit(resource(A, "{\"a\":{\"b\":1}}"), "r");
    JsonNode d = s.load().inventory().get(A).resource().document();
    assertThatThrownBy(() -> ((ObjectNode) d).put("c", 1)).isInstanceOf(UnsupportedOperationException.class);
    assertThat(Documents.isFrozen(d)).isTrue();
  }

  @Test
  void theFirstClaimRecordsTheOwnerForEveryObjectOfTheStore() {
    StateStore s = store();
    assertThat(s.owner()).isEmpty();
    try (StoreLock l = s.lock(LONG)) {
      s.claimOwner("team-a");
      s.claimOwner("team-a");   // the same owner again: nothing to do
      s.commit(resource(A, "{\"a\":1}"), "r1");
    }
    StateStore other = track(sameStore(s));
    assertThat(other.owner()).contains("team-a");
    assertThat(s.owner()).contains("team-a");
  }

  @Test
  void anotherOwnersClaimIsRefusedNamingBothAndChangesNothing() {
    StateStore s = store();
    try (StoreLock l = s.lock(LONG)) {
      s.claimOwner("team-a");
      s.commit(resource(A, "{\"a\":1}"), "r1");
      s.recordRevisions("r1", "r1");
    }
    StateStore other = track(sameStore(s));
    try (StoreLock l = other.lock(LONG)) {
      StoredState before = other.load();
      assertThatThrownBy(() -> other.claimOwner("team-b")).isInstanceOf(StoreOwnerException.class)
          .hasMessageContaining("'team-a'").hasMessageContaining("'team-b'")
          .satisfies(e -> {
            StoreOwnerException o = (StoreOwnerException) e;
            assertThat(o.recordedOwner()).isEqualTo("team-a");
            assertThat(o.requestedOwner()).isEqualTo("team-b");
            assertThat(e.getMessage()).contains(o.store());
          });
      StoredState after = other.load();
      assertThat(after.serial()).isEqualTo(before.serial());
      assertThat(after.inventory()).isEqualTo(before.inventory());
      assertThat(after.lastAppliedRevision()).isEqualTo("r1");
    }
    assertThat(s.owner()).contains("team-a");
  }

  @Test
  void claimingNeedsTheLock() {
    StateStore s = store();
    assertThatThrownBy(() -> s.claimOwner("team-a")).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("lock");
    assertThat(s.owner()).isEmpty();
  }
}
