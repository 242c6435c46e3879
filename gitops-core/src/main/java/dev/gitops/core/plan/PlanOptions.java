package dev.gitops.core.plan;

import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The options that shape a plan; they are part of the plan id.
 *
 * @param prune whether resources removed from Git are deleted
 * @param adopt whether live objects without our mark may be taken over
 * @param deleteOrphans whether live objects with our mark but not in the inventory are deleted
 */
public record PlanOptions(boolean prune, boolean adopt, boolean deleteOrphans) {

  /** Prune on, adoption and orphan deletion off. */
  public static PlanOptions defaults() {
    return new PlanOptions(true, false, false);
  }

  /** The options as text, for the plan. */
  public SortedMap<String, String> asMap() {
    TreeMap<String, String> m = new TreeMap<>();
    m.put("prune", Boolean.toString(prune));
    m.put("adopt", Boolean.toString(adopt));
    m.put("deleteOrphans", Boolean.toString(deleteOrphans));
    return m;
  }
}
