package dev.gitops.api;

import java.util.List;

/** A reviewed plan no longer matches what would run now; nothing was applied. */
public class PlanMismatchException extends GitOpsException {
  private static final long serialVersionUID = 1L;
  private final List<ResourceKey> moved;

  /** The plan {@code expectedId} became {@code actualId}; {@code moved} are the keys that differ. */
  public PlanMismatchException(String expectedId, String actualId, List<ResourceKey> moved, String detail) {
    super("plan " + expectedId + " no longer holds (now " + actualId + "): " + detail
        + (moved.isEmpty() ? "" : "; keys that moved: " + moved));
    this.moved = List.copyOf(moved);
  }

  /** The keys whose change or fingerprint differs. */
  public List<ResourceKey> moved() {
    return moved;
  }
}
