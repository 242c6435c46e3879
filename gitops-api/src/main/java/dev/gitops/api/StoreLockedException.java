package dev.gitops.api;

/**
 * Another process or thread holds the store's lock.
 *
 * <pre>{@code
 * try {
 *   reconciler.sync();   // waits for the store's lock up to SyncOptions' lock timeout
 * } catch (StoreLockedException e) {
 *   log.info("another sync runs on this target, try later: {}", e.getMessage());
 * }
 * }</pre>
 */
public class StoreLockedException extends StoreException {
  private static final long serialVersionUID = 1L;

  /** An error naming the lock. */
  public StoreLockedException(String message) {
    super(message);
  }
}
