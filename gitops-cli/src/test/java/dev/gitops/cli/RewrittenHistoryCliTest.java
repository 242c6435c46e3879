package dev.gitops.cli;

import static dev.gitops.cli.CliRun.gitops;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.core.source.TestGitRepo;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A force push, a rollback to an older commit and a semver range falling to a lower tag between
 * one-shot {@code gitops sync} runs: each run is a new reconciler and source, so only the state
 * store (and its Git cache) remembers the revision synced before. Each is warned about in the
 * source's own words, saying which it was. A tag that shadows the branch read before is refused.
 */
class RewrittenHistoryCliTest {

  private static final String WARNING = "warning: ";

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

  private CliRun sync(String... more) {
    String[] all = new String[5 + more.length];
    all[0] = "sync";
    all[1] = "--repo";
    all[2] = repo.dir().toString();
    all[3] = "--target";
    all[4] = target.toString();
    System.arraycopy(more, 0, all, 5, more.length);
    return gitops(all);
  }

  private static String warningOf(CliRun run) {
    return run.out().lines().filter(l -> l.startsWith(WARNING)).findFirst().orElse("");
  }

  @Test
  void aSyncAfterAForcePushWarnsThatHistoryWasRewritten() throws Exception {
    CliRun first = sync();
    assertThat(first.code()).as("%s", first).isEqualTo(ExitCodes.OK);
    assertThat(first.out()).doesNotContain(WARNING);
    String before = TestGitRepo.open(repo.dir()).head();
    repo.resetHard("HEAD~1");
    String rewritten = repo.write("app.properties", "name=shop\nport=8080\n").commit("port, rewritten");

    CliRun second = sync();

    assertThat(second.code()).as("%s", second).isEqualTo(ExitCodes.OK);
    assertThat(warningOf(second)).isEqualTo(WARNING + "main@sha1:" + rewritten + " does not descend from main@sha1:"
        + before + ", the revision last applied (history rewritten: a force push, or the default branch main (HEAD)"
        + " moved back to an older commit, a rollback)");
    assertThat(Files.readString(target.resolve("app.properties"))).isEqualTo("name=shop\nport=8080\n");
    // a commit on top of the rewritten one is an ordinary update
    repo.write("app.properties", "name=shop\nport=8081\n").commit("port again");
    CliRun third = sync();
    assertThat(third.code()).as("%s", third).isEqualTo(ExitCodes.OK);
    assertThat(third.out()).doesNotContain(WARNING);
  }

  @Test
  void aBranchResetToAnOlderCommitIsWarnedAsARollback() throws Exception {
    TestGitRepo git = TestGitRepo.open(repo.dir());
    String older = git.head();
    assertThat(sync().code()).isEqualTo(ExitCodes.OK);
    String head = repo.write("app.properties", "name=shop\nport=81\n").commit("port 81");
    assertThat(sync().code()).isEqualTo(ExitCodes.OK);  // the cache now holds head's history back to older
    repo.resetHard(older);

    CliRun back = sync();

    assertThat(back.code()).as("%s", back).isEqualTo(ExitCodes.OK);
    assertThat(warningOf(back)).isEqualTo(WARNING + "main@sha1:" + older + " is an older commit than main@sha1:" + head
        + ", the revision last applied: the default branch main (HEAD) moved back (a rollback;"
        + " flagged as history rewritten)");
    assertThat(Files.readString(target.resolve("app.properties"))).isEqualTo("name=shop\nport=80\n");
  }

  @Test
  void aVersionRangeFallingToALowerTagIsWarnedAsSuch() throws Exception {
    TestGitRepo git = TestGitRepo.open(repo.dir());
    git.tag("v1.1.0");
    String high = repo.write("app.properties", "name=shop\nport=82\n").commit("1.2.0");
    git.tag("v1.2.0");
    assertThat(sync("--ref", "^1.0").code()).isEqualTo(ExitCodes.OK);
    git.git("tag", "-d", "v1.2.0");

    CliRun lower = sync("--ref", "^1.0");

    assertThat(lower.code()).as("%s", lower).isEqualTo(ExitCodes.OK);
    assertThat(warningOf(lower)).startsWith(WARNING + "the version range '^1.0' now resolves to v1.1.0@sha1:")
        .contains(", a lower version than v1.2.0@sha1:" + high + ", the revision last applied (was tag v1.2.0 deleted")
        .endsWith("a rollback, flagged as history rewritten");
  }

  @Test
  void aTagThatShadowsTheBranchReadBeforeIsRefusedNamingBothAndHowToNameTheBranch() throws Exception {
    TestGitRepo git = TestGitRepo.open(repo.dir());
    String old = git.head();
    git.git("branch", "release");
    git.git("checkout", "-q", "release");
    String head = git.write("app.properties", "name=shop\nport=83\n").commit("release");
    assertThat(sync("--ref", "release").code()).isEqualTo(ExitCodes.OK);
    git.git("tag", "-a", "-m", "an old release", "release", old);

    CliRun shadowed = sync("--ref", "release");

    assertThat(shadowed.code()).as("%s", shadowed).isEqualTo(ExitCodes.ERROR);
    assertThat(shadowed.err()).contains("ref 'release' is ambiguous at ")
        .contains("the tag refs/tags/release (at ").contains("the branch refs/heads/release (at " + head + ")")
        .contains("heads/release (or refs/heads/release) for the branch");
    assertThat(Files.readString(target.resolve("app.properties"))).isEqualTo("name=shop\nport=83\n");
    CliRun branch = sync("--ref", "heads/release");
    assertThat(branch.code()).as("%s", branch).isEqualTo(ExitCodes.OK);
    assertThat(warningOf(branch)).isEmpty();
  }
}
