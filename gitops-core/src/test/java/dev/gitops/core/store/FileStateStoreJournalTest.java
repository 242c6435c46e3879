package dev.gitops.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.StoreCorruptException;
import dev.gitops.api.StoreException;
import dev.gitops.api.spi.StoreLock;
import dev.gitops.api.spi.StoredState;
import dev.gitops.core.internal.fs.KeyFileNames;
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

/** The journal: batches in one append, replay, torn tails, damage, and crashes during compaction into the snapshot. */
// locks are held for a try block's scope without being referenced in it
@SuppressWarnings("try")
class FileStateStoreJournalTest {

  static final Duration LONG = Duration.ofSeconds(10);
  static final ResourceKey A = key("a");
  static final ResourceKey B = key("b");
  static final ResourceKey C = key("c");

  @TempDir
  Path tmp;
  /** Whether the last {@link #crashAt} listener threw (the lock's release logs what it throws). */
  boolean killed;

  static ResourceKey key(String name) {
    return ResourceKey.of("files", "file", "", name + ".txt");
  }

  static Resource res(ResourceKey k, int v) {
    return StoreFixtures.resource(k, "{\"v\":" + v + "}");
  }

  private Path dir() {
    return tmp.resolve("s");
  }

  private Path journal() {
    return dir().resolve(StoreJournal.FILE);
  }

  private FileStateStore open(FileStateStore.WriteListener listener) {
    return FileStateStore.open(dir(), FileStateStore.Options.defaults().withWriteListener(listener));
  }

  /** A store that compacts the journal into the snapshot at every release. */
  private FileStateStore compacting(FileStateStore.WriteListener listener) {
    return FileStateStore.open(dir(), FileStateStore.Options.defaults().withWriteListener(listener)
        .withCompactionBytes(0));
  }

  private FileStateStore open() {
    return open(FileStateStore.WriteListener.NONE);
  }

  /**
   * A listener that throws (as a kill would stop the process) at the n-th call matching {@code
   * at}: a journal point's name, or "compaction-file" for a file write once compaction started.
   */
  private FileStateStore.WriteListener crashAt(String at, int n) {
    AtomicInteger seen = new AtomicInteger();
    boolean[] compacting = new boolean[1];
    return new FileStateStore.WriteListener() {
      @Override
      public void onWrite(Path file, boolean after) {
        if (at.equals("compaction-file") && compacting[0] && seen.incrementAndGet() == n) {
          killed = true;
          throw new IllegalStateException("killed at write " + n + " of " + file);
        }
      }

      @Override
      public void onJournal(JournalPoint point, Path journal) {
        compacting[0] |= point == JournalPoint.COMPACTION_STARTED;
        if (at.equals(point.name()) && seen.incrementAndGet() == n) {
          killed = true;
          throw new IllegalStateException("killed at " + point);
        }
      }
    };
  }

  /** A listener that counts the passes of {@code point} into {@code count}. */
  static FileStateStore.WriteListener counting(JournalPoint point, AtomicInteger count) {
    return new FileStateStore.WriteListener() {
      @Override
      public void onWrite(Path file, boolean after) { }

      @Override
      public void onJournal(JournalPoint p, Path file) {
        if (p == point) {
          count.incrementAndGet();
        }
      }
    };
  }

  private StoredState loadFresh() {
    try (FileStateStore s = open()) {
      return s.load();
    }
  }

  /** Writes {@code a1, b2} applied and {@code c3} pending, as two batches, with the lock held by {@code s}. */
  private static void twoBatches(FileStateStore s) {
    s.writeBatch(StoreBatch.builder().pending(res(A, 1)).pending(res(B, 2)).pending(res(C, 3)).build());
    s.writeBatch(StoreBatch.builder().applied(res(A, 1), "r1").applied(res(B, 2), "r1").build());
  }

  private static void assertTwoBatches(StoredState st) {
    assertThat(st.inventory()).containsOnlyKeys(A, B);
    assertThat(st.inventory().get(B).resource()).isEqualTo(res(B, 2));
    assertThat(st.inventory().get(A).serial()).isEqualTo(4);
    assertThat(st.inventory().get(B).serial()).isEqualTo(5);
    assertThat(st.pending()).containsOnlyKeys(C);
    assertThat(st.serial()).isEqualTo(5);
  }

  @Test
  void aBatchIsOneAppendWithOneFsyncAndTheJournalStaysBetweenSyncsUntilItIsCompacted() throws IOException {
    List<String> events = new ArrayList<>();
    FileStateStore.WriteListener record = new FileStateStore.WriteListener() {
      @Override
      public void onWrite(Path file, boolean after) {
        events.add((after ? "after " : "before ") + dir().relativize(file));
      }

      @Override
      public void onJournal(JournalPoint point, Path file) {
        events.add(point.name());
      }
    };
    try (FileStateStore s = open(record); StoreLock l = s.lock(LONG)) {
      twoBatches(s);
      assertThat(events).filteredOn(e -> e.equals("SYNCED")).hasSize(2);
      assertThat(events).filteredOn(e -> e.startsWith("APPEND")).hasSize(6);
      assertTwoBatches(loadFresh());
    }
    assertThat(events).as("a small journal is not compacted").doesNotContain("COMPACTION_STARTED");
    assertThat(journal()).exists();
    assertThat(dir().resolve("inventory")).doesNotExist();
    assertThat(dir().resolve(StoreSnapshot.FILE)).doesNotExist();
    assertTwoBatches(loadFresh());

    events.clear();
    try (FileStateStore s = compacting(record); StoreLock l = s.lock(LONG)) {
      assertTwoBatches(s.load());
    }
    assertThat(events).containsSubsequence("COMPACTION_STARTED", "SNAPSHOT_WRITTEN", "SNAPSHOT_RENAMED",
        "JOURNAL_REMOVED", "after meta.json");
    assertThat(journal()).doesNotExist();
    assertThat(dir().resolve(StoreSnapshot.FILE)).exists();
    assertTwoBatches(loadFresh());
  }

  @Test
  void batchesAreReplayedWhenTheProcessDiesBeforeCompactionAndTheJournalIsKept() {
    try (FileStateStore s = compacting(crashAt("COMPACTION_STARTED", 1)); StoreLock l = s.lock(LONG)) {
      twoBatches(s);
    }
    assertThat(journal()).exists();
    assertThat(dir().resolve(StoreSnapshot.FILE)).doesNotExist();
    assertTwoBatches(loadFresh());
    try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
      assertTwoBatches(s.load());
      s.commit(res(C, 3), "r2");
    }
    assertThat(loadFresh().inventory()).containsOnlyKeys(A, B, C);
  }

  @Test
  void aTornLastRecordIsDiscardedAndCutOffAtTheNextLock() throws IOException {
    try (FileStateStore s = open(crashAt("APPEND_HALF_WRITTEN", 2)); StoreLock l = s.lock(LONG)) {
      s.writeBatch(StoreBatch.builder().pending(res(A, 1)).build());
      assertThatThrownBy(() -> s.writeBatch(StoreBatch.builder().applied(res(A, 1), "r1").build()))
          .hasMessageContaining("killed");
      assertThatThrownBy(() -> s.writePending(res(B, 1))).isInstanceOf(StoreException.class)
          .hasMessageContaining("appending to the journal");
    }
    long torn = Files.size(journal());
    StoredState st = loadFresh();
    assertThat(st.pending()).containsOnlyKeys(A);
    assertThat(st.inventory()).isEmpty();
    List<JournalPoint> points = new ArrayList<>();
    FileStateStore.WriteListener seen = new FileStateStore.WriteListener() {
      @Override
      public void onWrite(Path file, boolean after) { }

      @Override
      public void onJournal(JournalPoint point, Path journal) {
        points.add(point);
      }
    };
    try (FileStateStore s = open(seen); StoreLock l = s.lock(LONG)) {
      assertThat(points).startsWith(JournalPoint.TAIL_TRUNCATED);
      assertThat(s.load().pending()).containsOnlyKeys(A);
      assertThat(Files.size(journal())).as("cut to the whole record").isLessThan(torn).isPositive();
      s.commit(res(A, 1), "r1");
    }
    StoredState after = loadFresh();
    assertThat(after.pending()).isEmpty();
    assertThat(after.inventory()).containsOnlyKeys(A);
  }

  @Test
  void damageBeforeTheLastRecordRefusesWritesNamingTheFileAndOffset() throws IOException {
    try (FileStateStore s = open(crashAt("COMPACTION_STARTED", 1)); StoreLock l = s.lock(LONG)) {
      twoBatches(s);
    }
    byte[] bytes = Files.readAllBytes(journal());
    byte[] damaged = bytes.clone();
    damaged[StoreJournal.HEADER + 5] ^= 0x20;
    Files.write(journal(), damaged);
    try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
      assertThatThrownBy(s::load).isInstanceOf(StoreCorruptException.class)
          .hasMessageContaining(journal().toString()).hasMessageContaining("byte offset 0")
          .hasMessageContaining("checksum");
      assertThatThrownBy(() -> s.writePending(res(A, 9))).isInstanceOf(StoreCorruptException.class)
          .hasMessageContaining("refuses");
    }
    assertThat(Files.readAllBytes(journal())).as("a damaged journal is never cut or compacted").isEqualTo(damaged);

    // a broken header in the middle is damage at its own offset
    int second = StoreJournal.HEADER + java.nio.ByteBuffer.wrap(bytes, 4, 4).getInt();
    damaged = bytes.clone();
    damaged[second + 1] ^= 0x01;
    Files.write(journal(), damaged);
    try (FileStateStore s = open()) {
      assertThatThrownBy(s::load).isInstanceOf(StoreCorruptException.class)
          .hasMessageContaining("byte offset " + second).hasMessageContaining("not a record header");
    }
    Files.write(journal(), bytes);
    assertTwoBatches(loadFresh());
  }

  @Test
  void theScanTellsATornTailFromDamage() throws Exception {
    byte[] one = StoreJournal.frame("{\"a\":1}".getBytes(StandardCharsets.UTF_8));
    byte[] two = StoreJournal.frame("{\"b\":22}".getBytes(StandardCharsets.UTF_8));
    byte[] both = concat(one, two);
    assertThat(StoreJournal.scan(both).records()).hasSize(2);
    assertThat(StoreJournal.scan(both).hasTornTail()).isFalse();
    for (int cut = one.length + 1; cut < both.length; cut++) {
      StoreJournal.Scan s = StoreJournal.scan(Arrays.copyOf(both, cut));
      assertThat(s.records()).as("cut at %d", cut).hasSize(1);
      assertThat(s.end()).isEqualTo(one.length);
    }
    byte[] lastBad = both.clone();
    lastBad[both.length - 1] ^= 0x40;
    assertThat(StoreJournal.scan(lastBad).torn()).contains("last record");
    assertThat(StoreJournal.scan(concat(both, new byte[100])).torn()).contains("zero bytes");
    assertThat(StoreJournal.scan(concat(both, new byte[100])).records()).hasSize(2);

    byte[] firstBad = both.clone();
    firstBad[StoreJournal.HEADER] ^= 0x40;
    assertThatThrownBy(() -> StoreJournal.scan(firstBad)).isInstanceOf(StoreJournal.DamageException.class)
        .hasMessageContaining("byte offset 0");
    byte[] garbageTail = concat(both, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17});
    assertThatThrownBy(() -> StoreJournal.scan(garbageTail)).isInstanceOf(StoreJournal.DamageException.class)
        .hasMessageContaining("byte offset " + both.length);
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  @Test
  void aCrashAtAnyWriteOfACompactionLoadsTheSameAndTheNextLockFinishesIt() throws IOException {
    // a snapshot of an earlier sync, which the journal then changes: b updated, c committed, a forgotten
    try (FileStateStore s = compacting(FileStateStore.WriteListener.NONE); StoreLock l = s.lock(LONG)) {
      s.commit(res(A, 0), "r0");
      s.commit(res(B, 0), "r0");
      s.writePending(res(C, 0));
    }
    assertThat(dir().resolve(StoreSnapshot.FILE)).exists();
    Path base = tmp.resolve("base");
    copy(dir(), base);
    List<String> points = List.of("COMPACTION_STARTED", "SNAPSHOT_WRITTEN", "SNAPSHOT_RENAMED", "JOURNAL_REMOVED",
        "compaction-file");
    int kills = 0;
    for (String point : points) {
      for (int n = 1; ; n++) {
        deleteTree(dir());
        copy(base, dir());
        killed = false;
        try (FileStateStore s = compacting(crashAt(point, n)); StoreLock l = s.lock(LONG)) {
          s.writeBatch(StoreBatch.builder().pending(res(B, 1)).pending(res(C, 1)).build());
          s.writeBatch(StoreBatch.builder().applied(res(B, 1), "r1").applied(res(C, 1), "r1").forget(A).build());
        }
        boolean crashed = killed;
        String where = point + " #" + n;
        StoredState st = loadFresh();
        assertThat(st.inventory()).as("after a crash at %s", where).containsOnlyKeys(B, C);
        assertThat(st.inventory().get(B).resource()).isEqualTo(res(B, 1));
        assertThat(st.inventory().get(C).serial()).isEqualTo(7);
        assertThat(st.pending()).isEmpty();
        assertThat(st.serial()).as(where).isEqualTo(8);
        try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
          if (crashed && (point.equals("SNAPSHOT_RENAMED") || point.equals("JOURNAL_REMOVED"))) {
            // the lock finished the compaction and rewrote meta.json before any load: it still
            // records the entry writes the snapshot holds (a journal cut later is found by them)
            assertThat(Files.readString(dir().resolve("meta.json"))).as(where).containsPattern("\"entries\"\\s*:\\s*8\\b");
          }
          assertThat(s.load().inventory()).containsOnlyKeys(B, C);
          if (point.equals("SNAPSHOT_RENAMED") || point.equals("JOURNAL_REMOVED")) {
            assertThat(journal()).as("the lock removes a journal the snapshot includes").doesNotExist();
          }
          s.recordRevisions("r1", "r1");
        }
        assertThat(loadFresh().inventory()).containsOnlyKeys(B, C);
        if (!crashed) {
          break;
        }
        kills++;
      }
    }
    assertThat(kills).as("kill points inside compaction").isGreaterThanOrEqualTo(6);
  }

  @Test
  void singleWritesAfterABatchGoToTheJournalSoReplayKeepsTheirOrder() {
    try (FileStateStore s = open(crashAt("COMPACTION_STARTED", 1)); StoreLock l = s.lock(LONG)) {
      s.writeBatch(StoreBatch.builder().pending(res(A, 1)).build());
      s.commit(res(A, 1), "r1");
      s.writePending(res(B, 1));
      s.clearPending(B);
      assertThat(dir().resolve("inventory").resolve(KeyFileNames.of(A))).doesNotExist();
    }
    StoredState st = loadFresh();
    assertThat(st.inventory()).containsOnlyKeys(A);
    assertThat(st.pending()).isEmpty();
    assertThat(st.serial()).isEqualTo(4);
  }

  @Test
  void withGroupCommitOffEveryOpOfABatchIsItsOwnAppend() {
    AtomicInteger synced = new AtomicInteger();
    FileStateStore.Options off = FileStateStore.Options.defaults().withJournal(false)
        .withWriteListener(counting(JournalPoint.SYNCED, synced));
    try (FileStateStore s = FileStateStore.open(dir(), off); StoreLock l = s.lock(LONG)) {
      twoBatches(s);
    }
    assertThat(synced).hasValue(5);
    assertTwoBatches(loadFresh());
  }

  static void copy(Path from, Path to) throws IOException {
    try (var walk = Files.walk(from)) {
      for (Path p : walk.toList()) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
  }

  static void deleteTree(Path d) throws IOException {
    if (!Files.exists(d)) {
      return;
    }
    try (var walk = Files.walk(d)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
