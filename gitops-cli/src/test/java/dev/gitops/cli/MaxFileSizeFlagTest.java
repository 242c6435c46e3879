package dev.gitops.cli;

import static dev.gitops.cli.CliRun.gitops;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --max-file-size}: the source's file size limit raised from the command line, in process. */
class MaxFileSizeFlagTest {

  /** 2 MiB: over the default limit of 1 MiB. */
  static final int BIG = 2 * 1024 * 1024;

  @TempDir
  Path tmp;

  private String repoDir;

  @BeforeEach
  void fixture() throws Exception {
    String json = "{\"data\": \"" + "x".repeat(BIG - 13) + "\"}\n";
    assertThat(json.length()).isEqualTo(BIG);
    FixtureRepo repo = FixtureRepo.init(tmp.resolve("repo"));
    repo.write("config.json", json).write("app.properties", "name=shop\n").commit("a big config");
    repo.close();
    repoDir = repo.dir().toString();
  }

  @Test
  void aFileOverTheDefaultLimitIsRefusedNamingEveryWayToRaiseIt() {
    Path target = tmp.resolve("target");
    CliRun r = gitops("sync", "--repo", repoDir, "--target", target.toString());
    assertThat(r.code()).as("%s", r).isEqualTo(ExitCodes.ERROR);
    assertThat(r.err()).contains("config.json").contains("file is " + BIG + " bytes")
        .contains("more than the limit of 1048576 bytes")
        .contains("--max-file-size, the agent's source.maxFileSize, GitSource.Builder.maxFileSize")
        .contains(".gitopsignore");
    assertThat(target.resolve("config.json")).doesNotExist();
  }

  @Test
  void aRaisedLimitReadsTheFile() throws Exception {
    Path target = tmp.resolve("target");
    CliRun plan = gitops("plan", "--repo", repoDir, "--target", target.toString(), "--max-file-size", "4MiB");
    assertThat(plan.code()).as("%s", plan).isEqualTo(ExitCodes.OK);
    assertThat(plan.out()).contains("config.json");
    CliRun sync = gitops("sync", "--repo", repoDir, "--target", target.toString(), "--max-file-size", "4MiB");
    assertThat(sync.code()).as("%s", sync).isEqualTo(ExitCodes.OK);
    assertThat(Files.size(target.resolve("config.json"))).isEqualTo(BIG);
    // in bytes, the limit the file just fits
    CliRun exact = gitops("diff", "--repo", repoDir, "--target", target.toString(), "--max-file-size",
        String.valueOf(BIG));
    assertThat(exact.code()).as("%s", exact).isEqualTo(ExitCodes.OK);
    CliRun under = gitops("diff", "--repo", repoDir, "--target", target.toString(), "--max-file-size", "2047KiB");
    assertThat(under.code()).as("%s", under).isEqualTo(ExitCodes.ERROR);
    assertThat(under.err()).contains("more than the limit of " + 2047 * 1024 + " bytes");
  }

  @Test
  void aBadSizeIsOneLineNamingTheFlagAndExitsOne() {
    for (String command : List.of("sync", "plan", "diff", "status")) {
      for (String bad : List.of("", " ", "0", "0MiB", "-1", "-4MiB", "4MB", "4mib", "4 MiB", "4TiB", "1.5MiB",
          "MiB", "abc", "9223372036854775808", "8589934592GiB", "99999999999999999999999")) {
        CliRun r = gitops(command, "--repo", repoDir, "--target", tmp.resolve("t").toString(), "--max-file-size", bad);
        assertThat(r.code()).as("%s '%s': %s", command, bad, r).isEqualTo(ExitCodes.ERROR);
        assertThat(r.err().lines().toList()).as("%s '%s'", command, bad).singleElement().asString()
            .startsWith("gitops: ").contains("--max-file-size").contains("KiB, MiB or GiB");
      }
    }
    assertThat(tmp.resolve("t")).as("nothing created").doesNotExist();
  }
}
