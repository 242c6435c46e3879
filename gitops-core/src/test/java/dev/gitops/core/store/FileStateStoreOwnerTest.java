package dev.gitops.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.StoreCorruptException;
import dev.gitops.api.StoreOwnerException;
import dev.gitops.api.spi.StoreLock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The owner a file store records, as two store objects (two processes) on one directory see it. */
class FileStateStoreOwnerTest {

  private static final ResourceKey A = ResourceKey.of("ansible", "host", "", "h1");
  private static final Duration LONG = Duration.ofSeconds(10);

  @TempDir Path tmp;

  private Path dir() {
    return tmp.resolve("store");
  }

  /** Every file of the store with its bytes, the lock file aside (each lock writes its holder's pid). */
  private Map<String, String> contents() throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> files = Files.walk(dir())) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (Files.isRegularFile(f) && !f.getFileName().toString().equals("lock")) {
          out.put(dir().relativize(f).toString(), new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1));
        }
      }
    }
    return out;
  }

  private void writtenBy(String owner) {
    try (FileStateStore s = FileStateStore.open(dir()); StoreLock l = s.lock(LONG)) {
      if (owner != null) {
        s.claimOwner(owner);
      }
      s.commit(Resource.of(A, StoreFixtures.doc("{\"ansible_host\":\"10.0.0.1\"}")), "main@sha1:1");
      s.recordRevisions("main@sha1:1", "main@sha1:1");
    }
  }

  @Test
  void aSecondStoreObjectOfAnotherOwnerIsRefusedAndTheStoreIsLeftByteForByte() throws IOException {
    writtenBy("a");
    Map<String, String> before = contents();
    try (FileStateStore b = FileStateStore.open(dir()); StoreLock l = b.lock(LONG)) {
      assertThat(b.owner()).contains("a");
      assertThatThrownBy(() -> b.claimOwner("b")).isInstanceOf(StoreOwnerException.class)
          .hasMessageContaining(dir().toAbsolutePath().toString())
          .hasMessageContaining("owner 'a'").hasMessageContaining("owner 'b'")
          .hasMessageContaining("a state store of its own");
      assertThat(b.load().inventory()).containsOnlyKeys(A);
    }
    assertThat(contents()).isEqualTo(before);
    assertThat(before).containsEntry("owner", "{\n  \"owner\" : \"a\"\n}");
  }

  @Test
  void aReadOnlyStoreShowsItsOwnerAndCreatesNothing() throws IOException {
    try (FileStateStore r = FileStateStore.openReadOnly(dir())) {
      assertThat(r.owner()).isEmpty();
    }
    assertThat(dir()).doesNotExist();
    writtenBy("a");
    try (FileStateStore r = FileStateStore.openReadOnly(dir())) {
      assertThat(r.owner()).contains("a");
      assertThatThrownBy(() -> r.claimOwner("a")).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("read-only");
    }
  }

  @Test
  void aStoreWrittenBeforeOwnersWereRecordedIsClaimedByTheFirstOwnerAndKeepsItsRecords() throws IOException {
    writtenBy(null);
    LegacyStores.downgrade(dir());   // as the oldest builds left it: format 1, per-key files, no owner
    try (FileStateStore a = FileStateStore.open(dir()); StoreLock l = a.lock(LONG)) {
      assertThat(a.owner()).isEmpty();
      assertThat(a.load().inventory()).containsOnlyKeys(A);
      a.claimOwner("a");
      a.recordRevisions("main@sha1:2", "main@sha1:2");
    }
    try (FileStateStore b = FileStateStore.open(dir()); StoreLock l = b.lock(LONG)) {
      assertThat(b.owner()).contains("a");
      assertThat(b.load().inventory()).containsOnlyKeys(A);
      assertThatThrownBy(() -> b.claimOwner("b")).isInstanceOf(StoreOwnerException.class);
    }
  }

  @Test
  void anUnreadableOwnerFileIsCorruptionNamingItAndRefusesWrites() throws IOException {
    writtenBy("a");
    Files.writeString(dir().resolve("owner"), "{\"owner\": 7}");
    try (FileStateStore s = FileStateStore.open(dir()); StoreLock l = s.lock(LONG)) {
      assertThatThrownBy(s::owner).isInstanceOf(StoreCorruptException.class)
          .hasMessageContaining(dir().resolve("owner").toString());
      assertThatThrownBy(() -> s.recordRevisions("r", "r")).isInstanceOf(StoreCorruptException.class);
    }
  }
}
