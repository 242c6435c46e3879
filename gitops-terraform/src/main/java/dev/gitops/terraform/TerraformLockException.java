package dev.gitops.terraform;

/**
 * The state is locked by someone else: Terraform refused to plan or apply. Says who holds the
 * lock, since when, for which operation, and its id, which {@link TerraformProvider#forceUnlock}
 * takes when (and only when) the caller decides the holder is gone.
 *
 * <pre>{@code
 * try {
 *   tf.apply(planId, revision, false, ctx);
 * } catch (TerraformLockException e) {
 *   if (holderIsGone(e.who())) tf.forceUnlock(e.lockId(), ctx);
 * }
 * }</pre>
 */
public class TerraformLockException extends TerraformException {
  private static final long serialVersionUID = 1L;

  private final String lockId;
  private final String who;
  private final String created;
  private final String operation;
  private final String path;

  /** A lock held by {@code who} since {@code created}, as Terraform reported it ("" when it did not say). */
  public TerraformLockException(String message, String lockId, String who, String created, String operation,
      String path) {
    super(message);
    this.lockId = lockId;
    this.who = who;
    this.created = created;
    this.operation = operation;
    this.path = path;
  }

  /** The lock's id, for {@link TerraformProvider#forceUnlock}. */
  public String lockId() {
    return lockId;
  }

  /** Who holds it ({@code user@host}). */
  public String who() {
    return who;
  }

  /** Since when, as Terraform printed it. */
  public String created() {
    return created;
  }

  /** The operation that took it ({@code OperationTypeApply}, ...). */
  public String operation() {
    return operation;
  }

  /** The locked state's path, where the backend has one. */
  public String path() {
    return path;
  }
}
