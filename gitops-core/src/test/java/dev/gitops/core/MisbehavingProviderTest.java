package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Observation;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.DelegatingProvider;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.Source;
import dev.gitops.core.store.InMemoryStateStore;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * A listener that throws an error does not break the sync. A provider that answers nonsense (an observation of another key, no map at all, a null
 * normalized document) gets its keys UNKNOWN with a reason naming it: the sync is incomplete,
 * nothing of those keys is applied, recorded or owned, and nothing escapes as a raw exception.
 */
class MisbehavingProviderTest {

  static final ResourceKey A = ReconcilerTest.key("a");
  static final ResourceKey B = ReconcilerTest.key("b");

  final MapProvider live = new MapProvider("m", false);
  final InMemoryStateStore store = new InMemoryStateStore();

  SyncResult syncWith(Provider p) {
    State want = State.of("r1", List.of(ReconcilerTest.res("a", "{'v':1}")));
    try (Reconciler rec = Reconciler.builder().source(Source.of(() -> want)).provider(p).store(store).build()) {
      return rec.sync();
    }
  }

  Provider observing(Function<Collection<ResourceKey>, Map<ResourceKey, Observation>> answer) {
    return new DelegatingProvider(live) {
      @Override
      public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
        return answer.apply(keys);
      }
    };
  }

  @Test
  void anObservationOfAnotherKeyNeverStandsForTheKeyAsked() {
    live.put(B, ReconcilerTest.json("{'v':1}"));
    Provider p = observing(keys -> {
      Map<ResourceKey, Observation> m = new HashMap<>();
      keys.forEach(k -> m.put(k, Observation.present(B, live.live.get(B), "1")));
      return m;
    });

    SyncResult r = syncWith(p);

    assertThat(r.status()).isEqualTo(SyncResult.Status.INCOMPLETE);
    assertThat(r.plan().change(A).orElseThrow().reason()).contains("provider 'm'").contains("observation of " + B);
    assertThat(live.live).doesNotContainKey(A);
    assertThat(store.load().inventory()).doesNotContainKey(A);
  }

  /**
   * After a delete the executor observes the key again: an observation of another object (absent)
   * must not count as this one gone, or the object, still live, is forgotten and never pruned.
   */
  @Test
  void anAbsentObservationOfAnotherKeyAfterADeleteDoesNotForgetTheKey() {
    State both = State.of("r1", List.of(ReconcilerTest.res("a", "{'v':1}"), ReconcilerTest.res("b", "{'v':1}")));
    try (Reconciler rec = Reconciler.builder().source(Source.of(() -> both)).provider(live).store(store).build()) {
      assertThat(rec.sync().isSuccessful()).isTrue();
    }
    live.lingering.add(A);  // the delete is accepted, the object stays (a finalizer)
    java.util.concurrent.atomic.AtomicBoolean deleted = new java.util.concurrent.atomic.AtomicBoolean();
    ResourceKey c = ReconcilerTest.key("c");
    Provider p = new DelegatingProvider(live) {
      @Override
      public dev.gitops.api.Outcome apply(dev.gitops.api.Change change, CallContext ctx) {
        dev.gitops.api.Outcome o = super.apply(change, ctx);
        deleted.set(true);
        return o;
      }

      @Override
      public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
        Map<ResourceKey, Observation> m = new HashMap<>(super.observe(keys, ctx));
        if (deleted.get() && keys.contains(A)) {
          m.put(A, Observation.absent(c));  // the provider's bug: it looked up another object
        }
        return m;
      }
    };
    State onlyB = State.of("r2", List.of(ReconcilerTest.res("b", "{'v':1}")));
    SyncOptions quick = SyncOptions.builder().execution(dev.gitops.core.apply.ExecutionOptions.defaults()
        .withHealthTimeout(java.time.Duration.ofMillis(300))
        .withHealthPollInterval(java.time.Duration.ofMillis(20))).build();
    try (Reconciler rec = Reconciler.builder().source(Source.of(() -> onlyB)).provider(p).store(store).options(quick)
        .build()) {
      SyncResult r = rec.sync();

      assertThat(live.live).containsKey(A);
      assertThat(r.outcomes().get(A).isOk()).as(r.outcomes().get(A).toString()).isFalse();
      assertThat(store.load().inventory()).as("still live, so still owned").containsKey(A);
    }
  }

  @Test
  void noObservationsAtAllIsAnIncompleteSyncNotAnException() {
    SyncResult r = syncWith(observing(keys -> null));

    assertThat(r.status()).isEqualTo(SyncResult.Status.INCOMPLETE);
    assertThat(r.plan().change(A).orElseThrow().reason()).contains("provider 'm' returned no observation");
    assertThat(store.load().inventory()).isEmpty();
  }

  @Test
  void aNormalizerThatAnswersNullMakesTheKeyUnknownNamingTheProvider() {
    live.put(A, ReconcilerTest.json("{'v':2}"));
    Provider p = new DelegatingProvider(live) {
      @Override
      public JsonNode normalize(ResourceKey key, JsonNode doc) {
        return null;
      }
    };

    SyncResult r = syncWith(p);

    assertThat(r.status()).isEqualTo(SyncResult.Status.INCOMPLETE);
    assertThat(r.plan().change(A).orElseThrow().reason()).contains("normalized it to null");
    assertThat(live.live.get(A)).isEqualTo(ReconcilerTest.json("{'v':2}"));
  }

  @Test
  void aListenerThatThrowsAnErrorDoesNotBreakTheSync() {
    State want = State.of("r1", List.of(ReconcilerTest.res("a", "{'v':1}"), ReconcilerTest.res("b", "{'v':2}")));
    try (Reconciler rec = Reconciler.builder().source(Source.of(() -> want)).provider(live).store(store)
        .listener(e -> {
          if (e instanceof dev.gitops.api.SyncEvent.ChangeFinished) {
            throw new AssertionError("a test's listener failed");
          }
        }).build()) {
      SyncResult r = rec.sync();

      assertThat(r.isSuccessful()).as(r.toString()).isTrue();
      assertThat(store.load().inventory()).containsKeys(A, B);
      assertThat(store.load().pending()).isEmpty();
    }
  }

  /** A provider whose observe ignores its context and its interrupts until released. */
  Provider hanging(java.util.concurrent.CountDownLatch release) {
    return observing(keys -> {
      long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
      while (release.getCount() > 0 && System.nanoTime() < end) {
        try {
          release.await(50, java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException ignored) {
          // this provider ignores interrupts
        }
      }
      return Map.of();
    });
  }

  @Test
  void anObserveThatNeverReturnsIsAbandonedAtTheCallTimeoutAndCloseDoesNotWaitForIt() {
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    State want = State.of("r1", List.of(ReconcilerTest.res("a", "{'v':1}")));
    SyncOptions o = SyncOptions.builder().execution(dev.gitops.core.apply.ExecutionOptions.defaults()
        .withCallTimeout(java.time.Duration.ofMillis(300))).build();
    Reconciler rec = Reconciler.builder().source(Source.of(() -> want)).provider(hanging(release)).store(store)
        .options(o).build();
    try {
      long start = System.nanoTime();
      SyncResult r = rec.sync();
      long tookMillis = (System.nanoTime() - start) / 1_000_000;

      assertThat(r.status()).isEqualTo(SyncResult.Status.INCOMPLETE);
      assertThat(r.plan().change(A).orElseThrow().reason()).contains("provider 'm' did not answer observe");
      assertThat(tookMillis).as("bounded by the call timeout, not by the provider").isLessThan(15_000);
      rec.close();  // returns: no sync holds the reconciler
      assertThat(store.load().inventory()).isEmpty();
    } finally {
      release.countDown();
    }
  }

  @Test
  void aSyncCancelledWhileAProviderObservesEndsWithTheCancellation() throws Exception {
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    State want = State.of("r1", List.of(ReconcilerTest.res("a", "{'v':1}")));
    dev.gitops.api.Cancellation c = new dev.gitops.api.Cancellation();
    try (Reconciler rec = Reconciler.builder().source(Source.of(() -> want)).provider(hanging(release)).store(store)
        .build()) {
      java.util.concurrent.CompletableFuture<SyncResult> sync =
          java.util.concurrent.CompletableFuture.supplyAsync(() -> rec.sync(null, c));
      Thread.sleep(200);
      c.cancel("the agent is shutting down");

      org.assertj.core.api.Assertions.assertThatThrownBy(() -> sync.get(15, java.util.concurrent.TimeUnit.SECONDS))
          .hasCauseInstanceOf(dev.gitops.api.Cancellation.CancelledException.class)
          .hasMessageContaining("the agent is shutting down");
    } finally {
      release.countDown();
    }
  }

  @Test
  void anObserveThatThrowsMakesItsKeysUnknownNamingTheProviderAndWhatItThrew() {
    SyncResult r = syncWith(observing(keys -> {
      throw new IllegalStateException("connection reset");
    }));

    assertThat(r.status()).isEqualTo(SyncResult.Status.INCOMPLETE);
    assertThat(r.plan().change(A).orElseThrow().reason())
        .contains("provider 'm' threw java.lang.IllegalStateException: connection reset");
    assertThat(store.load().inventory()).isEmpty();
  }

  @Test
  void anApplyThatThrowsAnErrorFailsItsKeyNamingTheProviderAndKeepsItsPendingRecord() {
    Provider p = new DelegatingProvider(live) {
      @Override
      public dev.gitops.api.Outcome apply(dev.gitops.api.Change change, CallContext ctx) {
        throw new StackOverflowError();
      }
    };

    SyncResult r = syncWith(p);

    assertThat(r.status()).isEqualTo(SyncResult.Status.FAILED);
    assertThat(r.outcomes().get(A).message()).isEqualTo("provider 'm' threw java.lang.StackOverflowError");
    assertThat(store.load().inventory()).doesNotContainKey(A);
    assertThat(store.load().pending()).as("it may have landed: its fields still count as owned").containsKey(A);
  }

  @Test
  void aBatchWithoutTheOutcomesAskedForFailsThoseKeysAndNeverRecordsAnotherKey() {
    ResourceKey x = ReconcilerTest.key("x");
    Provider p = new DelegatingProvider(live) {
      @Override
      public boolean prefersBatches() {
        return true;
      }

      @Override
      public Map<ResourceKey, dev.gitops.api.Outcome> applyAll(List<dev.gitops.api.Change> changes, CallContext ctx) {
        return Map.of(x, dev.gitops.api.Outcome.created());
      }
    };

    SyncResult r = syncWith(p);

    assertThat(r.outcomes().get(A).message()).isEqualTo("provider 'm' returned no outcome for " + A);
    assertThat(r.outcomes()).doesNotContainKey(x);
    assertThat(store.load().inventory()).isEmpty();
  }

  @Test
  void anApplyThatIgnoresItsCancellationIsEndedByTheSyncTimeoutAsUnknownKeepingItsPendingRecord() {
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    Provider p = new DelegatingProvider(live) {
      @Override
      public dev.gitops.api.Outcome apply(dev.gitops.api.Change change, CallContext ctx) {
        long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
        while (release.getCount() > 0 && System.nanoTime() < end) {
          try {
            release.await(50, java.util.concurrent.TimeUnit.MILLISECONDS);
          } catch (InterruptedException ignored) {
            // this provider ignores interrupts
          }
        }
        return dev.gitops.api.Outcome.created();
      }
    };
    SyncOptions o = SyncOptions.builder().execution(dev.gitops.core.apply.ExecutionOptions.defaults()
        .withSyncTimeout(java.time.Duration.ofMillis(400))).build();
    State want = State.of("r1", List.of(ReconcilerTest.res("a", "{'v':1}")));
    try (Reconciler rec = Reconciler.builder().source(Source.of(() -> want)).provider(p).store(store).options(o)
        .build()) {
      long start = System.nanoTime();
      SyncResult r = rec.sync();

      assertThat((System.nanoTime() - start) / 1_000_000).as("bounded by the sync timeout").isLessThan(15_000);
      assertThat(r.outcomes().get(A).kind()).isEqualTo(dev.gitops.api.Outcome.Kind.UNKNOWN);
      assertThat(r.outcomes().get(A).message()).contains("sync timed out");
      assertThat(store.load().pending()).containsKey(A);
      assertThat(store.load().inventory()).doesNotContainKey(A);
    } finally {
      release.countDown();
    }
  }

  @Test
  void aListenerThatThrowsOnEveryEventIsReportedOnceAndTheSyncStillRecords() {
    State want = State.of("r1", List.of(ReconcilerTest.res("a", "{'v':1}"), ReconcilerTest.res("b", "{'v':2}")));
    try (LogCapture logs = LogCapture.of(Reconciler.class, "WARN");
        Reconciler rec = Reconciler.builder().source(Source.of(() -> want)).provider(live).store(store)
            .listener(e -> {
              throw new IllegalStateException("listener bug");
            }).build()) {
      SyncResult r = rec.sync();
      SyncResult again = rec.sync();

      assertThat(r.isSuccessful()).as(r.toString()).isTrue();
      assertThat(again.isSuccessful()).isTrue();
      assertThat(store.load().inventory()).containsKeys(A, B);
      assertThat(logs.lines().stream().filter(l -> l.contains("sync listener")))
          .as("once per sync, not once per event").hasSize(2)
          .allMatch(l -> l.contains("listener bug"));
    }
  }

  @Test
  void aSourceThatReturnsNoStateFailsTheSyncNamingTheSource() {
    Source broken = new Source() {
      @Override
      public State read(ReadRequest request) {
        return null;
      }

      @Override
      public String describe() {
        return "my-config-db";
      }
    };
    try (Reconciler rec = Reconciler.builder().source(broken).provider(live).store(store).build()) {
      org.assertj.core.api.Assertions.assertThatThrownBy(rec::sync)
          .isInstanceOf(dev.gitops.api.SourceException.class)
          .hasMessageContaining("source my-config-db returned no desired state (null)");
    }
    assertThat(store.load().inventory()).isEmpty();
  }
}
