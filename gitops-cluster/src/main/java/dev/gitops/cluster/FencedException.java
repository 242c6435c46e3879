package dev.gitops.cluster;

import dev.gitops.api.StoreLockedException;

/**
 * A write was refused because its fencing token is stale: the writer no longer owns the target
 * (its lease expired while it was paused, or another member took the target over). Nothing of the
 * write was applied. It is a {@link StoreLockedException}, as the target's store is now another
 * member's: the engine sends nothing more once a store write is refused so (the sync fails, records
 * nothing more, and what was not sent is reported cancelled), and a caller that leaves a locked
 * store to its holder leaves a fenced one too.
 *
 * <pre>{@code
 * var ownership = coordinator.tryAcquire("payments").orElseThrow();
 * try {
 *   coordinator.checkFence(ownership);   // before a side effect: is this member still the owner?
 * } catch (FencedException e) {
 *   log.warn("{}: another member owns the target now", e.getMessage());
 * }
 * }</pre>
 */
public class FencedException extends StoreLockedException {
  private static final long serialVersionUID = 1L;

  /** A refusal naming the target, the writer and its stale token. */
  public FencedException(String message) {
    super(message);
  }

  /**
   * None: a refusal is no fault of the code, its message names the target, the member and the
   * token, and a fenced writer may be refused at every change it still tries, each logged.
   */
  @Override
  public synchronized Throwable fillInStackTrace() {
    return this;
  }
}
