package dev.gitops.core;

import static dev.gitops.core.ReconcilerTest.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.Source;
import dev.gitops.api.spi.StateStore;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.core.store.InMemoryStateStore;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a reconciler needs, what it owns, and what closing it closes. */
class ReconcilerLifecycleTest {

  static final ResourceKey A = ResourceKey.of("m", "thing", "", "a");
  static final State DESIRED = State.of("r1", List.of(Resource.of(A, json("{'x':1}"))));

  @TempDir Path tmp;

  /** A source that can be closed, counting how often it was. */
  static final class ClosingSource implements Source, AutoCloseable {
    final AtomicInteger closes = new AtomicInteger();

    @Override
    public State read(ReadRequest request) {
      return DESIRED;
    }

    @Override
    public void close() {
      closes.incrementAndGet();
    }
  }

  /** An in-memory store that counts its close() calls. */
  static StateStore counting(AtomicInteger closes) {
    InMemoryStateStore real = new InMemoryStateStore();
    return (StateStore) Proxy.newProxyInstance(StateStore.class.getClassLoader(), new Class<?>[] {StateStore.class},
        (proxy, method, args) -> {
          if (method.getName().equals("close")) {
            closes.incrementAndGet();
          }
          try {
            return method.invoke(real, args);
          } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }

  @Test
  void eachMissingPartIsNamedByAnIllegalStateException() {
    MapProvider p = new MapProvider("m", false);
    assertThatThrownBy(() -> Reconciler.builder().provider(p).inMemoryStore().build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("needs a source");
    assertThatThrownBy(() -> Reconciler.builder().desiredState(DESIRED).inMemoryStore().build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("needs a provider");
    assertThatThrownBy(() -> Reconciler.builder().desiredState(DESIRED).provider(p).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("needs a store")
        .hasMessageContaining(".inMemoryStore()");
  }

  @Test
  void anInMemoryStoreIsUsedOnlyWhenAskedForAndSaysThatNothingSurvivesARestart() {
    try (LogCapture logs = LogCapture.of(Reconciler.class, "WARN");
        Reconciler r = Reconciler.builder().desiredState(DESIRED).provider(new MapProvider("m", false)).owner("demo")
            .inMemoryStore().build()) {
      assertThat(r.store()).isInstanceOf(InMemoryStateStore.class);
      assertThat(logs.lines()).singleElement().asString().startsWith("WARN reconciler 'demo' keeps its state in memory")
          .contains("survives a restart");
      assertThat(r.sync().isSuccessful()).isTrue();
    }
    try (LogCapture logs = LogCapture.of(Reconciler.class, "WARN");
        Reconciler r = Reconciler.builder().desiredState(DESIRED).provider(new MapProvider("m", false))
            .inMemoryStore().store(FileStateStore.open(tmp.resolve("state"))).build()) {
      assertThat(r.store()).as("the last store given wins").isInstanceOf(FileStateStore.class);
      assertThat(logs.lines()).isEmpty();
    }
  }

  @Test
  void closeEndsTheWorkerThreadsTheSyncsUsed() throws InterruptedException {
    java.util.Set<Thread> workers = java.util.concurrent.ConcurrentHashMap.newKeySet();
    MapProvider provider = new MapProvider("m", false);
    provider.beforeApply = c -> workers.add(Thread.currentThread());
    Reconciler r = Reconciler.builder().desiredState(DESIRED).provider(provider).inMemoryStore().build();
    assertThat(r.sync().isSuccessful()).isTrue();
    assertThat(workers).as("the apply ran on a worker thread").isNotEmpty()
        .noneMatch(t -> t == Thread.currentThread());

    r.close();

    for (Thread t : workers) {
      t.join(5_000);  // idle workers end at once, not after the pool's 30 s keep-alive
      assertThat(t.isAlive()).as(t.getName()).isFalse();
    }
  }

  @Test
  void everyCallAfterCloseNamesTheReconcilerNotTheStoreItClosed() {
    ClosingSource source = new ClosingSource();
    Reconciler r = Reconciler.builder().source(source).provider(new MapProvider("m", false))
        .store(FileStateStore.open(tmp.resolve("store"))).owner("web").build();
    assertThat(r.sync().isSuccessful()).isTrue();
    dev.gitops.api.Plan plan = r.plan();
    r.close();
    // the file store's own check (checkWritable) would say "store ... is closed", which the caller never closed
    for (org.assertj.core.api.ThrowableAssert.ThrowingCallable call : List.<org.assertj.core.api.ThrowableAssert
        .ThrowingCallable>of(r::sync, () -> r.apply(plan), () -> r.forget(List.of(A)),
            () -> r.destroy(Reconciler.DeletionPolicy.ORPHAN), r::plan)) {
      assertThatThrownBy(call).isInstanceOf(IllegalStateException.class).hasMessage("reconciler 'web' is closed");
    }
  }

  @Test
  void closeClosesTheSourceAndTheStoreOnceAndRefusesLaterSyncs() {
    ClosingSource source = new ClosingSource();
    AtomicInteger storeCloses = new AtomicInteger();
    MapProvider provider = new MapProvider("m", false);
    Reconciler r = Reconciler.builder().source(source).provider(provider).store(counting(storeCloses)).build();
    assertThat(r.sync().isSuccessful()).isTrue();
    assertThat(source.closes.get() + storeCloses.get()).as("nothing is closed while the reconciler is open").isZero();

    r.close();
    r.close();
    assertThat(source.closes.get()).isEqualTo(1);
    assertThat(storeCloses.get()).isEqualTo(1);
    assertThatThrownBy(r::sync).isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
    assertThatThrownBy(r::plan).isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
    assertThatThrownBy(r::history).isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
    assertThat(provider.live).as("providers stay the caller's and keep working").containsKey(A);
  }

  @Test
  void aFailingSourceCloseStillClosesTheStore() {
    AtomicInteger storeCloses = new AtomicInteger();
    class BrokenClose implements Source, AutoCloseable {
      @Override
      public State read(ReadRequest request) {
        return DESIRED;
      }

      @Override
      public void close() {
        throw new IllegalStateException("cache directory vanished");
      }
    }
    Reconciler r = Reconciler.builder().source(new BrokenClose()).provider(new MapProvider("m", false))
        .store(counting(storeCloses)).build();
    assertThatThrownBy(r::close).hasMessage("cache directory vanished");
    assertThat(storeCloses.get()).isEqualTo(1);
  }

  @Test
  void closeWaitsForTheSyncInFlightBeforeClosingItsStore() throws Exception {
    CountDownLatch applying = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    MapProvider provider = new MapProvider("m", false);
    provider.beforeApply = c -> {
      applying.countDown();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
    FileStateStore store = FileStateStore.open(tmp.resolve("state"));
    Reconciler r = Reconciler.builder().desiredState(DESIRED).provider(provider).store(store).build();
    CompletableFuture<SyncResult> sync = CompletableFuture.supplyAsync(r::sync);
    assertThat(applying.await(10, TimeUnit.SECONDS)).isTrue();

    Thread closer = new Thread(r::close, "closer");
    closer.start();
    ReconcileLoopTest.await(() -> closer.getState() == Thread.State.WAITING);  // parked on the sync lock
    release.countDown();

    // the sync recorded its create: the store was still open under it
    assertThat(sync.get(10, TimeUnit.SECONDS).isSuccessful()).isTrue();
    closer.join(TimeUnit.SECONDS.toMillis(10));
    assertThat(closer.isAlive()).isFalse();
    assertThatThrownBy(store::load).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    try (FileStateStore again = FileStateStore.openReadOnly(tmp.resolve("state"))) {
      assertThat(again.load().inventory()).containsKey(A);
    }
  }
  @Test
  void aListenerClosingTheReconcilerDuringItsSyncIsRefusedAndTheSyncRecordsEverything() throws Exception {
    AtomicReference<Reconciler> self = new AtomicReference<>();
    AtomicReference<Throwable> refused = new AtomicReference<>();
    MapProvider provider = new MapProvider("m", false);
    Reconciler r = Reconciler.builder().desiredState(DESIRED).provider(provider)
        .store(FileStateStore.open(tmp.resolve("state"))).listener(e -> {
          if (e instanceof SyncEvent.Planned) {
            try {
              self.get().close();
            } catch (RuntimeException x) {
              refused.set(x);
            }
          }
        }).build();
    self.set(r);

    SyncResult result = r.sync();

    assertThat(refused.get()).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("close() was called from within one of its own syncs")
        .hasMessageContaining("once that sync has returned");
    assertThat(result.isSuccessful()).as("the store stayed open under the sync: %s", result.outcomes()).isTrue();
    assertThat(r.store().load().inventory()).containsKey(A);
    r.close();
    assertThatThrownBy(r::sync).isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
  }

  @Test
  void aListenerSyncingTheReconcilerDuringItsSyncFailsAtOnceNotAfterTheLockTimeout() {
    AtomicReference<Reconciler> self = new AtomicReference<>();
    List<Throwable> refused = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<SyncEvent> events = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (Reconciler r = Reconciler.builder().desiredState(DESIRED).provider(new MapProvider("m", false))
        .store(FileStateStore.open(tmp.resolve("state")))
        .options(SyncOptions.builder().lockTimeout(java.time.Duration.ofMillis(200)).build())
        .listener(events::add)
        .listener(e -> {
          if (e instanceof SyncEvent.Planned) {
            for (Runnable call : List.<Runnable>of(() -> self.get().sync(), () -> self.get().plan(),
                () -> self.get().apply(((SyncEvent.Planned) e).plan()))) {
              try {
                call.run();
              } catch (RuntimeException x) {
                refused.add(x);
              }
            }
          }
        }).build()) {
      self.set(r);

      SyncResult result = r.sync();

      assertThat(result.isSuccessful()).isTrue();
      assertThat(refused).hasSize(3).allSatisfy(x -> assertThat(x).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("from within one of its own syncs"));
      assertThat(events).as("the refused calls report no sync of their own")
          .noneMatch(e -> e instanceof SyncEvent.Aborted);
    }
  }

  /**
   * A store records no owner: a second owner given the same store instance, with a provider that
   * marks nothing, would take the first owner's records as its own and delete every key its Git
   * does not declare. It is refused when built, naming both owners and the provider.
   */
  @Test
  void aSecondOwnerOnTheSameStoreWithoutMarksIsRefusedBeforeItDeletesTheFirstOwnersObjects() {
    MapProvider live = new MapProvider("m", false);
    InMemoryStateStore store = new InMemoryStateStore();
    State four = State.of("r1", List.of(ReconcilerTest.res("a", "{'v':1}"), ReconcilerTest.res("b", "{'v':1}"),
        ReconcilerTest.res("c", "{'v':1}"), ReconcilerTest.res("d", "{'v':1}")));
    State one = State.of("r1", List.of(ReconcilerTest.res("d", "{'v':1}")));
    Reconciler first = Reconciler.builder().source(Source.of(() -> four)).provider(live).store(store).owner("one")
        .build();
    assertThat(first.sync().isSuccessful()).isTrue();

    assertThatThrownBy(() -> Reconciler.builder().source(Source.of(() -> one)).provider(live).store(store)
        .owner("two").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("reconciler 'two'").hasMessageContaining("owner 'one'")
        .hasMessageContaining("provider 'm'").hasMessageContaining("does not mark its objects");
    assertThat(live.live).hasSize(4);
    assertThat(store.load().inventory()).hasSize(4);

    // the same owner may open the store again, and once the first is closed another owner may take it
    Reconciler again = Reconciler.builder().source(Source.of(() -> four)).provider(live).store(store).owner("one")
        .build();
    again.close();
    first.close();
    Reconciler.builder().source(Source.of(() -> one)).provider(live).store(store).owner("two").build().close();
  }

  @Test
  void aReconcilerDroppedWithoutCloseReleasesItsStoreAndSourceOnceCollectedAndSaysSo() throws Exception {
    ClosingSource source = new ClosingSource();
    Path dir = tmp.resolve("store");
    FileStateStore store = FileStateStore.open(dir);
    try (LogCapture logs = LogCapture.of(Reconciler.class, "WARN")) {
      java.lang.ref.WeakReference<Reconciler> probe = syncedAndDropped(source, store);
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while ((probe.get() != null || source.closes.get() == 0) && System.nanoTime() < end) {
        System.gc();
        Thread.sleep(10);
      }
      assertThat(probe.get()).as("the dropped reconciler was collected").isNull();
      assertThat(source.closes).as("its source was closed by the cleaner").hasValue(1);
      assertThatThrownBy(() -> store.lock(java.time.Duration.ZERO)).as("and its store")
          .hasMessageEndingWith("is closed");
      assertThat(logs.lines()).anySatisfy(l -> assertThat(l).startsWith("WARN reconciler 'first' of store " + dir
          + " was dropped without close()"));
    }
    // the store directory is free for the next reconciler, which finds what the first recorded
    try (Reconciler second = Reconciler.builder().source(new ClosingSource()).provider(new MapProvider("m", false))
        .owner("first").store(FileStateStore.open(dir)).build()) {
      assertThat(second.sync().isSuccessful()).isTrue();
      assertThat(second.history()).hasSize(2);
    }
  }

  @Test
  void aClosedReconcilerLeavesNothingForTheCleaner() throws Exception {
    ClosingSource source = new ClosingSource();
    try (LogCapture logs = LogCapture.of(Reconciler.class, "WARN")) {
      java.lang.ref.WeakReference<Reconciler> probe = syncedAndClosed(source);
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (probe.get() != null && System.nanoTime() < end) {
        System.gc();
        Thread.sleep(10);
      }
      assertThat(probe.get()).isNull();
      assertThat(source.closes).as("closed once, by close()").hasValue(1);
      assertThat(logs.lines()).noneMatch(l -> l.contains("'closed-one'") && l.contains("dropped without close()"));
    }
  }

  /** Builds, syncs and drops a reconciler; only a weak reference to it leaves this method. */
  private static java.lang.ref.WeakReference<Reconciler> syncedAndDropped(ClosingSource source, StateStore store) {
    Reconciler r = Reconciler.builder().source(source).provider(new MapProvider("m", false)).owner("first")
        .store(store).build();
    assertThat(r.sync().isSuccessful()).isTrue();
    return new java.lang.ref.WeakReference<>(r);
  }

  private static java.lang.ref.WeakReference<Reconciler> syncedAndClosed(ClosingSource source) {
    Reconciler r = Reconciler.builder().source(source).provider(new MapProvider("m", false)).owner("closed-one")
        .inMemoryStore().build();
    assertThat(r.sync().isSuccessful()).isTrue();
    r.close();
    return new java.lang.ref.WeakReference<>(r);
  }
}
