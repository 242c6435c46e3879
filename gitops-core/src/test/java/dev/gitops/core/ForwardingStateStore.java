package dev.gitops.core;

import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.HistoryEntry;
import dev.gitops.api.spi.StateStore;
import dev.gitops.api.spi.StoreLock;
import dev.gitops.api.spi.StoredResource;
import dev.gitops.api.spi.StoredState;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** A store that passes every call to another: tests override the calls they make fail or forget. */
class ForwardingStateStore implements StateStore {
  final StateStore delegate;

  ForwardingStateStore(StateStore delegate) {
    this.delegate = delegate;
  }

  @Override
  public StoreLock lock(Duration timeout) {
    return delegate.lock(timeout);
  }

  @Override
  public StoredState load() {
    return delegate.load();
  }

  @Override
  public void checkWritable() {
    delegate.checkWritable();
  }

  @Override
  public void writePending(Resource desired) {
    delegate.writePending(desired);
  }

  @Override
  public StoredResource commit(Resource lastApplied, String revision) {
    return delegate.commit(lastApplied, revision);
  }

  @Override
  public void clearPending(ResourceKey key) {
    delegate.clearPending(key);
  }

  @Override
  public void forget(ResourceKey key) {
    delegate.forget(key);
  }

  @Override
  public void recordRevisions(String attempted, String applied) {
    delegate.recordRevisions(attempted, applied);
  }

  @Override
  public void appendHistory(HistoryEntry entry) {
    delegate.appendHistory(entry);
  }

  @Override
  public List<HistoryEntry> history() {
    return delegate.history();
  }

  @Override
  public byte[] secretKey() {
    return delegate.secretKey();
  }

  @Override
  public Optional<String> owner() {
    return delegate.owner();
  }

  @Override
  public void claimOwner(String owner) {
    delegate.claimOwner(owner);
  }

  @Override
  public void close() {
    delegate.close();
  }
}
