package dev.gitops.api.spi;

import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.StoreCorruptException;
import dev.gitops.api.StoreException;
import dev.gitops.api.StoreLockedException;
import dev.gitops.api.StoreOwnerException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

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
 * <p>A store belongs to one owner: the engine {@linkplain #claimOwner claims} it for its owner at
 * the first sync that writes it and refuses another owner's sync, plan or diff on it (see {@link
 * #owner()}), unless every provider of that owner marks its objects (owners then tell their
 * objects apart by the marks). A store that records no owner (the defaults of both methods) is
 * read by every owner as its own.
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

  /**
   * The owner recorded in this store: the one whose sync first wrote it. Empty when none is
   * recorded (a store never written, one written before owners were recorded, or an
   * implementation that records none: the default). Read under the lock.
   *
   * <pre>{@code
   * String recorded = store.owner().orElse("(none yet)");
   * }</pre>
   *
   * @throws StoreCorruptException naming what cannot be read
   */
  default Optional<String> owner() {
    return Optional.empty();
  }

  /**
   * Records {@code owner} as this store's owner, durably, when none is recorded yet; does nothing
   * when {@code owner} is recorded already. Needs the lock, as every write does. The default
   * records nothing (the store stays readable by every owner).
   *
   * <pre>{@code
   * try (StoreLock lock = store.lock(Duration.ofSeconds(30))) {
   *   store.claimOwner("team-a");   // before the first write of team-a's sync
   * }
   * }</pre>
   *
   * @throws StoreOwnerException naming the store and both owners when another owner is recorded;
   *     the store is not changed then
   */
  default void claimOwner(String owner) {
    // a store that records no owner keeps every owner's records together, as before owners were recorded
  }

  /**
   * Checks that this store can be written now, before the engine changes anything on the strength
   * of it: {@code sync}, {@code apply}, {@code destroy} and {@code forget} of {@code Reconciler}
   * call it first (not on a dry run), before the source is read or anything is planned or applied,
   * since a store found unwritable only when the sync records what it applied leaves changes made
   * that no record holds. It writes nothing that stays, needs no lock, and is cheap enough for
   * every sync (no read of the records). The default does nothing: a store that cannot tell before
   * it writes is found out at its first write, as before. A store that can tell overrides it (the
   * file store probes its directory; the etcd and Secret stores refuse once a read found their
   * records damaged).
   *
   * <pre>{@code
   * try {
   *   store.checkWritable();   // what the engine calls before a sync that writes
   * } catch (StoreException e) {
   *   log.error("{}: fix the store before the next sync", e.getMessage());   // names the path and why
   * }
   * }</pre>
   *
   * @throws StoreException naming the store, what cannot be written and why (a {@link
   *     StoreCorruptException} when its records were found damaged, so that it refuses every write)
   */
  default void checkWritable() {
    // a store that cannot tell ahead is found unwritable at its first write, as every store was before
  }

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
