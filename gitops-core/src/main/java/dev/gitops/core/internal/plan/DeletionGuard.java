package dev.gitops.core.internal.plan;

import dev.gitops.api.Change;
import dev.gitops.api.Plan;
import dev.gitops.api.PlanRefusedException;
import dev.gitops.api.PlanRefusedException.Limit;
import dev.gitops.core.plan.DeletionBudget;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The mass-deletion guard, per provider: refuses a plan that would delete or replace every
 * owned resource of a provider, or more than the budget, unless allowed. {@code plan} shows such
 * deletions without refusing; {@code sync} checks.
 *
 * <pre>{@code
 * DeletionGuard.check(plan, DeletionBudget.defaults().withMaxCount(10));
 * }</pre>
 */
public final class DeletionGuard {

  /** The guard's name in refusals. */
  public static final String NAME = "mass-deletion guard";

  /** Per provider: how many resources it owns and how many the plan destroys. */
  public record Tally(String provider, int owned, int destroyed) {}

  private DeletionGuard() {}

  /**
   * Counts owned and destroyed resources per provider: owned as the plan records it (the
   * inventory it was computed from, also part of its id), destroyed from its changes.
   */
  public static SortedMap<String, Tally> tally(Plan plan) {
    Map<String, int[]> counts = new TreeMap<>();
    plan.owned().forEach((provider, n) -> counts.computeIfAbsent(provider, p -> new int[2])[0] = n);
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
   * @throws PlanRefusedException naming the guard, the provider, the limit crossed and the numbers
   */
  public static void check(Plan plan, DeletionBudget budget) {
    for (Tally t : tally(plan).values()) {
      if (t.destroyed() == 0) {
        continue;
      }
      if (!budget.allowEmpty() && t.owned() > 0 && t.destroyed() >= t.owned()) {
        throw new PlanRefusedException(NAME, t.provider(), Limit.EVERYTHING, t.destroyed(), t.owned(), -1);
      }
      if (budget.maxCount() >= 0 && t.destroyed() > budget.maxCount()) {
        throw new PlanRefusedException(NAME, t.provider(), Limit.MAX_COUNT, t.destroyed(), t.owned(), budget.maxCount());
      }
      if (budget.maxPercent() >= 0 && t.owned() > 0 && t.destroyed() * 100L > (long) budget.maxPercent() * t.owned()) {
        throw new PlanRefusedException(NAME, t.provider(), Limit.MAX_PERCENT, t.destroyed(), t.owned(),
            budget.maxPercent());
      }
    }
  }
}
