package dev.gitops.core.plan;

/**
 * How much a sync may delete per provider before the mass-deletion guard refuses.
 *
 * <pre>{@code
 * SyncOptions opts = SyncOptions.builder()
 *     .budget(DeletionBudget.defaults().withMaxCount(10).withMaxPercent(25))  // refuse more than 10, or 25%
 *     .build();
 * DeletionBudget teardown = DeletionBudget.defaults().withAllowEmpty(true);  // may delete everything
 * }</pre>
 *
 * @param maxCount most deletes and replaces per provider, or -1 for no count limit
 * @param maxPercent most deletes and replaces as a percentage of the provider's owned resources, or -1
 * @param allowEmpty whether deleting every owned resource of a provider is allowed
 */
public record DeletionBudget(int maxCount, int maxPercent, boolean allowEmpty) {

  /** Validates. */
  public DeletionBudget {
    if (maxCount < -1) {
      throw new IllegalArgumentException("max deletions must be >= 0 (or -1 for none), got " + maxCount);
    }
    if (maxPercent < -1 || maxPercent > 100) {
      throw new IllegalArgumentException("max deletion percentage must be 0..100 (or -1 for none), got " + maxPercent);
    }
  }

  /** No count or percentage limit; deleting everything a provider owns is refused. */
  public static DeletionBudget defaults() {
    return new DeletionBudget(-1, -1, false);
  }

  /** This budget with a count limit. */
  public DeletionBudget withMaxCount(int count) {
    return new DeletionBudget(count, maxPercent, allowEmpty);
  }

  /** This budget with a percentage limit. */
  public DeletionBudget withMaxPercent(int percent) {
    return new DeletionBudget(maxCount, percent, allowEmpty);
  }

  /** This budget allowing (or not) the deletion of everything. */
  public DeletionBudget withAllowEmpty(boolean allow) {
    return new DeletionBudget(maxCount, maxPercent, allow);
  }
}
