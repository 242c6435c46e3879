package dev.gitops.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.StoreCorruptException;
import dev.gitops.api.spi.StoreLock;
import dev.gitops.api.spi.StoredState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loads under the lock reuse what this store object read and wrote, but never hide another writer's changes. */
class FileStateStoreSnapshotTest {

  @TempDir
  Path dir;

  static Resource res(String name, int v) {
    return Resource.of(ResourceKey.of("p", "t", "", name), JsonNodeFactory.instance.objectNode().put("v", v));
  }

  static StoredState lockedLoad(FileStateStore s) {
    try (StoreLock l = s.lock(Duration.ofSeconds(5))) {
      return s.load();
    }
  }

  @Test
  void ownWritesAreSeenWithoutRereadingAndEqualAFullRead() {
    FileStateStore a = FileStateStore.open(dir);
    try (StoreLock l = a.lock(Duration.ofSeconds(5))) {
      a.load();
      a.writePending(res("x", 1));
      a.commit(res("y", 2), "r1");
      a.writePending(res("z", 3));
      a.clearPending(res("z", 3).key());
      a.commit(res("w", 4), "r1");
      a.forget(res("w", 4).key());
      a.recordRevisions("r1", "r1");
      StoredState cached = a.load();
      StoredState full = FileStateStore.open(dir).load();
      assertThat(cached.inventory()).isEqualTo(full.inventory()).containsOnlyKeys(res("y", 0).key());
      assertThat(cached.pending()).isEqualTo(full.pending()).containsOnlyKeys(res("x", 0).key());
      assertThat(cached.serial()).isEqualTo(full.serial());
      assertThat(cached.lastAppliedRevision()).isEqualTo("r1");
    }
  }

  @Test
  void anotherWritersChangesAreSeenAtTheNextLock() {
    FileStateStore a = FileStateStore.open(dir);
    FileStateStore b = FileStateStore.open(dir);
    try (StoreLock l = a.lock(Duration.ofSeconds(5))) {
      a.commit(res("x", 1), "r1");
      a.load();
    }
    try (StoreLock l = b.lock(Duration.ofSeconds(5))) {
      b.load();
      b.commit(res("x", 2), "r2");
      b.commit(res("y", 1), "r2");
    }
    StoredState seen = lockedLoad(a);
    assertThat(seen.inventory()).containsOnlyKeys(res("x", 0).key(), res("y", 0).key());
    assertThat(seen.inventory().get(res("x", 0).key()).resource().document().get("v").intValue()).isEqualTo(2);
  }

  @Test
  void corruptionWrittenByAnotherWriterIsStillDetected() throws Exception {
    FileStateStore a = FileStateStore.open(dir);
    try (StoreLock l = a.lock(Duration.ofSeconds(5))) {
      a.commit(res("x", 1), "r1");
      a.load();
    }
    FileStateStore b = FileStateStore.open(dir);
    try (StoreLock l = b.lock(Duration.ofSeconds(5))) {
      b.load();
      b.commit(res("y", 1), "r2");
    }
    Path journal = dir.resolve(StoreJournal.FILE);
    byte[] bytes = Files.readAllBytes(journal);
    bytes[StoreJournal.HEADER + 3] ^= 0x10;
    Files.write(journal, bytes);
    assertThatThrownBy(() -> lockedLoad(a)).isInstanceOf(StoreCorruptException.class).hasMessageContaining(journal.toString());
  }
}
