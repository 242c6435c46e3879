package dev.gitops.testkit;

import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.HistoryEntry;
import dev.gitops.api.spi.StateStore;
import dev.gitops.api.spi.StoreLock;
import dev.gitops.api.spi.StoredResource;
import dev.gitops.api.spi.StoredState;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.core.store.StoreBatch;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The whole {@link StateStoreContract} on gitops-core's file store with every key write sent
 * through {@link FileStateStore#writeBatch} as a batch of one: the journal path keeps every promise the per-key
 * path keeps (serials, pending, locking, reads by other store objects, compaction at release).
 */
class JournaledStoreContractTest extends FileStateStoreContractTest {

  @Override
  StateStore wrap(FileStateStore files) {
    return new ThroughBatches(files);
  }

  @Override
  FileStateStore files(StateStore s) {
    return ((ThroughBatches) s).files();
  }

  /** Sends each key write as a batch. */
  private record ThroughBatches(FileStateStore files) implements StateStore {
    @Override
    public StoreLock lock(Duration timeout) {
      return files.lock(timeout);
    }

    @Override
    public StoredState load() {
      return files.load();
    }

    @Override
    public void checkWritable() {
      files.checkWritable();
    }

    @Override
    public void writePending(Resource desired) {
      files.writeBatch(StoreBatch.builder().pending(desired).build());
    }

    @Override
    public StoredResource commit(Resource lastApplied, String revision) {
      return files.writeBatch(StoreBatch.builder().applied(lastApplied, revision).build()).get(0);
    }

    @Override
    public void clearPending(ResourceKey key) {
      files.writeBatch(new StoreBatch(List.of(new StoreBatch.ClearPending(key))));
    }

    @Override
    public void forget(ResourceKey key) {
      files.writeBatch(StoreBatch.builder().forget(key).build());
    }

    @Override
    public void recordRevisions(String attempted, String applied) {
      files.recordRevisions(attempted, applied);
    }

    @Override
    public void appendHistory(HistoryEntry entry) {
      files.appendHistory(entry);
    }

    @Override
    public List<HistoryEntry> history() {
      return files.history();
    }

    @Override
    public Optional<String> owner() {
      return files.owner();
    }

    @Override
    public void claimOwner(String owner) {
      files.claimOwner(owner);
    }

    @Override
    public byte[] secretKey() {
      return files.secretKey();
    }

    @Override
    public void close() {
      files.close();
    }
  }
}
