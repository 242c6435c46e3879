package dev.gitops.api.spi;

/** The held lock of a {@link StateStore}; closing it releases the lock. */
public interface StoreLock extends AutoCloseable {
  /** Releases the lock. */
  @Override
  void close();
}
