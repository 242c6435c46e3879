package dev.gitops.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Plan;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncResult;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TargetStateTest {

  @TempDir
  Path stateDir;

  static SyncResult synced(String revision, List<Change> changes) {
    Plan plan = new Plan("p", revision, changes, new TreeMap<>(), new TreeMap<>(), new TreeMap<>(), new TreeMap<>(),
        new TreeSet<>());
    return new SyncResult(revision, plan, SyncResult.Status.SUCCEEDED, new TreeMap<>(), Duration.ZERO, "");
  }

  @Test
  void orphansTheSyncSkipsAreKeptForAllToSeeUntilTheyAreGone() {
    TargetState state = new TargetState("t", "files", stateDir, Clock.systemUTC(), System::nanoTime, Duration.ofMinutes(5));
    ResourceKey orphan = ResourceKey.of("files", "file", "", "d/f7.txt");
    ResourceKey skipped = ResourceKey.of("files", "file", "", "unobservable.txt");
    Change asOrphan = Change.builder(orphan, Action.SKIP).flags(EnumSet.of(Change.Flag.ORPHAN))
        .reason("orphan: carries our mark but is not in the inventory").build();
    Change otherSkip = Change.builder(skipped, Action.SKIP).reason("cannot be observed").build();

    state.onEvent(new SyncEvent.Finished("v1", synced("v1", List.of(asOrphan, otherSkip))));
    assertThat(state.orphans()).containsExactly(orphan);
    assertThat(state.last().result()).isEqualTo("succeeded");

    state.onEvent(new SyncEvent.Finished("v2", synced("v2", List.of())));  // deleted by hand
    assertThat(state.orphans()).isEmpty();
  }

  /**
   * A detect-only sync applies nothing: its status said {@code planned} with no error whether or
   * not changes were waiting, so {@code gitops status --config} showed an out-of-sync detect-only
   * target like one in sync, while its notifications and commit status said it was out of sync.
   */
  @Test
  void aDetectOnlySyncLeavingChangesPendingNamesThemInItsStatus() {
    TargetState state = new TargetState("t", "files", stateDir, Clock.systemUTC(), System::nanoTime, Duration.ofMinutes(5));
    ResourceKey added = ResourceKey.of("files", "file", "", "a.txt");
    ResourceKey same = ResourceKey.of("files", "file", "", "b.txt");
    List<Change> changes = List.of(Change.builder(added, Action.CREATE).reason("not live").build(),
        Change.builder(same, Action.NOOP).reason("in sync").build());
    Plan plan = new Plan("p", "v1", changes, new TreeMap<>(), new TreeMap<>(), new TreeMap<>(), new TreeMap<>(),
        new TreeSet<>());

    state.onEvent(new SyncEvent.Finished("v1", new SyncResult("v1", plan, SyncResult.Status.PLANNED, new TreeMap<>(),
        Duration.ZERO, "")));

    assertThat(state.last().result()).isEqualTo("planned");
    assertThat(state.last().lastError()).isEqualTo("1 change(s) pending, not applied (detect-only): create " + added);
    assertThat(TargetStatus.read(stateDir, "t")).hasValueSatisfying(s -> assertThat(s.lastError()).isEqualTo(
        state.last().lastError()));

    Plan inSync = new Plan("p", "v1", List.of(Change.builder(same, Action.NOOP).reason("in sync").build()), new TreeMap<>(),
        new TreeMap<>(), new TreeMap<>(), new TreeMap<>(), new TreeSet<>());
    state.onEvent(new SyncEvent.Finished("v1", new SyncResult("v1", inSync, SyncResult.Status.PLANNED, new TreeMap<>(),
        Duration.ZERO, "")));
    assertThat(state.last().lastError()).as("in sync: nothing pending").isNull();
  }

  @Test
  void aRestartedTargetShowsItsRecordedStatusCarriedOverUntilASyncOfItsOwnEnds() throws Exception {
    TargetStatus recorded = new TargetStatus("t", "files", "main@sha1:1", "failed", Instant.parse("2026-12-01T10:00:00Z"),
        Instant.parse("2026-11-30T10:00:00Z"), List.of("files:file::a"), false, "1 of 1 changes failed: a");
    recorded.write(stateDir);

    TargetState state = new TargetState("t", "files", stateDir, Clock.systemUTC(), System::nanoTime, Duration.ofMinutes(5));
    assertThat(state.last()).isEqualTo(recorded.asCarriedOver());
    assertThat(state.notReady()).as("an error before the restart is not one of this run's syncs")
        .hasValue("target t has not finished a successful sync yet");

    // this run's first sync ends before reading the source: the revision recorded before stays
    state.onEvent(new SyncEvent.Aborted("", new IllegalStateException("the source is unreachable")));
    assertThat(state.last().carriedOver()).isFalse();
    assertThat(state.last().revision()).isEqualTo("main@sha1:1");
    assertThat(state.last().lastSuccess()).isEqualTo(recorded.lastSuccess());
    assertThat(state.notReady()).hasValue("target t has not finished a successful sync yet; its last sync: error:"
        + " the source is unreachable");
  }

  @Test
  void aSyncEndingAfterTheTargetStoppedWritesNoStatus() {
    TargetState state = new TargetState("t", "files", stateDir, Clock.systemUTC(), System::nanoTime, Duration.ofMinutes(5));
    state.onEvent(new SyncEvent.Finished("v1", synced("v1", List.of())));
    state.stopped();  // stopped while a sync of v2 was still running past the grace period

    state.onEvent(new SyncEvent.Finished("v2", synced("v2", List.of())));

    assertThat(state.last().revision()).isEqualTo("v1");
    assertThat(TargetStatus.read(stateDir, "t")).hasValueSatisfying(s -> assertThat(s.revision()).isEqualTo("v1"));
  }

  @Test
  void aSyncEndingWhileItsTargetStopsWritesNothingOnceTheStopReturns() throws Exception {
    // the sync's record is held between its look at "stopped" and its write: in the clock it reads for the status
    java.util.concurrent.CountDownLatch inside = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicBoolean hold = new java.util.concurrent.atomic.AtomicBoolean();
    Clock holding = new Clock() {
      @Override
      public Instant instant() {
        if (hold.compareAndSet(true, false)) {
          inside.countDown();
          try {
            release.await(10, java.util.concurrent.TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        return Instant.now();
      }

      @Override
      public java.time.ZoneId getZone() {
        return java.time.ZoneOffset.UTC;
      }

      @Override
      public Clock withZone(java.time.ZoneId zone) {
        return this;
      }
    };
    TargetState state = new TargetState("t", "files", stateDir, holding, System::nanoTime, Duration.ofMinutes(5));
    state.onEvent(new SyncEvent.Finished("v1", synced("v1", List.of())));
    hold.set(true);
    Thread sync = new Thread(() -> state.onEvent(new SyncEvent.Finished("v2", synced("v2", List.of()))));
    sync.start();
    assertThat(inside.await(10, java.util.concurrent.TimeUnit.SECONDS)).as("the sync is recording").isTrue();

    // the target stops (a reload removed it) while that sync records; what is on disk when the stop returns stays
    java.util.concurrent.atomic.AtomicReference<java.util.Optional<TargetStatus>> whenStopped =
        new java.util.concurrent.atomic.AtomicReference<>();
    Thread stopper = new Thread(() -> {
      state.stopped();
      whenStopped.set(TargetStatus.read(stateDir, "t"));
    });
    stopper.start();
    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (stopper.getState() != Thread.State.TERMINATED && stopper.getState() != Thread.State.BLOCKED
        && stopper.getState() != Thread.State.WAITING && System.nanoTime() < end) {
      Thread.onSpinWait();  // the stop either returned or waits for the record under way
    }
    release.countDown();
    sync.join(10_000);
    stopper.join(10_000);

    assertThat(sync.isAlive() || stopper.isAlive()).isFalse();
    assertThat(TargetStatus.read(stateDir, "t")).as("nothing written after the stop returned")
        .isEqualTo(whenStopped.get());
    state.onEvent(new SyncEvent.Finished("v3", synced("v3", List.of())));
    assertThat(TargetStatus.read(stateDir, "t")).isEqualTo(whenStopped.get());
  }

  @Test
  void stuckIsMeasuredOnTheTickerSoAWallClockStepNeitherMakesNorHidesIt() {
    AgentTest.MutableClock clock = new AgentTest.MutableClock();
    TargetState state = new TargetState("t", "files", stateDir, clock, clock::nanos, Duration.ofMinutes(5));
    state.onEvent(new SyncEvent.Finished("v1", synced("v1", List.of())));
    assertThat(state.notReady()).isEmpty();

    clock.stepWallClock(Duration.ofHours(1));  // NTP steps the wall clock forward: no time passed
    assertThat(state.notReady()).as("a forward step of the wall clock").isEmpty();

    clock.stepWallClock(Duration.ofHours(-2));  // and back, while six minutes pass without a finished sync
    clock.advance(Duration.ofMinutes(6));
    assertThat(state.notReady()).as("a backward step of the wall clock")
        .contains("target t is stuck: no sync finished for 360 s (stuck after 300 s)");

    state.onEvent(new SyncEvent.Finished("v2", synced("v2", List.of())));
    assertThat(state.notReady()).isEmpty();
    assertThat(TargetStatus.read(stateDir, "t")).as("status files keep the wall clock's time")
        .hasValueSatisfying(s -> assertThat(s.finished()).isEqualTo(clock.instant()));
  }

  @Test
  void aSuccessRecordedByAClockThatWasAheadDoesNotMakeARestartedTargetReady() throws Exception {
    // the clock was an hour ahead when the last success was recorded, then stepped back (NTP)
    Instant ahead = Instant.now().plus(Duration.ofHours(1));
    new TargetStatus("t", "files", "v0", "succeeded", ahead, ahead, List.of(), false, null).write(stateDir);
    TargetState state = new TargetState("t", "files", stateDir, Clock.systemUTC(), System::nanoTime, Duration.ofMinutes(5));

    state.onEvent(new SyncEvent.Aborted("v1", new IllegalStateException("the source is unreadable")));

    assertThat(state.notReady()).contains("target t has not finished a successful sync yet; its last sync: error:"
        + " the source is unreadable");
    assertThat(TargetStatus.read(stateDir, "t")).hasValueSatisfying(s -> {
      assertThat(s.result()).isEqualTo("error");
      assertThat(s.lastSuccess()).as("the recorded success is kept").isEqualTo(ahead);
    });
  }

  @Test
  void aRestartedTargetWhoseSourceIsUnreachableKeepsTheRevisionItRecorded() throws Exception {
    Instant before = Instant.parse("2026-11-30T10:00:00Z");
    new TargetStatus("t", "files", "main@sha1:3f2a", "succeeded", before, before, List.of(), false, null)
        .write(stateDir);
    TargetState state = new TargetState("t", "files", stateDir, Clock.systemUTC(), System::nanoTime, Duration.ofMinutes(5));

    state.onEvent(new SyncEvent.Aborted("", new IllegalStateException("git: connection refused")));

    assertThat(TargetStatus.read(stateDir, "t")).hasValueSatisfying(s -> {
      assertThat(s.result()).isEqualTo("error");
      assertThat(s.revision()).as("what is live is still known").isEqualTo("main@sha1:3f2a");
      assertThat(s.lastSuccess()).isEqualTo(before);
      assertThat(s.lastError()).isEqualTo("git: connection refused");
    });
  }

  @Test
  void anUnreadableStatusFileIsNamedWithWhereAndWhatIsWrong() throws Exception {
    Path f = TargetStatus.file(stateDir, "t");
    java.nio.file.Files.createDirectories(f.getParent());
    java.nio.file.Files.writeString(f, "{\"target\": \"t\",\n \"result\": \"succ");  // cut short
    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> TargetStatus.read(stateDir, "t")))
        .hasMessageStartingWith("java.io.IOException: cannot read the status file " + f + ": line 2, column ")
        .hasMessageNotContaining("\n");
    java.nio.file.Files.writeString(f, "");
    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> TargetStatus.read(stateDir, "t")))
        .hasMessageEndingWith("cannot read the status file " + f + ": not a JSON object (the file is empty)");
    java.nio.file.Files.writeString(f, "{\"target\": \"t\", \"result\": \"failed\", \"finished\": \"yesterday\"}");
    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> TargetStatus.read(stateDir, "t")))
        .hasMessageEndingWith("cannot read the status file " + f
            + ": finished: want a time such as 2026-11-30T10:00:00Z, got \"yesterday\"");
  }

  @Test
  void aSyncSkippingWhatGitDeclaresIsRecordedOutOfSyncNotSucceededWithTheWayForward() {
    TargetState state = new TargetState("web-renamed", "files", stateDir, Clock.systemUTC(), System::nanoTime,
        Duration.ofMinutes(5));
    ResourceKey key = ResourceKey.of("files", "file", "", "index.html");
    Change otherOwners = Change.builder(key, Action.SKIP).flags(EnumSet.of(Change.Flag.CONFLICT))
        .desiredDocument(com.fasterxml.jackson.databind.node.TextNode.valueOf("v2"))
        .live(com.fasterxml.jackson.databind.node.TextNode.valueOf("hello"))
        .reason("live object carries the mark of web for files:file:index.html, not ours: left alone (adopting from"
            + " other owners is not allowed)").build();

    state.onEvent(new SyncEvent.Finished("v2", synced("v2", List.of(otherOwners))));

    assertThat(state.last().result()).isEqualTo("out_of_sync");
    assertThat(state.last().lastError()).startsWith("1 resource(s) in Git not applied")
        .contains("index.html (live object carries the mark of web for").contains("set 'owner: web' on target web-renamed")
        .contains("no option to take over objects another owner marked");
    assertThat(state.lastSuccess()).as("not a success").isNull();
    assertThat(TargetStatus.read(stateDir, "web-renamed")).hasValueSatisfying(s -> {
      assertThat(s.result()).isEqualTo("out_of_sync");
      assertThat(s.lastSuccess()).isNull();
    });
    assertThat(state.notReady()).as("the agent did all it may: ready, the result says the rest").isEmpty();

    state.onEvent(new SyncEvent.Finished("v3", synced("v3", List.of())));  // owner: web set, say
    assertThat(state.last().result()).isEqualTo("succeeded");
    assertThat(state.last().lastError()).isNull();
    assertThat(state.lastSuccess()).isNotNull();
  }

  @Test
  void theSameSkipAtEverySyncIsOneWarnUntilWhatIsSkippedChangesOrTheTargetWasInSync() {
    TargetState state = new TargetState("web-renamed", "files", stateDir, Clock.systemUTC(), System::nanoTime,
        Duration.ofMinutes(5));
    Change index = skippedAsOthers("index.html");
    Change about = skippedAsOthers("about.html");
    // the agent's tests log through slf4j-simple, which writes to the System.err of the moment (as AgentTest reads it)
    java.io.PrintStream err = System.err;
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
    try {
      state.onEvent(new SyncEvent.Finished("v2", synced("v2", List.of(index))));
      state.onEvent(new SyncEvent.Finished("v3", synced("v3", List.of(index))));  // nobody acted: the same skip
      state.onEvent(new SyncEvent.Finished("v4", synced("v4", List.of(index, about))));  // one more skipped
      state.onEvent(new SyncEvent.Finished("v5", synced("v5", List.of())));  // owner: web set, say
      state.onEvent(new SyncEvent.Finished("v6", synced("v6", List.of(index))));  // and back again
    } finally {
      System.setErr(err);
    }
    List<String> warned = captured.toString(java.nio.charset.StandardCharsets.UTF_8).lines()
        .filter(l -> l.contains("out of sync")).toList();
    assertThat(warned).hasSize(3);
    assertThat(warned.get(0)).contains("WARN").contains("target web-renamed at v2: out of sync: 1 resource(s)");
    assertThat(warned.get(1)).contains("WARN").contains("target web-renamed at v4: out of sync: 2 resource(s)");
    assertThat(warned.get(2)).contains("WARN").contains("target web-renamed at v6: out of sync: 1 resource(s)");
    assertThat(state.last().result()).as("the status says it at every sync").isEqualTo("out_of_sync");
    assertThat(state.last().lastError()).startsWith("1 resource(s) in Git not applied");
  }

  private static Change skippedAsOthers(String file) {
    return Change.builder(ResourceKey.of("files", "file", "", file), Action.SKIP).flags(EnumSet.of(Change.Flag.CONFLICT))
        .desiredDocument(com.fasterxml.jackson.databind.node.TextNode.valueOf("v2"))
        .live(com.fasterxml.jackson.databind.node.TextNode.valueOf("hello"))
        .reason("live object carries the mark of web for files:file:" + file + ", not ours: left alone").build();
  }

  @Test
  void aSyncTheAgentCancelledReachesMetricsAsCancelledNotFailed() {
    TargetState state = new TargetState("t", "files", stateDir, Clock.systemUTC(), System::nanoTime, Duration.ofMinutes(5));
    io.micrometer.core.instrument.simple.SimpleMeterRegistry registry =
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    dev.gitops.micrometer.SyncMetrics metrics = dev.gitops.micrometer.SyncMetrics.builder(registry).target("t").build();
    ResourceKey key = ResourceKey.of("files", "file", "", "a.txt");
    Plan plan = new Plan("p", "v1", List.of(Change.builder(key, Action.CREATE).reason("not present").build()),
        new TreeMap<>(), new TreeMap<>(), new TreeMap<>(), new TreeMap<>(), new TreeSet<>());
    TreeMap<ResourceKey, dev.gitops.api.Outcome> outcomes = new TreeMap<>();
    outcomes.put(key, dev.gitops.api.Outcome.unknown("cancelled during the provider call: the agent is shutting down"));
    SyncEvent failed = new SyncEvent.Finished("v1",
        new SyncResult("v1", plan, SyncResult.Status.FAILED, outcomes, Duration.ZERO, ""));

    state.cancelling("the agent is shutting down");
    state.cancelledAs(metrics).onEvent(failed);
    state.onEvent(failed);

    assertThat(registry.get("gitops.syncs").tags("result", "cancelled").counter().count()).isEqualTo(1);
    assertThat(registry.get("gitops.syncs").tags("result", "failed").counter().count()).isZero();
    assertThat(state.last().result()).isEqualTo("cancelled");
    assertThat(state.last().lastError()).isEqualTo("cancelled (the agent is shutting down): 1 of 1 changes did not"
        + " finish: files:file::a.txt: UNKNOWN cancelled during the provider call: the agent is shutting down");
  }
}
