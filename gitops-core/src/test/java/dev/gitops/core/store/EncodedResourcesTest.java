package dev.gitops.core.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.StoreLock;
import dev.gitops.api.spi.StoredResource;
import dev.gitops.api.spi.StoredState;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each resource serialized once per lock: the commit and the snapshot reuse the pending record's text, byte for byte. */
class EncodedResourcesTest {

  static final ResourceKey A = FileStateStoreJournalTest.key("a");
  static final StoredResource.InSync PROOF = new StoredResource.InSync("sha256:d", "sha256:r", "v1");

  @TempDir
  Path tmp;

  @Test
  void theCommitOfTheResourceWrittenAsPendingReusesItsTextAndAnEqualCopyIsSerializedAgain() {
    EncodedResources encoded = new EncodedResources();
    Resource r = StoreFixtures.richResource();
    var first = encoded.of(r, true);
    assertThat(encoded.of(r, true)).isSameAs(first);
    Resource copy = new Resource(r.key(), r.document().deepCopy(), r.origin(), r.dependsOn(), r.wave(), r.policy(),
        r.sensitive());
    assertThat(copy).isEqualTo(r);
    var again = encoded.of(copy, false);
    assertThat(again).isNotSameAs(first).isEqualTo(first);
    // not remembered: the kept text is still the first object's
    assertThat(encoded.of(r, false)).isSameAs(first);
    encoded.clear();
    assertThat(encoded.size()).isZero();
    assertThat(encoded.of(r, false)).isNotSameAs(first);
  }

  @Test
  void journalRecordsAndTheSnapshotAreByteForByteThoseSerializedInPlace() {
    Resource rich = StoreFixtures.richResource();
    Resource plain = FileStateStoreJournalTest.res(A, 1);
    List<JournalDelta.Entry> pendings = List.of(
        new JournalDelta.Entry("pending", plain.key(), 1, plain, null),
        new JournalDelta.Entry("pending", rich.key(), 2, rich, null));
    List<JournalDelta.Entry> commits = List.of(
        new JournalDelta.Entry("applied", plain.key(), 3, plain, "r1", PROOF),
        new JournalDelta.Entry("applied", rich.key(), 4, rich, "r1"),
        new JournalDelta.Entry("clear", A, 5, null, null));
    EncodedResources encoded = new EncodedResources();
    assertThat(JournalDelta.encode(pendings, encoded)).isEqualTo(JournalDelta.encode(pendings));
    assertThat(encoded.size()).isEqualTo(2);
    // the commit takes the pending record's text
    assertThat(JournalDelta.encode(commits, encoded)).isEqualTo(JournalDelta.encode(commits));
    // and the record built in place is the framed payload
    StoreJournal.RecordBuffer record = JournalDelta.record(commits, encoded);
    assertThat(Arrays.copyOf(record.framed(), record.size())).isEqualTo(StoreJournal.frame(JournalDelta.encode(commits)));

    TreeMap<ResourceKey, StoredResource> inventory = new TreeMap<>(Map.of(
        plain.key(), new StoredResource(plain, 3, "r1", PROOF), rich.key(), new StoredResource(rich, 4, "r1", null)));
    TreeMap<ResourceKey, Resource> pending = new TreeMap<>(Map.of(rich.key(), rich));
    assertThat(StoreSnapshot.encode(5, inventory, pending, encoded))
        .isEqualTo(StoreSnapshot.encode(5, inventory, pending));
    assertThat(encoded.size()).as("the snapshot adds nothing").isEqualTo(2);
  }

  @Test
  void aLargeBatchEncodedInParallelIsByteForByteTheRecordSerializedInPlace() {
    // above the size from which the resources are serialized on the common pool first
    List<JournalDelta.Entry> pendings = new java.util.ArrayList<>();
    List<JournalDelta.Entry> commits = new java.util.ArrayList<>();
    Resource rich = StoreFixtures.richResource();
    pendings.add(new JournalDelta.Entry("pending", rich.key(), 1, rich, null));
    for (int i = 0; i < 700; i++) {
      Resource r = FileStateStoreJournalTest.res(FileStateStoreJournalTest.key(String.format("k%04d", i)), i);
      pendings.add(new JournalDelta.Entry("pending", r.key(), 2 + i, r, null));
      // every third commit is an equal copy, not the object written as pending: serialized again
      Resource applied = i % 3 == 0 ? FileStateStoreJournalTest.res(r.key(), i) : r;
      commits.add(new JournalDelta.Entry("applied", r.key(), 1000 + i, applied, "r1", i % 2 == 0 ? PROOF : null));
    }
    EncodedResources encoded = new EncodedResources();
    StoreJournal.RecordBuffer pending = JournalDelta.record(pendings, encoded);
    assertThat(encoded.size()).isEqualTo(701);
    assertThat(Arrays.copyOf(pending.framed(), pending.size()))
        .isEqualTo(StoreJournal.frame(JournalDelta.encode(pendings)));
    StoreJournal.RecordBuffer applied = JournalDelta.record(commits, encoded);
    assertThat(Arrays.copyOf(applied.framed(), applied.size()))
        .isEqualTo(StoreJournal.frame(JournalDelta.encode(commits)));
  }

  @Test
  void aReusedTextWritesTheSameThroughACharGeneratorAndAPrettyOne() throws Exception {
    Resource rich = StoreFixtures.richResource();
    EncodedResources encoded = new EncodedResources();
    StoredResource stored = new StoredResource(rich, 7, "r1", PROOF);
    assertThat(StoreCodec.MAPPER.writeValueAsString(StoreCodec.inventoryEntry(stored, encoded, true)))
        .isEqualTo(StoreCodec.MAPPER.writeValueAsString(StoreCodec.inventoryEntry(stored)));
    assertThat(StoreCodec.MAPPER.readTree(StoreCodec.bytes(StoreCodec.pendingEntry(rich, encoded, true))))
        .isEqualTo(StoreCodec.MAPPER.readTree(StoreCodec.bytes(StoreCodec.pendingEntry(rich))));
  }

  @Test
  @SuppressWarnings("try")  // the lock is held for the block's scope
  void aSyncOfPendingThenAppliedOfOneObjectReplaysAndCompactsToTheSameState() {
    Path dir = tmp.resolve("s");
    Resource rich = StoreFixtures.richResource();
    Resource plain = FileStateStoreJournalTest.res(A, 1);
    FileStateStore.Options compacting = FileStateStore.Options.defaults().withCompactionBytes(0);
    try (FileStateStore s = FileStateStore.open(dir, compacting);
         StoreLock lock = s.lock(Duration.ofSeconds(10))) {
      s.load();
      s.writeBatch(StoreBatch.builder().pending(plain).pending(rich).build());
      s.writeBatch(StoreBatch.builder().applied(plain, "r1", PROOF).applied(rich, "r1", null).build());
    }
    // the journal was folded into the snapshot at the release; a new process reads the same state
    try (FileStateStore s = FileStateStore.openReadOnly(dir)) {
      StoredState state = s.load();
      assertThat(state.pending()).isEmpty();
      assertThat(state.inventory().get(plain.key()).resource()).isEqualTo(plain);
      assertThat(state.inventory().get(plain.key()).inSync()).isEqualTo(PROOF);
      assertThat(state.inventory().get(rich.key()).resource()).isEqualTo(rich);
      assertThat(state.inventory().get(rich.key()).revision()).isEqualTo("r1");
    }
  }
}
