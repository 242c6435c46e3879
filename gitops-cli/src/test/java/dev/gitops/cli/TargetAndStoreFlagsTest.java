package dev.gitops.cli;

import static dev.gitops.cli.CliRun.gitops;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The target and store flags in process: empty values, read-only commands, real paths, two owners. */
class TargetAndStoreFlagsTest {

  @TempDir
  Path tmp;

  private FixtureRepo repo;

  @BeforeEach
  void fixture() throws Exception {
    repo = FixtureRepo.init(tmp.resolve("repo"));
    repo.write("app.properties", "name=shop\n").write("conf/site.conf", "listen 80\n").commit("initial");
  }

  private static List<String> args(String command, String... more) {
    List<String> a = new ArrayList<>(List.of(command));
    a.addAll(List.of(more));
    return a;
  }

  private static List<String> args(String command, String[] where, String... more) {
    List<String> a = args(command, where);
    a.addAll(List.of(more));
    return a;
  }

  private static Set<String> listing(Path dir) throws Exception {
    Set<String> out = new TreeSet<>();
    if (Files.exists(dir)) {
      try (Stream<Path> s = Files.walk(dir)) {
        s.forEach(p -> out.add(dir.relativize(p).toString()));
      }
    }
    return out;
  }

  @Test
  void aTargetThatIsAFileOrAStoreThatCannotBeMadeIsAnErrorNamingTheFlag() throws Exception {
    String repoDir = repo.dir().toString();
    Path file = Files.writeString(tmp.resolve("not-a-dir"), "mine\n");
    for (String cmd : List.of("sync", "plan", "status")) {
      CliRun t = gitops(cmd, "--repo", repoDir, "--target", file.toString());
      assertThat(t.code()).as("%s: %s", cmd, t).isEqualTo(ExitCodes.ERROR);
      assertThat(t.err()).contains("--target " + file + " is a file, not a directory");
    }
    CliRun a = gitops("sync", "--repo", repoDir, "--provider", "ansible", "--playbook", "site.yml",
        "--inventory-out", file.resolve("hosts.ini").toString());
    assertThat(a.code()).as("%s", a).isEqualTo(ExitCodes.ERROR);
    assertThat(a.err()).contains("--inventory-out " + file.resolve("hosts.ini") + ": " + file + " is a file");
    assertThat(Files.readString(file)).isEqualTo("mine\n");

    // the default store's place is taken by a file: the message says where that place comes from
    Path target = Files.createDirectories(tmp.resolve("target"));
    Files.writeString(target.resolve(".gitops"), "not a store\n");
    CliRun d = gitops("sync", "--repo", repoDir, "--target", target.toString());
    assertThat(d.code()).as("%s", d).isEqualTo(ExitCodes.ERROR);
    assertThat(d.err()).contains("cannot create the state directory " + target.resolve(".gitops"))
        .contains("(the default; --state chooses another): " + target.resolve(".gitops") + " is a file, not a directory");
    CliRun s = gitops("sync", "--repo", repoDir, "--target", target.toString(), "--state", file.resolve("store").toString());
    assertThat(s.code()).as("%s", s).isEqualTo(ExitCodes.ERROR);
    // what is in the way is said, not only its path (NIO's message is the path alone)
    assertThat(s.err()).contains("cannot create the state directory " + file.resolve("store") + " (--state): " + file
        + " is a file, not a directory");
    Path dangling = Files.createSymbolicLink(tmp.resolve("unmounted"), tmp.resolve("no-volume"));
    CliRun l = gitops("sync", "--repo", repoDir, "--target", target.toString(), "--state", dangling.resolve("store").toString());
    assertThat(l.code()).as("%s", l).isEqualTo(ExitCodes.ERROR);
    assertThat(l.err()).contains("cannot create the state directory " + dangling.resolve("store") + " (--state): "
        + dangling + " is a symbolic link to '" + tmp.resolve("no-volume") + "', which does not exist");
    assertThat(tmp.resolve("no-volume")).doesNotExist();
    // a --state that is a file would read as an empty store: every command refuses it by name
    for (String cmd : List.of("sync", "plan", "status", "diff")) {
      CliRun f = gitops(cmd, "--repo", repoDir, "--target", target.toString(), "--state", file.toString());
      assertThat(f.code()).as("%s: %s", cmd, f).isEqualTo(ExitCodes.ERROR);
      assertThat(f.err()).contains("--state " + file + " is a file, not a directory");
    }
    CliRun h = gitops("history", "--state", file.toString());
    assertThat(h.code()).as("%s", h).isEqualTo(ExitCodes.ERROR);
    assertThat(h.err()).contains("--state " + file + " is a file, not a directory");
    assertThat(listing(target)).containsExactly("", ".gitops");
  }

  @Test
  void anInventoryOutThatIsADeviceADirectoryAFifoOrALinkIsRefusedNamingTheFlagBeforeAnythingRuns() throws Exception {
    String repoDir = repo.dir().toString();
    Path fifo = tmp.resolve("fifo.yml");
    assertThat(new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor()).isZero();
    Path dir = Files.createDirectories(tmp.resolve("adir"));
    Path link = Files.createSymbolicLink(tmp.resolve("link.yml"), tmp.resolve("elsewhere.yml"));
    Map<Path, String> refused = Map.of(Path.of("/dev/null"), "is a character device", dir, "is a directory",
        fifo, "is a FIFO", link, "is a symbolic link to '" + tmp.resolve("elsewhere.yml") + "'");
    for (Map.Entry<Path, String> e : refused.entrySet()) {
      for (String cmd : List.of("plan", "sync")) {
        CliRun r = gitops(cmd, "--repo", repoDir, "--provider", "ansible", "--playbook", "site.yml",
            "--inventory-out", e.getKey().toString());
        assertThat(r.code()).as("%s %s: %s", cmd, e.getKey(), r).isEqualTo(ExitCodes.ERROR);
        assertThat(r.err()).contains("--inventory-out " + e.getKey() + " " + e.getValue() + ", not a regular file");
      }
    }
    assertThat(Files.isRegularFile(fifo, java.nio.file.LinkOption.NOFOLLOW_LINKS)).isFalse();
    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(tmp.resolve("elsewhere.yml")).doesNotExist();
    assertThat(listing(dir)).containsExactly("");
  }

  @Test
  void aTargetThatIsTheRepositorysOwnWorkingTreeOrGitDirectoryIsRefusedAndNothingIsWritten() throws Exception {
    Path dir = repo.dir();
    Files.writeString(dir.resolve("app.properties"), "name=edited, not committed\n");
    Path link = Files.createSymbolicLink(tmp.resolve("link-to-repo"), dir);
    Set<String> before = listing(dir);
    record Case(String[] args, String message) {}
    List<Case> cases = List.of(
        new Case(new String[] {"--repo", dir.toString(), "--target", dir.toString()},
            "is the working tree of the repository"),
        new Case(new String[] {"--repo", link.toString(), "--target", dir + "/"},
            "is the working tree of the repository"),
        new Case(new String[] {"--repo", dir.toUri().toString(), "--target", dir.toString()},
            "is the working tree of the repository"),
        new Case(new String[] {"--repo", dir.resolve(".git").toString(), "--target", dir.toString()},
            "is the working tree of the repository"),
        new Case(new String[] {"--repo", dir.toString(), "--path", "conf", "--target", link.resolve("conf").toString()},
            "is the directory 'conf' of the repository"),
        new Case(new String[] {"--repo", dir.toString(), "--target", dir.resolve(".git/objects/x").toString()},
            "is inside the Git directory of the repository"));
    for (String cmd : List.of("sync", "plan", "status")) {
      for (Case c : cases) {
        List<String> a = args(cmd, c.args());
        CliRun r = gitops(a.toArray(String[]::new));
        assertThat(r.code()).as("%s: %s", a, r).isEqualTo(ExitCodes.ERROR);
        assertThat(r.err()).as("%s", a).startsWith("gitops: --target ").contains(c.message())
            .contains("choose a directory outside the repository");
      }
    }
    assertThat(listing(dir)).as("nothing written into the repository").isEqualTo(before);
    assertThat(Files.readString(dir.resolve("app.properties"))).isEqualTo("name=edited, not committed\n");

    // a directory of the working tree that --path does not read (an ignored build directory) is a target
    CliRun build = gitops("sync", "--repo", dir.toString(), "--path", "conf", "--target", dir.resolve("build").toString());
    assertThat(build.code()).as("%s", build).isZero();
    assertThat(Files.readString(dir.resolve("build/site.conf"))).isEqualTo("listen 80\n");
  }

  @Test
  void aTargetInsideWhatTheSyncReadsOrHoldingTheRepositoryIsRefusedNamingTheFlagAndBothPathsAndNothingIsWritten()
      throws Exception {
    Path dir = repo.dir();
    Set<String> before = listing(dir);
    record Case(String[] args, String message) {}
    List<Case> cases = List.of(
        // inside the working tree the sync reads whole: its output (and the store's secret key) would
        // be committed with the files it reads
        new Case(new String[] {"--repo", dir.toString(), "--target", dir.resolve("deploy").toString()},
            "is inside the working tree " + dir + " of the repository " + dir + " that the sync reads"),
        new Case(new String[] {"--repo", dir.toString(), "--path", "conf", "--target", dir.resolve("conf/live").toString()},
            "is inside the directory 'conf' (" + dir.resolve("conf") + ") of the repository " + dir),
        // the other way round: a path in Git would lead into the repository
        new Case(new String[] {"--repo", dir.toString(), "--target", tmp.toString()},
            "holds the repository " + dir + " (" + dir + ")"),
        new Case(new String[] {"--repo", dir.resolve(".git").toString(), "--path", "conf", "--target", tmp.toString()},
            "holds the repository " + dir.resolve(".git") + " (" + dir.resolve("conf") + ")"));
    for (String cmd : List.of("sync", "plan")) {
      for (Case c : cases) {
        List<String> a = args(cmd, c.args());
        CliRun r = gitops(a.toArray(String[]::new));
        assertThat(r.code()).as("%s: %s", a, r).isEqualTo(ExitCodes.ERROR);
        assertThat(r.err()).as("%s", a).startsWith("gitops: --target " + a.get(a.indexOf("--target") + 1) + " ")
            .contains(c.message());
      }
    }
    assertThat(listing(dir)).as("nothing written into the repository").isEqualTo(before);
    assertThat(tmp.resolve(".gitops")).doesNotExist();
  }

  @Test
  void aStoreInsideWhatTheSyncReadsOrInTheGitDirectoryIsRefusedNamingStateAndBothPathsAndNothingIsWritten()
      throws Exception {
    Path dir = repo.dir();
    Path target = tmp.resolve("live");
    Set<String> before = listing(dir);
    record Case(String[] args, String flag, String message) {}
    String reads = " that the sync reads: the state store, its secret key included, would be read back as the"
        + " repository's own files once committed";
    List<Case> cases = List.of(
        new Case(new String[] {"--state", dir.resolve(".gitops").toString()}, "--state " + dir.resolve(".gitops"),
            "is inside the working tree " + dir + " of the repository " + dir + reads),
        new Case(new String[] {"--path", "conf", "--state", dir.resolve("conf").toString()},
            "--state " + dir.resolve("conf"),
            "is the directory 'conf' (" + dir.resolve("conf") + ") of the repository " + dir + reads),
        new Case(new String[] {"--state", dir.resolve(".git/gitops").toString()}, "--state " + dir.resolve(".git/gitops"),
            "is inside the Git directory of the repository " + dir + " (" + dir.resolve(".git") + "): the state store"
                + " would be written among Git's own files"),
        // Ansible's default store is beside its managed inventory
        new Case(new String[] {"--provider", "ansible", "--playbook", "site.yml", "--inventory-out",
            dir.resolve("inv/managed.yml").toString()}, "the state store " + dir.resolve("inv/.gitops")
                + " (the default: beside --inventory-out; --state chooses another)",
            "is inside the working tree " + dir));
    for (String cmd : List.of("sync", "plan")) {
      for (Case c : cases) {
        List<String> a = args(cmd, new String[] {"--repo", dir.toString()}, c.args());
        if (!a.contains("--provider")) {
          a.addAll(List.of("--target", target.toString()));
        }
        CliRun r = gitops(a.toArray(String[]::new));
        assertThat(r.code()).as("%s: %s", a, r).isEqualTo(ExitCodes.ERROR);
        assertThat(r.err()).as("%s", a).startsWith("gitops: " + c.flag() + " ").contains(c.message());
      }
    }
    assertThat(listing(dir)).as("nothing written into the repository").isEqualTo(before);
    assertThat(target).doesNotExist();
    // beside the directory the sync reads is no part of what it reads; a command that only reads the store may
    CliRun beside = gitops("sync", "--repo", dir.toString(), "--path", "conf", "--target", target.toString(),
        "--state", dir.resolve("build/gitops").toString());
    assertThat(beside.code()).as("%s", beside).isZero();
    CliRun history = gitops("history", "--state", dir.resolve("build/gitops").toString());
    assertThat(history.code()).as("%s", history).isZero();
  }

  @Test
  void aPlanOutThatFailsBeforeAnythingIsPlannedLeavesNoDirectoryOrKeyItMadeAndKeepsWhatWasThere() throws Exception {
    String repoDir = repo.dir().toString();
    Path plan = tmp.resolve("plan.json");
    // target, store and a parent all new: none is left behind
    Path target = tmp.resolve("new/live");
    CliRun fresh = gitops("plan", "--repo", repoDir, "--ref", "nosuch", "--target", target.toString(),
        "--out", plan.toString());
    assertThat(fresh.code()).as("%s", fresh).isEqualTo(ExitCodes.ERROR);
    assertThat(fresh.err()).contains("ref 'nosuch' not found");
    assertThat(tmp.resolve("new")).doesNotExist();
    assertThat(plan).doesNotExist();

    // a target and an empty --state that were there stay; only the key made in the store goes
    Path live = Files.createDirectories(tmp.resolve("live"));
    Path state = Files.createDirectories(tmp.resolve("state"));
    CliRun empty = gitops("plan", "--repo", repoDir, "--ref", "nosuch", "--target", live.toString(),
        "--state", state.toString(), "--out", plan.toString());
    assertThat(empty.code()).as("%s", empty).isEqualTo(ExitCodes.ERROR);
    assertThat(listing(live)).containsExactly("");
    assertThat(listing(state)).containsExactly("");

    // a store's own key is never removed
    CliRun made = gitops("plan", "--repo", repoDir, "--target", live.toString(), "--out", plan.toString());
    assertThat(made.code()).as("%s", made).isZero();
    byte[] key = Files.readAllBytes(live.resolve(".gitops/secret.key"));
    CliRun again = gitops("plan", "--repo", repoDir, "--ref", "nosuch", "--target", live.toString(),
        "--out", tmp.resolve("plan2.json").toString());
    assertThat(again.code()).as("%s", again).isEqualTo(ExitCodes.ERROR);
    assertThat(live.resolve(".gitops/secret.key")).hasBinaryContent(key);
  }

  @Test
  void aSyncThatFailsBeforeAnythingIsRecordedLeavesNoStoreItMadeAndKeepsWhatWasThere() throws Exception {
    String repoDir = repo.dir().toString();
    // target, store and a parent all new: none is left behind, neither the lock file nor the Git cache
    Path target = tmp.resolve("new/live");
    CliRun fresh = gitops("sync", "--repo", repoDir, "--ref", "nosuch", "--target", target.toString());
    assertThat(fresh.code()).as("%s", fresh).isEqualTo(ExitCodes.ERROR);
    assertThat(fresh.err()).contains("ref 'nosuch' not found");
    assertThat(listing(tmp.resolve("new"))).isEmpty();

    // a target and an empty --state that were there stay, empty
    Path live = Files.createDirectories(tmp.resolve("live"));
    Path state = Files.createDirectories(tmp.resolve("state"));
    CliRun empty = gitops("sync", "--repo", repoDir, "--ref", "nosuch", "--target", live.toString(),
        "--state", state.toString());
    assertThat(empty.code()).as("%s", empty).isEqualTo(ExitCodes.ERROR);
    assertThat(listing(live)).containsExactly("");
    assertThat(listing(state)).containsExactly("");

    // a store a sync wrote keeps its lock file and Git cache
    assertThat(gitops("sync", "--repo", repoDir, "--target", live.toString()).code()).isZero();
    Set<String> synced = listing(live.resolve(".gitops"));
    assertThat(synced).contains("lock", "git-cache", "meta.json");
    CliRun again = gitops("sync", "--repo", repoDir, "--ref", "nosuch", "--target", live.toString());
    assertThat(again.code()).as("%s", again).isEqualTo(ExitCodes.ERROR);
    assertThat(listing(live.resolve(".gitops"))).containsAll(synced);
  }

  @Test
  void emptyOrBlankTargetStateOrRepoIsAnErrorNamingTheFlag() throws Exception {
    Path target = tmp.resolve("target");
    String repoDir = repo.dir().toString();
    for (String blank : List.of("", "  ")) {
      for (String cmd : List.of("sync", "plan")) {
        CliRun t = gitops(args(cmd, "--repo", repoDir, "--target", blank).toArray(String[]::new));
        assertThat(t.code()).as("%s --target '%s': %s", cmd, blank, t).isEqualTo(ExitCodes.ERROR);
        assertThat(t.err()).contains("--target").contains("empty");
        CliRun s = gitops(args(cmd, "--repo", repoDir, "--target", target.toString(), "--state", blank)
            .toArray(String[]::new));
        assertThat(s.code()).as("%s --state '%s': %s", cmd, blank, s).isEqualTo(ExitCodes.ERROR);
        assertThat(s.err()).contains("--state").contains("empty");
        CliRun r = gitops(args(cmd, "--repo", blank, "--target", target.toString()).toArray(String[]::new));
        assertThat(r.code()).as("%s --repo '%s': %s", cmd, blank, r).isEqualTo(ExitCodes.ERROR);
        assertThat(r.err()).contains("--repo").contains("empty");
      }
    }
    assertThat(target).doesNotExist();
    assertThat(Path.of("").toAbsolutePath().resolve("app.properties")).doesNotExist();
  }

  @Test
  void aPathSpeltAsFluxAndArgoCdSpellItIsReadAndABadPathOrRefIsAnErrorNamingTheFlagThatWritesNothing()
      throws Exception {
    String repoDir = repo.dir().toString();
    Path conf = tmp.resolve("conf");
    CliRun dotted = gitops("sync", "--repo", repoDir, "--path", "./conf/", "--target", conf.toString());
    assertThat(dotted.code()).as("%s", dotted).isEqualTo(ExitCodes.OK);
    assertThat(conf.resolve("site.conf")).hasContent("listen 80");
    Path root = tmp.resolve("root");
    CliRun dot = gitops("sync", "--repo", repoDir, "--path", ".", "--target", root.toString());
    assertThat(dot.code()).as("%s", dot).isEqualTo(ExitCodes.OK);
    assertThat(root.resolve("conf/site.conf")).hasContent("listen 80");
    assertThat(root.resolve("app.properties")).exists();
    CliRun same = gitops("status", "--repo", repoDir, "--path", "conf", "--target", conf.toString());
    assertThat(same.code()).as("%s", same).isEqualTo(ExitCodes.OK);

    Path target = tmp.resolve("target");
    for (String cmd : List.of("sync", "plan", "status", "diff")) {
      CliRun up = gitops(cmd, "--repo", repoDir, "--path", "conf/../..", "--target", target.toString());
      assertThat(up.code()).as("%s: %s", cmd, up).isEqualTo(ExitCodes.ERROR);
      assertThat(up.err()).as(cmd).contains("gitops: --path: ").contains("'conf/../..'");
      CliRun ref = gitops(cmd, "--repo", repoDir, "--ref", " ", "--target", target.toString());
      assertThat(ref.code()).as("%s: %s", cmd, ref).isEqualTo(ExitCodes.ERROR);
      assertThat(ref.err()).as(cmd).contains("gitops: --ref: ref must not be empty");
    }
    assertThat(target).doesNotExist();
  }

  @Test
  void aPlanFileFlagThatIsEmptyADirectoryNotTextOrInTheStoreIsAnErrorNamingTheFlagAndTheStoreIsKept()
      throws Exception {
    String repoDir = repo.dir().toString();
    Path target = tmp.resolve("target");
    Path dir = Files.createDirectories(tmp.resolve("plans"));
    CliRun empty = gitops("plan", "--repo", repoDir, "--target", target.toString(), "--out", "");
    assertThat(empty.code()).as("%s", empty).isEqualTo(ExitCodes.ERROR);
    assertThat(empty.err()).isEqualTo("gitops: --out is empty: give the file to save the plan to\n");
    CliRun toDir = gitops("plan", "--repo", repoDir, "--target", target.toString(), "--out", dir.toString());
    assertThat(toDir.code()).as("%s", toDir).isEqualTo(ExitCodes.ERROR);
    assertThat(toDir.err()).startsWith("gitops: --out " + dir + " is a directory");
    assertThat(target).as("a refused --out makes no store nor secret key").doesNotExist();

    assertThat(gitops("sync", "--repo", repoDir, "--target", target.toString()).code()).isEqualTo(ExitCodes.OK);
    Path journal = target.resolve(".gitops/journal");
    byte[] recorded = Files.readAllBytes(journal);
    CliRun intoStore = gitops("plan", "--repo", repoDir, "--target", target.toString(), "--out", journal.toString());
    assertThat(intoStore.code()).as("%s", intoStore).isEqualTo(ExitCodes.ERROR);
    assertThat(intoStore.err()).startsWith("gitops: --out " + journal + " is inside the state store "
        + target.resolve(".gitops"));
    Files.createSymbolicLink(tmp.resolve("alias"), target);
    Path aliased = tmp.resolve("alias/.gitops/new-plan.json");
    CliRun viaLink = gitops("plan", "--repo", repoDir, "--target", target.toString(), "--out", aliased.toString());
    assertThat(viaLink.code()).as("%s", viaLink).isEqualTo(ExitCodes.ERROR);
    assertThat(viaLink.err()).contains("is inside the state store");
    assertThat(journal).hasBinaryContent(recorded);
    assertThat(target.resolve(".gitops/new-plan.json")).doesNotExist();

    Path binary = Files.write(tmp.resolve("binary.json"), new byte[] {(byte) 0x9a, (byte) 0xff, 0x01});
    for (String cmd : List.of("sync", "diff")) {
      CliRun noPlan = gitops(cmd, "--repo", repoDir, "--target", target.toString(), "--plan", "");
      assertThat(noPlan.code()).as("%s", noPlan).isEqualTo(ExitCodes.ERROR);
      assertThat(noPlan.err()).as(cmd).startsWith("gitops: --plan is empty");
      CliRun dirPlan = gitops(cmd, "--repo", repoDir, "--target", target.toString(), "--plan", dir.toString());
      assertThat(dirPlan.code()).as("%s", dirPlan).isEqualTo(ExitCodes.ERROR);
      assertThat(dirPlan.err()).as(cmd).isEqualTo("gitops: --plan " + dir + ": is a directory, not a plan file\n");
      CliRun binPlan = gitops(cmd, "--repo", repoDir, "--target", target.toString(), "--plan", binary.toString());
      assertThat(binPlan.code()).as("%s", binPlan).isEqualTo(ExitCodes.ERROR);
      assertThat(binPlan.err()).as(cmd).isEqualTo("gitops: --plan " + binary + ": not a plan file: not UTF-8 text\n");
    }
    assertThat(journal).hasBinaryContent(recorded);
  }

  @Test
  void aPlanFileFlagInsideTheTargetALinkOrAFifoIsRefusedAndNothingLiveOrRecordedChanges() throws Exception {
    String repoDir = repo.dir().toString();
    Path target = tmp.resolve("target");
    assertThat(gitops("sync", "--repo", repoDir, "--target", target.toString()).code()).isEqualTo(ExitCodes.OK);
    Path live;
    try (var files = Files.list(target)) {
      live = files.filter(Files::isRegularFile).findFirst().orElseThrow();
    }
    byte[] liveBefore = Files.readAllBytes(live);
    CliRun overLive = gitops("plan", "--repo", repoDir, "--target", target.toString(), "--out", live.toString());
    assertThat(overLive.code()).as("%s", overLive).isEqualTo(ExitCodes.ERROR);
    assertThat(overLive.err()).startsWith("gitops: --out " + live + " is inside the target " + target
        + ", which a plan does not change");
    assertThat(live).hasBinaryContent(liveBefore);

    // a link that points nowhere yet, into the store: written through, it would make a corrupt history entry
    Path history = target.resolve(".gitops/history/h-00000000000000000099.json");
    Path dangling = Files.createSymbolicLink(tmp.resolve("dangling.json"), history);
    CliRun viaDangling = gitops("plan", "--repo", repoDir, "--target", target.toString(), "--out", dangling.toString());
    assertThat(viaDangling.code()).as("%s", viaDangling).isEqualTo(ExitCodes.ERROR);
    assertThat(viaDangling.err()).isEqualTo("gitops: --out " + dangling + " is a symbolic link: give the file itself\n");
    assertThat(history).doesNotExist();

    Path fifo = tmp.resolve("plan.fifo");
    Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assertThat(mkfifo.waitFor()).isZero();
    CliRun toFifo = gitops("plan", "--repo", repoDir, "--target", target.toString(), "--out", fifo.toString());
    assertThat(toFifo.code()).as("%s", toFifo).isEqualTo(ExitCodes.ERROR);
    assertThat(toFifo.err()).startsWith("gitops: --out " + fifo + " is not a regular file");
    for (String cmd : List.of("sync", "diff")) {
      CliRun fromFifo = gitops(cmd, "--repo", repoDir, "--target", target.toString(), "--plan", fifo.toString());
      assertThat(fromFifo.code()).as("%s", fromFifo).isEqualTo(ExitCodes.ERROR);
      assertThat(fromFifo.err()).as(cmd).startsWith("gitops: --plan " + fifo + " is not a regular file");
    }
    assertThat(live).hasBinaryContent(liveBefore);
  }

  @Test
  void aTargetThatIsALinkToNothingIsAnErrorNamingItsDestinationAndNothingIsMade() throws Exception {
    Path missing = tmp.resolve("unmounted/volume");
    Path link = Files.createSymbolicLink(tmp.resolve("target"), missing);
    for (String cmd : List.of("sync", "plan", "status", "diff")) {
      CliRun r = gitops(cmd, "--repo", repo.dir().toString(), "--target", link.toString());
      assertThat(r.code()).as("%s: %s", cmd, r).isEqualTo(ExitCodes.ERROR);
      assertThat(r.err()).as(cmd).isEqualTo("gitops: --target " + link + " is a symbolic link to '" + missing
          + "', which does not exist\n");
    }
    assertThat(tmp.resolve("unmounted")).doesNotExist();
  }

  @Test
  void emptyProviderFlagsAreErrorsNamingTheFlag() throws Exception {
    String repoDir = repo.dir().toString();
    String state = tmp.resolve("state").toString();
    List<List<String>> cases = List.of(
        List.of("--provider", "ansible", "--playbook", "site.yml", "--inventory-out", ""),
        List.of("--provider", "ansible", "--playbook", " ", "--inventory-out", tmp.resolve("inv.yml").toString()),
        List.of("--provider", "ansible", "--playbook", "site.yml", "--inventory", "",
            "--inventory-out", tmp.resolve("inv.yml").toString()),
        List.of("--provider", "k8s", "--state", state, "--kubeconfig", ""),
        List.of("--provider", "k8s", "--state", state, "--context", " "),
        List.of("--provider", "k8s", "--state", state, "--namespace", ""),
        List.of("--provider", "terraform", "--target", tmp.resolve("tf").toString(), "--binary", ""),
        List.of("--provider", "terraform", "--target", tmp.resolve("tf").toString(), "--var-file", " "));
    for (List<String> c : cases) {
      List<String> a = new java.util.ArrayList<>(List.of("plan", "--repo", repoDir));
      a.addAll(c);
      CliRun r = gitops(a.toArray(String[]::new));
      String flag = c.get(c.size() - 2);
      for (int i = 0; i < c.size() - 1; i++) {
        if (c.get(i + 1).isBlank()) {
          flag = c.get(i);
        }
      }
      assertThat(r.code()).as("%s: %s", c, r).isEqualTo(ExitCodes.ERROR);
      assertThat(r.err()).as("%s", c).contains(flag + " is empty");
    }
    assertThat(tmp.resolve("state")).doesNotExist();
  }

  @Test
  void readOnlyCommandsCreateNeitherTheTargetNorTheStore() throws Exception {
    Path target = tmp.resolve("missing/target");
    Path state = tmp.resolve("missing-state");
    Set<String> before = listing(tmp);
    String[] where = {"--repo", repo.dir().toString(), "--ref", "main", "--target", target.toString()};
    String[] withState = {"--repo", repo.dir().toString(), "--ref", "main", "--target", target.toString(),
        "--state", state.toString()};
    for (String[] w : List.of(where, withState)) {
      CliRun plan = gitops(args("plan", w).toArray(String[]::new));
      assertThat(plan.code()).as("%s", plan).isZero();
      assertThat(plan.out()).contains("app.properties");
      CliRun diff = gitops(args("diff", w).toArray(String[]::new));
      assertThat(diff.code()).as("%s", diff).isZero();
      CliRun status = gitops(args("status", w).toArray(String[]::new));
      assertThat(status.code()).as("%s", status).isEqualTo(ExitCodes.PENDING);
      CliRun history = gitops(args("history", w).toArray(String[]::new));
      assertThat(history.code()).as("%s", history).isZero();
      assertThat(history.out()).contains("No syncs recorded yet.");
    }
    assertThat(listing(tmp)).as("nothing created").isEqualTo(before);

    // After a sync they read the store it made, and still change nothing.
    assertThat(gitops(args("sync", where).toArray(String[]::new)).code()).isZero();
    Set<String> synced = listing(target);
    assertThat(gitops(args("status", where).toArray(String[]::new)).code()).isZero();
    assertThat(gitops(args("plan", where).toArray(String[]::new)).code()).isZero();
    assertThat(listing(target)).isEqualTo(synced);
  }

  /** Every path under {@code dir} with its kind, size and modification time: what a command that writes nothing keeps. */
  private static Map<String, String> listingWithTimes(Path dir) throws Exception {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.toList()) {
        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        out.put(dir.relativize(p).toString(), (a.isDirectory() ? "dir " : "file ") + a.size() + " "
            + a.lastModifiedTime().toInstant());
      }
    }
    return out;
  }

  @Test
  void aDryRunLeavesNoTraceOnDiskNeitherTheTargetNorTheStore() throws Exception {
    Path target = tmp.resolve("missing/target");
    Path state = tmp.resolve("missing-state");
    String[] where = {"--repo", repo.dir().toString(), "--ref", "main", "--target", target.toString()};
    String[] withState = {"--repo", repo.dir().toString(), "--ref", "main", "--target", target.toString(),
        "--state", state.toString()};
    Map<String, String> before = listingWithTimes(tmp);
    for (String[] w : List.of(where, withState)) {
      CliRun dryRun = gitops(args("sync", w, "--dry-run").toArray(String[]::new));
      assertThat(dryRun.code()).as("%s", dryRun).isEqualTo(ExitCodes.PENDING);
      assertThat(dryRun.out()).contains("app.properties");
      assertThat(listingWithTimes(tmp)).as("after sync --dry-run %s", List.of(w)).isEqualTo(before);
      for (String command : List.of("plan", "diff")) {
        CliRun r = gitops(args(command, w).toArray(String[]::new));
        assertThat(r.code()).as("%s", r).isZero();
        assertThat(listingWithTimes(tmp)).as("after %s %s", command, List.of(w)).isEqualTo(before);
      }
    }
    assertThat(target).doesNotExist();
    assertThat(state).doesNotExist();

    // After a sync, with the live files changed by hand, a dry run still changes nothing: not the
    // target, not the store (its lock file, journal, secret key and Git cache included)
    Path synced = tmp.resolve("synced");
    String[] syncedWhere = {"--repo", repo.dir().toString(), "--ref", "main", "--target", synced.toString()};
    String[] syncedWithState = {"--repo", repo.dir().toString(), "--ref", "main", "--target", target.toString(),
        "--state", state.toString()};
    for (String[] w : List.of(syncedWhere, syncedWithState)) {
      assertThat(gitops(args("sync", w).toArray(String[]::new)).code()).isZero();
    }
    for (Path t : List.of(synced, target)) {
      Files.writeString(t.resolve("app.properties"), "name=changed by hand\n");
      Files.delete(t.resolve("conf/site.conf"));
    }
    Map<String, String> afterSync = listingWithTimes(tmp);
    for (String[] w : List.of(syncedWhere, syncedWithState)) {
      CliRun dryRun = gitops(args("sync", w, "--dry-run").toArray(String[]::new));
      assertThat(dryRun.code()).as("%s", dryRun).isEqualTo(ExitCodes.PENDING);
      assertThat(dryRun.out()).contains("app.properties").contains("conf/site.conf");
      assertThat(listingWithTimes(tmp)).as("after sync --dry-run %s", List.of(w)).isEqualTo(afterSync);
      for (String command : List.of("plan", "diff")) {
        gitops(args(command, w).toArray(String[]::new));
        assertThat(listingWithTimes(tmp)).as("after %s %s", command, List.of(w)).isEqualTo(afterSync);
      }
    }
    assertThat(Files.readString(target.resolve("app.properties"))).isEqualTo("name=changed by hand\n");
  }

  @Test
  void theNothingRecordedNoteOfAnAnsibleFleetNamesItsOwnFlagsNotTarget() throws Exception {
    Path inventoryOut = tmp.resolve("managed/inventory.yml");
    CliRun plan;
    try (FixtureRepo fleet = FixtureRepo.init(tmp.resolve("fleet"))) {
      fleet.write("inventory/hosts", "[web]\nh1 ansible_connection=local\n")
          .write("site.yml", "- hosts: all\n  gather_facts: false\n  tasks: []\n").commit("fleet");
      plan = gitops("plan", "--repo", fleet.dir().toString(), "--provider", "ansible", "--playbook", "site.yml",
          "--inventory-out", inventoryOut.toString());
    }
    // --target is refused with --provider ansible: the hint names what places the fleet and its store
    assertThat(plan.out().lines().findFirst()).as("%s", plan).hasValueSatisfying(first -> assertThat(first)
        .startsWith("Nothing recorded yet: the state store " + inventoryOut.getParent().resolve(".gitops"))
        .endsWith("check --inventory-out and --state.").doesNotContain("--target"));
  }

  @Test
  void readOnlyCommandsSayNothingIsRecordedUntilASyncRanSoAMistypedStoreIsNoticed() throws Exception {
    Path target = tmp.resolve("target");
    Path store = target.resolve(".gitops");
    String[] where = {"--repo", repo.dir().toString(), "--target", target.toString()};
    String note = "Nothing recorded yet: the state store " + store + " holds no sync";
    for (String command : List.of("plan", "status", "diff")) {
      CliRun r = gitops(args(command, where).toArray(String[]::new));
      assertThat(r.out().lines().findFirst()).as("%s", r).hasValueSatisfying(first -> assertThat(first)
          .startsWith(note + " (it does not exist)").contains("check --target and --state"));
      assertThat(r.out()).contains("app.properties");
    }
    CliRun markdown = gitops(args("diff", where, "--format", "markdown").toArray(String[]::new));
    assertThat(markdown.out()).as("%s", markdown).startsWith("> " + note);
    CliRun json = gitops(args("diff", where, "--format", "json").toArray(String[]::new));
    assertThat(json.out()).as("the plan file format stays JSON").startsWith("{").doesNotContain("Nothing recorded");
    // plan --out makes the store's secret key, and still no sync is recorded
    assertThat(gitops(args("plan", where, "--out", tmp.resolve("p.json").toString()).toArray(String[]::new)).code())
        .isZero();
    assertThat(store).isDirectory();
    assertThat(gitops(args("status", where).toArray(String[]::new)).out()).startsWith(note + ", so");

    assertThat(gitops(args("sync", where).toArray(String[]::new)).code()).isZero();
    for (String command : List.of("plan", "status", "diff")) {
      CliRun r = gitops(args(command, where).toArray(String[]::new));
      assertThat(r.code()).as("%s", r).isZero();
      assertThat(r.out()).as("after a sync").doesNotContain("Nothing recorded");
    }
    // a mistyped --target: a plan that creates everything, and the note says which store it read
    Path typo = tmp.resolve("targte");
    CliRun status = gitops("status", "--repo", repo.dir().toString(), "--target", typo.toString());
    assertThat(status.out()).as("%s", status).startsWith("Nothing recorded yet: the state store "
        + typo.resolve(".gitops") + " holds no sync (it does not exist)");
    assertThat(typo).doesNotExist();
    // (a mistyped --state beside files this owner marked is refused outright, naming --rebuild-store)
    CliRun state = gitops(args("status", where, "--state", tmp.resolve("stat").toString()).toArray(String[]::new));
    assertThat(state.code()).as("%s", state).isEqualTo(ExitCodes.ERROR);
    assertThat(state.err()).contains("the state store is missing or empty");
  }

  @Test
  void aLostStoreIsRefusedUntilRebuildStoreTakesWhatGitDeclaresBackAndPruningWorksAgain() throws Exception {
    String repoDir = repo.dir().toString();
    Path target = tmp.resolve("target");
    Path state = tmp.resolve("state");
    assertThat(gitops("sync", "--repo", repoDir, "--target", target.toString(), "--state", state.toString()).code())
        .isZero();
    try (Stream<Path> s = Files.walk(state)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }

    CliRun refused = gitops("sync", "--repo", repoDir, "--target", target.toString(), "--state", state.toString());
    assertThat(refused.code()).as("%s", refused).isEqualTo(ExitCodes.ERROR);
    assertThat(refused.err()).contains("the state store is missing or empty").contains("--rebuild-store");

    CliRun rebuilt = gitops("sync", "--repo", repoDir, "--target", target.toString(), "--state", state.toString(),
        "--rebuild-store");
    assertThat(rebuilt.code()).as("%s", rebuilt).isZero();
    repo.remove("conf/site.conf").commit("drop site.conf");
    CliRun pruned = gitops("sync", "--repo", repoDir, "--target", target.toString(), "--state", state.toString());
    assertThat(pruned.code()).as("%s", pruned).isZero();
    assertThat(target.resolve("conf/site.conf")).doesNotExist();
    assertThat(target.resolve("app.properties")).hasContent("name=shop");
  }

  @Test
  void statusAfterARebuiltStoreCountsWhatMatchesGitNotTheOrphansItKeeps() throws Exception {
    String[] where = {"--repo", repo.dir().toString(), "--target", tmp.resolve("target").toString(), "--state",
        tmp.resolve("state").toString()};
    assertThat(gitops(args("sync", where).toArray(String[]::new)).code()).isZero();
    try (Stream<Path> s = Files.walk(tmp.resolve("state"))) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
    repo.remove("conf/site.conf").commit("drop site.conf");
    CliRun rebuilt = gitops(args("sync", where, "--rebuild-store").toArray(String[]::new));
    assertThat(rebuilt.code()).as("%s", rebuilt).isZero();
    assertThat(rebuilt.out()).contains("orphan");

    CliRun status = gitops(args("status", where).toArray(String[]::new));
    assertThat(status.code()).as("%s", status).isZero();
    // Git declares one file, which matches; the orphan is kept and listed, not counted as matching
    assertThat(status.out()).contains(" matches main@sha1:").contains(" (1 resource); 1 left as they are:")
        .contains("! files:file::conf/site.conf  (orphan");
  }

  @Test
  void aRefThatDoesNotNameTheReviewedPlansRevisionIsRefusedNotIgnored() throws Exception {
    String repoDir = repo.dir().toString();
    Path target = tmp.resolve("target");
    assertThat(gitops("sync", "--repo", repoDir, "--target", target.toString()).code()).isZero();
    repo.write("app.properties", "name=shop2\n").commit("second");
    Path plan = tmp.resolve("p.json");
    CliRun planned = gitops("plan", "--repo", repoDir, "--target", target.toString(), "--out", plan.toString());
    assertThat(planned.code()).as("%s", planned).isIn(0, 2);

    CliRun other = gitops("sync", "--repo", repoDir, "--ref", "v-none", "--target", target.toString(), "--plan",
        plan.toString());
    assertThat(other.code()).as("%s", other).isEqualTo(ExitCodes.ERROR);
    assertThat(other.err()).contains("--ref v-none does not name the revision of the reviewed plan");
    assertThat(target.resolve("app.properties")).hasContent("name=shop");

    CliRun same = gitops("sync", "--repo", repoDir, "--ref", "main", "--target", target.toString(), "--plan",
        plan.toString());
    assertThat(same.code()).as("%s", same).isZero();
    assertThat(target.resolve("app.properties")).hasContent("name=shop2");
    assertThat(SyncCommand.namesRevision("refs/heads/main", "main@sha1:" + "a".repeat(40))).isTrue();
    assertThat(SyncCommand.namesRevision("heads/main", "main@sha1:" + "a".repeat(40))).as("the source's own spelling").isTrue();
    assertThat(SyncCommand.namesRevision("tags/v1", "v1@sha1:" + "a".repeat(40))).isTrue();
    assertThat(SyncCommand.namesRevision("A".repeat(40), "main@sha1:" + "a".repeat(40))).isTrue();
    assertThat(SyncCommand.namesRevision("v1", "main@sha1:" + "a".repeat(40))).isFalse();
  }

  @Test
  void historyReadsTheStoreWithoutARepository() throws Exception {
    Path target = tmp.resolve("target");
    Path state = tmp.resolve("state");
    assertThat(gitops("sync", "--repo", repo.dir().toString(), "--target", target.toString()).code()).isZero();
    assertThat(gitops("sync", "--repo", repo.dir().toString(), "--target", tmp.resolve("other").toString(),
        "--state", state.toString()).code()).isZero();
    Set<String> synced = listing(tmp);

    CliRun byTarget = gitops("history", "--target", target.toString());
    assertThat(byTarget.code()).as("%s", byTarget).isZero();
    assertThat(byTarget.out().lines()).hasSize(2);
    assertThat(byTarget.out()).startsWith("ID").contains("SUCCEEDED").contains("@sha1:");
    CliRun byState = gitops("history", "--state", state.toString());
    assertThat(byState.code()).as("%s", byState).isZero();
    assertThat(byState.out().lines()).hasSize(2);
    assertThat(gitops("history", "--provider", "ansible", "--state", state.toString()).out()).isEqualTo(byState.out());
    // Ansible's store is beside the managed inventory: finding it needs no playbook and no password
    CliRun byInventory = gitops("history", "--provider", "ansible", "--inventory-out",
        target.resolve("hosts.yml").toString(), "--username", "ops");
    assertThat(byInventory.code()).as("%s", byInventory).isZero();
    assertThat(byInventory.out()).isEqualTo(byTarget.out());
    CliRun noInventory = gitops("history", "--provider", "ansible", "--playbook", "site.yml");
    assertThat(noInventory.code()).isEqualTo(ExitCodes.ERROR);
    assertThat(noInventory.err()).contains("missing --inventory-out").contains("or --state DIR");
    CliRun blankState = gitops("history", "--state", " ");
    assertThat(blankState.code()).isEqualTo(ExitCodes.ERROR);
    assertThat(blankState.err()).contains("--state is empty");
    CliRun withRepo = gitops("history", "--repo", repo.dir().toString(), "--target", target.toString());
    assertThat(withRepo.out()).isEqualTo(byTarget.out());
    // a store no sync made: nothing recorded, nothing created
    CliRun none = gitops("history", "--target", tmp.resolve("never").toString());
    assertThat(none.code()).as("%s", none).isZero();
    assertThat(none.out()).isEqualTo("No syncs recorded yet.\n");
    assertThat(listing(tmp)).isEqualTo(synced);

    CliRun blank = gitops("history", "--repo", " ", "--target", target.toString());
    assertThat(blank.code()).isEqualTo(ExitCodes.ERROR);
    assertThat(blank.err()).contains("--repo is empty");
    CliRun noTarget = gitops("history");
    assertThat(noTarget.code()).isEqualTo(ExitCodes.ERROR);
    // history needs either: the message says so (README: "history --target D (or --state S alone)")
    assertThat(noTarget.err()).contains("missing --target").contains("or --state DIR");
  }

  @Test
  void aStoreReachedThroughASymlinkCannotBeWrittenByGit() throws Exception {
    Path target = Files.createDirectories(tmp.resolve("target"));
    Files.createDirectories(target.resolve("state"));
    Path link = Files.createSymbolicLink(tmp.resolve("state-link"), target.resolve("state"));
    repo.write("state/inventory/files%3Afile%3A%3Avictim.json", "{}").commit("forge an inventory entry");
    CliRun r = gitops("sync", "--repo", repo.dir().toString(), "--ref", "main", "--target", target.toString(),
        "--state", link.toString());
    assertThat(r.code()).as("%s", r).isEqualTo(ExitCodes.ERROR);
    assertThat(r.err()).contains("state/inventory").contains("excluded directory");
    assertThat(target.resolve("state/inventory")).doesNotExist();
    assertThat(target.resolve("app.properties")).doesNotExist();
  }

  /**
   * An empty {@code --path} (an unset variable in a script) is refused rather than read as the
   * root, and a blank {@code --owner} names the flag, also for {@code history}; nothing is created.
   */
  @Test
  void anEmptyPathAndABlankOwnerAreRefusedNamingTheFlag() throws Exception {
    Path target = tmp.resolve("target");
    for (String command : List.of("plan", "sync")) {
      CliRun path = gitops(command, "--repo", repo.dir().toString(), "--target", target.toString(), "--path", "");
      assertThat(path.code()).as("%s", path).isEqualTo(ExitCodes.ERROR);
      assertThat(path.err()).startsWith("gitops: --path is empty");
      CliRun owner = gitops(command, "--repo", repo.dir().toString(), "--target", target.toString(), "--owner", " ");
      assertThat(owner.code()).as("%s", owner).isEqualTo(ExitCodes.ERROR);
      assertThat(owner.err()).startsWith("gitops: --owner: owner id must not be blank");
    }
    assertThat(gitops("sync", "--repo", repo.dir().toString(), "--target", target.toString(), "--path", ".").code())
        .as("'.' is the root").isZero();
    CliRun history = gitops("history", "--target", target.toString(), "--owner", "");
    assertThat(history.code()).as("%s", history).isEqualTo(ExitCodes.ERROR);
    assertThat(history.err()).startsWith("gitops: --owner: owner id must not be blank");
    CliRun byState = gitops("history", "--state", target.resolve(".gitops").toString(), "--owner", "");
    assertThat(byState.code()).as("%s", byState).isEqualTo(ExitCodes.ERROR);
  }

  @Test
  void aTargetInsideTheStoreIsRefusedNamingBoth() throws Exception {
    Path state = Files.createDirectories(tmp.resolve("state"));
    Path link = Files.createSymbolicLink(tmp.resolve("link"), state);
    CliRun r = gitops("sync", "--repo", repo.dir().toString(), "--ref", "main", "--target",
        link.resolve("target").toString(), "--state", state.toString());
    assertThat(r.code()).as("%s", r).isEqualTo(ExitCodes.ERROR);
    assertThat(r.err()).contains("--target " + link.resolve("target") + " is, or is inside, --state "
        + state.toAbsolutePath());
    CliRun same = gitops("sync", "--repo", repo.dir().toString(), "--target", state.toString(), "--state", state.toString());
    assertThat(same.code()).isEqualTo(ExitCodes.ERROR);
    assertThat(same.err()).as("both flags named, not the provider's 'excluded directory'")
        .contains("--target " + state.toAbsolutePath() + " is, or is inside, --state " + state.toAbsolutePath());
    CliRun plan = gitops("plan", "--repo", repo.dir().toString(), "--target", state.resolve("t").toString(), "--state",
        state.toString());
    assertThat(plan.code()).as("%s", plan).isEqualTo(ExitCodes.ERROR);
    assertThat(plan.err()).contains("is, or is inside, --state");
    assertThat(listing(state)).containsOnly("");
  }

  @Test
  void twoOwnersOnOneTargetNeverDeleteEachOthersFiles() throws Exception {
    Path target = tmp.resolve("target");
    FixtureRepo other = FixtureRepo.init(tmp.resolve("other"));
    other.write("b.txt", "B\n").write("app.properties", "name=other\n").commit("team b");
    CliRun a = gitops("sync", "--repo", repo.dir().toString(), "--ref", "main", "--target", target.toString(),
        "--owner", "team-a", "--state", tmp.resolve("state-a").toString());
    assertThat(a.code()).as("%s", a).isZero();
    CliRun b = gitops("sync", "--repo", other.dir().toString(), "--ref", "main", "--target", target.toString(),
        "--owner", "team-b", "--state", tmp.resolve("state-b").toString());
    assertThat(Files.readString(target.resolve("app.properties"))).isEqualTo("name=shop\n");
    assertThat(b.out()).contains("team-a");
    other.remove("b.txt").remove("app.properties").write("README", "").commit("nothing for the target");
    CliRun bEmpty = gitops("sync", "--repo", other.dir().toString(), "--ref", "main", "--target", target.toString(),
        "--owner", "team-b", "--state", tmp.resolve("state-b").toString(), "--allow-empty");
    assertThat(bEmpty.code()).as("%s", bEmpty).isZero();
    assertThat(target.resolve("app.properties")).hasContent("name=shop");
    assertThat(target.resolve("conf/site.conf")).hasContent("listen 80");
    assertThat(target.resolve("b.txt")).doesNotExist();
    // The default store shared by two owners: the second one deletes nothing of the first's either.
    CliRun c = gitops("sync", "--repo", other.dir().toString(), "--ref", "main", "--target", target.toString(),
        "--owner", "team-c", "--state", tmp.resolve("state-a").toString(), "--allow-empty");
    assertThat(c.code()).as("%s", c).isZero();
    assertThat(target.resolve("app.properties")).hasContent("name=shop");
    assertThat(target.resolve("conf/site.conf")).hasContent("listen 80");
    // the store is team-a's: the files provider marks each file, so team-c may share it, and is told whose it is
    CliRun status = gitops("status", "--repo", other.dir().toString(), "--ref", "main", "--target", target.toString(),
        "--owner", "team-c", "--state", tmp.resolve("state-a").toString());
    assertThat(status.out()).contains("The state store " + tmp.resolve("state-a").toAbsolutePath()
        + " belongs to --owner team-a");
  }
}
