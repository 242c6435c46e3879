package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.agent.StandInCluster;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gitops sync --provider k8s} against fabric8's mock API server, named by a kubeconfig file. */
class KubernetesCliTest {

  @TempDir
  Path tmp;

  private static int run(StringWriter out, StringWriter err, String... args) {
    return Main.commandLine(new GitopsCommand(), new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
  }

  @Test
  void syncsManifestsIntoTheClusterTheKubeconfigNames() throws Exception {
    try (StandInCluster cluster = StandInCluster.start(); FixtureRepo repo = FixtureRepo.init(tmp.resolve("repo"))) {
      KubernetesClient client = cluster.client();
      Path kubeconfig = cluster.writeKubeconfig(tmp.resolve("kubeconfig"), "mock", false);
      repo.write("app.yaml", """
          apiVersion: v1
          kind: ConfigMap
          metadata: {name: settings}
          data: {mode: fast}
          """).commit("settings");
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int code = run(out, err, "sync", "--repo", repo.dir().toString(), "--provider", "k8s", "--kubeconfig",
          kubeconfig.toString(), "--context", "mock", "--namespace", "team-a", "--state", tmp.resolve("state").toString());
      assertThat(code).as("out: %s%nerr: %s", out, err).isZero();
      var cm = client.configMaps().inNamespace("team-a").withName("settings").get();
      assertThat(cm.getData()).containsEntry("mode", "fast");
      assertThat(cm.getMetadata().getLabels()).containsEntry("app.kubernetes.io/managed-by", "gitops");

      StringWriter again = new StringWriter();
      assertThat(run(again, new StringWriter(), "sync", "--repo", repo.dir().toString(), "--provider", "k8s",
          "--kubeconfig", kubeconfig.toString(), "--namespace", "team-a", "--state", tmp.resolve("state").toString()))
          .isZero();
      assertThat(again.toString()).contains("Nothing to do").contains("the cluster");
    }
  }

  @Test
  void anObjectGitopsDidNotCreateIsListedAsSkippedNeverInSyncUntilAdopted() throws Exception {
    try (StandInCluster cluster = StandInCluster.start(); FixtureRepo repo = FixtureRepo.init(tmp.resolve("repo"))) {
      KubernetesClient client = cluster.client();
      client.configMaps().inNamespace("team-a").resource(new io.fabric8.kubernetes.api.model.ConfigMapBuilder()
          .withNewMetadata().withName("handmade").endMetadata().addToData("x", "1").build()).create();
      Path kubeconfig = cluster.writeKubeconfig(tmp.resolve("kubeconfig"), "mock", false);
      repo.write("app.yaml", """
          apiVersion: v1
          kind: ConfigMap
          metadata: {name: handmade}
          data: {x: "2"}
          """).commit("handmade");
      String[] target = {"--repo", repo.dir().toString(), "--provider", "k8s", "--kubeconfig", kubeconfig.toString(),
          "--namespace", "team-a", "--state", tmp.resolve("state").toString()};
      StringWriter plan = new StringWriter();
      assertThat(run(plan, new StringWriter(), cat("plan", target))).isZero();
      assertThat(plan.toString()).doesNotContain("No changes")
          .contains("! k8s:/ConfigMap:team-a:handmade").contains("not created by this reconciler");
      StringWriter status = new StringWriter();
      assertThat(run(status, new StringWriter(), cat("status", target))).as("%s", status).isEqualTo(ExitCodes.PENDING);
      assertThat(status.toString()).doesNotContain("In sync").contains("Not applied: 1 resource")
          .contains("handmade");
      StringWriter sync = new StringWriter();
      assertThat(run(sync, new StringWriter(), cat("sync", target))).isZero();
      assertThat(sync.toString()).doesNotContain("already matches").contains("Nothing applied").contains("1 skipped");
      assertThat(client.configMaps().inNamespace("team-a").withName("handmade").get().getData()).containsEntry("x", "1");

      StringWriter adopted = new StringWriter();
      assertThat(run(adopted, new StringWriter(), cat("sync", cat("--adopt", target)))).as("%s", adopted).isZero();
      assertThat(client.configMaps().inNamespace("team-a").withName("handmade").get().getData()).containsEntry("x", "2");
      StringWriter after = new StringWriter();
      assertThat(run(after, new StringWriter(), cat("status", target))).as("%s", after).isZero();
      assertThat(after.toString()).contains("In sync");
    }
  }

  private static String[] cat(String first, String... rest) {
    String[] all = new String[rest.length + 1];
    all[0] = first;
    System.arraycopy(rest, 0, all, 1, rest.length);
    return all;
  }

  @Test
  void aReviewedPlanIsRefusedWhenTheKubeconfigsCurrentContextNamesAnotherClusterSinceItWasMade() throws Exception {
    try (StandInCluster cluster = StandInCluster.start(); FixtureRepo repo = FixtureRepo.init(tmp.resolve("repo"))) {
      Path kubeconfig = cluster.writeKubeconfig(tmp.resolve("kubeconfig"), "mock", false);
      repo.write("app.yaml", """
          apiVersion: v1
          kind: ConfigMap
          metadata: {name: settings}
          data: {mode: fast}
          """).commit("settings");
      String[] where = {"--repo", repo.dir().toString(), "--provider", "k8s", "--kubeconfig", kubeconfig.toString(),
          "--namespace", "team-a", "--state", tmp.resolve("state").toString()};
      Path plan = tmp.resolve("plan.json");
      StringWriter planned = new StringWriter();
      assertThat(run(planned, planned, concat(new String[] {"plan", "--out", plan.toString()}, where)))
          .as("%s", planned).isZero();

      // `kubectl config use-context other`: the same flags now name another cluster
      cluster.writeKubeconfig(kubeconfig, "mock", true);
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int code = run(out, err, concat(new String[] {"sync", "--plan", plan.toString()}, where));

      assertThat(code).as("out: %s%nerr: %s", out, err).isEqualTo(ExitCodes.ERROR);
      assertThat(err.toString()).startsWith("gitops: --context context other at https://127.0.0.1:1")
          .contains("was made for --context context mock at " + cluster.client().getConfiguration().getMasterUrl()
              + ", namespace team-a;");
      assertThat(cluster.client().configMaps().inNamespace("team-a").withName("settings").get()).isNull();
    }
  }

  private static String[] concat(String[] a, String[] b) {
    return java.util.stream.Stream.concat(java.util.Arrays.stream(a), java.util.Arrays.stream(b)).toArray(String[]::new);
  }

  @Test
  void watchNamespacesListsOnlyThoseNamespacesAndAnObjectElsewhereIsUnknownNeverWritten() throws Exception {
    try (StandInCluster cluster = StandInCluster.start(); FixtureRepo repo = FixtureRepo.init(tmp.resolve("repo"))) {
      KubernetesClient client = cluster.client();
      Path kubeconfig = cluster.writeKubeconfig(tmp.resolve("kubeconfig"), "mock", false);
      repo.write("a.yaml", """
          apiVersion: v1
          kind: ConfigMap
          metadata: {name: settings, namespace: team-a}
          data: {mode: fast}
          """).write("c.yaml", """
          apiVersion: v1
          kind: ConfigMap
          metadata: {name: settings, namespace: team-c}
          data: {mode: fast}
          """).commit("two namespaces");
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int code = run(out, err, "sync", "--repo", repo.dir().toString(), "--provider", "k8s", "--kubeconfig",
          kubeconfig.toString(), "--watch-namespaces", "team-a,team-b", "--state", tmp.resolve("state").toString());

      assertThat(code).as("out: %s%nerr: %s", out, err).isNotZero();
      assertThat(client.configMaps().inNamespace("team-a").withName("settings").get().getData())
          .containsEntry("mode", "fast");
      assertThat(client.configMaps().inNamespace("team-c").withName("settings").get())
          .as("outside --watch-namespaces: unknown, never written").isNull();
      assertThat(out.toString() + err).contains("k8s:/ConfigMap:team-c:settings").contains("namespace team-c")
          .contains("team-a, team-b").contains("--watch-namespaces").contains("add the namespace there");
    }
  }

  @Test
  void watchNamespacesIsRefusedWithAnotherProviderOrAValueThatIsNoNamespaceNamingTheFlagAndTheValue() throws Exception {
    try (FixtureRepo repo = FixtureRepo.init(tmp.resolve("repo"))) {
      repo.write("a.yaml", "x: 1\n").commit("a");
      String[][] cases = {
          {"--target", tmp.resolve("live").toString(), "--watch-namespaces", "team-a"},
          {"--provider", "k8s", "--state", tmp.resolve("s").toString(), "--watch-namespaces", "team-a,Team_B"},
          {"--provider", "k8s", "--state", tmp.resolve("s").toString(), "--watch-namespaces", "team-a",
              "--watch-namespaces", "team-a,,team-b"},
          {"--provider", "k8s", "--state", tmp.resolve("s").toString(), "--watch-namespaces", ""}};
      String[] expected = {"gitops: --watch-namespaces is for --provider k8s (with --provider files",
          "gitops: --watch-namespaces 'team-a,Team_B': 'Team_B' is not a namespace name",
          "gitops: --watch-namespaces 'team-a,,team-b': an empty namespace name",
          "gitops: --watch-namespaces '': an empty namespace name"};
      for (int i = 0; i < cases.length; i++) {
        String[] args = concat(new String[] {"sync", "--repo", repo.dir().toString()}, cases[i]);
        StringWriter err = new StringWriter();
        assertThat(run(new StringWriter(), err, args)).as(String.join(" ", args)).isEqualTo(ExitCodes.ERROR);
        assertThat(err.toString()).as(String.join(" ", args)).startsWith(expected[i]);
      }
    }
    assertThat(tmp.resolve("live")).as("nothing created for a refused flag").doesNotExist();
    assertThat(tmp.resolve("s")).as("nothing created for a refused flag").doesNotExist();
  }

  @Test
  void aReviewedPlanMadeWithOtherWatchNamespacesIsRefusedNamingTheFlagButTheirOrderDoesNotMatter() throws Exception {
    try (StandInCluster cluster = StandInCluster.start(); FixtureRepo repo = FixtureRepo.init(tmp.resolve("repo"))) {
      Path kubeconfig = cluster.writeKubeconfig(tmp.resolve("kubeconfig"), "mock", false);
      repo.write("app.yaml", """
          apiVersion: v1
          kind: ConfigMap
          metadata: {name: settings, namespace: team-a}
          data: {mode: fast}
          """).commit("settings");
      String[] where = {"--repo", repo.dir().toString(), "--provider", "k8s", "--kubeconfig", kubeconfig.toString(),
          "--state", tmp.resolve("state").toString()};
      Path plan = tmp.resolve("plan.json");
      StringWriter planned = new StringWriter();
      assertThat(run(planned, planned, concat(concat(new String[] {"plan", "--out", plan.toString()}, where),
          new String[] {"--watch-namespaces", "team-b,team-a"}))).as("%s", planned).isZero();

      String[][] others = {{}, {"--watch-namespaces", "team-a"}, {"--watch-namespaces", "team-a,team-b,team-c"}};
      String[] shown = {"--watch-namespaces (none)", "--watch-namespaces team-a",
          "--watch-namespaces team-a,team-b,team-c"};
      for (int i = 0; i < others.length; i++) {
        StringWriter err = new StringWriter();
        int code = run(new StringWriter(), err, concat(concat(new String[] {"sync", "--plan", plan.toString()}, where),
            others[i]));
        assertThat(code).as("%s", err).isEqualTo(ExitCodes.ERROR);
        assertThat(err.toString()).startsWith("gitops: " + shown[i] + ": the reviewed plan " + plan)
            .contains("was made for --watch-namespaces team-a,team-b;");
      }
      assertThat(cluster.client().configMaps().inNamespace("team-a").withName("settings").get()).isNull();

      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int code = run(out, err, concat(concat(new String[] {"sync", "--plan", plan.toString()}, where),
          new String[] {"--watch-namespaces", "team-a", "--watch-namespaces", "team-b"}));
      assertThat(code).as("out: %s%nerr: %s", out, err).isZero();
      assertThat(cluster.client().configMaps().inNamespace("team-a").withName("settings").get()).isNotNull();
    }
  }

  @Test
  void kubernetesFlagsNeedTheKubernetesProviderAndAStateDirectory() {
    StringWriter err = new StringWriter();
    assertThat(run(new StringWriter(), err, "sync", "--repo", tmp.toString(), "--provider", "k8s")).isNotZero();
    assertThat(err.toString()).contains("missing --state");
    StringWriter err2 = new StringWriter();
    assertThat(run(new StringWriter(), err2, "sync", "--repo", tmp.toString(), "--target", tmp.toString(),
        "--namespace", "x")).isNotZero();
    assertThat(err2.toString()).contains("--namespace").contains("--provider k8s");
  }

  @Test
  void providerOptionsAreCheckedByTheAgentsCodeAndNameTheFlag() throws Exception {
    Path kubeconfig = tmp.resolve("kubeconfig");
    Files.writeString(kubeconfig, StandInCluster.kubeconfig("https://127.0.0.1:1", "staging", "staging"));
    String[][] cases = {
        {"--provider", "k8s", "--kubeconfig", tmp.resolve("nowhere").toString(), "--state", tmp.resolve("s").toString()},
        {"--provider", "k8s", "--kubeconfig", kubeconfig.toString(), "--context", "prod", "--state",
            tmp.resolve("s").toString()},
        {"--provider", "k8s", "--namespace", "Team_A", "--state", tmp.resolve("s").toString()},
        {"--provider", "ansible", "--playbook", "../site.yml", "--inventory-out", tmp.resolve("fleet/inv.yml").toString()}};
    String[] expected = {"--kubeconfig: no such file", "--context: no context 'prod'", "--namespace: 'Team_A' is not a namespace name",
        "--playbook: '../site.yml' must be a relative path inside the repository"};
    try (FixtureRepo repo = FixtureRepo.init(tmp.resolve("repo"))) {
      repo.write("a.yaml", "x: 1\n").commit("a");
      for (int i = 0; i < cases.length; i++) {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("sync", "--repo", repo.dir().toString()));
        args.addAll(java.util.List.of(cases[i]));
        StringWriter err = new StringWriter();
        assertThat(run(new StringWriter(), err, args.toArray(String[]::new))).as(String.join(" ", args)).isNotZero();
        assertThat(err.toString()).as(String.join(" ", args)).contains(expected[i]);
      }
    }
    assertThat(tmp.resolve("fleet")).as("nothing created for a refused option").doesNotExist();
  }
}
