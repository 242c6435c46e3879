package dev.gitops.cli;

import static dev.gitops.cli.CliRun.gitops;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.agent.StandInCluster;
import dev.gitops.cluster.Ownership;
import dev.gitops.cluster.k8s.LeaseCoordinator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** gitops run's refusals and gitops status --config, in process. */
class AgentCommandsTest {

  @TempDir
  Path dir;

  Path config(String text) throws Exception {
    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, text);
    return f;
  }

  static final String TWO_TARGETS = """
      agent: {stateDir: state}
      targets:
        - name: web
          source: {url: "https://git.example.com/ops.git", credentials: {token: {env: UNSET_IN_THIS_TEST}}}
          provider: {type: files, directory: live/web}
        - name: jobs
          source: {url: "https://git.example.com/jobs.git"}
          provider: {type: some-module-not-here, queue: nightly}
      """;

  @Test
  void runRefusesAnInvalidConfigurationInOneLineNamingFileAndLine() throws Exception {
    Path f = config("""
        targets:
          - name: web
            source: {url: "https://git.example.com/ops.git"}
            provider: {type: files, directory: live/web}
            interval: sometimes
        """);
    CliRun r = gitops("run", "--config", f.toString());
    assertThat(r.code()).isEqualTo(ExitCodes.ERROR);
    assertThat(r.err().lines().toList()).containsExactly(
        "gitops: " + f + ":5: targets[0].interval: must be a positive duration such as 500ms, 30s, 5m, 1h or PT30S"
            + " (at most 36500d), got \"sometimes\"");
    assertThat(dir.resolve(".gitops-agent")).as("nothing started, nothing created").doesNotExist();
  }

  /** A configuration of one files target, web, with its state directory 'state'. */
  private Path oneFilesTarget() throws Exception {
    return config("""
        agent: {stateDir: state}
        targets:
          - name: web
            source: {url: "https://git.example.com/ops.git"}
            provider: {type: files, directory: live/web}
        """);
  }

  @Test
  void runNamesTheMetricsPortInUseBeforeStartingAnyTarget() throws Exception {
    Path f = oneFilesTarget();
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      CliRun r = gitops("run", "--config", f.toString(), "--metrics-port", Integer.toString(port), "--metrics-address",
          "127.0.0.1");
      assertThat(r.code()).isEqualTo(ExitCodes.ERROR);
      assertThat(r.err()).contains("gitops: --metrics-port " + port + ": cannot serve on 127.0.0.1:" + port
          + " (Address already in use)");
      assertThat(r.out()).doesNotContain("running 1 target");
    }
    // a start that fails touches nothing: no target ran, no store or state directory was made
    assertThat(dir.resolve("state")).as("nothing started, nothing created").doesNotExist();
    assertThat(dir.resolve("live")).doesNotExist();
  }

  @Test
  void aMetricsAddressWithoutAPortOrThatIsNoHostIsRefusedNamingTheFlag() throws Exception {
    Path f = oneFilesTarget();
    CliRun alone = gitops("run", "--config", f.toString(), "--metrics-address", "127.0.0.1");
    assertThat(alone.code()).isEqualTo(ExitCodes.ERROR);
    assertThat(alone.err()).contains("gitops: --metrics-address needs --metrics-port (nothing is served without it)");
    CliRun bad = gitops("run", "--config", f.toString(), "--metrics-port", "0", "--metrics-address", "[::1");
    assertThat(bad.code()).isEqualTo(ExitCodes.ERROR);
    assertThat(bad.err()).contains("gitops: --metrics-address [::1: no such host");
    assertThat(dir.resolve("state")).as("nothing started").doesNotExist();
  }

  @Test
  void theStartLineOfAClusterMemberSaysTheClusterAssignsItsTargets() {
    RunCommand alone = new RunCommand();
    assertThat(alone.running(9)).isEqualTo("running 9 targets");
    assertThat(alone.running(1)).isEqualTo("running 1 target");
    RunCommand member = new RunCommand();
    member.cluster = "etcd://127.0.0.1:2379";
    member.member = "agent-1";
    assertThat(member.running(9)).isEqualTo("member agent-1 of the cluster etcd://127.0.0.1:2379: running those of 9"
        + " targets the cluster assigns to it").doesNotContain("running 9 targets");
  }

  @Test
  void runRefusesAnEmptyConfigurationNamingTheFile() throws Exception {
    Path f = config("");
    CliRun r = gitops("run", "--config", f.toString());
    assertThat(r.code()).isEqualTo(ExitCodes.ERROR);
    assertThat(r.err().lines().toList()).singleElement().asString()
        .startsWith("gitops: " + f + ": the file is empty: a truncated file would stop every target");
    assertThat(r.out()).doesNotContain("running 0 targets");
  }

  @Test
  void runNamesAMissingFileAndABadPort() throws Exception {
    CliRun missing = gitops("run", "--config", dir.resolve("nope.yaml").toString());
    assertThat(missing.code()).isEqualTo(ExitCodes.ERROR);
    assertThat(missing.err()).contains("nope.yaml: no such file");
    CliRun port = gitops("run", "--config", config("").toString(), "--metrics-port", "70000");
    assertThat(port.code()).isEqualTo(ExitCodes.ERROR);
    assertThat(port.err()).contains("--metrics-port must be from 0 to 65535, got 70000");
  }

  @Test
  void runNamesTheClusterFlagAtFault() throws Exception {
    String f = config(TWO_TARGETS).toString();
    Map<List<String>, String> refusals = Map.of(
        List.of("--cluster", "etcd://127.0.0.1:2379"), "--member is required with --cluster",
        List.of("--cluster", "zk://127.0.0.1:2181", "--member", "m1"), "--cluster zk://127.0.0.1:2181: want etcd://",
        List.of("--cluster", "etcd://127.0.0.1", "--member", "m1"), "'127.0.0.1' is not HOST:PORT",
        List.of("--cluster", "k8s", "--member", "m1"), "--namespace is required with --cluster k8s",
        List.of("--cluster", "etcd://127.0.0.1:2379", "--member", "bad/id with space"),
        "--member 'bad/id with space' is not a member id: lower-case letters",
        List.of("--member", "m1"), "--member needs --cluster",
        List.of("--namespace", "ops"), "--namespace needs --cluster",
        List.of("--cluster-name", "staging"), "--cluster-name needs --cluster",
        List.of("--cluster", "etcd://127.0.0.1:2379", "--member", "m1", "--cluster-name", "a/b"),
        "--cluster-name 'a/b' is not a cluster name");
    refusals.forEach((flags, message) -> {
      List<String> args = new ArrayList<>(List.of("run", "--config", f));
      args.addAll(flags);
      CliRun r = gitops(args.toArray(String[]::new));
      assertThat(r.code()).as("%s", flags).isEqualTo(ExitCodes.ERROR);
      assertThat(r.err()).as("%s", flags).contains(message);
    });
    assertThat(dir.resolve("state")).as("nothing started, nothing created").doesNotExist();
  }

  @Test
  void statusPrintsEveryTargetFromTheRecordedStatusWithoutSecretsOrProviderModules() throws Exception {
    Path f = config(TWO_TARGETS);
    Files.createDirectories(dir.resolve("state/status"));
    Files.writeString(dir.resolve("state/status/web.json"), """
        {"target":"web","provider":"files","revision":"main@sha1:3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a",
         "result":"failed","finished":"2026-11-30T10:00:00Z","lastSuccess":"2026-11-30T09:00:00Z",
         "drift":["files:file::motd"],"driftCorrected":true,
         "lastError":"1 of 2 changes failed: files:file::app.conf: PERMANENT permission denied"}
        """);

    CliRun table = gitops("status", "--config", f.toString());

    assertThat(table.code()).as(table.err()).isEqualTo(ExitCodes.PENDING);
    assertThat(table.out().lines().toList()).hasSize(3);
    assertThat(table.out().lines().toList().get(0)).startsWith("TARGET  PROVIDER  ");
    assertThat(table.out()).containsPattern("web +files +main@sha1:3f2a1b0c9d8e +failed +1 \\(corrected\\) +"
        + "2026-11-30T10:00:00Z \\([^)]+\\) +1 of 2 changes failed: files:file::app.conf: PERMANENT permission denied")
        .containsPattern("jobs +some-module-not-here +- +never +- +- +-");

    CliRun json = gitops("status", "--config", f.toString(), "--format", "json");
    JsonNode all = new ObjectMapper().readTree(json.out());
    assertThat(all).hasSize(2);
    assertThat(all.get(0).get("lastError").asText()).startsWith("1 of 2 changes failed");
    assertThat(all.get(0).get("drift").get(0).asText()).isEqualTo("files:file::motd");
    assertThat(all.get(1).get("result").asText()).isEqualTo("never");
    // every element has the fields of a recorded status, null where nothing is known: a script reads them alike
    List<String> fields = new ArrayList<>();
    all.get(0).fieldNames().forEachRemaining(fields::add);
    List<String> neverFields = new ArrayList<>();
    all.get(1).fieldNames().forEachRemaining(neverFields::add);
    assertThat(neverFields).isEqualTo(fields);
    assertThat(all.get(1).get("revision").isNull()).isTrue();
    assertThat(all.get(1).get("finished").isNull()).isTrue();
    assertThat(all.get(1).get("lastError").isNull()).isTrue();
  }

  @Test
  void formatWithoutConfigIsRefusedNotIgnored() throws Exception {
    // before, 'status --repo R --target T --format json' printed the text report (exit 0 or 2): a script
    // that asked for JSON got prose; --cluster without --config was already refused
    CliRun json = gitops("status", "--repo", dir.resolve("repo").toString(), "--target", dir.resolve("t").toString(),
        "--format", "json");

    assertThat(json.code()).as(json.out() + json.err()).isEqualTo(ExitCodes.ERROR);
    assertThat(json.err()).contains("--format").contains("needs --config");
    assertThat(json.out()).isEmpty();
    assertThat(dir.resolve("t")).doesNotExist();
  }

  @Test
  void statusNamesACorruptStatusFileAndStillShowsTheOtherTargets() throws Exception {
    Path f = config(TWO_TARGETS);
    Files.createDirectories(dir.resolve("state/status"));
    Path corrupt = dir.resolve("state/status/web.json");
    Files.writeString(corrupt, "{\"target\":\"web\",\"provider\":\"fi");  // cut short
    Files.writeString(dir.resolve("state/status/jobs.json"), """
        {"target":"jobs","provider":"some-module-not-here","revision":"main@sha1:77aa01bc23de45f6a7b8c9d0e1f2a3b4c5d6e7f8",
         "result":"succeeded","finished":"2026-11-30T10:00:00Z","lastSuccess":"2026-11-30T10:00:00Z",
         "drift":[],"driftCorrected":false,"lastError":null}
        """);

    CliRun table = gitops("status", "--config", f.toString());

    assertThat(table.code()).as(table.out() + table.err()).isEqualTo(ExitCodes.PENDING);
    assertThat(table.out().lines().toList()).hasSize(3);
    assertThat(table.out()).containsPattern("web +files +- +unreadable +- +- +cannot read the status file "
        + java.util.regex.Pattern.quote(corrupt.toString()))
        .containsPattern("jobs +some-module-not-here +main@sha1:77aa01bc23de +succeeded +none +2026-11-30T10:00:00Z");

    CliRun json = gitops("status", "--config", f.toString(), "--format", "json");
    assertThat(json.code()).as(json.out() + json.err()).isEqualTo(ExitCodes.PENDING);
    JsonNode all = new ObjectMapper().readTree(json.out());
    assertThat(all).hasSize(2);
    assertThat(all.get(0).get("target").asText()).isEqualTo("web");
    assertThat(all.get(0).get("result").asText()).isEqualTo("unreadable");
    assertThat(all.get(0).get("lastError").asText()).startsWith("cannot read the status file " + corrupt);
    List<String> fields = new ArrayList<>();
    all.get(1).fieldNames().forEachRemaining(fields::add);
    List<String> unreadableFields = new ArrayList<>();
    all.get(0).fieldNames().forEachRemaining(unreadableFields::add);
    assertThat(unreadableFields).isEqualTo(fields);
    assertThat(all.get(0).get("revision").isNull()).isTrue();
    assertThat(all.get(1).get("result").asText()).isEqualTo("succeeded");
  }

  @Test
  void statusWithClusterShowsWhichMemberOwnsEachTarget() throws Exception {
    Path f = config(TWO_TARGETS);
    String before = System.getProperty("kubeconfig");
    try (StandInCluster cluster = StandInCluster.start()) {
      // gitops status --cluster k8s reads the default kubeconfig, as gitops run does
      System.setProperty("kubeconfig", cluster.writeKubeconfig(dir.resolve("kubeconfig"), "mock", false).toString());
      // a lease that outlives both commands on a loaded machine: m1 renews nothing here (the stand-in's
      // watches no longer stall it for 10 s and more: StandInApiServer)
      LeaseCoordinator m1 = LeaseCoordinator.builder(cluster.client(), "gitops", "m1")
          .ttl(java.time.Duration.ofMinutes(5)).build();
      try {
        m1.join();
        Ownership web = m1.tryAcquire("web").orElseThrow();

        CliRun table = gitops("status", "--config", f.toString(), "--cluster", "k8s", "--namespace", "gitops");
        assertThat(table.out().lines().toList().get(0)).as(table.err()).startsWith("TARGET  OWNER  ");
        assertThat(table.out()).containsPattern("web +m1 \\(token " + web.token() + "\\) +"
            + web.since().truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + " \\([^)]+\\) +files +- +never")
            .containsPattern("jobs +- +- +some-module-not-here");

        CliRun json = gitops("status", "--config", f.toString(), "--cluster", "k8s", "--namespace", "gitops",
            "--format", "json");
        JsonNode all = new ObjectMapper().readTree(json.out());
        assertThat(all.get(0).get("owner").asText()).isEqualTo("m1");
        assertThat(all.get(0).get("ownerToken").asLong()).isEqualTo(web.token());
        assertThat(all.get(1).get("owner").isNull()).isTrue();
      } finally {
        m1.close();
      }
    } finally {
      if (before == null) {
        System.clearProperty("kubeconfig");
      } else {
        System.setProperty("kubeconfig", before);
      }
    }
    CliRun alone = gitops("status", "--cluster", "k8s", "--repo", dir.toString());
    assertThat(alone.code()).isEqualTo(ExitCodes.ERROR);
    assertThat(alone.err()).contains("--cluster").contains("--config");
  }

  /**
   * --kubeconfig and --context of --cluster k8s (run and status): the file's context that is not
   * its current one is the cluster read; refused naming the flag without --cluster k8s and when the
   * file is missing or has no such context. gitops run knew neither flag; gitops status took them
   * (for --provider k8s) and ignored them with --config, reading the default kubeconfig.
   */
  @Test
  void theKubeconfigAndContextOfClusterK8sAreUsedOrRefusedNamingTheFlag() throws Exception {
    Path f = config(TWO_TARGETS);
    Path missing = dir.resolve("missing-kubeconfig");
    try (StandInCluster cluster = StandInCluster.start()) {
      Path kubeconfig = cluster.writeKubeconfig(dir.resolve("kubeconfig"), "mock", true);  // 'other' is current
      // the current context's server (127.0.0.1:1) would fail it: the table says the stand-in was read
      CliRun table = gitops("status", "--config", f.toString(), "--cluster", "k8s", "--namespace", "gitops",
          "--kubeconfig", kubeconfig.toString(), "--context", "mock");
      assertThat(table.code()).as(table.err()).isNotEqualTo(ExitCodes.ERROR);
      assertThat(table.out().lines().toList().get(0)).as(table.err()).startsWith("TARGET  OWNER  ");
      assertThat(table.out()).containsPattern("web +- +- +files");
      Map<List<String>, String> refusals = Map.of(
          List.of("status", "--kubeconfig", kubeconfig.toString()), "--kubeconfig with --config is for --cluster k8s",
          List.of("status", "--cluster", "etcd://127.0.0.1:2379", "--context", "mock"),
          "--context with --config is for --cluster k8s, not --cluster etcd://127.0.0.1:2379",
          List.of("status", "--cluster", "k8s", "--namespace", "gitops", "--kubeconfig", kubeconfig.toString(),
              "--context", "nope"), "--context (with --cluster k8s): no context 'nope' in " + kubeconfig,
          List.of("run", "--kubeconfig", kubeconfig.toString()), "--kubeconfig needs --cluster k8s",
          List.of("run", "--cluster", "etcd://127.0.0.1:2379", "--member", "m1", "--context", "mock"),
          "--context is for --cluster k8s, not --cluster etcd://127.0.0.1:2379",
          List.of("run", "--cluster", "k8s", "--namespace", "gitops", "--member", "m1", "--kubeconfig",
              missing.toString()), "--kubeconfig (with --cluster k8s): no such file " + missing);
      refusals.forEach((flags, message) -> {
        List<String> args = new ArrayList<>(List.of(flags.get(0), "--config", f.toString()));
        args.addAll(flags.subList(1, flags.size()));
        CliRun r = gitops(args.toArray(String[]::new));
        assertThat(r.code()).as("%s", flags).isEqualTo(ExitCodes.ERROR);
        assertThat(r.err()).as("%s", flags).contains(message);
      });
    }
    assertThat(dir.resolve("state")).as("no agent started, nothing created").doesNotExist();
  }

  @Test
  void statusIsZeroWhenEveryLastSyncSucceeded() throws Exception {
    Path f = oneFilesTarget();
    Files.createDirectories(dir.resolve("state/status"));
    Files.writeString(dir.resolve("state/status/web.json"), """
        {"target":"web","provider":"files","revision":"main@sha1:3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a",
         "result":"succeeded","finished":"2026-11-30T10:00:00Z","lastSuccess":"2026-11-30T10:00:00Z",
         "drift":[],"driftCorrected":false,"lastError":null}
        """);
    CliRun r = gitops("status", "--config", f.toString());
    assertThat(r.code()).as(r.out() + r.err()).isZero();
  }

  @Test
  void statusWithConfigTakesNoTargetFlags() throws Exception {
    CliRun r = gitops("status", "--config", config(TWO_TARGETS).toString(), "--repo", "x", "--target", "y");
    assertThat(r.code()).isEqualTo(ExitCodes.ERROR);
    assertThat(r.err()).contains("--config reads an agent's targets: leave out --repo and --target");
  }
}
