package dev.gitops.core.plan;

import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The options that shape a plan; they are part of the plan id.
 *
 * @param prune whether resources removed from Git are deleted
 * @param adopt whether live objects without our mark may be taken over
 * @param deleteOrphans whether live objects with our mark but not in the inventory are deleted
 * @param adoptFromOtherOwners whether live objects carrying another owner's mark may be taken over
 *     (separate from {@code adopt}, which covers unmarked objects only)
 */
public record PlanOptions(boolean prune, boolean adopt, boolean deleteOrphans, boolean adoptFromOtherOwners) {

  /** Options that never take an object from another owner. */
  public PlanOptions(boolean prune, boolean adopt, boolean deleteOrphans) {
    this(prune, adopt, deleteOrphans, false);
  }

  /** Prune on, adoption and orphan deletion off. */
  public static PlanOptions defaults() {
    return new PlanOptions(true, false, false, false);
  }

  /** The options as text, for the plan. */
  public SortedMap<String, String> asMap() {
    TreeMap<String, String> m = new TreeMap<>();
    m.put("prune", Boolean.toString(prune));
    m.put("adopt", Boolean.toString(adopt));
    m.put("deleteOrphans", Boolean.toString(deleteOrphans));
    m.put("adoptFromOtherOwners", Boolean.toString(adoptFromOtherOwners));
    return m;
  }
}
