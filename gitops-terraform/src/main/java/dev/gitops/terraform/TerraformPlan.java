package dev.gitops.terraform;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.terraform.internal.Addresses;
import java.util.List;
import java.util.Objects;

/**
 * A saved Terraform plan as the provider holds it: its id, what it was made from, and its changes
 * (sensitive values hidden). Only the saved plan file behind it is ever applied.
 *
 * <pre>{@code
 * TerraformPlan p = tf.pendingPlan().orElseThrow();
 * log.info("{} at {}: {}", p.id(), p.revision(), p.summary());
 * p.changes().forEach(c -> log.info("{} {}: {}", c.action(), c.key(), c.reason()));
 * }</pre>
 *
 * @param id derived from the revision, the variables, the workspace and the state's lineage and serial
 * @param revision the Git revision of the configuration
 * @param stateToken the state's lineage and serial when the plan was made
 * @param changes every resource instance and root output, NOOPs included
 * @param drift what changed outside Terraform ({@code resource_drift}), flagged DRIFT
 * @param complete whether Terraform planned everything ({@code complete})
 * @param applyable whether Terraform judges applying it productive ({@code applyable})
 * @param errored whether planning ran into errors ({@code errored})
 */
public record TerraformPlan(String id, String revision, String stateToken, List<Change> changes, List<Change> drift,
    boolean complete, boolean applyable, boolean errored) {

  /** Copies. */
  public TerraformPlan {
    Objects.requireNonNull(id, "id");
    changes = List.copyOf(changes);
    drift = List.copyOf(drift);
  }

  /** Whether it may be applied without the caller insisting: complete, not errored. */
  public boolean isApplicable() {
    return complete && !errored;
  }

  /** Whether it changes anything. */
  public boolean hasChanges() {
    return changes.stream().anyMatch(c -> c.action() != Action.NOOP);
  }

  /** {@code 1 to add, 2 to change, 0 to destroy, 1 to replace}: resource instances, as Terraform counts (outputs not). */
  public String summary() {
    long add = count(Action.CREATE);
    long change = count(Action.UPDATE);
    long destroy = count(Action.DELETE);
    long replace = count(Action.REPLACE);
    return add + " to add, " + change + " to change, " + destroy + " to destroy, " + replace + " to replace";
  }

  private long count(Action action) {
    return changes.stream().filter(c -> c.action() == action && !Addresses.isOutput(c.key())).count();
  }
}
