package dev.gitops.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.api.Cancellation;
import dev.gitops.api.PlanRefusedException;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SourceException;
import dev.gitops.api.State;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.spi.Source;
import dev.gitops.core.Reconciler;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.store.InMemoryStateStore;
import dev.gitops.testkit.InMemoryProvider;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MockClock;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.simple.SimpleConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every meter of SyncMetrics, driven by real syncs of a Reconciler over an in-memory live system. */
class SyncMetricsTest {

  static final ObjectMapper JSON = new ObjectMapper();

  final MockClock clock = new MockClock();
  final SimpleMeterRegistry registry = new SimpleMeterRegistry(SimpleConfig.DEFAULT, clock);
  final InMemoryProvider live = InMemoryProvider.builder().id("memory").build();
  final AtomicReference<State> desired = new AtomicReference<>();
  final AtomicReference<RuntimeException> sourceFailure = new AtomicReference<>();
  /** Run by the source as it reads, before it answers or throws: moves the clock, cancels. */
  final AtomicReference<Runnable> duringRead = new AtomicReference<>(() -> { });
  final SyncMetrics metrics = SyncMetrics.builder(registry).target("web").provider("memory").build();

  Reconciler reconciler(SyncOptions options) {
    return reconciler(options, new InMemoryStateStore());
  }

  Reconciler reconciler(SyncOptions options, InMemoryStateStore store) {
    Source source = request -> {
      duringRead.get().run();
      if (sourceFailure.get() != null) {
        throw sourceFailure.get();
      }
      return desired.get();
    };
    return Reconciler.builder().source(metrics.timed(source)).provider(live).store(store)
        .listener(metrics).options(options).build();
  }

  static Resource res(String name, int n) {
    return Resource.of(key(name), JSON.createObjectNode().put("n", n));
  }

  static ResourceKey key(String name) {
    return ResourceKey.of("memory", "thing", "", name);
  }

  void want(String revision, Resource... resources) {
    desired.set(State.of(revision, List.of(resources)));
  }

  double syncs(String result) {
    return registry.get("gitops.syncs").tags("target", "web", "provider", "memory", "result", result).counter().count();
  }

  double resources(String status) {
    return registry.get("gitops.resources").tags("target", "web", "status", status).gauge().value();
  }

  double applied(String action) {
    var c = registry.find("gitops.changes.applied").tags("target", "web", "provider", "memory", "action", action).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void aSuccessfulSyncCountsItsResultDurationChangesResourcesAndTime() {
    Reconciler r = reconciler(SyncOptions.defaults());
    want("r1", res("a", 1), res("b", 1), res("c", 1));
    clock.add(Duration.ofSeconds(1_700_000_000));
    r.sync();
    want("r2", res("a", 2), res("b", 1));
    r.sync();

    assertThat(syncs("succeeded")).isEqualTo(2);
    assertThat(syncs("failed")).isZero();
    assertThat(registry.get("gitops.sync.duration").tags("target", "web", "result", "succeeded").timer().count())
        .isEqualTo(2);
    assertThat(applied("create")).isEqualTo(3);
    assertThat(applied("update")).isEqualTo(1);
    assertThat(applied("delete")).isEqualTo(1);
    assertThat(resources("in_sync")).isEqualTo(2);
    assertThat(resources("failed") + resources("drifted") + resources("unknown") + resources("out_of_sync")).isZero();
    assertThat(registry.get("gitops.sync.last.success").tags("target", "web").timeGauge().value(TimeUnit.SECONDS))
        .isCloseTo(1_700_000_000, org.assertj.core.data.Offset.offset(1.0));
    assertThat(registry.get("gitops.source.fetch.duration").tags("target", "web").timer().count()).isEqualTo(2);
  }

  @Test
  void aSyncSkippingWhatGitDeclaresIsCountedOutOfSyncAndIsNoSuccess() {
    InMemoryProvider marking = InMemoryProvider.builder().id("memory").marks(true).build();
    // the object was made by another owner (a target's earlier name): every sync skips it
    marking.put(key("a"), JSON.createObjectNode().put("n", 1), new dev.gitops.api.OwnerMark("web-old", key("a")));
    want("r1", res("a", 2), res("b", 1));
    clock.add(Duration.ofSeconds(1_700_000_000));
    Reconciler r = Reconciler.builder().source(request -> desired.get()).provider(marking)
        .store(new InMemoryStateStore()).listener(metrics).build();

    var result = r.sync();

    assertThat(result.status()).as("the engine's status").isEqualTo(dev.gitops.api.SyncResult.Status.SUCCEEDED);
    assertThat(SyncMetrics.Result.of(result)).isEqualTo(SyncMetrics.Result.OUT_OF_SYNC);
    assertThat(SyncMetrics.notApplied(result.plan())).extracting(c -> c.key()).containsExactly(key("a"));
    assertThat(syncs("out_of_sync")).isEqualTo(1);
    assertThat(syncs("succeeded")).isZero();
    assertThat(resources("out_of_sync")).isEqualTo(1);
    assertThat(registry.get("gitops.sync.last.success").tags("target", "web").timeGauge().value(TimeUnit.SECONDS))
        .as("no success").isZero();
  }

  @Test
  void aResourceRemovedFromGitThatIsAlreadyGoneIsNoLongerCounted() {
    Reconciler r = reconciler(SyncOptions.defaults());
    want("r1", res("a", 1), res("b", 1), res("c", 1));
    r.sync();
    live.remove(key("c"));  // gone already (by hand, or by a sync killed before it recorded the delete)
    want("r2", res("a", 1), res("b", 1));
    r.sync();

    assertThat(resources("in_sync")).as("c is dropped from the inventory, not in sync").isEqualTo(2);
    assertThat(resources("failed") + resources("drifted") + resources("unknown") + resources("out_of_sync")).isZero();
  }

  @Test
  void driftIsCountedPerResourceAndDetectOnlyLeavesItDrifted() {
    InMemoryStateStore store = new InMemoryStateStore();
    want("r1", res("a", 1), res("b", 1));
    reconciler(SyncOptions.defaults(), store).sync();
    live.put(key("a"), JSON.createObjectNode().put("n", 9));

    reconciler(SyncOptions.builder().detectOnly(true).build(), store).sync();

    assertThat(registry.get("gitops.drift.detected").tags("target", "web").counter().count()).isEqualTo(1);
    assertThat(resources("drifted")).isEqualTo(1);
    assertThat(resources("in_sync")).isEqualTo(1);
    assertThat(syncs("planned")).isEqualTo(1);
  }

  @Test
  void failedAndUnobservableResourcesAreCountedAsSuch() {
    want("r1", res("a", 1), res("b", 1));
    Reconciler r = reconciler(SyncOptions.defaults());
    r.sync();
    live.makeUnobservable(key("b"));
    want("r2", res("a", 2), res("b", 2));
    r.sync();

    assertThat(syncs("incomplete")).isEqualTo(1);
    assertThat(resources("unknown")).isEqualTo(1);
    assertThat(resources("in_sync")).isEqualTo(1);
  }

  @Test
  void aGuardRefusalIsCountedWithItsGuardAndAsARefusedSync() {
    Reconciler r = reconciler(SyncOptions.defaults());
    want("r1", res("a", 1), res("b", 1));
    r.sync();
    want("r2");
    assertThat(catchThrowable(r::sync)).isInstanceOf(PlanRefusedException.class);

    assertThat(syncs("refused")).isEqualTo(1);
    List<String> guards = new ArrayList<>();
    registry.find("gitops.guard.refusals").tags("target", "web").counters()
        .forEach(c -> guards.add(c.getId().getTag("guard") + "=" + c.count()));
    assertThat(guards).hasSize(1).allMatch(g -> g.endsWith("=1.0"));
    assertThat(registry.find("gitops.guard.refusals").counter().getId().getDescription()).as("its HELP line")
        .isNotBlank();
  }

  @Test
  void anUnreadableSourceIsAnErrorAndItsFetchIsStillTimed() {
    Reconciler r = reconciler(SyncOptions.defaults());
    sourceFailure.set(new SourceException("remote unreachable"));
    catchThrowable(r::sync);
    assertThat(syncs("error")).isEqualTo(1);
    assertThat(registry.get("gitops.source.fetch.duration").tags("target", "web").timer().count()).isEqualTo(1);
  }

  Timer duration(String result) {
    return registry.get("gitops.sync.duration").tags("target", "web", "provider", "memory", "result", result).timer();
  }

  @Test
  void refusedCancelledAndFailedSyncsAreTimedFromTheirReadToTheirEnd() {
    Reconciler r = reconciler(SyncOptions.defaults());
    want("r1", res("a", 1), res("b", 1));
    r.sync();
    assertThat(duration("succeeded").count()).isEqualTo(1);

    duringRead.set(() -> clock.add(Duration.ofSeconds(7)));
    want("r2");
    r.plan();  // reads, plans, and ends with no event (its guard refuses at the sync)
    clock.add(Duration.ofHours(1));  // idle between the plan and the sync: none of the sync's time
    duringRead.set(() -> clock.add(Duration.ofSeconds(2)));
    assertThat(catchThrowable(r::sync)).isInstanceOf(PlanRefusedException.class);
    assertThat(duration("refused").count()).isEqualTo(1);
    assertThat(duration("refused").totalTime(TimeUnit.SECONDS)).isEqualTo(2);

    sourceFailure.set(new SourceException("remote unreachable"));
    duringRead.set(() -> clock.add(Duration.ofSeconds(3)));
    catchThrowable(r::sync);
    assertThat(duration("error").count()).isEqualTo(1);
    assertThat(duration("error").totalTime(TimeUnit.SECONDS)).isEqualTo(3);

    sourceFailure.set(null);
    want("r3", res("a", 1), res("b", 2));
    Cancellation stop = new Cancellation();
    duringRead.set(() -> {
      clock.add(Duration.ofSeconds(5));
      stop.cancel("the agent stops");
    });
    assertThat(catchThrowable(() -> r.sync(null, stop))).isInstanceOf(Cancellation.CancelledException.class);
    assertThat(duration("cancelled").count()).isEqualTo(1);
    assertThat(duration("cancelled").totalTime(TimeUnit.SECONDS)).isEqualTo(5);

    assertThat(List.of("refused", "error", "cancelled")).allSatisfy(result -> assertThat(duration(result).count())
        .as("every %s sync counted has its duration", result).isEqualTo((long) syncs(result)));
  }

  @Test
  void aRefusalNamingNoGuardIsCountedUnderAnUnnamedGuardAndNothingThrows() {
    // a guard of someone's own (a custom ExecutionHooks, say) may name none
    assertThatCode(() -> metrics.onEvent(new SyncEvent.Aborted("r1", new PlanRefusedException(null, null,
        "refused")))).doesNotThrowAnyException();
    assertThat(syncs("refused")).isEqualTo(1);
    assertThat(registry.get("gitops.guard.refusals").tags("target", "web", "guard", "unnamed").counter().count())
        .isEqualTo(1);
    assertThat(duration("refused").count()).as("nothing was heard of that sync before its end: no duration to give")
        .isZero();
  }

  @Test
  void anUnchangedCommitIsAFetchSkip() {
    Reconciler r = reconciler(SyncOptions.defaults());
    want("r1", res("a", 1));
    r.sync();
    desired.set(desired.get().asUnchanged());
    r.sync();
    assertThat(registry.get("gitops.source.fetch.skips").tags("target", "web").counter().count()).isEqualTo(1);
  }

  @Test
  void closingRemovesEveryMeterOfTheTargetAndNoOther() {
    SyncMetrics other = SyncMetrics.builder(registry).target("api").provider("memory").build();
    Reconciler r = reconciler(SyncOptions.defaults());
    want("r1", res("a", 1));
    r.sync();
    metrics.close();
    assertThat(registry.getMeters()).isNotEmpty()
        .allMatch(m -> "api".equals(m.getId().getTag("target")), "only the other target's meters are left");
    other.close();
    assertThat(registry.getMeters()).isEmpty();
  }

  @Test
  void aSecondSyncMetricsForATargetIsRefusedUntilTheFirstIsClosedThenItHasMetersOfItsOwn() {
    Reconciler r = reconciler(SyncOptions.defaults());
    want("r1", res("a", 1));
    r.sync();
    // a second one would share the first's meters (its gauges never read), and closing either would remove both
    for (String provider : List.of("memory", "files")) {
      assertThatThrownBy(() -> SyncMetrics.builder(registry).target("web").provider(provider).build()).as(provider)
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("target 'web'")
          .hasMessageContaining("provider memory").hasMessageContaining("close the first");
    }
    // the refused ones took nothing from the first, which goes on recording
    want("r2", res("a", 1), res("b", 1));
    r.sync();
    assertThat(syncs("succeeded")).isEqualTo(2);
    assertThat(resources("in_sync")).isEqualTo(2);
    // another target, and the same target on another registry, are others
    SyncMetrics.builder(registry).target("api").provider("memory").build().close();
    SyncMetrics.builder(new SimpleMeterRegistry()).target("web").provider("memory").build().close();

    metrics.close();  // as the agent stops a target before it starts it again
    SyncMetrics again = SyncMetrics.builder(registry).target("web").provider("memory")
        .lastSuccess(Instant.ofEpochSecond(1_600_000_000)).build();
    assertThat(resources("in_sync")).as("its own gauges").isZero();
    assertThat(registry.get("gitops.sync.last.success").tags("target", "web").timeGauge().value(TimeUnit.SECONDS))
        .isEqualTo(1_600_000_000);
    metrics.close();  // closing the first again releases nothing of the second's
    assertThatThrownBy(() -> SyncMetrics.builder(registry).target("web").provider("memory").build())
        .isInstanceOf(IllegalStateException.class);
    again.close();
    assertThat(registry.getMeters()).isEmpty();
  }

  @Test
  void aBuildThatFailsPartWayLeavesNoMeterAndDoesNotHoldTheTarget() {
    SimpleMeterRegistry failing = new SimpleMeterRegistry();
    AtomicBoolean fail = new AtomicBoolean(true);
    failing.config().meterFilter(new MeterFilter() {
      @Override
      public Meter.Id map(Meter.Id id) {
        if (id.getName().equals("gitops.source.fetch.skips") && fail.getAndSet(false)) {
          throw new IllegalArgumentException("refused by a filter");
        }
        return id;
      }
    });
    assertThatThrownBy(() -> SyncMetrics.builder(failing).target("web").build()).hasMessage("refused by a filter");
    assertThat(failing.getMeters()).as("what it had registered is removed").isEmpty();
    SyncMetrics.builder(failing).target("web").build().close();
  }

  @Test
  void aSyncThatOutlivesCloseDoesNotPutTheTargetsMetersBack() {
    Reconciler r = reconciler(SyncOptions.defaults());
    metrics.close();  // the target was stopped while this sync had not reached a safe point
    want("r1", res("a", 1), res("b", 1));
    r.sync();
    want("r2");
    assertThat(catchThrowable(r::sync)).isInstanceOf(PlanRefusedException.class);

    assertThat(registry.getMeters()).as("no series of the removed target").isEmpty();
  }

  @Test
  void aTimedSourceForwardsWhatTheSourceItWrapsSaysOfARewrittenHistory() {
    dev.gitops.api.spi.Source saying = new dev.gitops.api.spi.Source() {
      @Override
      public dev.gitops.api.State read(ReadRequest request) {
        return dev.gitops.api.State.of("r1", java.util.List.of());
      }

      @Override
      public java.util.Optional<String> historyRewrittenReason() {
        return java.util.Optional.of("main moved back to an older commit");
      }
    };
    assertThat(metrics.timed(saying).historyRewrittenReason()).hasValue("main moved back to an older commit");
    assertThat(metrics.timed(dev.gitops.api.spi.Source.of(() -> dev.gitops.api.State.of("r1", java.util.List.of())))
        .historyRewrittenReason()).isEmpty();
  }

  /** A Git source's stand-in: it fingerprints its content, and counts its reads and its close. */
  static final class FingerprintedSource implements dev.gitops.core.source.Fingerprinted, AutoCloseable {
    final AtomicReference<State> content;
    final java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
    boolean closed;

    FingerprintedSource(AtomicReference<State> content) {
      this.content = content;
    }

    @Override
    public State read(ReadRequest request) {
      reads.incrementAndGet();
      return content.get();
    }

    @Override
    public java.util.Optional<Resolved> fingerprint(ReadRequest request) {
      return lastRead();
    }

    @Override
    public java.util.Optional<Resolved> lastRead() {
      return java.util.Optional.of(new Resolved(content.get().revision(), "content-of-" + content.get().revision()));
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  @Test
  void aTimedSourceKeepsWhatElseItsSourceIsSoANoChangeSyncTakesTheStoresRecordsAndCountsASkip(@TempDir Path dir) {
    FingerprintedSource git = new FingerprintedSource(desired);
    Source timed = metrics.timed(git);
    assertThat(timed).isInstanceOf(dev.gitops.core.source.Fingerprinted.class).isInstanceOf(AutoCloseable.class);
    want("r1", res("a", 1), res("b", 1));
    Reconciler r = Reconciler.builder().source(timed).provider(live)
        .store(dev.gitops.core.store.FileStateStore.open(dir.resolve("store"))).listener(metrics).build();
    r.sync();  // creates, and records the store's no-change marker for this content

    r.sync();  // the content the marker vouches for: taken from the store's records, nothing read
    r.sync();

    assertThat(git.reads.get()).as("reads of the source: the first sync's only").isEqualTo(1);
    assertThat(syncs("succeeded")).isEqualTo(3);
    assertThat(registry.get("gitops.source.fetch.skips").tags("target", "web").counter().count())
        .as("the no-change syncs skipped the decode").isEqualTo(2);
    assertThat(registry.get("gitops.source.fetch.duration").tags("target", "web").timer().count())
        .as("one fetch per sync").isEqualTo(3);
    r.close();
    assertThat(git.closed).as("the reconciler closed the source it was given").isTrue();
  }
}
