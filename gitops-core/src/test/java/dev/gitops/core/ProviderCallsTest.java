package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Observation;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.DelegatingProvider;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.Source;
import dev.gitops.core.apply.ExecutionOptions;
import dev.gitops.core.store.InMemoryStateStore;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The planning calls' bounds ({@link ProviderCalls}): each call has the whole call timeout, as an
 * apply has, and a provider that never returns costs one abandoned thread, not one per sync.
 */
class ProviderCallsTest {

  static final ResourceKey A = ReconcilerTest.key("a");

  final MapProvider live = new MapProvider("m", true);
  final InMemoryStateStore store = new InMemoryStateStore();
  final State want = State.of("r1", List.of(ReconcilerTest.res("a", "{'v':1}")));

  static SyncOptions callTimeout(Duration d) {
    return SyncOptions.builder().execution(ExecutionOptions.defaults().withCallTimeout(d)).build();
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void eachPlanningCallHasTheWholeCallTimeoutNotWhatTheCallsBeforeItLeft() {
    List<Duration> observeGot = new ArrayList<>();
    Provider slow = new DelegatingProvider(live) {
      @Override
      public Collection<ResourceKey> listMarked(String owner, CallContext ctx) {
        sleep(500);
        return super.listMarked(owner, ctx);
      }

      @Override
      public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
        observeGot.add(Duration.between(Instant.now(), ctx.deadline()));
        sleep(500);
        return super.observe(keys, ctx);
      }
    };
    try (Reconciler rec = Reconciler.builder().source(Source.of(() -> want)).provider(slow).store(store)
        .options(callTimeout(Duration.ofMillis(900))).build()) {
      SyncResult r = rec.sync();

      // each call takes 500 ms of its 900: neither is over its call timeout
      assertThat(r.status()).as(r.toString()).isEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(store.load().inventory()).containsKey(A);
      assertThat(observeGot).isNotEmpty().as("the deadline observe is told")
          .allSatisfy(d -> assertThat(d).isGreaterThan(Duration.ofMillis(700)));
    }
  }

  static long threadsNamed(String prefix) {
    return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && t.getName().startsWith(prefix))
        .count();
  }

  @Test
  void aProviderThatNeverReturnsHoldsOneAbandonedThreadNotOnePerSync() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    Provider hanging = new DelegatingProvider(new MapProvider("m", false)) {
      @Override
      public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
        while (release.getCount() > 0) {
          try {
            release.await(20, TimeUnit.MILLISECONDS);
          } catch (InterruptedException ignored) {
            // this provider ignores interrupts
          }
        }
        return super.observe(keys, ctx);
      }
    };
    long before = threadsNamed("gitops-observe-");
    try (Reconciler rec = Reconciler.builder().source(Source.of(() -> want)).provider(hanging).store(store)
        .options(callTimeout(Duration.ofMillis(100))).build()) {
      List<SyncResult> results = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        results.add(rec.sync());
      }

      assertThat(threadsNamed("gitops-observe-") - before).as("threads left by six syncs").isLessThanOrEqualTo(1);
      for (SyncResult r : results) {
        assertThat(r.status()).isEqualTo(SyncResult.Status.INCOMPLETE);
        assertThat(r.plan().change(A).orElseThrow().reason()).contains("provider 'm'").contains("observe");
      }
      assertThat(results.get(5).plan().change(A).orElseThrow().reason()).contains("has not returned");
      assertThat(store.load().inventory()).isEmpty();

      release.countDown();
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (threadsNamed("gitops-observe-") > before && System.nanoTime() < end) {
        Thread.sleep(10);
      }
      SyncResult after = rec.sync();
      assertThat(after.status()).as("once the provider returned it is called again").isEqualTo(
          SyncResult.Status.SUCCEEDED);
    } finally {
      release.countDown();
    }
  }

  @Test
  void aStartedCallRunsWhileItsCallerWorksItsDeadlineRunsFromItsStartAndACancelledOneIsAbandoned() throws Exception {
    ProviderCalls calls = new ProviderCalls(Duration.ofMillis(1000));
    CallContext planning = CallContext.of("me", "r1", Duration.ofSeconds(30));
    CountDownLatch running = new CountDownLatch(1);
    ProviderCalls.Call<String> quick = calls.start(live, "versions", planning, c -> {
      running.countDown();
      return "tokens";
    });
    assertThat(running.await(5, TimeUnit.SECONDS)).as("running before it is awaited").isTrue();
    assertThat(quick.await()).isEqualTo("tokens");

    // awaited after its deadline passed: not waited for again, abandoned while it runs
    CountDownLatch release = new CountDownLatch(1);
    ProviderCalls.Call<String> slow = calls.start(live, "versions", planning, c -> {
      awaitQuietly(release);
      return "late";
    });
    sleep(1100);
    long awaited = System.nanoTime();
    assertThatThrownBy(slow::await).isInstanceOf(dev.gitops.api.ProviderException.class)
        .hasMessageContaining("did not answer versions within the call timeout");
    // a deadline counted from the await would have waited a whole call timeout more
    assertThat(Duration.ofNanos(System.nanoTime() - awaited)).isLessThan(Duration.ofMillis(800));
    assertThatThrownBy(() -> calls.start(live, "versions", planning, c -> "again"))
        .hasMessageContaining("has not returned from the versions");
    release.countDown();
    waitForThreads("gitops-versions-");

    // given up by its caller: interrupted, and not started again while it runs
    CountDownLatch hold = new CountDownLatch(1);
    CountDownLatch holding = new CountDownLatch(1);
    ProviderCalls.Call<String> unwanted = calls.start(live, "observe", planning, c -> {
      holding.countDown();
      awaitQuietly(hold);
      return "unused";
    });
    // running when given up (a call cancelled before it ran never runs, and holds no thread)
    assertThat(holding.await(5, TimeUnit.SECONDS)).isTrue();
    unwanted.cancel();
    assertThatThrownBy(() -> calls.start(live, "observe", planning, c -> "again"))
        .hasMessageContaining("has not returned from the observe");
    hold.countDown();
    waitForThreads("gitops-observe-");
    assertThat(calls.start(live, "observe", planning, c -> "again").await()).isEqualTo("again");
  }

  /** Waits on {@code latch} ignoring interrupts, as a provider that does not check them would (bounded: 10 s). */
  static void awaitQuietly(CountDownLatch latch) {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (latch.getCount() > 0 && System.nanoTime() < end) {
      try {
        latch.await(20, TimeUnit.MILLISECONDS);
      } catch (InterruptedException ignored) {
        // this provider ignores interrupts
      }
    }
  }

  static void waitForThreads(String prefix) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (threadsNamed(prefix) > 0 && System.nanoTime() < end) {
      Thread.sleep(10);
    }
  }
}
