package dev.gitops.api;

/**
 * The root of every error the engine raises. Each subclass names what went wrong and where.
 *
 * <pre>{@code
 * try {
 *   reconciler.sync();
 * } catch (PlanRefusedException e) {
 *   // a safety guard refused: e.guard(), e.provider()
 * } catch (GitOpsException e) {
 *   // anything else: the message names the key, file or flag at fault
 * }
 * }</pre>
 */
public class GitOpsException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** An error with a message. */
  public GitOpsException(String message) {
    super(message);
  }

  /** An error with a message and a cause. */
  public GitOpsException(String message, Throwable cause) {
    super(message, cause);
  }
}
