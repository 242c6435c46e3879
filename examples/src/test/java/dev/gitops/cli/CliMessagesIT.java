package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the user reads: one line per error, no log lines unless --verbose, flags worded by the CLI. */
class CliMessagesIT {

  @TempDir
  Path tmp;

  private Path target;
  private FixtureRepo repo;

  @BeforeEach
  void fixture() throws Exception {
    target = tmp.resolve("target");
    repo = FixtureRepo.init(tmp.resolve("repo"));
    repo.write("a.txt", "a\n").write("b.txt", "b\n").write("c.txt", "c\n").write("d.txt", "d\n").commit("initial");
  }

  private GitopsJar.Result gitops(String command, String... more) throws Exception {
    List<String> a = new ArrayList<>(List.of(command, "--repo", repo.dir().toString(), "--ref", "main", "--target",
        target.toString()));
    a.addAll(List.of(more));
    return GitopsJar.run(tmp, a.toArray(String[]::new));
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
    repo.remove("a.txt").remove("b.txt").commit("drop two of four");
    GitopsJar.Result refused = gitops("sync", "--max-deletions", "25%");
    assertThat(refused.code()).as(refused.toString()).isEqualTo(3);
    assertThat(refused.errLines()).singleElement().asString().contains("2 of the 4").contains("--max-deletions 25%");
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
