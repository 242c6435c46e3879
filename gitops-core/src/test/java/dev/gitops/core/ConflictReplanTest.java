package dev.gitops.core;

import static dev.gitops.core.ReconcilerTest.json;
import static dev.gitops.core.ReconcilerTest.key;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Outcome;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.Source;
import dev.gitops.core.store.InMemoryStateStore;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A write the provider refuses as a conflict (the object changed between observe and apply, a
 * Kubernetes 409) is observed and planned again within the same sync, once: the new change is
 * applied; a second conflict leaves the key UNKNOWN for the next sync.
 */
class ConflictReplanTest {

  final AtomicReference<State> desired = new AtomicReference<>(State.of("r1", List.of()));
  final InMemoryStateStore store = new InMemoryStateStore();
  final MapProvider p = new MapProvider("m", true);
  final List<SyncEvent> events = new CopyOnWriteArrayList<>();

  Reconciler reconciler() {
    return Reconciler.builder().source(Source.of(desired::get)).provider(p).store(store).owner("me")
        .listener(events::add).build();
  }

  void want(String revision, Resource... rs) {
    desired.set(State.of(revision, List.of(rs)));
  }

  /** Another writer edits {@code key} just before each of the first {@code times} applies reaches it. */
  AtomicInteger editsBeforeApply(ResourceKey key, int times, String field) {
    AtomicInteger edits = new AtomicInteger();
    p.beforeApply = c -> {
      if (c.key().equals(key) && edits.get() < times) {
        int n = edits.incrementAndGet();
        java.util.Map<String, com.fasterxml.jackson.databind.JsonNode> doc = new java.util.LinkedHashMap<>();
        p.live.get(key).fields().forEachRemaining(e -> doc.put(e.getKey(), e.getValue()));
        doc.put(field, json("'edit-" + n + "'"));
        p.put(key, dev.gitops.api.Documents.object(doc));
      }
    };
    return edits;
  }

  List<Change> appliedTo(ResourceKey k) {
    synchronized (p) {
      return p.applied.stream().filter(c -> c.key().equals(k)).toList();
    }
  }

  @Test
  void aConflictOnceIsObservedAndPlannedAgainAndTheNewChangeIsApplied() {
    conflictOnce(MapProvider.Optimism.RETURN);
  }

  @Test
  void aConflictExceptionThrownFromApplyIsTheSame() {
    conflictOnce(MapProvider.Optimism.THROW);
  }

  private void conflictOnce(MapProvider.Optimism how) {
    ResourceKey k = key("a");
    want("r1", Resource.of(k, json("{'x':1}")));
    assertThat(reconciler().sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    p.optimistic = how;
    editsBeforeApply(k, 1, "other");
    events.clear();
    want("r2", Resource.of(k, json("{'x':2}")));

    SyncResult r = reconciler().sync();

    assertThat(r.status()).as(how + ": " + r.outcomes()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(r.outcomes().get(k).kind()).isEqualTo(Outcome.Kind.CONFIGURED);
    assertThat(p.live.get(k)).as("our change and the other writer's edit, merged")
        .isEqualTo(json("{'x':2,'other':'edit-1'}"));
    List<Change> sent = appliedTo(k);
    assertThat(sent).hasSize(3);
    assertThat(sent.get(2).live()).as("planned again against what the other writer left")
        .isEqualTo(json("{'x':1,'other':'edit-1'}"));
    assertThat(events).filteredOn(e -> e instanceof SyncEvent.Retrying rt && rt.outcome().isConflict()).hasSize(1);
    assertThat(store.load().inventory().get(k).resource().document()).isEqualTo(json("{'x':2}"));
  }

  @Test
  void aCreateRefusedBecauseTheObjectAppearedIsPlannedAgainAndNeverTakesOverAnotherOwnersObject() {
    ResourceKey ours = key("ours");
    ResourceKey theirs = key("theirs");
    p.optimistic = MapProvider.Optimism.RETURN;
    p.beforeApply = c -> {
      if (!p.live.containsKey(c.key())) {
        p.put(c.key(), json("{'x':0,'extra':true}"));
        if (c.key().equals(ours)) {
          // our own earlier create landed after all (its answer was lost)
          p.markOf.put(ours, new dev.gitops.api.OwnerMark("me", ours));
        }
      }
    };
    want("r1", Resource.of(ours, json("{'x':1}")), Resource.of(theirs, json("{'x':1}")));
    SyncResult r = reconciler().sync();

    assertThat(r.outcomes().get(ours).kind()).as(r.outcomes().toString()).isEqualTo(Outcome.Kind.CONFIGURED);
    assertThat(appliedTo(ours)).extracting(Change::action).containsExactly(Action.CREATE, Action.UPDATE);
    assertThat(p.live.get(ours)).isEqualTo(json("{'x':1,'extra':true}"));

    Outcome o = r.outcomes().get(theirs);
    assertThat(o.kind()).isEqualTo(Outcome.Kind.UNKNOWN);
    assertThat(o.message()).contains("planned again: SKIP").contains("left to the next sync");
    assertThat(appliedTo(theirs)).hasSize(1);
    assertThat(p.live.get(theirs)).as("another owner's object is left as it is").isEqualTo(json("{'x':0,'extra':true}"));
  }

  @Test
  void aSecondConflictLeavesTheKeyUnknownUntilTheNextSync() {
    ResourceKey k = key("busy");
    ResourceKey after = key("after");
    want("r1", Resource.of(k, json("{'x':1}")));
    reconciler().sync();
    p.optimistic = MapProvider.Optimism.RETURN;
    AtomicInteger edits = editsBeforeApply(k, Integer.MAX_VALUE, "other");
    want("r2", Resource.of(k, json("{'x':2}")), Resource.builder(after).document(json("{'y':1}")).dependsOn(k).build());

    SyncResult r = reconciler().sync();

    assertThat(r.status()).isEqualTo(SyncResult.Status.FAILED);
    Outcome o = r.outcomes().get(k);
    assertThat(o.kind()).isEqualTo(Outcome.Kind.UNKNOWN);
    assertThat(o.isConflict()).isTrue();
    assertThat(appliedTo(k)).as("the planned change and the replanned one, no third").hasSize(3);
    assertThat(edits.get()).isEqualTo(2);
    assertThat(r.outcomes().get(after).isOk()).as("its dependent waits").isFalse();
    assertThat(p.live).doesNotContainKey(after);
    assertThat(store.load().inventory().get(k).resource().document()).as("nothing recorded as applied")
        .isEqualTo(json("{'x':1}"));

    p.beforeApply = c -> { };
    SyncResult next = reconciler().sync();
    assertThat(next.status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(p.live.get(k).get("x").asInt()).isEqualTo(2);
  }
}
