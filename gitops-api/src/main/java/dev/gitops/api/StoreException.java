package dev.gitops.api;

/**
 * The state store failed: I/O, a lock held elsewhere, corrupt or unsupported content.
 *
 * <pre>{@code
 * try {
 *   reconciler.sync();
 * } catch (StoreLockedException e) {
 *   log.info("another sync holds the store: {}", e.getMessage());
 * } catch (StoreException e) {
 *   log.error("the state store failed: {}", e.getMessage());   // I/O, corrupt or unsupported content
 * }
 * }</pre>
 */
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
