package dev.gitops.terraform;

/**
 * A saved plan that no longer holds was refused: the state's lineage or serial moved since it was
 * made, a newer Git revision is wanted, it is not the pending plan any more, or its file is not
 * the one Terraform wrote (its SHA-256 changed since; the file is then removed, never applied).
 *
 * <pre>{@code
 * try {
 *   tf.apply(planId, currentRevision, false, ctx);
 * } catch (StalePlanException e) {
 *   // plan again and review the new plan
 * }
 * }</pre>
 */
public class StalePlanException extends TerraformException {
  private static final long serialVersionUID = 1L;

  private final String planId;

  /** {@code planId} refused for the reason in {@code message}. */
  public StalePlanException(String planId, String message) {
    super("plan " + planId + " is stale: " + message);
    this.planId = planId;
  }

  /** The refused plan's id. */
  public String planId() {
    return planId;
  }
}
