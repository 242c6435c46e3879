package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Action;
import dev.gitops.api.Documents;
import dev.gitops.api.PathPattern;
import dev.gitops.api.Plan;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.core.plan.PlanCodec;
import dev.gitops.core.store.InMemoryStateStore;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Sensitive values never reach the store, a plan file or history in plain text, yet changes and drift are seen. */
class SecretsTest {

  static final ResourceKey KEY = ResourceKey.of("m", "thing", "", "db");

  static Resource db(String password) {
    return Resource.builder(KEY).document(ReconcilerTest.json("{'user':'app','password':'" + password + "'}"))
        .sensitive(Set.of(PathPattern.of("/password"))).build();
  }

  @Test
  void secretIsHashedInTheStoreAndPlanFileButChangesAndDriftAreDetected() {
    MapProvider p = new MapProvider("m", false);
    InMemoryStateStore store = new InMemoryStateStore();
    AtomicReference<State> desired = new AtomicReference<>(State.of("r1", List.of(db("hunter2-first"))));
    Reconciler rec = Reconciler.builder().source(dev.gitops.api.spi.Source.of(desired::get)).provider(p).store(store).build();
    rec.sync();
    assertThat(p.live.get(KEY).get("password").asText()).isEqualTo("hunter2-first");

    String stored = Documents.canonicalJson(store.load().inventory().get(KEY).resource().document());
    assertThat(stored).doesNotContain("hunter2-first").contains("hmac-sha256:");
    assertThat(rec.plan().hasChanges()).as("a hashed secret still matches its value").isFalse();

    desired.set(State.of("r2", List.of(db("hunter2-second"))));
    Plan plan = rec.plan();
    assertThat(plan.change(KEY).orElseThrow().action()).isEqualTo(Action.UPDATE);
    assertThat(plan.change(KEY).orElseThrow().fields()).singleElement().satisfies(f -> assertThat(f.sensitive()).isTrue());
    String file = PlanCodec.toJson(plan, store.secretKey());
    assertThat(file).doesNotContain("hunter2-first").doesNotContain("hunter2-second");
    rec.sync();
    assertThat(p.live.get(KEY).get("password").asText()).isEqualTo("hunter2-second");
    assertThat(store.history().toString()).doesNotContain("hunter2");

    p.put(KEY, ReconcilerTest.json("{'user':'app','password':'changed-by-hand'}"));
    Plan drift = rec.plan();
    assertThat(drift.change(KEY).orElseThrow().drift()).isTrue();
    assertThat(PlanCodec.toJson(drift, store.secretKey())).doesNotContain("changed-by-hand").doesNotContain("hunter2-second");
  }
}
