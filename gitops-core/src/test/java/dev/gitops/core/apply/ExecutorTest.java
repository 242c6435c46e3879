package dev.gitops.core.apply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Action;
import dev.gitops.api.Cancellation;
import dev.gitops.api.Change;
import dev.gitops.api.DependencyCycleException;
import dev.gitops.api.FieldPath;
import dev.gitops.api.Health;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.Outcome.Kind;
import dev.gitops.api.Plan;
import dev.gitops.api.ProviderException;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Provider;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class ExecutorTest {
  static final ExecutionOptions FAST = ExecutionOptions.defaults()
      .withRetry(RetryPolicy.defaults().withBackoff(Duration.ofMillis(1), Duration.ofMillis(5)))
      .withHealthPollInterval(Duration.ofMillis(5))
      .withHealthTimeout(Duration.ofSeconds(3))
      .withCallTimeout(Duration.ofSeconds(5));

  final FakeProvider provider = new FakeProvider("p");
  final RecordingHooks hooks = new RecordingHooks();

  Map<ResourceKey, Outcome> run(ExecutionOptions options, Plan plan, Provider... providers) {
    return run(options, plan, new Cancellation(), providers);
  }

  Map<ResourceKey, Outcome> run(ExecutionOptions options, Plan plan, Cancellation cancellation, Provider... providers) {
    Map<String, Provider> byId = new java.util.HashMap<>();
    for (Provider p : providers.length == 0 ? new Provider[] {provider} : providers) {
      byId.put(p.id(), p);
    }
    return new Executor(options).execute(plan, byId, hooks, cancellation, "owner-1");
  }

  static ResourceKey k(String name) {
    return Plans.key("p", name);
  }

  static Outcome transientFailure(Change c, CallContext ctx) {
    return Outcome.transientFailure("try again", null);
  }

  @Test
  void dependentsNeverStartBeforeTheirDependenciesFinish() {
    // a <- b, a <- c, {b, c} <- d; e independent
    Plan plan = Plans.of("p").create("a").create("b", "a").create("c", "a").create("d", "b", "c").create("e").build();

    Map<ResourceKey, Outcome> out = run(FAST, plan);

    assertThat(out.values()).extracting(Outcome::kind).containsOnly(Kind.CREATED);
    String[][] edges = {{"a", "b"}, {"a", "c"}, {"b", "d"}, {"c", "d"}};
    for (String[] e : edges) {
      // the dependency's health check happened before the dependent started
      assertThat(provider.indexOf("health:" + e[0] + ":HEALTHY"))
          .as("%s healthy before %s starts", e[0], e[1])
          .isLessThan(provider.indexOf("start:" + e[1]))
          .isGreaterThan(provider.indexOf("end:" + e[0]));
    }
  }

  @Test
  void readyChangesStartInPlanOrder() {
    Plan plan = Plans.of("p").create("zeta").create("alpha").create("mid").build();

    run(FAST.withParallelism(1), plan);

    assertThat(provider.log.stream().filter(s -> s.startsWith("start:")).toList())
        .containsExactly("start:zeta", "start:alpha", "start:mid");
    assertThat(hooks.before).containsExactly(k("zeta"), k("alpha"), k("mid"));
  }

  @Test
  void aPlanWithTwoChangesForOneKeyIsRefusedWhateverTheirActions() {
    for (Plan plan : List.of(Plans.of("p").add(Action.NOOP, "a").create("a").build(),
        Plans.of("p").create("a").add(Action.NOOP, "a").build(),
        Plans.of("p").add(Action.NOOP, "a").add(Action.SKIP, "a").build(),
        Plans.of("p").create("b").create("a").create("a").build())) {
      assertThatThrownBy(() -> run(FAST, plan)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("has two changes for").hasMessageContaining("a");
    }
    assertThat(provider.log).as("nothing was run").noneMatch(s -> s.startsWith("start:"));
  }

  @Test
  void outcomesCoverEveryChangeInPlanOrder() {
    Plan plan = Plans.of("p").add(Action.SKIP, "s").create("a", "n").add(Action.NOOP, "n").build();

    Map<ResourceKey, Outcome> out = run(FAST, plan);

    assertThat(out.keySet()).containsExactly(k("s"), k("a"), k("n"));
    assertThat(out.get(k("s"))).isEqualTo(Outcome.skipped("SKIP s"));
    assertThat(out.get(k("n")).kind()).isEqualTo(Kind.UNCHANGED);
    assertThat(out.get(k("a")).kind()).isEqualTo(Kind.CREATED);
    assertThat(hooks.after).extracting(Map.Entry::getKey).containsExactly(k("a"));
  }

  @Test
  void aPlanInKeyOrderHandsItsOutcomesOverSortedAndGatesItsQuietDependenciesAsAnyOther() {
    // the same changes, once in key order (looked up by binary search, handed over as the sorted
    // map a sync's result shares) and once not (a hash index, a map in plan order)
    Plan inKeyOrder = Plans.of("p").create("a", "s").create("b", "a").add(Action.NOOP, "n").add(Action.SKIP, "s")
        .create("t", "n").build();
    Plan notInKeyOrder = Plans.of("p").add(Action.SKIP, "s").create("t", "n").create("b", "a")
        .add(Action.NOOP, "n").create("a", "s").build();
    for (Plan plan : List.of(inKeyOrder, notInKeyOrder)) {
      provider.log.clear();
      Map<ResourceKey, Outcome> out = run(FAST, plan);

      assertThat(out.keySet()).as("in plan order").containsExactlyElementsOf(plan.changes().stream().map(Change::key).toList());
      assertThat(out).as("handed over sorted when the plan's keys ascend")
          .matches(m -> (m instanceof dev.gitops.api.internal.SortedArrayMap<?, ?>) == (plan == inKeyOrder));
      assertThat(out.get(k("s"))).isEqualTo(Outcome.skipped("SKIP s"));
      assertThat(out.get(k("a")).message()).isEqualTo("blocked by " + k("s") + ": skipped: SKIP s");
      assertThat(out.get(k("b")).message()).startsWith("blocked by " + k("a"));
      assertThat(out.get(k("n")).kind()).isEqualTo(Kind.UNCHANGED);
      // created by the first run, found there by the second
      assertThat(out.get(k("t")).kind()).isIn(Kind.CREATED, Kind.CONFIGURED);
      assertThat(out.get(k("absent"))).isNull();
      assertThat(out.containsKey(k("absent"))).isFalse();
      assertThat(provider.log.stream().filter(s -> s.startsWith("start:")).toList()).containsExactly("start:t");
    }
  }

  @Test
  void parallelismBoundIsNeverExceeded() {
    Plans plans = Plans.of("p");
    for (int i = 0; i < 12; i++) {
      plans.create("n" + i);
    }
    provider.waitForConcurrency(3);

    Map<ResourceKey, Outcome> out = run(FAST.withParallelism(3), plans.build());

    assertThat(out.values()).extracting(Outcome::kind).containsOnly(Kind.CREATED);
    assertThat(provider.maxRunning.get()).isEqualTo(3);
  }

  @Test
  void workerThreadsAreNamedDaemonsThatSayForWhomTheyCall() throws Exception {
    List<Thread> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<String> namesDuringCall = new java.util.concurrent.CopyOnWriteArrayList<>();
    provider.script(k("a"), (c, ctx) -> {
      seen.add(Thread.currentThread());
      namesDuringCall.add(Thread.currentThread().getName());
      return Outcome.created();
    });

    // a sync on an agent's target thread: the provider's log lines should name the target
    Thread caller = new Thread(() -> run(FAST, Plans.of("p").create("a").build()), "target web");
    caller.start();
    caller.join(10_000);

    assertThat(namesDuringCall).singleElement().satisfies(n -> {
      assertThat(n).startsWith("gitops-apply-");
      assertThat(n).endsWith(" for target web");
    });
    assertThat(seen).singleElement().satisfies(t -> {
      assertThat(t.isDaemon()).isTrue();
      // the pooled thread's own name is back once the call has ended
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
      while (t.getName().contains(" for ") && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      assertThat(t.getName()).startsWith("gitops-apply-");
    });
  }

  @Test
  void aRunThatEndsWithAnErrorAbandonsTheCallsStillInFlight() throws Exception {
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch bStarted = new java.util.concurrent.CountDownLatch(1);
    provider.script(k("b"), (c, ctx) -> {
      bStarted.countDown();
      long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
      while (release.getCount() > 0 && System.nanoTime() < end) {
        try {
          release.await(10, java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          // this provider ignores interrupts: it returns when released (an interrupt that returned
          // at once would race the abandonment this test looks for)
        }
      }
      return Outcome.created();
    });
    provider.script(k("a"), (c, ctx) -> {
      try {
        bStarted.await(10, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return Outcome.created();
    });
    ExecutionHooks failing = new RecordingHooks() {
      @Override
      public void event(SyncEvent event) {
        if (event instanceof SyncEvent.ChangeFinished f && f.change().key().equals(k("a"))) {
          throw new AssertionError("a hook failed");
        }
      }
    };
    Executor executor = new Executor(FAST.withParallelism(2));
    try {
      assertThatThrownBy(() -> executor.execute(Plans.of("p").create("a").create("b").build(), Map.of("p", provider),
          failing, new Cancellation(), "owner-1")).isInstanceOf(AssertionError.class).hasMessageContaining("a hook failed");

      // b's call is still running: a later run must not send a second one for it
      assertThat(executor.abandoned().mayStillLand(k("b"))).isTrue();
    } finally {
      release.countDown();
      executor.close();
    }
  }

  @Test
  void theLongestTimeoutsRunAndLongerOnesAreRefusedNamingTheOption() {
    ExecutionOptions longest = FAST.withCallTimeout(ExecutionOptions.MAX).withSyncTimeout(ExecutionOptions.MAX)
        .withHealthTimeout(ExecutionOptions.MAX);
    assertThat(run(longest, Plans.of("p").create("a").build()).get(k("a")).kind()).isEqualTo(Kind.CREATED);
    assertThat(provider.contexts).singleElement().satisfies(ctx -> assertThat(ctx.deadline())
        .isAfter(java.time.Instant.now().plus(Duration.ofDays(36_000))));

    assertThatThrownBy(() -> FAST.withCallTimeout(java.time.temporal.ChronoUnit.FOREVER.getDuration()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("callTimeout must be at most 36500 days");
    assertThatThrownBy(() -> FAST.withSyncTimeout(ExecutionOptions.MAX.plusSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("syncTimeout");
  }

  @Test
  void callContextCarriesOwnerRevisionAndDeadline() {
    run(FAST, Plans.of("p").create("a").build());

    assertThat(provider.contexts).singleElement().satisfies(ctx -> {
      assertThat(ctx.owner()).isEqualTo("owner-1");
      assertThat(ctx.revision()).isEqualTo("main@sha1:abc");
      assertThat(ctx.deadline()).isAfter(java.time.Instant.now());
    });
  }

  @Test
  void failureBlocksOnlyItsDependentsAndNamesTheCause() {
    provider.script(k("a"), (c, ctx) -> Outcome.permanentFailure("boom", null));
    Plan plan = Plans.of("p").create("a").create("b", "a").create("c", "b").create("x").create("y", "x").build();

    Map<ResourceKey, Outcome> out = run(FAST, plan);

    assertThat(out.get(k("a")).kind()).isEqualTo(Kind.PERMANENT);
    assertThat(out.get(k("b"))).satisfies(o -> {
      assertThat(o.kind()).isEqualTo(Kind.PERMANENT);
      assertThat(o.message()).isEqualTo("blocked by " + k("a") + ": boom");
    });
    assertThat(out.get(k("c")).message()).startsWith("blocked by " + k("b") + ": blocked by " + k("a"));
    assertThat(out.get(k("x")).kind()).isEqualTo(Kind.CREATED);
    assertThat(out.get(k("y")).kind()).isEqualTo(Kind.CREATED);
    assertThat(provider.attemptsOf(k("b"))).isZero();
    assertThat(provider.attemptsOf(k("c"))).isZero();
    assertThat(hooks.before).doesNotContain(k("b"), k("c"));
    assertThat(hooks.afterCount(k("b"))).isZero();
    assertThat(hooks.afterOf(k("a")).kind()).isEqualTo(Kind.PERMANENT);
  }

  @Test
  void providerExceptionIsPermanentWithCauseUnlessRetryable() {
    RuntimeException bug = new IllegalStateException("bug in provider");
    provider.script(k("a"), (c, ctx) -> {
      throw bug;
    });
    provider.script(k("b"), (c, ctx) -> {
      throw new ProviderException(c.key(), "throttled", true, null);
    });

    Map<ResourceKey, Outcome> out = run(FAST, Plans.of("p").create("a").create("b").build());

    assertThat(out.get(k("a")).kind()).isEqualTo(Kind.PERMANENT);
    assertThat(out.get(k("a")).cause()).isSameAs(bug);
    assertThat(provider.attemptsOf(k("a"))).isEqualTo(1);
    assertThat(out.get(k("b")).kind()).isEqualTo(Kind.CREATED);
    assertThat(provider.attemptsOf(k("b"))).isEqualTo(2);
  }

  @Test
  void transientFailuresAreRetriedUntilTheySucceed() {
    provider.script(k("a"), ExecutorTest::transientFailure, ExecutorTest::transientFailure);

    Map<ResourceKey, Outcome> out = run(FAST, Plans.of("p").create("a").build());

    assertThat(out.get(k("a")).kind()).isEqualTo(Kind.CREATED);
    assertThat(provider.attemptsOf(k("a"))).isEqualTo(3);
    assertThat(hooks.events(SyncEvent.Retrying.class)).extracting(SyncEvent.Retrying::attempt).containsExactly(1, 2);
    assertThat(hooks.events(SyncEvent.ChangeStarted.class)).extracting(SyncEvent.ChangeStarted::attempt)
        .containsExactly(1, 2, 3);
    assertThat(hooks.events(SyncEvent.ChangeFinished.class)).singleElement()
        .satisfies(f -> assertThat(f.attempt()).isEqualTo(3));
    assertThat(hooks.before).containsExactly(k("a"));
    assertThat(hooks.after).containsExactly(Map.entry(k("a"), Outcome.created()));
  }

  @Test
  void exhaustedRetriesFailAndBlockDependents() {
    provider.script(k("a"), ExecutorTest::transientFailure, ExecutorTest::transientFailure,
        ExecutorTest::transientFailure, ExecutorTest::transientFailure);
    ExecutionOptions options = FAST.withRetry(FAST.retry().withMaxAttempts(3));

    Map<ResourceKey, Outcome> out = run(options, Plans.of("p").create("a").create("b", "a").build());

    assertThat(out.get(k("a")).kind()).isEqualTo(Kind.TRANSIENT);
    assertThat(out.get(k("a")).message()).isEqualTo("gave up after 3 attempts: try again");
    assertThat(provider.attemptsOf(k("a"))).isEqualTo(3);
    assertThat(hooks.events(SyncEvent.Retrying.class)).hasSize(2);
    assertThat(out.get(k("b")).message()).startsWith("blocked by " + k("a"));
    assertThat(hooks.afterCount(k("a"))).isEqualTo(1);
  }

  @Test
  void hangingCallIsCutOffAsUnknownAndNotRetried() {
    provider.script(k("a"), FakeProvider::hang);
    // one slot: c can only run if the abandoned call gave its slot back
    ExecutionOptions options = FAST.withCallTimeout(Duration.ofMillis(200)).withParallelism(1);

    Map<ResourceKey, Outcome> out = run(options, Plans.of("p").create("a").create("b", "a").create("c").build());

    assertThat(out.get(k("a")).kind()).isEqualTo(Kind.UNKNOWN);
    assertThat(out.get(k("a")).message()).contains("timed out after 200 ms");
    assertThat(provider.attemptsOf(k("a"))).isEqualTo(1);
    assertThat(hooks.after).contains(Map.entry(k("a"), out.get(k("a"))));
    assertThat(out.get(k("b")).message()).startsWith("blocked by " + k("a"));
    assertThat(out.get(k("c")).kind()).isEqualTo(Kind.CREATED);
    CallContext hung = provider.contexts.stream().filter(c -> c.cancellation().isCancelled()).findFirst().orElseThrow();
    assertThat(hung.cancellation().reason()).contains("timed out");
  }

  @Test
  void cancellationStopsNewStartsAndReportsThemUntouched() {
    Cancellation token = new Cancellation();
    provider.script(k("a"), (c, ctx) -> {
      token.cancel("new revision arrived");
      return Outcome.created();
    });
    Plan plan = Plans.of("p").create("a").create("b").create("c", "a").build();

    Map<ResourceKey, Outcome> out = run(FAST.withParallelism(1), plan, token);

    assertThat(out.get(k("a")).kind()).isEqualTo(Kind.UNKNOWN);
    assertThat(out.get(k("b"))).isEqualTo(Outcome.permanentFailure("cancelled before start: new revision arrived", null));
    assertThat(out.get(k("c")).message()).isEqualTo("cancelled before start: new revision arrived");
    assertThat(hooks.before).containsExactly(k("a"));
    assertThat(hooks.after).extracting(Map.Entry::getKey).containsExactly(k("a"));
    assertThat(hooks.afterOf(k("a")).kind()).isEqualTo(Kind.UNKNOWN);
    assertThat(provider.attemptsOf(k("b"))).isZero();
  }

  @Test
  void cancellationCancelsRunningCallsAndReturnsPromptly() throws Exception {
    Cancellation token = new Cancellation();
    CountDownLatch started = new CountDownLatch(1);
    provider.script(k("a"), (c, ctx) -> {
      started.countDown();
      return FakeProvider.hang(c, ctx);
    });
    Thread canceller = new Thread(() -> {
      try {
        if (started.await(5, TimeUnit.SECONDS)) {
          token.cancel("operator stop");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    canceller.start();
    ExecutionOptions options = FAST.withCallTimeout(Duration.ofSeconds(30));

    Map<ResourceKey, Outcome> out = run(options, Plans.of("p").create("a").create("b", "a").build(), token);
    canceller.join();

    assertThat(out.get(k("a"))).isEqualTo(Outcome.unknown("cancelled during the provider call: operator stop"));
    assertThat(out.get(k("b")).message()).isEqualTo("cancelled before start: operator stop");
    assertThat(provider.contexts.get(0).cancellation().isCancelled()).isTrue();
  }

  @Test
  void aCancellationThatCutsOffABatchInFlightSaysSoInOneLineNotOnePerKey() throws Exception {
    FakeProvider batching = new FakeProvider("p", true);
    Cancellation token = new Cancellation();
    CountDownLatch started = new CountDownLatch(1);
    batching.script(k("k00"), (c, ctx) -> {
      started.countDown();
      return FakeProvider.hang(c, ctx);
    });
    Plans plan = Plans.of("p");
    for (int i = 0; i < 40; i++) {
      plan.create(String.format("k%02d", i));
    }
    Thread canceller = new Thread(() -> {
      try {
        if (started.await(5, TimeUnit.SECONDS)) {
          token.cancel("the agent is shutting down");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    canceller.start();
    Map<ResourceKey, Outcome> out;
    try (dev.gitops.core.LogCapture logs = dev.gitops.core.LogCapture.of(Executor.class, "WARN")) {
      out = run(FAST.withCallTimeout(Duration.ofSeconds(30)), plan.build(), token, batching);
      canceller.join();

      assertThat(out.values()).hasSize(40).noneMatch(Outcome::isOk);
      assertThat(out.get(k("k00"))).isEqualTo(Outcome.unknown("cancelled during the provider call: the agent is shutting down"));
      // the call in flight may also be said abandoned (one line); never a line per key
      assertThat(logs.lines()).noneMatch(l -> l.contains(" failed at ")).hasSizeLessThanOrEqualTo(2);
      assertThat(logs.lines()).filteredOn(l -> l.contains("cut off")).singleElement().asString()
          .contains("cancelled (the agent is shutting down): 40 changes cut off or not started")
          .contains(k("k00").toString()).contains(", ...");
    }
  }

  @Test
  void syncTimeoutCancelsTheRun() {
    provider.script(k("a"), FakeProvider::hang);
    ExecutionOptions options = FAST.withCallTimeout(Duration.ofSeconds(30)).withSyncTimeout(Duration.ofMillis(200));

    Map<ResourceKey, Outcome> out = run(options, Plans.of("p").create("a").create("b", "a").build());

    assertThat(out.get(k("a")).kind()).isEqualTo(Kind.UNKNOWN);
    assertThat(out.get(k("a")).message()).contains("sync timed out after 200 ms");
    assertThat(out.get(k("b")).message()).startsWith("cancelled before start: sync timed out");
  }

  @Test
  void alreadyCancelledTokenRunsNothing() {
    Cancellation token = new Cancellation();
    token.cancel("shutdown");

    Map<ResourceKey, Outcome> out = run(FAST, Plans.of("p").create("a").create("b").build(), token);

    assertThat(out.values()).extracting(Outcome::message).containsOnly("cancelled before start: shutdown");
    assertThat(provider.attempts).isEmpty();
    assertThat(hooks.before).isEmpty();
    assertThat(hooks.after).isEmpty();
  }

  @Test
  void progressingObjectIsWaitedOnUntilHealthy() {
    provider.health(k("a"), Health.progressing("1/3 ready"), Health.progressing("2/3 ready"), Health.healthy());

    Map<ResourceKey, Outcome> out = run(FAST, Plans.of("p").create("a").create("b", "a").build());

    assertThat(out.get(k("a")).kind()).isEqualTo(Kind.CREATED);
    assertThat(out.get(k("b")).kind()).isEqualTo(Kind.CREATED);
    assertThat(provider.indexOf("health:a:HEALTHY")).isLessThan(provider.indexOf("start:b"));
    assertThat(hooks.events(SyncEvent.WaitingForHealth.class)).extracting(SyncEvent.WaitingForHealth::health)
        .containsExactly(Health.progressing("1/3 ready"), Health.progressing("2/3 ready"));
  }

  @Test
  void degradedObjectFailsFastAndBlocksDependents() {
    provider.health(k("a"), Health.progressing("starting"), Health.degraded("CrashLoopBackOff"));

    Map<ResourceKey, Outcome> out = run(FAST, Plans.of("p").create("a").create("b", "a").build());

    assertThat(out.get(k("a")).kind()).isEqualTo(Kind.PERMANENT);
    assertThat(out.get(k("a")).message()).isEqualTo("created but degraded: CrashLoopBackOff");
    assertThat(out.get(k("b")).message()).isEqualTo("blocked by " + k("a") + ": created but degraded: CrashLoopBackOff");
    // the write landed, so the store records it even though the object is unhealthy
    assertThat(hooks.afterOf(k("a"))).isEqualTo(Outcome.created());
    assertThat(provider.attemptsOf(k("b"))).isZero();
  }

  @Test
  void failuresAndRefusalsTheEngineMakesEndWithWhereTheResourceIsDeclared() {
    provider.health(k("a"), Health.degraded("CrashLoopBackOff"));
    provider.health(k("b"), Health.progressing("waiting for volume"));
    Plan plan = Plans.of("p").create("a").at("apps/a.yaml", 3).create("b").at("apps/b.yaml", 7)
        .add(Action.SKIP, "c").at("apps/c.yaml", 12).removed("d").at("apps/d.yaml", 4).removed("e").build();

    Map<ResourceKey, Outcome> out = run(FAST.withHealthTimeout(Duration.ofMillis(100)), plan);

    assertThat(out.get(k("a")).message()).isEqualTo("created but degraded: CrashLoopBackOff; declared at apps/a.yaml:3");
    assertThat(out.get(k("b")).message()).contains("not healthy after 100 ms").contains("waiting for volume")
        .endsWith("; declared at apps/b.yaml:7");
    assertThat(out.get(k("c")).kind()).isEqualTo(Kind.SKIPPED);
    assertThat(out.get(k("c")).message()).isEqualTo("SKIP c; declared at apps/c.yaml:12");
    // a refused prune: where the object was declared when last applied
    assertThat(out.get(k("d")).message()).isEqualTo(
        "removed from Git, but prune is disabled; no longer in Git (last applied from r1), declared at apps/d.yaml:4");
    // a change with no resource in a file names no place
    assertThat(out.get(k("e")).message()).isEqualTo("removed from Git, but prune is disabled");
  }

  @Test
  void aWriteThatDidNotLandSaysWhereTheResourceIsDeclared() {
    VerifyingHooks verifying = new VerifyingHooks();
    provider.script(k("a"), (c, ctx) -> {
      provider.live.put(c.key(), dev.gitops.api.Documents.object(Map.of("name", c.target().get("name"),
          "stale", dev.gitops.api.Documents.nodes().textNode("kept"))));
      return Outcome.configured();
    });
    Plan plan = Plans.of("p").add(Action.UPDATE, "a").at("apps/a.yaml", 9).build();

    Map<ResourceKey, Outcome> out = new Executor(FAST).execute(plan, Map.of("p", provider), verifying,
        new Cancellation(), "owner-1");

    assertThat(out.get(k("a")).message()).isEqualTo("updated, but the live object still differs from the target at"
        + " [/stale]: the provider did not apply that field; declared at apps/a.yaml:9");
  }

  @Test
  void objectThatNeverBecomesHealthyTimesOut() {
    provider.health(k("a"), Health.progressing("waiting for volume"));
    ExecutionOptions options = FAST.withHealthTimeout(Duration.ofMillis(100));

    Map<ResourceKey, Outcome> out = run(options, Plans.of("p").create("a").create("b", "a").build());

    assertThat(out.get(k("a")).kind()).isEqualTo(Kind.PERMANENT);
    assertThat(out.get(k("a")).message()).contains("not healthy after 100 ms").contains("waiting for volume");
    assertThat(out.get(k("b")).message()).startsWith("blocked by " + k("a"));
  }

  @Test
  void healthWaitCanBeTurnedOff() {
    provider.health(k("a"), Health.degraded("ignored"));

    Map<ResourceKey, Outcome> out = run(FAST.withWaitForHealth(false), Plans.of("p").create("a").create("b", "a").build());

    assertThat(out.get(k("b")).kind()).isEqualTo(Kind.CREATED);
    assertThat(provider.log).noneMatch(s -> s.startsWith("health:"));
    // each write is still observed once, to verify it landed
    assertThat(provider.log.stream().filter(s -> s.startsWith("observe:")).toList())
        .containsExactly("observe:a:PRESENT", "observe:b:PRESENT");
  }

  @Test
  void skippedDependencyHoldsItsDependentsNamingIt() {
    Plan plan = Plans.of("p").add(Action.SKIP, "s").create("a", "s").create("b", "a").create("c").build();

    Map<ResourceKey, Outcome> out = run(FAST, plan);

    assertThat(out.get(k("s"))).isEqualTo(Outcome.skipped("SKIP s"));
    assertThat(out.get(k("a")).kind()).isEqualTo(Kind.PERMANENT);
    assertThat(out.get(k("a")).message()).isEqualTo("blocked by " + k("s") + ": skipped: SKIP s");
    assertThat(out.get(k("b")).message()).startsWith("blocked by " + k("a"));
    assertThat(out.get(k("c")).kind()).isEqualTo(Kind.CREATED);
    assertThat(provider.attemptsOf(k("a"))).isZero();
    assertThat(provider.attemptsOf(k("b"))).isZero();
    assertThat(hooks.before).containsExactly(k("c"));
  }

  @Test
  void unchangedButDegradedDependencyHoldsItsDependents() {
    provider.live.put(k("db"), Plans.change(k("db"), Action.CREATE).target());
    provider.live.put(k("ok"), Plans.change(k("ok"), Action.CREATE).target());
    provider.health(k("db"), Health.progressing("recovering"), Health.degraded("disk full"));
    Plan plan = Plans.of("p").unchanged("db").unchanged("ok").create("app", "db").create("web", "ok").build();

    Map<ResourceKey, Outcome> out = run(FAST, plan);

    assertThat(out.get(k("db")).kind()).isEqualTo(Kind.UNCHANGED);
    assertThat(out.get(k("app")).kind()).isEqualTo(Kind.PERMANENT);
    assertThat(out.get(k("app")).message()).isEqualTo("blocked by " + k("db") + ": unchanged but degraded: disk full");
    assertThat(provider.attemptsOf(k("app"))).isZero();
    // a healthy unchanged dependency lets its dependent run, after it was seen healthy
    assertThat(out.get(k("web")).kind()).isEqualTo(Kind.CREATED);
    assertThat(provider.indexOf("health:ok:HEALTHY")).isGreaterThanOrEqualTo(0).isLessThan(provider.indexOf("start:web"));
    // NOOPs are never sent, recorded or reported as started
    assertThat(hooks.after).extracting(Map.Entry::getKey).containsExactly(k("web"));
    assertThat(hooks.events(SyncEvent.ChangeFinished.class)).extracting(e -> e.change().key())
        .containsExactlyInAnyOrder(k("app"), k("web"));
  }

  @Test
  void unchangedDependencyIsNotObservedWhenHealthWaitsAreOff() {
    provider.live.put(k("db"), Plans.change(k("db"), Action.CREATE).target());
    provider.health(k("db"), Health.degraded("ignored"));

    Map<ResourceKey, Outcome> out = run(FAST.withWaitForHealth(false), Plans.of("p").unchanged("db").create("app", "db").build());

    assertThat(out.get(k("app")).kind()).isEqualTo(Kind.CREATED);
    assertThat(provider.log).noneMatch(s -> s.startsWith("observe:db") || s.startsWith("health:"));
  }

  @Test
  void deleteIsForgottenOnlyOnceObservedAbsentAlsoWithoutHealthWaits() {
    provider.live.put(k("a"), Plans.change(k("a"), Action.CREATE).target());
    provider.lingerAfterDelete(k("a"), 2);
    ExecutionOptions noWait = FAST.withWaitForHealth(false);

    Map<ResourceKey, Outcome> out = run(noWait, Plans.of("p").add(Action.DELETE, "a").build());

    assertThat(out.get(k("a")).kind()).isEqualTo(Kind.DELETED);
    assertThat(provider.log.stream().filter(s -> s.startsWith("observe:a:")).toList())
        .containsExactly("observe:a:PRESENT", "observe:a:PRESENT", "observe:a:ABSENT");
    assertThat(hooks.afterOf(k("a"))).isEqualTo(Outcome.deleted());
  }

  @Test
  void aDeleteThatLingersSaysWhatTheProviderSaysOfTheObjectStillThere() {
    provider.live.put(k("a"), Plans.change(k("a"), Action.CREATE).target());
    provider.lingerAfterDelete(k("a"), Integer.MAX_VALUE);
    provider.health(k("a"), Health.progressing("being deleted, waiting for finalizer example.com/hold"));

    Map<ResourceKey, Outcome> out = run(FAST.withHealthTimeout(Duration.ofMillis(100)),
        Plans.of("p").add(Action.DELETE, "a").build());

    assertThat(out.get(k("a")).message()).contains("still present: being deleted, waiting for finalizer example.com/hold");
  }

  @Test
  void deleteStillPresentWithoutHealthWaitsIsNotForgotten() {
    provider.live.put(k("a"), Plans.change(k("a"), Action.CREATE).target());
    provider.lingerAfterDelete(k("a"), Integer.MAX_VALUE);
    ExecutionOptions noWait = FAST.withWaitForHealth(false).withHealthTimeout(Duration.ofMillis(100));

    Map<ResourceKey, Outcome> out = run(noWait, Plans.of("p").add(Action.DELETE, "a").build());

    assertThat(out.get(k("a")).kind()).isEqualTo(Kind.PERMANENT);
    assertThat(out.get(k("a")).message()).contains("still present");
    // the store hears a failure, so the key stays in the inventory and is retried next sync
    assertThat(hooks.afterOf(k("a")).isOk()).isFalse();
  }

  /** Hooks that verify like the Reconciler does, minus the merge: live must equal the target. */
  static final class VerifyingHooks extends RecordingHooks {
    final List<Observation> verified = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Override
    public List<FieldPath> verify(Change change, Observation live) {
      verified.add(live);
      List<FieldPath> differ = new java.util.ArrayList<>();
      change.target().fieldNames().forEachRemaining(f -> {
        if (!change.target().get(f).equals(live.live().get(f))) {
          differ.add(FieldPath.of(f));
        }
      });
      live.live().fieldNames().forEachRemaining(f -> {
        if (!change.target().has(f)) {
          differ.add(FieldPath.of(f));
        }
      });
      return differ;
    }
  }

  @Test
  void writeThatDidNotLandFailsNamingTheFieldsAndIsNotRecordedAsApplied() {
    VerifyingHooks verifying = new VerifyingHooks();
    // the provider says "configured" but keeps a field the target no longer has
    provider.script(k("a"), (c, ctx) -> {
      provider.live.put(c.key(), dev.gitops.api.Documents.object(Map.of("name", c.target().get("name"),
          "stale", dev.gitops.api.Documents.nodes().textNode("kept"))));
      return Outcome.configured();
    });
    Plan plan = Plans.of("p").add(Action.UPDATE, "a").create("b", "a").create("c").build();

    for (ExecutionOptions options : List.of(FAST, FAST.withWaitForHealth(false))) {
      Map<ResourceKey, Outcome> out = new Executor(options).execute(plan, Map.of("p", provider), verifying,
          new Cancellation(), "owner-1");

      assertThat(out.get(k("a")).kind()).isEqualTo(Kind.PERMANENT);
      assertThat(out.get(k("a")).message()).isEqualTo(
          "updated, but the live object still differs from the target at [/stale]: the provider did not apply that field");
      assertThat(out.get(k("b")).message()).startsWith("blocked by " + k("a"));
      assertThat(out.get(k("c")).isOk()).isTrue();
      // afterOutcome hears the failure: the pending state stays, nothing is recorded as applied
      assertThat(verifying.afterOf(k("a")).kind()).isEqualTo(Kind.PERMANENT);
      verifying.after.clear();
      provider.script(k("a"), (c, ctx) -> {
        provider.live.put(c.key(), dev.gitops.api.Documents.object(Map.of("name", c.target().get("name"),
            "stale", dev.gitops.api.Documents.nodes().textNode("kept"))));
        return Outcome.configured();
      });
    }
    assertThat(verifying.verified).allSatisfy(o -> assertThat(o.isPresent()).isTrue());
  }

  @Test
  void writesAreVerifiedWithANormalizedObservation() {
    FakeProvider normalizing = new FakeProvider("p") {
      @Override
      public com.fasterxml.jackson.databind.JsonNode normalize(ResourceKey key, com.fasterxml.jackson.databind.JsonNode live) {
        return dev.gitops.api.Documents.object(Map.of("name", live.get("name")));
      }
    };
    normalizing.script(k("a"), (c, ctx) -> {
      normalizing.live.put(c.key(), dev.gitops.api.Documents.object(Map.of("name", c.target().get("name"),
          "status", dev.gitops.api.Documents.nodes().textNode("ready"))));
      return Outcome.created();
    });
    VerifyingHooks verifying = new VerifyingHooks();

    Map<ResourceKey, Outcome> out = new Executor(FAST).execute(Plans.of("p").create("a").build(),
        Map.of("p", normalizing), verifying, new Cancellation(), "owner-1");

    assertThat(out.get(k("a")).kind()).isEqualTo(Kind.CREATED);
    assertThat(verifying.verified).singleElement().satisfies(o -> assertThat(o.live().has("status")).isFalse());
  }

  @Test
  void writeWhoseLiveObjectCannotBeNormalizedIsUnknownAtOnce() {
    FakeProvider broken = new FakeProvider("p") {
      @Override
      public com.fasterxml.jackson.databind.JsonNode normalize(ResourceKey key, com.fasterxml.jackson.databind.JsonNode live) {
        throw new IllegalStateException("unexpected shape");
      }
    };

    Map<ResourceKey, Outcome> out = new Executor(FAST.withHealthTimeout(Duration.ofSeconds(30))).execute(
        Plans.of("p").create("a").build(), Map.of("p", broken), hooks, new Cancellation(), "owner-1");

    assertThat(out.get(k("a")).kind()).isEqualTo(Kind.UNKNOWN);
    assertThat(out.get(k("a")).message()).contains("cannot be verified").contains("unexpected shape");
    assertThat(broken.log.stream().filter(s -> s.startsWith("observe:")).count()).isEqualTo(1);
    assertThat(hooks.afterOf(k("a")).kind()).isEqualTo(Kind.UNKNOWN);
  }

  @Test
  void writeObservedAbsentAfterwardsFails() {
    provider.script(k("a"), (c, ctx) -> Outcome.created());

    Map<ResourceKey, Outcome> out = run(FAST, Plans.of("p").create("a").build());

    assertThat(out.get(k("a")).kind()).isEqualTo(Kind.PERMANENT);
    assertThat(out.get(k("a")).message()).isEqualTo("created, but it is absent when observed again");
    assertThat(hooks.afterOf(k("a")).kind()).isEqualTo(Kind.PERMANENT);
  }

  @Test
  void batchProviderGetsReadyChangesTogetherAndRetriesOnlyFailedKeys() {
    FakeProvider batch = new FakeProvider("p", true);
    batch.script(k("b"), ExecutorTest::transientFailure);

    Map<ResourceKey, Outcome> out = run(FAST, Plans.of("p").create("a").create("b").create("c").build(), batch);

    assertThat(out.values()).extracting(Outcome::kind).containsOnly(Kind.CREATED);
    assertThat(batch.batchesSeen).containsExactly(List.of("a", "b", "c"), List.of("b"));
    assertThat(batch.singleApplies.get()).isZero();
    assertThat(hooks.afterCount(k("b"))).isEqualTo(1);
  }

  @Test
  void aBatchOverTheProvidersLimitGoesInPlanOrderPartsEachSentAfterItsOwnPendingRecords() throws Exception {
    List<String> order = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    java.util.concurrent.CountDownLatch firstPartApplying = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicBoolean overlapped = new java.util.concurrent.atomic.AtomicBoolean();
    FakeProvider batch = new FakeProvider("p", true) {
      @Override
      public int batchLimit() {
        return 2;
      }

      @Override
      public Map<ResourceKey, Outcome> applyAll(List<Change> changes, CallContext ctx) {
        order.add("apply " + changes.stream().map(c -> c.key().name()).toList());
        if (changes.get(0).key().name().equals("a")) {
          firstPartApplying.countDown();
        }
        return super.applyAll(changes, ctx);
      }
    };
    RecordingHooks ordered = new RecordingHooks() {
      @Override
      public void beforeApply(Change change) {
        if (change.key().name().equals("c")) {
          // the second part's pending records are written while the first part is applied: the
          // first was sent before them (written together with every part's, it would not be yet)
          try {
            overlapped.set(firstPartApplying.await(10, java.util.concurrent.TimeUnit.SECONDS));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        order.add("pending " + change.key().name());
        super.beforeApply(change);
      }
    };

    Map<ResourceKey, Outcome> out = new Executor(FAST).execute(Plans.of("p").create("a").create("b").create("c")
        .create("d").create("e").build(), Map.of("p", batch), ordered, new Cancellation(), "owner-1");

    assertThat(out.values()).extracting(Outcome::kind).containsOnly(Kind.CREATED);
    assertThat(batch.batchesSeen).containsExactlyInAnyOrder(List.of("a", "b"), List.of("c", "d"), List.of("e"));
    assertThat(overlapped).as("the first part applied while the second's pending records were written").isTrue();
    // no part is applied before its own pending records are written
    assertThat(order.indexOf("apply [a, b]")).isGreaterThan(order.indexOf("pending b"));
    assertThat(order.indexOf("apply [c, d]")).isGreaterThan(order.indexOf("pending d"));
    assertThat(order.indexOf("apply [e]")).isGreaterThan(order.indexOf("pending e"));
  }

  @Test
  void aBatchLimitThatThrowsOrIsBelowOneSendsTheWholeBatchInOneCall() {
    for (java.util.function.IntSupplier limit : List.<java.util.function.IntSupplier>of(() -> 0, () -> {
      throw new IllegalStateException("no limit today");
    })) {
      FakeProvider batch = new FakeProvider("p", true) {
        @Override
        public int batchLimit() {
          return limit.getAsInt();
        }
      };

      Map<ResourceKey, Outcome> out = run(FAST, Plans.of("p").create("a").create("b").create("c").build(), batch);

      assertThat(out.values()).extracting(Outcome::kind).containsOnly(Kind.CREATED);
      assertThat(batch.batchesSeen).containsExactly(List.of("a", "b", "c"));
    }
  }

  @Test
  void batchMissingAKeyFailsThatKeyOnly() {
    FakeProvider batch = new FakeProvider("p", true) {
      @Override
      public Map<ResourceKey, Outcome> applyAll(List<Change> changes, CallContext ctx) {
        return Map.of(k("a"), perform(changes.get(0)));
      }
    };

    Map<ResourceKey, Outcome> out = run(FAST, Plans.of("p").create("a").create("b").build(), batch);

    assertThat(out.get(k("a")).kind()).isEqualTo(Kind.CREATED);
    assertThat(out.get(k("b")).kind()).isEqualTo(Kind.PERMANENT);
    assertThat(out.get(k("b")).message()).contains("returned no outcome for " + k("b"));
  }

  @Test
  void deleteCompletesOnlyWhenTheObjectIsAbsent() {
    provider.live.put(k("a"), Plans.change(k("a"), Action.CREATE).target());
    provider.live.put(k("b"), Plans.change(k("b"), Action.CREATE).target());
    provider.lingerAfterDelete(k("a"), 3);
    // deletes run in reverse: the plan already says b waits for a
    Plan plan = Plans.of("p").add(Action.DELETE, "a").add(Action.DELETE, "b", "a").build();

    Map<ResourceKey, Outcome> out = run(FAST, plan);

    assertThat(out.get(k("a")).kind()).isEqualTo(Kind.DELETED);
    assertThat(provider.log.stream().filter(s -> s.startsWith("observe:a:")).toList())
        .containsExactly("observe:a:PRESENT", "observe:a:PRESENT", "observe:a:PRESENT", "observe:a:ABSENT");
    assertThat(provider.indexOf("observe:a:ABSENT")).isLessThan(provider.indexOf("start:b"));
    assertThat(hooks.after).extracting(Map.Entry::getKey).containsExactly(k("a"), k("b"));
    assertThat(hooks.before).isEmpty();
  }

  @Test
  void deleteThatNeverFinishesFailsAndIsRecordedAsFailed() {
    provider.live.put(k("a"), Plans.change(k("a"), Action.CREATE).target());
    provider.lingerAfterDelete(k("a"), Integer.MAX_VALUE);
    ExecutionOptions options = FAST.withHealthTimeout(Duration.ofMillis(100));

    Map<ResourceKey, Outcome> out = run(options, Plans.of("p").add(Action.DELETE, "a").build());

    assertThat(out.get(k("a")).kind()).isEqualTo(Kind.PERMANENT);
    assertThat(out.get(k("a")).message()).contains("still present");
    assertThat(hooks.afterOf(k("a"))).isEqualTo(out.get(k("a")));
  }

  @Test
  void failingBeforeApplyHookSendsNothing() {
    RecordingHooks failing = new RecordingHooks() {
      @Override
      public void beforeApply(Change change) {
        throw new IllegalStateException("store is read-only");
      }
    };
    Map<ResourceKey, Outcome> out = new Executor(FAST).execute(Plans.of("p").create("a").create("b", "a").build(),
        Map.of("p", provider), failing, new Cancellation(), "owner-1");

    assertThat(out.get(k("a")).kind()).isEqualTo(Kind.PERMANENT);
    assertThat(out.get(k("a")).message()).contains("store is read-only");
    assertThat(out.get(k("b")).message()).startsWith("blocked by " + k("a"));
    assertThat(provider.attempts).isEmpty();
    assertThat(failing.after).isEmpty();
  }

  @Test
  void failingAfterOutcomeHookFailsTheChangeAndBlocksDependents() {
    RecordingHooks failing = new RecordingHooks() {
      @Override
      public void afterOutcome(Change change, Outcome outcome) {
        super.afterOutcome(change, outcome);
        throw new IllegalStateException("disk full");
      }
    };
    Map<ResourceKey, Outcome> out = new Executor(FAST).execute(Plans.of("p").create("a").create("b", "a").build(),
        Map.of("p", provider), failing, new Cancellation(), "owner-1");

    assertThat(out.get(k("a")).message()).isEqualTo("created but recording the outcome failed: disk full");
    assertThat(out.get(k("b")).message()).startsWith("blocked by " + k("a"));
    assertThat(failing.after).hasSize(1);
  }

  @Test
  void missingProviderFailsItsChangesOnly() {
    ResourceKey other = Plans.key("nowhere", "x");
    Plan plan = Plans.of("p").add(other, Action.CREATE).create("a").build();

    Map<ResourceKey, Outcome> out = run(FAST, plan);

    assertThat(out.get(other).message()).contains("no provider with id 'nowhere'");
    assertThat(out.get(k("a")).kind()).isEqualTo(Kind.CREATED);
  }

  @Test
  void changesOfSeveralProvidersWaitAcrossProviders() {
    FakeProvider q = new FakeProvider("q");
    ResourceKey qa = Plans.key("q", "qa");
    Plan plan = Plans.of("p").add(qa, Action.CREATE).create("a", qa.toString()).build();

    Map<ResourceKey, Outcome> out = run(FAST, plan, provider, q);

    assertThat(out.values()).extracting(Outcome::kind).containsOnly(Kind.CREATED);
    assertThat(q.indexOf("health:qa:HEALTHY")).isGreaterThanOrEqualTo(0);
    assertThat(provider.attemptsOf(k("a"))).isEqualTo(1);
  }

  @Test
  void readAndForgetAreSentWithoutPendingOrHealthWait() {
    Plan plan = Plans.of("p").add(Action.READ, "r").add(Action.FORGET, "f").build();

    Map<ResourceKey, Outcome> out = run(FAST, plan);

    assertThat(provider.attemptsOf(k("r"))).isEqualTo(1);
    assertThat(provider.attemptsOf(k("f"))).isEqualTo(1);
    assertThat(out.values()).extracting(Outcome::kind).containsOnly(Kind.UNCHANGED);
    assertThat(hooks.before).isEmpty();
    assertThat(hooks.after).hasSize(2);
    assertThat(provider.log).noneMatch(s -> s.startsWith("observe:"));
  }

  @Test
  void cycleIsRejectedNamingItBeforeAnythingRuns() {
    Plan plan = Plans.of("p").create("x").create("a", "c").create("b", "a").create("c", "b").build();

    assertThatThrownBy(() -> run(FAST, plan))
        .isInstanceOf(DependencyCycleException.class)
        .hasMessageContaining(k("a").toString())
        .hasMessageContaining(k("b").toString())
        .hasMessageContaining(k("c").toString())
        .satisfies(e -> assertThat(((DependencyCycleException) e).cycle()).hasSize(4).doesNotContain(k("x")));
    assertThat(provider.attempts).isEmpty();
  }
}
