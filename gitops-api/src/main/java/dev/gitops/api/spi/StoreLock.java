package dev.gitops.api.spi;

/**
 * The held lock of a {@link StateStore}; closing it releases the lock.
 *
 * <pre>{@code
 * try (StoreLock lock = store.lock(Duration.ofSeconds(30))) {   // StoreLockedException when not had in time
 *   store.recordRevisions("main@sha1:" + sha, null);             // writes are made while it is held
 * }                                                              // released here, on an exception too
 * }</pre>
 */
public interface StoreLock extends AutoCloseable {
  /** Releases the lock. */
  @Override
  void close();
}
