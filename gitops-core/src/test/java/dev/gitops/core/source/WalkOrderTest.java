package dev.gitops.core.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.DuplicateResourceException;
import dev.gitops.api.Documents;
import dev.gitops.api.Origin;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class WalkOrderTest {

  /** {@code n} resources scoped across namespaces, so the walk's order is not the keys' order. */
  static List<Resource> walk(int n, String revision, int generation) {
    List<Resource> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ResourceKey k = ResourceKey.of("mem", "widget", "team-" + (i % 7), String.format("w-%04d", i));
      out.add(Resource.builder(k).document(Documents.freeze(Documents.nodes().objectNode().put("g", generation)))
          .origin(new Origin("res/f" + (i / 10) + ".yaml", i % 10 + 1, revision)).build());
    }
    return out;
  }

  @Test
  void aWalkOfTheSameKeysGivesTheStateOfSortingItTwiceAndAfter() {
    WalkOrder order = new WalkOrder();
    for (int generation = 0; generation < 3; generation++) {
      List<Resource> walked = walk(200, "r" + generation, generation);
      State state = order.state("r" + generation, walked);
      State expected = State.of("r" + generation, walked);
      assertThat(state).isEqualTo(expected);
      assertThat(state.resources().values()).containsExactlyElementsOf(expected.resources().values());
      assertThat(state.resources().values()).allSatisfy(r -> assertThat(r.document().get("g").asInt()).isEqualTo(
          walked.get(0).document().get("g").asInt()));
    }
  }

  @Test
  void aWalkWithKeysMovedAddedOrRemovedIsSortedAgain() {
    WalkOrder order = new WalkOrder();
    order.state("r0", walk(50, "r0", 0));
    order.state("r1", walk(50, "r1", 1));  // reuses the order from now on
    Random random = new Random(42);
    for (int round = 0; round < 20; round++) {
      List<Resource> walked = new ArrayList<>(walk(50, "r" + round, round));
      switch (round % 3) {
        case 0 -> Collections.swap(walked, random.nextInt(50), random.nextInt(50));
        case 1 -> walked.remove(random.nextInt(walked.size()));
        default -> walked.addAll(walk(51, "r" + round, round).subList(50, 51));
      }
      assertThat(order.state("r" + round, walked)).isEqualTo(State.of("r" + round, walked));
    }
  }

  @Test
  void twoResourcesWithOneKeyStillThrowAndTheLastGoodOrderIsKept() {
    WalkOrder order = new WalkOrder();
    List<Resource> good = walk(20, "r0", 0);
    order.state("r0", good);
    List<Resource> duplicated = new ArrayList<>(good);
    duplicated.set(5, good.get(6));
    assertThatThrownBy(() -> order.state("r1", duplicated)).isInstanceOf(DuplicateResourceException.class);
    assertThat(order.state("r2", walk(20, "r2", 2))).isEqualTo(State.of("r2", walk(20, "r2", 2)));
  }
}
