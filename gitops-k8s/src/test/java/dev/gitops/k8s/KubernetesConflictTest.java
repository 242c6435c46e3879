package dev.gitops.k8s;

import static dev.gitops.k8s.KubernetesProviderConformanceTest.json;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Change;
import dev.gitops.api.Outcome;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.DelegatingProvider;
import dev.gitops.api.spi.Source;
import dev.gitops.core.Reconciler;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Optimistic concurrency through the engine: another writer edits an object between the sync's
 * observe and its apply; the provider refuses the stale change as a conflict, and the engine
 * observes the object again, plans it again and applies the new change in the same sync.
 */
class KubernetesConflictTest {

  private static final ResourceKey CM = ResourceKey.of("k8s", "/ConfigMap", "default", "cfg");
  private MockCluster cluster;
  private KubernetesProvider provider;
  private final AtomicReference<State> desired = new AtomicReference<>();
  private final List<SyncEvent> events = new CopyOnWriteArrayList<>();
  /** How many more applies of CM another writer gets in before. */
  private final AtomicInteger edits = new AtomicInteger();
  private final AtomicInteger applies = new AtomicInteger();

  @BeforeEach
  void start() {
    cluster = new MockCluster();
    provider = KubernetesProvider.builder(cluster.client).build();
  }

  @AfterEach
  void stop() {
    provider.close();
    cluster.close();
  }

  private static Resource configMap(String data) {
    return Resource.of(CM, json("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\","
        + "\"namespace\":\"default\"},\"data\":" + data + "}"));
  }

  /** The provider, with another writer editing the object just before an apply reaches it. */
  private Reconciler reconciler(dev.gitops.core.store.InMemoryStateStore store) {
    DelegatingProvider racing = new DelegatingProvider(provider) {
      @Override
      public Outcome apply(Change change, CallContext ctx) {
        applies.incrementAndGet();
        if (change.key().equals(CM) && edits.getAndDecrement() > 0) {
          String value = "by-hand-" + edits.get();
          cluster.client.configMaps().inNamespace("default").withName("cfg")
              .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"labels\":{\"edited\":\"" + value + "\"}}}");
          awaitObserved(value, ctx);
        }
        return super.apply(change, ctx);
      }
    };
    return Reconciler.builder().source(Source.of(desired::get)).provider(racing).store(store).owner("agent")
        .listener(events::add).build();
  }

  /** Waits (bounded) until the provider's informer shows the other writer's edit. */
  private void awaitObserved(String value, CallContext ctx) {
    for (int i = 0; i < 500; i++) {
      var o = provider.observe(List.of(CM), ctx).get(CM);
      if (o.isPresent() && o.live().at("/metadata/labels/edited").asText().equals(value)) {
        return;
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  @Test
  void anEditBetweenObserveAndApplyIsObservedAndPlannedAgainInTheSameSync() {
    var store = new dev.gitops.core.store.InMemoryStateStore();
    desired.set(State.of("r1", List.of(configMap("{\"a\":\"1\"}"))));
    assertThat(reconciler(store).sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    edits.set(1);
    applies.set(0);
    desired.set(State.of("r2", List.of(configMap("{\"a\":\"2\"}"))));

    SyncResult r = reconciler(store).sync();

    assertThat(r.status()).as("%s", r.outcomes()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(r.outcomes().get(CM).kind()).isEqualTo(Outcome.Kind.CONFIGURED);
    assertThat(applies.get()).as("the stale change, then the one planned again").isEqualTo(2);
    assertThat(events).filteredOn(e -> e instanceof SyncEvent.Retrying rt && rt.outcome().isConflict())
        .singleElement().satisfies(e -> assertThat(((SyncEvent.Retrying) e).outcome().message())
            .contains("changed since it was observed"));
    var cm = cluster.client.configMaps().inNamespace("default").withName("cfg").get();
    assertThat(cm.getData()).as("our change").containsEntry("a", "2");
    assertThat(cm.getMetadata().getLabels()).as("the other writer's label kept").containsEntry("edited", "by-hand-0");
  }

  @Test
  void aSecondEditLeavesTheKeyUnknownUntilTheNextSync() {
    var store = new dev.gitops.core.store.InMemoryStateStore();
    desired.set(State.of("r1", List.of(configMap("{\"a\":\"1\"}"))));
    reconciler(store).sync();
    edits.set(2);
    applies.set(0);
    desired.set(State.of("r2", List.of(configMap("{\"a\":\"2\"}"))));

    SyncResult r = reconciler(store).sync();

    assertThat(r.outcomes().get(CM).kind()).as("%s", r.outcomes()).isEqualTo(Outcome.Kind.UNKNOWN);
    assertThat(r.outcomes().get(CM).isConflict()).isTrue();
    assertThat(applies.get()).isEqualTo(2);
    assertThat(cluster.client.configMaps().inNamespace("default").withName("cfg").get().getData())
        .containsEntry("a", "1");

    SyncResult next = reconciler(store).sync();
    assertThat(next.status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    var cm = cluster.client.configMaps().inNamespace("default").withName("cfg").get();
    assertThat(cm.getData()).containsEntry("a", "2");
    assertThat(cm.getMetadata().getLabels()).containsEntry("edited", "by-hand-0");
  }
}
