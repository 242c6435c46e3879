package dev.gitops.core.internal.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.MergeRules;
import dev.gitops.api.Observation;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.spi.StoredState;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class PlanInputTest {

  private static final ResourceKey A = ResourceKey.of("mem", "thing", "a");
  private static final ResourceKey B = ResourceKey.of("mem", "thing", "b");

  private static PlanInput input(Map<ResourceKey, Observation> observations) {
    return new PlanInput(State.of("r1", List.of()), new StoredState(1, new TreeMap<>(), new TreeMap<>(), "r0", "r0", false),
        Map.of(), observations, Set.of(), MergeRules.defaults(), Map.of(), new byte[32]);
  }

  @Test
  void anOrdinaryObservationMapIsCopiedSoALaterChangeToItIsNotSeen() {
    Map<ResourceKey, Observation> observed = new HashMap<>(Map.of(A, Observation.absent(A)));
    PlanInput in = input(observed);
    observed.put(B, Observation.absent(B));
    assertThat(in.observations()).containsOnlyKeys(A);
    assertThatThrownBy(() -> in.observations().put(B, Observation.absent(B))).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void aHandedOverMapIsKeptAsItIsAndReadOnly() {
    Map<ResourceKey, Observation> observed = new HashMap<>(Map.of(A, Observation.absent(A), B, Observation.absent(B)));
    PlanInput in = input(PlanInput.handedOver(observed));
    assertThat(in.observations()).isEqualTo(observed).hasSize(2).containsKey(B);
    assertThat(in.observations().get(A)).isSameAs(observed.get(A));
    assertThatThrownBy(() -> in.observations().put(A, Observation.unknown(A, "x"))).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> in.observations().remove(A)).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> in.observations().entrySet().clear()).isInstanceOf(UnsupportedOperationException.class);
    assertThat(in.observations()).hasSize(2);
  }
}
