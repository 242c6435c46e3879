package dev.gitops.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;
import static dev.gitops.core.store.StoreFixtures.A;
import static dev.gitops.core.store.StoreFixtures.B;
import static dev.gitops.core.store.StoreFixtures.LONG;
import static dev.gitops.core.store.StoreFixtures.SHORT;
import static dev.gitops.core.store.StoreFixtures.doc;
import static dev.gitops.core.store.StoreFixtures.entry;
import static dev.gitops.core.store.StoreFixtures.resource;
import static dev.gitops.core.store.StoreFixtures.richResource;

import dev.gitops.api.Documents;
import dev.gitops.api.Origin;
import dev.gitops.api.PathPattern;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.StoreCorruptException;
import dev.gitops.api.StoreException;
import dev.gitops.api.StoreLockedException;
import dev.gitops.api.spi.HistoryEntry;
import dev.gitops.api.spi.StateStore;
import dev.gitops.api.spi.StoreLock;
import dev.gitops.api.spi.StoredState;
import dev.gitops.core.LogCapture;
import dev.gitops.core.internal.fs.DurableFiles;
import dev.gitops.core.internal.fs.KeyFileNames;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

// locks are held for a try block's scope without being referenced in it
@SuppressWarnings("try")
class FileStateStoreTest {

  private static final ResourceKey C = ResourceKey.of("files", "file", "", "c.txt");
  private static final ResourceKey D = ResourceKey.of("files", "file", "", "d.txt");

  @TempDir
  Path tmp;

  private Path storeDir() {
    return tmp.resolve("s");
  }

  private FileStateStore open() {
    return FileStateStore.open(storeDir(), FileStateStore.Options.defaults().withHistoryLimit(3));
  }

  /** Writes through a store that is closed afterwards, as a finished process would. */
  private void commitAndClose(Resource... resources) {
    try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
      for (Resource r : resources) {
        s.writePending(r);
        s.commit(r, "main@sha1:1");
      }
      s.writePending(resource(A, "{\"pending\":true}"));
      s.recordRevisions("main@sha1:2", "main@sha1:1");
    }
  }

  /** {@link #commitAndClose}, then the store rewritten as format 1 (per-key files), as older builds left it. */
  private void commitAndCloseLegacy(Resource... resources) throws IOException {
    commitAndClose(resources);
    LegacyStores.downgrade(storeDir());
  }

  private Path inventoryFile(ResourceKey key) {
    return storeDir().resolve("inventory").resolve(KeyFileNames.of(key));
  }

  @Test
  void aStoreDirectoryOthersCanReadIsWarnedAboutOncePerModeNotAtEveryLock() throws IOException {
    Path dir = Files.createDirectories(storeDir());
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    try (LogCapture logs = LogCapture.of(FileStateStore.class, "WARN");
        FileStateStore s = open()) {
      for (int i = 0; i < 3; i++) {
        try (StoreLock l = s.lock(LONG)) {
          assertThat(l).isNotNull();
        }
      }
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwx---"));
      try (StoreLock l = s.lock(LONG)) {
        assertThat(l).isNotNull();
      }
      assertThat(logs.lines()).filteredOn(l -> l.contains("is accessible to other users")).hasSize(2)
          .anySatisfy(l -> assertThat(l).contains("rwxr-xr-x")).anySatisfy(l -> assertThat(l).contains("rwxrwx---"));
    }
  }

  @Test
  void aStringLongerThanJacksonsDefaultBoundIsLoadedAgainFromTheJournalAndTheSnapshot() {
    // a 21 MB text file is one string in its document: Jackson's default bound for reads is 20M characters
    Resource huge = resource(C, "{}").withDocument(Documents.object(java.util.Map.of("content",
        com.fasterxml.jackson.databind.node.TextNode.valueOf("x".repeat(20_100_000)))));
    commitAndClose(huge);
    try (FileStateStore s = open()) {
      assertThat(s.load().inventory().get(C).resource()).isEqualTo(huge);
    }
    try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
      s.compact();
    }
    try (FileStateStore s = open()) {
      assertThat(s.load().inventory().get(C).resource()).isEqualTo(huge);
    }
  }

  @Test
  void reopenedStoreLoadsWhatWasCommitted() {
    Resource rich = richResource();
    Resource a = resource(A, "{\"n\":1.0,\"m\":[0.1,-2e-7,1e300]}");
    commitAndClose(a, rich);
    try (FileStateStore s = open()) {
      StoredState st = s.load();
      assertThat(st.fresh()).isFalse();
      assertThat(st.inventory()).containsOnlyKeys(A, B);
      assertThat(st.inventory().get(B).resource()).isEqualTo(rich);
      assertThat(st.inventory().get(B).revision()).isEqualTo("main@sha1:1");
      assertThat(st.inventory().get(A).resource()).isEqualTo(a);
      assertThat(st.pending()).containsOnlyKeys(A);
      assertThat(st.pending().get(A).document()).isEqualTo(doc("{\"pending\":true}"));
      assertThat(st.lastAttemptedRevision()).isEqualTo("main@sha1:2");
      assertThat(st.lastAppliedRevision()).isEqualTo("main@sha1:1");
      assertThat(st.serial()).isEqualTo(6);
    }
  }

  @Test
  void warmingUpFromAnotherThreadWhileAStoreIsReadChangesNothingItReads() throws Exception {
    Resource a = resource(A, "{\"n\":1.0,\"m\":[0.1,-2e-7,1e300]}");
    commitAndClose(a);
    Thread warm = new Thread(FileStateStore::warmUp, "warm-up");
    warm.start();
    try (FileStateStore s = open()) {
      assertThat(s.load().inventory().get(A).resource()).isEqualTo(a);
    }
    warm.join(10_000);
    assertThat(warm.isAlive()).isFalse();
    FileStateStore.warmUp();  // again, on this thread: initialized once, reads nothing
    try (var files = Files.list(tmp)) {
      assertThat(files.map(f -> f.getFileName().toString())).containsExactly("s");
    }
  }

  @Test
  void serialContinuesAcrossProcessesAndLocks() {
    commitAndClose(resource(B, "{}"));
    try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
      assertThat(s.commit(resource(B, "{\"v\":2}"), "r").serial()).isEqualTo(5);
    }
  }

  @Test
  void aMissingDirectoryIsFreshAndNotCreatedByLoading() {
    try (FileStateStore s = open()) {
      assertThat(s.load()).isEqualTo(StoredState.empty());
      assertThat(storeDir()).doesNotExist();
    }
  }

  @Test
  void isFreshSaysWhatLoadWouldUntilASyncWroteTheStoreWithoutReadingIt() {
    try (FileStateStore s = open()) {
      assertThat(s.isFresh()).as("missing").isTrue();
      s.secretKey();
      assertThat(s.isFresh()).as("a secret key alone records no sync").isEqualTo(s.load().fresh()).isTrue();
    }
    commitAndClose(resource(A, "{}"));
    try (FileStateStore s = FileStateStore.openReadOnly(storeDir())) {
      assertThat(s.isFresh()).isEqualTo(s.load().fresh()).isFalse();
    }
  }

  @Test
  void aLockedButUnwrittenStoreStaysFresh() {
    try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
      assertThat(s.load().fresh()).isTrue();
    }
  }

  @Test
  void aTruncatedInventoryFileIsCorruptAndForbidsWrites() throws IOException {
    commitAndCloseLegacy(resource(B, "{\"spec\":{\"replicas\":3}}"));
    Path f = inventoryFile(B);
    byte[] bytes = Files.readAllBytes(f);
    Files.write(f, Arrays.copyOf(bytes, bytes.length / 2));
    try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
      assertThatThrownBy(s::load).isInstanceOf(StoreCorruptException.class)
          .hasMessageContaining(f.toString()).hasMessageContaining("not valid JSON");
      assertRefusesWrites(s);
    }
    assertThat(Files.readAllBytes(f)).hasSize(bytes.length / 2);
  }

  @Test
  void garbageBytesAreCorrupt() throws IOException {
    commitAndCloseLegacy(resource(B, "{}"));
    Path f = inventoryFile(B);
    Files.write(f, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, 2, '{'});
    try (FileStateStore s = open()) {
      assertThatThrownBy(s::load).isInstanceOf(StoreCorruptException.class).hasMessageContaining(f.toString());
    }
  }

  @Test
  void anEmptyFileIsCorrupt() throws IOException {
    commitAndCloseLegacy(resource(B, "{}"));
    Path f = storeDir().resolve("pending").resolve(KeyFileNames.of(A));
    Files.write(f, new byte[0]);
    try (FileStateStore s = open()) {
      assertThatThrownBy(s::load).isInstanceOf(StoreCorruptException.class)
          .hasMessageContaining(f.toString()).hasMessageContaining("empty");
    }
  }

  @Test
  void aFileHoldingAnotherKeyIsCorrupt() throws IOException {
    commitAndCloseLegacy(resource(B, "{}"));
    Path wrong = inventoryFile(A);
    Files.copy(inventoryFile(B), wrong);
    try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
      assertThatThrownBy(s::load).isInstanceOf(StoreCorruptException.class)
          .hasMessageContaining(wrong.toString()).hasMessageContaining("holds key " + B);
      assertRefusesWrites(s);
    }
  }

  @Test
  void aMissingKeyDirectoryIsCorruptAndNeverRecreatedEmpty() throws IOException {
    for (String lost : List.of("inventory", "pending", "history", "history of format 2")) {
      if (lost.endsWith("2")) {
        lost = "history";
        commitAndClose(resource(B, "{}"));
      } else {
        commitAndCloseLegacy(resource(B, "{}"));
      }
      Path d = storeDir().resolve(lost);
      deleteTree(d);
      // A writer that never loads (as a resync with a snapshot does) must not recreate it either.
      try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
        assertThatThrownBy(() -> s.commit(resource(A, "{}"), "r")).isInstanceOf(StoreCorruptException.class)
            .hasMessageContaining(d.toString()).hasMessageContaining("missing");
        assertThatThrownBy(s::load).isInstanceOf(StoreCorruptException.class).hasMessageContaining(d.toString());
        assertRefusesWrites(s);
      }
      assertThat(d).as(lost).doesNotExist();
      deleteTree(storeDir());
    }
  }

  @Test
  void aMissingOrExtraEntryIsCorruptNamingTheCount() throws IOException {
    commitAndCloseLegacy(resource(B, "{}"), resource(C, "{}"));
    Path gone = inventoryFile(C);
    byte[] kept = Files.readAllBytes(gone);
    Files.delete(gone);
    try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
      assertThatThrownBy(s::load).isInstanceOf(StoreCorruptException.class)
          .hasMessageContaining(storeDir().resolve("inventory").toString()).hasMessageContaining("1 missing");
      assertRefusesWrites(s);
    }
    Files.write(gone, kept);
    Path stray = storeDir().resolve("pending").resolve("notes.txt");
    Files.writeString(stray, "left by hand");
    try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
      assertThatThrownBy(s::load).isInstanceOf(StoreCorruptException.class)
          .hasMessageContaining(stray.toString()).hasMessageContaining("extra");
    }
    Files.delete(stray);
    // A valid entry of another store copied in is extra too.
    try (FileStateStore other = FileStateStore.open(tmp.resolve("other")); StoreLock l = other.lock(LONG)) {
      other.commit(resource(D, "{}"), "r");
    }
    LegacyStores.downgrade(tmp.resolve("other"));
    Files.copy(tmp.resolve("other/inventory").resolve(KeyFileNames.of(D)), inventoryFile(D));
    try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
      assertThatThrownBy(s::load).isInstanceOf(StoreCorruptException.class).hasMessageContaining("1 extra");
    }
    Files.delete(inventoryFile(D));
    try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
      assertThat(s.load().inventory()).containsOnlyKeys(B, C);
    }
  }

  @Test
  void aCommitCutShortBeforeItsAppendLeavesThePendingRecord() {
    commitAndClose(resource(B, "{}"));
    FileStateStore.Options crashing = FileStateStore.Options.defaults().withWriteListener(
        new FileStateStore.WriteListener() {
          int appends;

          @Override
          public void onWrite(Path file, boolean after) { }

          @Override
          public void onJournal(FileStateStore.JournalPoint point, Path file) {
            if (point == FileStateStore.JournalPoint.APPEND_STARTED && ++appends == 2) {
              throw new IllegalStateException("killed before the append");
            }
          }
        });
    try (FileStateStore s = FileStateStore.open(storeDir(), crashing); StoreLock l = s.lock(LONG)) {
      s.writePending(resource(C, "{}"));
      assertThatThrownBy(() -> s.commit(resource(C, "{}"), "r")).hasMessageContaining("killed");
    }
    try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
      StoredState st = s.load();
      assertThat(st.inventory()).containsOnlyKeys(B);
      assertThat(st.pending()).containsKeys(C);
      s.commit(resource(C, "{}"), "r");
    }
    try (FileStateStore s = open()) {
      assertThat(s.load().inventory()).containsOnlyKeys(B, C);
    }
  }

  @Test
  void aReadOnlyStoreCreatesNothingAndRefusesWrites() throws IOException {
    try (FileStateStore s = FileStateStore.openReadOnly(storeDir()); StoreLock l = s.lock(LONG)) {
      assertThat(s.load().fresh()).isTrue();
      assertThat(s.history()).isEmpty();
      assertThat(s.secretKey()).hasSize(32).isEqualTo(s.secretKey());
      assertThatThrownBy(() -> s.commit(resource(A, "{}"), "r")).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("read-only");
    }
    assertThat(storeDir()).doesNotExist();

    commitAndClose(resource(B, "{}"));
    Files.delete(storeDir().resolve("lock"));
    byte[] secret;
    try (FileStateStore w = open(); StoreLock l = w.lock(LONG)) {
      secret = w.secretKey();
    }
    Files.delete(storeDir().resolve("lock"));
    Set<String> before = listing(storeDir());
    try (FileStateStore s = FileStateStore.openReadOnly(storeDir()); StoreLock l = s.lock(LONG)) {
      assertThat(s.load().inventory()).containsOnlyKeys(B);
      assertThat(s.secretKey()).isEqualTo(secret);
    }
    assertThat(listing(storeDir())).isEqualTo(before);
  }

  @Test
  void aReadOnlyStoreWaitsForAWriter() {
    commitAndClose(resource(B, "{}"));
    try (FileStateStore w = open(); StoreLock l = w.lock(LONG);
         FileStateStore r = FileStateStore.openReadOnly(storeDir())) {
      assertThatThrownBy(() -> r.lock(Duration.ofMillis(200))).isInstanceOf(StoreLockedException.class);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(f);
      }
    }
  }

  private static Set<String> listing(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.map(p -> dir.relativize(p).toString()).collect(Collectors.toSet());
    }
  }

  @Test
  void validJsonOfTheWrongShapeIsCorrupt() throws IOException {
    commitAndCloseLegacy(resource(B, "{}"));
    Path f = inventoryFile(B);
    Files.writeString(f, "{\"key\":\"" + B + "\",\"serial\":\"seven\"}");
    try (FileStateStore s = open()) {
      assertThatThrownBy(s::load).isInstanceOf(StoreCorruptException.class).hasMessageContaining(f.toString());
    }
  }

  /** Appends {@code entry(1)} to a new store and returns the history file it went to. */
  private Path oneHistoryFile() throws IOException {
    try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
      s.appendHistory(entry(1));
    }
    try (Stream<Path> files = Files.list(storeDir().resolve("history"))) {
      return files.findFirst().orElseThrow();
    }
  }

  @Test
  void aCorruptHistoryFileIsCorrupt() throws IOException {
    Path f = oneHistoryFile();
    Files.writeString(f, "{\"id\":");
    try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
      assertThatThrownBy(s::history).isInstanceOf(StoreCorruptException.class).hasMessageContaining(f.toString());
      assertRefusesWrites(s);
    }
  }

  /** Before, a history entry replaced by a directory or a link was skipped: the history read as empty, writes went on. */
  @Test
  void aHistoryEntryReplacedByADirectoryOrALinkIsCorruptNotSkipped() throws IOException {
    Path f = oneHistoryFile();
    byte[] bytes = Files.readAllBytes(f);
    for (String how : List.of("directory", "link to /dev/null", "broken link")) {
      Files.deleteIfExists(f);
      switch (how) {
        case "directory" -> Files.createDirectory(f);
        case "link to /dev/null" -> Files.createSymbolicLink(f, Path.of("/dev/null"));
        default -> Files.createSymbolicLink(f, f.resolveSibling("gone.json"));
      }
      try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
        assertThatThrownBy(s::history).as(how).isInstanceOf(StoreCorruptException.class)
            .hasMessageContaining(f.toString()).hasMessageContaining("is not a regular file");
        assertRefusesWrites(s);
      }
      try (FileStateStore s = FileStateStore.openReadOnly(storeDir())) {
        assertThatThrownBy(s::history).as(how).isInstanceOf(StoreCorruptException.class)
            .hasMessageContaining(f.toString());
      }
      assertThat(Files.isRegularFile(f)).as(how).isFalse();
      Files.delete(f);
    }
    Files.write(f, bytes);
    try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
      assertThat(s.history()).as("repaired").hasSize(1);
    }
  }

  @Test
  void historyStatusIsStoredAsItsNameAndReadBackAsTheEnum() throws IOException {
    Path f = oneHistoryFile();
    com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
    com.fasterxml.jackson.databind.node.ObjectNode onDisk = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(f.toFile());
    // the file format did not change: stores written before the enum (and after it) hold the name as a string
    assertThat(onDisk.get("status").isTextual()).isTrue();
    assertThat(onDisk.get("status").textValue()).isEqualTo(entry(1).status().name());

    onDisk.put("status", "INCOMPLETE");
    Files.writeString(f, json.writeValueAsString(onDisk));
    try (FileStateStore s = open()) {
      assertThat(s.history()).singleElement().satisfies(h -> {
        assertThat(h.status()).isEqualTo(dev.gitops.api.SyncResult.Status.INCOMPLETE);
        assertThat(h.succeeded()).isFalse();
      });
    }

    onDisk.put("status", "EXPLODED");
    Files.writeString(f, json.writeValueAsString(onDisk));
    try (FileStateStore s = open()) {
      assertThatThrownBy(s::history).isInstanceOf(StoreCorruptException.class).hasMessageContaining(f.toString())
          .hasMessageContaining("'EXPLODED'").hasMessageContaining("SUCCEEDED");
    }
  }

  /**
   * The operation is stored as its name; an entry an older build wrote has none and is read as the
   * operation its other fields show (HistoryEntry.Operation), a sync unless they show otherwise.
   */
  @Test
  void historyOperationIsStoredAsItsNameAndAnOlderEntryWithoutOneIsReadAsItsFieldsShow() throws IOException {
    Path f = oneHistoryFile();
    com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
    com.fasterxml.jackson.databind.node.ObjectNode onDisk = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(f.toFile());
    assertThat(onDisk.path("operation").textValue()).isEqualTo("SYNC");

    onDisk.remove("operation");
    String[][] older = {  // revision, message, read as
        {"main@sha1:1", "2 to create, 0 to update, 0 to replace, 0 to delete, 0 skipped, 0 unchanged", "SYNC"},
        {"main@sha1:1", "forgot 1 of 2; 0 to create, 0 to update, 0 to replace, 0 to delete, 2 to forget, 0 skipped, 0"
            + " unchanged", "FORGET"},
        {"destroy", "orphaned everything; 0 to create, 0 to update, 0 to replace, 0 to delete, 0 skipped, 0 unchanged",
            "DESTROY_ORPHAN"},
        {"destroy", "0 to create, 0 to update, 0 to replace, 3 to delete, 0 skipped, 0 unchanged", "DESTROY"}};
    for (String[] o : older) {
      onDisk.put("revision", o[0]).put("message", o[1]);
      Files.writeString(f, json.writeValueAsString(onDisk));
      try (FileStateStore s = open()) {
        assertThat(s.history()).as(o[1]).singleElement().satisfies(h -> {
          assertThat(h.operation()).isEqualTo(HistoryEntry.Operation.valueOf(o[2]));
          assertThat(h.message()).isEqualTo(o[1]);
        });
      }
    }

    onDisk.put("operation", "ROLLBACK");
    Files.writeString(f, json.writeValueAsString(onDisk));
    try (FileStateStore s = open()) {
      assertThatThrownBy(s::history).isInstanceOf(StoreCorruptException.class).hasMessageContaining(f.toString())
          .hasMessageContaining("field 'operation' is 'ROLLBACK'").hasMessageContaining("FORGET");
    }
  }

  @Test
  void aMissingMetaFileWithInventoryIsCorrupt() throws IOException {
    commitAndClose(resource(B, "{}"));
    Files.delete(storeDir().resolve("meta.json"));
    try (FileStateStore s = open()) {
      assertThatThrownBy(s::load).isInstanceOf(StoreCorruptException.class).hasMessageContaining("meta.json");
    }
  }

  @Test
  void aReopenedStoreWritesAgainOnceRepaired() throws IOException {
    commitAndCloseLegacy(resource(B, "{}"));
    Path f = inventoryFile(B);
    byte[] good = Files.readAllBytes(f);
    Files.writeString(f, "garbage");
    try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
      assertThatThrownBy(s::load).isInstanceOf(StoreCorruptException.class);
      Files.write(f, good);
      assertThatThrownBy(() -> s.forget(B)).isInstanceOf(StoreCorruptException.class);
    }
    try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
      s.load();
      s.forget(B);
      assertThat(s.load().inventory()).doesNotContainKey(B);
    }
  }

  /**
   * A FIFO put where one of the store's own files is would block the open that reads it until some
   * writer came, and a sync's load has no timeout: none is opened. A file the records live in is
   * damage naming it, the lock file cannot be opened, a hint is ignored; nothing hangs.
   */
  @Test
  void aFifoWhereAStoreFileIsIsNeverOpened() throws Exception {
    try (FileStateStore s = FileStateStore.open(storeDir(), FileStateStore.Options.defaults().withCompactionBytes(1));
        StoreLock l = s.lock(LONG)) {
      s.writePending(resource(A, "{\"n\":1}"));
      s.commit(resource(A, "{\"n\":1}"), "main@sha1:1");
    }
    commitAndClose(resource(B, "{\"n\":2}"));
    try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
      s.recordNoChangeMarker("fp");
      s.recordNoChangeDigests("fp", java.util.Map.of(A.toString(), "a".repeat(64)));
    }
    List<String> records = List.of("format", "meta.json", StoreSnapshot.FILE, "journal");
    List<String> hints = List.of(FileStateStore.MARKER_FILE, FileStateStore.DIGESTS_FILE);
    for (String name : records) {
      assertThat(storeDir().resolve(name)).as(name).isRegularFile();
    }
    int n = 0;
    for (String name : concat(records, hints, List.of("lock"))) {
      Path copy = tmp.resolve("fifo-" + n++);
      copyTree(storeDir(), copy);
      Path fifo = copy.resolve(name);
      Files.delete(fifo);
      assumeThat(mkfifo(fifo)).as("mkfifo").isTrue();
      org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
        if (hints.contains(name)) {
          try (FileStateStore s = FileStateStore.open(copy); StoreLock l = s.lock(LONG)) {
            assertThat(s.load().inventory()).containsOnlyKeys(A, B);
            boolean marker = name.equals(FileStateStore.MARKER_FILE);
            assertThat(s.noChangeMarker()).as(name).isEqualTo(marker ? java.util.Optional.empty()
                : java.util.Optional.of("fp"));
            assertThat(s.noChangeDigests("fp")).as(name).hasSize(marker ? 1 : 0);
          }
          return;
        }
        Class<? extends StoreException> want = name.equals("lock") ? StoreException.class
            : StoreCorruptException.class;
        assertThatThrownBy(() -> {
          try (FileStateStore s = FileStateStore.open(copy); StoreLock l = s.lock(LONG)) {
            s.load();
          }
        }).as(name).isInstanceOf(want).hasMessageContaining(fifo.toString()).hasMessageContaining("not a regular file");
        assertThatThrownBy(() -> {
          try (FileStateStore s = FileStateStore.openReadOnly(copy); StoreLock l = s.lock(LONG)) {
            s.load();
          }
        }).as(name + ", read-only").isInstanceOf(want).hasMessageContaining(fifo.toString());
      });
    }
  }

  /** A store file that is a link to a regular file (a key kept elsewhere, say) is read through it, as before. */
  @Test
  void aStoreFileThatLinksToARegularFileIsRead() throws Exception {
    commitAndClose(resource(B, "{\"n\":2}"));
    for (String name : List.of("format", "meta.json", "journal")) {
      Path f = storeDir().resolve(name);
      Path elsewhere = tmp.resolve("elsewhere-" + name);
      Files.move(f, elsewhere);
      Files.createSymbolicLink(f, elsewhere);
    }
    try (FileStateStore s = FileStateStore.openReadOnly(storeDir()); StoreLock l = s.lock(LONG)) {
      assertThat(s.load().inventory()).containsKey(B);
    }
  }

  @SafeVarargs
  private static List<String> concat(List<String>... lists) {
    return Stream.of(lists).flatMap(List::stream).collect(Collectors.toList());
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> all = Files.walk(from)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
  }

  private static boolean mkfifo(Path p) throws IOException, InterruptedException {
    try {
      return new ProcessBuilder("mkfifo", p.toString()).inheritIO().start().waitFor() == 0;
    } catch (IOException e) {
      return false;  // no mkfifo here
    }
  }

  private void assertRefusesWrites(FileStateStore s) throws IOException {
    byte[] before = Files.readAllBytes(storeDir().resolve("meta.json"));
    assertThatThrownBy(() -> s.writePending(resource(A, "{}"))).isInstanceOf(StoreCorruptException.class)
        .hasMessageContaining("refuses");
    assertThatThrownBy(() -> s.commit(resource(A, "{}"), "r")).isInstanceOf(StoreCorruptException.class);
    assertThatThrownBy(() -> s.forget(B)).isInstanceOf(StoreCorruptException.class);
    assertThatThrownBy(() -> s.clearPending(A)).isInstanceOf(StoreCorruptException.class);
    assertThatThrownBy(() -> s.recordRevisions("r", "r")).isInstanceOf(StoreCorruptException.class);
    assertThatThrownBy(() -> s.appendHistory(entry(9))).isInstanceOf(StoreCorruptException.class);
    assertThat(Files.readAllBytes(storeDir().resolve("meta.json"))).isEqualTo(before);
  }

  @Test
  void aNewerFormatIsRefusedWithAClearError() throws IOException {
    commitAndClose(resource(B, "{}"));
    Files.writeString(storeDir().resolve("format"), "7\n");
    byte[] journal = Files.readAllBytes(storeDir().resolve(StoreJournal.FILE));
    try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
      assertThatThrownBy(s::load).isExactlyInstanceOf(StoreException.class)
          .hasMessageContaining("written by a newer version (format 7, this build reads up to 2)")
          .hasMessageContaining(storeDir().toString());
      assertThatThrownBy(() -> s.forget(B)).isInstanceOf(StoreException.class).hasMessageContaining("format 7");
    }
    assertThat(Files.readAllBytes(storeDir().resolve(StoreJournal.FILE))).isEqualTo(journal);
  }

  @Test
  void writesWithoutLoadingStillCheckTheFormat() throws IOException {
    commitAndClose(resource(B, "{}"));
    Files.writeString(storeDir().resolve("format"), "3\n");
    byte[] journal = Files.readAllBytes(storeDir().resolve(StoreJournal.FILE));
    try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
      assertThatThrownBy(() -> s.forget(B)).isInstanceOf(StoreException.class).hasMessageContaining("format 3");
    }
    assertThat(Files.readAllBytes(storeDir().resolve(StoreJournal.FILE))).isEqualTo(journal);
  }

  @Test
  void leftoverTempFilesAreIgnoredAndCleanedUnderTheLock() throws IOException {
    commitAndCloseLegacy(resource(B, "{}"));
    Path inv = storeDir().resolve("inventory").resolve(DurableFiles.TEMP_PREFIX + "x.json-123.tmp");
    Path pend = storeDir().resolve("pending").resolve(DurableFiles.TEMP_PREFIX + "y.json-456.tmp");
    Files.writeString(inv, "{\"half");
    Files.writeString(pend, "");
    Path meta = storeDir().resolve(DurableFiles.TEMP_PREFIX + "meta.json-789.tmp");
    Files.writeString(meta, "{");
    try (FileStateStore s = open()) {
      assertThat(s.load().inventory()).containsOnlyKeys(B);
      assertThat(inv).exists();
      try (StoreLock l = s.lock(LONG)) {
        assertThat(s.load().inventory()).containsOnlyKeys(B);
        s.writePending(resource(B, "{}"));
      }
    }
    assertThat(inv).doesNotExist();
    assertThat(pend).doesNotExist();
    assertThat(meta).doesNotExist();
  }

  @Test
  void everyFileAndDirectoryIsOwnerOnly() throws IOException {
    assumeThat(DurableFiles.posix(tmp)).as("POSIX file system").isTrue();
    commitAndClose(resource(B, "{}"));
    try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
      s.appendHistory(entry(1));
      s.secretKey();
      s.writePending(resource(C, "{}"));
      s.compact();
      s.writePending(resource(D, "{}"));
    }
    Set<PosixFilePermission> file = PosixFilePermissions.fromString("rw-------");
    Set<PosixFilePermission> dir = PosixFilePermissions.fromString("rwx------");
    List<Path> all = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(storeDir())) {
      walk.forEach(all::add);
    }
    assertThat(all).extracting(p -> p.getFileName().toString())
        .contains("s", "format", "meta.json", "lock", "secret.key", "snapshot", "journal", "history");
    for (Path p : all) {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p);
      assertThat(perms).as(p.toString()).isEqualTo(Files.isDirectory(p) ? dir : file);
    }
  }

  @Test
  void secretKeyPersistsAcrossReopening() {
    byte[] key;
    try (FileStateStore s = open()) {
      key = s.secretKey();
    }
    try (FileStateStore s = open()) {
      assertThat(s.secretKey()).isEqualTo(key);
      assertThat(s.load().fresh()).isTrue();
    }
  }

  @Test
  void aShortSecretKeyFileIsCorrupt() throws IOException {
    try (FileStateStore s = open()) {
      s.secretKey();
    }
    Files.write(storeDir().resolve("secret.key"), new byte[7]);
    try (FileStateStore s = open()) {
      assertThatThrownBy(s::secretKey).isInstanceOf(StoreCorruptException.class).hasMessageContaining("secret.key");
    }
  }

  @Test
  void aSecretKeyDeletedFromAStoreWithRecordsIsRefusedNotReplaced() throws IOException {
    try (FileStateStore s = open()) {
      s.secretKey();
    }
    Resource secret = Resource.builder(A).document(doc("{\"password\":\"hmac-sha256:00\"}"))
        .origin(Origin.of("a.json", 1, "main@sha1:1")).sensitive(Set.of(PathPattern.of("/password"))).build();
    commitAndClose(secret);
    Path key = storeDir().resolve("secret.key");
    Files.delete(key);
    try (FileStateStore s = open()) {
      s.load();
      assertThatThrownBy(s::secretKey).isInstanceOf(StoreCorruptException.class)
          .hasMessageContaining("the secret key " + key + " is missing while the store holds records")
          .hasMessageContaining("Restore it from a backup");
      assertThatThrownBy(() -> {
        try (StoreLock l = s.lock(LONG)) {
          s.commit(resource(B, "{}"), "r");
        }
      }).as("the store refuses writes").isInstanceOf(StoreCorruptException.class);
    }
    try (FileStateStore s = FileStateStore.openReadOnly(storeDir())) {
      s.load();
      assertThatThrownBy(s::secretKey).isInstanceOf(StoreCorruptException.class);
    }
    assertThat(key).as("never made again behind the user's back").doesNotExist();
  }

  @Test
  void historyOnDiskIsBoundedByTheLimit() throws IOException {
    try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
      for (int i = 1; i <= 7; i++) {
        s.appendHistory(entry(i));
      }
    }
    try (Stream<Path> files = Files.list(storeDir().resolve("history"))) {
      assertThat(files.count()).isEqualTo(3);
    }
    try (FileStateStore s = open()) {
      assertThat(s.history()).containsExactly(entry(7), entry(6), entry(5));
    }
  }

  @Test
  void keysThatDifferOnlyInCaseOrAreVeryLongGetTheirOwnFiles() {
    String longName = "x".repeat(400);
    List<Resource> rs = List.of(
        resource(ResourceKey.of("k8s", "v1/ConfigMap", "ns", "Web"), "{\"i\":1}"),
        resource(ResourceKey.of("k8s", "v1/ConfigMap", "ns", "web"), "{\"i\":2}"),
        resource(ResourceKey.of("files", "file", "", longName + "a"), "{\"i\":3}"),
        resource(ResourceKey.of("files", "file", "", longName + "b"), "{\"i\":4}"),
        resource(ResourceKey.of(".tmp-provider", "t:y/p%e", "", "../../etc/passwd"), "{\"i\":5}"));
    try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
      rs.forEach(r -> s.commit(r, "r"));
    }
    try (FileStateStore s = open()) {
      StoredState st = s.load();
      assertThat(st.inventory()).hasSize(5);
      rs.forEach(r -> assertThat(st.inventory().get(r.key()).resource()).isEqualTo(r));
    }
    for (Resource r : rs) {
      String name = KeyFileNames.of(r.key());
      assertThat(name.length()).isLessThan(200);
      assertThat(name).doesNotStartWith(".").doesNotContain("/");
    }
  }

  @Test
  void twoStoreObjectsOnOneDirectoryExcludeEachOther() {
    try (FileStateStore first = open(); StoreLock l = first.lock(LONG);
         FileStateStore second = FileStateStore.open(tmp.resolve("x/../s"))) {
      assertThatThrownBy(() -> second.lock(SHORT)).isInstanceOf(StoreLockedException.class)
          .hasMessageContaining("pid " + ProcessHandle.current().pid());
    }
    try (FileStateStore second = open(); StoreLock l = second.lock(SHORT)) {
      second.recordRevisions("r", null);
    }
  }

  @Test
  void aLockHeldByAnotherProcessNamesItsPidAndIsFreedWhenItIsKilled() throws Exception {
    Process child = startLockHolder();
    try {
      long pid = awaitLocked(child);
      assertThat(pid).isEqualTo(child.pid());
      try (FileStateStore s = open()) {
        assertThatThrownBy(() -> s.lock(Duration.ofMillis(300))).isInstanceOf(StoreLockedException.class)
            .hasMessageContaining("process " + child.pid())
            .hasMessageContaining(storeDir().resolve("lock").toString());
      }
      child.destroyForcibly();
      assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
      try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
        s.commit(resource(A, "{}"), "r");
        assertThat(s.load().inventory()).containsOnlyKeys(A);
      }
    } finally {
      child.destroyForcibly();
      child.waitFor(60, TimeUnit.SECONDS);
    }
  }

  @Test
  void aLockAReaderHoldsNamesNoPidOfAWriterThatReleasedIt() throws Exception {
    try (FileStateStore s = open(); StoreLock l = s.lock(LONG)) {
      s.commit(resource(A, "{}"), "r");  // this process held it last, and wrote its pid into the lock file
    }
    Process child = startLockHolder("read");
    try {
      awaitLocked(child);
      try (FileStateStore s = open()) {
        assertThatThrownBy(() -> s.lock(Duration.ofMillis(300))).isInstanceOf(StoreLockedException.class)
            .hasMessageNotContaining("process " + ProcessHandle.current().pid())
            .hasMessageContaining("locked by another process (pid unknown: a reader");
      }
    } finally {
      child.destroyForcibly();
      child.waitFor(60, TimeUnit.SECONDS);
    }
  }

  private Process startLockHolder(String... mode) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
        LockHolderMain.class.getName(), storeDir().toString()));
    command.addAll(List.of(mode));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.redirectErrorStream(true);
    return pb.start();
  }

  /** Reads the child's output until it reports the lock; ends when the child's output ends. */
  private static long awaitLocked(Process child) throws IOException {
    StringBuilder seen = new StringBuilder();
    BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
    for (String line = r.readLine(); line != null; line = r.readLine()) {
      if (line.startsWith("LOCKED ")) {
        return Long.parseLong(line.substring(7).trim());
      }
      seen.append(line).append('\n');
    }
    throw new AssertionError("child JVM exited without locking:\n" + seen);
  }
}
