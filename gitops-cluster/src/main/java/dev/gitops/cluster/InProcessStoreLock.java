package dev.gitops.cluster;

import dev.gitops.api.StoreException;
import dev.gitops.api.StoreLockedException;
import dev.gitops.api.spi.StateStore;
import dev.gitops.api.spi.StoreLock;
import dev.gitops.core.internal.Durations;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The lock of a state store kept in a coordination engine (etcd, Kubernetes Secrets): one holder
 * at a time within this process, not reentrant, releasable from any thread. Across processes,
 * ownership of the target is the lock, and the fencing token is what enforces it.
 *
 * <pre>{@code
 * Ownership o = coordinator.tryAcquire("payments").orElseThrow();
 * InProcessStoreLock lock = new InProcessStoreLock("etcd store /gitops/default/store/payments/");
 * try (StoreLock held = lock.acquire(Duration.ofSeconds(30), () -> coordinator.checkFence(o))) {
 *   // lock.isHeld() is true here
 * }
 * }</pre>
 */
public final class InProcessStoreLock {

  private final Semaphore permit = new Semaphore(1);
  private final String store;
  private final Object monitor = new Object();
  private Held held;

  /** A lock for {@code store} (named in the messages). */
  public InProcessStoreLock(String store) {
    this.store = Objects.requireNonNull(store, "store");
  }

  /**
   * Takes the lock within {@code timeout}, then runs {@code onAcquire} while holding it (the
   * store's own checks and reads); a failure of {@code onAcquire} releases the lock again.
   *
   * @throws StoreLockedException when another caller of this process holds it past {@code timeout}
   */
  public StoreLock acquire(Duration timeout, Runnable onAcquire) {
    StateStore.requireNotNegative(timeout);
    try {
      if (!permit.tryAcquire(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
        throw new StoreLockedException(store + " is locked by another caller in this process; waited "
            + Durations.human(timeout));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted while waiting for the lock of " + store, e);
    }
    try {
      onAcquire.run();
      synchronized (monitor) {
        held = new Held();
        return held;
      }
    } catch (RuntimeException | Error e) {
      // an Error too: kept, the permit would hold the store locked for this process for good, every later lock()
      // saying that another caller holds it
      permit.release();
      throw e;
    }
  }

  /** Whether a caller of this process holds the lock now. */
  public boolean isHeld() {
    synchronized (monitor) {
      return held != null;
    }
  }

  private final class Held implements StoreLock {
    private boolean released;

    @Override
    public void close() {
      synchronized (monitor) {
        if (released) {
          return;
        }
        released = true;
        if (held == this) {
          held = null;
        }
      }
      permit.release();
    }
  }
}
