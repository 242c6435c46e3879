package dev.gitops.api.spi;

import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.StoreCorruptException;
import dev.gitops.api.StoreLockedException;
import java.time.Duration;
import java.util.List;

/**
 * Where the engine records what it owns: the last-applied state per key (the inventory),
 * pending writes, revisions and history. Implementations must make every write durable before
 * returning, and must never lose the inventory.
 *
 * <p>The protocol, per key: {@link #writePending} before a CREATE or UPDATE is sent; {@link
 * #commit} after it succeeded (rewrites last-applied, clears pending); {@link #forget} after a
 * delete is confirmed. A crash between the two leaves the pending entry, whose leaves still count
 * as owned at the next sync.
 *
 * <pre>{@code
 * try (StateStore store = FileStateStore.open(dir);
 *      StoreLock lock = store.lock(Duration.ofSeconds(30))) {
 *   StoredState s = store.load();
 *   // writePending before each apply, commit or forget after it
 * }
 * }</pre>
 */
public interface StateStore extends AutoCloseable {

  /**
   * Takes the store's exclusive lock (an OS lock for file stores, freed when the process dies).
   *
   * @throws StoreLockedException naming the holder when it cannot be had within {@code timeout}
   */
  StoreLock lock(Duration timeout);

  /**
   * Loads everything.
   *
   * @throws StoreCorruptException naming the file when anything cannot be read; the store then
   *     refuses every write
   */
  StoredState load();

  /** Records {@code desired} as pending for its key, durably, before it is applied. */
  void writePending(Resource desired);

  /** Records {@code lastApplied} as the key's last-applied state at {@code revision} and clears pending. */
  StoredResource commit(Resource lastApplied, String revision);

  /** Clears the key's pending entry without changing last-applied (the change was not made). */
  void clearPending(ResourceKey key);

  /** Drops the key from the inventory (and pending): it is confirmed absent. */
  void forget(ResourceKey key);

  /** Records the revision last attempted and, when not null, the one last applied in full. */
  void recordRevisions(String attempted, String applied);

  /** Appends a history entry; old entries beyond the store's limit are dropped. */
  void appendHistory(HistoryEntry entry);

  /** The history, newest first. */
  List<HistoryEntry> history();

  /** The store's secret key for keyed hashes of sensitive values (created on first use). */
  byte[] secretKey();

  /** Releases resources; does not release a lock still held. */
  @Override
  void close();

  /**
   * {@code timeout} itself when it is zero or positive (zero: try once), for implementations of
   * {@code lock}; a negative one throws {@link IllegalArgumentException}.
   *
   * <pre>{@code
   * Duration wait = StateStore.requireNotNegative(Duration.ofSeconds(30));
   * }</pre>
   */
  static Duration requireNotNegative(Duration timeout) {
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("lock timeout must not be negative: " + timeout);
    }
    return timeout;
  }
}
