package dev.gitops.core.internal.plan;

import static dev.gitops.core.internal.plan.StubProvider.input;
import static dev.gitops.core.internal.plan.StubProvider.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Change;
import dev.gitops.api.DecodeException;
import dev.gitops.api.DependencyCycleException;
import dev.gitops.api.Origin;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.StoredState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class DependencyGraphTest {

  private final StubProvider provider = new StubProvider("s");
  private final StubProvider other = new StubProvider("t");
  private final Map<String, Provider> providers = Map.of("s", provider, "t", other);

  private static ResourceKey key(String name) {
    return ResourceKey.of("s", "thing", name);
  }

  private static Resource.Builder res(String name) {
    return Resource.builder(key(name)).document(json("{}")).origin(Origin.of("app/" + name + ".yaml", 3, "r1"));
  }

  private static Change create(Resource r) {
    return Change.create(r, "new");
  }

  private static Change delete(Resource last) {
    return Change.delete(last, json("{}"), "removed from Git");
  }

  /** The graph of creating {@code desired} and deleting {@code removed}. */
  private Map<ResourceKey, SortedSet<ResourceKey>> graph(List<Resource> desired, List<Resource> removed) {
    List<Change> changes = new ArrayList<>();
    desired.forEach(r -> changes.add(create(r)));
    removed.forEach(r -> changes.add(delete(r)));
    Map<ResourceKey, Resource> byKey = new HashMap<>();
    desired.forEach(r -> byKey.put(r.key(), r));
    return DependencyGraph.build(changes, input(providers, State.of("r1", desired), StoredState.empty(), Map.of()),
        byKey);
  }

  private List<String> order(List<Change> changes, Map<ResourceKey, SortedSet<ResourceKey>> deps) {
    return DependencyGraph.order(changes, deps, providers).stream().map(c -> c.key().name()).toList();
  }

  private static SortedSet<ResourceKey> keys(String... names) {
    TreeSet<ResourceKey> out = new TreeSet<>();
    for (String n : names) {
      out.add(key(n));
    }
    return out;
  }

  @Test
  void dependsOnIsAnEdgeAndOrdersTheDependencyFirst() {
    Resource db = res("db").build();
    Resource app = res("app").dependsOn(key("db")).build();
    Map<ResourceKey, SortedSet<ResourceKey>> deps = graph(List.of(app, db), List.of());
    assertThat(deps).containsOnlyKeys(key("app"));
    assertThat(deps.get(key("app"))).isEqualTo(keys("db"));
    assertThat(order(List.of(create(app), create(db)), deps)).containsExactly("db", "app");
  }

  @Test
  void dependsOnCrossesProviders() {
    ResourceKey bucket = ResourceKey.of("t", "bucket", "logs");
    Resource b = Resource.of(bucket, json("{}"));
    Resource app = res("app").dependsOn(bucket).build();
    Map<ResourceKey, SortedSet<ResourceKey>> deps = graph(List.of(app, b), List.of());
    assertThat(deps.get(key("app"))).containsExactly(bucket);
  }

  @Test
  void eachWaveWaitsForTheWholePreviousNonEmptyWaveOnly() {
    Resource a = res("a").wave(-1).build();
    Resource b = res("b").wave(-1).build();
    Resource c = res("c").build();
    Resource d = res("d").wave(5).build();
    Map<ResourceKey, SortedSet<ResourceKey>> deps = graph(List.of(d, c, b, a), List.of());
    assertThat(deps.get(key("a"))).isNull();
    assertThat(deps.get(key("b"))).isNull();
    assertThat(deps.get(key("c"))).isEqualTo(keys("a", "b"));
    assertThat(deps.get(key("d"))).as("no transitive edges to wave -1").isEqualTo(keys("c"));
  }

  @Test
  void deletesRunInReverseOfTheLastAppliedDependencies() {
    Resource db = res("db").build();
    Resource app = res("app").dependsOn(key("db")).build();
    Map<ResourceKey, SortedSet<ResourceKey>> deps = graph(List.of(), List.of(app, db));
    assertThat(deps.get(key("db"))).as("the database goes after its dependent").isEqualTo(keys("app"));
    assertThat(deps.get(key("app"))).isNull();
    assertThat(order(List.of(delete(db), delete(app)), deps)).containsExactly("app", "db");
  }

  @Test
  void deleteWavesRunInReverse() {
    Resource early = res("early").wave(0).build();
    Resource late = res("late").wave(3).build();
    Map<ResourceKey, SortedSet<ResourceKey>> deps = graph(List.of(), List.of(early, late));
    assertThat(deps.get(key("early"))).isEqualTo(keys("late"));
    assertThat(deps.get(key("late"))).isNull();
  }

  @Test
  void deletesBreakTiesInTheReverseOfTheApplyOrderAfterTheApplies() {
    // kubectl, Helm and Argo CD delete workloads before the ConfigMaps, accounts and roles they use
    provider.typeOrder = k -> k.name().startsWith("role") ? 0 : k.name().startsWith("config") ? 1 : 2;
    List<Change> changes = new ArrayList<>();
    for (String n : List.of("config-a", "role", "workload", "config-b")) {
      changes.add(delete(res(n).build()));
    }
    changes.add(create(res("config-new").build()));
    changes.add(create(res("workload-new").build()));
    Map<ResourceKey, SortedSet<ResourceKey>> none = graph(List.of(), List.of());
    List<String> expected = List.of("config-new", "workload-new", "workload", "config-b", "config-a", "role");
    assertThat(order(changes, none)).as("without edges").containsExactlyElementsOf(expected);
    // the graph walk breaks its ties the same way
    Map<ResourceKey, SortedSet<ResourceKey>> one = new HashMap<>();
    one.put(key("workload-new"), new TreeSet<>(Set.of(key("config-new"))));
    assertThat(order(changes, one)).as("with an edge").containsExactlyElementsOf(expected);
  }

  @Test
  void providerRelationsAreEdgesAmongPlannedKeysOnly() {
    provider.relations = (r, desired) -> r.key().name().equals("member")
        ? Set.of(key("ns"), key("member"), key("not-planned")) : Set.of();
    Resource ns = res("ns").build();
    Resource member = res("member").build();
    Map<ResourceKey, SortedSet<ResourceKey>> deps = graph(List.of(member, ns), List.of());
    assertThat(deps.get(key("member"))).as("self and unplanned keys are left out").isEqualTo(keys("ns"));
    Map<ResourceKey, SortedSet<ResourceKey>> teardown = graph(List.of(), List.of(member, ns));
    assertThat(teardown.get(key("ns"))).as("the namespace is deleted after its member").isEqualTo(keys("member"));
  }

  @Test
  void aDependencyOnAnUndeclaredKeyIsAnErrorNamingTheFileAndBothKeys() {
    Resource app = res("app").dependsOn(key("ghost")).build();
    assertThatThrownBy(() -> graph(List.of(app), List.of()))
        .isInstanceOf(DecodeException.class)
        .hasMessageContaining("app/app.yaml:3")
        .hasMessageContaining(key("app").toString())
        .hasMessageContaining(key("ghost") + ", which is not declared");
  }

  @Test
  void aDependencyOnAKeyRemovedFromGitSaysSo() {
    Resource db = res("db").build();
    Resource app = res("app").dependsOn(key("db")).build();
    assertThatThrownBy(() -> graph(List.of(app), List.of(db)))
        .isInstanceOf(DecodeException.class).hasMessageContaining("which was removed from the desired state");
  }

  @Test
  void aCycleIsAnErrorNamingItsKeys() {
    Resource a = res("a").dependsOn(key("b")).build();
    Resource b = res("b").dependsOn(key("c")).build();
    Resource c = res("c").dependsOn(key("a")).build();
    Resource free = res("free").build();
    Map<ResourceKey, SortedSet<ResourceKey>> deps = graph(List.of(a, b, c, free), List.of());
    assertThatThrownBy(() -> order(List.of(create(a), create(b), create(c), create(free)), deps))
        .isInstanceOfSatisfying(DependencyCycleException.class, e -> {
          assertThat(e.getMessage()).contains(key("a").toString(), key("b").toString(), key("c").toString())
              .doesNotContain(key("free").toString());
        });
  }

  @Test
  void typeOrderBreaksTiesButNeverOverridesADependency() {
    provider.typeOrder = k -> k.name().startsWith("x") ? 0 : 1;
    Resource y = res("y").build();
    Resource x1 = res("x1").build();
    Resource x2 = res("x2").dependsOn(key("z")).build();
    Resource z = res("z").build();
    Map<ResourceKey, SortedSet<ResourceKey>> deps = graph(List.of(y, x1, x2, z), List.of());
    assertThat(order(List.of(create(y), create(z), create(x2), create(x1)), deps))
        .as("x1 first (lower type order); x2 must wait for z whatever its type order")
        .containsExactly("x1", "y", "z", "x2");
  }

  @Test
  void withoutEdgesTheOrderIsTheTieBreakOrderAsWithEdges() {
    provider.typeOrder = k -> k.name().startsWith("z") ? -1 : 0;
    List<Change> changes = new ArrayList<>();
    for (String n : List.of("m", "b", "zq", "a", "za", "c")) {
      changes.add(create(res(n).build()));
    }
    Map<ResourceKey, SortedSet<ResourceKey>> none = new HashMap<>();
    none.put(key("m"), new TreeSet<>());  // a key with an empty set of dependencies: still no edge
    // the type order first, then the key; the input's order does not matter
    assertThat(order(changes, none)).containsExactly("za", "zq", "a", "b", "c", "m");
    assertThat(order(changes, Map.of())).containsExactly("za", "zq", "a", "b", "c", "m");
    List<Change> reversed = new ArrayList<>(changes);
    java.util.Collections.reverse(reversed);
    assertThat(order(reversed, Map.of())).containsExactly("za", "zq", "a", "b", "c", "m");
    // one edge takes the graph walk, which breaks its ties the same way
    Map<ResourceKey, SortedSet<ResourceKey>> one = new HashMap<>();
    one.put(key("a"), new TreeSet<>(Set.of(key("m"))));
    assertThat(order(changes, one)).containsExactly("za", "zq", "b", "c", "m", "a");
  }
}
