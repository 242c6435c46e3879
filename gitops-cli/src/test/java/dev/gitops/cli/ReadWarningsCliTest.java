package dev.gitops.cli;

import static dev.gitops.cli.CliRun.gitops;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a read warns about reaches the user, who sees no log without --verbose: a Git LFS pointer file. */
class ReadWarningsCliTest {

  @TempDir
  Path tmp;

  @Test
  void aGitLfsPointerFileIsAWarningLineOfPlanAndSyncNotOnlyALogLine() throws Exception {
    String pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:"
        + "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n";
    FixtureRepo repo = FixtureRepo.init(tmp.resolve("repo"));
    repo.write("model.bin", pointer).write("app.properties", "name=shop\n").commit("lfs");
    repo.close();
    Path target = tmp.resolve("target");

    for (String command : new String[] {"plan", "sync"}) {
      CliRun r = gitops(command, "--repo", repo.dir().toString(), "--target", target.toString());
      assertThat(r.code()).as("%s", r).isZero();
      assertThat(r.out().lines()).as(command).filteredOn(l -> l.startsWith("warning: ")).singleElement().asString()
          .contains("model.bin").contains("Git LFS pointer file").doesNotContain("app.properties");
    }
    assertThat(Files.readString(target.resolve("model.bin"))).isEqualTo(pointer);
  }
}
