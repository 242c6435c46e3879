package dev.gitops.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gitops.agent.config.ConfigException;
import dev.gitops.api.spi.StoreLock;
import dev.gitops.core.source.SilentServer;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.testkit.InMemoryProvider;
import dev.gitops.testkit.TempGitRepo;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent in one process: many targets over real Git repositories, reloads, shutdown, readiness. */
class AgentTest {

  @TempDir
  Path dir;

  final MemoryProviderFactory memory = new MemoryProviderFactory();
  final Map<String, TempGitRepo> repos = new HashMap<>();
  final List<Agent> agents = new ArrayList<>();
  final List<Agent.ReloadResult> reloads = new CopyOnWriteArrayList<>();
  final List<ConfigException> refused = new CopyOnWriteArrayList<>();

  @AfterEach
  void cleanUp() {
    agents.forEach(Agent::close);
    repos.values().forEach(TempGitRepo::close);
  }

  /** A repository for {@code name} holding memory resources {@code things} (in the generic manifest format). */
  TempGitRepo repo(String name, String... things) {
    TempGitRepo r = repos.computeIfAbsent(name, n -> TempGitRepo.create());
    for (String t : things) {
      r.write("things/" + t + ".yaml", "type: thing\nname: " + t + "\nspec: {v: 1}\n");
    }
    r.commit("things " + String.join(",", things));
    return r;
  }

  static String memoryTarget(String name, String url, String extra) {
    return """
          - name: %s
            source: {url: "%s"}
            provider: {type: memory%s}
            interval: 1h
        """.formatted(name, url, extra);
  }

  Path config(String agentSection, String targets) throws IOException {
    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, "agent:\n  stateDir: state\n" + agentSection + "targets:\n" + targets);
    return f;
  }

  Agent start(Path config, Clock clock, SimpleMeterRegistry registry) {
    Agent.Builder b = Agent.builder(config).providerFactory(memory).environment(Map.of()).clock(clock)
        .watchInterval(Duration.ofMillis(100)).listener(new Agent.Listener() {
          @Override
          public void reloaded(Agent.ReloadResult result) {
            reloads.add(result);
          }

          @Override
          public void reloadFailed(ConfigException error) {
            refused.add(error);
          }
        });
    if (registry != null) {
      b.meterRegistry(registry);
    }
    if (clock instanceof MutableClock mutable) {
      b.ticker(mutable::nanos);
    }
    Agent a = b.build();
    agents.add(a);
    a.start();
    return a;
  }

  Agent start(Path config) {
    return start(config, Clock.systemUTC(), null);
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("%s within 30 s", what).isLessThan(end);
      Thread.sleep(20);
    }
  }

  /** Whether a sync of {@code target}'s current run succeeded (a success carried over from before it is not). */
  boolean succeeded(Agent agent, String target) {
    return agent.status().stream().anyMatch(s -> s.target().equals(target) && s.result().equals("succeeded")
        && !s.carriedOver());
  }

  InMemoryProvider live(String target) {
    return memory.live(target);
  }

  /**
   * A sync blocked in its source's read (a socket read, which neither its cancellation nor an
   * interrupt ends) reaches no safe point: a reload or a shutdown waits the grace period for it and
   * then goes on without it. Here the read ends at the source's timeout, 8 s: both must be done
   * before that, while the abandoned sync still runs. They waited for the loop's thread another
   * 10 s after the grace period before (so until the read's timeout here).
   */
  @Test
  void aReloadOrAShutdownWaitsTheGracePeriodForASyncHungInItsSourceThenGoesOnWithoutIt() throws Exception {
    try (SilentServer silent = SilentServer.start()) {
      String hung = """
            - name: %s
              source: {url: "git://127.0.0.1:%d/%s", timeout: 8s}
              provider: {type: memory}
              interval: 1h
          """;
      String kept = memoryTarget("kept", repo("kept", "k").uri(), "");
      String agentSection = "  watchConfig: false\n  gracePeriod: 1s\n";
      Agent agent = start(config(agentSection, kept + hung.formatted("gone", silent.port(), "gone")
          + hung.formatted("last", silent.port(), "last")));
      await("both hung targets read their source", () -> silent.connections() == 2 && agent.syncsInFlight() == 2);

      config(agentSection, kept + hung.formatted("last", silent.port(), "last"));
      Agent.ReloadResult r = agent.reload();

      assertThat(r.stopped()).containsExactly("gone");
      assertThat(agent.syncsInFlight()).as("the reload returned while the sync of 'gone' still blocked in its read")
          .isEqualTo(2);

      agent.shutdown();
      assertThat(agent.awaitTermination(Duration.ofSeconds(60))).isTrue();
      assertThat(agent.syncsInFlight()).as("the shutdown ended while both syncs still blocked in their reads")
          .isEqualTo(2);
      assertThat(memory.closes("gone")).as("the stopped target was closed anyway").isEqualTo(1);
    }
  }

  @Test
  void aSourceTimeoutEndsTheSyncsOfATargetWhoseServerNeverAnswers() throws Exception {
    try (SilentServer silent = SilentServer.start()) {
      String target = """
            - name: stuck
              source: {url: "git://127.0.0.1:%d/r", timeout: 1s}
              provider: {type: memory}
              interval: 1h
          """.formatted(silent.port());
      Agent agent = start(config("  watchConfig: false\n", target));
      await("the sync failed at the source's timeout",
          () -> agent.status().stream().anyMatch(s -> s.result().equals("error")));
      assertThat(TargetStatus.read(dir.resolve("state"), "stuck"))
          .hasValueSatisfying(s -> assertThat(s.lastError()).contains("timed out"));
      assertThat(silent.connections()).isPositive();
    }
  }

  @Test
  void aPasswordInTheSourceUrlIsInNoLogLineAndNoStatus() throws Exception {
    String secret = "S3cr3t-in-the-url";
    try (SilentServer silent = SilentServer.start()) {
      String target = """
            - name: secret
              source: {url: "http://alice:%s@127.0.0.1:%d/r", timeout: 1s}
              provider: {type: memory}
              interval: 1h
          """.formatted(secret, silent.port());
      java.io.PrintStream err = System.err;
      java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
      System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
      Agent agent;
      try {
        agent = start(config("  watchConfig: false\n", target));
        await("the sync failed at the source's timeout",
            () -> agent.status().stream().anyMatch(s -> s.result().equals("error")));
      } finally {
        System.setErr(err);
      }
      String logged = captured.toString(java.nio.charset.StandardCharsets.UTF_8);
      assertThat(logged).contains("target secret started").contains("alice@127.0.0.1").doesNotContain(secret);
      assertThat(TargetStatus.read(dir.resolve("state"), "secret"))
          .hasValueSatisfying(s -> assertThat(s.lastError()).contains("timed out").doesNotContain(secret));
      assertThat(Files.readString(TargetStatus.file(dir.resolve("state"), "secret"))).doesNotContain(secret);
    }
  }

  @Test
  void reconcilesEveryTargetWithABoundOnSyncsInFlight() throws Exception {
    StringBuilder targets = new StringBuilder();
    for (int i = 0; i < 5; i++) {
      targets.append(memoryTarget("t" + i, repo("t" + i, "a", "b").uri(), ", observeDelay: 100ms"));
    }
    Agent agent = start(config("  maxConcurrentSyncs: 2\n  watchConfig: false\n", targets.toString()));

    await("every target synced", () -> agent.status().stream().filter(s -> s.result().equals("succeeded")).count() == 5);
    for (int i = 0; i < 5; i++) {
      assertThat(live("t" + i).snapshot()).hasSize(2);
    }
    assertThat(memory.maxInFlight.get()).as("targets syncing at once").isEqualTo(2);
    // each loop runs on a thread named for its target: the thread name its log lines carry
    assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
        .contains("target t0", "target t1", "target t2", "target t3", "target t4");
    assertThat(agent.notReady()).isEmpty();
    assertThat(TargetStatus.read(dir.resolve("state"), "t3")).hasValueSatisfying(s -> {
      assertThat(s.revision()).isEqualTo("main@sha1:" + repos.get("t3").head());
      assertThat(s.lastError()).isNull();
      assertThat(s.lastSuccess()).isNotNull();
    });
  }

  @Test
  void aSlowTargetDoesNotStarveTheOthers() throws Exception {
    String targets = memoryTarget("slow", repo("slow", "a").uri(), ", observeDelay: 300ms")
        + memoryTarget("fast1", repo("fast1", "a").uri(), "")
        + memoryTarget("fast2", repo("fast2", "a").uri(), "");
    Agent agent = start(config("  maxConcurrentSyncs: 1\n  watchConfig: false\n", targets));
    // every target asks for a sync all the time (an interval is at least 1s: triggers keep them asking)
    await("the slow target synced four times", () -> {
      agent.trigger(null);
      return memory.observes("slow") >= 4;
    });
    // One slot, taken in turn: between two syncs of the slow target each other target gets its turn.
    assertThat(memory.observes("fast1")).isGreaterThanOrEqualTo(memory.observes("slow") - 1);
    assertThat(memory.observes("fast2")).isGreaterThanOrEqualTo(memory.observes("slow") - 1);
    assertThat(memory.maxInFlight.get()).isEqualTo(1);
    agent.close();
  }

  @Test
  void reloadStartsAddedStopsRemovedWithoutPruningRestartsChangedAndRejectsInvalid() throws Exception {
    TempGitRepo shared = repo("shared", "a", "b");
    Path config = config("  watchConfig: false\n", memoryTarget("keep", repo("keep", "k").uri(), "")
        + memoryTarget("change", shared.uri(), "") + memoryTarget("remove", repo("remove", "r").uri(), ""));
    Agent agent = start(config);
    await("three targets synced", () -> agent.status().size() == 3);

    config("  watchConfig: false\n", memoryTarget("keep", repos.get("keep").uri(), "")
        + memoryTarget("change", shared.uri(), ", observeDelay: 5ms")
        + memoryTarget("add", repo("add", "x").uri(), ""));
    Agent.ReloadResult r = agent.reload();

    assertThat(r.started()).containsExactly("add");
    assertThat(r.stopped()).containsExactly("remove");
    assertThat(r.restarted()).containsExactly("change");
    assertThat(r.unchanged()).containsExactly("keep");
    assertThat(memory.closes("remove")).as("a stopped target's provider is closed").isEqualTo(1);
    assertThat(memory.closes("change")).as("a restarted target's old provider is closed").isEqualTo(1);
    assertThat(memory.closes("keep")).isZero();
    await("the added target synced", () -> succeeded(agent, "add"));
    assertThat(live("add").snapshot()).hasSize(1);
    assertThat(live("remove").snapshot()).as("a removed target prunes nothing").hasSize(1);
    try (FileStateStore store = FileStateStore.open(dir.resolve("state/targets/remove"));
        StoreLock lock = store.lock(Duration.ofSeconds(5))) {
      assertThat(store.load().inventory()).as("its store is closed and keeps what it owns").hasSize(1);
    }

    Files.writeString(config, Files.readString(config).replace("interval: 1h", "interval: often"));
    ConfigException e = catchThrowableOfType(ConfigException.class, agent::reload);
    assertThat(e.getMessage()).contains("agent.yaml:").contains("targets[0].interval: must be a positive duration");
    assertThat(e.line()).isEqualTo(8);
    int before = memory.observes("keep");
    assertThat(agent.trigger("keep")).as("the running configuration stays").isEqualTo(1);
    await("the kept target synced again", () -> memory.observes("keep") > before);
    assertThat(agent.config().targets()).extracting(t -> t.name()).containsExactly("keep", "change", "add");
  }

  @Test
  void aNewStateDirectoryRestartsTargetsWithTheirStoresAndStatusThere() throws Exception {
    Path config = config("  watchConfig: false\n", memoryTarget("one", repo("one", "a").uri(), ""));
    Agent agent = start(config);
    await("synced", () -> succeeded(agent, "one"));

    Files.writeString(config, Files.readString(config).replace("stateDir: state", "stateDir: moved"));
    Agent.ReloadResult r = agent.reload();

    assertThat(r.restarted()).containsExactly("one");
    await("the restarted target wrote its status in the new state directory",
        () -> TargetStatus.read(dir.resolve("moved"), "one").isPresent());
    assertThat(dir.resolve("moved/targets/one")).isDirectory();
  }

  @Test
  void aNewStateDirectoryRestartsATargetWithItsOwnStoreSoItsStatusIsWrittenThere() throws Exception {
    Path config = config("  watchConfig: false\n", memoryTarget("one", repo("one", "a").uri(), "")
        + "    store: stores/one\n");
    Agent agent = start(config);
    await("synced", () -> succeeded(agent, "one"));

    Files.writeString(config, Files.readString(config).replace("stateDir: state", "stateDir: moved"));
    Agent.ReloadResult r = agent.reload();

    assertThat(r.restarted()).as("its status files move with the state directory").containsExactly("one");
    await("the restarted target wrote its status in the new state directory",
        () -> TargetStatus.read(dir.resolve("moved"), "one").isPresent());
  }

  @Test
  void aChangedFileIsReloadedByItselfAndAnInvalidEditIsReportedOnce() throws Exception {
    Path config = config("", memoryTarget("one", repo("one", "a").uri(), ""));
    Agent agent = start(config);
    await("the first target synced", () -> succeeded(agent, "one"));

    config("", memoryTarget("one", repos.get("one").uri(), "") + memoryTarget("two", repo("two", "b").uri(), ""));
    await("the change was noticed", () -> !reloads.isEmpty());
    assertThat(reloads.get(0).started()).containsExactly("two");
    await("the new target synced", () -> succeeded(agent, "two"));

    Files.writeString(config, Files.readString(config) + "  - name: [broken\n");
    await("the invalid edit was refused", () -> !refused.isEmpty());
    Thread.sleep(400);  // several more looks at the unchanged, still invalid file
    assertThat(refused).hasSize(1);
    assertThat(refused.get(0).getMessage()).contains("agent.yaml:");
    assertThat(agent.config().targets()).hasSize(2);
  }

  @Test
  void aReloadTurnsWatchingTheFileOnAndOff() throws Exception {
    String one = memoryTarget("one", repo("one", "a").uri(), "");
    Path config = config("  watchConfig: false\n", one);
    Agent agent = start(config);
    config("  watchConfig: false\n", one + memoryTarget("two", repo("two", "b").uri(), ""));
    Thread.sleep(500);  // several looks, were it watched
    assertThat(reloads).isEmpty();
    assertThat(agent.config().targets()).hasSize(1);

    // turned on by a reload (SIGHUP): from then on an edit reloads by itself
    config("  watchConfig: true\n", one + memoryTarget("two", repos.get("two").uri(), ""));
    assertThat(agent.reload().started()).containsExactly("two");
    String three = memoryTarget("three", repo("three", "c").uri(), "");
    config("  watchConfig: true\n", one + three);
    await("the edit was reloaded", () -> !reloads.isEmpty());
    assertThat(reloads.get(0).started()).containsExactly("three");

    // turned off by an edit: the next edit waits for a reload
    config("  watchConfig: false\n", one + three);
    await("watching was turned off", () -> !agent.config().watchConfig());
    config("  watchConfig: false\n", one);
    Thread.sleep(500);
    assertThat(reloads).hasSize(2);
    assertThat(agent.config().targets()).extracting(t -> t.name()).containsExactly("one", "three");
    assertThat(agent.reload().stopped()).containsExactly("three");
  }

  @Test
  void aDeletedFileIsReportedOnceNotAtEveryLook() throws Exception {
    Path config = config("", memoryTarget("one", repo("one", "a").uri(), ""));
    Agent agent = start(config);
    String content = Files.readString(config);

    Files.delete(config);
    await("the deletion was reported", () -> !refused.isEmpty());
    Thread.sleep(500);  // several more looks at the missing file
    assertThat(refused).hasSize(1);
    assertThat(refused.get(0).getMessage()).isEqualTo(config + ": no such file");
    // another reason is reported again
    Files.createDirectory(config);
    await("the new reason was reported", () -> refused.size() == 2);
    assertThat(refused.get(1).getMessage()).isEqualTo(config + ": not a regular file (a directory): an agent configuration is a file");
    Files.delete(config);
    await("the deletion was reported again", () -> refused.size() == 3);
    // back as it was: nothing to reload; then an edit reloads as before
    Files.writeString(config, content);
    Thread.sleep(400);
    assertThat(reloads).isEmpty();
    assertThat(refused).hasSize(3);
    Files.writeString(config, content + memoryTarget("two", repo("two", "b").uri(), ""));
    await("the edit was reloaded", () -> !reloads.isEmpty());
    assertThat(reloads.get(0).started()).containsExactly("two");
    assertThat(agent.config().targets()).hasSize(2);
  }

  @Test
  void aTruncatedFileIsRefusedOnReloadAndEveryTargetKeepsRunning() throws Exception {
    Path config = config("", memoryTarget("web", repo("web", "a").uri(), "") + memoryTarget("api", repo("api", "b").uri(), ""));
    Agent agent = start(config);
    await("both synced", () -> succeeded(agent, "web") && succeeded(agent, "api"));

    Files.write(config, new byte[0]);  // what a save cut short leaves
    await("the empty file was refused", () -> !refused.isEmpty());
    assertThat(refused.get(0).getMessage()).startsWith(config.toString()).contains("the file is empty");
    assertThat(reloads).as("nothing was stopped").isEmpty();
    ConfigException bySignal = catchThrowableOfType(ConfigException.class, agent::reload);
    assertThat(bySignal.getMessage()).contains("the file is empty");
    Files.writeString(config, "agent:\n  stateDir: state\n");
    ConfigException noTargets = catchThrowableOfType(ConfigException.class, agent::reload);
    assertThat(noTargets.getMessage()).contains("no 'targets'");
    assertThat(agent.config().targets()).extracting(t -> t.name()).containsExactly("web", "api");
    assertThat(agent.notReady()).as("it runs on the old configuration, but is not ready").singleElement().asString()
        .startsWith("the configuration was not reloaded, the agent runs on the one before:")
        .contains(config + ":").contains("no 'targets'");
    int before = memory.observes("web");
    agent.trigger("web");
    await("the running configuration stays", () -> memory.observes("web") > before);
  }

  @Test
  void aRefusedReloadMakesTheAgentNotReadyUntilAGoodReload() throws Exception {
    String web = memoryTarget("web", repo("web", "a").uri(), "");
    Path config = config("  watchConfig: false\n", web);
    Agent agent = start(config);
    await("synced", () -> succeeded(agent, "web"));
    assertThat(agent.notReady()).isEmpty();

    // by a signal: refused, not ready, and a good reload makes it ready again
    Files.writeString(config, Files.readString(config).replace("interval: 1h", "interval: soon"));
    ConfigException e = catchThrowableOfType(ConfigException.class, agent::reload);
    assertThat(agent.notReady()).containsExactly(
        "the configuration was not reloaded, the agent runs on the one before: " + e.getMessage());
    assertThat(agent.trigger("web")).as("the target runs on").isEqualTo(1);
    config("  watchConfig: true\n", web);
    agent.reload();
    assertThat(agent.notReady()).isEmpty();

    // by an edit the agent saw itself; put back, it is reloaded and ready again
    String good = Files.readString(config);
    Files.writeString(config, good.replace("interval: 1h", "interval: soon"));
    await("the edit was refused", () -> refused.size() == 1);
    assertThat(agent.notReady()).singleElement().asString().contains("targets[0].interval");
    Files.writeString(config, good);
    await("ready again", () -> agent.notReady().isEmpty());

    // a deleted file refuses the look; put back as it runs, there is nothing to reload and it is ready again
    int reloaded = reloads.size();
    Files.delete(config);
    await("the deletion was refused", () -> refused.size() == 2);
    assertThat(agent.notReady()).singleElement().asString().endsWith(config + ": no such file");
    Files.writeString(config, good);
    await("ready again", () -> agent.notReady().isEmpty());
    assertThat(reloads).hasSize(reloaded);
  }

  @Test
  void aTargetThatNeverSyncedSuccessfullySaysItsLastErrorInReadiness() throws Exception {
    TempGitRepo broken = repo("broken");
    broken.write("things/bad.yaml", "type: thing\nname: [unclosed\n");
    broken.commit("a manifest that does not parse");
    Agent agent = start(config("  watchConfig: false\n", memoryTarget("broken", broken.uri(), "")));
    await("the sync failed", () -> agent.status().stream().anyMatch(s -> s.result().equals("error")));

    String lastError = agent.status().get(0).lastError();
    assertThat(lastError).contains("bad.yaml");
    assertThat(agent.notReady()).containsExactly("target broken has not finished a successful sync yet; its last"
        + " sync: error: " + lastError.replaceAll("\\s*\\R\\s*", " "));
  }

  @Test
  void anEmptyFileIsRefusedAtStart() throws IOException {
    Path config = dir.resolve("agent.yaml");
    Files.write(config, new byte[0]);
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> start(config));
    assertThat(e.getMessage()).startsWith(config.toString()).contains("the file is empty");
  }

  @Test
  void aSecondAgentOnTheSameStateDirectoryIsRefusedNamingItAndTheHolder() throws Exception {
    Path config = config("  watchConfig: false\n", memoryTarget("web", repo("web", "a").uri(), ""));
    Agent first = start(config);
    await("synced", () -> succeeded(first, "web"));
    int observed = memory.observes("web");

    StateDirectoryInUseException e = catchThrowableOfType(StateDirectoryInUseException.class, () -> start(config));
    assertThat(e.getMessage()).contains("the state directory " + dir.resolve("state") + " is in use by another agent")
        .contains("(pid " + ProcessHandle.current().pid() + ")");
    assertThat(e.holderPid()).contains(String.valueOf(ProcessHandle.current().pid()));
    assertThat(memory.observes("web")).as("the second agent started no target").isEqualTo(observed);
    assertThat(first.notReady()).as("the first runs on").isEmpty();

    // another file with its own state directory runs beside it; the same one once the first has stopped
    Path other = dir.resolve("other.yaml");
    Files.writeString(other, "agent: {stateDir: state2, watchConfig: false}\ntargets:\n"
        + memoryTarget("api", repo("api", "b").uri(), ""));
    Agent beside = start(other);
    await("the other synced", () -> succeeded(beside, "api"));
    first.close();
    Agent successor = start(config);
    await("the successor synced", () -> succeeded(successor, "web"));
  }

  @Test
  void aReloadMovingToAStateDirectoryInUseIsRefusedAndTheRunningOneStays() throws Exception {
    Path other = dir.resolve("other.yaml");
    Files.writeString(other, "agent: {stateDir: taken, watchConfig: false}\ntargets: []\n");
    start(other);
    Path config = config("  watchConfig: false\n", memoryTarget("web", repo("web", "a").uri(), ""));
    Agent agent = start(config);
    await("synced", () -> succeeded(agent, "web"));

    Files.writeString(config, Files.readString(config).replace("stateDir: state", "stateDir: taken"));
    ConfigException e = catchThrowableOfType(ConfigException.class, agent::reload);
    assertThat(e.getMessage()).contains("agent.stateDir: the state directory " + dir.resolve("taken") + " is in use");
    assertThat(agent.config().stateDir()).isEqualTo(dir.resolve("state"));
    assertThat(catchThrowableOfType(StateDirectoryInUseException.class, () -> start(config("  watchConfig: false\n",
        "  []\n")))).as("it still holds its own").isNotNull();
  }

  @Test
  void aReloadAskedForBySignalThatFailsOtherwiseThanOnItsFileIsLoggedNotLost() throws Exception {
    Agent notStarted = Agent.builder(config("  watchConfig: false\n", memoryTarget("t", repo("t", "a").uri(), "")))
        .providerFactory(memory).environment(Map.of()).build();
    agents.add(notStarted);
    java.io.PrintStream err = System.err;
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    java.util.concurrent.ExecutionException failed;
    System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
    try {
      // what the SIGHUP handler calls: it never reads the future
      failed = catchThrowableOfType(() -> notStarted.reloadLater().get(10, TimeUnit.SECONDS),
          java.util.concurrent.ExecutionException.class);
    } finally {
      System.setErr(err);
    }
    assertThat(failed.getCause()).isInstanceOf(IllegalStateException.class).hasMessageContaining("not started");
    assertThat(refused).as("not a configuration error").isEmpty();
    assertThat(captured.toString(java.nio.charset.StandardCharsets.UTF_8))
        .contains("ERROR").contains("reloading " + dir.resolve("agent.yaml") + " failed").contains("not started");
  }

  @Test
  void shutdownCancelsTheSyncInFlightAtASafePointAndClosesStores() throws Exception {
    Agent agent = start(config("  watchConfig: false\n  gracePeriod: 20s\n",
        memoryTarget("busy", repo("busy", "a").uri(), ", applyDelay: 60s")));
    await("an apply is in flight", () -> memory.applying.containsKey("busy") && memory.applying.get("busy").get() == 1);

    agent.shutdown();

    assertThat(agent.awaitTermination(Duration.ofSeconds(15))).as("stopped well within the grace period").isTrue();
    assertThat(memory.cancelledApplies.get()).as("the apply saw its sync cancelled").isEqualTo(1);
    assertThat(agent.notReady()).containsExactly("the agent is stopping");
    try (FileStateStore store = FileStateStore.open(dir.resolve("state/targets/busy"));
        StoreLock lock = store.lock(Duration.ofSeconds(5))) {
      assertThat(store.load().pending()).as("the cancelled create stays pending, as after a crash").hasSize(1);
    }
  }

  @Test
  void aSyncTheAgentCancelsByAStopOrARestartIsRecordedCancelledNotFailed() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    String agentSection = "  watchConfig: false\n  gracePeriod: 20s\n  maxConcurrentSyncs: 2\n";
    String web = memoryTarget("web", repo("web", "a").uri(), ", applyDelay: 60s");
    String api = memoryTarget("api", repo("api", "b").uri(), ", applyDelay: 60s");
    Agent agent = start(config(agentSection, web + api), Clock.systemUTC(), registry);
    await("both apply", () -> memory.applying.containsKey("web") && memory.applying.get("web").get() == 1
        && memory.applying.containsKey("api") && memory.applying.get("api").get() == 1);

    config(agentSection, web.replace("interval: 1h", "interval: 2h") + api);  // web restarts
    assertThat(agent.reload().restarted()).containsExactly("web");
    assertThat(TargetStatus.read(dir.resolve("state"), "web")).hasValueSatisfying(s -> {
      assertThat(s.result()).isEqualTo("cancelled");
      assertThat(s.lastError()).startsWith("cancelled (its configuration changed): 1 of 1 changes did not finish: ");
    });

    agent.shutdown();
    assertThat(agent.awaitTermination(Duration.ofSeconds(15))).isTrue();
    for (String t : List.of("web", "api")) {
      assertThat(TargetStatus.read(dir.resolve("state"), t)).hasValueSatisfying(s -> {
        assertThat(s.result()).as(t).isEqualTo("cancelled");
        assertThat(s.lastSuccess()).isNull();
      });
    }
    assertThat(TargetStatus.read(dir.resolve("state"), "api").orElseThrow().lastError())
        .startsWith("cancelled (the agent is shutting down): ");
  }

  @Test
  void readinessWaitsForAFirstSuccessAndSaysWhenATargetIsStuck() throws Exception {
    MutableClock clock = new MutableClock();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Agent agent = start(config("  watchConfig: false\n  stuckAfter: 10m\n",
        memoryTarget("web", repo("web", "a").uri(), ", applyDelay: 300ms")), clock, registry);
    assertThat(agent.notReady()).containsExactly("target web has not finished a successful sync yet");
    await("synced", () -> succeeded(agent, "web"));
    assertThat(agent.notReady()).isEmpty();
    assertThat(registry.get("gitops.syncs").tags("target", "web", "result", "succeeded").counter().count())
        .isEqualTo(1);

    clock.advance(Duration.ofHours(4));  // the interval is 1 h: stuck after 3 h without a finished sync
    assertThat(agent.notReady()).singleElement().asString().startsWith("target web is stuck: no sync finished for");

    config("  watchConfig: false\n", "  []\n");
    agent.reload();
    assertThat(registry.find("gitops.syncs").tag("target", "web").counters()).as("a removed target's meters go")
        .isEmpty();
  }

  @Test
  void aSyncRunningLongerThanStuckAfterMakesTheTargetStuck() throws Exception {
    MutableClock clock = new MutableClock();
    Agent agent = start(config("  watchConfig: false\n  stuckAfter: 1m\n", """
          - name: hung
            source: {url: "%s"}
            provider: {type: memory, applyDelay: 60s}
            interval: 1s
        """.formatted(repo("hung", "a").uri())), clock, null);
    await("an apply is in flight", () -> memory.applying.containsKey("hung") && memory.applying.get("hung").get() == 1);
    assertThat(agent.notReady()).containsExactly("target hung has not finished a successful sync yet");

    clock.advance(Duration.ofSeconds(61));  // stuckAfter, not three intervals (3 s) nor the 15 m default

    assertThat(agent.notReady()).containsExactly(
        "target hung is stuck: no sync finished for 61 s (stuck after 60 s)");
  }

  @Test
  void afterARestartStatusShowsTheLastRecordedStatusCarriedOverButReadinessAndStuckAreOfThisRun() throws Exception {
    MutableClock clock = new MutableClock();
    String agentSection = "  watchConfig: false\n  stuckAfter: 10m\n";
    String target = memoryTarget("web", repo("web", "a").uri(), "");
    Path config = config(agentSection, target);
    Agent first = start(config, clock, null);
    await("synced", () -> succeeded(first, "web"));
    TargetStatus recorded = first.status().get(0);
    assertThat(recorded.carriedOver()).isFalse();
    first.close();

    // down for longer than the target's stuck time (3 intervals), then restarted with its first sync held in observe
    clock.advance(Duration.ofHours(5));
    config(agentSection, target.replace("provider: {type: memory}", "provider: {type: memory, observeDelay: 60s}"));
    Agent second = start(config, clock, null);

    assertThat(second.status()).as("listed at once, as the status file recorded it").singleElement()
        .isEqualTo(recorded.asCarriedOver());
    assertThat(second.status().get(0).toJson().path("carriedOver").asBoolean()).isTrue();
    assertThat(TargetStatus.read(dir.resolve("state"), "web")).as("the file is not rewritten")
        .hasValue(recorded);
    assertThat(second.notReady()).as("ready means synced since the start; the time it was down is not stuck")
        .containsExactly("target web has not finished a successful sync yet");
    clock.advance(Duration.ofHours(3).plusSeconds(1));  // the first sync of this run still hangs
    assertThat(second.notReady()).containsExactly(
        "target web is stuck: no sync finished for 10801 s (stuck after 10800 s)");
  }

  @Test
  void aReloadThatRestartsATargetKeepsItsStatusCarriedOverUntilItsFirstSyncEnds() throws Exception {
    String web = memoryTarget("web", repo("web", "a").uri(), "");
    String api = memoryTarget("api", repo("api", "b").uri(), "");
    Agent agent = start(config("  watchConfig: false\n", web + api));
    await("both synced", () -> succeeded(agent, "web") && succeeded(agent, "api"));
    List<TargetStatus> before = agent.status();

    config("  watchConfig: false\n", web.replace("provider: {type: memory}",
        "provider: {type: memory, observeDelay: 60s}") + api);
    assertThat(agent.reload().restarted()).containsExactly("web");

    // in the file's order still: the restarted target keeps its place
    assertThat(agent.status()).containsExactly(before.get(0).asCarriedOver(), before.get(1));
    assertThat(agent.notReady()).containsExactly("target web has not finished a successful sync yet");
  }

  @Test
  void anUnreadableStatusFileIsWarnedOfAndItsTargetStartsWithoutAStatusBesideTheOthers() throws Exception {
    String web = memoryTarget("web", repo("web", "a").uri(), ", observeDelay: 60s");
    String api = memoryTarget("api", repo("api", "b").uri(), ", observeDelay: 60s");
    Path state = dir.resolve("state");
    TargetStatus apiBefore = new TargetStatus("api", "memory", "main@sha1:0123", "failed",
        Instant.parse("2026-12-01T10:00:00Z"), null, List.of(), false, "1 of 1 changes failed");
    apiBefore.write(state);
    Path damaged = TargetStatus.file(state, "web");
    Files.writeString(damaged, "{\"target\": \"web\", \"revis");  // cut short by a full disk, say

    java.io.PrintStream err = System.err;
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
    Agent agent;
    try {
      agent = start(config("  watchConfig: false\n", web + api));
    } finally {
      System.setErr(err);
    }

    assertThat(agent.status()).containsExactly(apiBefore.asCarriedOver());
    assertThat(captured.toString(java.nio.charset.StandardCharsets.UTF_8))
        .contains("WARN").contains("target web: ignoring an unreadable status file").contains(damaged.toString());
    assertThat(agent.notReady()).containsExactly("target web has not finished a successful sync yet",
        "target api has not finished a successful sync yet");
  }

  @Test
  void theLastSuccessMetricAfterARestartIsTheOneTheStatusFileRecords() throws Exception {
    String target = memoryTarget("web", repo("web", "a").uri(), "");
    Path config = config("  watchConfig: false\n", target);
    Agent first = start(config, Clock.systemUTC(), new SimpleMeterRegistry());
    await("synced", () -> succeeded(first, "web"));
    first.close();
    Instant recorded = TargetStatus.read(dir.resolve("state"), "web").orElseThrow().lastSuccess();
    assertThat(recorded).isNotNull();

    // restarted, with its first sync held up in observe: nothing has succeeded in this process yet
    config("  watchConfig: false\n", target.replace("provider: {type: memory}",
        "provider: {type: memory, observeDelay: 60s}"));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    start(config, Clock.systemUTC(), registry);

    double seconds = registry.get("gitops.sync.last.success").tags("target", "web").timeGauge()
        .value(TimeUnit.MILLISECONDS);
    assertThat((long) seconds).as("the last success the status file records, not 0 (never)")
        .isEqualTo(recorded.toEpochMilli());
  }

  /** What {@code /readyz} says while a reload of {@code agent} is held in the stop of {@code target}. */
  List<String> readinessWhileAReloadStops(Agent agent, String target) throws Exception {
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    memory.closeGates.put(target, release);
    java.util.concurrent.CompletableFuture<Agent.ReloadResult> reload =
        java.util.concurrent.CompletableFuture.supplyAsync(agent::reload);
    try {
      await("the reload is stopping " + target, () -> memory.closing.contains(target) || reload.isDone());
      assertThat(reload).as("the reload waits for the stop").isNotDone();
      return agent.notReady();
    } finally {
      release.countDown();
      reloads.add(reload.get(30, TimeUnit.SECONDS));
    }
  }

  @Test
  void readinessDuringAReloadSaysAChangedTargetIsRestartingNotThatItCouldNotStart() throws Exception {
    String web = memoryTarget("web", repo("web", "a").uri(), "");
    String changing = memoryTarget("changing", repo("changing", "c").uri(), "");
    Path config = config("  watchConfig: false\n", web + changing);
    Agent agent = start(config);
    await("both synced", () -> succeeded(agent, "web") && succeeded(agent, "changing"));

    config("  watchConfig: false\n", web + changing.replace("interval: 1h", "interval: 2h"));

    assertThat(readinessWhileAReloadStops(agent, "changing"))
        .containsExactly("target changing is restarting (its configuration changed)");
    assertThat(reloads.get(0).restarted()).containsExactly("changing");
    await("the restarted target synced", () -> agent.notReady().isEmpty());
  }

  @Test
  void aTargetRemovedInAReloadNoLongerCountsWhileItStops() throws Exception {
    String web = memoryTarget("web", repo("web", "a").uri(), "");
    String leaving = memoryTarget("leaving", repo("leaving", "l").uri(), "");
    Path config = config("  watchConfig: false\n", web + leaving);
    Agent agent = start(config);
    await("both synced", () -> succeeded(agent, "web") && succeeded(agent, "leaving"));

    config("  watchConfig: false\n", web);

    assertThat(readinessWhileAReloadStops(agent, "leaving")).as("it is no longer configured").isEmpty();
    assertThat(reloads.get(0).stopped()).containsExactly("leaving");
    assertThat(agent.notReady()).isEmpty();
  }

  @Test
  void aReloadStopsItsHungTargetsTogetherInAboutOneGracePeriod() throws Exception {
    Duration grace = Duration.ofSeconds(2);
    List<String> hung = List.of("gone1", "gone2", "changed");
    List<FileStateStore> held = new ArrayList<>();
    List<StoreLock> locks = new ArrayList<>();
    try {
      // Their stores are locked by someone else (a 'gitops sync' by hand, say): each sync waits for the
      // lock (30 s), reaching no safe point within the grace period; closing the loop interrupts it.
      for (String t : hung) {
        FileStateStore store = FileStateStore.open(dir.resolve("state/targets/" + t));
        held.add(store);
        locks.add(store.lock(Duration.ofSeconds(5)));
      }
      String kept = memoryTarget("kept", repo("kept", "k").uri(), "");
      String changed = memoryTarget("changed", repo("changed", "c").uri(), "");
      String agentSection = "  watchConfig: false\n  maxConcurrentSyncs: 5\n  gracePeriod: 2s\n";
      Agent agent = start(config(agentSection, kept + memoryTarget("gone1", repo("gone1", "a").uri(), "")
          + memoryTarget("gone2", repo("gone2", "b").uri(), "") + changed));
      await("kept synced", () -> succeeded(agent, "kept"));
      await("three syncs hang", () -> agent.syncsInFlight() == 3);

      config(agentSection, kept + changed.replace("interval: 1h", "interval: 2h"));
      long start = System.nanoTime();
      java.util.concurrent.CompletableFuture<Agent.ReloadResult> reload =
          java.util.concurrent.CompletableFuture.supplyAsync(agent::reload);
      await("the reload is stopping", () -> agent.notReady().contains(
          "target changed is restarting (its configuration changed)") || reload.isDone());
      assertThat(agent.status()).as("status answers while the reload waits").extracting(TargetStatus::target)
          .containsExactly("kept");
      Agent.ReloadResult r = reload.get(60, TimeUnit.SECONDS);
      Duration took = Duration.ofNanos(System.nanoTime() - start);
      locks.forEach(StoreLock::close);
      locks.clear();

      assertThat(r.stopped()).containsExactly("gone1", "gone2");
      assertThat(r.restarted()).containsExactly("changed");
      assertThat(r.unchanged()).containsExactly("kept");
      // each stop waited for its hung sync up to the grace period, all at once: not 3 × 2 s one after another
      assertThat(took).as("the reload took").isGreaterThanOrEqualTo(grace).isLessThan(grace.multipliedBy(2));
      for (String t : hung) {
        assertThat(memory.closes(t)).as("%s stopped anyway after its grace period", t).isEqualTo(1);
      }
      await("the restarted target synced", () -> succeeded(agent, "changed"));
      assertThat(agent.notReady()).isEmpty();
      assertThat(TargetStatus.read(dir.resolve("state"), "gone1")).as("a stopped target's sync records nothing")
          .isEmpty();
    } finally {
      locks.forEach(StoreLock::close);
      held.forEach(FileStateStore::close);
    }
  }

  /** Makes closing {@code what} (a prefix: "its reconcile loop", "its Git source") fail when {@code target} stops. */
  static List<String> failClosing(Agent agent, String target, String what) {
    List<String> attempted = new CopyOnWriteArrayList<>();
    agent.runtime(target).beforeClose(closing -> {
      attempted.add(closing);
      if (closing.startsWith(what)) {
        throw new IllegalStateException("injected: " + closing + " cannot close");
      }
    });
    return attempted;
  }

  @Test
  void aStopWhoseLoopFailsToCloseStillClosesTheStoreSourceAndProviderAndSaysWhatFailed() throws Exception {
    Path config = config("  watchConfig: false\n", memoryTarget("web", repo("web", "a").uri(), ""));
    Agent agent = start(config);
    await("synced", () -> succeeded(agent, "web"));
    List<String> attempted = failClosing(agent, "web", "its reconcile loop");

    config("  watchConfig: false\n", "  []\n");
    IllegalStateException e = catchThrowableOfType(IllegalStateException.class, agent::reload);

    assertThat(attempted).as("every resource is closed, not only those before the failure")
        .hasSize(4).anyMatch(w -> w.startsWith("its state store")).anyMatch(w -> w.startsWith("its Git source"))
        .contains("its provider");
    assertThat(memory.closes("web")).as("the provider is closed").isEqualTo(1);
    assertThat(e).hasMessageContaining("target web did not stop cleanly (removed from the configuration)")
        .hasMessageContaining("closing its reconcile loop failed").hasMessageContaining("injected");
    assertThat(agent.notReady()).as("a removed target no longer counts").isEmpty();
  }

  @Test
  void aReloadWhoseStopOfOneTargetFailsStillRestartsTheOthersAndReadinessNamesIt() throws Exception {
    String a = memoryTarget("a", repo("a", "x").uri(), "");
    String b = memoryTarget("b", repo("b", "y").uri(), "");
    String c = memoryTarget("c", repo("c", "z").uri(), "");
    Path config = config("  watchConfig: false\n", a + b + c);
    Agent agent = start(config);
    await("all synced", () -> succeeded(agent, "a") && succeeded(agent, "b") && succeeded(agent, "c"));
    failClosing(agent, "a", "its Git source");

    String changed = "interval: 2h";
    config("  watchConfig: false\n", a.replace("interval: 1h", changed) + b.replace("interval: 1h", changed) + c);
    IllegalStateException e = catchThrowableOfType(IllegalStateException.class, agent::reload);

    assertThat(e).hasMessageContaining("target a did not stop cleanly (its configuration changed)")
        .hasMessageContaining("the rest of the reload was applied").hasMessageContaining("restarted [b]");
    assertThat(memory.closes("a")).as("a's provider is closed although its source failed to close").isEqualTo(1);
    assertThat(agent.runtime("a")).as("a target whose stop failed is not restarted").isNull();
    assertThat(agent.runtime("b").config().interval()).as("b restarted with its new configuration")
        .isEqualTo(Duration.ofHours(2));
    assertThat(agent.runtime("c")).isNotNull();
    await("b synced again", () -> succeeded(agent, "b"));
    assertThat(agent.notReady()).containsExactly("target a is not running: it did not stop cleanly in a reload and"
        + " was not restarted (see the log); the next reload starts it again");

    Agent.ReloadResult again = agent.reload();
    assertThat(again.started()).containsExactly("a");
    assertThat(agent.runtime("a").config().interval()).isEqualTo(Duration.ofHours(2));
    await("a synced again", () -> agent.notReady().isEmpty());
  }

  @Test
  void aSyncRefusedOnAnotherOwnersStoreIsReportedWithTheTargetsOwnerAndStoreKeys() throws Exception {
    String web = memoryTarget("web", repo("web", "a").uri(), "");
    Path config = config("  watchConfig: false\n", web);
    Agent agent = start(config);
    await("synced", () -> succeeded(agent, "web"));

    // the memory provider marks nothing: its store, written by owner 'web', is refused to owner 'other'
    config("  watchConfig: false\n", web.replace("interval: 1h", "owner: other\n    interval: 1h"));
    java.io.PrintStream err = System.err;
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
    try {
      assertThat(agent.reload().restarted()).containsExactly("web");
      await("the sync was refused", () -> agent.status().stream().anyMatch(s -> s.result().equals("error"))
          && captured.toString(java.nio.charset.StandardCharsets.UTF_8).contains("sync of the head failed"));
    } finally {
      System.setErr(err);
    }

    String store = dir.resolve("state/targets/web").toString();
    String expected = "target web: the state store " + store + " belongs to owner 'web', not to the target's owner"
        + " 'other' (its 'owner:' key, default its name)";
    String wayOut = "Set 'owner: web' on target web in the agent's configuration, or give it a store of its own with"
        + " its 'store:' key";
    TargetStatus status = agent.status().get(0);
    assertThat(status.lastError()).startsWith(expected).contains(wayOut).doesNotContain("Run as owner");
    assertThat(agent.notReady()).singleElement().asString().startsWith(expected).contains(wayOut);
    String log = captured.toString(java.nio.charset.StandardCharsets.UTF_8);
    assertThat(log).contains(expected).contains(wayOut).doesNotContain("Run as owner");
  }

  @Test
  void aReloadRestartsAChangedTargetWithoutWaitingForStalledNotifiersToClose() throws Exception {
    List<java.net.Socket> held = new CopyOnWriteArrayList<>();
    try (java.net.ServerSocket stalled = NotificationsTest.stalled(held)) {
      String agentSection = "  watchConfig: false\n";
      String hook = "  - type: webhook\n    url: http://127.0.0.1:" + stalled.getLocalPort() + "/hook\n"
          + "    minSeverity: %s\n";
      String notifications = "notifications:\n" + hook.repeat(3);
      String web = memoryTarget("web", repo("web", "a").uri(), "");
      Path config = config(agentSection, web);
      Files.writeString(config, Files.readString(config) + notifications.formatted("info", "info", "info"));
      Agent agent = start(config);
      await("synced", () -> succeeded(agent, "web"));
      await("every webhook holds a notification in flight", () -> held.size() >= 3);

      config(agentSection, web.replace("interval: 1h", "interval: 2h"));
      Files.writeString(config, Files.readString(config) + notifications.formatted("warning", "warning", "warning"));
      long start = System.nanoTime();
      Agent.ReloadResult r = agent.reload();
      // closing the three old webhooks one after the other took ~18 s, with the target stopped
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
      assertThat(r.restarted()).containsExactly("web");
      await("the restarted target synced", () -> succeeded(agent, "web"));
    } finally {
      for (java.net.Socket s : held) {
        s.close();
      }
    }
  }

  @Test
  void aReloadReadsANotifiersSecretFileAgainAndSignsWithTheRotatedSecretThoughTheEntryIsTheSame() throws Exception {
    List<String> signedWith = new CopyOnWriteArrayList<>();  // which secret signed each delivery
    com.sun.net.httpserver.HttpServer hooks = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
    hooks.createContext("/hook", exchange -> {
      try (exchange) {
        byte[] body = exchange.getRequestBody().readAllBytes();
        String signature = exchange.getRequestHeaders().getFirst(dev.gitops.notify.WebhookNotifier.SIGNATURE_HEADER);
        for (String secret : List.of("first", "rotated")) {
          if (dev.gitops.notify.WebhookNotifier.signature(secret.getBytes(StandardCharsets.UTF_8), body)
              .equals(signature)) {
            signedWith.add(secret);
          }
        }
        exchange.sendResponseHeaders(204, -1);
      }
    });
    hooks.start();
    try {
      Path secret = Files.writeString(dir.resolve("hook-secret"), "first\n");
      TempGitRepo repo = repo("web", "a");
      Path config = config("  watchConfig: false\n", memoryTarget("web", repo.uri(), ""));
      Files.writeString(config, Files.readString(config) + "notifications:\n  - type: webhook\n    url: http://127.0.0.1:"
          + hooks.getAddress().getPort() + "/hook\n    secret: {file: hook-secret}\n    events: [sync-started]\n");
      Agent agent = start(config);
      await("the first revision's sync-started delivered", () -> signedWith.size() == 1);

      Files.writeString(secret, "rotated\n");  // a mounted secret rotated; agent.yaml is unchanged
      Agent.ReloadResult r = agent.reload();
      assertThat(r.notificationsChanged()).as("the notifiers are replaced").isTrue();
      assertThat(r.unchanged()).containsExactly("web");
      assertThat(agent.reload().notificationsChanged()).as("not again while the secret stays").isFalse();

      repo("web", "b");
      agent.trigger("web");
      await("the second revision's sync-started delivered", () -> signedWith.size() == 2);
      assertThat(signedWith).containsExactly("first", "rotated");
    } finally {
      hooks.stop(0);
    }
  }

  @Test
  void aNotificationOfASyncRefusedOnAnotherOwnersStoreSaysWhatTheStatusAndReadinessSay() throws Exception {
    List<String> messages = new CopyOnWriteArrayList<>();
    com.sun.net.httpserver.HttpServer hooks = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
    hooks.createContext("/hook", exchange -> {
      try (exchange) {
        byte[] body = exchange.getRequestBody().readAllBytes();
        messages.add(new com.fasterxml.jackson.databind.ObjectMapper().readTree(body).path("message").asText());
        exchange.sendResponseHeaders(204, -1);
      }
    });
    hooks.start();
    try {
      String agentSection = "  watchConfig: false\n";
      String notifications = "notifications:\n  - type: webhook\n    url: http://127.0.0.1:"
          + hooks.getAddress().getPort() + "/hook\n    events: [sync-failed]\n";
      String web = memoryTarget("web", repo("web", "a").uri(), "");
      Path config = config(agentSection, web);
      Files.writeString(config, Files.readString(config) + notifications);
      Agent agent = start(config);
      await("synced", () -> succeeded(agent, "web"));

      config(agentSection, web.replace("interval: 1h", "owner: other\n    interval: 1h"));
      Files.writeString(config, Files.readString(config) + notifications);
      assertThat(agent.reload().restarted()).containsExactly("web");
      // the status listener runs after the notifications' (so that a finished status means they were
      // sent): the restarted target's status can still be empty when the notification has arrived
      await("the refusal was notified and is in the status", () -> !messages.isEmpty()
          && agent.status().stream().anyMatch(s -> !s.carriedOver()));

      String said = agent.status().get(0).lastError();
      assertThat(said).startsWith("target web: the state store ");
      assertThat(messages).singleElement().asString().isEqualTo("sync failed: " + said).doesNotContain("Run as owner");
      assertThat(agent.notReady()).containsExactly(said);
    } finally {
      hooks.stop(0);
    }
  }

  @Test
  void theFilesProviderConvergesADirectoryAndStatusRecordsDrift() throws Exception {
    TempGitRepo repo = repo("files");
    repo.write("app.conf", "port = 8080\n").write("motd", "hello\n");
    repo.commit("files");
    Path live = dir.resolve("live");
    Agent agent = start(config("  watchConfig: false\n", """
          - name: site
            source: {url: "%s"}
            provider: {type: files, directory: live}
            interval: 1h
        """.formatted(repo.uri())));
    await("synced", () -> succeeded(agent, "site"));
    assertThat(Files.readString(live.resolve("app.conf"))).isEqualTo("port = 8080\n");

    Files.writeString(live.resolve("motd"), "changed by hand\n");
    Instant before = agent.status().get(0).finished();
    agent.trigger("site");
    await("synced again", () -> agent.status().get(0).finished().isAfter(before));

    TargetStatus s = TargetStatus.read(dir.resolve("state"), "site").orElseThrow();
    assertThat(s.drift()).containsExactly("files:file::motd");
    assertThat(s.driftCorrected()).isTrue();
    assertThat(s.provider()).isEqualTo("files");
    assertThat(Files.readString(live.resolve("motd"))).isEqualTo("hello\n");
  }

  @Test
  void aStoreLeftBehindByAMovedStateDirectoryIsSaidWithAdviceTheAgentCanFollow() throws Exception {
    TempGitRepo repo = repo("files");
    repo.write("motd", "hello\n");
    repo.commit("files");
    Path config = config("  watchConfig: false\n", """
          - name: site
            source: {url: "%s"}
            provider: {type: files, directory: live}
            interval: 1h
        """.formatted(repo.uri()));
    Agent agent = start(config);
    await("synced", () -> succeeded(agent, "site"));

    Files.writeString(config, Files.readString(config).replace("stateDir: state", "stateDir: moved"));
    assertThat(agent.reload().restarted()).containsExactly("site");
    await("the sync was refused", () -> agent.status().stream().anyMatch(s -> s.result().equals("error")));

    String said = agent.status().get(0).lastError();
    assertThat(said).contains("the state store is missing or empty")
        .contains("move its store from where it was (targets/site under the earlier stateDir) to "
            + dir.resolve("moved/targets/site"))
        .contains("set 'store:' on target site").contains("The agent cannot rebuild a store itself")
        .doesNotContain("--rebuild-store").doesNotContain("SyncOptions.rebuildStore");
    assertThat(agent.notReady()).singleElement().asString().contains(said);
  }

  @Test
  void theSourcesFileSizeLimitIsTheOneItsEntryGives() throws Exception {
    TempGitRepo repo = repo("big");
    int big = 2 * 1024 * 1024;
    repo.write("config.json", "{\"data\": \"" + "x".repeat(big - 13) + "\"}\n");
    repo.commit("a 2 MiB config");
    String target = """
          - name: %s
            source: {url: "%s"%s}
            provider: {type: files, directory: %s}
            interval: 1h
        """;
    Agent agent = start(config("  watchConfig: false\n", target.formatted("limited", repo.uri(), "", "limited")
        + target.formatted("raised", repo.uri(), ", maxFileSize: 4MiB", "raised")));
    await("the raised one synced", () -> succeeded(agent, "raised"));
    assertThat(Files.size(dir.resolve("raised/config.json"))).isEqualTo(big);
    await("the default one failed", () -> agent.status().stream()
        .anyMatch(s -> s.target().equals("limited") && s.result().equals("error")));
    assertThat(TargetStatus.read(dir.resolve("state"), "limited")).hasValueSatisfying(s -> assertThat(s.lastError())
        .contains("config.json").contains("more than the limit of 1048576 bytes").contains("source.maxFileSize"));
    assertThat(dir.resolve("limited/config.json")).doesNotExist();
  }

  @Test
  void aTargetThatRequiresSignaturesSyncsASignedCommitAndRefusesAnUnsignedOneSayingSoInItsStatusAndReadiness()
      throws Exception {
    SigningKey key = SigningKey.generate("Release <release@example.com>");
    Path ring = key.writeArmoredRing(dir.resolve("trusted.asc"));
    TempGitRepo signed = repo("signed", "a");
    String signedCommit = key.signHead(signed.dir());
    TempGitRepo unsigned = repo("unsigned", "b");
    String unsignedCommit = unsigned.head();
    String target = """
          - name: %s
            source:
              url: "%s"
              verify: {keyRing: %s, mode: HEAD}
            provider: {type: memory}
            interval: 1h
        """;
    Agent agent = start(config("  watchConfig: false\n", target.formatted("signed", signed.uri(), ring)
        + target.formatted("unsigned", unsigned.uri(), ring)));
    await("the signed one synced", () -> succeeded(agent, "signed"));
    assertThat(live("signed").snapshot()).hasSize(1);
    await("the unsigned one failed", () -> agent.status().stream()
        .anyMatch(s -> s.target().equals("unsigned") && s.result().equals("error")));
    String said = TargetStatus.read(dir.resolve("state"), "unsigned").orElseThrow().lastError();
    assertThat(said).contains("commit " + unsignedCommit).contains("not signed");
    assertThat(agent.notReady()).singleElement().asString().startsWith("target unsigned has not finished a successful"
        + " sync yet").contains(unsignedCommit);
    assertThat(live("unsigned").snapshot()).as("nothing applied").isEmpty();
    assertThat(TargetStatus.read(dir.resolve("state"), "signed").orElseThrow().revision()).endsWith(signedCommit);
  }

  /**
   * A clock tests move by hand, with the monotonic ticker ({@link #nanos}) that goes with it: {@link
   * #advance} moves both (time passes), {@link #stepWallClock} only the wall clock (as NTP steps it).
   */
  static final class MutableClock extends Clock {
    private volatile Instant now = Instant.now();
    private final java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong();

    void advance(Duration d) {
      now = now.plus(d);
      nanos.addAndGet(d.toNanos());
    }

    void stepWallClock(Duration d) {
      now = now.plus(d);
    }

    long nanos() {
      return nanos.get();
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }
}
