package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.Plan;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Provider;
import dev.gitops.core.store.InMemoryStateStore;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A provider's type order is a tie-break for the plan order, never a barrier in execution. */
class TypeOrderTest {

  private static final ResourceKey EARLY = ResourceKey.of("o", "early", "slow");
  private static final ResourceKey LATE = ResourceKey.of("o", "late", "quick");

  /** Types named "early" sort first; the early object's apply is slow: it waits until the late one has started. */
  private static final class OrderedProvider implements Provider {
    final Map<ResourceKey, JsonNode> live = new ConcurrentHashMap<>();
    final List<String> log = Collections.synchronizedList(new ArrayList<>());
    final CountDownLatch lateStarted = new CountDownLatch(1);

    @Override
    public String id() {
      return "o";
    }

    @Override
    public int typeOrder(ResourceKey key) {
      return key.type().equals("early") ? 0 : 1;
    }

    @Override
    public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
      Map<ResourceKey, Observation> out = new LinkedHashMap<>();
      keys.forEach(k -> out.put(k, live.containsKey(k) ? Observation.present(k, live.get(k), "1") : Observation.absent(k)));
      return out;
    }

    @Override
    public Outcome apply(Change change, CallContext ctx) {
      log.add("start " + change.key().type());
      if (change.key().equals(LATE)) {
        lateStarted.countDown();
      } else {
        try {
          if (!lateStarted.await(20, TimeUnit.SECONDS)) {
            return Outcome.permanentFailure("the late-type object never started while this one applied", null);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return Outcome.unknown("interrupted");
        }
      }
      live.put(change.key(), change.target());
      log.add("end " + change.key().type());
      return Outcome.created();
    }
  }

  @Test
  void aLaterTypeWithNoDependenciesStartsBeforeAnEarlierTypesSlowApplyFinishes() {
    OrderedProvider p = new OrderedProvider();
    Reconciler r = Reconciler.builder()
        .desiredState(State.of("r1", List.of(Resource.of(LATE, ReconcilerTest.json("{'n':2}")),
            Resource.of(EARLY, ReconcilerTest.json("{'n':1}")))))
        .provider(p).store(new InMemoryStateStore()).build();

    Plan plan = r.plan();
    assertThat(plan.changes()).extracting(Change::key).as("type order breaks the tie in the plan").containsExactly(EARLY, LATE);
    assertThat(plan.changes()).extracting(Change::action).containsOnly(Action.CREATE);
    assertThat(plan.dependencies()).as("and adds no edge").isEmpty();

    SyncResult result = r.sync();
    assertThat(result.isSuccessful()).as(result.toString()).isTrue();
    assertThat(p.log).contains("start early", "start late", "end early", "end late");
    assertThat(p.log.indexOf("start late")).as("the late type started while the early one was still applying")
        .isLessThan(p.log.indexOf("end early"));
    assertThat(p.live).containsOnlyKeys(EARLY, LATE);
  }

  @Test
  void deletesRunInTheReverseTypeOrderEvenWhenThePlanBeforeHadTheSameKeys() {
    OrderedProvider p = new OrderedProvider();
    java.util.concurrent.atomic.AtomicReference<State> desired = new java.util.concurrent.atomic.AtomicReference<>(
        State.of("r1", List.of(Resource.of(LATE, ReconcilerTest.json("{'n':2}")),
            Resource.of(EARLY, ReconcilerTest.json("{'n':1}")))));
    InMemoryStateStore store = new InMemoryStateStore();
    Reconciler r = Reconciler.builder().source(dev.gitops.api.spi.Source.of(desired::get)).provider(p).store(store)
        .build();
    assertThat(r.sync().isSuccessful()).isTrue();
    assertThat(r.plan().changes()).extracting(Change::key).as("in sync, in type order").containsExactly(EARLY, LATE);

    desired.set(State.of("r2", List.of()));
    Plan teardown = r.plan();

    assertThat(teardown.changes()).extracting(Change::action).containsOnly(Action.DELETE);
    assertThat(teardown.changes()).extracting(Change::key).as("the late type goes first").containsExactly(LATE, EARLY);
  }
}
