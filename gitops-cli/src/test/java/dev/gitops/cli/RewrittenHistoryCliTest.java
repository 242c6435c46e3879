package dev.gitops.cli;

import static dev.gitops.cli.CliRun.gitops;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A force push between two one-shot {@code gitops sync} runs: each run is a new reconciler and
 * source, so only the state store remembers the revision synced before.
 */
class RewrittenHistoryCliTest {

  private static final String WARNING = "warning: history was rewritten";

  @TempDir
  Path tmp;

  private FixtureRepo repo;
  private Path target;

  @BeforeEach
  void fixture() throws Exception {
    repo = FixtureRepo.init(tmp.resolve("repo"));
    repo.write("app.properties", "name=shop\n").commit("initial");
    repo.write("app.properties", "name=shop\nport=80\n").commit("port");
    target = tmp.resolve("target");
  }

  private CliRun sync() {
    return gitops("sync", "--repo", repo.dir().toString(), "--target", target.toString());
  }

  @Test
  void aSyncAfterAForcePushWarnsThatHistoryWasRewritten() throws Exception {
    CliRun first = sync();
    assertThat(first.code()).as("%s", first).isEqualTo(ExitCodes.OK);
    assertThat(first.out()).doesNotContain(WARNING);
    repo.resetHard("HEAD~1");
    String rewritten = repo.write("app.properties", "name=shop\nport=8080\n").commit("port, rewritten");

    CliRun second = sync();

    assertThat(second.code()).as("%s", second).isEqualTo(ExitCodes.OK);
    assertThat(second.out()).contains(WARNING).contains(rewritten.substring(0, 7));
    assertThat(Files.readString(target.resolve("app.properties"))).isEqualTo("name=shop\nport=8080\n");
    // a commit on top of the rewritten one is an ordinary update
    repo.write("app.properties", "name=shop\nport=8081\n").commit("port again");
    CliRun third = sync();
    assertThat(third.code()).as("%s", third).isEqualTo(ExitCodes.OK);
    assertThat(third.out()).doesNotContain(WARNING);
  }
}
