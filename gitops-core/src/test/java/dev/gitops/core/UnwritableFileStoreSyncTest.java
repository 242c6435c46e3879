package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.StoreException;
import dev.gitops.core.store.FileStateStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file store that cannot be written is refused by the engine itself before anything is planned
 * or applied, for every caller (the agent, an embedding program), not only the CLI: it was found
 * when the sync recorded what it had already changed on the live system.
 */
class UnwritableFileStoreSyncTest {

  @TempDir Path tmp;
  private Path locked;

  @AfterEach
  void unlock() throws Exception {
    if (locked != null) {
      if (isRoot()) {
        new ProcessBuilder("chattr", "-i", locked.toString()).inheritIO().start().waitFor();
      } else {
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwx------"));
      }
    }
  }

  @Test
  void aSyncIntoAStoreThatCannotBeWrittenIsRefusedBeforeTheProviderIsChanged() throws Exception {
    Path dir = tmp.resolve("store");
    ResourceKey a = ResourceKey.of("m", "thing", "", "a");
    MapProvider p = new MapProvider("m", false);
    try (FileStateStore store = FileStateStore.open(dir);
        Reconciler rec = Reconciler.builder().desiredState(State.of("r1",
            List.of(Resource.of(a, ReconcilerTest.json("{'n':1}"))))).provider(p).store(store).build()) {
      assertThat(rec.sync().isSuccessful()).isTrue();
    }
    assertThat(p.applied).hasSize(1);

    lockAgainstWrites(dir);
    try (FileStateStore store = FileStateStore.open(dir);
        Reconciler rec = Reconciler.builder().desiredState(State.of("r2",
            List.of(Resource.of(a, ReconcilerTest.json("{'n':2}"))))).provider(p).store(store).build()) {
      assertThatThrownBy(rec::sync).isInstanceOf(StoreException.class)
          .hasMessageContaining("store " + dir + " cannot be written").hasMessageContaining(dir.toString());
    }
    assertThat(p.applied).as("nothing applied that could not be recorded").hasSize(1);
    assertThat(p.live.get(a).get("n").asInt()).isEqualTo(1);
  }

  private static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  /** Makes the directory {@code d} refuse new files (the mode; for root, chattr +i), or skips the test. */
  private void lockAgainstWrites(Path d) throws Exception {
    locked = d;
    if (isRoot()) {
      try {
        if (new ProcessBuilder("chattr", "+i", d.toString()).redirectErrorStream(true).start().waitFor() != 0) {
          locked = null;
        }
      } catch (IOException e) {
        locked = null;  // no chattr: the assumption below skips the test
      }
    } else {
      Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("r-x------"));
    }
    boolean writable;
    try {
      Files.delete(Files.createFile(d.resolve("probe")));
      writable = true;
    } catch (IOException e) {
      writable = false;
    }
    Assumptions.assumeFalse(writable, () -> "nothing here makes " + d + " refuse new files");
  }
}
