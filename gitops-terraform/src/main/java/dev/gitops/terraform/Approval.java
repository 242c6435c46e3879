package dev.gitops.terraform;

/**
 * Whether a sync applies Terraform's plan at once or stops at it for review.
 *
 * <pre>{@code
 * TerraformProvider tf = TerraformProvider.builder(workDir).approval(Approval.MANUAL).build();
 * reconciler.sync();                                  // plans; the changes wait (SKIP, "awaiting approval")
 * String id = tf.pendingPlan().orElseThrow().id();    // review it
 * tf.approve(id);                                     // the next sync applies exactly that plan
 * }</pre>
 */
public enum Approval {
  /** A sync applies the plan it made (the default). */
  AUTO,
  /**
   * A sync stops at a pending plan whose id derives from the revision, the variables and the
   * state's lineage and serial; it is applied once approved ({@link TerraformProvider#approve})
   * while still current, or directly with {@link TerraformProvider#apply(String, String, boolean,
   * dev.gitops.api.spi.CallContext)}.
   */
  MANUAL
}
