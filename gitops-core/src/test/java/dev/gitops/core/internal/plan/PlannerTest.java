package dev.gitops.core.internal.plan;

import static dev.gitops.core.internal.plan.StubProvider.input;
import static dev.gitops.core.internal.plan.StubProvider.json;
import static dev.gitops.core.internal.plan.StubProvider.stored;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.FieldPath;
import dev.gitops.api.MergeRules;
import dev.gitops.api.Observation;
import dev.gitops.api.Plan;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.spi.Provider;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Planner decisions that the Reconciler tests do not pin: the decision memo's key and REPLACE. */
class PlannerTest {

  private final StubProvider provider = new StubProvider("s");
  private final Map<String, Provider> providers = Map.of("s", provider);
  private final Planner planner = new Planner("me", PlanOptions.defaults());

  private static ResourceKey key(String name) {
    return ResourceKey.of("s", "thing", name);
  }

  private Plan plan(Resource desired, Resource lastApplied, String live, String version) {
    Observation v = Observation.present(desired.key(), json(live), version);
    return planner.plan(input(providers, State.of("r1", List.of(desired)), stored(List.of(lastApplied)),
        Map.of(desired.key(), v)));
  }

  @Test
  void cachedMergesAreKeyedByTheRulesValueNotByAHashOfTheirText() {
    Resource d = Resource.of(key("a"), json("{'Aa':1,'BB':1}"));
    // Aa drifted out of band; the live version token stays the same between the two plans
    provider.rules = MergeRules.builder().ignore("/Aa").build();
    assertThat(plan(d, d, "{'Aa':2,'BB':1}", "v7").changes().get(0).action())
        .as("Aa is ignored: live keeps its value").isEqualTo(Action.NOOP);

    // "Aa" and "BB" hash alike as text, so a digest of toString().hashCode() would reuse the first merge
    provider.rules = MergeRules.builder().ignore("/BB").build();
    Change c = plan(d, d, "{'Aa':2,'BB':1}", "v7").changes().get(0);
    assertThat(c.action()).as("with /BB ignored instead, Aa's drift is corrected").isEqualTo(Action.UPDATE);
    assertThat(c.target().get("Aa").intValue()).isEqualTo(1);
  }

  @Test
  void equalRulesRebuiltByTheProviderKeepTheCachedMerge() {
    Resource d = Resource.of(key("a"), json("{'x':1}"));
    provider.rules = MergeRules.builder().ignore("/y").ignore("/z").setList("/tags").build();
    Change first = plan(d, d, "{'x':2,'y':5}", "v1").changes().get(0);
    assertThat(first.action()).isEqualTo(Action.UPDATE);
    provider.rules = MergeRules.builder().setList("/tags").ignore("/z").ignore("/y").build();
    Change second = plan(d, d, "{'x':2,'y':5}", "v1").changes().get(0);
    assertThat(second.target()).as("the merge of equal rules is reused, not recomputed").isSameAs(first.target());
    provider.rules = MergeRules.builder().setList("/tags").build();
    Change third = plan(d, d, "{'x':2,'y':5}", "v1").changes().get(0);
    assertThat(third.target()).as("other rules merge again").isNotSameAs(first.target());
  }

  @Test
  void aFieldTheProviderCannotChangeInPlaceMakesAReplaceNamingTheField() {
    provider.replace = (k, p) -> p.equals(FieldPath.of("spec", "size"));
    Resource last = Resource.of(key("disk"), json("{'spec':{'size':10,'label':'a'}}"));
    Resource resized = Resource.of(key("disk"), json("{'spec':{'size':20,'label':'a'}}"));
    Change c = plan(resized, last, "{'spec':{'size':10,'label':'a'}}", "v1").changes().get(0);
    assertThat(c.action()).isEqualTo(Action.REPLACE);
    assertThat(c.reason()).contains("/spec/size").contains("cannot change in place");
    assertThat(c.target().get("spec").get("size").intValue()).isEqualTo(20);
    assertThat(c.live().get("spec").get("size").intValue()).as("the object being replaced").isEqualTo(10);

    Resource relabelled = Resource.of(key("disk"), json("{'spec':{'size':10,'label':'b'}}"));
    Change update = plan(relabelled, last, "{'spec':{'size':10,'label':'a'}}", "v1").changes().get(0);
    assertThat(update.action()).as("a field that can change in place stays an update").isEqualTo(Action.UPDATE);
  }

  @Test
  void aReplaceIsAskedForTheFieldsThatChangedOnly() {
    java.util.List<FieldPath> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
    provider.replace = (k, p) -> {
      asked.add(p);
      return false;
    };
    Resource last = Resource.of(key("disk"), json("{'spec':{'size':10,'label':'a'}}"));
    Resource relabelled = Resource.of(key("disk"), json("{'spec':{'size':10,'label':'b'}}"));
    assertThat(plan(relabelled, last, "{'spec':{'size':10,'label':'a'}}", "v1").changes().get(0).action())
        .isEqualTo(Action.UPDATE);
    assertThat(asked).containsExactly(FieldPath.of("spec", "label"));
  }

  @Test
  void aReplaceCountsAsADestroyForTheDeletionGuard() {
    provider.replace = (k, p) -> true;
    Resource last = Resource.of(key("disk"), json("{'size':10}"));
    Plan plan = plan(Resource.of(key("disk"), json("{'size':20}")), last, "{'size':10}", "v1");
    assertThat(plan.changes().get(0).action()).isEqualTo(Action.REPLACE);
    assertThat(DeletionGuard.tally(plan).get("s"))
        .isEqualTo(new DeletionGuard.Tally("s", 1, 1));
  }

  /** A namespace "ns" whose members are the keys scoped to it. */
  private void namespaces() {
    provider.cascades = (r, desired) -> r.key().type().equals("ns")
        ? desired.stream().filter(k -> k.scope().equals(r.key().name())).collect(java.util.stream.Collectors.toSet())
        : Set.of();
  }

  private Plan planAll(List<Resource> desired, List<Resource> lastApplied) {
    Map<ResourceKey, Observation> live = new java.util.HashMap<>();
    for (Resource r : lastApplied) {
      live.put(r.key(), Observation.present(r.key(), r.document(), "v1"));
    }
    for (Resource r : desired) {
      live.putIfAbsent(r.key(), Observation.absent(r.key()));
    }
    return planner.plan(input(providers, State.of("r1", desired), stored(lastApplied), live));
  }

  @Test
  void aDeleteThatWouldCascadeToResourcesGitStillDeclaresIsHeldBackNamingThem() {
    namespaces();
    Resource ns = Resource.of(ResourceKey.of("s", "ns", "", "team"), json("{}"));
    Resource app = Resource.of(ResourceKey.of("s", "thing", "team", "app"), json("{'x':1}"));
    Resource gone = Resource.of(ResourceKey.of("s", "thing", "team", "old"), json("{'x':1}"));
    Resource elsewhere = Resource.of(ResourceKey.of("s", "thing", "other", "db"), json("{'x':1}"));

    // the namespace is removed from Git while its member "app" stays: the delete is held back
    Plan held = planAll(List.of(app, elsewhere), List.of(ns, app, gone, elsewhere));
    Change c = held.changes().stream().filter(x -> x.key().equals(ns.key())).findFirst().orElseThrow();
    assertThat(c.action()).isEqualTo(Action.SKIP);
    assertThat(c.has(Change.Flag.HELD_BACK)).isTrue();
    assertThat(c.reason()).contains("would also remove 1 resource Git still declares").contains(app.key().toString())
        .doesNotContain(elsewhere.key().toString());
    assertThat(held.heldBack()).containsExactly(ns.key());
    Change removedMember = held.changes().stream().filter(x -> x.key().equals(gone.key())).findFirst().orElseThrow();
    assertThat(removedMember.action()).as("a member removed from Git is still deleted").isEqualTo(Action.DELETE);

    // once Git no longer declares anything in it, the namespace goes
    Plan free = planAll(List.of(elsewhere), List.of(ns, app, elsewhere));
    assertThat(free.changes().stream().filter(x -> x.key().equals(ns.key())).findFirst().orElseThrow().action())
        .isEqualTo(Action.DELETE);
    assertThat(free.heldBack()).isEmpty();
  }

  @Test
  void aReplaceThatWouldCascadeIsHeldBackToo() {
    namespaces();
    provider.replace = (k, p) -> k.type().equals("ns");
    Resource ns = Resource.of(ResourceKey.of("s", "ns", "", "team"), json("{'label':'a'}"));
    Resource relabelled = Resource.of(ResourceKey.of("s", "ns", "", "team"), json("{'label':'b'}"));
    Resource app = Resource.of(ResourceKey.of("s", "thing", "team", "app"), json("{'x':1}"));
    Plan plan = planAll(List.of(relabelled, app), List.of(ns, app));
    Change c = plan.changes().stream().filter(x -> x.key().equals(ns.key())).findFirst().orElseThrow();
    assertThat(c.action()).isEqualTo(Action.SKIP);
    assertThat(c.reason()).contains("replacing it would also remove").contains(app.key().toString());
  }
}
