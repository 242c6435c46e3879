package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.StoreException;
import dev.gitops.core.store.FileStateStore;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file store that cannot be written is refused by the engine itself before anything is planned
 * or applied, for every caller (the agent, an embedding program), not only the CLI: it was found
 * when the sync recorded what it had already changed on the live system.
 */
class UnwritableFileStoreSyncTest {

  @TempDir Path tmp;
  private final WriteLocks locks = new WriteLocks();

  @AfterEach
  void unlock() throws Exception {
    locks.close();
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

    locks.lock(dir);
    try (FileStateStore store = FileStateStore.open(dir);
        Reconciler rec = Reconciler.builder().desiredState(State.of("r2",
            List.of(Resource.of(a, ReconcilerTest.json("{'n':2}"))))).provider(p).store(store).build()) {
      assertThatThrownBy(rec::sync).isInstanceOf(StoreException.class)
          .hasMessageContaining("store " + dir + " cannot be written").hasMessageContaining(dir.toString());
    }
    assertThat(p.applied).as("nothing applied that could not be recorded").hasSize(1);
    assertThat(p.live.get(a).get("n").asInt()).isEqualTo(1);
  }
}
