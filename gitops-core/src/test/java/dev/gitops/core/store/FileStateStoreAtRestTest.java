package dev.gitops.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.StoreCorruptException;
import dev.gitops.api.spi.StoreLock;
import dev.gitops.api.spi.StoredState;
import dev.gitops.core.store.FileStateStore.JournalPoint;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store at rest (format 2): the snapshot's damage rules, what a sync without changes writes
 * (nothing), the journal's bound, the snapshot's serial that keeps a journal it includes from
 * being replayed again, and the migration of a store of format 1 with a crash at each of its points.
 */
// locks are held for a try block's scope without being referenced in it
@SuppressWarnings("try")
class FileStateStoreAtRestTest {

  static final Duration LONG = Duration.ofSeconds(10);
  static final ResourceKey A = FileStateStoreJournalTest.A;
  static final ResourceKey B = FileStateStoreJournalTest.B;
  static final ResourceKey C = FileStateStoreJournalTest.C;

  @TempDir
  Path tmp;

  static Resource res(ResourceKey k, int v) {
    return FileStateStoreJournalTest.res(k, v);
  }

  private Path dir() {
    return tmp.resolve("s");
  }

  private Path snapshot() {
    return dir().resolve(StoreSnapshot.FILE);
  }

  private Path journal() {
    return dir().resolve(StoreJournal.FILE);
  }

  private FileStateStore open(FileStateStore.Options options) {
    return FileStateStore.open(dir(), options);
  }

  private static FileStateStore.Options compacting() {
    return FileStateStore.Options.defaults().withCompactionBytes(0);
  }

  private StoredState loadFresh() {
    try (FileStateStore s = FileStateStore.open(dir())) {
      return s.load();
    }
  }

  /** a and b applied, c pending, revisions r1; compacted into the snapshot at the release. */
  private StoredState written() {
    try (FileStateStore s = open(compacting()); StoreLock l = s.lock(LONG)) {
      s.writeBatch(StoreBatch.builder().pending(res(A, 1)).pending(res(B, 2)).pending(res(C, 3)).build());
      s.writeBatch(StoreBatch.builder().applied(res(A, 1), "r1").applied(res(B, 2), "r1").build());
      s.recordRevisions("r1", "r1");
    }
    assertThat(snapshot()).exists();
    assertThat(journal()).doesNotExist();
    return loadFresh();
  }

  /** Records every write and named point. */
  private static final class Recorder implements FileStateStore.WriteListener {
    final List<String> events = new ArrayList<>();

    @Override
    public void onWrite(Path file, boolean after) {
      events.add((after ? "after " : "before ") + file.getFileName());
    }

    @Override
    public void onJournal(JournalPoint point, Path file) {
      events.add(point.name());
    }
  }

  private void assertCorruptAndUntouched(Path damaged, byte[] bytes, String... messages) throws IOException {
    byte[] meta = Files.readAllBytes(dir().resolve("meta.json"));
    try (FileStateStore s = FileStateStore.open(dir()); StoreLock l = s.lock(LONG)) {
      var thrown = assertThatThrownBy(s::load).isInstanceOf(StoreCorruptException.class)
          .hasMessageContaining(damaged.toString()).hasMessageContaining("byte offset");
      for (String m : messages) {
        thrown.hasMessageContaining(m);
      }
      assertThatThrownBy(() -> s.commit(res(A, 9), "r9")).isInstanceOf(StoreCorruptException.class)
          .hasMessageContaining("refuses");
      assertThatThrownBy(() -> s.recordRevisions("r9", "r9")).isInstanceOf(StoreCorruptException.class);
    }
    assertThat(Files.readAllBytes(damaged)).as("the damaged file's bytes stay").isEqualTo(bytes);
    assertThat(Files.readAllBytes(dir().resolve("meta.json"))).isEqualTo(meta);
    assertThat(journal()).doesNotExist();
  }

  @Test
  void aBitFlippedAnywhereInTheSnapshotIsCorruptionNamingTheFileAndTheOffset() throws IOException {
    written();
    byte[] good = Files.readAllBytes(snapshot());
    int[] positions = {0, 3, 4, 9, 17, 21, 25, StoreSnapshot.HEADER, StoreSnapshot.HEADER + 7, good.length / 2,
        good.length - 1};
    for (int at : positions) {
      byte[] bad = good.clone();
      bad[at] ^= 0x04;
      Files.write(snapshot(), bad);
      assertCorruptAndUntouched(snapshot(), bad, at < StoreSnapshot.HEADER ? "byte offset" : "checksum");
    }
    Files.write(snapshot(), good);
    assertThat(loadFresh().inventory()).containsOnlyKeys(A, B);
  }

  @Test
  void aSnapshotCutShortOrExtendedIsCorruptNeverATornTail() throws IOException {
    written();
    byte[] good = Files.readAllBytes(snapshot());
    for (int cut : new int[] {0, 10, StoreSnapshot.HEADER - 1, StoreSnapshot.HEADER, StoreSnapshot.HEADER + 1,
        good.length / 2, good.length - 1}) {
      byte[] bad = Arrays.copyOf(good, cut);
      Files.write(snapshot(), bad);
      assertCorruptAndUntouched(snapshot(), bad);
    }
    byte[] longer = Arrays.copyOf(good, good.length + 64);
    Files.write(snapshot(), longer);
    assertCorruptAndUntouched(snapshot(), longer, "cut short or extended");
    Files.write(snapshot(), good);
    assertThat(loadFresh().pending()).containsOnlyKeys(C);
  }

  @Test
  void aMissingSnapshotThatMetaJsonNamesIsCorrupt() throws IOException {
    written();
    Files.delete(snapshot());
    try (FileStateStore s = FileStateStore.open(dir()); StoreLock l = s.lock(LONG)) {
      assertThatThrownBy(s::load).isInstanceOf(StoreCorruptException.class)
          .hasMessageContaining(snapshot().toString()).hasMessageContaining("missing");
      assertThatThrownBy(() -> s.forget(A)).isInstanceOf(StoreCorruptException.class);
    }
    assertThat(snapshot()).doesNotExist();
  }

  @Test
  void aJournalTheSnapshotIncludesIsNeverReplayedAgain() throws IOException {
    byte[] pendingA;
    try (FileStateStore s = FileStateStore.open(dir()); StoreLock l = s.lock(LONG)) {
      s.writePending(res(A, 1));
      pendingA = Files.readAllBytes(journal());
      s.commit(res(A, 1), "r1");
      s.compact();
    }
    // what a crash between the snapshot's rename and the journal's removal leaves, with a journal
    // whose replay over the snapshot would bring a pending record back
    Files.write(journal(), pendingA);
    StoredState st = loadFresh();
    assertThat(st.pending()).as("the record at serial 1 is in the snapshot of serial 2").isEmpty();
    assertThat(st.inventory()).containsOnlyKeys(A);
    assertThat(st.serial()).isEqualTo(2);
    try (FileStateStore s = FileStateStore.open(dir()); StoreLock l = s.lock(LONG)) {
      assertThat(journal()).as("removed at the lock").doesNotExist();
      assertThat(s.load()).isEqualTo(st);
    }

    // a record that straddles the snapshot's serial cannot come from this store's compaction: damage
    Path other = tmp.resolve("other");
    byte[] two;
    try (FileStateStore s = FileStateStore.open(other); StoreLock l = s.lock(LONG)) {
      s.writeBatch(StoreBatch.builder().pending(res(B, 1)).pending(res(C, 1)).pending(res(A, 1)).build());
      two = Files.readAllBytes(other.resolve(StoreJournal.FILE));
    }
    Files.write(journal(), two);
    assertCorruptAndUntouchedJournal(two, "straddles serial 2");
  }

  private void assertCorruptAndUntouchedJournal(byte[] bytes, String message) throws IOException {
    try (FileStateStore s = FileStateStore.open(dir()); StoreLock l = s.lock(LONG)) {
      assertThatThrownBy(s::load).isInstanceOf(StoreCorruptException.class)
          .hasMessageContaining(journal().toString()).hasMessageContaining("byte offset 0")
          .hasMessageContaining(message);
      assertThatThrownBy(() -> s.forget(A)).isInstanceOf(StoreCorruptException.class);
    }
    assertThat(Files.readAllBytes(journal())).isEqualTo(bytes);
  }

  /** a applied in the journal (no snapshot yet), b applied after a snapshot: what meta.json then counts. */
  private void journaledAfterSnapshot(boolean withSnapshot) {
    if (withSnapshot) {
      written();
    }
    try (FileStateStore s = FileStateStore.open(dir()); StoreLock l = s.lock(LONG)) {
      s.load();
      s.writeBatch(StoreBatch.builder().pending(res(C, 7)).build());
      s.writeBatch(StoreBatch.builder().applied(res(C, 7), "r2").build());
      s.recordRevisions("r2", "r2");
    }
    assertThat(journal()).exists();
  }

  @Test
  void aJournalRemovedOrTruncatedBehindTheStoresBackIsDamageNeverAForgottenInventory() throws IOException {
    for (boolean withSnapshot : new boolean[] {false, true}) {
      for (String how : List.of("removed", "truncated", "cut to its first record")) {
        org.junit.jupiter.api.Assertions.assertDoesNotThrow(() -> deleteTree(dir()));
        journaledAfterSnapshot(withSnapshot);
        byte[] whole = Files.readAllBytes(journal());
        switch (how) {
          case "removed" -> Files.delete(journal());
          case "truncated" -> Files.write(journal(), Arrays.copyOf(whole, 10));
          default -> {
            // the first record alone (the pending write), as a copy of an older journal would be
            int first;
            try {
              first = firstRecordLength(whole);
            } catch (Exception e) {
              throw new AssertionError(e);
            }
            Files.write(journal(), Arrays.copyOf(whole, first));
          }
        }
        try (FileStateStore s = FileStateStore.open(dir()); StoreLock l = s.lock(LONG)) {
          assertThatThrownBy(s::load).as(how + (withSnapshot ? " after a snapshot" : ""))
              .isInstanceOf(StoreCorruptException.class)
              .hasMessageContaining(journal().toString())
              .hasMessageContaining("meta.json records entry writes up to serial");
          assertThatThrownBy(() -> s.forget(A)).isInstanceOf(StoreCorruptException.class);
        }
      }
    }
  }

  /**
   * A journal cut behind the store's back inside a record ends like a torn tail, but meta.json
   * records the writes it lost as durable: the lock's recovery must not take it for the end of an
   * append that never returned and cut it further (nor remove an emptied one).
   */
  @Test
  void aJournalCutOrEmptiedBehindTheStoresBackKeepsItsBytesAtTheLock() throws Exception {
    for (String how : List.of("cut inside its second record", "cut to 10 bytes", "emptied")) {
      org.junit.jupiter.api.Assertions.assertDoesNotThrow(() -> deleteTree(dir()));
      journaledAfterSnapshot(false);
      byte[] whole = Files.readAllBytes(journal());
      byte[] cut = switch (how) {
        case "cut inside its second record" -> Arrays.copyOf(whole, firstRecordLength(whole) + 20);
        case "cut to 10 bytes" -> Arrays.copyOf(whole, 10);
        default -> new byte[0];
      };
      Files.write(journal(), cut);
      try (FileStateStore s = FileStateStore.open(dir()); StoreLock l = s.lock(LONG)) {
        assertThatThrownBy(s::load).as(how).isInstanceOf(StoreCorruptException.class)
            .hasMessageContaining(journal().toString())
            .hasMessageContaining("meta.json records entry writes up to serial");
        assertThatThrownBy(() -> s.forget(A)).as(how).isInstanceOf(StoreCorruptException.class);
      }
      assertThat(journal()).as(how).exists();
      assertThat(Files.readAllBytes(journal())).as(how + ": nothing cut or removed").isEqualTo(cut);
    }
  }

  @Test
  void aJournalRemovedWhileTheStoreIsOpenIsRefusedAtTheNextAppendNotRecreatedFullOfZeros() throws IOException {
    journaledAfterSnapshot(false);
    try (FileStateStore s = FileStateStore.open(dir()); StoreLock l = s.lock(LONG)) {
      s.load();
      Files.delete(journal());
      assertThatThrownBy(() -> s.writePending(res(A, 9))).isInstanceOf(StoreCorruptException.class)
          .hasMessageContaining(journal().toString()).hasMessageContaining("vanished while the store was open");
      assertThatThrownBy(() -> s.forget(A)).isInstanceOf(StoreCorruptException.class);
    }
    assertThat(journal()).doesNotExist();
  }

  @Test
  void aJournalCutWhileTheStoreIsOpenIsRefusedAtTheNextAppendNotExtendedWithZeros() throws IOException {
    journaledAfterSnapshot(false);
    try (FileStateStore s = FileStateStore.open(dir()); StoreLock l = s.lock(LONG)) {
      s.load();
      byte[] whole = Files.readAllBytes(journal());
      byte[] cut = java.util.Arrays.copyOf(whole, whole.length / 2);
      Files.write(journal(), cut);
      assertThatThrownBy(() -> s.writePending(res(A, 9))).isInstanceOf(StoreCorruptException.class)
          .hasMessageContaining(journal().toString()).hasMessageContaining("cut to " + cut.length + " bytes");
      assertThatThrownBy(() -> s.forget(A)).isInstanceOf(StoreCorruptException.class);
      assertThat(Files.readAllBytes(journal())).as("nothing written into the cut journal").isEqualTo(cut);
    }
  }

  /** The length of the journal's first record: the shortest prefix that scans as one whole record. */
  private static int firstRecordLength(byte[] whole) throws Exception {
    for (int n = 1; n < whole.length; n++) {
      StoreJournal.Scan scan = StoreJournal.scan(Arrays.copyOf(whole, n));
      if (scan.records().size() == 1 && scan.end() == n) {
        return n;
      }
    }
    throw new AssertionError("no first record in " + whole.length + " bytes");
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (java.util.stream.Stream<Path> all = Files.walk(root)) {
      for (Path p : (Iterable<Path>) all.sorted(java.util.Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    }
  }

  @Test
  void aSyncThatChangesNothingWritesNothingAndAOneChangeSyncOnlyAppends() throws IOException {
    written();
    Recorder rec = new Recorder();
    FileStateStore.Options watched = FileStateStore.Options.defaults().withWriteListener(rec);
    try (FileStateStore s = open(watched); StoreLock l = s.lock(LONG)) {
      s.load();
    }
    assertThat(rec.events).as("a lock, a load and a release").isEmpty();
    try (FileStateStore s = open(watched); StoreLock l = s.lock(LONG)) {
      s.load();
      s.writePending(res(C, 4));
      s.commit(res(C, 4), "r1");
    }
    assertThat(rec.events).containsExactly("APPEND_STARTED", "APPEND_HALF_WRITTEN", "APPENDED", "SYNCED",
        "APPEND_STARTED", "APPEND_HALF_WRITTEN", "APPENDED", "SYNCED");
    assertThat(loadFresh().inventory()).containsOnlyKeys(A, B, C);
    rec.events.clear();
    try (FileStateStore s = open(watched); StoreLock l = s.lock(LONG)) {
      assertThat(s.load().inventory()).containsOnlyKeys(A, B, C);
    }
    assertThat(rec.events).as("the journal stays below its bound: nothing to compact").isEmpty();
  }

  @Test
  void theJournalIsFoldedIntoTheSnapshotOnlyOnceItOutgrowsItsBoundAndTheSnapshot() throws IOException {
    AtomicInteger compactions = new AtomicInteger();
    FileStateStore.Options bounded = FileStateStore.Options.defaults().withCompactionBytes(4096)
        .withWriteListener(FileStateStoreJournalTest.counting(JournalPoint.COMPACTION_STARTED, compactions));
    try (FileStateStore s = open(bounded); StoreLock l = s.lock(LONG)) {
      s.commit(res(A, 1), "r1");
    }
    assertThat(compactions).as("a journal below the bound").hasValue(0);
    try (FileStateStore s = open(bounded); StoreLock l = s.lock(LONG)) {
      for (int i = 0; i < 40; i++) {
        s.commit(res(ResourceKey.of("files", "file", "", "f" + i + ".txt"), i), "r2");
      }
    }
    assertThat(compactions).hasValue(1);
    assertThat(journal()).doesNotExist();
    long snapshotBytes = Files.size(snapshot());
    assertThat(snapshotBytes).isGreaterThan(4096);
    try (FileStateStore s = open(bounded); StoreLock l = s.lock(LONG)) {
      for (int i = 0; !Files.exists(journal()) || Files.size(journal()) <= 4096; i++) {
        s.commit(res(ResourceKey.of("files", "file", "", "f" + i + ".txt"), 100 + i), "r3");
      }
    }
    assertThat(Files.size(journal())).isGreaterThan(4096).isLessThan(snapshotBytes);
    assertThat(compactions).as("over the bound but smaller than the snapshot").hasValue(1);
    StoredState st = loadFresh();
    assertThat(st.inventory()).hasSize(41);
    assertThat(st.inventory().get(ResourceKey.of("files", "file", "", "f3.txt")).resource()).isEqualTo(
        res(ResourceKey.of("files", "file", "", "f3.txt"), 103));
  }

  @Test
  void aStoreOfFormatOneIsReadAsItIsAndMigratedAtTheFirstWritableLock() throws IOException {
    StoredState before = written();
    try (FileStateStore s = FileStateStore.open(dir()); StoreLock l = s.lock(LONG)) {
      s.appendHistory(StoreFixtures.entry(1));
    }
    before = loadFresh();
    LegacyStores.downgrade(dir());
    assertThat(snapshot()).doesNotExist();
    assertThat(dir().resolve("inventory")).isDirectory();
    Files.delete(dir().resolve("lock"));
    try (FileStateStore r = FileStateStore.openReadOnly(dir()); StoreLock l = r.lock(LONG)) {
      assertThat(r.load()).isEqualTo(before);
    }
    assertThat(Files.readString(dir().resolve("format")).trim()).as("a reader migrates nothing").isEqualTo("1");
    Recorder rec = new Recorder();
    try (FileStateStore s = open(FileStateStore.Options.defaults().withWriteListener(rec)); StoreLock l = s.lock(LONG)) {
      assertThat(s.load()).isEqualTo(before);
      assertThat(s.history()).hasSize(1);
    }
    assertThat(rec.events).containsSubsequence("MIGRATION_STARTED", "COMPACTION_STARTED", "SNAPSHOT_WRITTEN",
        "SNAPSHOT_RENAMED", "FORMAT_SWITCHED", "JOURNAL_REMOVED", "after meta.json", "MIGRATED");
    assertThat(Files.readString(dir().resolve("format"), StandardCharsets.US_ASCII).trim()).isEqualTo("2");
    assertThat(dir().resolve("inventory")).doesNotExist();
    assertThat(dir().resolve("pending")).doesNotExist();
    assertThat(snapshot()).exists();
    assertThat(loadFresh()).isEqualTo(before);
  }

  @Test
  void aCrashAtAnyPointOfTheMigrationLoadsTheSameAndTheNextLockFinishesIt() throws IOException {
    written();
    LegacyStores.downgrade(dir());
    StoredState before = loadFresh();
    Path base = tmp.resolve("base");
    FileStateStoreJournalTest.copy(dir(), base);
    Recorder all = new Recorder();
    try (FileStateStore s = open(FileStateStore.Options.defaults().withWriteListener(all)); StoreLock l = s.lock(LONG)) {
      assertThat(s.load()).isEqualTo(before);
    }
    assertThat(all.events).containsExactly("MIGRATION_STARTED", "COMPACTION_STARTED", "SNAPSHOT_WRITTEN",
        "SNAPSHOT_RENAMED", "before format", "after format", "FORMAT_SWITCHED", "JOURNAL_REMOVED", "before meta.json",
        "after meta.json", "MIGRATED");
    int kills = 0;
    for (int n = 1; n <= all.events.size(); n++) {
      FileStateStoreJournalTest.deleteTree(dir());
      FileStateStoreJournalTest.copy(base, dir());
      int killAt = n;
      AtomicInteger seen = new AtomicInteger();
      String[] where = {null};
      FileStateStore.WriteListener kill = new FileStateStore.WriteListener() {
        @Override
        public void onWrite(Path file, boolean after) {
          hit((after ? "after " : "before ") + file.getFileName());
        }

        @Override
        public void onJournal(JournalPoint point, Path file) {
          hit(point.name());
        }

        private void hit(String event) {
          if (seen.incrementAndGet() == killAt) {
            where[0] = event;
            throw new IllegalStateException("killed at " + event);
          }
        }
      };
      try (FileStateStore s = open(FileStateStore.Options.defaults().withWriteListener(kill))) {
        assertThatThrownBy(() -> s.lock(LONG)).hasMessageContaining("killed");
      }
      assertThat(loadFresh()).as("after a kill at %s (#%d)", where[0], n).isEqualTo(before);
      kills++;
      try (FileStateStore s = FileStateStore.open(dir()); StoreLock l = s.lock(LONG)) {
        assertThat(s.load()).as("recovered after %s", where[0]).isEqualTo(before);
      }
      assertThat(Files.readString(dir().resolve("format")).trim()).isEqualTo("2");
      assertThat(dir().resolve("inventory")).as("after %s", where[0]).doesNotExist();
      assertThat(journal()).doesNotExist();
      assertThat(loadFresh()).isEqualTo(before);
    }
    assertThat(kills).as("every event of a migration").isEqualTo(11);
  }
}
