package dev.gitops.core;

import static dev.gitops.core.ReconcilerTest.json;
import static dev.gitops.core.ReconcilerTest.key;
import static dev.gitops.core.ReconcilerTest.res;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Action;
import dev.gitops.api.Documents;
import dev.gitops.api.NestedDocuments;
import dev.gitops.api.Resource;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.core.store.InMemoryStateStore;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A value nested deeper than {@link Documents#MAX_DEPTH} (from a custom decoder, or a provider's
 * live object) is refused for its key alone, naming the key and where the limit is passed, never
 * a {@link StackOverflowError} of one of the engine's walkers; one at the limit, which the YAML
 * decoder can give, is merged, diffed, applied and recorded, even on a thread with a small stack.
 */
class DeepDocumentsTest {

  final AtomicReference<State> desired = new AtomicReference<>(State.of("r1", List.of()));
  final InMemoryStateStore store = new InMemoryStateStore();
  final MapProvider p = new MapProvider("m", false);
  final Reconciler rec = Reconciler.builder().source(dev.gitops.api.spi.Source.of(desired::get)).provider(p)
      .store(store).owner("me").build();

  static JsonNode deep(int levels, String leaf) {
    return NestedDocuments.deep(levels, leaf);
  }

  @Test
  void aLiveObjectDeeperThanTheLimitIsOneUnknownKeyAndTheOtherKeysSync() {
    desired.set(State.of("r1", List.of(res("a", "{'x':1}"), res("b", "{'x':1}"), res("gone", "{'x':1}"))));
    rec.sync();
    JsonNode tooDeep = deep(3_000, "live");
    p.put(key("a"), tooDeep);
    desired.set(State.of("r2", List.of(res("a", "{'x':2}"), res("b", "{'x':2}"), res("new", "{'x':1}"))));
    SyncResult r = rec.sync();
    assertThat(r.status()).isEqualTo(SyncResult.Status.INCOMPLETE);
    assertThat(r.plan().unknown()).containsExactly(key("a"));
    assertThat(r.plan().change(key("a")).orElseThrow().action()).isEqualTo(Action.SKIP);
    assertThat(r.plan().change(key("a")).orElseThrow().reason()).contains("m:thing::a")
        .contains("live document nests 3000 levels deep, more than the 1000 the engine takes")
        .contains("level 1001 is at /spec/0/0/0/0/0/0/0/…(988 more)…/0/0/0/0");
    assertThat(p.live.get(key("b"))).isEqualTo(json("{'x':2}"));
    assertThat(p.live).containsKeys(key("new"), key("gone"));
    assertThat(p.live.get(key("a"))).isSameAs(tooDeep);
  }

  @Test
  void aDesiredDocumentDeeperThanTheLimitIsRefusedNamingItsKeyAndWhereTheLimitIsPassed() {
    assertThatThrownBy(() -> Resource.builder(key("a")).origin(dev.gitops.api.Origin.of("deep.json", 1, "r1"))
        .document(deep(3_000, "desired")).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("resource m:thing::a (deep.json:1")
        .hasMessageContaining("nests 3000 levels deep, more than the 1000 the engine takes (Documents.MAX_DEPTH)")
        .hasMessageContaining("level 1001 is at /spec/0/0/0/0/0/0/0/…(988 more)…/0/0/0/0");
  }

  @Test
  void documentsAtTheLimitOnBothSidesAreMergedAndAppliedOnASmallStack() throws Exception {
    desired.set(State.of("r1", List.of(Resource.of(key("a"), deep(Documents.MAX_DEPTH, "desired")),
        res("b", "{'x':1}"))));
    p.put(key("a"), deep(Documents.MAX_DEPTH, "live"));
    AtomicReference<Object> result = new AtomicReference<>();
    // 768 KiB, less than the usual default of 1 MiB: the walkers must not need more at the limit
    Thread t = new Thread(null, () -> {
      try {
        result.set(rec.sync());
      } catch (Throwable e) {
        result.set(e);
      }
    }, "small-stack-sync", 768 * 1024);
    t.start();
    t.join();
    assertThat(result.get()).isInstanceOf(SyncResult.class);
    SyncResult r = (SyncResult) result.get();
    assertThat(r.status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(r.plan().change(key("a")).orElseThrow().action()).isEqualTo(Action.UPDATE);
    assertThat(r.plan().change(key("a")).orElseThrow().patch()).hasSize(1);
    assertThat(Documents.equal(p.live.get(key("a")), deep(Documents.MAX_DEPTH, "desired"))).isTrue();
    assertThat(rec.plan().hasChanges()).as("in sync after").isFalse();
  }
}
