package dev.gitops.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.agent.config.TargetConfig;
import dev.gitops.agent.spi.Placement;
import dev.gitops.api.spi.Provider;
import dev.gitops.testkit.ForwardingProvider;
import dev.gitops.testkit.TempGitRepo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent with a {@link Placement}: it runs only what the placement starts, and tells it what is configured. */
class PlacementTest {

  @TempDir
  Path dir;

  final MemoryProviderFactory memory = new MemoryProviderFactory();
  final List<TempGitRepo> repos = new ArrayList<>();

  /** A placement that starts what the test says, and records what the agent told it. */
  static final class Recording implements Placement {
    volatile Control control;
    final List<Set<String>> configured = new CopyOnWriteArrayList<>();
    final List<String> wrapped = new CopyOnWriteArrayList<>();
    final List<String> events = new CopyOnWriteArrayList<>();
    volatile String notReady;
    volatile Set<String> failedStops = Set.of();
    /** What {@link #lost} says of every target; null: held. */
    volatile String lost;
    /** Whether the wrapped providers refuse every change, as a fenced provider does. */
    volatile boolean fenced;

    @Override
    public java.util.Optional<String> lost(String target) {
      return java.util.Optional.ofNullable(lost);
    }

    @Override
    public java.util.Optional<String> notReady() {
      return java.util.Optional.ofNullable(notReady);
    }

    @Override
    public Set<String> failedStopsNamed() {
      return failedStops;
    }

    @Override
    public void start(Control c) {
      control = c;
      events.add("start");
    }

    @Override
    public void configured(Set<String> targets) {
      configured.add(Set.copyOf(targets));
    }

    @Override
    public Provider wrapProvider(TargetConfig target, Provider provider) {
      wrapped.add(target.name());
      return new ForwardingProvider(provider) {
        @Override
        public dev.gitops.api.Outcome apply(dev.gitops.api.Change change, dev.gitops.api.spi.CallContext ctx) {
          return fenced ? dev.gitops.api.Outcome.permanentFailure("fenced: stale token", null)
              : super.apply(change, ctx);
        }

        @Override
        public Map<dev.gitops.api.ResourceKey, dev.gitops.api.Outcome> applyAll(List<dev.gitops.api.Change> changes,
            dev.gitops.api.spi.CallContext ctx) {
          if (!fenced) {
            return super.applyAll(changes, ctx);
          }
          Map<dev.gitops.api.ResourceKey, dev.gitops.api.Outcome> out = new java.util.LinkedHashMap<>();
          changes.forEach(c -> out.put(c.key(), dev.gitops.api.Outcome.permanentFailure("fenced: stale token", null)));
          return out;
        }
      };
    }

    @Override
    public void close() {
      events.add("close");
    }
  }

  @AfterEach
  void cleanUp() {
    repos.forEach(TempGitRepo::close);
  }

  Path config(String... names) throws Exception {
    StringBuilder yaml = new StringBuilder("agent:\n  stateDir: state\n  watchConfig: false\ntargets:\n");
    for (String n : names) {
      TempGitRepo r = TempGitRepo.create();
      repos.add(r);
      r.write("things/a.yaml", "type: thing\nname: a\nspec: {v: 1}\n");
      r.commit("a");
      yaml.append("  - name: ").append(n).append("\n    source: {url: \"").append(r.uri())
          .append("\"}\n    provider: {type: memory}\n    interval: 1h\n");
    }
    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, yaml);
    return f;
  }

  @Test
  void runsOnlyWhatThePlacementStartsAndReportsReadinessForThose() throws Exception {
    Recording placement = new Recording();
    Agent agent = Agent.builder(config("a", "b")).providerFactory(memory).environment(Map.of()).placement(placement)
        .build();
    try {
      agent.start();
      assertThat(placement.configured).containsExactly(Set.of("a", "b"));
      assertThat(agent.status()).isEmpty();
      assertThat(agent.notReady()).as("a target another agent runs is no reason").isEmpty();
      placement.notReady = "member m1 cannot coordinate with the cluster since 2026-12-02T20:00:00Z";
      assertThat(agent.notReady()).as("the placement's own reason").containsExactly(placement.notReady);
      placement.notReady = null;

      assertThat(placement.control.startTarget("a")).isTrue();
      assertThat(placement.control.startTarget("nope")).as("not configured").isFalse();
      AgentTest.await("a synced", () -> agent.status().stream().anyMatch(s -> s.target().equals("a")
          && s.result().equals("succeeded")));
      assertThat(placement.wrapped).containsExactly("a");
      assertThat(memory.live("b")).as("b never started here").isNull();

      placement.control.stopTarget("a", "it moves");
      assertThat(agent.status()).isEmpty();
      assertThat(memory.live("a").snapshot()).as("stopping prunes nothing").hasSize(1);

      config("a", "b", "c");
      Agent.ReloadResult r = agent.reload();
      assertThat(r.started()).as("the placement starts added targets").isEmpty();
      assertThat(placement.configured).last().isEqualTo(Set.of("a", "b", "c"));
    } finally {
      agent.shutdown();
      assertThat(agent.awaitTermination(Duration.ofSeconds(60))).isTrue();
    }
    assertThat(placement.events).containsExactly("start", "close");
  }

  @Test
  void aStopThePlacementAsksForThatFailsIsThrownNamedInReadinessAndTriedAgainOnlyForWhatIsStillOpen()
      throws Exception {
    Recording placement = new Recording();
    Agent agent = Agent.builder(config("a", "b")).providerFactory(memory).environment(Map.of()).placement(placement)
        .build();
    try {
      agent.start();
      assertThat(placement.control.startTarget("a")).isTrue();
      assertThat(placement.control.startTarget("b")).isTrue();
      AgentTest.await("both synced", () -> agent.status().stream().filter(s -> s.result().equals("succeeded"))
          .count() == 2);
      List<String> attempted = new CopyOnWriteArrayList<>();
      java.util.concurrent.atomic.AtomicBoolean failed = new java.util.concurrent.atomic.AtomicBoolean();
      agent.runtime("a").beforeClose(closing -> {
        attempted.add(closing);
        if (closing.startsWith("its Git source") && failed.compareAndSet(false, true)) {
          throw new IllegalStateException("injected: " + closing + " cannot close");
        }
      });

      // thrown at the placement: the target may still hold what it did, so it must not run elsewhere yet
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> placement.control.stopTarget("a", "it moves to m2"))
          .isInstanceOf(IllegalStateException.class).hasMessageStartingWith("target a did not stop (it moves to m2)")
          .hasMessageContaining("injected");
      assertThat(memory.closes("a")).as("a's provider is closed although its source failed to close").isEqualTo(1);
      assertThat(agent.runtime("a")).isNull();
      assertThat(agent.runtime("b")).as("the other target runs on").isNotNull();
      assertThat(agent.notReady()).singleElement().asString()
          .startsWith("target a did not stop cleanly (it moves to m2)")
          .contains("closing its Git source").contains("injected");
      // a placement that names the failed stop itself (a cluster member does): said once, in its words
      placement.notReady = "target a could not be stopped on member m1 (injected)";
      placement.failedStops = Set.of("a");
      assertThat(agent.notReady()).containsExactly(placement.notReady);
      placement.notReady = null;
      placement.failedStops = Set.of();
      int closedFirst = attempted.size();

      // the placement asks again: only what is still open is closed, and then the stop has succeeded
      placement.control.stopTarget("a", "it moves to m2");
      assertThat(attempted.subList(closedFirst, attempted.size())).singleElement().asString()
          .startsWith("its Git source");
      assertThat(memory.closes("a")).as("nothing closed twice").isEqualTo(1);
      assertThat(agent.notReady()).isEmpty();
      placement.control.stopTarget("a", "it moves to m2");  // stopped: nothing more to do

      assertThat(placement.control.startTarget("a")).isTrue();
      AgentTest.await("a synced again", () -> agent.status().stream().filter(s -> s.result().equals("succeeded")
          && !s.carriedOver()).count() == 2);
    } finally {
      agent.shutdown();
      assertThat(agent.awaitTermination(Duration.ofSeconds(60))).isTrue();
    }
  }

  /**
   * A stop the placement asks for whose sync reaches no safe point within the grace period is
   * refused, and named in readiness, with the grace period as a person reads it: it said "within
   * the grace period PT1S".
   */
  @Test
  void aStopWhoseSyncReachesNoSafePointNamesTheGracePeriodAsAPersonReadsIt() throws Exception {
    Path file = config("a");
    Files.writeString(file, Files.readString(file).replace("watchConfig: false\n",
        "watchConfig: false\n  gracePeriod: 1s\n"));
    Recording placement = new Recording();
    Agent agent = Agent.builder(file).providerFactory(memory).environment(Map.of()).placement(placement).build();
    // a 'gitops sync' by hand holds the target's store: its sync waits for the lock, reaching no safe point
    dev.gitops.core.store.FileStateStore store =
        dev.gitops.core.store.FileStateStore.open(dir.resolve("state/targets/a"));
    dev.gitops.api.spi.StoreLock lock = store.lock(Duration.ofSeconds(5));
    try {
      agent.start();
      assertThat(placement.control.startTarget("a")).isTrue();
      AgentTest.await("a's sync waits for its store", () -> agent.syncsInFlight() == 1);

      org.assertj.core.api.Assertions.assertThatThrownBy(() -> placement.control.stopTarget("a", "it moves to m2"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("target a did not stop (it moves to m2): its sync did not reach a safe point within the grace"
              + " period 1 s and may still be running");
      assertThat(agent.notReady()).singleElement().asString().contains("within the grace period 1 s and");

      lock.close();
      AgentTest.await("the sync ended", () -> agent.syncsInFlight() == 0);
      placement.control.stopTarget("a", "it moves to m2");
      assertThat(agent.notReady()).isEmpty();
    } finally {
      lock.close();
      store.close();
      agent.shutdown();
      assertThat(agent.awaitTermination(Duration.ofSeconds(60))).isTrue();
    }
  }

  /**
   * A member paused past its lease wakes and its sync fails, fenced, before its round stops the
   * target: that failure was counted as failed and announced (a webhook's sync-failed, a
   * commit status 'failure' posted over what the target's new owner reported). A sync ending so
   * while the placement says the agent lost the target is cancelled; a failure while it holds the
   * target is still one.
   */
  @Test
  void aSyncThatFailsAfterThePlacementLostTheTargetIsCancelledNotAFailure() throws Exception {
    Recording placement = new Recording();
    io.micrometer.core.instrument.simple.SimpleMeterRegistry registry =
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    Agent agent = Agent.builder(config("a")).providerFactory(memory).environment(Map.of()).placement(placement)
        .meterRegistry(registry).build();
    try {
      agent.start();
      assertThat(placement.control.startTarget("a")).isTrue();
      AgentTest.await("a synced", () -> count(registry, "succeeded") == 1);

      placement.fenced = true;
      placement.lost = "member m1 no longer holds target a: its lease is not live by its own clock";
      repos.get(0).write("things/a.yaml", "type: thing\nname: a\nspec: {v: 2}\n");
      repos.get(0).commit("v2");
      agent.trigger("a");
      AgentTest.await("the fenced sync ended", () -> count(registry, "cancelled") == 1);
      assertThat(count(registry, "failed")).as("not a failure of this member's").isZero();

      placement.lost = null;  // held, and yet refused: a failure
      repos.get(0).write("things/a.yaml", "type: thing\nname: a\nspec: {v: 3}\n");
      repos.get(0).commit("v3");
      agent.trigger("a");
      AgentTest.await("the failed sync ended", () -> count(registry, "failed") == 1);
      assertThat(count(registry, "cancelled")).isEqualTo(1);
    } finally {
      agent.shutdown();
      assertThat(agent.awaitTermination(Duration.ofSeconds(60))).isTrue();
    }
  }

  private static double count(io.micrometer.core.instrument.MeterRegistry registry, String result) {
    io.micrometer.core.instrument.Counter c = registry.find("gitops.syncs").tags("target", "a", "result", result)
        .counter();
    return c == null ? 0 : c.count();
  }
}
