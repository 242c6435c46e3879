package dev.gitops.api;

/**
 * The desired state could not be read: an unreachable remote, a missing ref, bad credentials.
 *
 * <pre>{@code
 * try {
 *   reconciler.sync();
 * } catch (SourceException e) {
 *   log.warn("cannot read the desired state: {}", e.getMessage());   // the message names the source
 * }
 * }</pre>
 */
public class SourceException extends GitOpsException {
  private static final long serialVersionUID = 1L;

  /** An error with a message naming the source. */
  public SourceException(String message) {
    super(message);
  }

  /** An error with a message naming the source, and a cause. */
  public SourceException(String message, Throwable cause) {
    super(message, cause);
  }
}
