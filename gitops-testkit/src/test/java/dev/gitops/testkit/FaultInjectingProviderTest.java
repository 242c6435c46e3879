package dev.gitops.testkit;

import static dev.gitops.testkit.LocalFilesProviderConformanceTest.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.ProviderException;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class FaultInjectingProviderTest {
  private final InMemoryProvider live = InMemoryProvider.builder().id("mem").build();
  private final ResourceKey a = live.key("t", "", "a");
  private final ResourceKey b = live.key("t", "", "b");

  private static CallContext ctx() {
    return CallContext.of("owner", "rev", Duration.ofSeconds(30));
  }

  private Resource res(ResourceKey k) {
    return Resource.of(k, json("{\"v\":1}"));
  }

  @Test
  void permanentFaultsNeverReachTheDelegateAndNameTheKey() {
    FaultInjectingProvider f = FaultInjectingProvider.wrap(live).failPermanently(a).build();
    Outcome o = f.apply(ProviderConformanceSuite.createOf(res(a)), ctx());
    assertThat(o.kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(((ProviderException) o.cause()).key()).isEqualTo(a);
    assertThat(live.contains(a)).isFalse();
    assertThat(f.apply(ProviderConformanceSuite.createOf(res(b)), ctx()).isOk()).isTrue();
    assertThat(live.contains(b)).isTrue();
  }

  @Test
  void transientFaultsLastForTheFirstNAttempts() {
    FaultInjectingProvider f = FaultInjectingProvider.wrap(live).failTransiently(a, 2).build();
    List<Outcome.Kind> kinds = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      kinds.add(f.apply(ProviderConformanceSuite.createOf(res(a)), ctx()).kind());
    }
    assertThat(kinds).containsExactly(Outcome.Kind.TRANSIENT, Outcome.Kind.TRANSIENT, Outcome.Kind.CREATED,
        Outcome.Kind.CREATED);
    assertThat(f.applyCalls(a)).isEqualTo(4);
    assertThat(f.applyCalls(b)).isZero();
  }

  @Test
  void hangEndsWithUnknownWhenTheCallIsCancelled() throws Exception {
    FaultInjectingProvider f = FaultInjectingProvider.wrap(live).hang(a).build();
    Outcome o = applyThenCancel(f, ctx(), "new revision", fut -> {
      while (f.applyCalls(a) == 0) {
        Thread.onSpinWait();
      }
    });
    assertThat(o.kind()).isEqualTo(Outcome.Kind.UNKNOWN);
    assertThat(o.message()).contains("new revision").contains(a.toString());
    assertThat(live.contains(a)).isFalse();
  }

  @Test
  void hangEndsWithUnknownAtTheDeadline() {
    FaultInjectingProvider f = FaultInjectingProvider.wrap(live).hang(a).build();
    Outcome o = f.apply(ProviderConformanceSuite.createOf(res(a)), CallContext.of("o", "r", Duration.ofMillis(50)));
    assertThat(o.kind()).isEqualTo(Outcome.Kind.UNKNOWN);
    assertThat(o.message()).contains("deadline");
  }

  @Test
  void aKeyHungForGoodOutlivesItsDeadlineAndEndsOnlyWhenTheCallIsCancelled() throws Exception {
    FaultInjectingProvider f = FaultInjectingProvider.wrap(live).hangUntilCancelled(a).build();
    Outcome o = applyThenCancel(f, CallContext.of("o", "r", Duration.ofMillis(50)), "timed out", fut -> {
      Thread.sleep(300);
      assertThat(fut.isDone()).as("still hung 250 ms past its deadline").isFalse();
    });
    assertThat(o.kind()).isEqualTo(Outcome.Kind.UNKNOWN);
    assertThat(o.message()).contains("cancelled (timed out)").contains(a.toString());
    assertThat(live.contains(a)).isFalse();
  }

  /** What a run while hung, between the call's start and its cancellation, may check or wait for. */
  private interface WhileHung {
    void run(Future<Outcome> call) throws Exception;
  }

  /** Applies {@code a}'s create with {@code f} on another thread, runs {@code whileHung}, cancels the call with {@code reason}. */
  private Outcome applyThenCancel(FaultInjectingProvider f, CallContext c, String reason, WhileHung whileHung)
      throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<Outcome> call = pool.submit(() -> f.apply(ProviderConformanceSuite.createOf(res(a)), c));
      whileHung.run(call);
      c.cancellation().cancel(reason);
      return call.get(30, TimeUnit.SECONDS);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void unobservableKeysAreUnknownAndOthersPassThrough() {
    live.put(a, json("{\"x\":1}"));
    live.put(b, json("{\"x\":2}"));
    FaultInjectingProvider f = FaultInjectingProvider.wrap(live).unobservable(a).build();
    Map<ResourceKey, Observation> obs = f.observe(List.of(a, b), ctx());
    assertThat(obs.keySet()).containsExactly(a, b);
    assertThat(obs.get(a).isUnknown()).isTrue();
    assertThat(obs.get(b).live()).isEqualTo(json("{\"x\":2}"));
    assertThat(f.observeCalls(a)).isEqualTo(1);
  }

  @Test
  void randomFailuresAreReproducibleFromTheSeed() {
    List<Outcome.Kind> first = randomRun(7L);
    List<Outcome.Kind> second = randomRun(7L);
    assertThat(first).isEqualTo(second);
    assertThat(first).contains(Outcome.Kind.TRANSIENT).contains(Outcome.Kind.CREATED);
  }

  private List<Outcome.Kind> randomRun(long seed) {
    FaultInjectingProvider f = FaultInjectingProvider.wrap(InMemoryProvider.create()).failRandomly(0.5, seed).build();
    List<Outcome.Kind> kinds = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      ResourceKey k = ResourceKey.of("memory", "t", "", "k" + i);
      kinds.add(f.apply(ProviderConformanceSuite.createOf(Resource.of(k, json("{}"))), ctx()).kind());
    }
    return kinds;
  }

  @Test
  void batchesReportEveryKeyWithFaultsMixedIn() {
    FaultInjectingProvider f = FaultInjectingProvider.wrap(live).failPermanently(a).build();
    Map<ResourceKey, Outcome> out = f.applyAll(
        List.of(ProviderConformanceSuite.createOf(res(a)), ProviderConformanceSuite.createOf(res(b))), ctx());
    assertThat(out.keySet()).containsExactly(a, b);
    assertThat(out.get(a).kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(out.get(b).kind()).isEqualTo(Outcome.Kind.CREATED);
    assertThat(f.applyCallCounts()).containsEntry(a, 1).containsEntry(b, 1);
  }

  @Test
  void theTestkitBuildersNameANullPartAtOnce() {
    // as every builder of the API: a null handed to a builder is a NullPointerException naming it
    assertThatThrownBy(() -> FaultInjectingProvider.wrap(null)).isInstanceOf(NullPointerException.class)
        .hasMessage("delegate");
    assertThatThrownBy(() -> InMemoryProvider.builder().id(null)).isInstanceOf(NullPointerException.class)
        .hasMessage("id");
    assertThatThrownBy(() -> InMemoryProvider.builder().mergeRules(null)).isInstanceOf(NullPointerException.class)
        .hasMessage("rules");
  }
}
