package dev.gitops.core.internal.graph;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CyclesTest {

  private static List<String> find(Map<String, List<String>> deps) {
    return Cycles.find(deps.keySet().stream().sorted().toList(), n -> deps.getOrDefault(n, List.of()));
  }

  @Test
  void anAcyclicGraphHasNoCycle() {
    assertThat(find(Map.of("a", List.of("b", "c"), "b", List.of("c"), "c", List.of()))).isEmpty();
  }

  @Test
  void theCycleIsClosedAndLeavesOutWhatOnlyLeadsIntoIt() {
    // "a" depends on the cycle b -> c -> d -> b but is not on it; "e" is free.
    Map<String, List<String>> deps = Map.of("a", List.of("b"), "b", List.of("c"), "c", List.of("d"),
        "d", List.of("b"), "e", List.of());
    assertThat(find(deps)).containsExactly("b", "c", "d", "b");
  }

  @Test
  void aSelfDependencyIsACycleOfOne() {
    assertThat(find(Map.of("a", List.of("a")))).containsExactly("a", "a");
  }

  @Test
  void dependenciesOutsideTheNodesAreIgnored() {
    assertThat(Cycles.find(List.of("a"), n -> List.of("elsewhere"))).isEmpty();
  }
}
