package dev.gitops.images.git;

import dev.gitops.api.GitOpsException;

/**
 * Writing to the Git repository failed: fetch, commit or push. The message names the URL (never a
 * password) and the branch.
 *
 * <pre>{@code
 * try {
 *   updater.run();
 * } catch (GitWriteException e) {
 *   log.warn("cannot write to Git, the next run starts over: {}", e.getMessage());
 * }
 * }</pre>
 */
public class GitWriteException extends GitOpsException {
  private static final long serialVersionUID = 1L;

  /** An error with a message naming the repository and branch. */
  public GitWriteException(String message, Throwable cause) {
    super(message, cause);
  }

  /** An error with a message naming the repository and branch. */
  public GitWriteException(String message) {
    super(message);
  }
}
