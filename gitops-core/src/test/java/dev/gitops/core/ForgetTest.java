package dev.gitops.core;

import static dev.gitops.core.ReconcilerTest.json;
import static dev.gitops.core.ReconcilerTest.key;
import static dev.gitops.core.ReconcilerTest.res;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Outcome;
import dev.gitops.api.OwnerMark;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Provider;
import dev.gitops.core.store.InMemoryStateStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** {@link Reconciler#forget}: stop owning some keys, leave their live objects, remove their marks first. */
class ForgetTest {

  final AtomicReference<State> desired = new AtomicReference<>(State.of("r1", List.of()));
  final InMemoryStateStore store = new InMemoryStateStore();

  void want(String revision, Resource... rs) {
    desired.set(State.of(revision, List.of(rs)));
  }

  Reconciler reconciler(Provider p, SyncOptions options) {
    return Reconciler.builder().source(dev.gitops.api.spi.Source.of(desired::get)).provider(p).store(store)
        .owner("me").options(options).build();
  }

  /** a and b synced at r1, then a removed from Git at r2 (not synced yet: a sync would delete it). */
  private Reconciler syncedThenDropped(Provider p) {
    want("r1", res("a", "{'x':1}"), res("b", "{'x':1}"));
    Reconciler rec = reconciler(p, SyncOptions.defaults());
    assertThat(rec.sync().isSuccessful()).isTrue();
    want("r2", res("b", "{'x':1}"));
    return rec;
  }

  @Test
  void forgetUnmarksThenDropsTheKeyAndTheNextSyncNeitherDeletesNorRecreatesIt() {
    MapProvider p = new MapProvider("m", true);
    Reconciler rec = syncedThenDropped(p);
    List<String> seen = new ArrayList<>();
    p.beforeUnmark = k -> seen.add(k.name() + (store.load().inventory().containsKey(k) ? " still owned" : " forgotten"));

    SyncResult r = rec.forget(List.of(key("a")));

    assertThat(r.isSuccessful()).as(r.toString()).isTrue();
    assertThat(seen).as("unmarked before the store forgets it").containsExactly("a still owned");
    assertThat(r.plan().change(key("a")).orElseThrow().action()).isEqualTo(Action.FORGET);
    assertThat(r.outcomes().get(key("a")).kind()).isEqualTo(Outcome.Kind.UNCHANGED);
    assertThat(store.load().inventory()).containsOnlyKeys(key("b"));
    assertThat(p.markOf).doesNotContainKey(key("a")).containsKey(key("b"));
    assertThat(p.live.get(key("a"))).isEqualTo(json("{'x':1}"));
    assertThat(rec.history().get(0).id()).isEqualTo(r.historyId());
    assertThat(rec.history().get(0).message()).startsWith("forgot 1 of 1; ");
    assertThat(rec.history().get(0).counts()).containsExactly(java.util.Map.entry("FORGOTTEN", 1));
    assertThat(rec.history().get(0).operation()).isEqualTo(dev.gitops.api.spi.HistoryEntry.Operation.FORGET);
    assertThat(rec.history().get(0).isRollbackTarget()).as("a forget is no sync").isFalse();
    assertThat(store.load().lastAppliedRevision()).as("a forget applies no revision").isEqualTo("r1");

    SyncResult next = rec.sync();
    assertThat(next.isSuccessful()).isTrue();
    // the sync of r2 changed nothing, but the forget's entry at r2 is no sync of it: the sync has its own
    assertThat(next.historyId()).isNotEqualTo(r.historyId());
    assertThat(rec.history().get(0)).satisfies(h -> {
      assertThat(h.id()).isEqualTo(next.historyId());
      assertThat(h.revision()).isEqualTo("r2");
      assertThat(h.isRollbackTarget()).isTrue();
    });
    assertThat(next.plan().change(key("a"))).as("neither deleted nor reported as an orphan").isEmpty();
    assertThat(p.live).containsKey(key("a"));
    assertThat(p.applied).noneMatch(c -> c.key().equals(key("a")) && c.action() != Action.CREATE);
  }

  @Test
  void aKeyGitStillDeclaresIsRefusedNamingItAndNothingIsWritten() {
    MapProvider p = new MapProvider("m", true);
    want("r1", res("a", "{'x':1}"), res("b", "{'x':1}"));
    Reconciler rec = reconciler(p, SyncOptions.defaults());
    rec.sync();
    long serial = store.load().serial();

    assertThatThrownBy(() -> rec.forget(List.of(key("a"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("key m:thing::a is still declared in Git at r1")
        .hasMessageContaining("remove it from Git first");
    assertThat(store.load().serial()).isEqualTo(serial);
    assertThat(p.markOf).containsKey(key("a"));
  }

  @Test
  void aKeyNotOwnedRefusesTheWholeForgetBeforeAnythingIsUnmarkedOrWritten() {
    MapProvider p = new MapProvider("m", true);
    Reconciler rec = syncedThenDropped(p);
    List<ResourceKey> unmarked = new ArrayList<>();
    p.beforeUnmark = unmarked::add;
    long serial = store.load().serial();
    int history = rec.history().size();

    assertThatThrownBy(() -> rec.forget(List.of(key("a"), key("nope"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nothing was forgotten: key m:thing::nope is not owned by 'me'");
    assertThat(unmarked).isEmpty();
    assertThat(store.load().serial()).isEqualTo(serial);
    assertThat(store.load().inventory()).containsKey(key("a"));
    assertThat(rec.history()).hasSize(history);
  }

  @Test
  void aFailingUnmarkKeepsThatKeyOwnedAndTheOthersAreForgotten() {
    MapProvider p = new MapProvider("m", true);
    want("r1", res("a", "{'x':1}"), res("b", "{'x':1}"), res("c", "{'x':1}"));
    Reconciler rec = reconciler(p, SyncOptions.defaults());
    rec.sync();
    want("r2", res("c", "{'x':1}"));
    p.unmarkFailing.add(key("a"));

    SyncResult r = rec.forget(List.of(key("a"), key("b")));

    assertThat(r.status()).isEqualTo(SyncResult.Status.FAILED);
    assertThat(r.failures()).containsOnlyKeys(key("a"));
    assertThat(r.failures().get(key("a")).message()).contains("could not remove its mark")
        .contains("permission denied");
    assertThat(store.load().inventory()).containsOnlyKeys(key("a"), key("c"));
    assertThat(p.markOf).containsKey(key("a")).doesNotContainKey(key("b"));
  }

  @Test
  void aMarkingProviderWithoutUnmarkKeepsItsKeysOwnedSayingWhy() {
    MapProvider p = new MapProvider("m", true);
    Provider noUnmark = new Provider() {  // the SPI's default unmark
      @Override
      public String id() {
        return p.id();
      }

      @Override
      public java.util.Map<ResourceKey, dev.gitops.api.Observation> observe(java.util.Collection<ResourceKey> keys,
          CallContext ctx) {
        return p.observe(keys, ctx);
      }

      @Override
      public Outcome apply(Change change, CallContext ctx) {
        return p.apply(change, ctx);
      }

      @Override
      public boolean marksObjects() {
        return true;
      }

      @Override
      public java.util.Collection<ResourceKey> listMarked(String owner, CallContext ctx) {
        return p.listMarked(owner, ctx);
      }
    };
    Reconciler rec = syncedThenDropped(noUnmark);

    SyncResult r = rec.forget(List.of(key("a")));

    assertThat(r.failures()).containsOnlyKeys(key("a"));
    assertThat(r.failures().get(key("a")).message()).contains("provider 'm' marks its objects but cannot remove its mark");
    assertThat(store.load().inventory()).containsKey(key("a"));
  }

  /**
   * A planning provider (Terraform) keeps its own record of what it manages: forgetting a key in
   * the store alone would leave it there, and its next plan would destroy the object Git no longer
   * declares. Without an unmark that drops it from that record, the key stays owned.
   */
  @Test
  void aPlanningProviderWithoutUnmarkKeepsItsKeysOwnedSayingItsNextPlanWouldDestroyThem() {
    MapProvider p = new MapProvider("m", false);
    syncedThenDropped(p);
    Provider planning = new dev.gitops.api.spi.DelegatingProvider(p) {
      @Override
      public java.util.Optional<dev.gitops.api.spi.ProviderPlanner> planner() {
        return java.util.Optional.of(new dev.gitops.api.spi.ProviderPlanner() {
          @Override
          public List<Change> plan(List<Resource> wanted, CallContext ctx) {
            throw new AssertionError("a forget plans nothing");
          }

          @Override
          public String stateToken(CallContext ctx) {
            throw new AssertionError("a forget plans nothing");
          }
        });
      }

      @Override
      public void unmark(ResourceKey key, String owner, CallContext ctx) {
        throw new UnsupportedOperationException("as Provider's default");
      }
    };

    SyncResult r = reconciler(planning, SyncOptions.defaults()).forget(List.of(key("a")));

    assertThat(r.failures()).containsOnlyKeys(key("a"));
    assertThat(r.failures().get(key("a")).message()).contains("provider 'm' plans with its own record of the objects"
        + " it manages but cannot drop the key from it", "its next plan would destroy the object");
    assertThat(store.load().inventory()).containsKey(key("a"));
    assertThat(p.live).containsKey(key("a"));

    // an object only its planner records (a Terraform resource): said so, with the way to stop managing it
    assertThatThrownBy(() -> reconciler(planning, SyncOptions.defaults()).forget(List.of(key("tfonly"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("key m:thing::tfonly is an object its provider's own planner manages and records"
            + " (Terraform's state), not the store");
  }

  /** destroy(ORPHAN) forgets everything; its dry run recorded a history entry of a forget that did not happen. */
  @Test
  void aDryRunOfDestroyOrphanWritesNothingNotEvenAHistoryEntry() {
    MapProvider p = new MapProvider("m", true);
    syncedThenDropped(p);
    long serial = store.load().serial();
    int entries = store.history().size();

    SyncResult r = reconciler(p, SyncOptions.builder().dryRun(true).build()).destroy(Reconciler.DeletionPolicy.ORPHAN);

    assertThat(r.status()).isEqualTo(SyncResult.Status.PLANNED);
    assertThat(store.history()).hasSize(entries);
    assertThat(store.load().serial()).isEqualTo(serial);
    assertThat(store.load().inventory()).containsOnlyKeys(key("a"), key("b"));
  }

  @Test
  void aDryRunChecksAndPlansButUnmarksAndWritesNothing() {
    MapProvider p = new MapProvider("m", true);
    syncedThenDropped(p);
    long serial = store.load().serial();
    List<ResourceKey> unmarked = new ArrayList<>();
    p.beforeUnmark = unmarked::add;
    Reconciler dry = reconciler(p, SyncOptions.builder().dryRun(true).build());

    SyncResult r = dry.forget(List.of(key("a")));

    assertThat(r.status()).isEqualTo(SyncResult.Status.PLANNED);
    assertThat(r.plan().changes()).extracting(Change::action).containsExactly(Action.FORGET);
    assertThat(unmarked).isEmpty();
    assertThat(store.load().serial()).isEqualTo(serial);
    assertThat(p.markOf.get(key("a"))).isEqualTo(new OwnerMark("me", key("a")));
  }
}
