package dev.gitops.core.plan;

import dev.gitops.api.Change;
import dev.gitops.api.Plan;
import dev.gitops.api.PlanRefusedException;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.StoredState;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The mass-deletion guard, per provider: refuses a plan that would delete or replace every
 * owned resource of a provider, or more than the budget, unless allowed. {@code plan} shows such
 * deletions without refusing; {@code sync} checks.
 *
 * <pre>{@code
 * DeletionGuard.check(plan, stored, DeletionBudget.defaults().withMaxCount(10));
 * }</pre>
 */
public final class DeletionGuard {

  /** The guard's name in refusals. */
  public static final String NAME = "mass-deletion guard";

  /** Per provider: how many resources it owns and how many the plan destroys. */
  public record Tally(String provider, int owned, int destroyed) {}

  private DeletionGuard() {}

  /** Counts owned and destroyed resources per provider. */
  public static SortedMap<String, Tally> tally(Plan plan, StoredState stored) {
    return tally(plan, stored, Map.of());
  }

  /**
   * Counts owned and destroyed resources per provider; {@code ownedElsewhere} adds what providers
   * own that the store does not list (a planning provider's own state is its inventory).
   */
  public static SortedMap<String, Tally> tally(Plan plan, StoredState stored, Map<String, Integer> ownedElsewhere) {
    Map<String, int[]> counts = new TreeMap<>();
    for (ResourceKey k : stored.inventory().keySet()) {
      counts.computeIfAbsent(k.provider(), p -> new int[2])[0]++;
    }
    ownedElsewhere.forEach((p, n) -> counts.computeIfAbsent(p, x -> new int[2])[0] += n);
    for (Change c : plan.changes()) {
      if (c.action().destroys()) {
        counts.computeIfAbsent(c.key().provider(), p -> new int[2])[1]++;
      }
    }
    TreeMap<String, Tally> out = new TreeMap<>();
    counts.forEach((p, n) -> out.put(p, new Tally(p, n[0], n[1])));
    return out;
  }

  /**
   * Refuses when {@code plan} exceeds {@code budget} for any provider.
   *
   * @throws PlanRefusedException naming the guard, the provider and the numbers
   */
  public static void check(Plan plan, StoredState stored, DeletionBudget budget) {
    check(plan, stored, budget, Map.of());
  }

  /**
   * Refuses when {@code plan} exceeds {@code budget} for any provider, counting {@code
   * ownedElsewhere} as owned too (see {@link #tally(Plan, StoredState, Map)}).
   *
   * @throws PlanRefusedException naming the guard, the provider and the numbers
   */
  public static void check(Plan plan, StoredState stored, DeletionBudget budget, Map<String, Integer> ownedElsewhere) {
    for (Tally t : tally(plan, stored, ownedElsewhere).values()) {
      if (t.destroyed() == 0) {
        continue;
      }
      if (!budget.allowEmpty() && t.owned() > 0 && t.destroyed() >= t.owned()) {
        throw new PlanRefusedException(NAME, t.provider(), "the plan deletes or replaces all " + t.owned()
            + " resources it owns (is the path or ref right?); allow it explicitly (--allow-empty) if that is intended");
      }
      if (budget.maxCount() >= 0 && t.destroyed() > budget.maxCount()) {
        throw new PlanRefusedException(NAME, t.provider(), "the plan deletes or replaces " + t.destroyed()
            + " resources, over the budget of " + budget.maxCount() + " (--max-deletions)");
      }
      if (budget.maxPercent() >= 0 && t.owned() > 0 && t.destroyed() * 100L > (long) budget.maxPercent() * t.owned()) {
        throw new PlanRefusedException(NAME, t.provider(), "the plan deletes or replaces " + t.destroyed() + " of "
            + t.owned() + " owned resources, over the budget of " + budget.maxPercent() + "%");
      }
    }
  }
}
