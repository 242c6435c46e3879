package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The safety flags and reviewed plans through the real jar: a reviewed plan runs exactly what was
 * reviewed, refusals are one line worded with the CLI's flags, and no log line is mixed in unless
 * --verbose.
 */
class SafetyCliIT {

  @TempDir
  Path tmp;

  private Path target;
  private FixtureRepo repo;

  @BeforeEach
  void fixture() throws Exception {
    target = tmp.resolve("target");
    repo = FixtureRepo.init(tmp.resolve("repo"));
    repo.write("a.txt", "a\n").write("b.txt", "b\n").write("c.txt", "c\n").write("d.txt", "d\n")
        .write("app.conf", "port=1\n").commit("initial");
  }

  private GitopsJar.Result gitops(String command, String... more) throws Exception {
    return GitopsJar.run(tmp, repo, target, command, more);
  }

  @Test
  void aPlanFileWithItsDeleteRemovedIsRefusedAndTheFileStays() throws Exception {
    assertThat(gitops("sync").code()).isZero();
    repo.remove("d.txt").write("app.conf", "port=2\n").commit("drop d.txt, new port");
    Path planFile = tmp.resolve("plan.json");
    assertThat(gitops("plan", "--out", planFile.toString()).code()).isZero();

    // The attack: hide the deletion from the reviewer, keep the id.
    ObjectNode root = (ObjectNode) JsonMapper.builder().build().readTree(planFile.toFile());
    ArrayNode kept = root.arrayNode();
    for (JsonNode c : root.get("changes")) {
      if (!c.get("action").asText().equals("DELETE")) {
        kept.add(c);
      }
    }
    assertThat(kept.size()).isLessThan(root.get("changes").size());
    root.set("changes", kept);
    Path edited = tmp.resolve("edited.json");
    Files.writeString(edited, root.toPrettyString());

    GitopsJar.Result refused = gitops("sync", "--plan", edited.toString());
    assertThat(refused.code()).as(refused.toString()).isEqualTo(1);
    assertThat(refused.errLines()).singleElement().asString().startsWith("gitops: --plan " + edited + ": plan ")
        .contains("no longer holds").contains("changed after it was computed").contains("files:file::d.txt");
    assertThat(target.resolve("d.txt")).exists();
    assertThat(Files.readString(target.resolve("app.conf"))).isEqualTo("port=1\n");

    GitopsJar.Result ok = gitops("sync", "--plan", planFile.toString());
    assertThat(ok.code()).as(ok.toString()).isZero();
    assertThat(target.resolve("d.txt")).doesNotExist();
    assertThat(Files.readString(target.resolve("app.conf"))).isEqualTo("port=2\n");
  }

  @Test
  void aPlanFileRunWithOtherSafetyFlagsIsRefusedNamingThem() throws Exception {
    assertThat(gitops("sync").code()).isZero();
    repo.remove("d.txt").commit("drop d.txt");
    Path planFile = tmp.resolve("plan.json");
    assertThat(gitops("plan", "--out", planFile.toString()).code()).isZero();

    GitopsJar.Result refused = gitops("sync", "--plan", planFile.toString(), "--max-deletions", "5");
    assertThat(refused.code()).as(refused.toString()).isEqualTo(1);
    assertThat(refused.errLines()).singleElement().asString().contains("/options/maxDeletions")
        .contains("use the same --prune, --adopt, --allow-empty and --max-deletions");
    assertThat(target.resolve("d.txt")).exists();
  }

  @Test
  void aPlanFileMadeWithAdoptAndRunWithoutIsRefusedNamingAdopt() throws Exception {
    Files.createDirectories(target);
    Files.writeString(target.resolve("a.txt"), "made by hand\n");
    Path planFile = tmp.resolve("plan.json");
    assertThat(gitops("plan", "--adopt", "--out", planFile.toString()).code()).isZero();

    GitopsJar.Result refused = gitops("sync", "--plan", planFile.toString());
    assertThat(refused.code()).as(refused.toString()).isEqualTo(1);
    assertThat(refused.errLines()).singleElement().asString().contains("/options/adopt").contains("--adopt");
    assertThat(target.resolve("a.txt")).hasContent("made by hand");
    assertThat(target.resolve("b.txt")).doesNotExist();
  }

  @Test
  void anOwnerSharingTheDefaultStoreCannotDeleteAllItOwnsWithoutAllowEmpty() throws Exception {
    assertThat(gitops("sync", "--owner", "team-a").code()).isZero();
    FixtureRepo other = FixtureRepo.init(tmp.resolve("other"));
    other.write("x.txt", "x\n").write("y.txt", "y\n").commit("team b");
    GitopsJar.Result b = GitopsJar.run(tmp, other, target, "sync", "--owner", "team-b");
    assertThat(b.code()).as(b.toString()).isZero();

    repo.remove("a.txt").remove("b.txt").remove("c.txt").remove("d.txt").remove("app.conf").write("README", "")
        .commit("nothing for the target");
    GitopsJar.Result refused = gitops("sync", "--owner", "team-a");
    assertThat(refused.code()).as("team-b's files in the shared store are not team-a's: %s", refused).isEqualTo(3);
    assertThat(refused.errLines()).singleElement().asString().contains("all 5 resources").contains("--allow-empty");
    assertThat(target.resolve("a.txt")).exists();
    assertThat(gitops("sync", "--owner", "team-a", "--allow-empty").code()).isZero();
    assertThat(target.resolve("a.txt")).doesNotExist();
    assertThat(target.resolve("x.txt")).hasContent("x");
  }

  @Test
  void logLinesStayOutOfTheOneLineErrorUnlessVerbose() throws Exception {
    assertThat(gitops("sync").code()).isZero();
    // The store warns (a log line) when its directory is readable by others.
    Files.setPosixFilePermissions(target.resolve(".gitops"), PosixFilePermissions.fromString("rwxr-xr-x"));
    repo.remove("a.txt").remove("b.txt").commit("drop two");

    GitopsJar.Result refused = gitops("sync", "--max-deletions", "1");
    assertThat(refused.code()).as(refused.toString()).isEqualTo(3);
    assertThat(refused.errLines()).as(refused.toString()).singleElement().asString()
        .startsWith("gitops: refused by mass-deletion guard").contains("--max-deletions 1");

    GitopsJar.Result verbose = gitops("sync", "--max-deletions", "1", "--verbose");
    assertThat(verbose.code()).isEqualTo(3);
    assertThat(verbose.err()).as("with --verbose the engine logs").contains("[WARN]").contains("[INFO]");
    assertThat(verbose.errLines()).anyMatch(l -> l.startsWith("gitops: refused by mass-deletion guard"));
  }

  @Test
  void aPercentageBudgetRefusesWithExitThreeAndAllowsWithinIt() throws Exception {
    assertThat(gitops("sync").code()).isZero();
    repo.remove("a.txt").remove("b.txt").commit("drop two of five");
    GitopsJar.Result refused = gitops("sync", "--max-deletions", "25%");
    assertThat(refused.code()).as(refused.toString()).isEqualTo(3);
    assertThat(refused.errLines()).singleElement().asString().contains("2 of the 5").contains("--max-deletions 25%");
    assertThat(target.resolve("a.txt")).exists();
    assertThat(gitops("sync", "--max-deletions", "50%").code()).isZero();
    assertThat(target.resolve("a.txt")).doesNotExist();
  }

  @Test
  void aBadMaxDeletionsIsOneLineAndExitOne() throws Exception {
    for (String bad : List.of("-1", "ten", "101%", "")) {
      GitopsJar.Result r = gitops("sync", "--max-deletions", bad);
      assertThat(r.code()).as(r.toString()).isEqualTo(1);
      assertThat(r.errLines()).as(r.toString()).singleElement().asString().startsWith("gitops: ")
          .contains("--max-deletions");
    }
    assertThat(target).doesNotExist();
  }
}
