package dev.gitops.api.spi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.ResourceKey;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A wrapper is never bypassed: one that overrides apply only sees every change of a batching delegate. */
class DelegatingProviderTest {

  /** A delegate with a batch call of its own, which the engine prefers. */
  static final class Batching implements Provider {
    final List<String> calls = new ArrayList<>();

    @Override
    public String id() {
      return "b";
    }

    @Override
    public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
      return Map.of();
    }

    @Override
    public Outcome apply(Change change, CallContext ctx) {
      calls.add("apply " + change.key().name());
      return Outcome.created();
    }

    @Override
    public Map<ResourceKey, Outcome> applyAll(List<Change> changes, CallContext ctx) {
      calls.add("applyAll " + changes.size());
      Map<ResourceKey, Outcome> out = new LinkedHashMap<>();
      changes.forEach(c -> out.put(c.key(), Outcome.created()));
      return out;
    }

    @Override
    public boolean prefersBatches() {
      return true;
    }

    @Override
    public int batchLimit() {
      return 7;
    }
  }

  static List<Change> twoCreates() {
    return List.of(Change.builder(ResourceKey.of("b", "t", "", "x"), Action.CREATE).reason("new").build(),
        Change.builder(ResourceKey.of("b", "t", "", "y"), Action.CREATE).reason("new").build());
  }

  @Test
  void aWrapperOfApplyOnlySeesEveryChangeOfABatchingDelegate() {
    Batching real = new Batching();
    AtomicInteger counted = new AtomicInteger();
    Provider counting = new DelegatingProvider(real) {
      @Override
      public Outcome apply(Change change, CallContext ctx) {
        counted.incrementAndGet();
        return super.apply(change, ctx);
      }
    };

    assertThat(counting.prefersBatches()).isFalse();
    Map<ResourceKey, Outcome> out = counting.applyAll(twoCreates(), null);

    assertThat(out).hasSize(2);
    assertThat(counted).hasValue(2);
    assertThat(real.calls).containsExactly("apply x", "apply y");
  }

  @Test
  void aWrapperOfBothKeepsTheDelegatesBatchCall() {
    Batching real = new Batching();
    AtomicInteger batches = new AtomicInteger();
    Provider wrapper = new DelegatingProvider(real) {
      @Override
      public Outcome apply(Change change, CallContext ctx) {
        return super.apply(change, ctx);
      }

      @Override
      public Map<ResourceKey, Outcome> applyAll(List<Change> changes, CallContext ctx) {
        batches.incrementAndGet();
        return super.applyAll(changes, ctx);
      }
    };

    assertThat(wrapper.prefersBatches()).isTrue();
    wrapper.applyAll(twoCreates(), null);

    assertThat(batches).hasValue(1);
    assertThat(real.calls).containsExactly("applyAll 2");
  }

  @Test
  void aWrapperOfNeitherForwardsTheBatchAndItsPreference() {
    Batching real = new Batching();
    Provider observing = new DelegatingProvider(real) { };

    assertThat(observing.prefersBatches()).isTrue();
    assertThat(observing.batchLimit()).as("the parts the delegate takes").isEqualTo(7);
    observing.applyAll(twoCreates(), null);

    assertThat(real.calls).containsExactly("applyAll 2");
  }

  @Test
  void anApplyOverriddenFurtherUpTheWrappersHierarchyCounts() {
    Batching real = new Batching();
    AtomicInteger counted = new AtomicInteger();
    class Counting extends DelegatingProvider {
      Counting(Provider p) {
        super(p);
      }

      @Override
      public Outcome apply(Change change, CallContext ctx) {
        counted.incrementAndGet();
        return super.apply(change, ctx);
      }
    }
    Provider sub = new Counting(real) { };

    sub.applyAll(twoCreates(), null);

    assertThat(counted).hasValue(2);
  }
}
