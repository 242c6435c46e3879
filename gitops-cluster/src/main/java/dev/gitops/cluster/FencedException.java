package dev.gitops.cluster;

import dev.gitops.api.StoreException;

/**
 * A write was refused because its fencing token is stale: the writer no longer owns the target
 * (its lease expired while it was paused, or another member took the target over). Nothing of the
 * write was applied. It is a {@link StoreException} so that the engine treats a fenced store write
 * like any other failed store write: the sync fails and records nothing more.
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
public class FencedException extends StoreException {
  private static final long serialVersionUID = 1L;

  /** A refusal naming the target, the writer and its stale token. */
  public FencedException(String message) {
    super(message);
  }
}
