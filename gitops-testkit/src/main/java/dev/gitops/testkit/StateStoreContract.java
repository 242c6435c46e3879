package dev.gitops.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Documents;
import dev.gitops.api.ManagementPolicy;
import dev.gitops.api.Origin;
import dev.gitops.api.PathPattern;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.StoreLockedException;
import dev.gitops.api.StoreCorruptException;
import dev.gitops.api.StoreOwnerException;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.HistoryEntry;
import dev.gitops.api.spi.StateStore;
import dev.gitops.api.spi.StoreLock;
import dev.gitops.api.spi.StoredResource;
import dev.gitops.api.spi.StoredState;
import dev.gitops.core.store.BatchedStateStore;
import dev.gitops.core.store.StoreBatch;
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

/**
 * The {@link StateStore} contract as JUnit 5 tests, run against every store of the project (the
 * file and in-memory stores, gitops-cluster's etcd and Secret stores). Extend it with a new, empty
 * store of your own, and every test runs against it:
 *
 * <pre>{@code
 * class MyStoreContractTest extends StateStoreContract {
 *   protected StateStore newStore(int historyLimit) {
 *     return new InMemoryStateStore(historyLimit);  // your store, empty, keeping historyLimit entries
 *   }
 * }
 * }</pre>
 *
 * <p>What is checked: a new store loads empty and fresh; pending records and last-applied records
 * (with every field of a resource, a document past Jackson's default bounds included) load back
 * as written, by another object on the same store too ({@link #sameStore}); every mutation raises
 * the serial by one; commit clears the key's pending record only, {@code clearPending} keeps
 * last-applied, {@code forget} drops both; revisions; the history, newest first, bounded, every
 * field of an entry kept, by another object on the store too; loaded maps are immutable
 * snapshots and documents frozen; the lock (exclusive, not reentrant, refused writes without it,
 * worker threads writing under it); the secret key; the owner claim; a store whose data is damaged
 * ({@link #corrupt}) refuses to load and to write, with a {@link StoreCorruptException}, a write
 * before any load included; a store whose {@link StateStore#checkWritable} passes can be written,
 * and one that checks ahead refuses the check once a load found it damaged; and for a
 * {@link BatchedStateStore}, a batch lands whole, with its in-sync proofs where the store keeps them.
 */
// locks are held for a try block's scope without being referenced in it
@SuppressWarnings("try")
public abstract class StateStoreContract {

  /** A key of the files provider, the one most tests write. */
  protected static final ResourceKey A = ResourceKey.of("files", "file", "", "conf/a.yaml");
  /** A key with a scope, of another provider. */
  protected static final ResourceKey B = ResourceKey.of("k8s", "apps/Deployment", "prod", "web");
  /** How long a test waits for a lock it must not get. */
  protected static final Duration SHORT = Duration.ofMillis(200);
  /** How long a test waits for a lock it must get. */
  protected static final Duration LONG = Duration.ofSeconds(10);

  /** Reads the contract's documents: exact decimals, as a store must keep them. */
  private static final ObjectMapper JSON = JsonMapper.builder().nodeFactory(Documents.nodes())
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();

  /** Creates the contract; subclasses supply the store. */
  protected StateStoreContract() {}

  private final List<StoreLock> locks = new ArrayList<>();
  private final List<StateStore> stores = new ArrayList<>();

  /** A new, empty store keeping {@code historyLimit} history entries. */
  protected abstract StateStore newStore(int historyLimit);

  /** A new store of the running test, closed after it. */
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

  /** Takes {@code s}'s lock for the rest of the running test. */
  protected StoreLock lock(StateStore s) {
    StoreLock l = s.lock(LONG);
    locks.add(l);
    return l;
  }

  /** Releases the locks and closes the stores of the test. */
  @AfterEach
  public void releaseAll() {
    locks.forEach(StoreLock::close);
    stores.forEach(StateStore::close);
  }

  /** The frozen document of {@code json}. */
  protected static JsonNode doc(String json) {
    try {
      return Documents.freeze(JSON.readTree(json));
    } catch (Exception e) {
      throw new IllegalArgumentException(json, e);
    }
  }

  /** A resource of {@code key} with the document {@code json}. */
  protected static Resource resource(ResourceKey key, String json) {
    return Resource.of(key, doc(json));
  }

  /** A resource with every field set: origin, dependencies, wave, policy, sensitive paths, and odd numbers and text. */
  protected static Resource richResource() {
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

  /** The {@code i}th history entry of a test. */
  protected static HistoryEntry entry(int i) {
    return new HistoryEntry("sync-" + i, Instant.parse("2025-01-01T00:00:00Z").plusSeconds(i), "main@sha1:" + i,
        "plan-" + i, i % 2 == 0 ? SyncResult.Status.SUCCEEDED : SyncResult.Status.FAILED, Map.of("created", i, "deleted", 0), "sync number " + i,
        i % 3 == 0 ? "" : "team-" + i);
  }

  /**
   * A document past each of Jackson's default bounds for untrusted input: a number of 1,500 digits,
   * a field name of 60,000 characters, arrays nested as deep as the engine takes ({@link
   * Documents#MAX_DEPTH} levels, past Jackson's default 1,000 once a store writes its own levels
   * around the document), and a decimal no double holds.
   */
  protected static JsonNode pastJacksonsDefaultBounds() {
    com.fasterxml.jackson.databind.node.ObjectNode o = Documents.nodes().objectNode();
    o.put("n", new java.math.BigInteger("9".repeat(1_500)));
    o.put("x".repeat(60_000), 1);
    o.put("d", new java.math.BigDecimal("0.10000000000000000000000001"));
    com.fasterxml.jackson.databind.node.ArrayNode deep = o.putArray("deep");
    for (int level = 2; level < Documents.MAX_DEPTH; level++) {  // the object is level 1, "deep" level 2
      deep = deep.addArray();
    }
    deep.add("bottom");
    return Documents.freeze(o);
  }

  /** Contract: What a store recorded it loads again whatever its size or depth. */
  @Test
  public void whatAStoreRecordedItLoadsAgainWhateverItsSizeOrDepth() {
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

  /** Contract: New store loads empty and fresh. */
  @Test
  public void newStoreLoadsEmptyAndFresh() {
    StoredState s = store().load();
    assertThat(s.inventory()).isEmpty();
    assertThat(s.pending()).isEmpty();
    assertThat(s.serial()).isZero();
    assertThat(s.fresh()).isTrue();
    assertThat(s.lastAttemptedRevision()).isEmpty();
    assertThat(s.lastAppliedRevision()).isEmpty();
  }

  /** Contract: Write pending records the desired document and ends freshness. */
  @Test
  public void writePendingRecordsTheDesiredDocumentAndEndsFreshness() {
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

  /** Contract: Commit records last applied with serial and revision and clears pending. */
  @Test
  public void commitRecordsLastAppliedWithSerialAndRevisionAndClearsPending() {
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

  /** Contract: Loaded maps are immutable and stay as they were while later writes show in later loads. */
  @Test
  public void loadedMapsAreImmutableAndStayAsTheyWereWhileLaterWritesShowInLaterLoads() {
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

  /** Contract: Commit keeps pending of other keys. */
  @Test
  public void commitKeepsPendingOfOtherKeys() {
    StateStore s = store();
    lock(s);
    s.writePending(resource(A, "{}"));
    s.writePending(resource(B, "{}"));
    s.commit(resource(A, "{}"), "r1");
    assertThat(s.load().pending()).containsOnlyKeys(B);
  }

  /** Contract: Keeps metadata of resources. */
  @Test
  public void keepsMetadataOfResources() {
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

  /** Contract: Clear pending keeps last applied. */
  @Test
  public void clearPendingKeepsLastApplied() {
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

  /** Contract: Forget drops inventory and pending. */
  @Test
  public void forgetDropsInventoryAndPending() {
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

  /** Contract: Every mutation increases the serial by one. */
  @Test
  public void everyMutationIncreasesTheSerialByOne() {
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

  /** Contract: Record revisions keeps the applied revision when null. */
  @Test
  public void recordRevisionsKeepsTheAppliedRevisionWhenNull() {
    StateStore s = store();
    lock(s);
    s.recordRevisions("main@sha1:1", "main@sha1:1");
    s.recordRevisions("main@sha1:2", null);
    StoredState st = s.load();
    assertThat(st.lastAttemptedRevision()).isEqualTo("main@sha1:2");
    assertThat(st.lastAppliedRevision()).isEqualTo("main@sha1:1");
  }

  /** Contract: History is newest first and bounded by the limit. */
  @Test
  public void historyIsNewestFirstAndBoundedByTheLimit() {
    StateStore s = store();
    lock(s);
    for (int i = 1; i <= 8; i++) {
      s.appendHistory(entry(i));
    }
    assertThat(s.history()).containsExactly(entry(8), entry(7), entry(6), entry(5), entry(4));
  }

  /**
   * Contract: each entry's operation is kept, also as another process reads the store: a forget or a destroy
   * read back as a sync would be a rollback target. The entries' other fields are a sync's, so only
   * the operation the store kept can tell them apart.
   */
  @Test
  public void historyKeepsEachEntrysOperation() {
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

  /** Contract: Mutations without the lock are refused. */
  @Test
  public void mutationsWithoutTheLockAreRefused() {
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

  /** Contract: Mutations after the lock is released are refused. */
  @Test
  public void mutationsAfterTheLockIsReleasedAreRefused() {
    StateStore s = store();
    try (StoreLock l = s.lock(LONG)) {
      s.writePending(resource(A, "{}"));
    }
    assertThatThrownBy(() -> s.clearPending(A)).isInstanceOf(IllegalStateException.class);
    assertThat(s.load().pending()).containsOnlyKeys(A);
  }

  /** Contract: A second lock from another thread times out. */
  @Test
  public void aSecondLockFromAnotherThreadTimesOut() throws Exception {
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

  /** Contract: The lock is not reentrant. */
  @Test
  public void theLockIsNotReentrant() {
    StateStore s = store();
    lock(s);
    assertThatThrownBy(() -> s.lock(SHORT)).isInstanceOf(StoreLockedException.class);
  }

  /** Contract: A released lock can be taken by another thread. */
  @Test
  public void aReleasedLockCanBeTakenByAnotherThread() throws Exception {
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

  /** Contract: Closing a lock twice releases it once. */
  @Test
  public void closingALockTwiceReleasesItOnce() {
    StateStore s = store();
    StoreLock l = s.lock(LONG);
    l.close();
    l.close();
    lock(s);
    assertThatThrownBy(() -> s.lock(SHORT)).isInstanceOf(StoreLockedException.class);
  }

  /** Contract: Worker threads may write while the lock is held. */
  @Test
  public void workerThreadsMayWriteWhileTheLockIsHeld() throws Exception {
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

  /** Contract: Negative lock timeout is rejected. */
  @Test
  public void negativeLockTimeoutIsRejected() {
    assertThatThrownBy(() -> store().lock(Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class);
  }

  /** Contract: Secret key is thirty two stable bytes. */
  @Test
  public void secretKeyIsThirtyTwoStableBytes() {
    StateStore s = store();
    byte[] first = s.secretKey();
    assertThat(first).hasSize(32);
    first[0] ^= 1;
    assertThat(s.secretKey()).hasSize(32).isNotEqualTo(first);
    first[0] ^= 1;
    assertThat(s.secretKey()).isEqualTo(first);
    assertThat(store().secretKey()).isNotEqualTo(first);
  }

  /** Contract: Loaded documents are frozen. */
  @Test
  public void loadedDocumentsAreFrozen() {
    StateStore s = store();
    lock(s);
    s.commit(resource(A, "{\"a\":{\"b\":1}}"), "r");
    JsonNode d = s.load().inventory().get(A).resource().document();
    assertThatThrownBy(() -> ((ObjectNode) d).put("c", 1)).isInstanceOf(UnsupportedOperationException.class);
    assertThat(Documents.isFrozen(d)).isTrue();
  }

  /** Contract: The first claim records the owner for every object of the store. */
  @Test
  public void theFirstClaimRecordsTheOwnerForEveryObjectOfTheStore() {
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

  /** Contract: Another owners claim is refused naming both and changes nothing. */
  @Test
  public void anotherOwnersClaimIsRefusedNamingBothAndChangesNothing() {
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

  /** Contract: Claiming needs the lock. */
  @Test
  public void claimingNeedsTheLock() {
    StateStore s = store();
    assertThatThrownBy(() -> s.claimOwner("team-a")).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("lock");
    assertThat(s.owner()).isEmpty();
  }

  /**
   * Damages what {@code s} keeps (its lock released, the store written) so that it cannot be read
   * as a store: garbage, or a truncated entry, where the store reads its records. Returns false
   * when that cannot be simulated (the default), which skips the test that a damaged store is
   * refused.
   */
  protected boolean corrupt(StateStore s) throws Exception {
    return false;
  }

  /**
   * A store holding an inventory entry, a pending record and a history entry, then damaged by
   * {@link #corrupt}; the test is skipped where the store cannot be damaged.
   */
  private StateStore damagedStore() throws Exception {
    StateStore s = store();
    try (StoreLock l = s.lock(LONG)) {
      s.writePending(resource(A, "{\"a\":1}"));
      s.commit(resource(A, "{\"a\":1}"), "r1");
      s.writePending(resource(B, "{\"b\":1}"));
      s.appendHistory(entry(1));
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(corrupt(s), "the store cannot be damaged by the test");
    return s;
  }

  /**
   * Contract: A store whose data is damaged refuses to load, with a {@link StoreCorruptException}
   * that says what cannot be read, and refuses every write (which would build on records it cannot
   * read and so lose them); the damage stays for a person to look at, nothing is rebuilt empty.
   */
  @Test
  public void aDamagedStoreRefusesToLoadAndToWrite() throws Exception {
    StateStore s = damagedStore();
    StateStore damaged = track(sameStore(s));
    try (StoreLock l = damaged.lock(LONG)) {
      Throwable refusal = refused("load() of a damaged store", damaged::load);
      assertThat(refusal.getMessage()).as("what the refusal of load() says").isNotBlank();
      refused("writePending on a damaged store", () -> damaged.writePending(resource(A, "{}")));
      refused("commit on a damaged store", () -> damaged.commit(resource(A, "{}"), "r2"));
      refused("forget on a damaged store", () -> damaged.forget(A));
      refused("clearPending on a damaged store", () -> damaged.clearPending(B));
      refused("load() of a damaged store, again (nothing rebuilt)", damaged::load);
    }
  }

  /**
   * Contract: A damaged store refuses a write that comes before any {@code load()} under the lock
   * too (a caller that writes without loading first): a write of the record that is damaged, or
   * its removal, would otherwise replace the damage before anything said it was there. The damage
   * is still there for the next load to name.
   */
  @Test
  public void aDamagedStoreRefusesAWriteBeforeAnyLoad() throws Exception {
    StateStore s = damagedStore();
    StateStore damaged = track(sameStore(s));
    try (StoreLock l = damaged.lock(LONG)) {
      refused("commit before any load() of a damaged store", () -> damaged.commit(resource(A, "{}"), "r2"));
      refused("forget before any load() of a damaged store", () -> damaged.forget(B));
    }
    StateStore again = track(sameStore(s));
    try (StoreLock l = again.lock(LONG)) {
      refused("load() after writes were refused (the damage is still there)", again::load);
    }
  }

  /**
   * Contract: a store whose {@link StateStore#checkWritable} passes can be written: the check needs
   * no lock, writes nothing a load sees (a new store still loads fresh, serial 0), passes again
   * under the lock, and the writes that follow it land and are read back by another object on the
   * store.
   */
  @Test
  public void aStoreWhoseCheckPassesCanBeWritten() {
    StateStore s = store();
    s.checkWritable();
    StoredState before = s.load();
    assertThat(before.serial()).as("serial after checkWritable() of a new store").isZero();
    assertThat(before.fresh()).as("a new store after checkWritable() is still fresh").isTrue();
    Resource a = resource(A, "{\"a\":1}");
    try (StoreLock l = s.lock(LONG)) {
      s.checkWritable();
      s.writePending(a);
      s.commit(a, "r1");
      s.appendHistory(entry(1));
    }
    s.checkWritable();
    StateStore other = track(sameStore(s));
    assertThat(other.load().inventory()).containsOnlyKeys(A);
    assertThat(other.history()).containsExactly(entry(1));
  }

  /**
   * Contract: a store that checks ahead (overrides {@link StateStore#checkWritable}) refuses the
   * check, with a {@link StoreCorruptException}, once a load found its records damaged: every write
   * is refused then, and the engine would otherwise read, plan and apply before its first write is
   * refused. The refusal writes nothing: the damage is still there for the next load to name.
   * Skipped for a store that keeps the default (it cannot tell ahead) and where the store cannot be
   * damaged by the test.
   */
  @Test
  public void aStoreFoundDamagedFailsTheCheckBeforeAnyWrite() throws Exception {
    StateStore s = damagedStore();
    StateStore damaged = track(sameStore(s));
    org.junit.jupiter.api.Assumptions.assumeTrue(checksAhead(damaged),
        "the store keeps StateStore.checkWritable's default: it cannot tell ahead");
    try (StoreLock l = damaged.lock(LONG)) {
      refused("load() of a damaged store", damaged::load);
      Throwable check = refused("checkWritable() of a store a load found damaged", damaged::checkWritable);
      assertThat(check.getMessage()).as("what the refusal of checkWritable() says").isNotBlank();
    }
    refused("checkWritable() without the lock, the damage found", damaged::checkWritable);
    StateStore again = track(sameStore(s));
    try (StoreLock l = again.lock(LONG)) {
      refused("load() after the check was refused (the damage is still there)", again::load);
    }
  }

  /** Whether {@code s}'s class overrides {@link StateStore#checkWritable} (the default does nothing). */
  private static boolean checksAhead(StateStore s) throws NoSuchMethodException {
    return s.getClass().getMethod("checkWritable").getDeclaringClass() != StateStore.class;
  }

  /** What {@code call} threw, after asserting that it was a {@link StoreCorruptException}. */
  private static Throwable refused(String what, org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
    Throwable t = org.assertj.core.api.Assertions.catchThrowable(call);
    assertThat(t).as("%s: refused with a StoreCorruptException", what).isInstanceOf(StoreCorruptException.class);
    return t;
  }

  /**
   * Contract: The history is kept with every field of each entry, newest first and bounded, for
   * another object opened on the same store (another process) as well.
   */
  @Test
  public void historyIsReadAgainWholeByAnotherObjectOnTheStore() {
    StateStore s = store();
    try (StoreLock l = s.lock(LONG)) {
      for (int i = 1; i <= 7; i++) {
        s.appendHistory(entry(i));
      }
    }
    List<HistoryEntry> again = track(sameStore(s)).history();
    assertThat(again).as("history() read by another object on the store").hasSize(5);
    for (int i = 0; i < again.size(); i++) {
      HistoryEntry want = entry(7 - i);
      HistoryEntry got = again.get(i);
      assertThat(got.owner()).as("the owner of history entry %s", want.id()).isEqualTo(want.owner());
      assertThat(got.counts()).as("the counts of history entry %s", want.id()).isEqualTo(want.counts());
      assertThat(got.status()).as("the status of history entry %s", want.id()).isEqualTo(want.status());
      assertThat(got).as("history entry %d, newest first", i).isEqualTo(want);
    }
  }

  /**
   * Contract: For a {@link BatchedStateStore}, a batch's ops land in order, each with its serial,
   * pending records and forgets included; a store that {@linkplain BatchedStateStore#keepsInSync()
   * keeps in-sync proofs} loads each applied record back with its proof (another object on the
   * store too), and one that does not, without any. Skipped for a store that is no batched store.
   */
  @Test
  public void aBatchLandsWholeInOrderWithItsInSyncProofs() {
    StateStore s = store();
    org.junit.jupiter.api.Assumptions.assumeTrue(s instanceof BatchedStateStore, "not a BatchedStateStore");
    BatchedStateStore batched = (BatchedStateStore) s;
    StoredResource.InSync proof = new StoredResource.InSync("desired-digest", "rules-fingerprint", "rv-42");
    Resource a = resource(A, "{\"a\":1}");
    Resource b = resource(B, "{\"b\":2}");
    try (StoreLock l = s.lock(LONG)) {
      s.commit(resource(B, "{\"old\":true}"), "r0");
      long before = s.load().serial();
      List<StoredResource> stored = batched.writeBatch(StoreBatch.builder().pending(a).applied(a, "r1", proof)
          .forget(B).pending(b).build());
      assertThat(stored).as("the stored records of the batch's applied ops").hasSize(1);
      StoredState st = s.load();
      assertThat(st.serial()).as("serial after a batch of 4 ops").isEqualTo(before + 4);
      assertThat(stored.get(0).serial()).as("serial of the batch's second op").isEqualTo(before + 2);
      assertThat(st.inventory()).containsOnlyKeys(A);
      assertThat(st.pending()).as("pending after the batch").containsExactly(Map.entry(B, b));
      assertThat(st.inventory().get(A).resource()).isEqualTo(a);
    }
    StoredResource.InSync want = batched.keepsInSync() ? proof : null;
    assertThat(s.load().inventory().get(A).inSync()).as("in-sync proof loaded (keepsInSync %s)",
        batched.keepsInSync()).isEqualTo(want);
    assertThat(track(sameStore(s)).load().inventory().get(A).inSync())
        .as("in-sync proof loaded by another object on the store (keepsInSync %s)", batched.keepsInSync())
        .isEqualTo(want);
  }
}
