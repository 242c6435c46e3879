package dev.gitops.core.store;

import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.StoreException;
import dev.gitops.api.StoreLockedException;
import dev.gitops.api.StoreOwnerException;
import dev.gitops.api.internal.SortedArrayMap;
import dev.gitops.api.spi.HistoryEntry;
import dev.gitops.api.spi.StateStore;
import dev.gitops.api.spi.StoreLock;
import dev.gitops.api.spi.StoredResource;
import dev.gitops.api.spi.StoredState;
import dev.gitops.core.internal.Durations;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * A thread-safe {@link StateStore} in memory, with the semantics of {@link FileStateStore} but no
 * durability: for tests and for embedders that keep state elsewhere.
 *
 * <p>The lock is not reentrant: a second {@link #lock} waits for the first to be closed, from
 * any thread. Mutating methods require the lock to be held (by any thread, through this store)
 * and increase the serial by one each ({@link #claimOwner}, which records who the store belongs
 * to, needs the lock but is no entry write and leaves the serial alone).
 *
 * <pre>{@code
 * InMemoryStateStore store = new InMemoryStateStore();
 * try (StoreLock lock = store.lock(Duration.ofSeconds(1))) {
 *   store.commit(resource, "main@sha1:...");
 * }
 * store.load().inventory();   // holds resource's key
 * }</pre>
 */
public final class InMemoryStateStore implements StateStore {

  private final int historyLimit;
  private final Semaphore permit = new Semaphore(1);
  private final Object monitor = new Object();

  private Held held;
  private long serial;
  private boolean written;
  private final TreeMap<ResourceKey, StoredResource> inventory = new TreeMap<>();
  private final TreeMap<ResourceKey, Resource> pending = new TreeMap<>();
  /**
   * Immutable copies of {@link #inventory} and {@link #pending} as of serial {@link #frozenAt}: every
   * load until the next write hands out these very maps (a reader tells them unchanged by identity).
   */
  private SortedMap<ResourceKey, StoredResource> frozenInventory;
  private SortedMap<ResourceKey, Resource> frozenPending;
  private long frozenAt = -1;
  private String attempted = "";
  private String applied = "";
  private final ArrayDeque<HistoryEntry> history = new ArrayDeque<>();
  private byte[] secret;
  private String owner;

  /** An empty store keeping 100 history entries. */
  public InMemoryStateStore() {
    this(100);
  }

  /** An empty store keeping {@code historyLimit} history entries (at least 1). */
  public InMemoryStateStore(int historyLimit) {
    if (historyLimit < 1) {
      throw new IllegalArgumentException("history limit must be at least 1, got " + historyLimit);
    }
    this.historyLimit = historyLimit;
  }

  @Override
  public StoreLock lock(Duration timeout) {
    StateStore.requireNotNegative(timeout);
    try {
      if (!permit.tryAcquire(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
        throw new StoreLockedException("in-memory store " + Integer.toHexString(System.identityHashCode(this))
            + " is locked by another caller; waited " + Durations.human(timeout));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted while waiting for the in-memory store lock", e);
    }
    synchronized (monitor) {
      held = new Held();
      return held;
    }
  }

  private final class Held extends HeldLock {
    Held() {
      super(monitor, permit);
    }

    @Override
    void release() {
      if (held == this) {
        held = null;
      }
    }
  }

  @Override
  public StoredState load() {
    synchronized (monitor) {
      if (frozenAt != serial) {  // every write bumps the serial
        frozenInventory = SortedArrayMap.copyOf(inventory);
        frozenPending = SortedArrayMap.copyOf(pending);
        frozenAt = serial;
      }
      return new StoredState(serial, frozenInventory, frozenPending, attempted, applied, !written);
    }
  }

  private long bump(String what) {
    if (held == null) {
      throw new IllegalStateException("in-memory store: " + what + " needs the store lock; call lock() first");
    }
    written = true;
    return ++serial;
  }

  @Override
  public void writePending(Resource desired) {
    Objects.requireNonNull(desired, "desired");
    synchronized (monitor) {
      bump("write pending " + desired.key());
      pending.put(desired.key(), desired);
    }
  }

  @Override
  public StoredResource commit(Resource lastApplied, String revision) {
    Objects.requireNonNull(lastApplied, "lastApplied");
    Objects.requireNonNull(revision, "revision");
    synchronized (monitor) {
      StoredResource stored = new StoredResource(lastApplied, bump("commit " + lastApplied.key()), revision);
      inventory.put(lastApplied.key(), stored);
      pending.remove(lastApplied.key());
      return stored;
    }
  }

  @Override
  public void clearPending(ResourceKey key) {
    Objects.requireNonNull(key, "key");
    synchronized (monitor) {
      bump("clear pending " + key);
      pending.remove(key);
    }
  }

  @Override
  public void forget(ResourceKey key) {
    Objects.requireNonNull(key, "key");
    synchronized (monitor) {
      bump("forget " + key);
      pending.remove(key);
      inventory.remove(key);
    }
  }

  @Override
  public void recordRevisions(String attemptedRevision, String appliedRevision) {
    Objects.requireNonNull(attemptedRevision, "attempted");
    synchronized (monitor) {
      bump("record revisions");
      attempted = attemptedRevision;
      if (appliedRevision != null) {
        applied = appliedRevision;
      }
    }
  }

  @Override
  public void appendHistory(HistoryEntry entry) {
    Objects.requireNonNull(entry, "entry");
    synchronized (monitor) {
      bump("append history " + entry.id());
      history.addFirst(entry);
      while (history.size() > historyLimit) {
        history.removeLast();
      }
    }
  }

  @Override
  public Optional<String> owner() {
    synchronized (monitor) {
      return Optional.ofNullable(owner);
    }
  }

  @Override
  public void claimOwner(String claimant) {
    Objects.requireNonNull(claimant, "owner");
    synchronized (monitor) {
      if (held == null) {
        throw new IllegalStateException("in-memory store: claiming it for owner '" + claimant
            + "' needs the store lock; call lock() first");
      }
      if (owner != null && !owner.equals(claimant)) {
        throw new StoreOwnerException(toString(), owner, claimant);
      }
      owner = claimant;
    }
  }

  @Override
  public String toString() {
    return "in-memory store " + Integer.toHexString(System.identityHashCode(this));
  }

  @Override
  public List<HistoryEntry> history() {
    synchronized (monitor) {
      return List.copyOf(history);
    }
  }

  @Override
  public byte[] secretKey() {
    synchronized (monitor) {
      if (secret == null) {
        secret = new byte[32];
        new SecureRandom().nextBytes(secret);
      }
      return secret.clone();
    }
  }

  /** Nothing to release; the state stays readable. */
  @Override
  public void close() {
    // no resources: the maps are garbage collected with the store
  }
}
