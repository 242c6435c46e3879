package dev.gitops.core;

import static dev.gitops.core.PlanFileWorld.doc;
import static dev.gitops.core.PlanFileWorld.num;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Outcome;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.Source;
import dev.gitops.core.plan.DeletionBudget;
import dev.gitops.core.store.InMemoryStateStore;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A resync whose plan the planner remembered whole reports the outcomes of the last sync of that
 * plan and writes nothing; anything that moves (live drift, a new document, a new commit) is
 * planned, applied and recorded again.
 */
class QuietResyncTest {
  private static final ResourceKey A = ResourceKey.of("m", "thing", "", "a");
  private static final ResourceKey B = ResourceKey.of("m", "thing", "", "b");

  private final MapProvider provider = new MapProvider("m", false);
  private final AtomicReference<State> desired = new AtomicReference<>(
      State.of("r1", List.of(Resource.of(A, doc("x", num(1))), Resource.of(B, doc("y", num(1))))));
  private final InMemoryStateStore store = new InMemoryStateStore();
  private final Reconciler reconciler = Reconciler.builder().source(Source.of(desired::get)).provider(provider)
      .store(store).owner("me").build();

  @Test
  void aRememberedPlanReportsItsOutcomesAgainAndWritesNothingUntilSomethingMoves() {
    assertThat(reconciler.sync().isSuccessful()).isTrue();
    SyncResult first = reconciler.sync();
    var inventory = store.load().inventory();
    SyncResult again = reconciler.sync();

    assertThat(again.plan()).as("the planner remembered the whole plan").isSameAs(first.plan());
    assertThat(again.isSuccessful()).isTrue();
    assertThat(again.outcomes()).isEqualTo(first.outcomes()).containsOnlyKeys(A, B);
    assertThat(again.outcomes().values()).allMatch(o -> o.kind() == Outcome.Kind.UNCHANGED);
    assertThat(store.load().inventory()).as("no record rewritten (serials included)").isEqualTo(inventory);
    assertThat(store.load().pending()).isEmpty();

    provider.put(A, doc("x", num(5)));
    SyncResult drifted = reconciler.sync();
    assertThat(drifted.outcomes().get(A).kind()).isEqualTo(Outcome.Kind.CONFIGURED);
    assertThat(provider.live.get(A)).isEqualTo(doc("x", num(1)));

    desired.set(State.of("r2", List.of(Resource.of(A, doc("x", num(1))), Resource.of(B, doc("y", num(2))))));
    SyncResult changed = reconciler.sync();
    assertThat(changed.outcomes().get(B).kind()).isEqualTo(Outcome.Kind.CONFIGURED);
    assertThat(changed.outcomes().get(A).kind()).isEqualTo(Outcome.Kind.UNCHANGED);
    assertThat(provider.live.get(B)).isEqualTo(doc("y", num(2)));
    assertThat(store.load().inventory().get(B).resource().document()).isEqualTo(doc("y", num(2)));

    SyncResult quiet = reconciler.sync();
    assertThat(reconciler.sync().outcomes()).as("reported again, not copied again").isSameAs(quiet.outcomes());
    assertThat(quiet.outcomes().values()).allMatch(o -> o.kind() == Outcome.Kind.UNCHANGED);
  }

  @Test
  void eachSyncsHistoryEntryCountsItsOutcomesByKindAndAQuietResyncAddsNone() {
    SyncResult created = reconciler.sync();
    assertThat(store.history().get(0).counts()).isEqualTo(java.util.Map.of("CREATED", 2));
    assertThat(store.history().get(0).id()).isEqualTo(created.historyId());

    provider.put(A, doc("x", num(5)));
    SyncResult drifted = reconciler.sync();
    assertThat(store.history().get(0).counts()).isEqualTo(java.util.Map.of("CONFIGURED", 1, "UNCHANGED", 1));
    assertThat(store.history().get(0).id()).isEqualTo(drifted.historyId());

    int entries = store.history().size();
    SyncResult quiet = reconciler.sync();
    assertThat(quiet.status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(store.history()).as("a quiet resync of the same revision adds no entry").hasSize(entries);
    assertThat(quiet.historyId()).isEqualTo(drifted.historyId());
  }

  @Test
  void keysRemovedFromGitAreObservedWithTheirProviderWhateverElseThatProviderHas() {
    ResourceKey c = ResourceKey.of("n", "thing", "", "c");
    ResourceKey d = ResourceKey.of("n", "thing", "", "d");
    ResourceKey e = ResourceKey.of("o", "thing", "", "e");
    MapProvider n = new MapProvider("n", false);
    MapProvider o = new MapProvider("o", false);
    AtomicReference<State> read = new AtomicReference<>(State.of("r1", List.of(Resource.of(A, doc("x", num(1))),
        Resource.of(B, doc("y", num(1))), Resource.of(c, doc("z", num(1))), Resource.of(d, doc("w", num(1))),
        Resource.of(e, doc("v", num(1))))));
    Reconciler three = Reconciler.builder().source(Source.of(read::get)).provider(provider).provider(n).provider(o)
        .store(new InMemoryStateStore()).owner("me")
        // provider o loses every key it has: allowed here
        .options(SyncOptions.builder().budget(DeletionBudget.defaults().withAllowEmpty(true)).build()).build();
    assertThat(three.sync().isSuccessful()).isTrue();

    // B and D leave Git among keys of their providers that stay; E was its provider's only key
    read.set(State.of("r2", List.of(Resource.of(A, doc("x", num(1))), Resource.of(c, doc("z", num(1))))));
    SyncResult removed = three.sync();
    assertThat(removed.plan().isComplete()).as("every removed key observed: %s", removed.plan().unknown()).isTrue();
    assertThat(removed.status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(removed.outcomes().get(B).kind()).isEqualTo(Outcome.Kind.DELETED);
    assertThat(removed.outcomes().get(d).kind()).isEqualTo(Outcome.Kind.DELETED);
    assertThat(removed.outcomes().get(e).kind()).isEqualTo(Outcome.Kind.DELETED);
    assertThat(provider.live).containsOnlyKeys(A);
    assertThat(n.live).containsOnlyKeys(c);
    assertThat(o.live).isEmpty();
  }

  @Test
  void aKeyGitNoLongerDeclaresIsObservedAtEveryResyncOfTheSameStateAndStoreAndNotOnceItIsDeclaredAgain() {
    Reconciler keeping = Reconciler.builder().source(Source.of(desired::get)).provider(provider).store(store)
        .owner("me").options(SyncOptions.builder().prune(false).build()).build();
    assertThat(keeping.sync().isSuccessful()).isTrue();
    State withoutB = State.of("r2", List.of(Resource.of(A, doc("x", num(1)))));
    desired.set(withoutB);
    List<java.util.Collection<ResourceKey>> observed = new java.util.ArrayList<>();
    provider.beforeObserve = keys -> observed.add(List.copyOf(keys));

    for (int round = 0; round < 3; round++) {
      observed.clear();
      SyncResult r = keeping.sync();
      assertThat(r.plan().isComplete()).as("round %d: %s", round, r.plan().unknown()).isTrue();
      assertThat(r.plan().change(B)).as("round %d", round).hasValueSatisfying(c -> assertThat(c.action())
          .isEqualTo(dev.gitops.api.Action.SKIP));
      assertThat(observed).as("round %d: B observed with A", round).singleElement()
          .satisfies(keys -> assertThat(keys).containsExactly(A, B));
    }
    assertThat(store.load().inventory()).containsOnlyKeys(A, B);

    // declared again (another desired map): B is desired, and observed as such
    desired.set(State.of("r3", List.of(Resource.of(A, doc("x", num(1))), Resource.of(B, doc("y", num(7))))));
    observed.clear();
    SyncResult back = keeping.sync();
    assertThat(back.outcomes().get(B).kind()).isEqualTo(Outcome.Kind.CONFIGURED);
    assertThat(provider.live.get(B)).isEqualTo(doc("y", num(7)));
    // and left again while the store changed under the same desired map: found again
    desired.set(withoutB);
    assertThat(keeping.sync().plan().change(B)).hasValueSatisfying(c -> assertThat(c.action())
        .isEqualTo(dev.gitops.api.Action.SKIP));
  }
}
