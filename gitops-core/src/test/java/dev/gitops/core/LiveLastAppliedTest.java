package dev.gitops.core;

import static dev.gitops.core.ReconcilerTest.json;
import static dev.gitops.core.ReconcilerTest.key;
import static dev.gitops.core.ReconcilerTest.res;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.FieldChange;
import dev.gitops.api.FieldPath;
import dev.gitops.api.Resource;
import dev.gitops.api.State;
import dev.gitops.api.spi.Source;
import dev.gitops.core.store.InMemoryStateStore;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The last-applied record a live system keeps on the object ({@code Observation.lastApplied}) is
 * the merge base only when the store has no record of its own for the key.
 */
class LiveLastAppliedTest {

  private static final SyncOptions ADOPT = SyncOptions.builder().adopt(true).build();
  private final AtomicReference<State> desired = new AtomicReference<>(State.of("r0", List.of()));
  private final InMemoryStateStore store = new InMemoryStateStore();

  private void want(String revision, Resource... rs) {
    desired.set(State.of(revision, List.of(rs)));
  }

  private Reconciler reconciler(MapProvider p, SyncOptions options) {
    return Reconciler.builder().source(Source.of(desired::get)).provider(p).store(store).owner("me").options(options)
        .build();
  }

  private Reconciler reconciler(MapProvider p) {
    return reconciler(p, SyncOptions.defaults());
  }

  @Test
  void adoptingRemovesWhatTheOtherToolAppliedAndGitNoLongerDeclares() {
    MapProvider p = new MapProvider("m", true);
    p.put(key("a"), json("{'x':1,'y':2,'z':3}"));
    // another tool applied x and y; z was set by someone else (a controller) and is not owned
    p.liveRecords.put(key("a"), json("{'x':1,'y':2}"));
    want("r1", res("a", "{'x':1}"));

    Change c = reconciler(p, ADOPT).plan().change(key("a")).orElseThrow();
    assertThat(c.action()).isEqualTo(Action.UPDATE);
    assertThat(c.has(Change.Flag.ADOPT)).isTrue();
    assertThat(c.fields()).extracting(FieldChange::path).containsExactly(FieldPath.parse("/y"));
    assertThat(c.fields().get(0).after()).isNull();

    reconciler(p, ADOPT).sync();
    assertThat(p.live.get(key("a"))).isEqualTo(json("{'x':1,'z':3}"));
  }

  @Test
  void withoutARecordOnTheObjectAdoptionKeepsLiveOnlyFields() {
    MapProvider p = new MapProvider("m", true);
    p.put(key("a"), json("{'x':1,'y':2}"));
    want("r1", res("a", "{'x':1}"));

    reconciler(p, ADOPT).sync();
    assertThat(p.live.get(key("a"))).isEqualTo(json("{'x':1,'y':2}"));
  }

  @Test
  void theStoresRecordWinsOverTheOneOnTheObject() {
    MapProvider p = new MapProvider("m", true);
    want("r1", res("a", "{'x':1,'y':2}"));
    reconciler(p).sync();
    // y is added by hand, and the record on the object is edited to claim it was applied
    p.put(key("a"), json("{'x':1,'y':2,'w':9}"));
    p.liveRecords.put(key("a"), json("{'x':1,'y':2,'w':9}"));
    want("r2", res("a", "{'x':1}"));

    Change c = reconciler(p).plan().change(key("a")).orElseThrow();
    // the store says x and y were applied: y goes, w (never applied by us) stays
    assertThat(c.fields()).extracting(FieldChange::path).containsExactly(FieldPath.parse("/y"));
    reconciler(p).sync();
    assertThat(p.live.get(key("a"))).isEqualTo(json("{'x':1,'w':9}"));
  }

  @Test
  void aRecordOnTheObjectNeverStandsInForOurMark() {
    MapProvider p = new MapProvider("m", true);
    p.put(key("a"), json("{'x':1,'y':2}"));
    p.liveRecords.put(key("a"), json("{'x':1,'y':2}"));
    want("r1", res("a", "{'x':1}"));

    Change c = reconciler(p).plan().change(key("a")).orElseThrow();
    assertThat(c.action()).isEqualTo(Action.SKIP);
    assertThat(c.reason()).contains("not created by this reconciler");
  }
}
