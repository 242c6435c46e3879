package dev.gitops.terraform;

import dev.gitops.api.ProviderException;
import dev.gitops.api.ResourceKey;

/**
 * Terraform or OpenTofu could not do what was asked: the binary is missing, a command failed, its
 * output could not be read, or a plan was refused. The message names the command, the working
 * directory or the plan, and never holds a sensitive value.
 *
 * <pre>{@code
 * try {
 *   tf.apply(planId, revision, false, ctx);
 * } catch (TerraformLockException e) {
 *   log.warn("state locked by {} since {} (lock {})", e.who(), e.created(), e.lockId());
 * } catch (TerraformException e) {
 *   log.warn("terraform failed: {}", e.getMessage());
 * }
 * }</pre>
 */
public class TerraformException extends ProviderException {
  private static final long serialVersionUID = 1L;

  /** A failure not about one key. */
  public TerraformException(String message) {
    super(null, message, false, null);
  }

  /** A failure not about one key, with its cause. */
  public TerraformException(String message, Throwable cause) {
    super(null, message, false, cause);
  }

  /** A failure about {@code key} (null when about none). */
  public TerraformException(ResourceKey key, String message, Throwable cause) {
    super(key, message, false, cause);
  }
}
