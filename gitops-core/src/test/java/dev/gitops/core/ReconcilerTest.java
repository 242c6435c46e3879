package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.DecodeException;
import dev.gitops.api.DependencyCycleException;
import dev.gitops.api.ManagementPolicy;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.OwnerMark;
import dev.gitops.api.Plan;
import dev.gitops.api.PlanMismatchException;
import dev.gitops.api.PlanRefusedException;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.Provider;
import dev.gitops.core.apply.ExecutionOptions;
import dev.gitops.core.plan.DeletionBudget;
import dev.gitops.core.plan.PlanCodec;
import dev.gitops.core.store.InMemoryStateStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The per-key decision table of DESIGN.md, row by row, and the Reconciler around it. */
class ReconcilerTest {

  static final ObjectMapper JSON = new ObjectMapper();
  final AtomicReference<State> desired = new AtomicReference<>(State.of("r1", List.of()));
  final InMemoryStateStore store = new InMemoryStateStore();

  static JsonNode json(String s) {
    try {
      return JSON.readTree(s.replace('\'', '"'));
    } catch (Exception e) {
      throw new IllegalArgumentException(s, e);
    }
  }

  static ResourceKey key(String name) {
    return ResourceKey.of("m", "thing", "", name);
  }

  static Resource res(String name, String doc) {
    return Resource.of(key(name), json(doc));
  }

  void want(String revision, Resource... rs) {
    desired.set(State.of(revision, List.of(rs)));
  }

  Reconciler reconciler(MapProvider p, SyncOptions options) {
    return Reconciler.builder().source(dev.gitops.api.spi.Source.of(desired::get)).provider(p).store(store)
        .owner("me").options(options).build();
  }

  Reconciler reconciler(MapProvider p) {
    return reconciler(p, SyncOptions.defaults());
  }

  @Test
  void createsWhatIsAbsentAndRecordsIt() {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{'x':1}"));
    SyncResult r = reconciler(p).sync();
    assertThat(r.isSuccessful()).isTrue();
    assertThat(r.outcomes().get(key("a")).kind()).isEqualTo(Outcome.Kind.CREATED);
    assertThat(p.live.get(key("a"))).isEqualTo(json("{'x':1}"));
    assertThat(store.load().inventory()).containsKey(key("a"));
    assertThat(store.load().pending()).isEmpty();
    assertThat(store.load().lastAppliedRevision()).isEqualTo("r1");
  }

  @Test
  void anUnchangedResyncServesEveryKeyFromThePlannersMemoAndAnOutOfBandEditIsDecidedAgain() {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{'x':1}"), res("b", "{'y':1}"));
    Reconciler rec = reconciler(p);
    rec.sync();
    Plan first = rec.plan();
    Plan second = rec.plan();
    assertThat(second.change(key("a")).orElseThrow()).as("observed again, but its version token is unchanged")
        .isSameAs(first.change(key("a")).orElseThrow());
    p.put(key("b"), json("{'y':2}"));
    Plan third = rec.plan();
    assertThat(third.change(key("a")).orElseThrow()).isSameAs(first.change(key("a")).orElseThrow());
    assertThat(third.change(key("b")).orElseThrow().action()).as("the new token brings the drift in").isEqualTo(Action.UPDATE);
  }

  @Test
  void aDegradedApplyFailsItsSyncButStaysRecordedAsAppliedAndIsNotAppliedAgainUnlessSomethingMoves() {
    MapProvider p = new MapProvider("m", false);
    AtomicInteger applies = new AtomicInteger();
    Provider degraded = new dev.gitops.api.spi.DelegatingProvider(p) {
      @Override
      public Outcome apply(Change change, dev.gitops.api.spi.CallContext ctx) {
        applies.incrementAndGet();
        return super.apply(change, ctx);
      }

      @Override
      public dev.gitops.api.Health health(ResourceKey key, Observation observation) {
        return dev.gitops.api.Health.degraded("CrashLoopBackOff");
      }
    };
    want("r1", res("a", "{'x':1}"));
    Reconciler rec = Reconciler.builder().source(dev.gitops.api.spi.Source.of(desired::get)).provider(degraded)
        .store(store).owner("me").build();
    SyncResult first = rec.sync();
    assertThat(first.isSuccessful()).isFalse();
    assertThat(first.outcomes().get(key("a")).message()).isEqualTo("created but degraded: CrashLoopBackOff");
    // the write was verified before its health was asked: recorded as applied, as the Provider#health javadoc says
    assertThat(store.load().inventory()).containsKey(key("a"));
    assertThat(store.load().pending()).isEmpty();
    SyncResult second = rec.sync();
    assertThat(second.outcomes().get(key("a")).kind()).isEqualTo(Outcome.Kind.UNCHANGED);
    assertThat(applies).hasValue(1);
    want("r2", res("a", "{'x':2}"));
    assertThat(rec.sync().outcomes().get(key("a")).message()).isEqualTo("updated but degraded: CrashLoopBackOff");
    assertThat(applies).hasValue(2);
    rec.close();
  }

  @Test
  void aSyncOnAnInterruptedThreadIsCancelledBeforeItDoesAnythingAndTheFlagStays(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{'x':1}"));
    try (Reconciler rec = Reconciler.builder().source(dev.gitops.api.spi.Source.of(desired::get)).provider(p)
        .store(dev.gitops.core.store.FileStateStore.open(dir)).owner("me").build()) {
      Thread.currentThread().interrupt();
      try {
        assertThatThrownBy(rec::sync).isInstanceOf(dev.gitops.api.Cancellation.CancelledException.class)
            .hasMessage("cancelled: the calling thread is interrupted: nothing was read or done");
      } finally {
        assertThat(Thread.interrupted()).as("the flag is the caller's").isTrue();
      }
      assertThat(p.live).isEmpty();
      assertThat(rec.sync().isSuccessful()).as("the next call, not interrupted, syncs").isTrue();
    }
  }

  @Test
  void secondSyncHasNothingToDo() {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{'x':1}"));
    Reconciler rec = reconciler(p);
    rec.sync();
    Plan again = rec.plan();
    assertThat(again.hasChanges()).isFalse();
    assertThat(again.change(key("a")).orElseThrow().action()).isEqualTo(Action.NOOP);
  }

  @Test
  void deletedOutOfBandIsCreatedAgainAndFlaggedAsDrift() {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{'x':1}"));
    Reconciler rec = reconciler(p);
    rec.sync();
    p.live.remove(key("a"));
    Change c = rec.plan().change(key("a")).orElseThrow();
    assertThat(c.action()).isEqualTo(Action.CREATE);
    assertThat(c.drift()).isTrue();
    assertThat(c.has(Change.Flag.DELETED_OUT_OF_BAND)).isTrue();
  }

  @Test
  void existingObjectWithoutOurMarkIsSkippedAsConflictUnlessAdoptionIsAllowed() {
    MapProvider p = new MapProvider("m", true);
    p.put(key("a"), json("{'x':0}"));
    want("r1", res("a", "{'x':1}"));
    Change skipped = reconciler(p).plan().change(key("a")).orElseThrow();
    assertThat(skipped.action()).isEqualTo(Action.SKIP);
    assertThat(skipped.conflict()).isTrue();
    assertThat(skipped.reason()).contains("not created by this reconciler");

    Change adopted = reconciler(p, SyncOptions.builder().adopt(true).build()).plan().change(key("a")).orElseThrow();
    assertThat(adopted.action()).isEqualTo(Action.UPDATE);
    assertThat(adopted.has(Change.Flag.ADOPT)).isTrue();
  }

  @Test
  void existingObjectWithOurMarkIsUpdatedWithoutAdoption() {
    MapProvider p = new MapProvider("m", true);
    p.put(key("a"), json("{'x':0}"));
    p.markOf.put(key("a"), new OwnerMark("me", key("a")));
    want("r1", res("a", "{'x':1}"));
    assertThat(reconciler(p, SyncOptions.builder().rebuildStore(true).build()).plan().change(key("a")).orElseThrow().action())
        .isEqualTo(Action.UPDATE);
  }

  @Test
  void markCopiedOntoAnotherObjectIsNotOurs() {
    MapProvider p = new MapProvider("m", true);
    p.put(key("a"), json("{'x':0}"));
    p.markOf.put(key("a"), new OwnerMark("me", key("b")));
    want("r1", res("a", "{'x':1}"));
    Change c = reconciler(p, SyncOptions.builder().rebuildStore(true).build()).plan().change(key("a")).orElseThrow();
    assertThat(c.action()).isEqualTo(Action.SKIP);
    assertThat(c.reason()).contains("not ours");
  }

  @Test
  void ownedAndPresentIsUpdatedWhenTheMergeChangesSomethingElseNoop() {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{'x':1}"));
    Reconciler rec = reconciler(p);
    rec.sync();
    want("r2", res("a", "{'x':2}"));
    Plan plan = rec.plan();
    assertThat(plan.change(key("a")).orElseThrow().action()).isEqualTo(Action.UPDATE);
    assertThat(plan.change(key("a")).orElseThrow().fields()).extracting(f -> f.path().toString()).containsExactly("/x");
    rec.sync();
    assertThat(p.live.get(key("a"))).isEqualTo(json("{'x':2}"));
  }

  @Test
  void fieldsSetByTheLiveSystemAreKept() {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{'x':1}"));
    Reconciler rec = reconciler(p);
    rec.sync();
    p.put(key("a"), json("{'x':1,'status':'ready'}"));
    assertThat(rec.plan().change(key("a")).orElseThrow().action()).isEqualTo(Action.NOOP);
  }

  @Test
  void removedFromGitAndPresentIsDeleted() {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{'x':1}"), res("b", "{'x':1}"));
    Reconciler rec = reconciler(p);
    rec.sync();
    want("r2", res("b", "{'x':1}"));
    SyncResult r = rec.sync();
    assertThat(r.outcomes().get(key("a")).kind()).isEqualTo(Outcome.Kind.DELETED);
    assertThat(p.live).doesNotContainKey(key("a"));
    assertThat(store.load().inventory()).doesNotContainKey(key("a"));
  }

  @Test
  void removedFromGitWithPruneDisabledStays() {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{'x':1}"), res("b", "{'x':1}"));
    reconciler(p).sync();
    want("r2", res("b", "{'x':1}"));
    Change c = reconciler(p, SyncOptions.builder().prune(false).build()).plan().change(key("a")).orElseThrow();
    assertThat(c.action()).isEqualTo(Action.SKIP);
    assertThat(c.reason()).contains("prune is disabled");
  }

  @Test
  void deleteIsDecidedByTheLastAppliedPolicy() {
    MapProvider p = new MapProvider("m", false);
    Resource keep = Resource.builder(key("a")).document(json("{'x':1}")).policy(ManagementPolicy.NO_PRUNE).build();
    want("r1", keep, res("b", "{'x':1}"));
    Reconciler rec = reconciler(p);
    rec.sync();
    want("r2", res("b", "{'x':1}"));
    Change c = rec.plan().change(key("a")).orElseThrow();
    assertThat(c.action()).isEqualTo(Action.SKIP);
    assertThat(c.reason()).contains("forbids delete");
  }

  @Test
  void removedFromGitWhoseMarkIsNoLongerOursIsNotDeleted() {
    MapProvider p = new MapProvider("m", true);
    want("r1", res("a", "{'x':1}"), res("b", "{'x':1}"));
    Reconciler rec = reconciler(p);
    rec.sync();
    p.markOf.put(key("a"), new OwnerMark("someone-else", key("a")));
    want("r2", res("b", "{'x':1}"));
    assertThat(rec.plan().change(key("a")).orElseThrow().action()).isEqualTo(Action.SKIP);
  }

  @Test
  void removedFromGitAndAlreadyAbsentIsDroppedFromTheInventory() {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{'x':1}"), res("b", "{'x':1}"));
    Reconciler rec = reconciler(p);
    rec.sync();
    p.live.remove(key("a"));
    want("r2", res("b", "{'x':1}"));
    SyncResult r = rec.sync();
    assertThat(r.plan().change(key("a")).orElseThrow().action()).isEqualTo(Action.NOOP);
    assertThat(store.load().inventory()).doesNotContainKey(key("a"));
  }

  @Test
  void orphanWithOurMarkIsReportedAndDeletedOnlyWhenAsked() {
    MapProvider p = new MapProvider("m", true);
    want("r1", res("b", "{'x':1}"));
    Reconciler rec = reconciler(p);
    rec.sync();
    p.put(key("o"), json("{'x':1}"));
    p.markOf.put(key("o"), new OwnerMark("me", key("o")));
    Change c = rec.plan().change(key("o")).orElseThrow();
    assertThat(c.action()).isEqualTo(Action.SKIP);
    assertThat(c.has(Change.Flag.ORPHAN)).isTrue();
    Change deleted = reconciler(p, SyncOptions.builder().deleteOrphans(true).build()).plan().change(key("o")).orElseThrow();
    assertThat(deleted.action()).isEqualTo(Action.DELETE);
  }

  @Test
  void unknownObservationMakesThePlanIncompleteAndPrunesNothing() {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{'x':1}"), res("b", "{'x':1}"), res("c", "{'x':1}"));
    Reconciler rec = reconciler(p);
    rec.sync();
    p.unobservable.add(key("a"));
    want("r2", res("a", "{'x':2}"), res("c", "{'x':1}"));
    Plan plan = rec.plan();
    assertThat(plan.isComplete()).isFalse();
    assertThat(plan.unknown()).containsExactly(key("a"));
    assertThat(plan.change(key("a")).orElseThrow().action()).isEqualTo(Action.SKIP);
    assertThat(plan.change(key("b")).orElseThrow().action()).isEqualTo(Action.SKIP);
    assertThat(plan.change(key("b")).orElseThrow().reason()).contains("incomplete");
    rec.sync();
    assertThat(p.live).containsKey(key("b"));
    assertThat(store.load().inventory()).containsKeys(key("a"), key("b"));
  }

  @Test
  void incompleteSyncIsNeverASuccessAndPrunesOnceTheKeyIsObservableAgain() {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{'x':1}"), res("b", "{'x':1}"), res("c", "{'x':1}"));
    Reconciler rec = reconciler(p);
    rec.sync();
    p.unobservable.add(key("a"));
    want("r2", res("a", "{'x':1}"), res("c", "{'x':1}"));
    for (int i = 0; i < 3; i++) {
      SyncResult r = rec.sync();
      assertThat(r.status()).isEqualTo(SyncResult.Status.INCOMPLETE);
      assertThat(r.isSuccessful()).isFalse();
      assertThat(r.plan().unknown()).containsExactly(key("a"));
      assertThat(r.plan().heldBack()).containsExactly(key("b"));
      assertThat(r.plan().change(key("b")).orElseThrow().has(Change.Flag.HELD_BACK)).isTrue();
      assertThat(rec.history().get(0).status()).isEqualTo(SyncResult.Status.INCOMPLETE);
      assertThat(rec.history().get(0).succeeded()).isFalse();
    }
    // a resync that stays incomplete does not push real syncs out of the bounded history
    assertThat(rec.history()).hasSize(2);
    assertThat(store.load().lastAppliedRevision()).isEqualTo("r1");
    p.unobservable.clear();
    SyncResult r = rec.sync();
    assertThat(r.status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(p.live).doesNotContainKey(key("b"));
    assertThat(store.load().lastAppliedRevision()).isEqualTo("r2");
  }

  @Test
  void aNormalizerThatThrowsForOneObjectMakesOnlyThatKeyUnknown() {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{'x':1}"), res("b", "{'x':1}"), res("gone", "{'x':1}"));
    Reconciler rec = reconciler(p);
    rec.sync();
    p.unnormalizable.add(key("a"));
    want("r2", res("a", "{'x':2}"), res("b", "{'x':2}"), res("new", "{'x':1}"));
    SyncResult r = rec.sync();
    assertThat(r.status()).isEqualTo(SyncResult.Status.INCOMPLETE);
    assertThat(r.plan().unknown()).containsExactly(key("a"));
    assertThat(r.plan().change(key("a")).orElseThrow().action()).isEqualTo(Action.SKIP);
    assertThat(r.plan().change(key("a")).orElseThrow().reason()).contains("normalizing the live object failed")
        .contains("cannot normalize a: unexpected shape");
    assertThat(p.live.get(key("b"))).isEqualTo(json("{'x':2}"));
    assertThat(p.live).containsKeys(key("new"), key("gone"));
    assertThat(p.live.get(key("a"))).isEqualTo(json("{'x':1}"));
  }

  @Test
  void aFailingSearchForMarkedObjectsMakesOrphanDetectionUnknownNotTheSync() {
    MapProvider p = new MapProvider("m", true);
    want("r1", res("a", "{'x':1}"), res("gone", "{'x':1}"));
    Reconciler rec = reconciler(p);
    rec.sync();
    p.listMarkedFailure = new IllegalStateException("list forbidden for type thing");
    want("r2", res("a", "{'x':2}"), res("new", "{'x':1}"));
    SyncResult r = rec.sync();
    assertThat(r.status()).isEqualTo(SyncResult.Status.INCOMPLETE);
    assertThat(r.plan().isComplete()).isFalse();
    assertThat(r.plan().unobserved()).containsEntry("marked objects of provider 'm'",
        "listMarked failed: list forbidden for type thing");
    assertThat(p.live.get(key("a"))).isEqualTo(json("{'x':2}"));
    assertThat(p.live).containsKey(key("new"));
    // orphans cannot be told from the rest: nothing is deleted while the search fails
    assertThat(r.plan().heldBack()).containsExactly(key("gone"));
    assertThat(p.live).containsKey(key("gone"));
    Plan reviewed = PlanCodec.fromJson(PlanCodec.toJson(r.plan(), store.secretKey()));
    assertThat(reviewed.unobserved()).isEqualTo(r.plan().unobserved());
    assertThat(reviewed.isComplete()).isFalse();
    assertThat(reviewed.heldBack()).containsExactly(key("gone"));
    p.listMarkedFailure = null;
    assertThat(rec.sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(p.live).doesNotContainKey(key("gone"));
  }

  @Test
  void replaceNeedsEverythingADeleteNeeds() {
    MapProvider p = new MapProvider("m", false);
    p.replaceFields.add("immutable");
    want("r1", res("a", "{'immutable':1}"), res("b", "{'x':1}"));
    reconciler(p).sync();
    want("r2", res("a", "{'immutable':2}"), res("b", "{'x':1}"));
    assertThat(reconciler(p).plan().change(key("a")).orElseThrow().action()).isEqualTo(Action.REPLACE);

    Change noPrune = reconciler(p, SyncOptions.builder().prune(false).build()).plan().change(key("a")).orElseThrow();
    assertThat(noPrune.action()).isEqualTo(Action.SKIP);
    assertThat(noPrune.reason()).isEqualTo("/immutable cannot change in place, and replacing it deletes it, but prune is disabled");

    for (ManagementPolicy policy : List.of(ManagementPolicy.NO_PRUNE, ManagementPolicy.CREATE_ONLY)) {
      want("r3", Resource.builder(key("a")).document(json("{'immutable':2}")).policy(policy).build(), res("b", "{'x':1}"));
      Change forbidden = reconciler(p).plan().change(key("a")).orElseThrow();
      assertThat(forbidden.action()).as(policy.toString()).isEqualTo(Action.SKIP);
      assertThat(forbidden.reason()).as(policy.toString()).containsAnyOf("forbids delete", "forbids update");
    }
    want("r4", Resource.builder(key("a")).document(json("{'immutable':2}")).policy(ManagementPolicy.NO_PRUNE).build(),
        res("b", "{'x':1}"));
    assertThat(reconciler(p).plan().change(key("a")).orElseThrow().reason()).contains("its policy (" + ManagementPolicy.NO_PRUNE
        + ") forbids delete");
    SyncResult kept = reconciler(p).sync();
    assertThat(kept.outcomes().get(key("a")).kind()).isEqualTo(Outcome.Kind.SKIPPED);
    assertThat(p.applied).extracting(Change::action).doesNotContain(Action.REPLACE);

    want("r5", res("a", "{'immutable':2}"), res("b", "{'x':1}"));
    p.unobservable.add(key("b"));
    Change held = reconciler(p).plan().change(key("a")).orElseThrow();
    assertThat(held.action()).isEqualTo(Action.SKIP);
    assertThat(held.has(Change.Flag.HELD_BACK)).isTrue();
    assertThat(held.reason()).contains("/immutable cannot change in place").contains("incomplete");
    assertThat(p.live.get(key("a"))).isEqualTo(json("{'immutable':1}"));
  }

  @Test
  void replacesCountForTheGuardInADryRunAsInASync() {
    MapProvider p = new MapProvider("m", false);
    p.replaceFields.add("immutable");
    want("r1", res("a", "{'immutable':1}"), res("b", "{'immutable':1}"));
    reconciler(p).sync();
    want("r2", res("a", "{'immutable':2}"), res("b", "{'immutable':2}"));
    assertThatThrownBy(() -> reconciler(p).sync()).isInstanceOf(PlanRefusedException.class);
    assertThatThrownBy(() -> reconciler(p, SyncOptions.builder().dryRun(true).build()).sync())
        .isInstanceOf(PlanRefusedException.class).hasMessageContaining("mass-deletion guard").hasMessageContaining("all 2");
    assertThat(p.applied).hasSize(2);
  }

  @Test
  void anotherOwnersKeysInASharedStoreAreNoPartOfTheGuardsBase() {
    MapProvider p = new MapProvider("m", true);
    want("r1", res("a", "{}"), res("b", "{}"));
    reconciler(p).sync();
    // a second owner of the same live system, with the same store: its keys join the inventory
    want("r1", res("c", "{}"), res("d", "{}"), res("e", "{}"));
    Reconciler other = Reconciler.builder().source(dev.gitops.api.spi.Source.of(desired::get)).provider(p).store(store)
        .owner("other").options(SyncOptions.defaults()).build();
    assertThat(other.sync().isSuccessful()).isTrue();
    assertThat(store.load().inventory()).hasSize(5);

    want("r2");
    assertThatThrownBy(() -> reconciler(p).sync()).as("everything 'me' owns, though not everything in the store")
        .isInstanceOf(PlanRefusedException.class).hasMessageContaining("all 2");
    want("r2", res("a", "{}"));
    SyncOptions percent = SyncOptions.builder().budget(DeletionBudget.defaults().withMaxPercent(40)).build();
    assertThatThrownBy(() -> reconciler(p, percent).sync()).as("1 of the 2 'me' owns is 50%, not 1 of 5")
        .isInstanceOf(PlanRefusedException.class).hasMessageContaining("40%");
    assertThat(p.live).containsKeys(key("a"), key("b"), key("c"), key("d"), key("e"));
    assertThat(reconciler(p).plan().owned()).containsEntry("m", 2);
  }

  @Test
  void dryRunIsRefusedByTheGuardExactlyAsTheSyncWouldBe() {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{}"), res("b", "{}"), res("c", "{}"));
    reconciler(p).sync();
    want("r2", res("a", "{}"));
    SyncOptions budget = SyncOptions.builder().budget(DeletionBudget.defaults().withMaxCount(1)).build();
    Throwable real = catchThrowable(() -> reconciler(p, budget).sync());
    Throwable dry = catchThrowable(() -> reconciler(p, budget.toBuilder().dryRun(true).build()).sync());
    assertThat(real).isInstanceOf(PlanRefusedException.class);
    assertThat(dry).isInstanceOf(PlanRefusedException.class).hasMessage(real.getMessage());
    // within budget the dry run plans without applying
    SyncResult planned = reconciler(p, SyncOptions.builder().dryRun(true).build()).sync();
    assertThat(planned.status()).isEqualTo(SyncResult.Status.PLANNED);
    assertThat(planned.plan().changes(Action.DELETE)).hasSize(2);
    assertThat(p.live).hasSize(3);
    // detect-only is monitoring: it reports, it is never refused
    assertThat(reconciler(p, budget.toBuilder().detectOnly(true).build()).sync().status()).isEqualTo(SyncResult.Status.PLANNED);
  }

  @Test
  void adoptionNeverTakesAnotherOwnersObjectUnlessAskedSeparately() {
    MapProvider p = new MapProvider("m", true);
    p.put(key("a"), json("{'x':0}"));
    p.markOf.put(key("a"), new OwnerMark("team-b", key("a")));
    want("r1", res("a", "{'x':1}"));
    SyncOptions adopt = SyncOptions.builder().adopt(true).build();
    Change refused = reconciler(p, adopt).plan().change(key("a")).orElseThrow();
    assertThat(refused.action()).isEqualTo(Action.SKIP);
    assertThat(refused.conflict()).isTrue();
    assertThat(refused.reason()).contains("team-b");
    SyncResult r = reconciler(p, adopt).sync();
    assertThat(r.outcomes().get(key("a")).kind()).isEqualTo(Outcome.Kind.SKIPPED);
    assertThat(p.live.get(key("a"))).isEqualTo(json("{'x':0}"));

    Change taken = reconciler(p, SyncOptions.builder().adoptFromOtherOwners(true).build()).plan().change(key("a")).orElseThrow();
    assertThat(taken.action()).isEqualTo(Action.UPDATE);
    assertThat(taken.has(Change.Flag.ADOPT)).isTrue();
    assertThat(taken.reason()).contains("adopting it from owner team-b");
    reconciler(p, SyncOptions.builder().adoptFromOtherOwners(true).build()).sync();
    assertThat(p.markOf.get(key("a"))).isEqualTo(new OwnerMark("me", key("a")));
  }

  @Test
  void anotherOwnersObjectWeOnceAppliedIsLeftAloneUnlessAskedSeparately() {
    MapProvider p = new MapProvider("m", true);
    want("r1", res("a", "{'x':1}"));
    reconciler(p).sync();
    p.markOf.put(key("a"), new OwnerMark("team-b", key("a")));
    want("r2", res("a", "{'x':2}"));
    assertThat(reconciler(p, SyncOptions.builder().adopt(true).build()).plan().change(key("a")).orElseThrow().action())
        .isEqualTo(Action.SKIP);
    Change taken = reconciler(p, SyncOptions.builder().adoptFromOtherOwners(true).build()).plan().change(key("a")).orElseThrow();
    assertThat(taken.action()).isEqualTo(Action.UPDATE);
    assertThat(taken.has(Change.Flag.ADOPT)).isTrue();
    assertThat(taken.reason()).contains("team-b");
  }

  @Test
  void adoptingAnObjectThatAlreadyMatchesStillWritesOurMark() {
    MapProvider p = new MapProvider("m", true);
    p.put(key("a"), json("{'x':1}"));
    want("r1", res("a", "{'x':1}"));
    Change c = reconciler(p, SyncOptions.builder().adopt(true).build()).plan().change(key("a")).orElseThrow();
    assertThat(c.action()).isEqualTo(Action.UPDATE);
    assertThat(c.has(Change.Flag.ADOPT)).isTrue();
    reconciler(p, SyncOptions.builder().adopt(true).build()).sync();
    assertThat(p.markOf.get(key("a"))).isEqualTo(new OwnerMark("me", key("a")));
    // owned and marked now: removing it from Git deletes it
    want("r2", res("b", "{}"));
    assertThat(reconciler(p).plan().change(key("a")).orElseThrow().action()).isEqualTo(Action.DELETE);
  }

  @Test
  void anObjectOfOursWhoseMarkWasRemovedGetsItBackSoItIsStillPrunedLater() {
    MapProvider p = new MapProvider("m", true);
    want("r1", res("a", "{'x':1}"), res("b", "{}"));
    reconciler(p).sync();
    // by hand, the mark goes (its token unchanged, as a provider that keeps marks apart from the object has it)
    p.markOf.remove(key("a"));
    Change c = reconciler(p).plan().change(key("a")).orElseThrow();
    assertThat(c.action()).as(c.reason()).isEqualTo(Action.UPDATE);
    assertThat(c.reason()).contains("mark is gone");
    assertThat(reconciler(p).sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(p.markOf.get(key("a"))).isEqualTo(new OwnerMark("me", key("a")));
    assertThat(p.live.get(key("a"))).isEqualTo(json("{'x':1}"));
    assertThat(reconciler(p).plan().change(key("a")).orElseThrow().action()).isEqualTo(Action.NOOP);
    // and removed from Git, it is deleted, not left behind as "not ours"
    want("r2", res("b", "{}"));
    assertThat(reconciler(p).plan().change(key("a")).orElseThrow().action()).isEqualTo(Action.DELETE);
  }

  @Test
  void anUnobservableDependencyHoldsItsDependents() {
    MapProvider p = new MapProvider("m", false);
    p.unobservable.add(key("db"));
    Resource app = Resource.builder(key("app")).document(json("{}")).dependsOn(key("db")).build();
    want("r1", res("db", "{}"), app, res("other", "{}"));
    SyncResult r = reconciler(p).sync();
    assertThat(r.outcomes().get(key("app")).kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(r.outcomes().get(key("app")).message()).isEqualTo("blocked by " + key("db") + ": skipped: could not observe: forbidden");
    assertThat(r.outcomes().get(key("other")).kind()).isEqualTo(Outcome.Kind.CREATED);
    assertThat(p.applied).extracting(Change::key).containsExactly(key("other"));
  }

  @Test
  void aRemovedResourceThatStaysHoldsTheDeleteOfWhatItDependsOn() {
    MapProvider p = new MapProvider("m", false);
    Resource kept = Resource.builder(key("app")).document(json("{}")).dependsOn(key("db"))
        .policy(ManagementPolicy.NO_PRUNE).build();
    want("r1", kept, res("db", "{}"), res("x", "{}"));
    Reconciler rec = reconciler(p);
    rec.sync();
    want("r2", res("x", "{}"));
    SyncResult r = rec.sync();
    assertThat(r.outcomes().get(key("app")).kind()).isEqualTo(Outcome.Kind.SKIPPED);
    assertThat(r.outcomes().get(key("db")).message()).startsWith("blocked by " + key("app") + ": skipped: ")
        .contains("forbids delete");
    assertThat(p.live).containsKeys(key("app"), key("db"));
    assertThat(store.load().inventory()).containsKeys(key("app"), key("db"));
  }

  @Test
  void aDeleteIsForgottenOnlyOnceObservedAbsentEvenWithoutHealthWaits() {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{}"), res("b", "{}"));
    reconciler(p).sync();
    p.lingering.add(key("a"));
    want("r2", res("b", "{}"));
    SyncOptions noWait = SyncOptions.builder().execution(ExecutionOptions.defaults().withWaitForHealth(false)
        .withHealthTimeout(java.time.Duration.ofMillis(50)).withHealthPollInterval(java.time.Duration.ofMillis(5))).build();
    SyncResult r = reconciler(p, noWait).sync();
    assertThat(r.outcomes().get(key("a")).isOk()).isFalse();
    assertThat(store.load().inventory()).containsKey(key("a"));
    p.lingering.clear();
    assertThat(reconciler(p, noWait).sync().outcomes().get(key("a")).kind()).isEqualTo(Outcome.Kind.DELETED);
    assertThat(store.load().inventory()).doesNotContainKey(key("a"));
  }

  @Test
  void aProviderThatKeepsARemovedFieldIsNotRecordedAsApplied() {
    MapProvider p = new MapProvider("m", false);
    p.keepsRemovedFields = true;
    want("r1", res("a", "{'x':1,'y':1}"), res("b", "{'x':1}"));
    Reconciler rec = reconciler(p);
    assertThat(rec.sync().isSuccessful()).isTrue();
    want("r2", res("a", "{'x':2}"), res("b", "{'x':2}"));
    SyncResult r = rec.sync();
    assertThat(r.status()).isEqualTo(SyncResult.Status.FAILED);
    assertThat(r.outcomes().get(key("a")).kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(r.outcomes().get(key("a")).message()).contains("differs from the target at [/y]");
    assertThat(r.outcomes().get(key("b")).kind()).isEqualTo(Outcome.Kind.CONFIGURED);
    // not recorded as applied: pending stays and last-applied still owns /y, so the next sync tries again
    assertThat(store.load().pending()).containsKey(key("a"));
    assertThat(store.load().inventory().get(key("a")).resource().document()).isEqualTo(json("{'x':1,'y':1}"));
    Change again = rec.plan().change(key("a")).orElseThrow();
    assertThat(again.action()).isEqualTo(Action.UPDATE);
    assertThat(again.fields()).extracting(f -> f.path().toString()).containsExactly("/y");
    assertThat(rec.sync().isSuccessful()).isFalse();
  }

  @Test
  void dependenciesOrderTheGraphAndDeletesRunInReverse() {
    MapProvider p = new MapProvider("m", false);
    Resource db = res("db", "{}");
    Resource app = Resource.builder(key("app")).document(json("{}")).dependsOn(key("db")).build();
    want("r1", app, db);
    Reconciler rec = reconciler(p);
    Plan plan = rec.plan();
    assertThat(plan.dependencies().get(key("app"))).containsExactly(key("db"));
    assertThat(plan.changes()).extracting(Change::key).containsExactly(key("db"), key("app"));
    rec.sync();
    assertThat(p.applied).extracting(Change::key).containsExactly(key("db"), key("app"));
    want("r2", res("other", "{}"));
    Plan teardown = rec.plan();
    assertThat(teardown.dependencies().get(key("db"))).containsExactly(key("app"));
  }

  @Test
  void dependencyCycleIsNamed() {
    MapProvider p = new MapProvider("m", false);
    Resource a = Resource.builder(key("a")).document(json("{}")).dependsOn(key("b")).build();
    Resource b = Resource.builder(key("b")).document(json("{}")).dependsOn(key("a")).build();
    want("r1", a, b);
    assertThatThrownBy(() -> reconciler(p).plan()).isInstanceOf(DependencyCycleException.class)
        .hasMessageContaining("m:thing::a").hasMessageContaining("m:thing::b");
  }

  /**
   * A cycle says why each key waits for the next: where each dependsOn is declared, and a wave
   * when the cycle closes through waves; before, "a -> b -> a" named a dependsOn back from b that
   * no file declared.
   */
  @Test
  void aDependencyCycleSaysWhyEachKeyWaitsForTheNext() {
    MapProvider p = new MapProvider("m", false);
    Resource a = Resource.builder(key("a")).document(json("{}")).origin(dev.gitops.api.Origin.of("apps/a.yaml", 3, "r1"))
        .dependsOn(key("b")).build();
    Resource b = Resource.builder(key("b")).document(json("{}")).origin(dev.gitops.api.Origin.of("apps/b.yaml", 7, "r1"))
        .wave(1).build();
    want("r1", a, b);
    assertThatThrownBy(() -> reconciler(p).plan()).isInstanceOf(DependencyCycleException.class)
        .hasMessage("dependency cycle: m:thing::a -> m:thing::b -> m:thing::a (m:thing::a (apps/a.yaml:3@r1) dependsOn"
            + " m:thing::b; m:thing::b is in wave 1, after wave 0 of m:thing::a)")
        .satisfies(e -> assertThat(((DependencyCycleException) e).cycle()).containsExactly(key("a"), key("b"), key("a")));
    Resource b2 = Resource.builder(key("b")).document(json("{}")).origin(dev.gitops.api.Origin.of("apps/b.yaml", 7, "r1"))
        .dependsOn(key("a")).build();
    want("r1", a, b2);
    assertThatThrownBy(() -> reconciler(p).plan()).isInstanceOf(DependencyCycleException.class)
        .hasMessageEndingWith("(m:thing::a (apps/a.yaml:3@r1) dependsOn m:thing::b; m:thing::b (apps/b.yaml:7@r1) dependsOn"
            + " m:thing::a)");
    assertThat(p.applied).isEmpty();
  }

  @Test
  void dependencyOnAnUndeclaredKeyNamesBoth() {
    MapProvider p = new MapProvider("m", false);
    Resource a = Resource.builder(key("a")).document(json("{}")).dependsOn(key("ghost")).build();
    want("r1", a);
    assertThatThrownBy(() -> reconciler(p).plan()).isInstanceOf(DecodeException.class)
        .hasMessageContaining("m:thing::ghost").hasMessageContaining("not declared");
  }

  @Test
  void wavesOrderResourcesWithoutExplicitDependencies() {
    MapProvider p = new MapProvider("m", false);
    Resource first = Resource.builder(key("z")).document(json("{}")).wave(0).build();
    Resource second = Resource.builder(key("a")).document(json("{}")).wave(1).build();
    want("r1", second, first);
    Plan plan = reconciler(p).plan();
    assertThat(plan.dependencies().get(key("a"))).containsExactly(key("z"));
    assertThat(plan.changes()).extracting(Change::key).containsExactly(key("z"), key("a"));
  }

  @Test
  void deletingEverythingIsRefusedUnlessAllowedButPlanShowsIt() {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{}"), res("b", "{}"));
    reconciler(p).sync();
    want("r2");
    Plan plan = reconciler(p).plan();
    assertThat(plan.changes(Action.DELETE)).hasSize(2);
    assertThatThrownBy(() -> reconciler(p).sync()).isInstanceOf(PlanRefusedException.class)
        .hasMessageContaining("mass-deletion guard").hasMessageContaining("all 2");
    assertThat(p.live).hasSize(2);
    SyncResult r = reconciler(p, SyncOptions.builder().budget(DeletionBudget.defaults().withAllowEmpty(true)).build()).sync();
    assertThat(r.isSuccessful()).isTrue();
    assertThat(p.live).isEmpty();
  }

  /**
   * An owned object deleted by hand is no part of what the guard weighs: emptying Git then deletes
   * every object left, which "all" refuses; before, 2 deletes of 3 inventory keys passed the guard.
   */
  @Test
  void deletingEveryObjectLeftIsRefusedThoughOneWasAlreadyDeletedByHand() {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{}"), res("b", "{}"), res("c", "{}"), res("d", "{}"));
    reconciler(p).sync();
    p.live.remove(key("c"));
    want("r2");
    Plan plan = reconciler(p).plan();
    assertThat(plan.changes(Action.DELETE)).hasSize(3);
    assertThat(plan.owned()).containsEntry("m", 3);
    assertThatThrownBy(() -> reconciler(p).sync()).isInstanceOf(PlanRefusedException.class)
        .hasMessageContaining("mass-deletion guard").hasMessageContaining("all 3");
    assertThat(p.live).containsOnlyKeys(key("a"), key("b"), key("d"));
    // a budget weighs the deletes against the objects left too: 1 of 3 is 33%
    want("r3", res("a", "{}"), res("b", "{}"));
    assertThatThrownBy(() -> reconciler(p, SyncOptions.builder().budget(DeletionBudget.defaults().withMaxPercent(30))
        .build()).sync()).isInstanceOf(PlanRefusedException.class).hasMessageContaining("1 of 3");
    assertThat(reconciler(p).sync().isSuccessful()).isTrue();
    assertThat(p.live).containsOnlyKeys(key("a"), key("b"));
    assertThat(store.load().inventory()).containsOnlyKeys(key("a"), key("b"));
  }

  @Test
  void deletionBudgetByCountAndPercentage() {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{}"), res("b", "{}"), res("c", "{}"), res("d", "{}"));
    reconciler(p).sync();
    want("r2", res("a", "{}"), res("b", "{}"));
    assertThatThrownBy(() -> reconciler(p, SyncOptions.builder().budget(DeletionBudget.defaults().withMaxCount(1)).build()).sync())
        .isInstanceOf(PlanRefusedException.class).hasMessageContaining("2 of 4 owned resources, over the budget of 1");
    assertThatThrownBy(() -> reconciler(p, SyncOptions.builder().budget(DeletionBudget.defaults().withMaxPercent(25)).build()).sync())
        .isInstanceOf(PlanRefusedException.class).hasMessageContaining("25%");
    assertThat(reconciler(p, SyncOptions.builder().budget(DeletionBudget.defaults().withMaxPercent(50)).build()).sync().isSuccessful())
        .isTrue();
  }

  @Test
  void reviewedPlanRunsOnlyWhileItStillHolds() {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{'x':1}"), res("b", "{'x':1}"));
    Reconciler rec = reconciler(p);
    rec.sync();
    want("r2", res("a", "{'x':2}"), res("b", "{'x':1}"));
    Plan reviewed = PlanCodec.fromJson(PlanCodec.toJson(rec.plan(), store.secretKey()));
    p.put(key("b"), json("{'x':99}"));
    assertThatThrownBy(() -> rec.apply(reviewed)).isInstanceOf(PlanMismatchException.class)
        .hasMessageContaining("m:thing::b");
    assertThat(p.live.get(key("a"))).isEqualTo(json("{'x':1}"));
    Plan fresh = rec.plan();
    SyncResult r = rec.apply(PlanCodec.fromJson(PlanCodec.toJson(fresh, store.secretKey())));
    assertThat(r.isSuccessful()).isTrue();
    assertThat(p.live.get(key("a"))).isEqualTo(json("{'x':2}"));
  }

  @Test
  void dryRunAndDetectOnlyChangeNothing() {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{'x':1}"));
    SyncResult dry = reconciler(p, SyncOptions.builder().dryRun(true).build()).sync();
    assertThat(dry.status()).isEqualTo(SyncResult.Status.PLANNED);
    assertThat(dry.plan().changes(Action.CREATE)).hasSize(1);
    assertThat(p.live).isEmpty();
    assertThat(store.load().inventory()).isEmpty();
    assertThat(reconciler(p, SyncOptions.builder().detectOnly(true).build()).sync().status()).isEqualTo(SyncResult.Status.PLANNED);
    assertThat(p.live).isEmpty();
  }

  @Test
  void pendingIsWrittenBeforeTheProviderIsCalledAndClearedAfter() {
    MapProvider p = new MapProvider("m", false);
    List<Boolean> pendingSeen = new ArrayList<>();
    p.beforeApply = c -> pendingSeen.add(store.load().pending().containsKey(c.key()));
    want("r1", res("a", "{'x':1}"));
    reconciler(p).sync();
    assertThat(pendingSeen).containsExactly(true);
    assertThat(store.load().pending()).isEmpty();
  }

  @Test
  void failedApplyKeepsPendingSoItsFieldsStayOwned() {
    MapProvider p = new MapProvider("m", false);
    p.failing.add(key("a"));
    want("r1", res("a", "{'x':1}"));
    SyncResult r = reconciler(p).sync();
    assertThat(r.isSuccessful()).isFalse();
    assertThat(store.load().pending()).containsKey(key("a"));
    assertThat(store.load().lastAppliedRevision()).isEmpty();
  }

  @Test
  void aFailedUpdateIsNotDriftNextTimeButAChangeMadeOutsideAfterItStillIs() {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{'x':1,'y':1}"));
    Reconciler rec = Reconciler.builder().desiredState(desired.get()).provider(p).store(store).owner("me").build();
    assertThat(rec.sync().isSuccessful()).isTrue();
    want("r2", res("a", "{'x':2,'y':1}"));
    p.failing.add(key("a"));
    rec = Reconciler.builder().desiredState(desired.get()).provider(p).store(store).owner("me").build();
    assertThat(rec.sync().isSuccessful()).isFalse();
    assertThat(store.load().pending()).containsKey(key("a"));

    Change again = rec.plan().change(key("a")).orElseThrow();
    assertThat(again.action()).isEqualTo(Action.UPDATE);
    assertThat(again.drift()).as("live is still what the store last applied: our own update did not land").isFalse();
    assertThat(again.reason()).doesNotContain("drift").contains("an earlier apply of it did not complete");

    p.put(key("a"), json("{'x':1,'y':7}"));
    Change edited = rec.plan().change(key("a")).orElseThrow();
    assertThat(edited.drift()).as("y changed outside, unlike both records").isTrue();
    assertThat(edited.reason()).contains("drift at [/y]");
  }

  /** A reconciler reporting to {@code events} that synced {@code a} = {'x':1}, which then drifted to {'x':5}. */
  Reconciler syncedThenDrifted(MapProvider p, List<SyncEvent> events) {
    want("r1", res("a", "{'x':1}"));
    Reconciler rec = Reconciler.builder().desiredState(desired.get()).provider(p).store(store).owner("me")
        .listener(events::add).build();
    rec.sync();
    p.put(key("a"), json("{'x':5}"));
    return rec;
  }

  @Test
  void driftIsReportedAsAnEventAndCorrected() {
    MapProvider p = new MapProvider("m", false);
    List<SyncEvent> events = new ArrayList<>();
    Reconciler rec = syncedThenDrifted(p, events);
    SyncResult r = rec.sync();
    assertThat(events).filteredOn(e -> e instanceof SyncEvent.DriftDetected).hasSize(1);
    assertThat(r.plan().change(key("a")).orElseThrow().drift()).isTrue();
    assertThat(p.live.get(key("a"))).isEqualTo(json("{'x':1}"));
  }

  @Test
  void aPlanThenASyncReportTheDriftWithThePlanIdSoAListenerCanCountItOnce() {
    MapProvider p = new MapProvider("m", false);
    List<SyncEvent> events = new ArrayList<>();
    Reconciler rec = syncedThenDrifted(p, events);
    events.clear();

    Plan reviewed = rec.plan();
    SyncResult synced = rec.sync();
    List<SyncEvent.DriftDetected> drift = events.stream().filter(e -> e instanceof SyncEvent.DriftDetected)
        .map(e -> (SyncEvent.DriftDetected) e).toList();
    assertThat(drift).as("each plan reports what it found").hasSize(2)
        .allSatisfy(d -> assertThat(d.key()).isEqualTo(key("a")));
    assertThat(drift.get(0).planId()).isEqualTo(reviewed.id());
    assertThat(drift.get(1).planId()).isEqualTo(synced.plan().id());
    assertThat(synced.plan().id()).as("nothing moved between plan() and sync()").isEqualTo(reviewed.id());
    assertThat(drift.stream().map(d -> d.planId() + " " + d.key()).distinct()).as("a listener counting (planId, key)")
        .hasSize(1);
    List<String> planned = events.stream().filter(e -> e instanceof SyncEvent.Planned)
        .map(e -> ((SyncEvent.Planned) e).plan().id()).toList();
    assertThat(planned).containsExactly(reviewed.id(), synced.plan().id());

    // drift that comes back after the sync corrected it is news: another plan, another id
    p.put(key("a"), json("{'x':7}"));
    events.clear();
    Plan again = rec.plan();
    assertThat(events).filteredOn(e -> e instanceof SyncEvent.DriftDetected).singleElement()
        .satisfies(e -> assertThat(((SyncEvent.DriftDetected) e).planId()).isEqualTo(again.id()).isNotEqualTo(reviewed.id()));
  }

  @Test
  void destroyDeletesEverythingOwnedOrForgetsIt() {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{}"), res("b", "{}"));
    Reconciler rec = reconciler(p);
    rec.sync();
    p.put(key("unowned"), json("{}"));
    rec.destroy(Reconciler.DeletionPolicy.DELETE);
    assertThat(p.live).containsOnlyKeys(key("unowned"));
    assertThat(store.load().inventory()).isEmpty();

    want("r2", res("c", "{}"));
    rec.sync();
    rec.destroy(Reconciler.DeletionPolicy.ORPHAN);
    assertThat(p.live).containsKey(key("c"));
    assertThat(store.load().inventory()).isEmpty();
    // each destroy is recorded as one, never as a sync a rollback could return to (a destroy with
    // nothing left to delete reuses no orphaning destroy's entry, nor that one a sync's)
    rec.destroy(Reconciler.DeletionPolicy.DELETE);
    assertThat(rec.history()).extracting(dev.gitops.api.spi.HistoryEntry::operation).containsExactly(
        dev.gitops.api.spi.HistoryEntry.Operation.DESTROY, dev.gitops.api.spi.HistoryEntry.Operation.DESTROY_ORPHAN,
        dev.gitops.api.spi.HistoryEntry.Operation.SYNC, dev.gitops.api.spi.HistoryEntry.Operation.DESTROY,
        dev.gitops.api.spi.HistoryEntry.Operation.SYNC);
    assertThat(rec.history()).filteredOn(dev.gitops.api.spi.HistoryEntry::isRollbackTarget)
        .extracting(dev.gitops.api.spi.HistoryEntry::revision).containsExactly("r2", "r1");
  }

  @Test
  void historyRecordsEachSync() {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{}"));
    Reconciler rec = reconciler(p);
    SyncResult r = rec.sync();
    assertThat(rec.history()).hasSize(1);
    assertThat(rec.history().get(0).revision()).isEqualTo("r1");
    assertThat(rec.history().get(0).id()).isEqualTo(r.historyId());
    assertThat(rec.history().get(0).planId()).isEqualTo(r.plan().id());
  }

  @Test
  void missingStoreWhileLiveObjectsCarryOurMarkIsRefused() {
    MapProvider p = new MapProvider("m", true);
    p.put(key("a"), json("{}"));
    p.markOf.put(key("a"), new OwnerMark("me", key("a")));
    want("r1", res("b", "{}"));
    assertThatThrownBy(() -> reconciler(p).sync()).isInstanceOf(dev.gitops.api.StoreException.class)
        .hasMessageContaining("carries the mark of owner 'me'")
        .hasMessageContaining("the state store is missing or empty (" + store + "), but");  // a store by its toString
    assertThat(p.applied).isEmpty();
  }

  @Test
  void resyncsThatChangeNothingDoNotFillTheHistory() {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{'x':1}"));
    Reconciler rec = reconciler(p);
    SyncResult first = rec.sync();
    for (int i = 0; i < 5; i++) {
      assertThat(rec.sync().historyId()).isEqualTo(first.historyId());
    }
    assertThat(rec.history()).hasSize(1);
    p.put(key("a"), json("{'x':7}"));
    rec.sync();
    assertThat(rec.history()).hasSize(2);
    want("r2", res("a", "{'x':1}"));
    rec.sync();
    assertThat(rec.history()).hasSize(3).first().satisfies(h -> assertThat(h.revision()).isEqualTo("r2"));
  }

  @Test
  void aCreateCutShortByACrashIsRetriedWithoutClaimingDrift() {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{'x':1}"));
    try (var lock = store.lock(java.time.Duration.ofSeconds(1))) {
      store.writePending(res("a", "{'x':1}"));
    }
    Change c = reconciler(p).plan().change(key("a")).orElseThrow();
    assertThat(c.action()).isEqualTo(Action.CREATE);
    assertThat(c.drift()).isFalse();
    assertThat(c.reason()).contains("did not complete");
    reconciler(p).sync();
    assertThat(store.load().pending()).isEmpty();
    assertThat(store.load().inventory()).containsKey(key("a"));
  }

  @Test
  void aNoopWhoseDesiredStateChangedStillRecordsIt() {
    MapProvider p = new MapProvider("m", false);
    want("r1", res("a", "{'x':1}"));
    Reconciler rec = reconciler(p);
    rec.sync();
    rec.sync();
    p.put(key("a"), json("{'x':2}"));
    want("r2", res("a", "{'x':2}"));
    SyncResult r = rec.sync();
    assertThat(r.plan().change(key("a")).orElseThrow().action()).isEqualTo(Action.NOOP);
    assertThat(store.load().inventory().get(key("a")).resource().document()).isEqualTo(json("{'x':2}"));

    Resource paused = Resource.builder(key("a")).document(json("{'x':2}")).policy(ManagementPolicy.NO_PRUNE).build();
    want("r3", paused);
    rec.sync();
    assertThat(store.load().inventory().get(key("a")).resource().policy()).isEqualTo(ManagementPolicy.NO_PRUNE);
  }

  @Test
  void keysOfOneProviderShareOneCombinedRuleSet() {
    dev.gitops.core.internal.plan.Planner planner = new dev.gitops.core.internal.plan.Planner("me", dev.gitops.core.internal.plan.PlanOptions.defaults());
    dev.gitops.api.MergeRules user = dev.gitops.api.MergeRules.builder().ignore("/status").build();
    dev.gitops.api.MergeRules own = dev.gitops.api.MergeRules.builder().setList("/tags").build();
    dev.gitops.api.spi.Provider p = new dev.gitops.api.spi.Provider() {
      @Override
      public String id() {
        return "m";
      }

      @Override
      public java.util.Map<ResourceKey, dev.gitops.api.Observation> observe(java.util.Collection<ResourceKey> keys,
          dev.gitops.api.spi.CallContext ctx) {
        return java.util.Map.of();
      }

      @Override
      public Outcome apply(Change change, dev.gitops.api.spi.CallContext ctx) {
        return Outcome.created();
      }

      @Override
      public dev.gitops.api.MergeRules mergeRules() {
        return own;
      }
    };
    java.util.Map<String, dev.gitops.api.spi.Provider> providers = java.util.Map.of("m", p);
    dev.gitops.api.MergeRules a = planner.rulesFor(key("a"), providers, user);
    assertThat(planner.rulesFor(key("b"), providers, user)).isSameAs(a);
    assertThat(a.isIgnored(key("a"), dev.gitops.api.FieldPath.of("status"))).isTrue();
    assertThat(a.listRule(dev.gitops.api.FieldPath.of("tags")).kind()).isEqualTo(dev.gitops.api.MergeRules.ListKind.SET);
    dev.gitops.api.MergeRules other = dev.gitops.api.MergeRules.builder().ignore("/spec").build();
    assertThat(planner.rulesFor(key("a"), providers, other).isIgnored(key("a"), dev.gitops.api.FieldPath.of("spec"))).isTrue();
  }
}
