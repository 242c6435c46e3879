package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.SourceException;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncResult;
import dev.gitops.core.files.LocalFilesProvider;
import dev.gitops.core.source.GitDaemonServer;
import dev.gitops.core.source.GitSource;
import dev.gitops.core.source.TestGitRepo;
import dev.gitops.core.store.FileStateStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.jgit.util.FileUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A force push seen by a new process: each sync here is a new process (a new source, provider,
 * store object and reconciler over the same repository, Git cache, target and store), so the only
 * memory of the revision synced before is the store's last-applied revision. The repository is
 * read as a local path (objects copied or fetched from it) and over {@code git://}; with the
 * store's no-change marker (the head is read since the store's records) and without it (read in
 * full).
 */
class HistoryRewrittenAcrossProcessesTest {

  @TempDir Path tmp;

  TestGitRepo repo;
  GitDaemonServer daemon;
  Path target;

  @BeforeEach
  void repository() throws Exception {
    repo = TestGitRepo.init(tmp.resolve("served").resolve("repo"));
    repo.write("a.conf", "one\n").write("b.conf", "b\n").commit("one");
    repo.write("a.conf", "two\n").commit("two");
    target = tmp.resolve("target");
    daemon = GitDaemonServer.start(tmp.resolve("served"));
  }

  @AfterEach
  void stop() throws Exception {
    daemon.close();
  }

  /** One process's sync, the source-read events it reported and what GitSource warned. */
  record Run(SyncResult result, List<SyncEvent.SourceRead> reads, List<String> warnings) {

    boolean flagged() {
      return reads.stream().anyMatch(SyncEvent.SourceRead::historyRewritten);
    }
  }

  /** A sync in a new process, reading the repository as {@code transport} says; {@code marker}: keep the no-change marker. */
  Run process(String transport, boolean marker) throws IOException {
    return process(transport, marker, "main");
  }

  /** {@link #process(String, boolean)} of {@code ref}. */
  Run process(String transport, boolean marker, String ref) throws IOException {
    if (!marker) {
      Files.deleteIfExists(target.resolve(".gitops").resolve("nochange.json"));
    }
    String url = transport.equals("daemon") ? daemon.url("repo") : repo.dir().toString();
    LocalFilesProvider files = LocalFilesProvider.builder(target).build();
    List<SyncEvent> events = new CopyOnWriteArrayList<>();
    try (LogCapture logs = LogCapture.of("dev.gitops.core", "WARN");
        GitSource source = GitSource.builder().url(url).ref(ref).cacheDir(tmp.resolve("cache"))
            .decoder("**", files.decoder().orElseThrow()).build();
        Reconciler r = Reconciler.builder().source(source).provider(files)
            .store(FileStateStore.open(target.resolve(".gitops"))).listener(events::add).build()) {
      SyncResult result = r.sync();
      List<SyncEvent.SourceRead> reads = events.stream().filter(SyncEvent.SourceRead.class::isInstance)
          .map(SyncEvent.SourceRead.class::cast).toList();
      return new Run(result, reads, logs.lines());
    }
  }

  /** Drops the branch's last commit and commits {@code content} in its place: a force push. */
  String rewrite(String content) throws IOException {
    repo.git("reset", "-q", "--hard", "HEAD~1");
    return repo.write("a.conf", content).commit("rewritten " + content.strip());
  }

  String applied() throws IOException {
    return Files.readString(target.resolve("a.conf"));
  }

  @ParameterizedTest(name = "{0}, no-change marker {1}")
  @CsvSource({"local, true", "local, false", "daemon, true", "daemon, false"})
  void aRewrittenBranchIsFlaggedInANewProcess(String transport, boolean marker) throws IOException {
    Run first = process(transport, marker);
    assertThat(first.flagged()).isFalse();
    String sha = rewrite("three\n");

    Run second = process(transport, marker);

    assertThat(second.result().plan().revision()).isEqualTo("main@sha1:" + sha);
    assertThat(applied()).isEqualTo("three\n");
    assertThat(second.flagged()).as("history rewritten in %s", second.reads()).isTrue();
    assertThat(second.warnings()).anyMatch(w -> w.contains("main@sha1:" + sha) && w.contains("history rewritten"));
    assertThat(second.warnings()).as("the source's warning, not a second vaguer one from the reconciler")
        .filteredOn(w -> w.contains("rewritten")).hasSize(1);
    // synced: the next process compares with the rewritten commit, which its next commit descends from
    repo.write("a.conf", "four\n").commit("four");
    Run third = process(transport, marker);
    assertThat(applied()).isEqualTo("four\n");
    assertThat(third.flagged()).isFalse();
  }

  @ParameterizedTest(name = "{0}, no-change marker {1}")
  @CsvSource({"local, true", "local, false", "daemon, true", "daemon, false"})
  void aFastForwardInANewProcessIsNotFlaggedButARewriteAfterItIs(String transport, boolean marker)
      throws IOException {
    process(transport, marker);
    repo.write("a.conf", "three\n").commit("three");
    repo.write("b.conf", "b2\n").commit("three b");

    Run forward = process(transport, marker);

    assertThat(applied()).isEqualTo("three\n");
    assertThat(forward.flagged()).as("a fast-forward in %s", forward.reads()).isFalse();
    assertThat(forward.warnings()).noneMatch(w -> w.contains("history rewritten"));
    rewrite("four\n");
    Run rewritten = process(transport, marker);
    assertThat(applied()).isEqualTo("four\n");
    assertThat(rewritten.flagged()).isTrue();
  }

  @ParameterizedTest(name = "{0}, no-change marker {1}")
  @CsvSource({"local, true", "local, false", "daemon, true", "daemon, false"})
  void aFreshCacheDoesNotFlagTheRevisionItLacksButItsNextProcessChecks(String transport, boolean marker)
      throws IOException {
    process(transport, marker);
    rewrite("three\n");
    // the rewritten commit pruned from the repository too: a new cache copied from a local one
    // would hold it otherwise (aNewCacheCopiedFromALocalRepositorySeesARewriteWhoseOldCommitIsStillThere)
    repo.git("reflog", "expire", "--expire=now", "--all");
    repo.git("gc", "-q", "--prune=now");
    FileUtils.delete(tmp.resolve("cache").toFile(), FileUtils.RECURSIVE);

    Run fresh = process(transport, marker);

    assertThat(applied()).isEqualTo("three\n");
    assertThat(fresh.flagged()).as("a new cache in %s", fresh.reads()).isFalse();
    assertThat(fresh.warnings()).noneMatch(w -> w.contains("history rewritten") || w.contains("not in the cache"));
    // the cache holds the commit applied now: the next rewrite is seen
    rewrite("four\n");
    Run next = process(transport, marker);
    assertThat(applied()).isEqualTo("four\n");
    assertThat(next.flagged()).isTrue();
  }

  @ParameterizedTest(name = "no-change marker {0}")
  @ValueSource(booleans = {true, false})
  void aNewCacheCopiedFromALocalRepositorySeesARewriteWhoseOldCommitIsStillThere(boolean marker) throws IOException {
    process("local", marker);
    String sha = rewrite("three\n");  // the commit applied is unreachable now, but not pruned
    FileUtils.delete(tmp.resolve("cache").toFile(), FileUtils.RECURSIVE);

    Run fresh = process("local", marker);

    // the new cache is a copy of the repository's object files: the revision last applied is there
    assertThat(applied()).isEqualTo("three\n");
    assertThat(fresh.flagged()).as("a copied cache in %s", fresh.reads()).isTrue();
    assertThat(fresh.warnings()).anyMatch(w -> w.contains("main@sha1:" + sha) && w.contains("history rewritten"));
  }

  @ParameterizedTest(name = "{0}, no-change marker {1}")
  @CsvSource({"local, true", "local, false", "daemon, true", "daemon, false"})
  void aTagOfTheBranchsNameIsRefusedAndTheTagLeftAloneAtAnOlderCommitIsFlaggedAsARollbackInANewProcess(
      String transport, boolean marker) throws IOException {
    String older = repo.head();
    repo.git("branch", "release");
    repo.git("checkout", "-q", "release");
    repo.write("a.conf", "three\n").commit("three");
    Run first = process(transport, marker, "release");
    assertThat(applied()).isEqualTo("three\n");
    assertThat(first.flagged()).isFalse();
    repo.git("tag", "-a", "-m", "old", "release", older + "~1");

    assertThatThrownBy(() -> process(transport, marker, "release")).isInstanceOf(SourceException.class)
        .hasMessageContaining("'release' is ambiguous").hasMessageContaining("the tag refs/tags/release");
    assertThat(applied()).as("nothing read, nothing applied").isEqualTo("three\n");

    repo.git("checkout", "-q", "main");
    repo.git("branch", "-D", "release");
    Run second = process(transport, marker, "release");

    assertThat(applied()).as("the tag, the only ref of the name now").isEqualTo("one\n");
    assertThat(second.flagged()).as("a move back in %s", second.reads()).isTrue();
    assertThat(second.warnings()).anyMatch(w -> w.contains("rollback") && w.contains("the tag refs/tags/release"));
  }

  @ParameterizedTest(name = "{0}, no-change marker {1}")
  @CsvSource({"local, true", "local, false", "daemon, true", "daemon, false"})
  void aVersionRangeThatFallsToALowerTagIsFlaggedInANewProcess(String transport, boolean marker) throws IOException {
    repo.git("tag", "v1.0.0", "HEAD~1");
    repo.git("tag", "v1.1.0");
    Run first = process(transport, marker, "^1");
    assertThat(first.result().plan().revision()).startsWith("v1.1.0@sha1:");
    repo.git("tag", "-d", "v1.1.0");

    Run second = process(transport, marker, "^1");

    assertThat(second.result().plan().revision()).startsWith("v1.0.0@sha1:");
    assertThat(applied()).isEqualTo("one\n");
    assertThat(second.flagged()).isTrue();
    assertThat(second.warnings()).anyMatch(w -> w.contains("lower version than v1.1.0@sha1:"));
  }
}
