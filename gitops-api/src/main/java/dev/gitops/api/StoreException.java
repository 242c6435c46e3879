package dev.gitops.api;

/** The state store failed: I/O, a lock held elsewhere, corrupt or unsupported content. */
public class StoreException extends GitOpsException {
  private static final long serialVersionUID = 1L;

  /** An error with a message naming the store. */
  public StoreException(String message) {
    super(message);
  }

  /** An error with a message naming the store, and a cause. */
  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
