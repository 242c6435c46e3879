package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How {@code sync}, {@code sync --dry-run} and {@code status} end: incomplete plans and guard
 * refusals; and {@code forget} (its refusals of keys Git still declares or the store does not own
 * are core's ForgetTest).
 */
class SyncOutcomesTest {

  @TempDir
  Path tmp;

  private Path target;
  private FixtureRepo repo;

  private record Run(int code, String out, String err) {
    List<String> errLines() {
      return err.lines().filter(l -> !l.isBlank()).toList();
    }

    @Override
    public String toString() {
      return "exit " + code + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err;
    }
  }

  @BeforeEach
  void fixture() throws Exception {
    target = tmp.resolve("target");
    repo = FixtureRepo.init(tmp.resolve("repo"));
    repo.write("a.txt", "a\n").write("b.txt", "b\n").write("c.txt", "c\n").commit("three files");
  }

  private Run gitops(String command, String... more) {
    return gitopsAt(target, command, more);
  }

  private Run gitopsAt(Path at, String command, String... more) {
    List<String> a = new ArrayList<>(List.of(command, "--repo", repo.dir().toString(), "--ref", "main", "--target",
        at.toString()));
    a.addAll(List.of(more));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.commandLine(new GitopsCommand(), new PrintWriter(out, true), new PrintWriter(err, true))
        .execute(a.toArray(String[]::new));
    return new Run(code, out.toString(), err.toString());
  }

  /** Replaces a managed file by a symlink: the files provider cannot observe it (UNKNOWN). */
  private void makeUnobservable(String name) throws Exception {
    Path file = target.resolve(name);
    Files.delete(file);
    Files.writeString(tmp.resolve("elsewhere.txt"), "not managed\n");
    Files.createSymbolicLink(file, tmp.resolve("elsewhere.txt"));
  }

  /**
   * What status lists as not applied, a sync skips again: status does not send the user to a plain
   * 'gitops sync' for it (it said "'gitops sync' to correct it", and the sync skipped the file with
   * exit 0), but names --adopt, the flag the skip's reason ("allow adoption") stands for.
   */
  @Test
  void statusDoesNotPromiseThatASyncCorrectsWhatASyncSkips() throws Exception {
    Files.createDirectories(target);
    Files.writeString(target.resolve("a.txt"), "made by hand\n");
    assertThat(gitops("sync").code()).isZero();
    assertThat(Files.readString(target.resolve("a.txt"))).isEqualTo("made by hand\n");

    Run status = gitops("status");
    assertThat(status.code()).as(status.toString()).isEqualTo(2);
    assertThat(status.out()).as(status.toString()).contains("Not applied: 1 resource")
        .doesNotContain("'gitops sync' to correct it").contains("--adopt");

    repo.write("b.txt", "b2\n").commit("change b");
    Run both = gitops("status");
    assertThat(both.out()).as(both.toString()).contains("Not applied: 1 resource")
        .contains("'gitops sync' to correct the rest").contains("--adopt");
  }

  @Test
  void anIncompleteSyncExitsOneNamingTheUnobservableKeysAndTheDeletionsHeldBack() throws Exception {
    assertThat(gitops("sync").code()).isZero();
    repo.remove("b.txt").write("c.txt", "c2\n").commit("remove b, change c");
    makeUnobservable("a.txt");

    Run sync = gitops("sync");
    assertThat(sync.code()).as(sync.toString()).isEqualTo(1);
    assertThat(sync.errLines()).as(sync.toString()).singleElement().asString()
        .startsWith("gitops: sync of ")
        .contains("is incomplete: could not observe 1 resource (files:file::a.txt)")
        .contains("1 change held back (files:file::b.txt)");
    assertThat(sync.out()).doesNotContain("Nothing to do").contains("unknown files:file::a.txt: ");
    assertThat(target.resolve("b.txt")).exists();
    assertThat(Files.readString(target.resolve("c.txt"))).isEqualTo("c2\n");

    Run again = gitops("sync");
    assertThat(again.code()).as("still incomplete, still not a success: " + again).isEqualTo(1);

    Run status = gitops("status");
    assertThat(status.code()).as(status.toString()).isEqualTo(2);
    assertThat(status.out()).contains("Incomplete: could not observe 1 resource (files:file::a.txt)")
        .contains("held back (files:file::b.txt)")
        .as("a sync cannot correct what it cannot observe").doesNotContain("'gitops sync' to correct it")
        .contains("'gitops sync' corrects it all only once what is listed as unknown can be observed");
    Run history = gitops("history");
    assertThat(history.out().lines().skip(1).findFirst().orElseThrow()).contains("INCOMPLETE");

    Files.delete(target.resolve("a.txt"));
    Run repaired = gitops("sync");
    assertThat(repaired.code()).as(repaired.toString()).isZero();
    assertThat(target.resolve("b.txt")).doesNotExist();
    assertThat(Files.readString(target.resolve("a.txt"))).isEqualTo("a\n");
  }

  @Test
  void anIncompletePlanNamesWhatCouldNotBeSearchedOrPlannedAndWhy() {
    java.util.TreeMap<String, String> unobserved = new java.util.TreeMap<>();
    unobserved.put("plan of provider 'tf'", "could not plan: the state is\nlocked by root@vm");
    unobserved.put("marked objects of provider 'k8s'", "listMarked failed: forbidden");
    dev.gitops.api.Plan plan = new dev.gitops.api.Plan("id", "main@sha1:" + "0".repeat(40), List.of(),
        new java.util.TreeMap<>(), new java.util.TreeMap<>(), new java.util.TreeMap<>(), new java.util.TreeMap<>(),
        new java.util.TreeSet<>(), unobserved, new java.util.TreeMap<>());
    assertThat(SyncCommand.incomplete(plan))
        .startsWith("marked objects of provider 'k8s': listMarked failed: forbidden; plan of provider 'tf': could not"
            + " plan: the state is locked by root@vm; nothing is deleted or replaced until every resource can be"
            + " observed");
  }

  @Test
  void anIncompletePlanIsShownAndExitsOneNeverNoChanges() throws Exception {
    assertThat(gitops("sync").code()).isZero();
    makeUnobservable("a.txt");

    for (String[] flags : List.of(new String[0], new String[] {"--detailed-exitcode"})) {
      Run plan = gitops("plan", flags);
      assertThat(plan.code()).as(plan.toString()).isEqualTo(1);
      assertThat(plan.out()).doesNotContain("No changes").contains("? files:file::a.txt")
          .contains("(incomplete: 1 unknown)");
      assertThat(plan.errLines()).as(plan.toString()).singleElement().asString()
          .startsWith("gitops: plan of ").contains("is incomplete: could not observe 1 resource (files:file::a.txt)");
    }
    Run diff = gitops("diff", "--format", "markdown");
    assertThat(diff.code()).as(diff.toString()).isEqualTo(1);
    assertThat(diff.out()).doesNotContain("No changes").contains("could not be observed");
    assertThat(diff.errLines()).singleElement().asString().contains("is incomplete: could not observe 1 resource");

    // the diff of a saved incomplete plan is the same: exit 1, and why
    Path saved = target.resolveSibling("incomplete-plan.json");
    assertThat(gitops("plan", "--out", saved.toString()).code()).isEqualTo(1);
    Run savedDiff = gitops("diff", "--plan", saved.toString());
    assertThat(savedDiff.code()).as(savedDiff.toString()).isEqualTo(1);
    assertThat(savedDiff.errLines()).singleElement().asString().contains("is incomplete: could not observe 1 resource");
  }

  @Test
  void aDryRunOfAnIncompletePlanIsNotNothingToDo() throws Exception {
    assertThat(gitops("sync").code()).isZero();
    makeUnobservable("a.txt");

    Run dry = gitops("sync", "--dry-run");
    assertThat(dry.code()).as(dry.toString()).isEqualTo(1);
    assertThat(dry.out()).doesNotContain("nothing to do");
    assertThat(dry.errLines()).singleElement().asString().contains("could not observe 1 resource (files:file::a.txt)");
  }

  @Test
  void aDryRunIsRefusedByTheGuardExactlyAsTheSyncWouldBe() throws Exception {
    assertThat(gitops("sync").code()).isZero();
    repo.remove("a.txt").remove("b.txt").remove("c.txt").commit("remove everything");

    Run dry = gitops("sync", "--dry-run");
    Run real = gitops("sync");
    assertThat(real.code()).as(real.toString()).isEqualTo(3);
    assertThat(dry.code()).as(dry.toString()).isEqualTo(3);
    assertThat(dry.errLines()).isEqualTo(real.errLines());
    assertThat(target.resolve("a.txt")).exists();

    repo.write("a.txt", "a\n").write("b.txt", "b\n").commit("two back");
    Run budget = gitops("sync", "--dry-run", "--max-deletions", "0");
    assertThat(budget.code()).as(budget.toString()).isEqualTo(3);
    assertThat(budget.errLines()).singleElement().asString().contains("--max-deletions");
    Run allowed = gitops("sync", "--dry-run", "--max-deletions", "1");
    assertThat(allowed.code()).as(allowed.toString()).isEqualTo(2);
    assertThat(target.resolve("c.txt")).exists();
  }

  @Test
  void aPlanTheGuardWouldRefuseSaysSoNamingTheFlagAndEndsAsAPlan() throws Exception {
    assertThat(gitops("sync").code()).isZero();
    repo.remove("a.txt").remove("b.txt").remove("c.txt").commit("remove everything");
    String warning = "warning: 'gitops sync' with these flags would exit 3, refused by mass-deletion guard";

    Run plan = gitops("plan", "--detailed-exitcode");
    assertThat(plan.code()).as("a plan's exit code: %s", plan).isEqualTo(2);
    assertThat(plan.out().lines().filter(l -> l.startsWith("warning: ")).toList()).as(plan.toString()).singleElement()
        .asString().startsWith(warning).contains("all 3 resources").contains("--allow-empty");
    Run dry = gitops("sync", "--dry-run");
    assertThat(dry.code()).as("what the warning says: %s", dry).isEqualTo(3);
    Run allowed = gitops("plan", "--allow-empty");
    assertThat(allowed.code()).as(allowed.toString()).isZero();
    assertThat(allowed.out()).doesNotContain("warning:");

    repo.write("a.txt", "a\n").commit("one back");
    Run budget = gitops("plan", "--max-deletions", "1");
    assertThat(budget.code()).as(budget.toString()).isZero();
    assertThat(budget.out()).contains(warning).contains("2 of the 3 resources").contains("--max-deletions 1");
    assertThat(gitops("plan", "--max-deletions", "2").out()).doesNotContain("warning:");
  }

  @Test
  void aRollbackFindsItsEntryBeforeOpeningAnythingAndEndsWithItsNoteAndHistoryChecksTheStore() throws Exception {
    assertThat(gitops("sync").code()).isZero();
    repo.write("a.txt", "a2\n").commit("a2");
    assertThat(gitops("sync").code()).isZero();

    Run empty = gitops("rollback", "");
    assertThat(empty.code()).as(empty.toString()).isEqualTo(1);
    assertThat(empty.errLines()).singleElement().asString().contains("the history id is empty");
    Path elsewhere = tmp.resolve("never-synced");
    Run unknown = gitopsAt(elsewhere, "rollback", "nosuch");
    assertThat(unknown.code()).as(unknown.toString()).isEqualTo(1);
    assertThat(unknown.err()).contains("no history entry 'nosuch'");
    assertThat(elsewhere).as("a rollback to nothing creates nothing").doesNotExist();

    String oldest = gitops("history").out().lines().reduce((first, second) -> second).orElseThrow().split(" ")[0];
    Run rollback = gitops("rollback", oldest);
    assertThat(rollback.code()).as(rollback.toString()).isZero();
    assertThat(Files.readString(target.resolve("a.txt"))).isEqualTo("a\n");
    assertThat(rollback.out().lines().filter(l -> !l.isBlank()).reduce((first, second) -> second).orElseThrow())
        .as("the note is the last word, not a plan the note asked for").startsWith("Note: the branch still points at");

    deleteTree(target.resolve(".gitops/history"));
    Run history = gitops("history");
    assertThat(history.code()).as("a damaged store is said, never a table that looks fine: " + history).isEqualTo(1);
    assertThat(history.errLines()).singleElement().asString().contains("history");
  }

  /**
   * A rollback given another repository than the one its entry's sync read says that, naming the
   * repository given, the store (which does not record its repository) and the flag, whether the
   * store's Git cache holds the commit or not; it does not guess at a force push alone.
   */
  @Test
  void aRollbackWithAnotherRepositoryThanTheSyncReadSaysWhatIsKnownAndTheFlag() throws Exception {
    assertThat(gitops("sync").code()).isZero();
    String entry = gitops("history").out().lines().skip(1).findFirst().orElseThrow().split(" ")[0];
    FixtureRepo other = FixtureRepo.init(tmp.resolve("other repo"));
    other.write("x.txt", "x\n").commit("another project");

    for (boolean cached : List.of(true, false)) {
      if (!cached) {
        deleteTree(target.resolve(".gitops/git-cache"));
      }
      List<String> a = List.of("rollback", entry, "--repo", other.dir().toString(), "--target", target.toString());
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int code = Main.commandLine(new GitopsCommand(), new PrintWriter(out, true), new PrintWriter(err, true))
          .execute(a.toArray(String[]::new));
      Run r = new Run(code, out.toString(), err.toString());
      assertThat(r.code()).as(r.toString()).isEqualTo(1);
      assertThat(r.errLines()).as(r.toString()).singleElement().asString()
          .startsWith("gitops: cannot roll back to history entry " + entry + ": its revision main@sha1:")
          .contains("is not in the repository given as --repo " + other.dir())
          .contains("The state store " + target.resolve(".gitops") + " does not record which repository")
          .contains("give it as --repo")
          .doesNotContain("(rewritten by a force push?)");
      assertThat(target.resolve("a.txt")).hasContent("a");
      assertThat(target.resolve("x.txt")).doesNotExist();
    }
  }

  /** A reviewed plan whose commit left the repository it was made from says so, naming the file and the repository. */
  @Test
  void aReviewedPlanWhoseCommitLeftItsRepositorySaysSoNamingTheFileWithoutAGuess() throws Exception {
    assertThat(gitops("sync").code()).isZero();
    repo.write("d.txt", "d\n").commit("d");
    Path saved = tmp.resolve("reviewed.json");
    assertThat(gitops("plan", "--out", saved.toString()).code()).isZero();
    repo.resetHard("HEAD~1");  // the planned commit is on no branch any more

    Run r = gitopsAt(target, "sync", "--plan", saved.toString());
    assertThat(r.code()).as(r.toString()).isEqualTo(1);
    assertThat(r.errLines()).as(r.toString()).singleElement().asString()
        .startsWith("gitops: --plan " + saved + ": the reviewed plan's revision main@sha1:")
        .contains("is no longer in the repository it was made from, --repo " + repo.dir())
        .contains("make a new plan")
        .doesNotContain("(rewritten by a force push?)");
    assertThat(target.resolve("d.txt")).doesNotExist();
  }

  @Test
  void aReviewedPlanAppliedTwiceIsSaidToBeAppliedAlreadyNamingTheFileAndTheEntry() {
    Path saved = tmp.resolve("reviewed.json");
    assertThat(gitops("plan", "--out", saved.toString()).code()).isZero();
    Run first = gitops("sync", "--plan", saved.toString());
    assertThat(first.code()).as(first.toString()).isZero();
    Run again = gitops("sync", "--plan", saved.toString());
    assertThat(again.code()).as(again.toString()).isEqualTo(1);
    String entry = gitops("history").out().lines().skip(1).findFirst().orElseThrow().split(" ")[0];
    assertThat(again.errLines()).singleElement().asString()
        .startsWith("gitops: --plan " + saved + ": plan ")
        .contains("was applied already (history entry " + entry + "); make a new plan with 'gitops plan --out'");
  }

  private static void deleteTree(Path dir) throws java.io.IOException {
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** A name with a control character is printed escaped: the key copied from 'gitops plan' is that file's. */
  @Test
  void forgetTakesAKeyAsPlanPrintsItEscapedForANameWithAControlCharacter() throws Exception {
    repo.write("new\nline.txt", "n\n").commit("an odd name");
    assertThat(gitops("sync").code()).isZero();
    repo.remove("new\nline.txt").commit("no longer managed");
    assertThat(gitops("plan").out()).contains("files:file::new\\nline.txt");

    Run forget = gitops("forget", "files:file::new\\nline.txt");

    assertThat(forget.code()).as(forget.toString()).isZero();
    assertThat(forget.out()).contains("Forgot 1 of 1");
    Run sync = gitops("sync");
    assertThat(sync.code()).as(sync.toString()).isZero();
    assertThat(Files.readString(target.resolve("new\nline.txt"))).isEqualTo("n\n");
  }

  @Test
  void forgetLeavesAFileGitDroppedUnownedSoTheNextSyncNeitherDeletesNorReportsIt() throws Exception {
    assertThat(gitops("sync").code()).isZero();
    repo.remove("a.txt").commit("a.txt is no longer managed");

    Path nowhere = tmp.resolve("never-synced");
    Run none = gitopsAt(nowhere, "forget", "files:file::a.txt");
    assertThat(none.code()).isEqualTo(1);
    assertThat(none.errLines()).singleElement().asString().isEqualTo("gitops: no state store at "
        + nowhere.resolve(".gitops").toAbsolutePath().normalize() + " (the default; --state chooses another): nothing is"
        + " owned there, so nothing can be forgotten");
    assertThat(nowhere).as("nothing is created where nothing is owned").doesNotExist();

    Run bad = gitops("forget", "a.txt");
    assertThat(bad.code()).isEqualTo(1);
    assertThat(bad.errLines()).singleElement().asString().startsWith("gitops: KEY 'a.txt' is not a resource key");

    Run forget = gitops("forget", "files:file::a.txt");
    assertThat(forget.code()).as(forget.toString()).isZero();
    assertThat(forget.out()).contains("forgotten files:file::a.txt").contains("Forgot 1 of 1");

    Run sync = gitops("sync");
    assertThat(sync.code()).as(sync.toString()).isZero();
    assertThat(sync.out()).doesNotContain("a.txt");
    assertThat(Files.readString(target.resolve("a.txt"))).isEqualTo("a\n");
    assertThat(gitops("history").out()).contains("SUCCEEDED forgotten=1");
  }

  /**
   * A forget's history entry is shown as one and is no rollback target: it applied no revision. Its
   * rollback was a sync of the head the forget ran at; now it is refused, naming the sync to give instead.
   */
  @Test
  void historyShowsAForgetAsOneAndRollbackToItIsRefusedNamingTheSyncBeforeIt() throws Exception {
    assertThat(gitops("sync").code()).isZero();
    repo.remove("a.txt").commit("a.txt is no longer managed");
    assertThat(gitops("forget", "files:file::a.txt").code()).isZero();

    List<String> rows = gitops("history").out().lines().skip(1).toList();
    assertThat(rows).hasSize(2);
    assertThat(rows.get(0)).contains(" forget ").contains("SUCCEEDED forgotten=1");
    assertThat(rows.get(1)).contains(" sync ").contains("SUCCEEDED created=3");
    String forgetId = rows.get(0).split(" ")[0];
    String syncId = rows.get(1).split(" ")[0];

    Run rollback = gitops("rollback", forgetId);
    assertThat(rollback.code()).as(rollback.toString()).isEqualTo(1);
    assertThat(rollback.errLines()).as(rollback.toString()).singleElement().asString()
        .startsWith("gitops: history entry " + forgetId + " is a forget ('gitops forget': it stopped owning keys")
        .contains("such as " + syncId + " (main@sha1:");
    assertThat(gitops("history").out().lines().skip(1).toList()).as("nothing ran").isEqualTo(rows);

    // the sync of the head the forget ran at changes nothing, and is recorded as a sync of its own
    assertThat(gitops("sync").code()).isZero();
    assertThat(gitops("history").out().lines().skip(1).findFirst().orElseThrow()).contains(" sync ")
        .doesNotStartWith(forgetId);
  }
}
