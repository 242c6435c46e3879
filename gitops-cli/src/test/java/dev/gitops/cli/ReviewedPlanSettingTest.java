package dev.gitops.cli;

import static dev.gitops.cli.CliRun.gitops;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reviewed plan runs only where it was made: {@code sync --plan} with another owner, repository,
 * sub-path, target or store than {@code plan --out} had is refused naming the flag, before anything
 * is created, like {@code terraform apply plan.tfplan} refuses a plan of another configuration.
 */
class ReviewedPlanSettingTest {

  @TempDir
  Path tmp;

  private FixtureRepo repo;
  private Path target;
  private Path plan;

  @BeforeEach
  void fixture() throws Exception {
    repo = FixtureRepo.init(tmp.resolve("repo"));
    // two sub-paths with the same files: a plan of one computes to the same changes in the other
    repo.write("apps/a.conf", "a=1\n").write("copy/a.conf", "a=1\n").commit("initial");
    target = tmp.resolve("target");
    plan = tmp.resolve("plan.json");
    CliRun planned = gitops("plan", "--repo", repo.dir().toString(), "--path", "apps", "--target", target.toString(),
        "--owner", "alice", "--out", plan.toString());
    assertThat(planned.code()).as("%s", planned).isZero();
  }

  private CliRun sync(String... flags) {
    List<String> a = new ArrayList<>(List.of("sync", "--plan", plan.toString()));
    a.addAll(List.of(flags));
    return gitops(a.toArray(String[]::new));
  }

  @Test
  void aPlanMadeForAnotherOwnerIsRefusedNamingTheFlag() {
    CliRun bob = sync("--repo", repo.dir().toString(), "--path", "apps", "--target", target.toString(), "--owner", "bob");
    assertThat(bob.code()).as("%s", bob).isEqualTo(ExitCodes.ERROR);
    assertThat(bob.err()).startsWith("gitops: --owner bob: the reviewed plan " + plan + " was made for --owner alice;");
    assertThat(target.resolve("a.conf")).doesNotExist();
  }

  @Test
  void aPlanMadeForAnotherPathTargetOrRepositoryIsRefusedNamingTheFlag() throws Exception {
    CliRun path = sync("--repo", repo.dir().toString(), "--path", "copy", "--target", target.toString(), "--owner", "alice");
    assertThat(path.code()).as("%s", path).isEqualTo(ExitCodes.ERROR);
    assertThat(path.err()).startsWith("gitops: --path copy: the reviewed plan " + plan + " was made for --path apps;");

    Path elsewhere = tmp.resolve("elsewhere");
    CliRun other = sync("--repo", repo.dir().toString(), "--path", "apps", "--target", elsewhere.toString(),
        "--owner", "alice");
    assertThat(other.code()).as("%s", other).isEqualTo(ExitCodes.ERROR);
    assertThat(other.err()).startsWith("gitops: --target " + elsewhere + ": the reviewed plan " + plan
        + " was made for --target " + target + ";");
    assertThat(elsewhere).as("nothing is created for a refused plan").doesNotExist();

    CliRun state = sync("--repo", repo.dir().toString(), "--path", "apps", "--target", target.toString(),
        "--owner", "alice", "--state", tmp.resolve("other-store").toString());
    assertThat(state.code()).as("%s", state).isEqualTo(ExitCodes.ERROR);
    assertThat(state.err()).startsWith("gitops: --state " + tmp.resolve("other-store") + ": the reviewed plan");

    // a clone holds the same commit: still another repository
    Path clone = tmp.resolve("clone");
    org.eclipse.jgit.api.Git.cloneRepository().setURI(repo.dir().toUri().toString()).setDirectory(clone.toFile())
        .call().close();
    CliRun cloned = sync("--repo", clone.toString(), "--path", "apps", "--target", target.toString(), "--owner", "alice");
    assertThat(cloned.code()).as("%s", cloned).isEqualTo(ExitCodes.ERROR);
    assertThat(cloned.err()).startsWith("gitops: --repo " + clone + ": the reviewed plan " + plan
        + " was made for --repo " + repo.dir().toRealPath() + ";");
    assertThat(target.resolve("a.conf")).doesNotExist();
  }

  @Test
  void aPlanMadeWithOtherRulesIsRefusedNamingTheFlagButTheirOrderDoesNotMatter() throws Exception {
    String[] here = {"--repo", repo.dir().toString(), "--path", "apps", "--target", target.toString(), "--owner", "alice"};
    CliRun structured = sync(concat(here, "--structured", "**/*.conf"));
    assertThat(structured.code()).as("%s", structured).isEqualTo(ExitCodes.ERROR);
    assertThat(structured.err()).startsWith("gitops: --structured **/*.conf: the reviewed plan " + plan
        + " was made for --structured (none);");

    CliRun ruled = gitops(concat(concat(here, "--sensitive", "*.conf:/a", "--sensitive", "*.yaml:/b"), "plan",
        "--out", plan.toString()));
    assertThat(ruled.code()).as("%s", ruled).isZero();
    CliRun fewer = sync(concat(here, "--sensitive", "*.yaml:/b"));
    assertThat(fewer.code()).as("%s", fewer).isEqualTo(ExitCodes.ERROR);
    assertThat(fewer.err()).startsWith("gitops: --sensitive *.yaml:/b: the reviewed plan " + plan
        + " was made for --sensitive *.conf:/a *.yaml:/b;");
    assertThat(target.resolve("a.conf")).doesNotExist();

    CliRun reordered = sync(concat(here, "--sensitive", "*.yaml:/b", "--sensitive", "*.conf:/a"));
    assertThat(reordered.code()).as("%s", reordered).isZero();
  }

  @Test
  void anEditedPlanIsNotShownByDiffAndIsRefusedInTheWordsOfSync() throws Exception {
    String text = Files.readString(plan);
    assertThat(text).contains("a=1\\n");
    Files.writeString(plan, text.replace("a=1\\n", "a=2\\n"));
    String[] here = {"--repo", repo.dir().toString(), "--path", "apps", "--target", target.toString(), "--owner", "alice"};

    CliRun diff = gitops("diff", "--plan", plan.toString());
    CliRun synced = sync(here);

    assertThat(diff.code()).as("%s", diff).isEqualTo(ExitCodes.ERROR).isEqualTo(synced.code());
    assertThat(diff.out()).as("a reviewer never reads content its id does not cover").doesNotContain("a=2");
    String refused = "gitops: --plan " + plan + ": plan ";
    assertThat(diff.err()).startsWith(refused)
        .endsWith("no longer holds: it was changed after it was computed (its content no longer matches its id)\n");
    // sync computes the plan now as well, so it can say where the file differs from it
    assertThat(synced.err()).startsWith(diff.err().strip());
    assertThat(target.resolve("a.conf")).doesNotExist();
  }

  @Test
  void diffOfASavedPlanChecksTheTargetFlagsGivenAsSyncDoes() {
    CliRun none = gitops("diff", "--plan", plan.toString());
    assertThat(none.code()).as("%s", none).isZero();
    assertThat(none.out()).contains("a.conf");
    CliRun same = gitops("diff", "--plan", plan.toString(), "--repo", repo.dir().toString(), "--path", "apps",
        "--target", target.toString(), "--owner", "alice");
    assertThat(same.code()).as("%s", same).isZero();
    assertThat(same.out()).isEqualTo(none.out());

    Path elsewhere = tmp.resolve("elsewhere");
    CliRun other = gitops("diff", "--plan", plan.toString(), "--repo", repo.dir().toString(), "--path", "apps",
        "--target", elsewhere.toString(), "--owner", "alice");
    assertThat(other.code()).as("%s", other).isEqualTo(ExitCodes.ERROR);
    assertThat(other.err()).startsWith("gitops: --target " + elsewhere + ": the reviewed plan " + plan
        + " was made for --target " + target + ";");
    assertThat(other.out()).isEmpty();

    CliRun part = gitops("diff", "--plan", plan.toString(), "--target", elsewhere.toString());
    assertThat(part.code()).as("%s", part).isEqualTo(ExitCodes.ERROR);
    assertThat(part.err()).startsWith("gitops: missing --repo").contains("with --plan, --target check that the plan");
    assertThat(elsewhere).doesNotExist();
  }

  @Test
  void diffOfASavedPlanChecksTheSafetyFlagsGivenAsSyncDoesInItsWords() {
    String same = "use the same --prune, --adopt, --allow-empty and --max-deletions";
    for (List<String> flags : List.of(List.of("--no-prune"), List.of("--max-deletions", "5"), List.of("--allow-empty"),
        List.of("--adopt"))) {
      List<String> diff = new ArrayList<>(List.of("diff", "--plan", plan.toString()));
      diff.addAll(flags);
      CliRun shown = gitops(diff.toArray(String[]::new));
      assertThat(shown.code()).as("%s: %s", flags, shown).isEqualTo(ExitCodes.ERROR);
      assertThat(shown.out()).as("%s", flags).isEmpty();
      CliRun synced = sync(concat(flags.toArray(String[]::new), "--repo", repo.dir().toString(), "--path", "apps",
          "--target", target.toString(), "--owner", "alice"));
      assertThat(synced.code()).as("%s: %s", flags, synced).isEqualTo(ExitCodes.ERROR);
      assertThat(shown.err()).as("%s", flags).startsWith("gitops: --plan " + plan + ": plan ")
          .contains("it was computed with other options; first difference: /options/").contains(same)
          .isEqualTo(synced.err().replaceFirst(" \\(now [0-9a-f]+\\)", ""));
    }
    assertThat(target.resolve("a.conf")).doesNotExist();
    CliRun defaults = gitops("diff", "--plan", plan.toString(), "--prune");
    assertThat(defaults.code()).as("the flags it was made with, spelt out: %s", defaults).isZero();
  }

  /** {@code flags} then {@code more}; a leading command word of {@code more} goes first. */
  private static String[] concat(String[] flags, String... more) {
    List<String> all = new ArrayList<>();
    List<String> rest = new ArrayList<>(List.of(more));
    int command = rest.indexOf("plan");
    if (command >= 0) {
      all.add(rest.remove(command));
    }
    all.addAll(List.of(flags));
    all.addAll(rest);
    return all.toArray(String[]::new);
  }

  @Test
  void otherSpellingsOfTheSameSettingRunThePlan() throws Exception {
    Path link = Files.createSymbolicLink(tmp.resolve("link"), tmp);
    CliRun ok = sync("--repo", link.resolve("repo") + "/", "--path", "./apps/", "--target",
        link.resolve("target") + "/", "--owner", "alice");
    assertThat(ok.code()).as("%s", ok).isZero();
    assertThat(target.resolve("a.conf")).hasContent("a=1");
  }

  @Test
  void anEditedSettingIsAnEditedPlan() throws Exception {
    // the setting is part of the plan's id: rewriting it to pass the check is refused as an edit
    String text = Files.readString(plan);
    Files.writeString(plan, text.replace("\"owner\" : \"alice\"", "\"owner\" : \"bob\""));
    CliRun bob = sync("--repo", repo.dir().toString(), "--path", "apps", "--target", target.toString(), "--owner", "bob");
    assertThat(bob.code()).as("%s", bob).isEqualTo(ExitCodes.ERROR);
    assertThat(bob.err()).contains("it was changed after it was computed");
    assertThat(target.resolve("a.conf")).doesNotExist();
  }
}
