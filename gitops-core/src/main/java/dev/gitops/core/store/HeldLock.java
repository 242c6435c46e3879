package dev.gitops.core.store;

import dev.gitops.api.spi.StoreLock;
import java.util.concurrent.Semaphore;

/**
 * A store's held lock, released at most once from any thread: the store's own part first (its
 * holder field, an OS lock), then the in-process permit that lets the next holder in. Both stores
 * use it so that a double close or a close racing another can never hand one lock out twice.
 */
abstract class HeldLock implements StoreLock {
  private final Object monitor;
  private final Semaphore permit;
  private boolean released;

  HeldLock(Object monitor, Semaphore permit) {
    this.monitor = monitor;
    this.permit = permit;
  }

  @Override
  public final void close() {
    synchronized (monitor) {
      if (released) {
        return;
      }
      released = true;
      try {
        release();
      } finally {
        permit.release();
      }
    }
  }

  /** Frees what the store holds besides the permit; called once, under the store's monitor. */
  abstract void release();

  /** Whether {@link #close} has run. */
  final boolean released() {
    synchronized (monitor) {
      return released;
    }
  }
}
