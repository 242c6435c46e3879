package dev.gitops.cluster.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.gitops.api.Cancellation;
import dev.gitops.api.Change;
import dev.gitops.api.Outcome;
import dev.gitops.api.Observation;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.DelegatingProvider;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.Source;
import dev.gitops.api.spi.StoreLock;
import dev.gitops.cluster.FencedException;
import dev.gitops.cluster.FencedProvider;
import dev.gitops.cluster.LogLines;
import dev.gitops.cluster.MovableClock;
import dev.gitops.cluster.Ownership;
import dev.gitops.core.Reconciler;
import dev.gitops.testkit.InMemoryProvider;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Fencing on a real etcd: a member that lost its target writes nothing to the store or the live system. */
// locks are held for a try block's scope without being referenced in it
@SuppressWarnings("try")
class EtcdFencingTest extends EtcdTestBase {

  static Resource resource(ResourceKey key, String value) {
    return Resource.of(key, JsonNodeFactory.instance.objectNode().put("value", value));
  }

  @Test
  void storeWritesOfAMemberThatLostItsLeaseAreRejectedAndChangeNothing() {
    EtcdCoordinator m1 = joined("m1");
    EtcdCoordinator m2 = joined("m2");
    ResourceKey a = ResourceKey.of("memory", "thing", "", "a");
    Ownership o1 = m1.tryAcquire("t").orElseThrow();
    EtcdStateStore s1 = EtcdStateStore.open(m1, o1);
    try (StoreLock l1 = s1.lock(Duration.ofSeconds(5))) {
      s1.writePending(resource(a, "m1"));
      expireLeaseOf(m1, o1);  // its lease ran out while it was paused
      Ownership o2 = m2.tryAcquire("t").orElseThrow();
      EtcdStateStore s2 = EtcdStateStore.open(m2, o2);
      try (StoreLock l2 = s2.lock(Duration.ofSeconds(5))) {
        s2.commit(resource(a, "m2"), "r2");
        long serial = s2.load().serial();
        // m1 wakes: every write it attempts is fenced
        assertThatThrownBy(() -> s1.commit(resource(a, "m1"), "r1")).isInstanceOf(FencedException.class)
            .hasMessageContaining("m1").hasMessageContaining(Long.toString(o1.token()));
        assertThatThrownBy(() -> s1.forget(a)).isInstanceOf(FencedException.class);
        assertThatThrownBy(() -> s1.recordRevisions("r1", "r1")).isInstanceOf(FencedException.class);
        assertThat(s2.load().serial()).isEqualTo(serial);
        assertThat(s2.load().inventory().get(a).resource()).isEqualTo(resource(a, "m2"));
        assertThat(s2.load().inventory().get(a).revision()).isEqualTo("r2");
      }
    }
    assertThatThrownBy(() -> s1.lock(Duration.ofSeconds(1))).isInstanceOf(FencedException.class);
  }

  @Test
  void aFencedStoreRefusesEveryFurtherWriteWithoutAskingEtcdAndSaysSoOncePerSync() {
    EtcdCoordinator m1 = joined("m1");
    EtcdCoordinator m2 = joined("m2");
    Ownership o1 = m1.tryAcquire("t").orElseThrow();
    EtcdStateStore s1 = EtcdStateStore.open(m1, o1);
    try (LogLines log = LogLines.of(EtcdStateStore.class)) {
      try (StoreLock l1 = s1.lock(Duration.ofSeconds(5))) {
        m1.release(o1);  // taken over behind its back
        m2.tryAcquire("t").orElseThrow();
        for (int i = 0; i < 50; i++) {
          ResourceKey k = ResourceKey.of("memory", "thing", "", "k" + i);
          assertThatThrownBy(() -> s1.writePending(resource(k, "v"))).isInstanceOf(FencedException.class)
              .hasMessageContaining("is stale");
        }
      }
      assertThat(log.lines().stream().filter(l -> l.startsWith("WARN"))).as("one warning for the sync's 50 refusals")
          .hasSize(1);
    }
  }

  @Test
  void aMemberWhoseLeaseLapsedByItsOwnClockIsToldSoAndItsStoreWritesNothing() {
    MovableClock clock = new MovableClock();
    EtcdCoordinator m1 = EtcdCoordinator.builder(admin, "m1").prefix(prefix).ttl(Duration.ofSeconds(30)).clock(clock)
        .build();
    try {
      m1.join();
      Ownership o1 = m1.tryAcquire("t").orElseThrow();
      EtcdStateStore s1 = EtcdStateStore.open(m1, o1);
      ResourceKey a = ResourceKey.of("memory", "thing", "", "a");
      try (StoreLock l1 = s1.lock(Duration.ofSeconds(5))) {
        clock.advance(Duration.ofSeconds(31));  // etcd did not answer its renewals: nobody took the target
        assertThatThrownBy(() -> m1.checkFence(o1)).isInstanceOf(FencedException.class)
            .hasMessageContaining("membership of member m1 lapsed").hasMessageNotContaining("is stale");
        assertThatThrownBy(() -> s1.writePending(resource(a, "v"))).isInstanceOf(FencedException.class)
            .hasMessageContaining("lapsed");
      }
      assertThat(call(admin.getKVClient().get(io.etcd.jetcd.ByteSequence.from(prefix + "store/t/pending/",
          java.nio.charset.StandardCharsets.UTF_8), io.etcd.jetcd.options.GetOption.builder().isPrefix(true).build()),
          "read").getKvs()).isEmpty();
    } finally {
      m1.close();
    }
  }

  @Test
  void aFencedProviderAsksOnceAndWarnsOncePerSync() {
    EtcdCoordinator m1 = joined("m1");
    Ownership o1 = m1.tryAcquire("t").orElseThrow();
    java.util.concurrent.atomic.AtomicInteger checks = new java.util.concurrent.atomic.AtomicInteger();
    // m1, counting its fence checks (each a round trip to etcd)
    dev.gitops.cluster.Coordinator counting = (dev.gitops.cluster.Coordinator) java.lang.reflect.Proxy.newProxyInstance(
        getClass().getClassLoader(), new Class<?>[] {dev.gitops.cluster.Coordinator.class}, (p, m, args) -> {
          if (m.getName().equals("checkFence")) {
            checks.incrementAndGet();
          }
          try {
            return m.invoke(m1, args);
          } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
          }
        });
    Provider fenced = new FencedProvider(InMemoryProvider.create(), counting, o1);
    m1.release(o1);
    try (LogLines log = LogLines.of(FencedProvider.class)) {
      for (int sync = 0; sync < 2; sync++) {
        CallContext ctx = CallContext.of("t", "v" + sync, Duration.ofMinutes(1));  // one sync: one token
        for (int i = 0; i < 30; i++) {
          ResourceKey k = ResourceKey.of("memory", "thing", "", "k" + i);
          Outcome out = fenced.apply(Change.builder(k, dev.gitops.api.Action.CREATE).resource(resource(k, "v"))
              .reason("in Git").build(), ctx);
          assertThat(out.kind()).isEqualTo(Outcome.Kind.PERMANENT);
        }
      }
      assertThat(log.lines().stream().filter(l -> l.startsWith("WARN"))).as("one warning per sync").hasSize(2);
    }
    assertThat(checks.get()).as("round trips to etcd: a stale token stays stale").isEqualTo(1);
  }

  @Test
  void theFencedProviderSendsNothingOnceTheTokenIsStale() {
    EtcdCoordinator m1 = joined("m1");
    InMemoryProvider live = InMemoryProvider.create();
    Ownership o1 = m1.tryAcquire("t").orElseThrow();
    Provider fenced = new FencedProvider(live, m1, o1);
    ResourceKey a = live.key("thing", "", "a");
    Reconciler r = Reconciler.builder().source(Source.of(() -> State.of("v1", List.of(resource(a, "v1")))))
        .provider(fenced).inMemoryStore().owner("t").build();
    assertThat(r.sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    m1.release(o1);
    Reconciler r2 = Reconciler.builder().source(Source.of(() -> State.of("v2", List.of(resource(a, "v2")))))
        .provider(fenced).inMemoryStore().owner("t").build();
    long writes = live.writeCount();
    SyncResult refused = r2.sync();
    assertThat(refused.status()).isNotEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(live.writeCount()).isEqualTo(writes);
    assertThat(live.get(a).orElseThrow().get("value").asText()).isEqualTo("v1");
  }

  @Test
  void aStaleMembersClaimOfTheStoreIsFencedAndRecordsNoOwner() {
    EtcdCoordinator m1 = joined("m1");
    EtcdCoordinator m2 = joined("m2");
    Ownership o1 = m1.tryAcquire("t").orElseThrow();
    EtcdStateStore s1 = EtcdStateStore.open(m1, o1);
    try (StoreLock l1 = s1.lock(Duration.ofSeconds(5))) {
      expireLeaseOf(m1, o1);
      Ownership o2 = m2.tryAcquire("t").orElseThrow();
      assertThatThrownBy(() -> s1.claimOwner("team-a")).isInstanceOf(FencedException.class)
          .hasMessageContaining("m1").hasMessageContaining(Long.toString(o1.token()));
      EtcdStateStore s2 = EtcdStateStore.open(m2, o2);
      assertThat(s2.owner()).isEmpty();
      try (StoreLock l2 = s2.lock(Duration.ofSeconds(5))) {
        s2.claimOwner("team-b");
      }
      assertThat(s1.owner()).contains("team-b");
    }
  }

  /** A live system's view that holds the first observe until the test lets it go: a paused process. */
  static final class Pausing extends DelegatingProvider {
    final CountDownLatch paused = new CountDownLatch(1);
    final CountDownLatch wake = new CountDownLatch(1);

    Pausing(Provider delegate) {
      super(delegate);
    }

    @Override
    public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
      paused.countDown();
      try {
        assertThat(wake.await(30, TimeUnit.SECONDS)).isTrue();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return super.observe(keys, ctx);
    }
  }

  @Test
  void aMemberPausedPastItsLeaseWritesNothingWhenItWakes() throws Exception {
    EtcdCoordinator m1 = joined("m1");
    EtcdCoordinator m2 = joined("m2");
    InMemoryProvider live = InMemoryProvider.create();
    ResourceKey a = live.key("thing", "", "a");
    ResourceKey b = live.key("thing", "", "b");

    Ownership o1 = m1.tryAcquire("t").orElseThrow();
    Pausing pausing = new Pausing(live);
    EtcdStateStore s1 = EtcdStateStore.open(m1, o1);
    Reconciler r1 = Reconciler.builder()
        .source(Source.of(() -> State.of("old", List.of(resource(a, "old"), resource(b, "old")))))
        .provider(new FencedProvider(pausing, m1, o1)).store(s1).owner("t").build();
    CompletableFuture<SyncResult> asleep = CompletableFuture.supplyAsync(r1::sync);
    assertThat(pausing.paused.await(30, TimeUnit.SECONDS)).isTrue();

    // while m1 sleeps its lease expires and m2 takes the target over and syncs it
    expireLeaseOf(m1, o1);
    Ownership o2 = m2.tryAcquire("t").orElseThrow();
    EtcdStateStore s2 = EtcdStateStore.open(m2, o2);
    Reconciler r2 = Reconciler.builder()
        .source(Source.of(() -> State.of("new", List.of(resource(a, "new")))))
        .provider(new FencedProvider(live, m2, o2)).store(s2).owner("t").build();
    assertThat(r2.sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    long writes = live.writeCount();
    long serial = s2.load().serial();

    pausing.wake.countDown();
    try {
      SyncResult woke = asleep.get(60, TimeUnit.SECONDS);
      assertThat(woke.status()).isNotEqualTo(SyncResult.Status.SUCCEEDED);
    } catch (java.util.concurrent.ExecutionException e) {
      assertThat(e).hasRootCauseInstanceOf(FencedException.class);
    }
    assertThat(live.writeCount()).as("writes to the live system after m1 woke").isEqualTo(writes);
    assertThat(live.contains(b)).isFalse();
    assertThat(live.get(a).orElseThrow().get("value").asText()).isEqualTo("new");
    assertThat(s2.load().serial()).as("store writes after m1 woke").isEqualTo(serial);
    assertThat(s2.load().inventory()).containsOnlyKeys(a);
    r1.close();
    r2.close();
  }

  @Test
  void aBatchInFlightStopsAtItsNextChangeOnceTheMembersLeaseIsOverByItsOwnClock() throws Exception {
    MovableClock clock = new MovableClock();
    EtcdCoordinator m1 = EtcdCoordinator.builder(admin, "m1").prefix(prefix).ttl(Duration.ofSeconds(30)).clock(clock)
        .build();
    try {
      m1.join();
      Ownership o1 = m1.tryAcquire("t").orElseThrow();
      List<ResourceKey> written = new CopyOnWriteArrayList<>();
      // a provider that, like the files provider, looks at its context before each change of a batch
      Provider writer = new DelegatingProvider(InMemoryProvider.create()) {
        @Override
        public Map<ResourceKey, Outcome> applyAll(List<Change> changes, CallContext ctx) {
          Map<ResourceKey, Outcome> out = new LinkedHashMap<>();
          for (Change c : changes) {
            if (ctx.isDone()) {
              out.put(c.key(), Outcome.unknown(c.key() + ": not started: " + ctx.cancellation().reason()));
              continue;
            }
            written.add(c.key());
            out.put(c.key(), Outcome.created());
            if (written.size() == 3) {
              // the process is paused here past its lease (SIGSTOP): when it runs again, its clock says the
              // lease is over, before any renewal or round has told it so
              clock.advance(Duration.ofSeconds(31));
              long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
              while (!ctx.isDone() && System.nanoTime() < end) {
                Thread.onSpinWait();
              }
            }
          }
          return out;
        }
      };
      List<Change> batch = IntStream.range(0, 20).mapToObj(i -> Change.builder(
          ResourceKey.of("memory", "thing", "", "f" + i), dev.gitops.api.Action.CREATE).resource(resource(
              ResourceKey.of("memory", "thing", "", "f" + i), "v")).reason("in Git").build()).toList();
      Map<ResourceKey, Outcome> out = new FencedProvider(writer, m1, o1).applyAll(batch,
          CallContext.of("t", "v1", Duration.ofMinutes(1)));
      assertThat(written).as("changes written after the lease was over").hasSize(3);
      assertThat(out.values().stream().filter(x -> x.kind() == Outcome.Kind.UNKNOWN)).hasSize(17)
          .allMatch(x -> x.message().contains("m1's lease is no longer live"));
    } finally {
      m1.close();
    }
  }
}
