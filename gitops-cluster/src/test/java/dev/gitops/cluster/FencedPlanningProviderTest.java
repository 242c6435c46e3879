package dev.gitops.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.gitops.api.Change;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.ProviderPlanner;
import dev.gitops.api.spi.Source;
import dev.gitops.core.Reconciler;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** A planning provider (a Terraform stand-in) under {@link FencedProvider}: it neither plans nor applies once fenced. */
class FencedPlanningProviderTest {

  static final ResourceKey CONFIG = ResourceKey.of("tf", "file", "config", "main.tf");
  static final ResourceKey WEB = ResourceKey.of("tf", "obj", "", "web");

  /** Plans one CREATE of {@code web} from any configuration, records its plans and batches. */
  static final class Planning implements Provider {
    final List<String> calls = new CopyOnWriteArrayList<>();
    final Map<ResourceKey, com.fasterxml.jackson.databind.JsonNode> state = new java.util.concurrent.ConcurrentHashMap<>();
    volatile Runnable afterPlan = () -> { };

    @Override
    public String id() {
      return "tf";
    }

    @Override
    public boolean prefersBatches() {
      return true;
    }

    @Override
    public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
      Map<ResourceKey, Observation> out = new LinkedHashMap<>();
      keys.forEach(k -> out.put(k, state.containsKey(k) ? Observation.present(k, state.get(k), "v1")
          : Observation.absent(k)));
      return out;
    }

    @Override
    public Outcome apply(Change change, CallContext ctx) {
      return applyAll(List.of(change), ctx).get(change.key());
    }

    @Override
    public Map<ResourceKey, Outcome> applyAll(List<Change> changes, CallContext ctx) {
      calls.add("apply " + changes.size());
      Map<ResourceKey, Outcome> out = new LinkedHashMap<>();
      changes.forEach(c -> {
        state.put(c.key(), c.desired());
        out.put(c.key(), Outcome.created());
      });
      return out;
    }

    @Override
    public void unmark(ResourceKey key, String owner, CallContext ctx) {
      calls.add("unmark " + key.name());
    }

    @Override
    public Optional<ProviderPlanner> planner() {
      return Optional.of(new ProviderPlanner() {
        @Override
        public List<Change> plan(List<Resource> desired, CallContext ctx) {
          calls.add("plan");
          afterPlan.run();
          Resource web = Resource.of(WEB, JsonNodeFactory.instance.objectNode().put("size", 1));
          return List.of(Change.create(web, "planned by the provider"));
        }

        @Override
        public String stateToken(CallContext ctx) {
          return "lineage/1";
        }
      });
    }
  }

  final FakeCoordinator.Engine engine = new FakeCoordinator.Engine();
  final FakeCoordinator m1 = new FakeCoordinator(engine, "m1");
  final Planning tf = new Planning();

  SyncResult sync(Ownership o) {
    Resource config = Resource.of(CONFIG, JsonNodeFactory.instance.objectNode().put("objects", "web"));
    try (Reconciler r = Reconciler.builder().source(Source.of(() -> State.of("r1", List.of(config))))
        .provider(new FencedProvider(tf, m1, o)).inMemoryStore().owner("t").build()) {
      return r.sync();
    }
  }

  @Test
  void theOwnerPlansAndApplies() {
    m1.join();
    SyncResult r = sync(m1.tryAcquire("t").orElseThrow());
    assertThat(r.status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(tf.calls).containsExactly("plan", "apply 1");
  }

  @Test
  void aStaleOwnerDoesNotEvenPlan() {
    m1.join();
    Ownership o = m1.tryAcquire("t").orElseThrow();
    m1.release(o);
    SyncResult r = sync(o);
    assertThat(r.status()).isNotEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(tf.calls).as("no plan (no state lock taken, no saved plan), no apply").isEmpty();
  }

  @Test
  void anOwnershipLostBetweenPlanAndApplyAppliesNothing() {
    m1.join();
    Ownership o = m1.tryAcquire("t").orElseThrow();
    tf.afterPlan = () -> m1.release(o);
    SyncResult r = sync(o);
    assertThat(r.status()).isNotEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(tf.calls).containsExactly("plan");
    assertThat(r.outcomes().get(WEB).kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(r.outcomes().get(WEB).message()).contains("fenced");
  }

  @Test
  void aStaleOwnerRemovesNoMarkAndTheCurrentOneDoes() {
    m1.join();
    Ownership o = m1.tryAcquire("t").orElseThrow();
    CallContext ctx = CallContext.of("t", "r1", java.time.Duration.ofSeconds(10));
    new FencedProvider(tf, m1, o).unmark(WEB, "t", ctx);
    assertThat(tf.calls).containsExactly("unmark web");
    m1.release(o);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new FencedProvider(tf, m1, o).unmark(WEB, "t", ctx))
        .isInstanceOf(FencedException.class).hasMessageContaining("fenced");
    assertThat(tf.calls).as("a stale member's forget changes nothing live").containsExactly("unmark web");
  }
}
