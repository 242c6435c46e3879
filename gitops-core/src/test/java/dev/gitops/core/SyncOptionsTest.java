package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.KeySelector;
import dev.gitops.api.MergeRules;
import dev.gitops.core.apply.ExecutionOptions;
import dev.gitops.core.plan.DeletionBudget;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SyncOptionsTest {

  @Test
  void theBuilderStartsFromTheDefaults() {
    SyncOptions d = SyncOptions.builder().build();
    assertThat(d).isEqualTo(SyncOptions.defaults());
    assertThat(d.prune()).isTrue();
    assertThat(d.dryRun() || d.detectOnly() || d.adopt() || d.deleteOrphans() || d.rebuildStore()
        || d.adoptFromOtherOwners()).isFalse();
    assertThat(d.budget()).isEqualTo(DeletionBudget.defaults());
    assertThat(d.execution()).isEqualTo(ExecutionOptions.defaults());
    assertThat(d.lockTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(d.rules()).isEqualTo(MergeRules.defaults());
  }

  @Test
  void eachBuilderMethodSetsItsPartAndNoOther() {
    MergeRules rules = MergeRules.builder().ignore("/status", KeySelector.ANY).build();
    SyncOptions o = SyncOptions.builder().prune(false).dryRun(true).detectOnly(true).adopt(true).deleteOrphans(true)
        .rebuildStore(true).budget(DeletionBudget.defaults().withMaxCount(3))
        .execution(ExecutionOptions.defaults().withParallelism(2)).lockTimeout(Duration.ofSeconds(5)).rules(rules)
        .adoptFromOtherOwners(true).build();
    assertThat(o.prune()).isFalse();
    assertThat(o.dryRun()).isTrue();
    assertThat(o.detectOnly()).isTrue();
    assertThat(o.adopt()).isTrue();
    assertThat(o.deleteOrphans()).isTrue();
    assertThat(o.rebuildStore()).isTrue();
    assertThat(o.budget().maxCount()).isEqualTo(3);
    assertThat(o.execution().parallelism()).isEqualTo(2);
    assertThat(o.lockTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(o.rules()).isEqualTo(rules);
    assertThat(o.adoptFromOtherOwners()).isTrue();
    assertThat(o.planOptions().prune()).isFalse();

    assertThat(SyncOptions.builder().adopt(true).build())
        .isNotEqualTo(SyncOptions.defaults())
        .isEqualTo(SyncOptions.defaults().toBuilder().adopt(true).build());
  }

  @Test
  void toBuilderKeepsEverythingAndChangesOnlyWhatIsSet() {
    SyncOptions o = SyncOptions.builder().prune(false).budget(DeletionBudget.defaults().withMaxPercent(10))
        .lockTimeout(Duration.ofSeconds(7)).adoptFromOtherOwners(true).build();
    assertThat(o.toBuilder().build()).isEqualTo(o).hasSameHashCodeAs(o);
    SyncOptions dry = o.toBuilder().dryRun(true).build();
    assertThat(dry.dryRun()).isTrue();
    assertThat(o.dryRun()).as("the original is unchanged").isFalse();
    assertThat(dry.toBuilder().dryRun(false).build()).isEqualTo(o);
  }

  @Test
  void thereIsNoPublicConstructorAndNullPartsAreRefusedByName() {
    assertThat(Arrays.stream(SyncOptions.class.getDeclaredConstructors()).noneMatch(c -> Modifier.isPublic(c.getModifiers())))
        .isTrue();
    assertThatThrownBy(() -> SyncOptions.builder().budget(null)).isInstanceOf(NullPointerException.class)
        .hasMessage("budget");
    assertThatThrownBy(() -> SyncOptions.builder().execution(null)).hasMessage("execution");
    assertThatThrownBy(() -> SyncOptions.builder().lockTimeout(null)).hasMessage("lockTimeout");
    assertThatThrownBy(() -> SyncOptions.builder().rules(null)).hasMessage("rules");
  }
}
