package dev.gitops.core;

import static dev.gitops.core.ReconcilerTest.json;
import static dev.gitops.core.ReconcilerTest.key;
import static dev.gitops.core.ReconcilerTest.res;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Cancellation;
import dev.gitops.api.FieldPath;
import dev.gitops.api.Health;
import dev.gitops.api.MergeRules;
import dev.gitops.api.Observation;
import dev.gitops.api.Plan;
import dev.gitops.api.ProviderException;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncListener;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.DelegatingProvider;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.ProviderPlanner;
import dev.gitops.api.spi.Source;
import dev.gitops.api.spi.StateStore;
import dev.gitops.core.apply.ExecutionOptions;
import dev.gitops.core.plan.DeletionBudget;
import dev.gitops.core.source.GitSource;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.core.store.InMemoryStateStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The reconciler used wrongly: null arguments, a provider whose hooks throw or answer nonsense, a
 * store or source shared by two reconcilers, a closed reconciler, two threads at once. Each is
 * refused or contained with a message naming what is at fault, and nothing recorded is lost.
 */
class ReconcilerMisuseTest {

  static final ResourceKey A = key("a");
  static final ResourceKey B = key("b");
  static final ResourceKey C = key("c");
  static final ResourceKey D = key("d");

  @TempDir Path tmp;

  final MapProvider live = new MapProvider("m", true);
  final InMemoryStateStore store = new InMemoryStateStore();
  final List<SyncEvent> events = new CopyOnWriteArrayList<>();

  /** a, c and d synced; the next desired state replaces a, creates b, deletes c and keeps d. */
  State synced() {
    live.replaceFields.add("x");
    State first = State.of("r1", List.of(res("a", "{'x':1}"), res("c", "{'v':1}"), res("d", "{'v':1}")));
    try (Reconciler rec = Reconciler.builder().desiredState(first).provider(live).store(store).build()) {
      assertThat(rec.sync().isSuccessful()).isTrue();
    }
    return State.of("r2", List.of(res("a", "{'x':2}"), res("b", "{'v':1}"), res("d", "{'v':1}")));
  }

  Reconciler reconciler(State desired, Provider p) {
    return Reconciler.builder().desiredState(desired).provider(p).store(store).listener(events::add).build();
  }

  void nothingMoved() {
    assertThat(store.load().inventory()).containsOnlyKeys(A, C, D);
    assertThat(live.live).containsOnlyKeys(A, C, D);
    assertThat(live.live.get(A)).isEqualTo(json("{'x':1}"));
  }

  // ---- 1. null arguments ----------------------------------------------------------------------

  @Test
  void aStoreOpenedReadOnlyRefusesASyncBeforeAnythingIsReadButPlansAndDryRuns() {
    State want = State.of("r1", List.of(res("a", "{'v':1}")));
    try (Reconciler rec = Reconciler.builder().source(Source.of(() -> want)).provider(live)
        .store(FileStateStore.openReadOnly(tmp.resolve("ro"))).build()) {
      for (Runnable write : List.<Runnable>of(rec::sync, () -> rec.destroy(Reconciler.DeletionPolicy.ORPHAN))) {
        assertThatThrownBy(write::run).isInstanceOf(dev.gitops.api.StoreException.class)
            .hasMessageContaining(tmp.resolve("ro").toString()).hasMessageContaining("opened read-only")
            .hasMessageContaining("FileStateStore.open");
      }
      assertThat(live.applied).isEmpty();
      assertThat(rec.plan().changes()).hasSize(1);
    }
    try (Reconciler dry = Reconciler.builder().source(Source.of(() -> want)).provider(live)
        .store(FileStateStore.openReadOnly(tmp.resolve("ro"))).options(SyncOptions.builder().dryRun(true).build())
        .build()) {
      assertThat(dry.sync().plan().changes()).hasSize(1);
    }
    assertThat(tmp.resolve("ro")).doesNotExist();
  }

  @Test
  void anEmptyStorePathIsRefusedNotTakenAsTheWorkingDirectory() {
    assertThatThrownBy(() -> FileStateStore.open(Path.of(""))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("empty path");
    assertThatThrownBy(() -> FileStateStore.openReadOnly(Path.of(""))).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void destroyWithoutAPolicyIsRefusedBeforeAnythingIsReadOrDeleted() {
    State next = synced();
    try (Reconciler rec = reconciler(next, live)) {
      assertThatThrownBy(() -> rec.destroy(null)).isInstanceOf(NullPointerException.class).hasMessage("policy");
    }
    nothingMoved();
    assertThat(events).as("no sync started, so none was reported").isEmpty();
  }

  @Test
  void everyPublicCallOfTheReconcilerItsBuilderAndItsLoopRefusesANullArgumentNamingIt() {
    NullArguments tester = ApiNullArgumentsTest.tester()
        .sample(Source.class, () -> Source.of(() -> State.of("r1", List.of())))
        .sample(Provider.class, () -> new MapProvider("m", false)).sample(StateStore.class, InMemoryStateStore::new)
        .sample(SyncOptions.class, SyncOptions::defaults).sample(SyncListener.class, () -> e -> { })
        .sample(Decoder.class, () -> new Decoder() {
          @Override
          public boolean claims(String path) {
            return false;
          }

          @Override
          public List<Resource> decode(dev.gitops.api.spi.SourceFile file) {
            return List.of();
          }
        }).sample(Reconciler.class, () -> reconciler(State.of("r1",
            List.of()), live))
        .sample(ReconcileLoop.Gate.class, () -> (cancellation, sync) -> sync.get())
        .sample(DeletionBudget.class, DeletionBudget::defaults).sample(ExecutionOptions.class, ExecutionOptions::defaults);
    List<String> wrong = new ArrayList<>();
    try (Reconciler rec = reconciler(State.of("r1", List.of()), live);
        ReconcileLoop loop = ReconcileLoop.builder(rec).build()) {
      // a null revision is the head
      wrong.addAll(tester.check(Reconciler.class, rec, Set.of("plan#0", "sync#0")));
      wrong.addAll(tester.check(Reconciler.Builder.class, Reconciler.builder(), Set.of()));
      wrong.addAll(tester.check(ReconcileLoop.class, loop, Set.of()));
      wrong.addAll(tester.check(ReconcileLoop.Builder.class, ReconcileLoop.builder(rec), Set.of()));
      wrong.addAll(tester.check(SyncOptions.Builder.class, SyncOptions.builder(), Set.of()));
    }

    assertThat(wrong).isEmpty();
  }

  // ---- 2. a provider's planning-side hooks that throw ------------------------------------------

  /** {@link #live}, with {@code hook} throwing an IllegalStateException. */
  Provider throwingIn(String hook) {
    return new DelegatingProvider(live) {
      void boom(String name) {
        if (name.equals(hook)) {
          throw new IllegalStateException("boom");
        }
      }

      @Override
      public MergeRules mergeRules() {
        boom("mergeRules");
        return super.mergeRules();
      }

      @Override
      public boolean requiresReplace(ResourceKey key, FieldPath path) {
        boom("requiresReplace");
        return super.requiresReplace(key, path);
      }

      @Override
      public Set<ResourceKey> relations(Resource resource, Set<ResourceKey> desired) {
        boom("relations");
        return super.relations(resource, desired);
      }

      @Override
      public Set<ResourceKey> cascadesTo(Resource resource, Set<ResourceKey> desired) {
        boom("cascadesTo");
        return super.cascadesTo(resource, desired);
      }

      @Override
      public int typeOrder(ResourceKey key) {
        boom("typeOrder");
        return super.typeOrder(key);
      }

      @Override
      public Optional<Decoder> decoder() {
        boom("decoder");
        return super.decoder();
      }

      @Override
      public Optional<ProviderPlanner> planner() {
        boom("planner");
        return super.planner();
      }

      @Override
      public boolean marksObjects() {
        boom("marksObjects");
        return super.marksObjects();
      }

      @Override
      public JsonNode normalize(ResourceKey key, JsonNode doc) {
        boom("normalize");
        return super.normalize(key, doc);
      }

      @Override
      public Health health(ResourceKey key, Observation o) {
        boom("health");
        return super.health(key, o);
      }

      @Override
      public boolean prefersBatches() {
        boom("prefersBatches");
        return true;
      }
    };
  }

  @ParameterizedTest
  @ValueSource(strings = {"mergeRules", "requiresReplace", "relations", "cascadesTo", "typeOrder", "decoder", "planner"})
  void aPlanningHookThatThrowsFailsTheSyncWithAProviderExceptionNamingProviderAndMethodAndNothingMoves(String hook) {
    State next = synced();
    try (Reconciler rec = reconciler(next, throwingIn(hook))) {
      Throwable planned = catchThrowable(rec::plan);
      Throwable synced = catchThrowable(rec::sync);

      for (Throwable t : List.of(planned, synced)) {
        assertThat(t).isInstanceOf(ProviderException.class)
            .hasMessageContaining("provider 'm' failed in " + hook + ": java.lang.IllegalStateException: boom")
            .hasCauseInstanceOf(IllegalStateException.class);
      }
      if (Set.of("requiresReplace", "relations", "cascadesTo", "typeOrder").contains(hook)) {
        assertThat(((ProviderException) synced).key()).as("the key it was asked about").isNotNull();
        assertThat(synced.getMessage()).startsWith(((ProviderException) synced).key() + ": ");
      }
    }
    nothingMoved();
    assertThat(events).filteredOn(e -> e instanceof SyncEvent.Aborted).hasSize(1);
  }

  @Test
  void aMarksObjectsThatThrowsIsRefusedByBuildNamingTheProviderAndTheMethod() {
    assertThatThrownBy(() -> reconciler(State.of("r1", List.of()), throwingIn("marksObjects")))
        .isInstanceOf(ProviderException.class).hasMessageContaining("provider 'm' failed in marksObjects");
  }

  @Test
  void aProviderWhoseIdThrowsIsRefusedByTheBuilderNamingItsClass() {
    Provider noId = new DelegatingProvider(live) {
      @Override
      public String id() {
        throw new IllegalStateException("not configured");
      }
    };

    assertThatThrownBy(() -> Reconciler.builder().provider(noId)).isInstanceOf(ProviderException.class)
        .hasMessageContaining("provider '" + noId.getClass().getName() + "' failed in id");
  }

  @Test
  void aNormalizerThatThrowsMakesItsKeysUnknownNamingProviderMethodAndKeyAndPrunesNothing() {
    State next = synced();
    try (Reconciler rec = reconciler(next, throwingIn("normalize"))) {
      SyncResult r = rec.sync();

      assertThat(r.isSuccessful()).isFalse();
      assertThat(r.plan().change(C).orElseThrow().reason())
          .contains(C + ": provider 'm' failed in normalize: java.lang.IllegalStateException: boom");
    }
    assertThat(live.live).as("nothing deleted on an unknown observation").containsKey(C);
    assertThat(store.load().inventory()).containsKeys(A, C, D);
  }

  @Test
  void aHealthCheckThatThrowsFailsItsKeyNamingProviderMethodAndKeyAndTheApplyIsRecorded() {
    State next = synced();
    SyncOptions quick = SyncOptions.builder().execution(ExecutionOptions.defaults()
        .withHealthTimeout(Duration.ofMillis(200)).withHealthPollInterval(Duration.ofMillis(20))).build();
    try (Reconciler rec = Reconciler.builder().desiredState(next).provider(throwingIn("health")).store(store)
        .options(quick).build()) {
      SyncResult r = rec.sync();

      assertThat(r.outcomes().get(B).message()).contains(B + ": provider 'm' failed in health");
    }
    assertThat(live.live).containsKey(B);
    assertThat(store.load().pending().containsKey(B) || store.load().inventory().containsKey(B))
        .as("what was applied is still known as ours").isTrue();
  }

  @Test
  void aPrefersBatchesThatThrowsAppliesOneChangePerCallAndSaysSoOnce() {
    State next = synced();
    try (LogCapture logs = LogCapture.of(dev.gitops.core.apply.Executor.class, "WARN");
        Reconciler rec = reconciler(next, throwingIn("prefersBatches"))) {
      SyncResult r = rec.sync();

      assertThat(r.isSuccessful()).as(r.outcomes().toString()).isTrue();
      assertThat(logs.lines()).filteredOn(l -> l.contains("failed to say whether it prefers batches")).hasSize(1);
    }
    assertThat(store.load().inventory()).containsOnlyKeys(A, B, D);
  }

  // ---- 3. listMarked answering keys that are not the provider's --------------------------------

  @ParameterizedTest
  @ValueSource(strings = {"foreign", "nullEntry", "nullAnswer"})
  void aListingWithKeysOfAnotherProviderOrNullsIsIgnoredWithAWarningAndDeletesNothing(String nonsense) {
    State next = synced();
    ResourceKey foreign = ResourceKey.of("other", "thing", "", "z");
    Provider p = new DelegatingProvider(live) {
      @Override
      public Collection<ResourceKey> listMarked(String owner, CallContext ctx) {
        if (nonsense.equals("nullAnswer")) {
          return null;
        }
        List<ResourceKey> keys = new ArrayList<>(super.listMarked(owner, ctx));
        keys.add(nonsense.equals("foreign") ? foreign : null);
        return keys;
      }
    };
    try (LogCapture logs = LogCapture.of(Reconciler.class, "WARN"); Reconciler rec = reconciler(next, p)) {
      SyncResult r = rec.sync();

      assertThat(r.status()).isEqualTo(SyncResult.Status.INCOMPLETE);
      assertThat(r.plan().unobserved()).containsKey("marked objects of provider 'm'");
      assertThat(r.plan().change(foreign)).as("never planned").isEmpty();
      assertThat(logs.lines()).anyMatch(l -> l.startsWith("WARN provider 'm'") && l.contains("listMarked"));
      assertThat(r.outcomes().get(B).isOk()).as("what it can do, it does").isTrue();
    }
    assertThat(live.live).as("held back: the listing is incomplete").containsKeys(A, C);
    assertThat(store.load().inventory()).containsKeys(A, C);
  }

  // ---- 4. a store and a source shared by two reconcilers ---------------------------------------

  @Test
  void aSharedStoreAndSourceAreClosedByTheLastReconcilerToCloseNotTheFirst() throws Exception {
    ReconcilerLifecycleTest.ClosingSource source = new ReconcilerLifecycleTest.ClosingSource();
    FileStateStore shared = FileStateStore.open(tmp.resolve("store"));
    MapProvider files = new MapProvider("m", false);
    Reconciler first = Reconciler.builder().source(source).provider(files).store(shared).build();
    Reconciler second = Reconciler.builder().source(source).provider(files).store(shared).build();
    assertThat(first.sync().isSuccessful()).isTrue();

    first.close();
    assertThat(source.closes).hasValue(0);
    SyncResult r = second.sync();
    assertThat(r.isSuccessful()).as("the store stays open for the second").isTrue();
    assertThat(second.history()).hasSize(1);

    second.close();
    assertThat(source.closes).hasValue(1);
    assertThatThrownBy(() -> shared.lock(Duration.ZERO)).as("closed by the last").hasMessageEndingWith("is closed");
  }

  // ---- 5. variables with null names or values --------------------------------------------------

  @Test
  void variablesWithANullValueOrNameAreRefusedNamingTheVariableAndNothingOfThemIsKept() {
    Map<String, String> nullValue = new HashMap<>();
    nullValue.put("ENV", "prod");
    nullValue.put("REGION", null);
    Map<String, String> nullName = new HashMap<>();
    nullName.put(null, "x");
    Reconciler.Builder b = Reconciler.builder().desiredState(State.of("r1", List.of())).provider(live).store(store)
        .variables(Map.of("TEAM", "core"));

    assertThatThrownBy(() -> b.variables(nullValue)).isInstanceOf(NullPointerException.class)
        .hasMessage("value of variable REGION in vars is null");
    assertThatThrownBy(() -> b.variables(nullName)).isInstanceOf(NullPointerException.class)
        .hasMessage("vars holds a variable whose name is null");
    assertThatThrownBy(() -> b.variables(null)).isInstanceOf(NullPointerException.class).hasMessage("vars");
    assertThatThrownBy(() -> GitSource.builder().variables(nullValue)).isInstanceOf(NullPointerException.class)
        .hasMessage("value of variable REGION in variables is null");
    assertThatThrownBy(() -> GitSource.builder().variables(nullName)).isInstanceOf(NullPointerException.class)
        .hasMessage("variables holds a variable whose name is null");
    try (Reconciler rec = b.build()) {
      assertThat(rec.plan().variables()).as("nothing of a refused map").containsExactly(Map.entry("TEAM", "core"));
    }
  }

  // ---- 7. closed, closed twice, two threads ----------------------------------------------------

  @Test
  void everyCallOfAClosedReconcilerIsRefusedNamingItAndClosingTwiceIsHarmless() {
    Reconciler rec = Reconciler.builder().owner("team-a").desiredState(State.of("r1", List.of())).provider(live)
        .store(store).build();
    rec.close();
    rec.close();

    Plan plan = new Plan("id", "r1", List.of(), new java.util.TreeMap<>(), new java.util.TreeMap<>(),
        new java.util.TreeMap<>(), new java.util.TreeMap<>(), new java.util.TreeSet<>());
    for (Runnable call : List.<Runnable>of(rec::sync, rec::plan, rec::history, () -> rec.apply(plan),
        () -> rec.destroy(Reconciler.DeletionPolicy.ORPHAN), () -> rec.sync("r1", new Cancellation()))) {
      assertThatThrownBy(call::run).isInstanceOf(IllegalStateException.class)
          .hasMessage("reconciler 'team-a' is closed");
    }
  }

  @Test
  void twoThreadsSyncingOneReconcilerRunOneSyncAtATime() throws Exception {
    State want = State.of("r1", List.of(res("a", "{'v':1}")));
    AtomicInteger inObserve = new AtomicInteger();
    AtomicInteger mostAtOnce = new AtomicInteger();
    CountDownLatch firstObserving = new CountDownLatch(1);
    CountDownLatch letGo = new CountDownLatch(1);
    Provider p = new DelegatingProvider(live) {
      @Override
      public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
        mostAtOnce.accumulateAndGet(inObserve.incrementAndGet(), Math::max);
        try {
          firstObserving.countDown();
          letGo.await();
          return super.observe(keys, ctx);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        } finally {
          inObserve.decrementAndGet();
        }
      }
    };
    try (Reconciler rec = reconciler(want, p)) {
      CompletableFuture<SyncResult> one = CompletableFuture.supplyAsync(rec::sync);
      firstObserving.await();
      Thread[] second = new Thread[1];
      CompletableFuture<SyncResult> two = new CompletableFuture<>();
      second[0] = new Thread(() -> two.complete(rec.sync()), "second-sync");
      second[0].start();
      while (second[0].getState() != Thread.State.WAITING) {
        Thread.onSpinWait();  // until it waits for the first sync
      }
      assertThat(inObserve).as("the second sync has not started observing").hasValue(1);
      letGo.countDown();

      assertThat(one.get().isSuccessful()).isTrue();
      assertThat(two.get().isSuccessful()).isTrue();
      assertThat(mostAtOnce).hasValue(1);
    }
    assertThat(live.applied).hasSize(1);
  }
}
