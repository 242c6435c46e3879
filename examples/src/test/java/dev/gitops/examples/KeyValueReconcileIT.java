package dev.gitops.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Action;
import dev.gitops.api.Plan;
import dev.gitops.api.Resource;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.SourceFile;
import dev.gitops.core.Reconciler;
import dev.gitops.core.store.InMemoryStateStore;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The example provider driven by the real engine: sync, change, drift, prune. */
class KeyValueReconcileIT {

  private static State decode(String revision, String text) {
    List<Resource> rs = new KeyValueProvider(new KeyValueStore()).decoder().orElseThrow()
        .decode(new SourceFile("shop.kv", "blob", text.getBytes(StandardCharsets.UTF_8), revision));
    return State.of(revision, rs);
  }

  @Test
  void reconcilerKeepsTheKeyValueStoreInLineWithTheDeclaredEntries() {
    KeyValueStore live = new KeyValueStore();
    AtomicReference<State> desired = new AtomicReference<>(decode("v1", "port = 8080\nhost = shop.example.com\n"));
    Reconciler reconciler = Reconciler.builder()
        .source(dev.gitops.api.spi.Source.of(desired::get))
        .provider(new KeyValueProvider(live))
        .store(new InMemoryStateStore())
        .build();

    SyncResult first = reconciler.sync();
    assertThat(first.isSuccessful()).isTrue();
    assertThat(live.snapshot()).containsOnlyKeys("shop/port", "shop/host");

    desired.set(decode("v2", "port = 9090\n"));
    Plan plan = reconciler.plan();
    assertThat(plan.change(KeyValueProvider.key("shop", "port")).orElseThrow().action()).isEqualTo(Action.UPDATE);
    assertThat(plan.change(KeyValueProvider.key("shop", "host")).orElseThrow().action()).isEqualTo(Action.DELETE);
    reconciler.sync();
    assertThat(live.snapshot()).containsOnlyKeys("shop/port");
    assertThat(live.get("shop/port").orElseThrow().value().get("value").asText()).isEqualTo("9090");

    live.put("shop/port", dev.gitops.api.Documents.object(java.util.Map.of("value",
        dev.gitops.api.Documents.nodes().textNode("1234"))));
    Plan drift = reconciler.plan();
    assertThat(drift.change(KeyValueProvider.key("shop", "port")).orElseThrow().drift()).isTrue();
    reconciler.sync();
    assertThat(live.get("shop/port").orElseThrow().value().get("value").asText()).isEqualTo("9090");
  }
}
