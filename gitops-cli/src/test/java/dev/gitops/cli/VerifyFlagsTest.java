package dev.gitops.cli;

import static dev.gitops.cli.CliRun.gitops;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.agent.SigningKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --verify-key-ring} and {@code --verify-mode}: the source requires an OpenPGP signature by a
 * key of the ring, in process, with the one-line errors of docs/cli.md.
 */
class VerifyFlagsTest {

  static SigningKey trusted;

  @TempDir
  Path tmp;

  Path ring;
  FixtureRepo repo;

  @BeforeAll
  static void key() {
    trusted = SigningKey.generate("Release <release@example.com>");
  }

  @BeforeEach
  void fixture() throws Exception {
    ring = trusted.writeArmoredRing(tmp.resolve("trusted.asc"));
    repo = FixtureRepo.init(tmp.resolve("repo"));
    repo.write("app.properties", "name=shop\n").commit("the app's settings");
    repo.close();
  }

  CliRun run(String command, String... flags) {
    List<String> args = new java.util.ArrayList<>(List.of(command, "--repo", repo.dir().toString(), "--target",
        tmp.resolve("target").toString()));
    args.addAll(List.of(flags));
    if (command.equals("rollback")) {
      args.add("1");  // a history id
    }
    return gitops(args.toArray(String[]::new));
  }

  @Test
  void aCommitSignedByAKeyOfTheRingIsReadByEveryCommandThatReadsTheSource() {
    String signed = trusted.signHead(repo.dir());
    for (String command : List.of("plan", "diff", "sync", "status")) {
      CliRun r = run(command, "--verify-key-ring", ring.toString());
      assertThat(r.code()).as("%s: %s", command, r).isEqualTo(ExitCodes.OK);
    }
    assertThat(tmp.resolve("target/app.properties")).hasContent("name=shop\n");
    CliRun both = run("sync", "--verify-key-ring", ring.toString(), "--verify-mode", "HEAD");
    assertThat(both.code()).as("%s", both).isEqualTo(ExitCodes.OK);
    assertThat(both.out()).doesNotContain("refused");
    assertThat(signed).hasSize(40);
  }

  @Test
  void anUnsignedCommitIsOneLineNamingTheCommitAndExitsOneWithNothingWritten() {
    String head = repo.dir().toString();
    for (String command : List.of("plan", "sync")) {
      CliRun r = run(command, "--verify-key-ring", ring.toString());
      assertThat(r.code()).as("%s: %s", command, r).isEqualTo(ExitCodes.ERROR);
      assertThat(r.err().lines().toList()).as(command).singleElement().asString()
          .startsWith("gitops: commit ").contains(" refused: the commit is not signed").contains(ring.toString())
          .contains(head);
    }
    assertThat(tmp.resolve("target/app.properties")).doesNotExist();
    CliRun without = run("sync");
    assertThat(without.code()).as("without the flag no signature is required: %s", without).isEqualTo(ExitCodes.OK);
  }

  @Test
  void theTagModesRefuseABranchNamingTheRefAndTheMode() {
    trusted.signHead(repo.dir());
    CliRun r = run("sync", "--ref", "main", "--verify-key-ring", ring.toString(), "--verify-mode", "tag-and-head");
    assertThat(r.code()).as("%s", r).isEqualTo(ExitCodes.ERROR);
    assertThat(r.err().lines().toList()).singleElement().asString().startsWith("gitops: commit ")
        .contains("ref 'main' names the branch").contains("signature mode TAG_AND_HEAD");
    assertThat(tmp.resolve("target/app.properties")).doesNotExist();
  }

  @Test
  void badFlagsAreOneLineNamingTheFlagBeforeAnythingIsCreated() throws Exception {
    Files.createDirectories(tmp.resolve("a-directory"));
    Files.writeString(tmp.resolve("not-keys.asc"), "trusted: release@example.com\n");
    // rollback's history id 1 is in no store: the flags' words come before the history's, ring file's included
    for (String command : List.of("sync", "plan", "diff", "status", "rollback")) {
      assertOneLine(run(command, "--verify-mode", "tag"), command, "--verify-mode tag needs --verify-key-ring FILE");
      assertOneLine(run(command, "--verify-key-ring", ring.toString(), "--verify-mode", "commit"), command,
          "--verify-mode 'commit': give head", "tag-and-head");
      assertOneLine(run(command, "--verify-key-ring", tmp.resolve("missing.asc").toString()), command,
          "--verify-key-ring " + tmp.resolve("missing.asc") + ": no such file");
      assertOneLine(run(command, "--verify-key-ring", tmp.resolve("a-directory").toString()), command,
          "--verify-key-ring " + tmp.resolve("a-directory") + ": is a directory");
      assertOneLine(run(command, "--verify-key-ring", ""), command, "--verify-key-ring is empty");
      assertOneLine(run(command, "--verify-key-ring", tmp.resolve("not-keys.asc").toString()), command,
          "--verify-key-ring " + tmp.resolve("not-keys.asc") + ": ", "OpenPGP");
      assertOneLine(run(command, "--ref", "0123456789abcdef0123456789abcdef01234567", "--verify-key-ring",
          ring.toString(), "--verify-mode", "tag"), command, "--verify-mode tag checks the signature of the annotated"
          + " tag", "--ref 0123456789abcdef0123456789abcdef01234567 is a commit id");
    }
    assertThat(tmp.resolve("target")).as("nothing created").doesNotExist();
  }

  private static void assertOneLine(CliRun r, String command, String... said) {
    assertThat(r.code()).as("%s: %s", command, r).isEqualTo(ExitCodes.ERROR);
    assertThat(r.err().lines().toList()).as("%s: %s", command, r).singleElement().asString().startsWith("gitops: ")
        .contains(said);
  }
}
