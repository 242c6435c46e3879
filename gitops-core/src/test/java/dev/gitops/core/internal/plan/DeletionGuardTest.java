package dev.gitops.core.internal.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNoException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Plan;
import dev.gitops.api.PlanRefusedException;
import dev.gitops.api.PlanRefusedException.Limit;
import dev.gitops.api.ResourceKey;
import dev.gitops.core.plan.DeletionBudget;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The guard's refusals carry their numbers as fields and name no command-line flag. */
class DeletionGuardTest {

  /** A plan for provider {@code files} that owns {@code owned} resources and deletes {@code deletes}. */
  static Plan plan(int owned, int deletes) {
    List<Change> changes = new ArrayList<>();
    for (int i = 0; i < owned; i++) {
      ResourceKey k = ResourceKey.of("files", "file", "", "f" + i);
      changes.add(Change.builder(k, i < deletes ? Action.DELETE : Action.NOOP).reason("test").build());
    }
    TreeMap<String, Integer> ownedByProvider = new TreeMap<>();
    ownedByProvider.put("files", owned);
    return new Plan("id", "r1", changes, new TreeMap<>(), new TreeMap<>(), new TreeMap<>(), new TreeMap<>(),
        new TreeSet<>(), new TreeMap<>(), ownedByProvider);
  }

  static PlanRefusedException refusal(Plan plan, DeletionBudget budget) {
    try {
      DeletionGuard.check(plan, budget);
    } catch (PlanRefusedException e) {
      return e;
    }
    throw new AssertionError("not refused");
  }

  @Test
  void deletingEverythingIsRefusedWithItsNumbers() {
    PlanRefusedException e = refusal(plan(3, 3), DeletionBudget.defaults());
    assertThat(e.guard()).isEqualTo(DeletionGuard.NAME);
    assertThat(e.provider()).isEqualTo("files");
    assertThat(e.limit()).isEqualTo(Limit.EVERYTHING);
    assertThat(e.deletions()).isEqualTo(3);
    assertThat(e.owned()).isEqualTo(3);
    assertThat(e.budget()).isEqualTo(-1);
    assertThat(e.getMessage()).contains("all 3 resources").doesNotContain("--");
    assertThatNoException().isThrownBy(() -> DeletionGuard.check(plan(3, 3), DeletionBudget.defaults().withAllowEmpty(true)));
  }

  @Test
  void aCountBudgetIsRefusedWithItsNumbers() {
    PlanRefusedException e = refusal(plan(10, 3), DeletionBudget.defaults().withMaxCount(2));
    assertThat(e.limit()).isEqualTo(Limit.MAX_COUNT);
    assertThat(e.deletions()).isEqualTo(3);
    assertThat(e.owned()).isEqualTo(10);
    assertThat(e.budget()).isEqualTo(2);
    assertThat(e.getMessage()).contains("3 of 10").contains("budget of 2").doesNotContain("--");
  }

  @Test
  void aPercentageBudgetIsRefusedWithItsNumbers() {
    PlanRefusedException e = refusal(plan(8, 3), DeletionBudget.defaults().withMaxPercent(25));
    assertThat(e.limit()).isEqualTo(Limit.MAX_PERCENT);
    assertThat(e.deletions()).isEqualTo(3);
    assertThat(e.owned()).isEqualTo(8);
    assertThat(e.budget()).isEqualTo(25);
    assertThat(e.getMessage()).contains("25%").doesNotContain("--");
    assertThatNoException().isThrownBy(() -> DeletionGuard.check(plan(8, 2), DeletionBudget.defaults().withMaxPercent(25)));
  }

  @Test
  void theOwnedFigureIsTheOneThePlanRecords() {
    assertThat(DeletionGuard.tally(plan(4, 1)).get("files")).isEqualTo(new DeletionGuard.Tally("files", 4, 1));
    assertThatThrownBy(() -> DeletionGuard.check(plan(1, 1), DeletionBudget.defaults()))
        .isInstanceOf(PlanRefusedException.class);
  }
}
