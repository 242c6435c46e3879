package dev.gitops.api;

/** Another process or thread holds the store's lock. */
public class StoreLockedException extends StoreException {
  private static final long serialVersionUID = 1L;

  /** An error naming the lock. */
  public StoreLockedException(String message) {
    super(message);
  }
}
