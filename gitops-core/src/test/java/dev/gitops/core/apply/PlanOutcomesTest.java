package dev.gitops.core.apply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Outcome;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.internal.SortedArrayMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class PlanOutcomesTest {

  static final ResourceKey A = Plans.key("p", "a");
  static final ResourceKey B = Plans.key("p", "b");
  static final ResourceKey C = Plans.key("p", "c");

  static List<Change> noops(ResourceKey... keys) {
    List<Change> out = new ArrayList<>();
    for (ResourceKey k : keys) {
      out.add(Plans.change(k, Action.NOOP));
    }
    return out;
  }

  static SortedMap<ResourceKey, String> fingerprints(ResourceKey... keys) {
    SortedMap<ResourceKey, String> out = new TreeMap<>();
    for (ResourceKey k : keys) {
      out.put(k, "f");
    }
    return SortedArrayMap.copyOf(out);
  }

  static PlanOutcomes settled(List<Change> changes, SortedMap<ResourceKey, String> fingerprints) {
    PlanOutcomes o = new PlanOutcomes(changes, fingerprints, "plan-1");
    for (int i = 0; i < changes.size(); i++) {
      o.set(i, Outcome.unchanged());
    }
    return o;
  }

  @Test
  void keysInNaturalOrderAreHandedOverAsASortedMapWhetherOrNotTheFingerprintsHoldTheSameInstances() {
    // the same instances as the fingerprints', equal copies, and no fingerprints at all
    for (SortedMap<ResourceKey, String> f : List.of(fingerprints(A, B, C),
        fingerprints(ResourceKey.parse(A.toString()), ResourceKey.parse(B.toString()), ResourceKey.parse(C.toString())),
        fingerprints())) {
      Map<ResourceKey, Outcome> out = settled(noops(A, B, C), f).view(true);

      assertThat(out).isInstanceOf(SortedArrayMap.class);
      assertThat(out.keySet()).containsExactly(A, B, C);
    }
  }

  @Test
  void keysOutOfOrderAreLookedUpByKeyAndKeptInPlanOrderEvenWhenTheFingerprintsHoldThoseInstances() {
    // b and a are the fingerprints' own instances, but their places are swapped
    PlanOutcomes o = new PlanOutcomes(noops(B, A, C), fingerprints(A, B, C), "plan-1");

    assertThat(o.at(B)).isZero();
    assertThat(o.at(A)).isEqualTo(1);
    assertThat(o.at(Plans.key("p", "absent"))).isEqualTo(-1);
    o.set(1, Outcome.unchanged());
    assertThat(o.get(A)).isEqualTo(Outcome.unchanged());
    assertThat(o.get(B)).as("no outcome yet").isNull();
    assertThat(o.view(false)).containsKey(B).doesNotContainKey(Plans.key("p", "absent"));
    o.set(0, Outcome.unchanged());
    o.set(2, Outcome.unchanged());

    Map<ResourceKey, Outcome> out = o.view(true);
    assertThat(out).isNotInstanceOf(SortedArrayMap.class);
    assertThat(out.keySet()).containsExactly(B, A, C);
  }

  @Test
  void aKeyWithoutItsOutcomeKeepsTheViewReadThrough() {
    PlanOutcomes o = new PlanOutcomes(noops(A, B), fingerprints(A, B), "plan-1");
    o.set(0, Outcome.unchanged());

    Map<ResourceKey, Outcome> view = o.view(true);
    assertThat(view).isNotInstanceOf(SortedArrayMap.class);
    assertThat(view.get(B)).isNull();
    o.set(1, Outcome.skipped("later"));
    assertThat(view.get(B)).as("read through to the outcomes").isEqualTo(Outcome.skipped("later"));
  }

  @Test
  void twoChangesOfOneKeyAreRefusedNamingIt() {
    for (List<Change> changes : List.of(noops(A, A), noops(A, B, A), noops(B, A, B))) {
      assertThatThrownBy(() -> new PlanOutcomes(changes, fingerprints(A, B), "plan-1"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("plan plan-1 has two changes for " + changes.get(changes.size() - 1).key());
    }
  }
}
