package dev.gitops.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Cancellation;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.Outcome;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.StoredState;
import dev.gitops.core.Reconciler;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.apply.ExecutionOptions;
import dev.gitops.core.apply.RetryPolicy;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.testkit.FaultInjectingProvider;
import dev.gitops.testkit.InMemoryProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Injected provider faults, cancellation, and the store lock across processes. */
class FaultsTest {

  @TempDir
  Path tmp;

  private final InMemoryProvider live = InMemoryProvider.create();
  private final ResourceKey a = live.key("thing", "ns", "a");
  private final ResourceKey b = live.key("thing", "ns", "b");
  private final ResourceKey c = live.key("thing", "ns", "c");

  private static JsonNode doc(String value) {
    return Documents.object(Map.of("value", Documents.nodes().textNode(value)));
  }

  private static SyncOptions options(RetryPolicy retry, Duration callTimeout) {
    return SyncOptions.builder().execution(ExecutionOptions.defaults().withParallelism(2).withRetry(retry)
        .withCallTimeout(callTimeout).withWaitForHealth(false)).build();
  }

  private Reconciler reconciler(Provider p, State desired, SyncOptions o, List<SyncEvent> events) {
    Reconciler.Builder builder = Reconciler.builder().desiredState(desired).provider(p)
        .store(FileStateStore.open(tmp.resolve("state"))).options(o);
    if (events != null) {
      builder.listener(events::add);
    }
    return builder.build();
  }

  private State state(String rev, Resource... resources) {
    return State.of(rev, List.of(resources));
  }

  private StoredState stored() {
    try (FileStateStore s = FileStateStore.open(tmp.resolve("state"));
         var lock = s.lock(Duration.ofSeconds(5))) {
      return s.load();
    }
  }

  @Test
  void transientErrorsAreRetriedWithBackoffAndSucceed() {
    FaultInjectingProvider faulty = FaultInjectingProvider.wrap(live).failTransiently(a, 2).build();
    List<SyncEvent> events = new CopyOnWriteArrayList<>();
    SyncResult r = reconciler(faulty, state("r1", Resource.of(a, doc("1"))),
        options(new RetryPolicy(4, Duration.ofMillis(5), Duration.ofMillis(40), 0), Duration.ofSeconds(10)), events).sync();

    assertThat(r.isSuccessful()).as("%s", r.failures()).isTrue();
    assertThat(faulty.applyCalls(a)).isEqualTo(3);
    List<SyncEvent.Retrying> retries = events.stream().filter(SyncEvent.Retrying.class::isInstance)
        .map(SyncEvent.Retrying.class::cast).toList();
    assertThat(retries).hasSize(2);
    assertThat(retries.get(0).delay()).isPositive();
    assertThat(retries.get(1).delay()).as("backoff grows").isGreaterThan(retries.get(0).delay());
    assertThat(retries.get(0).outcome().message()).contains("injected fault: transient failure 1 of 2");
    assertThat(live.get(a)).contains(doc("1"));
    assertThat(stored().inventory()).containsOnlyKeys(a);
  }

  @Test
  void aPermanentFailureBlocksOnlyItsDependentsAndIsReportedWithItsCause() {
    FaultInjectingProvider faulty = FaultInjectingProvider.wrap(live).failPermanently(a).build();
    Resource ra = Resource.of(a, doc("1"));
    Resource rb = Resource.builder(b).document(doc("2")).dependsOn(a).build();
    Resource rc = Resource.of(c, doc("3"));
    SyncResult r = reconciler(faulty, state("r1", ra, rb, rc), options(RetryPolicy.defaults(), Duration.ofSeconds(10)), null)
        .sync();

    assertThat(r.isSuccessful()).isFalse();
    assertThat(r.failures()).containsOnlyKeys(a, b);
    Outcome fa = r.failures().get(a);
    assertThat(fa.kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(fa.message()).contains("injected fault: permanent failure");
    assertThat(fa.cause()).isNotNull();
    assertThat(faulty.applyCalls(a)).as("a permanent failure is not retried").isEqualTo(1);
    assertThat(r.failures().get(b).message()).contains("blocked by " + a).contains("injected fault: permanent failure");
    assertThat(faulty.applyCalls(b)).as("the dependent is never sent").isZero();
    assertThat(r.outcomes().get(c).kind()).isEqualTo(Outcome.Kind.CREATED);
    assertThat(live.contains(c)).isTrue();
    StoredState s = stored();
    assertThat(s.inventory()).containsOnlyKeys(c);
    assertThat(s.pending()).as("the failed create stays pending (owned)").containsKey(a);
  }

  @Test
  void failedDeletesStayInTheInventoryAndAreRetriedByTheNextSync() {
    Resource ra = Resource.of(a, doc("1"));
    Resource rb = Resource.of(b, doc("2"));
    Resource rc = Resource.of(c, doc("3"));
    SyncOptions o = options(RetryPolicy.none(), Duration.ofSeconds(10));
    assertThat(reconciler(live, state("r1", ra, rb, rc), o, null).sync().isSuccessful()).isTrue();

    FaultInjectingProvider faulty = FaultInjectingProvider.wrap(live).failPermanently(c).build();
    SyncResult failed = reconciler(faulty, state("r2", ra, rb), o, null).sync();
    assertThat(failed.failures()).containsOnlyKeys(c);
    assertThat(live.contains(c)).isTrue();
    assertThat(stored().inventory()).as("a failed delete is not forgotten").containsOnlyKeys(a, b, c);

    SyncResult retried = reconciler(live, state("r2", ra, rb), o, null).sync();
    assertThat(retried.isSuccessful()).isTrue();
    assertThat(retried.outcomes().get(c).kind()).isEqualTo(Outcome.Kind.DELETED);
    assertThat(live.contains(c)).isFalse();
    assertThat(stored().inventory()).containsOnlyKeys(a, b);
  }

  @Test
  void aHangingProviderIsCutOffByTheCallTimeoutAndTheNextSyncConverges() {
    // hung for good (hang() would return at its deadline, racing the engine's cut-off asserted here)
    FaultInjectingProvider hung = FaultInjectingProvider.wrap(live).hangUntilCancelled(b).build();
    State desired = state("r1", Resource.of(a, doc("1")), Resource.of(b, doc("2")));
    SyncResult r = reconciler(hung, desired, options(RetryPolicy.none(), Duration.ofMillis(300)), null).sync();

    assertThat(r.failures()).containsOnlyKeys(b);
    assertThat(r.failures().get(b).kind()).isEqualTo(Outcome.Kind.UNKNOWN);
    assertThat(r.failures().get(b).message()).contains("timed out after 300 ms");
    assertThat(stored().pending()).as("an unknown outcome keeps the pending entry").containsKey(b);

    SyncResult next = reconciler(live, desired, options(RetryPolicy.none(), Duration.ofSeconds(10)), null).sync();
    assertThat(next.isSuccessful()).isTrue();
    assertThat(live.snapshot()).containsOnlyKeys(a, b);
    assertThat(stored().inventory()).containsOnlyKeys(a, b);
    assertThat(stored().pending()).isEmpty();
  }

  @Test
  void aSyncCancelledMidwayLeavesAConsistentStoreAndTheNextSyncConverges() {
    List<Resource> many = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      many.add(Resource.of(live.key("thing", "ns", "r" + i), doc("v" + i)));
    }
    State desired = State.of("r1", many);
    Cancellation cancellation = new Cancellation();
    AtomicInteger finished = new AtomicInteger();
    Reconciler r = Reconciler.builder().desiredState(desired).provider(live).store(FileStateStore.open(tmp.resolve("state")))
        .options(options(RetryPolicy.none(), Duration.ofSeconds(10)).toBuilder().execution(ExecutionOptions.defaults()
            .withParallelism(1).withRetry(RetryPolicy.none()).withWaitForHealth(false)).build())
        .listener(e -> {
          if (e instanceof SyncEvent.ChangeFinished && finished.incrementAndGet() == 7) {
            cancellation.cancel("test cancels after 7 changes");
          }
        })
        .build();
    SyncResult cancelled = r.sync(null, cancellation);

    assertThat(cancelled.isSuccessful()).isFalse();
    StoredState s = stored();
    assertThat(live.snapshot().size()).isBetween(7, 19);
    for (ResourceKey k : live.snapshot().keySet()) {
      assertThat(s.inventory().containsKey(k) || s.pending().containsKey(k)).as("%s is owned", k).isTrue();
    }
    SyncResult next = reconciler(live, desired, options(RetryPolicy.none(), Duration.ofSeconds(10)), null).sync();
    assertThat(next.isSuccessful()).isTrue();
    assertThat(live.snapshot()).hasSize(20);
    assertThat(stored().inventory()).hasSize(20);
    assertThat(stored().pending()).isEmpty();
  }

  @Test
  void twoProcessesSyncingOneTargetAreSerializedByTheStoreLock() throws Exception {
    Path target = tmp.resolve("target");
    Path v1 = tmp.resolve("v1");
    Path v2 = tmp.resolve("v2");
    CrashWorld.writeTree(v1, Map.of("a.txt", "one\n", "b.txt", "one\n"));
    CrashWorld.writeTree(v2, Map.of("a.txt", "two\n", "b.txt", "two\n"));
    Path log = tmp.resolve("log.txt");
    Files.createFile(log);
    var first = LockChild.start(tmp.resolve("logs"), v1, target, "rev-1", log, "first");
    var second = LockChild.start(tmp.resolve("logs"), v2, target, "rev-2", log, "second");
    assertThat(LockChild.finish(first)).isZero();
    assertThat(LockChild.finish(second)).isZero();

    List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    assertThat(lines).hasSize(4);
    // each sync's applies run inside its own lock: in/out pairs never interleave
    assertThat(lines.get(0).split(" ")[0]).isEqualTo(lines.get(1).split(" ")[0]);
    assertThat(lines.get(0)).endsWith(" in");
    assertThat(lines.get(1)).endsWith(" out");
    assertThat(lines.get(2)).endsWith(" in");
    assertThat(lines.get(3)).endsWith(" out");
    String winner = lines.get(3).startsWith("first") ? "one\n" : "two\n";
    assertThat(Files.readString(target.resolve("a.txt"))).isEqualTo(winner);
  }

  @Test
  void aLockLeftByAKilledProcessIsRecovered() throws Exception {
    Path target = tmp.resolve("target");
    Path v1 = tmp.resolve("v1");
    CrashWorld.writeTree(v1, Map.of("a.txt", "one\n", "b.txt", "one\n"));
    ChildJvm.Result r = ChildJvm.run(tmp.resolve("logs"), CrashChild.class, v1.toString(), target.toString(), "rev-1", "9");
    assertThat(r.killed()).as(r.out()).isTrue();
    Path lockFile = target.resolve(".gitops/lock");
    assertThat(Files.readString(lockFile)).as("the dead holder's pid is still written").startsWith("pid ");

    try (FileStateStore s = FileStateStore.open(target.resolve(".gitops"));
         var lock = s.lock(Duration.ofSeconds(2))) {
      assertThat(s.load().inventory().size() + s.load().pending().size()).isPositive();
    }
    var files = CrashWorld.files(target);
    SyncResult again = CrashWorld.reconciler(target, files, CrashWorld.desired(v1, files, "rev-1"),
        FileStateStore.Options.defaults()).sync();
    assertThat(again.isSuccessful()).isTrue();
    assertThat(Files.readString(target.resolve("b.txt"))).isEqualTo("one\n");
  }
}
