package dev.gitops.core.source;

import dev.gitops.core.WriteLocks;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gitops.api.Cancellation;
import dev.gitops.api.SourceException;
import dev.gitops.api.State;
import dev.gitops.api.spi.Source;
import dev.gitops.core.LogCapture;
import dev.gitops.core.decode.YamlManifestDecoder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.eclipse.jgit.util.FileUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whatever JGit meets (an unknown commit, a tag of a tree, a force-pushed-away commit, a broken
 * repository, a damaged cache) a read fails with one {@link SourceException} line naming URL, ref and
 * commit; a damaged cache is rebuilt instead, with a warning.
 */
class GitSourceFailuresTest {

  private static final String UNKNOWN = "0123456789abcdef0123456789abcdef01234567";

  @TempDir Path tmp;
  private TestGitRepo repo;
  private GitDaemonServer daemon;
  private final List<GitSource> sources = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    repo = TestGitRepo.init(tmp.resolve("served/repo"));
    repo.write("a.yaml", "provider: m\ntype: t\nname: a\nspec: {x: 1}\n").commit("one");
    daemon = GitDaemonServer.start(tmp.resolve("served"));
  }

  @AfterEach
  void tearDown() throws Exception {
    sources.forEach(GitSource::close);
    daemon.close();
  }

  private GitSource source(String url, String ref, String cache) {
    GitSource s = GitSource.builder().url(url).ref(ref).cacheDir(tmp.resolve(cache)).build();
    sources.add(s);
    return s;
  }

  private static State read(GitSource s, String pinned) {
    return s.read(new Source.ReadRequest(pinned, List.of(YamlManifestDecoder.create()), new Cancellation()));
  }

  /**
   * The read's SourceException: one line, naming each of {@code names}. (That nothing reaches stderr
   * is checked on the real process, in the CLI's SourceFailuresCliIT: this JVM's stderr is shared.)
   */
  private static SourceException failsInOneLine(GitSource s, String pinned, String... names) throws Exception {
    SourceException e = catchThrowableOfType(SourceException.class, () -> read(s, pinned));
    assertThat(e).isNotNull();
    assertThat(e.getMessage()).doesNotContain("\n").contains(names);
    return e;
  }

  @Test
  void unknownCommitIdFailsInOneLineLocallyAndRemotely() throws Exception {
    String local = repo.dir().toString();
    failsInOneLine(source(local, UNKNOWN, "c1"), null, local, UNKNOWN, "does not exist");
    failsInOneLine(source(daemon.url("repo"), UNKNOWN, "c2"), null, daemon.url("repo"), UNKNOWN, "not found");
  }

  @Test
  void tagOfATreeOrABlobIsNotACommit() throws Exception {
    String tree = repo.git("rev-parse", "HEAD^{tree}").trim();
    String blob = repo.git("rev-parse", "HEAD:a.yaml").trim();
    repo.git("tag", "treetag", tree);
    repo.git("tag", "-a", "-m", "annotated", "blobtag", blob);
    String local = repo.dir().toString();
    failsInOneLine(source(local, "treetag", "c1"), null, local, "'treetag'", "tree", tree, "not a commit");
    failsInOneLine(source(local, "blobtag", "c2"), null, local, "'blobtag'", "blob", blob, "not a commit");
    failsInOneLine(source(daemon.url("repo"), "treetag", "c3"), null, daemon.url("repo"), "'treetag'", "tree", "not a commit");
    failsInOneLine(source(daemon.url("repo"), "blobtag", "c4"), null, daemon.url("repo"), "'blobtag'", "blob", "not a commit");
  }

  @Test
  void rollbackToACommitAForcePushRemovedNamesCommitAndRevision() throws Exception {
    String old = repo.head();
    repo.git("checkout", "-q", "--orphan", "rewritten");
    repo.commit("history rewritten");
    repo.git("branch", "-D", "main");
    repo.git("branch", "-m", "main");
    String local = repo.dir().toString();
    String revision = "main@sha1:" + old;
    // Still in the source's object database, but on no branch or tag: it cannot be served.
    failsInOneLine(source(local, "main", "c1"), revision, local, old, revision, "force push");
    repo.git("reflog", "expire", "--expire=now", "--all");
    repo.git("gc", "-q", "--prune=now");
    failsInOneLine(source(local, "main", "c2"), revision, local, old, revision, "force push");
    failsInOneLine(source(daemon.url("repo"), "main", "c3"), revision, daemon.url("repo"), old, revision, "force push");
  }

  @Test
  void aCommitOnNoBranchOrTagIsRefusedThoughTheServerStillHoldsItOverEveryTransportOnTheFirstRead() throws Exception {
    String first = repo.head();
    String leaked = repo.write("a.yaml", "provider: m\ntype: t\nname: a\nspec: {x: SECRET}\n").commit("leak");
    repo.git("reset", "-q", "--hard", first);  // force-pushed away, not yet collected: the server still holds it
    try (GitHttpServer http = GitHttpServer.start(tmp.resolve("served"))) {
      int n = 0;
      for (String url : List.of(daemon.url("repo"), http.url("repo"), repo.dir().toString())) {
        // a new cache each time: the first read of the commit, fetched by its id
        failsInOneLine(source(url, leaked, "fresh-" + n++), null, url, leaked, "branch or tag");
        String revision = "main@sha1:" + leaked;
        failsInOneLine(source(url, "main", "fresh-" + n++), revision, url, leaked, revision, "branch or tag");
        assertThat(read(source(url, first, "fresh-" + n++), null).revision()).as(url).isEqualTo(first + "@sha1:" + first);
      }
    }
  }

  @Test
  void aCommitAForcePushRemovedIsRefusedEvenWhenTheCacheHoldsIt() throws Exception {
    String first = repo.head();
    for (String url : List.of(daemon.url("repo"), repo.dir().toString())) {
      read(source(url, "main", "cache-" + url.hashCode()), null);
    }
    String leaked = repo.write("a.yaml", "provider: m\ntype: t\nname: a\nspec: {x: SECRET}\n").commit("leak");
    for (String url : List.of(daemon.url("repo"), repo.dir().toString())) {
      // each read in a new source, as each CLI run: every fetch is shallow
      read(source(url, "main", "cache-" + url.hashCode()), null);
    }
    repo.git("reset", "-q", "--hard", first);
    String fixed = repo.write("a.yaml", "provider: m\ntype: t\nname: a\nspec: {x: 2}\n").commit("fixed");
    repo.git("reflog", "expire", "--expire=now", "--all");
    repo.git("gc", "-q", "--prune=now");
    for (String url : List.of(daemon.url("repo"), repo.dir().toString())) {
      String cache = "cache-" + url.hashCode();
      assertThat(read(source(url, "main", cache), null).revision()).isEqualTo("main@sha1:" + fixed);
      String revision = "main@sha1:" + leaked;
      failsInOneLine(source(url, "main", cache), revision, url, leaked, revision, "force push");
      failsInOneLine(source(url, leaked, cache), null, url, leaked, "force push");
      // a cached commit still on the branch, below the shallow tip the cache holds, is read
      assertThat(read(source(url, "main", cache), "main@sha1:" + first).revision()).isEqualTo("main@sha1:" + first);
      assertThat(read(source(url, first, cache), null).revision()).isEqualTo(first + "@sha1:" + first);
    }
  }

  @Test
  void anEmptyRepositoryIsSaidToHaveNoCommitsYet() throws Exception {
    TestGitRepo.init(tmp.resolve("served/empty"));
    String local = tmp.resolve("served/empty").toString();
    for (String ref : List.of("HEAD", "main")) {
      for (String url : List.of(local, daemon.url("empty"))) {
        SourceException e = failsInOneLine(source(url, ref, "c-" + ref + url.hashCode()), null, url, "'" + ref + "'",
            "has no commits yet");
        assertThat(e.getMessage()).doesNotContain("branches: none");
      }
    }
  }

  @Test
  void aRepositoryWithoutObjectsDirectoryIsNamed() throws Exception {
    FileUtils.delete(repo.dir().resolve(".git/objects").toFile(), FileUtils.RECURSIVE);
    String local = repo.dir().toString();
    failsInOneLine(source(local, "main", "c1"), null, local, "not a Git repository", "objects");
    failsInOneLine(source(tmp.resolve("nowhere").toString(), "main", "c2"), null, tmp.resolve("nowhere").toString(),
        "does not exist");
  }

  /** The loose object file of {@code id} in the test repository. */
  private Path looseObject(String id) {
    return repo.dir().resolve(".git/objects").resolve(id.substring(0, 2)).resolve(id.substring(2));
  }

  /** {@link #failsInOneLine}, and nothing printed on stderr meanwhile (the in-process upload-pack's stack traces). */
  private static SourceException failsQuietly(GitSource s, String... names) throws Exception {
    java.io.PrintStream err = System.err;
    java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(printed, true, java.nio.charset.StandardCharsets.UTF_8));
    try {
      return failsInOneLine(s, null, names);
    } finally {
      System.setErr(err);
      assertThat(printed.toString(java.nio.charset.StandardCharsets.UTF_8)).as("stderr").doesNotContain("UploadPack")
          .doesNotContain("\tat ");
    }
  }

  @Test
  void aMissingObjectOfALocalRepositoryIsNamedWithItsPathBeforeAnyFetch() throws Exception {
    String local = repo.dir().toString();
    GitSource s = source(local, "main", "c1");
    read(s, null);
    repo.write("apps/b.yaml", "provider: m\ntype: t\nname: b\nspec: {x: 2}\n");
    String head = repo.commit("two");
    String blob = repo.git("rev-parse", "HEAD:apps/b.yaml").trim();
    Files.delete(looseObject(blob));

    SourceException e = failsQuietly(s, local, blob, "apps/b.yaml", head, "is missing", "git fsck");
    assertThat(e.getMessage()).startsWith("repository " + local + " (ref main) is damaged: object " + blob);
    // a new cache (whose first read copies the objects, finds the damage and fetches) and a tag (always fetched)
    failsQuietly(source(local, "main", "c2"), local, blob, "apps/b.yaml", "is missing");
    repo.tag("v2");
    failsQuietly(source(local, "v2", "c1"), local, blob, "apps/b.yaml", "is missing");
  }

  @Test
  void aCorruptObjectOfALocalRepositoryIsNamedWithItsPath() throws Exception {
    String local = repo.dir().toString();
    String blob = repo.git("rev-parse", "HEAD:a.yaml").trim();
    Path file = looseObject(blob);
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length - 3] ^= (byte) 0xff;  // the zlib stream's checksum no longer matches
    file.toFile().setWritable(true);
    Files.write(file, bytes);

    failsQuietly(source(local, "main", "c1"), local, blob, "a.yaml", "cannot be read", "git fsck");
  }

  @Test
  void aRemotesMessageReachesTheErrorWithoutControlCharacters() throws Exception {
    repo.write("b.yaml", "provider: m\ntype: t\nname: b\nspec: {x: 2}\n").commit("two");
    Files.delete(looseObject(repo.git("rev-parse", "HEAD:b.yaml").trim()));

    SourceException e = failsInOneLine(source(daemon.url("repo"), "main", "c1"), null, daemon.url("repo"));
    assertThat(e.getMessage()).as("git daemon ends its message in a NUL").doesNotContain("\0")
        .doesNotMatch("(?s).*\\p{Cntrl}.*");
  }

  @Test
  void aSha256RepositoryIsSaidToBeOfAnUnsupportedObjectFormatLocallyAndRemotely() throws Exception {
    Path dir = tmp.resolve("served/sha256");
    Files.createDirectories(dir);
    TestGitRepo sha256 = TestGitRepo.open(dir);
    sha256.git("init", "-q", "-b", "main", "--object-format=sha256");
    sha256.write("a.yaml", "provider: m\ntype: t\nname: a\nspec: {x: 1}\n").commit("one");
    String local = dir.toString();
    for (String ref : List.of("HEAD", "main", sha256.head())) {
      SourceException e = failsInOneLine(source(local, ref, "c-" + ref), null, local,
          "uses the sha256 object format, which is not supported (JGit reads sha1 repositories only)");
      assertThat(e.getMessage()).doesNotContain("does not exist").doesNotContain("not found");
    }
    // a linked worktree of it: its own Git directory has no config, the common one says sha256
    Path worktree = tmp.resolve("sha256-worktree");
    sha256.git("worktree", "add", "-q", "-b", "wt", worktree.toString());
    failsInOneLine(source(worktree.toString(), "wt", "c-wt"), null, worktree.toString(),
        "uses the sha256 object format, which is not supported");
    failsInOneLine(source(daemon.url("sha256"), "main", "c-daemon"), null, daemon.url("sha256"),
        "uses the sha256 object format, which is not supported");
  }

  /**
   * A server that dies in the middle of sending a pack (the connection cut after 8 KiB of a ~270 KiB
   * pack) leaves a fetch error naming the URL and what JGit saw; the cache, which holds the commit
   * read before, is not taken for damaged: it was read as "the Git cache ... is damaged" and deleted,
   * then fetched again in full, and the error blamed the cache.
   */
  @Test
  void aConnectionCutInThePackIsAFetchErrorAndTheCacheIsKept() throws Exception {
    try (CuttingProxy proxy = CuttingProxy.start(daemon.port())) {
      String url = "git://127.0.0.1:" + proxy.port() + "/repo";
      GitSource s = source(url, "main", "cache-cut");
      read(s, null);
      Path cache = s.repositoryDirectory();
      java.util.Random random = new java.util.Random(7);
      for (int i = 0; i < 60; i++) {
        byte[] noise = new byte[3000];
        random.nextBytes(noise);
        repo.write("big/f" + i + ".txt", java.util.Base64.getMimeEncoder().encodeToString(noise));
      }
      String head = repo.commit("big");
      proxy.cutAfter(8192);
      SourceException e;
      String warned;
      try (LogCapture logs = LogCapture.of(GitSource.class, "WARN")) {
        e = failsInOneLine(s, null, url, "cannot fetch the commits of " + url, "Packfile is truncated");
        warned = String.join("\n", logs.lines());
      }
      assertThat(e.getMessage()).doesNotContain("Git cache").doesNotContain(cache.toString());
      assertThat(warned).doesNotContain("is damaged");
      assertThat(cache.resolve("objects")).isDirectory();
      proxy.forwardWhole();
      assertThat(read(s, null).revision()).isEqualTo("main@sha1:" + head);
    }
  }

  /**
   * A cache the fetch cannot write (its directories immutable as root, read-only otherwise; skipped
   * where neither stops a write) is no damaged cache: the error names the file and why, nothing is
   * rebuilt, and once it can be written again the next read goes on from what it holds. It named a
   * file of the cache, so it was taken for damage: "is damaged; rebuilding it", then "the Git cache
   * ... is still unusable after rebuilding it".
   */
  @Test
  void aCacheThatCannotBeWrittenIsNamedAndNotRebuilt() throws Exception {
    String url = daemon.url("repo");
    GitSource s = source(url, "main", "cache-unwritable");
    read(s, null);
    Path cache = s.repositoryDirectory();
    String head = repo.write("a.yaml", "provider: m\ntype: t\nname: a\nspec: {x: 2}\n").commit("two");
    try (WriteLocks locks = new WriteLocks()) {
      for (Path dir : List.of(cache, cache.resolve("objects"), cache.resolve("objects/pack"))) {
        locks.lock(dir);
      }
      SourceException e;
      String warned;
      try (LogCapture logs = LogCapture.of(GitSource.class, "WARN")) {
        e = failsInOneLine(s, null, url, cache.toString());
        warned = String.join("\n", logs.lines());
      }
      assertThat(e.getMessage()).doesNotContain("rebuilding").doesNotContain("unusable");
      assertThat(warned).doesNotContain("is damaged");
    }
    assertThat(read(s, null).revision()).isEqualTo("main@sha1:" + head);
  }

  /** Damages the cache of a source that read once, commits, and reads with a new source on the same cache. */
  private void cacheDamageIsRepairedOnTheNextRead(String name, Damage damage) throws Exception {
    String url = repo.dir().toString();
    GitSource first = source(url, "main", "cache-" + name);
    read(first, null);
    Path dir = first.repositoryDirectory();
    first.close();
    damage.apply(dir);
    repo.write("a.yaml", "provider: m\ntype: t\nname: a\nspec: {x: 2}\n");
    String head = repo.commit("two");
    GitSource again = source(url, "main", "cache-" + name);
    State[] st = new State[1];
    String printed;
    try (LogCapture logs = LogCapture.of(GitSource.class, "WARN")) {
      st[0] = read(again, null);
      printed = String.join("\n", logs.lines());
    }
    assertThat(st[0]).as(name + ": " + printed).isNotNull();
    assertThat(st[0].revision()).isEqualTo("main@sha1:" + head);
    assertThat(printed).as(name).contains("is damaged").contains("rebuilding it").contains(dir.toString());
    assertThat(read(again, null).unchanged()).isTrue();
  }

  private interface Damage {
    void apply(Path cacheRepository) throws IOException;
  }

  private static void eachFile(Path dir, String suffix, Damage d) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.filter(p -> Files.isRegularFile(p) && p.toString().endsWith(suffix)).toList()) {
        d.apply(p);
      }
    }
  }

  @Test
  void aDamagedCacheIsRebuiltAndTheReadGoesOn() throws Exception {
    // a first read copies the local repository's object files (GitSource's cost note): loose ones here
    cacheDamageIsRepairedOnTheNextRead("truncated-loose-objects", dir -> eachFile(dir.resolve("objects"), "",
        p -> {
          if (p.getParent().getFileName().toString().matches("[0-9a-f]{2}")) {
            Files.write(p, java.util.Arrays.copyOf(Files.readAllBytes(p), 10));
          }
        }));
    repo.git("gc", "-q");  // packed from here on, so the cache's copies are packs
    cacheDamageIsRepairedOnTheNextRead("truncated-packs", dir -> eachFile(dir, ".pack",
        p -> Files.write(p, java.util.Arrays.copyOf(Files.readAllBytes(p), 40))));
    cacheDamageIsRepairedOnTheNextRead("no-pack-index", dir -> eachFile(dir, ".idx", Files::delete));
    cacheDamageIsRepairedOnTheNextRead("garbage-config", dir -> Files.writeString(dir.resolve("config"), "garbage\n"));
    cacheDamageIsRepairedOnTheNextRead("garbage-shallow", dir -> Files.writeString(dir.resolve("shallow"), "garbage\n"));
    cacheDamageIsRepairedOnTheNextRead("no-objects", dir -> FileUtils.delete(dir.resolve("objects").toFile(), FileUtils.RECURSIVE));
    cacheDamageIsRepairedOnTheNextRead("ref-to-nothing", dir -> eachFile(dir.resolve("refs"), "main",
        p -> Files.writeString(p, UNKNOWN + "\n")));
  }
}
