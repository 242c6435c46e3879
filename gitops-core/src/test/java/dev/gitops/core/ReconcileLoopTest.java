package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SourceException;
import dev.gitops.api.State;
import dev.gitops.api.spi.Source;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ReconcileLoopTest {

  final MapProvider provider = new MapProvider("m", false);
  final List<String> pinnedSeen = new CopyOnWriteArrayList<>();
  final AtomicInteger reads = new AtomicInteger();
  final AtomicBoolean failing = new AtomicBoolean();
  final AtomicReference<Thread> syncThread = new AtomicReference<>();

  Reconciler reconciler() {
    Source source = request -> {
      reads.incrementAndGet();
      syncThread.set(Thread.currentThread());
      pinnedSeen.add(String.valueOf(request.pinnedRevision()));
      if (failing.get()) {
        throw new SourceException("remote unreachable");
      }
      return State.of("r" + reads.get(), List.of(Resource.of(ResourceKey.of("m", "thing", "", "a"),
          ReconcilerTest.json("{'n':" + reads.get() + "}"))));
    };
    return Reconciler.builder().source(source).provider(provider).inMemoryStore().build();
  }

  static void await(java.util.function.BooleanSupplier cond) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!cond.getAsBoolean() && System.nanoTime() < end) {
      Thread.sleep(5);
    }
    assertThat(cond.getAsBoolean()).as("condition reached within 10 s").isTrue();
  }

  @Test
  void runsAtStartAndAgainOnTrigger() throws Exception {
    try (ReconcileLoop loop = ReconcileLoop.builder(reconciler()).interval(Duration.ofHours(1)).build()) {
      assertThat(loop.lastResult()).as("no sync has completed yet").isEmpty();
      assertThat(loop.lastError()).isEmpty();
      loop.start();
      await(() -> loop.runs() == 1);
      loop.trigger();
      await(() -> loop.runs() == 2);
      assertThat(loop.lastResult().orElseThrow().isSuccessful()).isTrue();
      assertThat(provider.live).containsKey(ResourceKey.of("m", "thing", "", "a"));
    }
  }

  @Test
  void closeEndsTheLoopThreadAndLeavesTheReconcilerOpen() throws Exception {
    Reconciler rec = reconciler();
    ReconcileLoop loop = ReconcileLoop.builder(rec).interval(Duration.ofHours(1)).build();
    loop.start();
    await(() -> loop.runs() == 1);
    Thread worker = syncThread.get();
    assertThat(worker.getName()).isEqualTo("gitops-loop");
    loop.close();
    worker.join(TimeUnit.SECONDS.toMillis(10));
    assertThat(worker.isAlive()).as("the loop's thread ended with close()").isFalse();
    assertThatThrownBy(loop::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    assertThat(rec.sync().isSuccessful()).as("the reconciler is the caller's: still open").isTrue();
    rec.close();
  }

  @Test
  void suspendedLoopDoesNotSyncUntilResumed() throws Exception {
    try (ReconcileLoop loop = ReconcileLoop.builder(reconciler()).interval(Duration.ofMillis(20)).build()) {
      loop.suspend();
      loop.start();
      // three scheduled syncs came and went while suspended: none of them ran
      await(() -> loop.skippedRuns() >= 3);
      assertThat(loop.runs()).isZero();
      assertThat(reads.get()).isZero();
      loop.resume();
      await(() -> loop.runs() >= 1);
    }
  }

  @Test
  void pinnedRevisionIsPassedToTheSourceUntilUnpinned() throws Exception {
    try (ReconcileLoop loop = ReconcileLoop.builder(reconciler()).interval(Duration.ofHours(1)).build()) {
      assertThat(loop.pinnedRevision()).isEmpty();
      loop.pin("main@sha1:" + "a".repeat(40));
      assertThat(loop.pinnedRevision()).contains("main@sha1:" + "a".repeat(40));
      loop.start();
      await(() -> loop.runs() == 1);
      loop.unpin();
      assertThat(loop.pinnedRevision()).isEmpty();
      loop.trigger();
      await(() -> loop.runs() == 2);
      assertThat(pinnedSeen).containsExactly("main@sha1:" + "a".repeat(40), "null");
    }
  }

  @Test
  void failuresAreKeptAndBackOffExponentially() throws Exception {
    failing.set(true);
    try (ReconcileLoop loop = ReconcileLoop.builder(reconciler()).interval(Duration.ofSeconds(80)).jitter(0)
        .maxBackoff(Duration.ofSeconds(60)).build()) {
      loop.start();
      await(() -> loop.runs() == 1);
      assertThat(loop.lastError()).containsInstanceOf(SourceException.class);
      assertThat(loop.consecutiveFailures()).isEqualTo(1);
      Duration first = loop.nextDelay(true);
      loop.trigger();
      await(() -> loop.runs() == 2);
      Duration second = loop.nextDelay(true);
      assertThat(second).isEqualTo(first.multipliedBy(2));
      for (int i = 0; i < 10; i++) {
        loop.trigger();
        int target = 3 + i;
        await(() -> loop.runs() == target);
      }
      assertThat(loop.nextDelay(true)).isEqualTo(Duration.ofSeconds(60));
      failing.set(false);
      loop.trigger();
      await(() -> loop.consecutiveFailures() == 0);
      assertThat(loop.lastError()).isEmpty();
    }
  }

  @Test
  void anIncompleteSyncBacksOffLikeAFailure() throws Exception {
    provider.unobservable.add(ResourceKey.of("m", "thing", "", "a"));
    try (ReconcileLoop loop = ReconcileLoop.builder(reconciler()).interval(Duration.ofHours(1)).build()) {
      loop.start();
      await(() -> loop.runs() == 1);
      assertThat(loop.lastResult().orElseThrow().status()).isEqualTo(dev.gitops.api.SyncResult.Status.INCOMPLETE);
      assertThat(loop.lastError()).isEmpty();
      assertThat(loop.consecutiveFailures()).isEqualTo(1);
      provider.unobservable.clear();
      loop.trigger();
      await(() -> loop.runs() == 2);
      assertThat(loop.consecutiveFailures()).isZero();
      assertThat(loop.lastResult().orElseThrow().isSuccessful()).isTrue();
    }
  }

  @Test
  void newRevisionCancelsTheSyncInFlight() throws Exception {
    CountDownLatch applying = new CountDownLatch(1);
    AtomicBoolean sawCancel = new AtomicBoolean();
    MapProvider slow = new MapProvider("m", false);
    Reconciler rec = Reconciler.builder()
        .desiredState(State.of("r1", List.of(Resource.of(ResourceKey.of("m", "thing", "", "a"), ReconcilerTest.json("{}")))))
        .inMemoryStore()
        .provider(new dev.gitops.api.spi.Provider() {
          @Override
          public String id() {
            return "m";
          }

          @Override
          public java.util.Map<ResourceKey, dev.gitops.api.Observation> observe(java.util.Collection<ResourceKey> keys,
              dev.gitops.api.spi.CallContext ctx) {
            return slow.observe(keys, ctx);
          }

          @Override
          public dev.gitops.api.Outcome apply(dev.gitops.api.Change change, dev.gitops.api.spi.CallContext ctx) {
            applying.countDown();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!ctx.cancellation().isCancelled() && System.nanoTime() < end) {
              Thread.onSpinWait();
            }
            sawCancel.set(ctx.cancellation().isCancelled());
            return dev.gitops.api.Outcome.unknown("cancelled");
          }
        }).build();
    try (ReconcileLoop loop = ReconcileLoop.builder(rec).interval(Duration.ofHours(1)).build()) {
      loop.start();
      assertThat(applying.await(10, TimeUnit.SECONDS)).isTrue();
      loop.newRevision();
      await(() -> loop.runs() >= 1);
      await(sawCancel::get);
    }
  }

  @Test
  void errorsFromAProviderDoNotStopTheLoopButBackOffAndAListenersErrorFailsNoSync() throws Exception {
    MapProvider inner = new MapProvider("m", false);
    AtomicInteger observes = new AtomicInteger();
    AtomicInteger planned = new AtomicInteger();
    List<Throwable> errorSeenAtRead = new CopyOnWriteArrayList<>();
    List<Integer> failuresSeenAtRead = new CopyOnWriteArrayList<>();
    CountDownLatch thirdRunSucceeded = new CountDownLatch(1);
    AtomicReference<ReconcileLoop> loopRef = new AtomicReference<>();
    Source source = request -> {
      ReconcileLoop l = loopRef.get();
      errorSeenAtRead.add(l.lastError().orElse(new Throwable("none")));
      failuresSeenAtRead.add(l.consecutiveFailures());
      return State.of("r1", List.of(Resource.of(ResourceKey.of("m", "thing", "", "a"), ReconcilerTest.json("{}"))));
    };
    inner.beforeObserve = keys -> {
      int n = observes.incrementAndGet();
      if (n == 1) {
        throw new StackOverflowError("provider bug");
      }
      if (n == 2) {
        throw new AssertionError("provider assertion");
      }
    };
    Reconciler rec = Reconciler.builder().source(source).provider(inner).inMemoryStore()
        .listener(e -> {
          // logged by the reconciler and otherwise ignored: the third sync succeeds all the same
          if (e instanceof dev.gitops.api.SyncEvent.Planned && planned.incrementAndGet() == 1) {
            throw new AssertionError("listener bug");
          }
          if (e instanceof dev.gitops.api.SyncEvent.Finished f && f.result().isSuccessful()) {
            thirdRunSucceeded.countDown();
          }
        })
        .build();
    // An hour between syncs: the second and third run can only come from the backoff after a failure.
    try (ReconcileLoop loop = ReconcileLoop.builder(rec).interval(Duration.ofHours(1)).jitter(0)
        .maxBackoff(Duration.ofMillis(5)).build()) {
      loopRef.set(loop);
      loop.start();
      assertThat(thirdRunSucceeded.await(10, TimeUnit.SECONDS)).as("the loop went on after two Errors").isTrue();
      assertThat(errorSeenAtRead).hasSizeGreaterThanOrEqualTo(3);
      assertThat(errorSeenAtRead.get(1)).isInstanceOf(StackOverflowError.class).hasMessage("provider bug");
      assertThat(errorSeenAtRead.get(2)).isInstanceOf(AssertionError.class).hasMessage("provider assertion");
      assertThat(planned).as("the listener failed on the third sync's plan").hasValue(1);
      assertThat(failuresSeenAtRead.subList(0, 3)).containsExactly(0, 1, 2);
    }
  }

  @Test
  void everySyncPassesThroughTheGateWithItsCancellation() throws Exception {
    List<dev.gitops.api.Cancellation> tokens = new CopyOnWriteArrayList<>();
    AtomicInteger declined = new AtomicInteger();
    ReconcileLoop.Gate gate = (cancellation, sync) -> {
      tokens.add(cancellation);
      if (tokens.size() == 1) {
        declined.incrementAndGet();
        throw new dev.gitops.api.Cancellation.CancelledException("no slot");
      }
      return sync.get();
    };
    try (ReconcileLoop loop = ReconcileLoop.builder(reconciler()).interval(Duration.ofHours(1))
        .maxBackoff(Duration.ofMillis(20)).gate(gate).build()) {
      loop.start();
      // The declined first run is a failure the loop survives: it backs off and syncs through the gate.
      await(() -> loop.lastResult().isPresent());
      assertThat(declined.get()).isEqualTo(1);
      assertThat(reads.get()).as("only syncs the gate let through read the source").isEqualTo(tokens.size() - 1);
      assertThat(tokens).doesNotHaveDuplicates();
      assertThat(loop.lastResult().orElseThrow().isSuccessful()).isTrue();
    }
  }

  @Test
  void aLoopStopsByItselfAtOnceWhenItsReconcilerIsClosedSayingWhyOnceAndItsCloseIsThenANoOp() throws Exception {
    Reconciler reconciler = reconciler();
    try (LogCapture logs = LogCapture.of("dev.gitops.core", "INFO")) {
      ReconcileLoop loop = ReconcileLoop.builder(reconciler).interval(Duration.ofMillis(20)).jitter(0).build();
      loop.start();
      await(() -> loop.runs() >= 2);
      Thread loopThread = syncThread.get();

      reconciler.close();

      assertThat(loop.stopped().toCompletableFuture().get(5, TimeUnit.SECONDS))
          .isEqualTo("its reconciler 'gitops' was closed");
      assertThat(loop.isStopped()).isTrue();
      loopThread.join(5_000);
      assertThat(loopThread.isAlive()).as("the loop's thread ended: no sync is scheduled any more").isFalse();
      int runs = loop.runs();
      loop.trigger();
      loop.close();  // a no-op: nothing to cancel, nothing to wait for
      assertThat(loop.runs()).isEqualTo(runs);
      assertThat(loop.lastError()).as("a closed reconciler is no failed sync").isEmpty();
      assertThat(logs.lines()).filteredOn(l -> l.contains("reconcile loop stops")).singleElement().asString()
          .isEqualTo("INFO the reconcile loop stops: its reconciler 'gitops' was closed");
      // other tests' reconcilers dropped without close() are reported by the cleaner whenever a GC
      // finds them, through this package's logger too: those lines are no part of this loop's stop
      assertThat(logs.lines()).filteredOn(l -> !l.contains("was dropped without close()"))
          .noneMatch(l -> l.startsWith("ERROR") || l.startsWith("WARN"));
      assertThatThrownBy(loop::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("has stopped");
      assertThatThrownBy(() -> ReconcileLoop.builder(reconciler).build()).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("reconciler 'gitops' is closed");
    }
  }

  @Test
  void aReconcilerClosedWhileTheLoopsSyncRunsLetsThatSyncFinishAndRecordThenTheLoopStops() throws Exception {
    CountDownLatch applying = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    provider.beforeApply = c -> {
      applying.countDown();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
    Reconciler reconciler = reconciler();
    ReconcileLoop loop = ReconcileLoop.builder(reconciler).interval(Duration.ofMillis(20)).jitter(0).build();
    loop.start();
    assertThat(applying.await(10, TimeUnit.SECONDS)).isTrue();
    Thread closer = new Thread(reconciler::close, "closer");
    closer.start();
    await(() -> closer.getState() == Thread.State.WAITING || closer.getState() == Thread.State.TIMED_WAITING);
    assertThat(loop.isStopped()).as("the sync in flight is not cut short").isFalse();

    release.countDown();
    closer.join(10_000);

    assertThat(closer.isAlive()).isFalse();
    assertThat(loop.stopped().toCompletableFuture().get(5, TimeUnit.SECONDS)).contains("was closed");
    assertThat(loop.lastResult()).as("the sync in flight finished").hasValueSatisfying(r ->
        assertThat(r.isSuccessful()).isTrue());
    assertThat(provider.live).containsKey(ResourceKey.of("m", "thing", "", "a"));
    assertThat(loop.lastError()).isEmpty();
    loop.close();
  }
}
