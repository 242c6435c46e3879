package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.StoreLock;
import dev.gitops.api.spi.StoredState;
import dev.gitops.core.source.GitDaemonServer;
import dev.gitops.core.source.SilentServer;
import dev.gitops.core.source.TestGitRepo;
import dev.gitops.core.store.FileStateStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gitops run} as a real process against real Git over {@code git daemon} on loopback, with
 * the files provider and the in-memory provider: scraped, reconfigured by SIGHUP, stopped by
 * SIGTERM (twice when the first is not enough), killed with -9 and restarted.
 */
class AgentProcessIT {

  @TempDir
  Path tmp;

  Path repos;
  GitDaemonServer daemon;

  @BeforeEach
  void gitServer() throws Exception {
    repos = tmp.resolve("repos");
    Files.createDirectories(repos);
    daemon = GitDaemonServer.start(repos);
  }

  @AfterEach
  void stopGit() throws InterruptedException {
    daemon.close();
  }

  TestGitRepo repo(String name) throws IOException {
    return TestGitRepo.init(repos.resolve(name));
  }

  Path config(String text) throws IOException {
    Path f = tmp.resolve("agent.yaml");
    Files.writeString(f, text);
    return f;
  }

  static String things(String... names) {
    StringBuilder b = new StringBuilder();
    for (String n : names) {
      b.append("---\ntype: thing\nname: ").append(n).append("\nspec: {size: ").append(n.length()).append("}\n");
    }
    return b.toString();
  }

  @Test
  void filesAndMemoryTargetsAreSyncedScrapedReloadedBySighupAndStoppedBySigterm() throws Exception {
    repo("site").write("app.conf", "port = 8080\n").write("motd", "hello\n").commit("site");
    repo("things").write("things.yaml", things("a", "b")).commit("two things");
    repo("more").write("more.yaml", things("x", "y", "z")).commit("three more");
    String site = """
          - name: site
            source: {url: "%s", ref: main}
            provider: {type: files, directory: live/site}
            interval: 1h
        """.formatted(daemon.url("site"));
    String things = """
          - name: things
            source: {url: "%s"}
            provider: {type: memory}
            interval: 1h
        """.formatted(daemon.url("things"));
    String more = """
          - name: more
            source: {url: "%s"}
            provider: {type: memory}
            interval: 1h
        """.formatted(daemon.url("more"));
    String head = "agent:\n  stateDir: state\n  watchConfig: false\n  gracePeriod: 20s\ntargets:\n";
    Path config = config(head + site + things);

    try (AgentProcess agent = AgentProcess.start(tmp, config)) {
      agent.await("both targets synced", () -> agent.sample("gitops_syncs_total", "site", "result=succeeded") == 1
          && agent.sample("gitops_syncs_total", "things", "result=succeeded") == 1);
      assertThat(Files.readString(tmp.resolve("live/site/app.conf"))).isEqualTo("port = 8080\n");
      assertThat(agent.sample("gitops_resources", "things", "status=in_sync")).isEqualTo(2);
      assertThat(agent.sample("gitops_resources", "site", "status=in_sync")).isEqualTo(2);
      assertThat(agent.sample("gitops_changes_applied_total", "things", "action=create", "provider=memory")).isEqualTo(2);
      assertThat(agent.sample("gitops_sync_last_success_seconds", "site")).isPositive();
      assertThat(agent.get("/healthz").statusCode()).isEqualTo(200);
      agent.await("ready", () -> agent.get("/readyz").statusCode() == 200);

      GitopsJar.Result table = GitopsJar.run(tmp, "status", "--config", config.toString());
      assertThat(table.code()).as(table.toString()).isZero();
      assertThat(table.out().lines().toList()).hasSize(3);
      assertThat(table.out()).containsPattern("site +files +main@sha1:[0-9a-f]{12} +succeeded +none")
          .containsPattern("things +memory +main@sha1:[0-9a-f]{12} +succeeded +none");
      GitopsJar.Result json = GitopsJar.run(tmp, "status", "--config", config.toString(), "--format", "json");
      JsonNode parsed = new ObjectMapper().readTree(json.out());
      assertThat(parsed).hasSize(2);
      assertThat(parsed.get(1).get("target").asText()).isEqualTo("things");
      assertThat(parsed.get(1).get("revision").asText()).matches("main@sha1:[0-9a-f]{40}");
      assertThat(parsed.get(1).get("result").asText()).isEqualTo("succeeded");

      // Reconfigured: site leaves (its files stay), more arrives, things is unchanged.
      config(head + things + more);
      agent.signal("HUP");
      agent.await("reloaded", () -> agent.out().stream().anyMatch(l -> l.startsWith("reloaded ")));
      assertThat(agent.out()).anyMatch(l -> l.contains("started [more], stopped [site], restarted [], unchanged [things]"));
      agent.await("the added target synced", () -> agent.sample("gitops_resources", "more", "status=in_sync") == 3);
      assertThat(agent.sample("gitops_syncs_total", "site", "result=succeeded")).as("site's meters are gone").isEqualTo(-1);
      assertThat(agent.sample("gitops_syncs_total", "things", "result=succeeded")).as("things was not restarted")
          .isEqualTo(1);
      assertThat(Files.readString(tmp.resolve("live/site/motd"))).as("nothing pruned on the way out").isEqualTo("hello\n");

      // An invalid file on SIGHUP: refused naming the line, the running configuration stays, but the
      // agent is not ready (it does not run what its file says) until a reload succeeds.
      String good = Files.readString(config);
      Files.writeString(config, good.replace("interval: 1h", "interval: [1h"));
      agent.signal("HUP");
      agent.await("refused", () -> agent.out().stream().anyMatch(l -> l.startsWith("not reloaded")));
      assertThat(agent.out()).anyMatch(l -> l.contains("agent.yaml:") && l.contains("malformed YAML"));
      java.net.http.HttpResponse<String> refused = agent.get("/readyz");
      assertThat(refused.statusCode()).isEqualTo(503);
      assertThat(refused.body()).contains("the configuration was not reloaded, the agent runs on the one before: ")
          .contains("agent.yaml:").contains("malformed YAML");
      Files.writeString(config, good);
      agent.signal("HUP");
      agent.await("reloaded again", () -> agent.out().stream().filter(l -> l.startsWith("reloaded ")).count() == 2);
      agent.await("ready again", () -> agent.get("/readyz").statusCode() == 200);

      agent.signal("TERM");
      assertThat(agent.awaitExit(Duration.ofSeconds(30))).as(agent.toString()).isZero();
      assertThat(agent.out()).contains("stopped");
    }
    for (String t : List.of("things", "more")) {
      try (FileStateStore store = FileStateStore.open(tmp.resolve("state/targets/" + t));
          StoreLock lock = store.lock(Duration.ofSeconds(5))) {
        assertThat(store.load().inventory()).as("%s's store: closed, nothing lost", t).isNotEmpty();
      }
    }
  }

  @Test
  void aSighupAndASigtermWhileTheTargetsStartAreActedOnOnceTheyHaveStartedNotTheJvmsDefault() throws Exception {
    // many targets take a while to start, and the port is served before they do (a port in use
    // stops the start first): a probe that finds it up may signal the agent while it starts
    StringBuilder yaml = new StringBuilder("agent: {stateDir: state, gracePeriod: 5s}\ntargets:\n");
    for (int i = 0; i < 150; i++) {
      yaml.append("  - name: t").append(i).append("\n    source: {url: \"git://127.0.0.1:1/none\"}\n")
          .append("    provider: {type: files, directory: live/t").append(i).append("}\n");
    }
    int port;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }
    try (AgentProcess agent = AgentProcess.launch(tmp, config(yaml.toString()), port)) {
      agent.await("/healthz answers", () -> agent.get("/healthz").statusCode() == 200);
      agent.signal("HUP");
      agent.signal("TERM");
      assertThat(agent.awaitExit(AgentProcess.WAIT)).as("%s", agent).isZero();
      assertThat(agent.out()).as("%s", agent).anyMatch(l -> l.startsWith("stopping")).contains("stopped");
    }
  }

  @Test
  void aSecondSigtermWithinTheGracePeriodStopsAtOnce() throws Exception {
    // A git:// server that accepts and never answers: the fetch blocks in a socket read, which no
    // cancellation or interrupt ends (documented on GitSource.Builder.timeout), so the sync stays in flight.
    try (SilentServer silent = SilentServer.start();
        AgentProcess agent = AgentProcess.start(tmp, silentTarget(silent, "60s"))) {
      agent.await("the fetch is waiting for the server", () -> silent.connections() > 0);
      Thread.sleep(500);
      agent.signal("TERM");
      agent.await("stopping", () -> agent.out().stream().anyMatch(l -> l.startsWith("stopping")));
      Thread.sleep(1500);
      assertThat(agent.isAlive()).as("the first SIGTERM waits for the sync in flight\n%s", agent).isTrue();
      assertThat(agent.get("/readyz").statusCode()).isEqualTo(503);
      agent.signal("TERM");
      assertThat(agent.awaitExit(Duration.ofSeconds(15))).isEqualTo(1);
      assertThat(agent.out()).anyMatch(l -> l.startsWith("stopped at once by a second signal with 1 sync in flight"));
    }
  }

  @Test
  void oneSigtermDeliveredTwiceAtOnceAsTimeoutDoesIsOneGracefulStop() throws Exception {
    // timeout(1) signals its child, then its process group: the agent gets SIGTERM twice, microseconds
    // apart (or once, when the kernel merges the second into the first still pending). That is one
    // request to stop: the agent waits its grace period and exits 0, not 1 at once (StopRequestsTest
    // holds the rule to a clock of its own).
    try (SilentServer silent = SilentServer.start();
        AgentProcess agent = AgentProcess.start(tmp, silentTarget(silent, "3s"))) {
      agent.await("the fetch is waiting for the server", () -> silent.connections() > 0);
      Thread.sleep(500);
      Process kill = new ProcessBuilder("sh", "-c", "kill -TERM " + agent.pid() + "; kill -TERM " + agent.pid())
          .inheritIO().start();
      assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(agent.awaitExit(Duration.ofSeconds(30))).as("%s", agent).isZero();
      assertThat(agent.out()).as("%s", agent).contains("stopped").noneMatch(l -> l.startsWith("stopped at once"));
    }
  }

  /** An agent's configuration with one target whose source is {@code silent}, which never answers. */
  private Path silentTarget(SilentServer silent, String gracePeriod) throws IOException {
    return config("""
        agent:
          stateDir: state
          gracePeriod: %s
        targets:
          - name: slow
            source: {url: "git://127.0.0.1:%d/slow"}
            provider: {type: memory}
        """.formatted(gracePeriod, silent.port()));
  }

  @Test
  void aProviderThatIgnoresCancellationDoesNotHoldTheFirstSigterm() throws Exception {
    repo("slow").write("things.yaml", things("a")).commit("one thing");
    Path config = config("""
        agent:
          stateDir: state
          gracePeriod: 60s
        targets:
          - name: slow
            source: {url: "%s"}
            provider: {type: memory, observeDelay: 120s, cancellable: false}
        """.formatted(daemon.url("slow")));
    try (AgentProcess agent = AgentProcess.start(tmp, config)) {
      agent.await("the source was read", () -> agent.sample("gitops_source_fetch_duration_seconds_count", "slow") == 1);
      Thread.sleep(500);  // inside the provider's observe, which ignores cancellation: abandoned, as an apply is
      agent.signal("TERM");
      assertThat(agent.awaitExit(Duration.ofSeconds(15))).as(agent.toString()).isZero();
      assertThat(agent.out()).contains("stopped");
    }
  }

  @Test
  void warningsAndErrorsAreLoggedOnStderrByDefaultAndInfoWithVerbose() throws Exception {
    repo("one").write("things.yaml", things("a")).commit("one thing");
    Files.writeString(tmp.resolve("not-a-directory"), "x");
    Path config = config("""
        agent: {stateDir: state, watchConfig: false}
        targets:
          - name: one
            source: {url: "%s"}
            provider: {type: memory}
            interval: 1h
          - name: blocked
            source: {url: "%s"}
            provider: {type: memory}
            store: "not-a-directory/st\\nore [main] ERROR forged\\e[2J"
        """.formatted(daemon.url("one"), daemon.url("one")));
    try (AgentProcess agent = AgentProcess.start(tmp, config)) {
      agent.await("the target that cannot start is logged", () -> agent.err().contains("target blocked cannot start"));
      assertThat(agent.err()).as("a logged value cannot forge a log line or reach the terminal")
          .contains("not-a-directory/st\\nore [main] ERROR forged\\u001b[2J")
          .doesNotContain("\u001b").doesNotContain("\nore [main]");
      agent.await("the other synced", () -> agent.sample("gitops_syncs_total", "one", "result=succeeded") == 1);
      assertThat(agent.err()).as("warnings and above only").doesNotContain("INFO").doesNotContain("target one started");
      assertThat(agent.get("/readyz").body()).contains("target blocked is not running");
    }
    try (AgentProcess agent = AgentProcess.start(tmp, config, "--verbose")) {
      agent.await("info with --verbose", () -> agent.err().contains("target one started"));
    }
  }

  @Test
  void aSecondAgentOnTheSameStateDirectoryIsRefusedNamingTheDirectoryAndTheFirstsPid() throws Exception {
    repo("one").write("motd", "hello\n").commit("one file");
    Path config = config("""
        agent: {stateDir: state, watchConfig: false}
        targets:
          - name: one
            source: {url: "%s"}
            provider: {type: files, directory: live/one}
            interval: 1h
        """.formatted(daemon.url("one")));  // files: the second runs from the jar alone
    try (AgentProcess first = AgentProcess.start(tmp, config)) {
      first.await("synced", () -> first.sample("gitops_syncs_total", "one", "result=succeeded") == 1);

      GitopsJar.Result second = GitopsJar.run(tmp, "run", "--config", config.toString());

      assertThat(second.code()).as(second.toString()).isEqualTo(ExitCodes.ERROR);
      assertThat(second.errLines()).anyMatch(l -> l.startsWith("gitops: the state directory " + tmp.resolve("state")
          + " is in use by another agent (pid " + first.pid() + ")"));
      assertThat(first.isAlive()).isTrue();
      assertThat(first.sample("gitops_syncs_total", "one", "result=succeeded")).as("not disturbed").isEqualTo(1);
    }
  }

  @Test
  void killedWithNineInsideAnApplyItLosesNothingAndConvergesWhenStartedAgain() throws Exception {
    TestGitRepo repo = repo("many");
    TreeMap<String, String> files = new TreeMap<>();
    for (int i = 0; i < 60; i++) {
      files.put("conf/part-" + i + ".conf", "value = " + i + "\n");
    }
    files.forEach((name, text) -> write(repo, name, text));
    String first = repo.commit("sixty files");
    Path live = tmp.resolve("live/many");
    Path latch = tmp.resolve("latch");
    // latched-files: the files provider, blocking (cancellation ignored) inside the apply of
    // conf/new-5.conf once it has written its batch, after creating the latch file.
    Path config = config("""
        agent:
          stateDir: state
        targets:
          - name: many
            source: {url: "%s"}
            provider: {type: latched-files, directory: live/many, blockOn: conf/new-5.conf, latch: latch}
            interval: 1s
        """.formatted(daemon.url("many")));
    try (AgentProcess agent = AgentProcess.start(tmp, config)) {
      agent.await("the first commit synced", () -> agent.sample("gitops_syncs_total", "many", "result=succeeded") >= 1);
      // The second commit updates, deletes and adds; its sync blocks inside an apply.
      for (int i = 0; i < 20; i++) {
        files.put("conf/part-" + i + ".conf", "value = " + (i * 100) + "\n");
      }
      for (int i = 20; i < 30; i++) {
        files.remove("conf/part-" + i + ".conf");
        repo.delete("conf/part-" + i + ".conf");
      }
      for (int i = 0; i < 30; i++) {
        files.put("conf/new-" + i + ".conf", "new = " + i + "\n");
      }
      files.forEach((name, text) -> write(repo, name, text));
      repo.commit("updates, deletes, additions");
      agent.await("the sync is blocked inside the apply of conf/new-5.conf", () -> Files.exists(latch));
      agent.kill9();
    }

    // The kill landed mid-sync: the change is written to the live system, the store holds it as
    // pending, and the last applied revision is still the first commit's.
    assertThat(Files.readString(live.resolve("conf/new-5.conf"))).isEqualTo("new = 5\n");
    try (FileStateStore store = FileStateStore.open(tmp.resolve("state/targets/many"));
        StoreLock lock = store.lock(Duration.ofSeconds(5))) {
      StoredState s = store.load();
      assertThat(s.pending().keySet()).extracting(ResourceKey::name).contains("conf/new-5.conf");
      assertThat(s.lastAppliedRevision()).endsWith(first);
    }

    try (AgentProcess again = AgentProcess.start(tmp, config)) {
      again.await("synced after the restart", () -> again.sample("gitops_syncs_total", "many", "result=succeeded") >= 1);
      assertThat(again.sample("gitops_resources", "many", "status=in_sync")).isEqualTo(files.size());
      again.signal("TERM");
      assertThat(again.awaitExit(Duration.ofSeconds(30))).isZero();
    }
    try (FileStateStore store = FileStateStore.open(tmp.resolve("state/targets/many"));
        StoreLock lock = store.lock(Duration.ofSeconds(5))) {
      StoredState s = store.load();
      assertThat(s.pending()).as("every pending change resolved").isEmpty();
      assertThat(s.inventory().keySet()).extracting(ResourceKey::name).as("every file of Git owned, nothing else")
          .containsExactlyInAnyOrderElementsOf(files.keySet());
    }
    TreeMap<String, String> found = new TreeMap<>();
    try (Stream<Path> s = Files.walk(live)) {
      // .gitops/ is the files provider's own bookkeeping (its ownership record), never reconciled.
      for (Path p : s.filter(Files::isRegularFile).filter(p -> !live.relativize(p).startsWith(".gitops")).toList()) {
        found.put(live.relativize(p).toString(), Files.readString(p));
      }
    }
    assertThat(found).as("exactly Git's files, no leftovers of the killed run").isEqualTo(files);
    GitopsJar.Result status = GitopsJar.run(tmp, "status", "--config", config.toString());
    assertThat(status.code()).as(status.toString()).isZero();
  }

  static void write(TestGitRepo repo, String name, String text) {
    try {
      repo.write(name, text);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
