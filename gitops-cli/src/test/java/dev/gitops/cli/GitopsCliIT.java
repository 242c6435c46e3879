package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the real jar against fixture repositories: exit codes, messages and effects on the target. */
class GitopsCliIT {

  @TempDir
  Path tmp;

  private Path target;
  private FixtureRepo repo;

  @BeforeEach
  void fixture() throws Exception {
    target = tmp.resolve("target");
    repo = FixtureRepo.init(tmp.resolve("repo"));
    repo.write("app.properties", "name=shop\nport=8080\n")
        .write("conf/site.conf", "listen 80;\n")
        .commit("initial");
  }

  private String[] args(String command, String... more) {
    List<String> a = new ArrayList<>(List.of(command, "--repo", repo.dir().toString(), "--ref", "main", "--target",
        target.toString()));
    a.addAll(List.of(more));
    return a.toArray(String[]::new);
  }

  private GitopsJar.Result gitops(String command, String... more) throws Exception {
    return GitopsJar.run(tmp, args(command, more));
  }

  @Test
  void demoExitsZero() throws Exception {
    GitopsJar.Result r = GitopsJar.run(tmp, "demo", "--dir", tmp.resolve("demo").toString());
    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.out()).contains("Drifted").contains("In sync").contains("Demo finished");
    assertThat(Files.readString(tmp.resolve("demo/target/app.properties"))).contains("port=9090").contains("log.level=info");
    assertThat(tmp.resolve("demo/target/motd.txt")).doesNotExist();
  }

  @Test
  void syncCreatesTheFilesAndASecondSyncHasNothingToDo() throws Exception {
    GitopsJar.Result first = gitops("sync");
    assertThat(first.code()).as(first.toString()).isZero();
    assertThat(Files.readString(target.resolve("app.properties"), StandardCharsets.UTF_8)).isEqualTo("name=shop\nport=8080\n");
    assertThat(Files.readString(target.resolve("conf/site.conf"), StandardCharsets.UTF_8)).isEqualTo("listen 80;\n");
    assertThat(target.resolve(".gitops")).isDirectory();
    assertThat(first.out()).contains("created files:file::app.properties");

    GitopsJar.Result second = gitops("sync");
    assertThat(second.code()).as(second.toString()).isZero();
    assertThat(second.out()).contains("Nothing to do");
    assertThat(second.err()).isEmpty();
  }

  @Test
  void planWithDetailedExitcodeReturnsTwoWhileAChangeIsPending() throws Exception {
    assertThat(gitops("sync").code()).isZero();
    GitopsJar.Result clean = gitops("plan", "--detailed-exitcode");
    assertThat(clean.code()).as(clean.toString()).isZero();
    assertThat(clean.out()).contains("No changes");

    repo.write("app.properties", "name=shop\nport=9090\n").commit("new port");
    GitopsJar.Result pending = gitops("plan", "--detailed-exitcode");
    assertThat(pending.code()).as(pending.toString()).isEqualTo(2);
    assertThat(pending.out()).contains("~ files:file::app.properties").contains("- port=8080").contains("+ port=9090");
    GitopsJar.Result plain = gitops("plan");
    assertThat(plain.code()).isZero();
    assertThat(Files.readString(target.resolve("app.properties"))).contains("port=8080");

    GitopsJar.Result dryRun = gitops("sync", "--dry-run");
    assertThat(dryRun.code()).as(dryRun.toString()).isEqualTo(2);
    assertThat(Files.readString(target.resolve("app.properties"))).contains("port=8080");
  }

  @Test
  void deletingEveryFileIsRefusedUntilAllowEmpty() throws Exception {
    assertThat(gitops("sync").code()).isZero();
    repo.remove("app.properties").remove("conf/site.conf").commit("remove everything");

    GitopsJar.Result refused = gitops("sync");
    assertThat(refused.code()).as(refused.toString()).isEqualTo(3);
    assertThat(refused.errLines()).hasSize(1);
    assertThat(refused.errLines().get(0)).startsWith("gitops: refused by mass-deletion guard").contains("--allow-empty");
    assertThat(target.resolve("app.properties")).exists();
    assertThat(target.resolve("conf/site.conf")).exists();

    GitopsJar.Result planned = gitops("plan");
    assertThat(planned.code()).as("plan shows deletions without refusing: " + planned).isZero();
    assertThat(planned.out()).contains("- files:file::app.properties");

    GitopsJar.Result allowed = gitops("sync", "--allow-empty");
    assertThat(allowed.code()).as(allowed.toString()).isZero();
    assertThat(target.resolve("app.properties")).doesNotExist();
    assertThat(target.resolve("conf/site.conf")).doesNotExist();
  }

  @Test
  void maxDeletionsRefusesWithExitThree() throws Exception {
    repo.write("extra.txt", "x\n").commit("extra");
    assertThat(gitops("sync").code()).isZero();
    repo.remove("extra.txt").remove("conf/site.conf").commit("remove two");
    GitopsJar.Result refused = gitops("sync", "--max-deletions", "1");
    assertThat(refused.code()).as(refused.toString()).isEqualTo(3);
    assertThat(refused.errLines()).singleElement().asString().contains("--max-deletions");
    assertThat(gitops("sync", "--max-deletions", "2").code()).isZero();
    assertThat(target.resolve("extra.txt")).doesNotExist();
  }

  @Test
  void aBadRepoIsOneLineOnStderrAndExitOne() throws Exception {
    GitopsJar.Result r = GitopsJar.run(tmp, "sync", "--repo", tmp.resolve("no-such-repo").toString(), "--target",
        target.toString());
    assertThat(r.code()).as(r.toString()).isEqualTo(1);
    assertThat(r.errLines()).as(r.toString()).hasSize(1);
    assertThat(r.errLines().get(0)).startsWith("gitops: ");
  }

  @Test
  void driftIsReportedByStatusAndCorrectedBySync() throws Exception {
    assertThat(gitops("sync").code()).isZero();
    assertThat(gitops("status").code()).isZero();
    Files.writeString(target.resolve("app.properties"), "name=shop\nport=1\n");

    GitopsJar.Result status = gitops("status");
    assertThat(status.code()).as(status.toString()).isEqualTo(2);
    assertThat(status.out()).contains("Drifted").contains("files:file::app.properties").contains("/content");
    GitopsJar.Result md = gitops("diff", "--format", "markdown");
    assertThat(md.code()).isZero();
    assertThat(md.out()).contains("| `~` | `files:file::app.properties` |").contains("```diff");

    assertThat(gitops("sync").code()).isZero();
    assertThat(Files.readString(target.resolve("app.properties"))).isEqualTo("name=shop\nport=8080\n");
    assertThat(gitops("status").out()).contains("In sync");
  }

  @Test
  void aReviewedPlanRunsAndAStalePlanIsRefused() throws Exception {
    Path planFile = tmp.resolve("plan.json");
    GitopsJar.Result plan = gitops("plan", "--out", planFile.toString());
    assertThat(plan.code()).as(plan.toString()).isZero();
    assertThat(planFile).isRegularFile();
    GitopsJar.Result diff = GitopsJar.run(tmp, "diff", "--plan", planFile.toString());
    assertThat(diff.out()).contains("+ files:file::app.properties");

    repo.write("app.properties", "name=shop\nport=9090\n").commit("moved on");
    Path stale = tmp.resolve("stale.json");
    Files.copy(planFile, stale);
    GitopsJar.Result ok = gitops("sync", "--plan", planFile.toString());
    assertThat(ok.code()).as("the plan pins its own revision: " + ok).isZero();
    assertThat(Files.readString(target.resolve("app.properties"))).contains("port=8080");

    GitopsJar.Result refused = gitops("sync", "--plan", stale.toString());
    assertThat(refused.code()).as(refused.toString()).isEqualTo(1);
    assertThat(refused.errLines()).singleElement().asString().startsWith("gitops: --plan " + stale + ": plan ")
        .contains("was applied already (history entry ");
  }

  @Test
  void rollbackSyncsAnEarlierRevisionAndSaysTheBranchMovedOn() throws Exception {
    assertThat(gitops("sync").code()).isZero();
    repo.write("app.properties", "name=shop\nport=9090\n").commit("new port");
    assertThat(gitops("sync").code()).isZero();

    GitopsJar.Result history = gitops("history");
    assertThat(history.code()).isZero();
    List<String> rows = history.out().lines().skip(1).toList();
    assertThat(rows).hasSize(2);
    String oldest = rows.get(1).split("\\s+")[0];

    GitopsJar.Result rollback = GitopsJar.run(tmp, args("rollback", oldest));
    assertThat(rollback.code()).as(rollback.toString()).isZero();
    assertThat(rollback.out()).contains("branch still points at");
    assertThat(Files.readString(target.resolve("app.properties"))).contains("port=8080");
  }
}
