package dev.gitops.core.internal.plan;

import static dev.gitops.core.internal.plan.StubProvider.json;
import static dev.gitops.core.internal.plan.StubProvider.stored;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Plan;
import dev.gitops.api.PlanRefusedException;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.core.plan.DeletionBudget;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class DeletionGuardBudgetsTest {

  private static Resource owned(String provider, String name) {
    return Resource.of(ResourceKey.of(provider, "thing", name), json("{}"));
  }

  /** {@code plan} as computed against an inventory of {@code count} resources of provider "a" and {@code others} of "b". */
  private static Plan owning(Plan plan, int count, int others) {
    TreeMap<String, Integer> owned = new TreeMap<>();
    if (count > 0) {
      owned.put("a", count);
    }
    if (others > 0) {
      owned.put("b", others);
    }
    return new Plan(plan.id(), plan.revision(), plan.changes(), plan.dependencies(), plan.variables(), plan.options(),
        plan.fingerprints(), plan.unknown(), plan.unobserved(), owned);
  }

  /** A plan that applies {@code action} to the first {@code n} resources of provider {@code p}. */
  private static Plan plan(String p, Action action, int n) {
    List<Change> changes = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Change.Builder b = Change.builder(ResourceKey.of(p, "thing", "r" + i), action).live(json("{}")).reason("test");
      // A delete's resource is the last-applied one; any other action's is Git's.
      changes.add((action == Action.DELETE ? b.lastApplied(owned(p, "r" + i)) : b.desired(owned(p, "r" + i))).build());
    }
    return new Plan("id", "r1", changes, new TreeMap<>(), new TreeMap<>(), new TreeMap<>(), new TreeMap<>(),
        new TreeSet<>());
  }

  @Test
  void tallyCountsOwnedAndDestroyedPerProviderWithReplacesAsDestroys() {
    List<Change> changes = new ArrayList<>(plan("a", Action.DELETE, 2).changes());
    changes.add(Change.replace(owned("a", "r2"), json("{}"), "t"));
    changes.add(Change.update(owned("a", "r3"), json("{}"), "t"));
    changes.add(Change.create(owned("c", "x"), "t"));
    Plan plan = new Plan("id", "r1", changes, new TreeMap<>(), new TreeMap<>(), new TreeMap<>(), new TreeMap<>(),
        new TreeSet<>());
    assertThat(DeletionGuard.tally(owning(plan, 5, 2))).containsOnlyKeys("a", "b")
        .containsEntry("a", new DeletionGuard.Tally("a", 5, 3))
        .containsEntry("b", new DeletionGuard.Tally("b", 2, 0));
  }

  @Test
  void deletingEverythingAProviderOwnsIsRefusedUnlessAllowed() {
    Plan all = plan("a", Action.DELETE, 3);
    assertThatThrownBy(() -> DeletionGuard.check(owning(all, 3, 4), DeletionBudget.defaults()))
        .isInstanceOf(PlanRefusedException.class)
        .hasMessageContaining(DeletionGuard.NAME).hasMessageContaining("a").hasMessageContaining("all 3");
    assertThatCode(() -> DeletionGuard.check(owning(all, 3, 4), DeletionBudget.defaults().withAllowEmpty(true)))
        .doesNotThrowAnyException();
    assertThatCode(() -> DeletionGuard.check(owning(plan("a", Action.DELETE, 2), 3, 4), DeletionBudget.defaults()))
        .doesNotThrowAnyException();
  }

  @Test
  void replacingEverythingIsRefusedLikeDeletingIt() {
    assertThatThrownBy(() -> DeletionGuard.check(owning(plan("a", Action.REPLACE, 2), 2, 0), DeletionBudget.defaults()))
        .isInstanceOf(PlanRefusedException.class).hasMessageContaining("deletes or replaces all 2");
  }

  @Test
  void theCountBudgetIsPerProvider() {
    DeletionBudget two = DeletionBudget.defaults().withMaxCount(2);
    assertThatCode(() -> DeletionGuard.check(owning(plan("a", Action.DELETE, 2), 10, 10), two)).doesNotThrowAnyException();
    assertThatThrownBy(() -> DeletionGuard.check(owning(plan("a", Action.DELETE, 3), 10, 10), two))
        .isInstanceOf(PlanRefusedException.class).hasMessageContaining("deletes or replaces 3 of 10 owned resources, over the budget of 2");
    List<Change> both = new ArrayList<>(plan("a", Action.DELETE, 2).changes());
    both.addAll(plan("b", Action.DELETE, 2).changes());
    Plan split = new Plan("id", "r1", both, new TreeMap<>(), new TreeMap<>(), new TreeMap<>(), new TreeMap<>(),
        new TreeSet<>());
    assertThatCode(() -> DeletionGuard.check(owning(split, 10, 10), two)).as("2 + 2 across two providers")
        .doesNotThrowAnyException();
  }

  @Test
  void thePercentageBudgetComparesWithWhatTheProviderOwns() {
    DeletionBudget quarter = DeletionBudget.defaults().withMaxPercent(25);
    assertThatCode(() -> DeletionGuard.check(owning(plan("a", Action.DELETE, 2), 8, 0), quarter))
        .doesNotThrowAnyException();
    assertThatThrownBy(() -> DeletionGuard.check(owning(plan("a", Action.DELETE, 3), 8, 0), quarter))
        .isInstanceOf(PlanRefusedException.class).hasMessageContaining("3 of 8").hasMessageContaining("25%");
  }

  @Test
  void aPlanThatDestroysNothingIsNeverRefused() {
    assertThatCode(() -> DeletionGuard.check(owning(plan("a", Action.UPDATE, 3), 3, 0),
        DeletionBudget.defaults().withMaxCount(0).withMaxPercent(0))).doesNotThrowAnyException();
    assertThatCode(() -> DeletionGuard.check(owning(plan("a", Action.CREATE, 1), 0, 0), DeletionBudget.defaults()))
        .doesNotThrowAnyException();
  }

  @Test
  void budgetsRejectNonsenseNamingTheValue() {
    assertThatThrownBy(() -> DeletionBudget.defaults().withMaxCount(-2)).hasMessageContaining("-2");
    assertThatThrownBy(() -> DeletionBudget.defaults().withMaxPercent(101)).hasMessageContaining("101");
    assertThatThrownBy(() -> DeletionBudget.defaults().withMaxPercent(-5)).hasMessageContaining("-5");
    DeletionBudget b = DeletionBudget.defaults().withMaxCount(3).withMaxPercent(50).withAllowEmpty(true);
    assertThat(b).isEqualTo(new DeletionBudget(3, 50, true));
    assertThat(DeletionBudget.defaults()).isEqualTo(new DeletionBudget(-1, -1, false));
  }
}
