package dev.gitops.core.internal.plan;

import dev.gitops.core.plan.DeletionBudget;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The options that shape a plan, and the deletion budget it will be guarded with; all are part
 * of the plan's content and id, so a reviewed plan runs only under the options it was reviewed
 * with.
 *
 * @param prune whether resources removed from Git are deleted
 * @param adopt whether live objects without our mark may be taken over
 * @param deleteOrphans whether live objects with our mark but not in the inventory are deleted
 * @param adoptFromOtherOwners whether live objects carrying another owner's mark may be taken over
 *     (separate from {@code adopt}, which covers unmarked objects only)
 * @param budget the mass-deletion guard's budget the plan is checked against at sync time
 * @param setting what the plan is made for beyond its revision and owner (the CLI: its repository,
 *     sub-path, provider, target and store), by name; written as {@code setting.<name>}
 */
public record PlanOptions(boolean prune, boolean adopt, boolean deleteOrphans, boolean adoptFromOtherOwners,
    DeletionBudget budget, SortedMap<String, String> setting) {

  /** The prefix of the setting's entries among a plan's options. */
  public static final String SETTING = "setting.";

  /** Validates and copies. */
  public PlanOptions {
    Objects.requireNonNull(budget, "budget");
    setting = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(setting));
  }

  /** These options without a setting. */
  public PlanOptions(boolean prune, boolean adopt, boolean deleteOrphans, boolean adoptFromOtherOwners,
      DeletionBudget budget) {
    this(prune, adopt, deleteOrphans, adoptFromOtherOwners, budget, new TreeMap<>());
  }

  /** These options with the default budget, never taking an object from another owner. */
  public PlanOptions(boolean prune, boolean adopt, boolean deleteOrphans) {
    this(prune, adopt, deleteOrphans, false, DeletionBudget.defaults());
  }

  /** Prune on, adoption and orphan deletion off, the default budget. */
  public static PlanOptions defaults() {
    return new PlanOptions(true, false, false);
  }

  /**
   * The options as text, for the plan: {@code maxDeletions} and {@code maxDeletionPercent} are
   * {@code none} without a limit; each entry of the setting as {@code setting.<name>}.
   */
  public SortedMap<String, String> asMap() {
    TreeMap<String, String> m = new TreeMap<>();
    m.put("prune", Boolean.toString(prune));
    m.put("adopt", Boolean.toString(adopt));
    m.put("deleteOrphans", Boolean.toString(deleteOrphans));
    m.put("adoptFromOtherOwners", Boolean.toString(adoptFromOtherOwners));
    m.put("allowEmpty", Boolean.toString(budget.allowEmpty()));
    m.put("maxDeletions", budget.maxCount() < 0 ? "none" : Integer.toString(budget.maxCount()));
    m.put("maxDeletionPercent", budget.maxPercent() < 0 ? "none" : Integer.toString(budget.maxPercent()));
    setting.forEach((name, value) -> m.put(SETTING + name, value));
    return m;
  }
}
