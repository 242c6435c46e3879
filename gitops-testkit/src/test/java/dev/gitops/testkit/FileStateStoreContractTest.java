package dev.gitops.testkit;

import dev.gitops.api.spi.StateStore;
import dev.gitops.core.store.FileStateStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.io.TempDir;

/** The {@link StateStoreContract} on gitops-core's file store (its own tests are {@code FileStateStoreTest}). */
class FileStateStoreContractTest extends StateStoreContract {

  @TempDir
  Path tmp;
  private int counter;

  @Override
  protected boolean sharesUnchangedMaps() {
    return true;
  }

  @Override
  protected StateStore newStore(int historyLimit) {
    return wrap(FileStateStore.open(tmp.resolve("store" + counter++), FileStateStore.Options.defaults()
        .withHistoryLimit(historyLimit).withLockPollInterval(Duration.ofMillis(20))));
  }

  @Override
  protected StateStore sameStore(StateStore s) {
    return wrap(FileStateStore.open(files(s).directory()));
  }

  @Override
  protected boolean corrupt(StateStore s) throws IOException {
    return damage(files(s).directory());
  }

  /** The store the contract runs on, made of {@code files}: the file store itself here. */
  StateStore wrap(FileStateStore files) {
    return files;
  }

  /** The file store under {@code s}, a store {@link #wrap} made. */
  FileStateStore files(StateStore s) {
    return (FileStateStore) s;
  }

  /** Garbage in the middle of the store's journal (or, compacted, its snapshot): not a torn tail. */
  static boolean damage(Path store) throws IOException {
    for (String name : new String[] {"journal", "snapshot"}) {
      Path f = store.resolve(name);
      if (Files.isRegularFile(f) && Files.size(f) > 16) {
        byte[] bytes = Files.readAllBytes(f);
        for (int i = bytes.length / 3; i < bytes.length / 3 + 8; i++) {
          bytes[i] = (byte) 0xff;
        }
        Files.write(f, bytes);
        return true;
      }
    }
    return false;
  }
}
