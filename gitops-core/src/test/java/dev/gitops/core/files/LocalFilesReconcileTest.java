package dev.gitops.core.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.Outcome;
import dev.gitops.api.Plan;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.SourceFile;
import dev.gitops.core.Reconciler;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.apply.ExecutionOptions;
import dev.gitops.core.plan.DeletionBudget;
import dev.gitops.core.source.GitSource;
import dev.gitops.core.source.TestGitRepo;
import dev.gitops.core.store.FileStateStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local-files provider under the whole engine: type changes, owners, temp files, modes, Git's bytes, real paths. */
class LocalFilesReconcileTest {

  @TempDir Path tmp;

  /** Short health waits, so a key that never becomes healthy fails in seconds, not minutes. */
  static SyncOptions options() {
    return SyncOptions.builder().execution(ExecutionOptions.defaults()
        .withHealthTimeout(Duration.ofSeconds(5)).withHealthPollInterval(Duration.ofMillis(20))).build();
  }

  static State desired(LocalFilesProvider files, String revision, Map<String, String> texts) {
    Decoder decoder = files.decoder().orElseThrow();
    List<Resource> out = new ArrayList<>();
    texts.forEach((path, text) -> out.addAll(decoder.decode(
        new SourceFile(path, "blob-" + path + "-" + text.hashCode(), text.getBytes(StandardCharsets.UTF_8), revision))));
    return State.of(revision, out);
  }

  static Map<String, String> files(String... pathsAndTexts) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < pathsAndTexts.length; i += 2) {
      m.put(pathsAndTexts[i], pathsAndTexts[i + 1]);
    }
    return m;
  }

  static Reconciler reconciler(LocalFilesProvider files, Path state, String owner, State desired, SyncOptions o) {
    return Reconciler.builder().desiredState(desired).provider(files).store(FileStateStore.open(state)).owner(owner)
        .options(o).build();
  }

  SyncResult sync(Path target, Map<String, String> texts, String revision) {
    LocalFilesProvider files = LocalFilesProvider.builder(target).build();
    return reconciler(files, target.resolve(".gitops"), "gitops", desired(files, revision, texts), options()).sync();
  }

  /** Every regular file under {@code dir} outside {@code .gitops}, by relative path. */
  static Map<String, String> tree(Path dir) throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        String rel = dir.relativize(p).toString();
        if (!rel.startsWith(".gitops") && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
          out.put(rel, Files.readString(p));
        }
      }
    }
    return out;
  }

  @Test
  void aFileWhoseNameTheFileSystemRefusesDoesNotHoldBackPruningOnceGitDropsIt() throws IOException {
    Path target = tmp.resolve("target");
    Files.createDirectories(target);
    assertThat(sync(target, files("keep.txt", "k\n", "old.txt", "o\n"), "r1").isSuccessful()).isTrue();

    // a name over the file system's 255 bytes: its create fails, and a pending record is left for it
    String tooLong = "newdir/" + "n".repeat(300) + ".txt";
    SyncResult failed = sync(target, files("keep.txt", "k\n", "old.txt", "o\n", tooLong, "x\n"), "r2");
    assertThat(failed.isSuccessful()).isFalse();
    assertThat(failed.toString()).contains("File name too long");

    // reverted, and old.txt removed too: the name no file can have is observed absent, not unknown,
    // so it is forgotten and the deletion goes ahead instead of being held back at every sync
    SyncResult reverted = sync(target, files("keep.txt", "k\n"), "r3");
    assertThat(reverted.isSuccessful()).as(reverted.toString()).isTrue();
    assertThat(target.resolve("old.txt")).doesNotExist();
    assertThat(tree(target)).containsOnlyKeys("keep.txt");
    assertThat(sync(target, files("keep.txt", "k\n"), "r3").isSuccessful()).isTrue();
  }

  // ------------------------------------------------------------------ B10: type changes

  @Test
  void aUsersFileAtAPathGitNamesIsSkippedUnlessAdoptedAndNeverDeleted() throws IOException {
    Path target = tmp.resolve("target");
    Files.createDirectories(target);
    Files.writeString(target.resolve("a.txt"), "my data\n");

    SyncResult first = sync(target, files("a.txt", "hello\n", "b.txt", "b\n", "keep.txt", "k\n"), "r1");

    Change a = first.plan().changes().stream().filter(c -> c.key().name().equals("a.txt")).findFirst().orElseThrow();
    assertThat(a.action()).isEqualTo(Action.SKIP);
    assertThat(a.reason()).contains("not created by this reconciler").contains("adoption");
    assertThat(Files.readString(target.resolve("a.txt"))).isEqualTo("my data\n");
    assertThat(Files.readString(target.resolve("b.txt"))).isEqualTo("b\n");

    // gone from Git: the file gitops never wrote stays, the one it wrote is pruned
    sync(target, files("keep.txt", "k\n"), "r2");
    assertThat(Files.readString(target.resolve("a.txt"))).isEqualTo("my data\n");
    assertThat(target.resolve("b.txt")).doesNotExist();

    // adopted on request: written, claimed, and pruned like any file gitops wrote once Git drops it
    LocalFilesProvider files = LocalFilesProvider.builder(target).build();
    SyncResult adopted = reconciler(files, target.resolve(".gitops"), "gitops",
        desired(files, "r3", files("a.txt", "hello\n", "keep.txt", "k\n")), options().toBuilder().adopt(true).build()).sync();
    assertThat(adopted.isSuccessful()).as(adopted.toString()).isTrue();
    assertThat(Files.readString(target.resolve("a.txt"))).isEqualTo("hello\n");
    assertThat(sync(target, files("keep.txt", "k\n"), "r4").isSuccessful()).isTrue();
    assertThat(target.resolve("a.txt")).doesNotExist();
  }

  @Test
  void aFileBecomingADirectoryAndBackIsReplacedInOrderAndLaterPrunesStillWork() throws IOException {
    Path target = tmp.resolve("target");
    assertThat(sync(target, files("x", "file\n", "keep", "k\n", "gone", "g\n"), "r1").isSuccessful()).isTrue();

    LocalFilesProvider files = LocalFilesProvider.builder(target).build();
    State dirState = desired(files, "r2", files("x/y", "nested\n", "keep", "k\n", "gone", "g\n"));
    Plan plan = reconciler(files, target.resolve(".gitops"), "gitops", dirState, options()).plan();
    ResourceKey x = files.keyOf("x");
    ResourceKey xy = files.keyOf("x/y");
    assertThat(plan.change(x).orElseThrow().action()).isEqualTo(Action.DELETE);
    assertThat(plan.change(xy).orElseThrow().action()).isEqualTo(Action.CREATE);
    assertThat(plan.dependencies().get(xy)).as("x/y is created after x is deleted").contains(x);

    SyncResult toDir = sync(target, files("x/y", "nested\n", "keep", "k\n", "gone", "g\n"), "r2");
    assertThat(toDir.isSuccessful()).as("file -> directory: %s", toDir.failures()).isTrue();
    assertThat(tree(target)).containsEntry("x/y", "nested\n").doesNotContainKey("x");

    SyncResult toFile = sync(target, files("x", "file again\n", "keep", "k\n", "gone", "g\n"), "r3");
    assertThat(toFile.isSuccessful()).as("directory -> file: %s", toFile.failures()).isTrue();
    assertThat(tree(target)).containsEntry("x", "file again\n").doesNotContainKey("x/y");

    SyncResult prune = sync(target, files("x", "file again\n", "keep", "k\n"), "r4");
    assertThat(prune.isSuccessful()).isTrue();
    assertThat(prune.plan().isComplete()).isTrue();
    assertThat(tree(target)).containsOnlyKeys("x", "keep");
  }

  @Test
  void anEmptyDirectoryLeftWhereAManagedFileWasIsSaidSoInThePlanAndLeftToTheUser() throws IOException {
    Path target = tmp.resolve("target");
    assertThat(sync(target, files("x", "file\n", "full", "f\n"), "r1").isSuccessful()).isTrue();
    Files.delete(target.resolve("x"));
    Files.createDirectory(target.resolve("x"));
    Files.delete(target.resolve("full"));
    Files.createDirectory(target.resolve("full"));
    Files.writeString(target.resolve("full/mine"), "not gitops'\n");

    LocalFilesProvider files = LocalFilesProvider.builder(target).build();
    Plan plan = reconciler(files, target.resolve(".gitops"), "gitops", desired(files, "r1", files("x", "file\n",
        "full", "f\n")), options()).plan();
    assertThat(plan.change(files.keyOf("x")).orElseThrow().reason()).isEqualTo("deleted out of band (an empty"
        + " directory stands at its path, which gitops does not remove: the write fails until it is removed);"
        + " creating it again");
    assertThat(plan.change(files.keyOf("full")).orElseThrow().reason()).isEqualTo("deleted out of band; creating it"
        + " again");

    // neither directory is gitops' to remove, the empty one included: each write fails naming it
    SyncResult r = sync(target, files("x", "file\n", "full", "f\n"), "r1");
    assertThat(r.failures()).hasSize(2);
    assertThat(r.failures().toString()).contains(target.resolve("x") + " is an empty directory where the file goes;"
        + " gitops removes no directory it did not make: remove it and sync again")
        .contains(target.resolve("full") + " is a directory (holding files gitops does not manage), cannot write a"
            + " file there");
    assertThat(Files.isDirectory(target.resolve("x"))).isTrue();
    assertThat(tree(target)).containsEntry("full/mine", "not gitops'\n");

    Files.delete(target.resolve("x"));  // as the message says
    assertThat(sync(target, files("x", "file\n", "full", "f\n"), "r1").failures()).hasSize(1);
    assertThat(tree(target)).containsEntry("x", "file\n");
  }

  @Test
  void aDeepFileBecomingADirectoryOfDirectoriesConverges() throws IOException {
    Path target = tmp.resolve("target");
    assertThat(sync(target, files("a/b", "leaf\n", "keep", "k\n"), "r1").isSuccessful()).isTrue();
    SyncResult r = sync(target, files("a/b/c/d", "deeper\n", "a/b/e", "e\n", "keep", "k\n"), "r2");
    assertThat(r.isSuccessful()).as("%s", r.failures()).isTrue();
    assertThat(tree(target)).containsOnlyKeys("a/b/c/d", "a/b/e", "keep");
    SyncResult back = sync(target, files("a", "top\n", "keep", "k\n"), "r3");
    assertThat(back.isSuccessful()).as("%s", back.failures()).isTrue();
    assertThat(tree(target)).containsOnlyKeys("a", "keep");
  }

  // ------------------------------------------------------------------ D19: owners

  @Test
  void twoOwnersWithSeparateStoresNeverWriteOrDeleteEachOthersFiles() throws IOException {
    Path target = tmp.resolve("target");
    LocalFilesProvider files = LocalFilesProvider.builder(target).exclude(tmp.resolve("state-a"))
        .exclude(tmp.resolve("state-b")).build();
    SyncResult a = reconciler(files, tmp.resolve("state-a"), "team-a",
        desired(files, "a1", files("a.txt", "A\n", "shared.txt", "from A\n")), options()).sync();
    assertThat(a.isSuccessful()).isTrue();

    // B names a file A owns: it is not overwritten, and the sync says whose it is.
    SyncResult b = reconciler(files, tmp.resolve("state-b"), "team-b",
        desired(files, "b1", files("b.txt", "B\n", "shared.txt", "from B\n")), options()).sync();
    assertThat(tree(target)).containsEntry("shared.txt", "from A\n").containsEntry("b.txt", "B\n");
    Change shared = b.plan().change(files.keyOf("shared.txt")).orElseThrow();
    assertThat(shared.action()).isEqualTo(Action.SKIP);
    assertThat(shared.reason()).contains("team-a");

    // B then empties its repository with --allow-empty: only B's own file goes.
    SyncResult bEmpty = reconciler(files, tmp.resolve("state-b"), "team-b", desired(files, "b2", files()),
        options().toBuilder().budget(DeletionBudget.defaults().withAllowEmpty(true)).build()).sync();
    assertThat(bEmpty.isSuccessful()).as("%s", bEmpty.failures()).isTrue();
    assertThat(tree(target)).containsOnlyKeys("a.txt", "shared.txt");

    // A still owns its files and can delete them.
    SyncResult aPrune = reconciler(files, tmp.resolve("state-a"), "team-a",
        desired(files, "a2", files("a.txt", "A\n")), options()).sync();
    assertThat(aPrune.isSuccessful()).isTrue();
    assertThat(tree(target)).containsOnlyKeys("a.txt");
  }

  @Test
  void aSecondOwnerSharingTheStoreSkipsTheFirstOwnersFilesInsteadOfDeletingThem() throws IOException {
    Path target = tmp.resolve("target");
    LocalFilesProvider files = LocalFilesProvider.builder(target).build();
    Path state = target.resolve(".gitops");
    assertThat(reconciler(files, state, "first", desired(files, "r1", files("one", "1\n", "two", "2\n")), options())
        .sync().isSuccessful()).isTrue();

    SyncResult second = reconciler(files, state, "second", desired(files, "r2", files()),
        options().toBuilder().budget(DeletionBudget.defaults().withAllowEmpty(true)).build()).sync();
    assertThat(tree(target)).containsOnlyKeys("one", "two");
    assertThat(second.plan().changes(Action.DELETE)).isEmpty();
    assertThat(second.plan().change(files.keyOf("one")).orElseThrow().reason()).contains("first");
  }

  @Test
  void aSecondOwnersQuietSyncOnASharedStoreRecordsItsOwnHistoryEntryNotTheFirstOwners() {
    Path target = tmp.resolve("target");
    LocalFilesProvider files = LocalFilesProvider.builder(target).build();
    Path state = target.resolve(".gitops");
    State r1 = desired(files, "r1", files("one", "1\n"));
    SyncResult alice = reconciler(files, state, "alice", r1, options()).sync();
    assertThat(alice.isSuccessful()).isTrue();

    // bob declares the same file at the same revision: it is alice's, skipped; nothing changes
    SyncResult bob = reconciler(files, state, "bob", r1, options()).sync();
    assertThat(bob.outcomes().get(files.keyOf("one")).kind()).isEqualTo(Outcome.Kind.SKIPPED);
    assertThat(bob.status()).isEqualTo(alice.status());
    assertThat(bob.historyId()).as("bob's sync is not alice's history entry").isNotEqualTo(alice.historyId());

    // each owner's quiet resyncs reuse its own entry, however they interleave
    assertThat(reconciler(files, state, "alice", r1, options()).sync().historyId()).isEqualTo(alice.historyId());
    assertThat(reconciler(files, state, "bob", r1, options()).sync().historyId()).isEqualTo(bob.historyId());
    try (FileStateStore store = FileStateStore.open(state)) {
      assertThat(store.history()).extracting(h -> h.id(), h -> h.owner()).containsExactly(
          org.assertj.core.groups.Tuple.tuple(bob.historyId(), "bob"),
          org.assertj.core.groups.Tuple.tuple(alice.historyId(), "alice"));
    }
  }

  @Test
  void aLostStoreIsNoticedFromTheOwnershipRecordNamingTheStoreItRead() {
    Path target = tmp.resolve("target");
    LocalFilesProvider files = LocalFilesProvider.builder(target).exclude(tmp.resolve("state")).build();
    assertThat(reconciler(files, tmp.resolve("state"), "me", desired(files, "r1", files("a", "1\n")), options())
        .sync().isSuccessful()).isTrue();
    // a mistyped store directory: the message names it, so the user sees it is not the one the sync wrote
    assertThatThrownBy(() -> reconciler(files, tmp.resolve("other-state"), "me",
        desired(files, "r2", files()), options()).sync())
        .hasMessageContaining("the state store is missing or empty (" + tmp.resolve("other-state") + "), but 1 live"
            + " object of provider '" + files.id() + "' carries the mark of owner 'me'");
  }

  @Test
  void aSyncReadsEachClaimOnceThoughTheEngineGivesEveryProviderCallItsOwnDeadline() throws IOException {
    Path target = tmp.resolve("target");
    Map<String, String> texts = files("a.txt", "A\n", "conf/b.conf", "b=1\n", "c.txt", "C\n");
    assertThat(sync(target, texts, "r1").isSuccessful()).isTrue();
    new Ownership(target.resolve(".gitops/files/owners")).claim("theirs.txt", "other-owner");
    Files.writeString(target.resolve("theirs.txt"), "theirs\n");
    Map<String, String> withTheirs = new LinkedHashMap<>(texts);
    withTheirs.put("theirs.txt", "mine\n");

    // a new process's provider: listMarked reads every claim, and versions and observe, each
    // called with a context of its own deadline, read only the one listMarked did not find ours
    LocalFilesProvider files = LocalFilesProvider.builder(target).build();
    try (Reconciler r = reconciler(files, target.resolve(".gitops"), "gitops", desired(files, "r1", withTheirs),
        options())) {
      SyncResult again = r.sync();
      assertThat(again.plan().change(files.keyOf("theirs.txt")).orElseThrow().reason()).contains("other-owner");
      assertThat(again.plan().changes(Action.NOOP)).hasSize(3);
      assertThat(files.claimReads()).as("claims read again after listMarked").isEqualTo(1);

      // another sync is another call: its listing is its own, not the last one's
      r.sync();
      assertThat(files.claimReads()).isEqualTo(2);
    }
  }

  // ------------------------------------------------------------------ D20: temp files

  @Test
  void filesNamedLikeTempFilesAreNeverDeleted() throws IOException {
    Path target = tmp.resolve("target");
    Files.createDirectories(target.resolve("d"));
    List<String> lookalikes = List.of(".a.txt.42.gitops-tmp", ".a.txt.8123456789.gitops-tmp", "d/.y.txt.7.gitops-tmp",
        ".tmp-a.txt-1.tmp", ".gitops-tmp-1.abc");
    for (String name : lookalikes) {
      Files.writeString(target.resolve(name), "a user's file\n");
    }
    assertThat(sync(target, files("a.txt", "1\n", "d/y.txt", "y\n", "k", "k\n"), "r1").isSuccessful()).isTrue();
    assertThat(sync(target, files("a.txt", "2\n", "k", "k\n"), "r2").isSuccessful()).isTrue();
    assertThat(sync(target, files("k", "k\n"), "r3").isSuccessful()).isTrue();
    for (String name : lookalikes) {
      assertThat(target.resolve(name)).as(name).hasContent("a user's file");
    }
    assertThat(tree(target)).doesNotContainKeys("a.txt", "d/y.txt");
  }

  @Test
  void aFileNameOfTheFileSystemsFullLengthSyncs() throws IOException {
    Path target = tmp.resolve("target");
    String longName = "n".repeat(251) + ".txt";
    assertThat(longName.getBytes(StandardCharsets.UTF_8)).hasSize(255);
    String nested = "dir/" + "\u00e9".repeat(127) + "x";  // 255 bytes of UTF-8 in one segment
    assertThat(nested.substring(4).getBytes(StandardCharsets.UTF_8)).hasSize(255);
    SyncResult r = sync(target, files(longName, "long\n", nested, "accents\n"), "r1");
    assertThat(r.isSuccessful()).as("%s", r.failures()).isTrue();
    assertThat(sync(target, files(longName, "longer\n", nested, "accents\n"), "r2").isSuccessful()).isTrue();
    assertThat(tree(target)).containsEntry(longName, "longer\n").containsEntry(nested, "accents\n");
  }

  // ------------------------------------------------------------------ D21: the executable bit

  @Test
  void gitsExecutableBitIsAppliedAndItsRemovalByHandIsCorrected() throws IOException {
    TestGitRepo repo = TestGitRepo.init(tmp.resolve("repo"));
    repo.write("bin/run.sh", "#!/bin/sh\necho hi\n").write("README", "plain\n");
    Files.setPosixFilePermissions(repo.dir().resolve("bin/run.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
    repo.commit("scripts");
    Path target = tmp.resolve("target");
    LocalFilesProvider files = LocalFilesProvider.builder(target).build();
    try (GitSource source = GitSource.builder().url(repo.dir().toString()).ref("main")
        .cacheDir(tmp.resolve("cache")).build()) {
      Reconciler r = Reconciler.builder().source(source).provider(files)
          .store(FileStateStore.open(target.resolve(".gitops"))).options(options()).build();
      assertThat(r.sync().isSuccessful()).isTrue();
      Path script = target.resolve("bin/run.sh");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(script))).isEqualTo("rwxr-xr-x");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target.resolve("README"))))
          .isEqualTo("rw-r--r--");

      Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rw-r--r--"));
      Plan drift = r.plan();
      Change c = drift.change(files.keyOf("bin/run.sh")).orElseThrow();
      assertThat(c.action()).isEqualTo(Action.UPDATE);
      assertThat(c.drift()).isTrue();
      assertThat(r.sync().isSuccessful()).isTrue();
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(script))).isEqualTo("rwxr-xr-x");

      // Git drops the bit: the file follows.
      repo.git("update-index", "--chmod=-x", "bin/run.sh");
      repo.git("commit", "-q", "-m", "not executable");
      Files.setPosixFilePermissions(repo.dir().resolve("bin/run.sh"), PosixFilePermissions.fromString("rw-r--r--"));
      assertThat(r.sync().isSuccessful()).isTrue();
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(script))).isEqualTo("rw-r--r--");
    }
  }

  // ------------------------------------------------------------------ D22: Git's bytes

  @Test
  void structuredFilesAreWrittenAsGitsBytesWhateverTheirSpelling() throws IOException {
    Path target = tmp.resolve("target");
    String yaml = "# settings\nmode: 0755\nenabled: NO\nversion: 1.10\nmask: 0x1F\nnothing: ~\nswitch: on\n"
        + "list: [a,  b]   # flow style kept\n";
    String json = "{\"pi\": 3.14159265358979323846, \"one\": 1.0, \"k\": 1e3, \"n\": [1.50, -0.0]}\n";
    LocalFilesProvider files = LocalFilesProvider.builder(target).structured("*.yaml", "*.json").build();
    SyncResult r = reconciler(files, target.resolve(".gitops"), "gitops",
        desired(files, "r1", files("a.yaml", yaml, "b.json", json)), options()).sync();
    assertThat(r.isSuccessful()).isTrue();
    assertThat(Files.readString(target.resolve("a.yaml"))).isEqualTo(yaml);
    assertThat(Files.readString(target.resolve("b.json"))).isEqualTo(json);

    // Reformatted by hand but equal in structure: nothing to do, the file stays as it is.
    Files.writeString(target.resolve("b.json"), "{\"k\":1000,\"one\":1,\"pi\":3.14159265358979323846,\"n\":[1.5,0.0]}");
    Plan again = reconciler(files, target.resolve(".gitops"), "gitops",
        desired(files, "r1", files("a.yaml", yaml, "b.json", json)), options()).plan();
    assertThat(again.change(files.keyOf("b.json")).orElseThrow().action()).isEqualTo(Action.NOOP);

    // A value changed by hand: the sync writes Git's bytes back.
    Files.writeString(target.resolve("a.yaml"), yaml.replace("1.10", "2.0"));
    assertThat(reconciler(files, target.resolve(".gitops"), "gitops",
        desired(files, "r1", files("a.yaml", yaml, "b.json", json)), options()).sync().isSuccessful()).isTrue();
    assertThat(Files.readString(target.resolve("a.yaml"))).isEqualTo(yaml);
  }

  @Test
  void fieldsKeptFromTheLiveFileDoNotChangeTheSpellingOfGitsValues() throws IOException {
    Path target = tmp.resolve("target");
    LocalFilesProvider files = LocalFilesProvider.builder(target).structured("*.yaml", "*.json").build();
    String yaml = "mode: 0755\nenabled: NO\nversion: 1.10\nmask: 0x1F\nnothing: ~\non: on\n";
    String json = "{\"pi\": 3.14159265358979323846, \"one\": 1.0, \"k\": 1e3}\n";
    Map<String, String> git = files("a.yaml", yaml, "b.json", json);
    assertThat(reconciler(files, target.resolve(".gitops"), "gitops", desired(files, "r1", git), options())
        .sync().isSuccessful()).isTrue();
    // A field Git never set is added by hand, and a Git value is changed: the sync keeps the
    // first and restores the second, spelling every Git value as Git does.
    Files.writeString(target.resolve("a.yaml"), yaml.replace("1.10", "3") + "extra: kept\n");
    Files.writeString(target.resolve("b.json"), "{\"pi\": 3, \"one\": 1.0, \"k\": 1e3, \"extra\": true}\n");
    SyncResult r = reconciler(files, target.resolve(".gitops"), "gitops", desired(files, "r2", git), options()).sync();
    assertThat(r.isSuccessful()).as("%s", r.failures()).isTrue();
    String a = Files.readString(target.resolve("a.yaml"));
    assertThat(a).contains("mode: 0755\n", "enabled: NO\n", "version: 1.10\n", "mask: 0x1F\n", "nothing: ~\n",
        "on: on\n", "extra: kept\n");
    String b = Files.readString(target.resolve("b.json"));
    assertThat(b).contains("3.14159265358979323846", "\"one\": 1.0", "\"k\": 1e3", "\"extra\": true");
    Plan settled = reconciler(files, target.resolve(".gitops"), "gitops", desired(files, "r2", git), options()).plan();
    assertThat(settled.hasChanges()).as("%s", settled.changes()).isFalse();
  }

  // ------------------------------------------------------------------ D16: real paths

  @Test
  void aStoreReachedThroughASymlinkIsOutOfGitsReach() throws IOException {
    Path real = Files.createDirectories(tmp.resolve("real"));
    Path target = Files.createDirectories(real.resolve("target"));
    Files.createDirectories(target.resolve("state"));
    Path stateLink = Files.createSymbolicLink(tmp.resolve("state-link"), target.resolve("state"));
    Path targetLink = Files.createSymbolicLink(tmp.resolve("target-link"), target);

    // --state through a link into the target, and the target through a link with the state by real path.
    for (LocalFilesProvider files : List.of(LocalFilesProvider.builder(target).exclude(stateLink).build(),
        LocalFilesProvider.builder(targetLink).exclude(target.resolve("state")).build())) {
      String forged = "state/inventory/" + "files%3Afile%3A%3Avictim.json";
      assertThatThrownBy(() -> desired(files, "r1", files(forged, "{}")))
          .hasMessageContaining("excluded directory").hasMessageContaining("state");
      Resource planted = Resource.of(files.keyOf("state/x"),
          Documents.object(Map.of("content", Documents.nodes().textNode("x"))));
      assertThat(files.apply(Change.create(planted, "test"),
          CallContext.of("gitops", "r1", Duration.ofSeconds(10))).isOk()).isFalse();
    }
    assertThat(target.resolve("state")).isEmptyDirectory();
  }

  @Test
  void aTargetInsideTheStoreIsRefusedNamingBoth() throws IOException {
    Path store = Files.createDirectories(tmp.resolve("store"));
    Path link = Files.createSymbolicLink(tmp.resolve("link"), store);
    assertThatThrownBy(() -> LocalFilesProvider.builder(link.resolve("target")).exclude(store).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(link.resolve("target").toString()).hasMessageContaining(store.toRealPath().toString());
    assertThatThrownBy(() -> LocalFilesProvider.builder(store).exclude(link).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("excluded directory");
  }

  @Test
  void aFileStoreInTheTargetOutsideItsExcludedDirectoriesIsRefusedNamingBothAndATargetThatIsAFileToo()
      throws IOException {
    Path target = Files.createDirectories(tmp.resolve("target"));
    Path link = Files.createSymbolicLink(tmp.resolve("target-link"), target);
    LocalFilesProvider files = LocalFilesProvider.builder(target).build();
    // the store is the target itself, a directory of it, or the target through a link: Git's files would overwrite it
    for (Path dir : List.of(target, target.resolve("state"), link.resolve("state"))) {
      try (FileStateStore store = FileStateStore.open(dir)) {
        assertThatThrownBy(() -> Reconciler.builder().desiredState(State.of("r1", List.of())).provider(files)
            .store(store).build())
            .isInstanceOf(IllegalStateException.class)
            .hasMessageStartingWith("the state store " + store.directory() + (dir.equals(target) ? " is the target " : " is inside the target ")
                + target + " of files provider 'files': Git's files would be written over the store's");
      }
    }
    // its default place, and a directory the provider excludes, are out of Git's reach
    try (FileStateStore inDefault = FileStateStore.open(target.resolve(".gitops"));
        FileStateStore excluded = FileStateStore.open(target.resolve("state"));
        Reconciler a = Reconciler.builder().desiredState(State.of("r1", List.of())).provider(files).store(inDefault)
            .build();
        Reconciler b = Reconciler.builder().desiredState(State.of("r1", List.of()))
            .provider(LocalFilesProvider.builder(target).exclude(Path.of("state")).build()).store(excluded).build()) {
      assertThat(a.sync().isSuccessful()).isTrue();
      assertThat(b.sync().isSuccessful()).isTrue();
    }
    Path file = Files.writeString(tmp.resolve("a-file"), "x");
    assertThatThrownBy(() -> LocalFilesProvider.builder(file).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessage("target " + file + " is not a directory");
  }

  @Test
  void aNestedTargetsStoreAndOwnershipRecordAreOutOfTheOuterTargetsReach() throws IOException {
    // an outer target whose repository holds app/.gitops/... must not rewrite the records of the target at app/
    Path outer = Files.createDirectories(tmp.resolve("outer"));
    Path inner = outer.resolve("app");
    LocalFilesProvider innerFiles = LocalFilesProvider.builder(inner).build();
    SyncResult first = reconciler(innerFiles, inner.resolve(".gitops"), "inner", desired(innerFiles, "r1",
        files("x.conf", "inner\n")), options()).sync();
    assertThat(first.isSuccessful()).as("%s", first.failures()).isTrue();
    Path claims = inner.resolve(".gitops/files/owners");
    java.util.Set<String> before;
    try (java.util.stream.Stream<Path> s = Files.list(claims)) {
      before = s.map(p -> p.getFileName().toString()).collect(java.util.stream.Collectors.toSet());
    }

    LocalFilesProvider files = LocalFilesProvider.builder(outer).build();
    String forged = "app/.gitops/files/owners/x.conf.json";
    assertThatThrownBy(() -> desired(files, "r1", files(forged, "{}")))
        .hasMessageContaining("path '" + forged + "' is inside 'app/.gitops/'");
    Resource planted = Resource.of(files.keyOf("deep/er/.gitops/snapshot"),
        Documents.object(Map.of("content", Documents.nodes().textNode("x"))));
    Outcome o = files.apply(Change.create(planted, "test"), CallContext.of("gitops", "r1", Duration.ofSeconds(10)));
    assertThat(o.isOk()).isFalse();
    assertThat(o.message()).contains("'deep/er/.gitops/'");
    assertThat(outer.resolve("deep")).doesNotExist();
    try (java.util.stream.Stream<Path> s = Files.list(claims)) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrderElementsOf(before);
    }
    // nor is a file of the nested target written: its claim is in its own record, not the outer one's
    Outcome over = files.apply(Change.create(Resource.of(files.keyOf("app/x.conf"),
        Documents.object(Map.of("content", Documents.nodes().textNode("outer\n")))), "test"),
        CallContext.of("gitops", "r1", Duration.ofSeconds(10)));
    assertThat(over.isOk()).isFalse();
    assertThat(over.message()).contains(inner + " holds .gitops/").contains("nested");
    assertThat(Files.readString(inner.resolve("x.conf"))).isEqualTo("inner\n");
        // nor deleted: a file the outer target wrote before a target was made in its directory is that target's now
    Resource y = Resource.of(files.keyOf("later/y.conf"),
        Documents.object(Map.of("content", Documents.nodes().textNode("y\n"))));
    CallContext ctx = CallContext.of("gitops", "r1", Duration.ofSeconds(10));
    assertThat(files.apply(Change.create(y, "test"), ctx).isOk()).isTrue();
    Files.createDirectories(outer.resolve("later/.gitops"));
    Outcome gone = files.apply(Change.delete(y, null, "removed from Git"), ctx);
    assertThat(gone.isOk()).isFalse();
    assertThat(gone.message()).contains(outer.resolve("later") + " holds .gitops/").contains("not deleting");
    assertThat(Files.readString(outer.resolve("later/y.conf"))).isEqualTo("y\n");
        // a name that only contains .gitops is an ordinary file
    assertThat(files.apply(Change.create(Resource.of(files.keyOf("docs/.gitops.yaml.example"),
        Documents.object(Map.of("content", Documents.nodes().textNode("x")))), "test"),
        CallContext.of("gitops", "r1", Duration.ofSeconds(10))).isOk()).isTrue();
  }
}
