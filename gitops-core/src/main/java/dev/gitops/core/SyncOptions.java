package dev.gitops.core;

import dev.gitops.api.MergeRules;
import dev.gitops.core.apply.ExecutionOptions;
import dev.gitops.core.plan.DeletionBudget;
import dev.gitops.core.plan.PlanOptions;
import java.time.Duration;
import java.util.Objects;

/**
 * Immutable options of a {@link Reconciler}; each {@code with…} method returns a new instance.
 *
 * <pre>{@code
 * SyncOptions opts = SyncOptions.defaults()
 *     .withPrune(true)
 *     .withBudget(DeletionBudget.defaults().withMaxCount(20))
 *     .withExecution(ExecutionOptions.defaults().withParallelism(8));
 * }</pre>
 *
 * @param prune delete what was removed from Git (resources whose policy allows it)
 * @param dryRun plan and report, apply nothing, write nothing
 * @param detectOnly report drift without correcting it (like dry run, but meant for monitoring)
 * @param adopt take over live objects that exist without our mark
 * @param deleteOrphans delete live objects that carry our mark but are not in the inventory
 * @param rebuildStore proceed when the store is missing but live objects carry our mark
 * @param budget the mass-deletion guard's budget
 * @param execution parallelism, retries, timeouts, health gates
 * @param lockTimeout how long to wait for the store lock
 * @param rules merge rules added to every provider's (ignore rules, mostly)
 * @param adoptFromOtherOwners take over live objects that carry another owner's mark (never
 *     implied by {@code adopt}, which covers unmarked objects only)
 */
public record SyncOptions(boolean prune, boolean dryRun, boolean detectOnly, boolean adopt, boolean deleteOrphans,
    boolean rebuildStore, DeletionBudget budget, ExecutionOptions execution, Duration lockTimeout, MergeRules rules,
    boolean adoptFromOtherOwners) {

  /** Validates. */
  public SyncOptions {
    Objects.requireNonNull(budget, "budget");
    Objects.requireNonNull(execution, "execution");
    Objects.requireNonNull(lockTimeout, "lockTimeout");
    Objects.requireNonNull(rules, "rules");
  }

  /** Prune on, everything else off, default budget and execution options, 30 s lock timeout. */
  public static SyncOptions defaults() {
    return new SyncOptions(true, false, false, false, false, false, DeletionBudget.defaults(),
        ExecutionOptions.defaults(), Duration.ofSeconds(30), MergeRules.defaults(), false);
  }

  /** With prune on or off. */
  public SyncOptions withPrune(boolean v) {
    return new SyncOptions(v, dryRun, detectOnly, adopt, deleteOrphans, rebuildStore, budget, execution, lockTimeout,
        rules, adoptFromOtherOwners);
  }

  /** With dry run on or off. */
  public SyncOptions withDryRun(boolean v) {
    return new SyncOptions(prune, v, detectOnly, adopt, deleteOrphans, rebuildStore, budget, execution, lockTimeout,
        rules, adoptFromOtherOwners);
  }

  /** With detect-only on or off. */
  public SyncOptions withDetectOnly(boolean v) {
    return new SyncOptions(prune, dryRun, v, adopt, deleteOrphans, rebuildStore, budget, execution, lockTimeout,
        rules, adoptFromOtherOwners);
  }

  /** With adoption on or off. */
  public SyncOptions withAdopt(boolean v) {
    return new SyncOptions(prune, dryRun, detectOnly, v, deleteOrphans, rebuildStore, budget, execution, lockTimeout,
        rules, adoptFromOtherOwners);
  }

  /** With orphan deletion on or off. */
  public SyncOptions withDeleteOrphans(boolean v) {
    return new SyncOptions(prune, dryRun, detectOnly, adopt, v, rebuildStore, budget, execution, lockTimeout,
        rules, adoptFromOtherOwners);
  }

  /** With store rebuild on or off. */
  public SyncOptions withRebuildStore(boolean v) {
    return new SyncOptions(prune, dryRun, detectOnly, adopt, deleteOrphans, v, budget, execution, lockTimeout,
        rules, adoptFromOtherOwners);
  }

  /** With a deletion budget. */
  public SyncOptions withBudget(DeletionBudget v) {
    return new SyncOptions(prune, dryRun, detectOnly, adopt, deleteOrphans, rebuildStore, v, execution, lockTimeout,
        rules, adoptFromOtherOwners);
  }

  /** With execution options. */
  public SyncOptions withExecution(ExecutionOptions v) {
    return new SyncOptions(prune, dryRun, detectOnly, adopt, deleteOrphans, rebuildStore, budget, v, lockTimeout,
        rules, adoptFromOtherOwners);
  }

  /** With a lock timeout. */
  public SyncOptions withLockTimeout(Duration v) {
    return new SyncOptions(prune, dryRun, detectOnly, adopt, deleteOrphans, rebuildStore, budget, execution, v,
        rules, adoptFromOtherOwners);
  }

  /** With merge rules added to every provider's. */
  public SyncOptions withRules(MergeRules v) {
    return new SyncOptions(prune, dryRun, detectOnly, adopt, deleteOrphans, rebuildStore, budget, execution, lockTimeout,
        v, adoptFromOtherOwners);
  }

  /**
   * With adoption from other owners on or off: a live object carrying another owner's mark is
   * taken over (flagged ADOPT, the previous owner named) only when this is on.
   */
  public SyncOptions withAdoptFromOtherOwners(boolean v) {
    return new SyncOptions(prune, dryRun, detectOnly, adopt, deleteOrphans, rebuildStore, budget,
        execution, lockTimeout,
        rules, v);
  }

  /** The options that shape the plan, with the budget it is guarded with. */
  public PlanOptions planOptions() {
    return new PlanOptions(prune, adopt, deleteOrphans, adoptFromOtherOwners, budget);
  }
}
