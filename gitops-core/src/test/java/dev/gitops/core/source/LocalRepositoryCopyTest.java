package dev.gitops.core.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Cancellation;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SourceException;
import dev.gitops.api.State;
import dev.gitops.api.spi.Source;
import dev.gitops.core.decode.YamlManifestDecoder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevTree;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A source given as a local path lists its refs and copies a short change into the cache directly
 * ({@link LocalRepository}), and fetches whenever a copy could not keep the cache what a fetch
 * would make it.
 */
class LocalRepositoryCopyTest {

  @TempDir
  Path tmp;

  private final Source.ReadRequest request =
      new Source.ReadRequest(null, List.of(YamlManifestDecoder.builder().defaultProvider("m").build()), new Cancellation());

  @Test
  void newCommitsAreCopiedIntoTheCacheWithoutAPackAndKeepItsHistoryWhole() throws Exception {
    TestGitRepo repo = TestGitRepo.init(tmp.resolve("repo"));
    repo.write("a.yaml", widget("a", 1)).commit("one");
    try (GitSource source = source(repo)) {
      assertThat(value(source.read(request), "a")).isEqualTo(1);
      long packs = packs(source);
      repo.write("a.yaml", widget("a", 2)).commit("two");
      String three = repo.write("b.yaml", widget("b", 3)).commit("three");

      State state = source.read(request);

      assertThat(state.revision()).isEqualTo("main@sha1:" + three);
      assertThat(value(state, "a")).isEqualTo(2);
      assertThat(value(state, "b")).isEqualTo(3);
      assertThat(source.fetchCount()).isEqualTo(2);
      assertThat(packs(source)).as("packs after the copy").isEqualTo(packs);
      assertThat(git(repo, source, "rev-parse", "refs/gitops/heads/main").trim()).isEqualTo(three);
      // both new commits, each with its parent: git itself finds the cache complete
      assertThat(git(repo, source, "rev-list", "--count", three).trim()).isEqualTo("3");
      git(repo, source, "fsck", "--connectivity-only", "--no-dangling");
    }
  }

  @Test
  void aMergeOfBranchesThatStartInTheCacheIsCopiedWithMovedAndDeletedFiles() throws Exception {
    TestGitRepo repo = TestGitRepo.init(tmp.resolve("repo"));
    repo.write("apps/web/a.yaml", widget("a", 1)).write("apps/db/b.yaml", widget("b", 1))
        .write("c.yaml", widget("c", 1)).commit("one");
    try (GitSource source = source(repo)) {
      source.read(request);
      long packs = packs(source);
      repo.git("checkout", "-q", "-b", "side");
      repo.write("apps/web/d.yaml", widget("d", 4)).commit("side: d");
      repo.git("checkout", "-q", "main");
      repo.git("mv", "apps/db", "apps/store");
      repo.delete("c.yaml").write("apps/web/a.yaml", widget("a", 2)).commit("main: move db, drop c, edit a");
      repo.git("merge", "-q", "--no-edit", "side");
      String merge = repo.head();

      State state = source.read(request);

      assertThat(state.revision()).isEqualTo("main@sha1:" + merge);
      assertThat(state.resources()).hasSize(3);
      assertThat(value(state, "a")).isEqualTo(2);
      assertThat(value(state, "b")).isEqualTo(1);
      assertThat(value(state, "d")).isEqualTo(4);
      assertThat(state.get(ResourceKey.of("m", "t", "", "b")).orElseThrow().origin().path()).isEqualTo("apps/store/b.yaml");
      assertThat(packs(source)).as("packs after the copy").isEqualTo(packs);
      assertThat(git(repo, source, "rev-list", "--count", merge).trim()).isEqualTo("4");
      git(repo, source, "fsck", "--connectivity-only", "--no-dangling");
    }
  }

  @Test
  void aFirstReadCopiesTheObjectFilesWholeAndSharesNoFileWithTheRepository() throws Exception {
    TestGitRepo repo = TestGitRepo.init(tmp.resolve("repo"));
    repo.write("a.yaml", widget("a", 1)).commit("one");
    repo.write("b.yaml", widget("b", 2)).commit("two");
    repo.git("gc", "-q");
    String three = repo.write("a.yaml", widget("a", 3)).commit("three");  // loose, beside the pack
    try (GitSource source = source(repo)) {
      State state = source.read(request);

      assertThat(state.revision()).isEqualTo("main@sha1:" + three);
      assertThat(value(state, "a")).isEqualTo(3);
      assertThat(value(state, "b")).isEqualTo(2);
      assertThat(source.fetchCount()).isEqualTo(1);
      Path cache = source.repositoryDirectory();
      assertThat(cache.resolve("shallow")).as("the whole history, not a shallow fetch").doesNotExist();
      assertThat(git(repo, source, "rev-list", "--count", three).trim()).isEqualTo("3");
      git(repo, source, "fsck", "--no-dangling");
      // copies: damage to the cache's files is not damage to the repository's
      try (Stream<Path> files = Files.walk(repo.dir().resolve(".git/objects"))) {
        for (Path f : files.filter(Files::isRegularFile).toList()) {
          Path copy = cache.resolve("objects").resolve(repo.dir().resolve(".git/objects").relativize(f));
          if (Files.exists(copy)) {
            assertThat(Files.isSameFile(f, copy)).as("%s shares its file", copy).isFalse();
            assertThat(Files.mismatch(f, copy)).isEqualTo(-1L);
          }
        }
      }
      assertThat(packs(source)).isEqualTo(1);
      try (Stream<Path> files = Files.walk(cache.resolve("objects"))) {
        assertThat(files.map(p -> p.getFileName().toString())).as("no temporary file left")
            .noneMatch(n -> n.startsWith(".tmp-"));
      }
    }
  }

  @Test
  void aRepositoryOverTheBytesOrFilesLimitIsNotCopied() throws Exception {
    TestGitRepo repo = TestGitRepo.init(tmp.resolve("repo"));
    repo.write("a.yaml", widget("a", 1)).commit("one");
    String two = repo.write("a.yaml", widget("a", 2)).commit("two");
    try (Repository cache = Git.init().setBare(true).setDirectory(tmp.resolve("cache.git").toFile()).call()
        .getRepository()) {
      LocalRepository local = LocalRepository.of(new org.eclipse.jgit.transport.URIish(repo.dir().toString()));

      org.eclipse.jgit.lib.ObjectId id = org.eclipse.jgit.lib.ObjectId.fromString(two);
      assertThat(local.cloneInto(cache, id, 100, LocalRepository.MOST_COPIED)).as("over the bytes").isFalse();
      // six loose objects (two commits, two trees, two blobs)
      assertThat(local.cloneInto(cache, id, LocalRepository.MOST_BYTES, 5)).as("over the files").isFalse();

      try (Stream<Path> files = Files.walk(tmp.resolve("cache.git/objects"))) {
        assertThat(files.filter(Files::isRegularFile).toList()).as("nothing copied").isEmpty();
      }
      assertThat(local.cloneInto(cache, id, LocalRepository.MOST_BYTES, 6)).isTrue();
      assertThat(cache.getObjectDatabase().has(org.eclipse.jgit.lib.ObjectId.fromString(two))).isTrue();
    }
  }

  @Test
  void anObjectFileThatCannotBeReadMakesTheFirstReadFetch() throws Exception {
    TestGitRepo repo = TestGitRepo.init(tmp.resolve("repo"));
    repo.write("a.yaml", widget("a", 1)).commit("one");
    repo.git("gc", "-q");
    String two = repo.write("a.yaml", widget("a", 2)).commit("two");
    // an object file that vanishes under the copy (a concurrent git gc), as a dangling link reads
    Path objects = repo.dir().resolve(".git/objects");
    Files.createDirectories(objects.resolve("ff"));
    Files.createSymbolicLink(objects.resolve("ff").resolve("0".repeat(38)), tmp.resolve("gone"));
    try (GitSource source = source(repo)) {
      State state = source.read(request);

      assertThat(state.revision()).isEqualTo("main@sha1:" + two);
      assertThat(value(state, "a")).isEqualTo(2);
      assertThat(source.repositoryDirectory().resolve("shallow")).as("fetched shallow instead").exists();
    }
  }

  @Test
  void anObjectNameThatIsALinkOrADeviceIsNeverFollowedAndTheFirstReadFetches() throws Exception {
    TestGitRepo repo = TestGitRepo.init(tmp.resolve("repo"));
    String one = repo.write("a.yaml", widget("a", 1)).commit("one");
    repo.git("gc", "-q");
    Path objects = repo.dir().resolve(".git/objects");
    Files.createDirectories(objects.resolve("ff"));
    Files.writeString(tmp.resolve("outside.txt"), "not an object\n");
    // a link to a file outside the repository, and one to a device a copy would read without end
    Files.createSymbolicLink(objects.resolve("ff").resolve("1".repeat(38)), tmp.resolve("outside.txt"));
    Files.createSymbolicLink(objects.resolve("ff").resolve("2".repeat(38)), Path.of("/dev/zero"));
    try (GitSource source = source(repo)) {
      State state = source.read(request);

      assertThat(state.revision()).isEqualTo("main@sha1:" + one);
      assertThat(source.repositoryDirectory().resolve("shallow")).as("fetched, not copied").exists();
      assertThat(source.repositoryDirectory().resolve("objects/ff")).doesNotExist();
    }
  }

  @Test
  void aCopyThatFailsMidwayRemovesWhatItCopied() throws Exception {
    TestGitRepo repo = TestGitRepo.init(tmp.resolve("repo"));
    String one = repo.write("a.yaml", widget("a", 1)).commit("one");
    repo.git("gc", "-q");
    String pack;
    try (Stream<Path> packs = Files.list(repo.dir().resolve(".git/objects/pack"))) {
      pack = packs.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".pack")).findFirst().orElseThrow();
    }
    String idx = pack.substring(0, pack.length() - ".pack".length()) + ".idx";
    try (Repository cache = Git.init().setBare(true).setDirectory(tmp.resolve("cache.git").toFile()).call()
        .getRepository()) {
      // the pack is copied, then its index cannot be: a directory in the way of its temporary name
      Files.createDirectories(tmp.resolve("cache.git/objects/pack/.tmp-" + idx).resolve("in-the-way"));
      LocalRepository local = LocalRepository.of(new org.eclipse.jgit.transport.URIish(repo.dir().toString()));

      assertThat(local.cloneInto(cache, org.eclipse.jgit.lib.ObjectId.fromString(one))).isFalse();

      assertThat(tmp.resolve("cache.git/objects/pack").resolve(pack)).as("the pack copied first, removed")
          .doesNotExist();
      assertThat(tmp.resolve("cache.git/objects/pack").resolve(idx)).doesNotExist();
    }
  }

  @Test
  void anObjectFileIsCopiedAsItWasMeasuredOrNotAtAll() throws Exception {
    Path file = Files.write(tmp.resolve("object"), "twelve bytes".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    LocalRepository.copyExactly(file, tmp.resolve("copy"), 12);
    assertThat(tmp.resolve("copy")).hasSameBinaryContentAs(file);

    // changed since it was measured: grown, cut short
    assertThatThrownBy(() -> LocalRepository.copyExactly(file, tmp.resolve("grown"), 5))
        .isInstanceOf(IOException.class).hasMessageContaining("more than the 5 bytes");
    assertThatThrownBy(() -> LocalRepository.copyExactly(file, tmp.resolve("cut"), 20))
        .isInstanceOf(IOException.class).hasMessageContaining("fewer than the 20 bytes");
    // swapped for a link (never followed), or for a device that never ends (read no further than measured)
    Path link = Files.createSymbolicLink(tmp.resolve("link"), file);
    assertThatThrownBy(() -> LocalRepository.copyExactly(link, tmp.resolve("via-link"), 12))
        .isInstanceOf(IOException.class);
    Path zero = Path.of("/dev/zero");
    if (Files.exists(zero)) {
      assertThatThrownBy(() -> LocalRepository.copyExactly(zero, tmp.resolve("zeros"), 16))
          .isInstanceOf(IOException.class).hasMessageContaining("more than the 16 bytes");
      assertThat(Files.size(tmp.resolve("zeros"))).isEqualTo(16);
    }
  }

  @Test
  void aMergeOfHistoryBelowTheShallowCacheIsFetched() throws Exception {
    TestGitRepo repo = TestGitRepo.init(tmp.resolve("repo"));
    repo.write("a.yaml", widget("a", 1)).commit("one");
    repo.git("branch", "side");
    repo.write("a.yaml", widget("a", 2)).commit("two");
    // objects borrowed from another store (here an empty one): an empty cache is fetched shallow
    // instead of copied whole
    Files.createDirectories(tmp.resolve("borrowed/pack"));
    Files.writeString(repo.dir().resolve(".git/objects/info/alternates"), tmp.resolve("borrowed") + "\n");
    try (GitSource source = source(repo)) {
      source.read(request);  // a shallow fetch of "two": "one" is not in the cache
      assertThat(source.repositoryDirectory().resolve("shallow")).exists();
      long packs = packs(source);
      repo.git("checkout", "-q", "side");
      repo.write("b.yaml", widget("b", 5)).commit("on the side");
      repo.git("checkout", "-q", "main");
      repo.git("merge", "-q", "--no-edit", "side");

      State merged = source.read(request);

      assertThat(value(merged, "a")).isEqualTo(2);
      assertThat(value(merged, "b")).isEqualTo(5);
      // a copy would have left "on the side" without its parent, which the cache does not hold
      assertThat(packs(source)).as("packs after the fetch").isGreaterThan(packs);
      git(repo, source, "fsck", "--connectivity-only", "--no-dangling");
    }
  }

  @Test
  void aShallowRepositoryIsFetched() throws Exception {
    TestGitRepo upstream = TestGitRepo.init(tmp.resolve("upstream"));
    upstream.write("a.yaml", widget("a", 1)).commit("one");
    upstream.write("a.yaml", widget("a", 2)).commit("two");
    upstream.git("clone", "-q", "--depth", "1", "file://" + upstream.dir(), tmp.resolve("repo").toString());
    TestGitRepo repo = TestGitRepo.open(tmp.resolve("repo"));
    try (GitSource source = source(repo)) {
      assertThat(value(source.read(request), "a")).isEqualTo(2);
      long packs = packs(source);
      repo.write("a.yaml", widget("a", 3)).commit("three");

      assertThat(value(source.read(request), "a")).isEqualTo(3);

      // a walk of a shallow repository does not see past its shallow commits: no copy
      assertThat(packs(source)).isEqualTo(packs + 1);
    }
  }

  @Test
  void aChangeOfManyObjectsIsFetchedAsOnePack() throws Exception {
    TestGitRepo repo = TestGitRepo.init(tmp.resolve("repo"));
    repo.write("a.yaml", widget("a", 1)).commit("one");
    try (GitSource source = source(repo)) {
      source.read(request);
      long packs = packs(source);
      for (int i = 0; i < LocalRepository.MOST_COPIED; i++) {
        repo.write("notes/n" + i + ".txt", "note " + i + "\n");
      }
      String many = repo.write("a.yaml", widget("a", 2)).commit("many");

      State state = source.read(request);

      assertThat(state.revision()).isEqualTo("main@sha1:" + many);
      assertThat(value(state, "a")).isEqualTo(2);
      assertThat(packs(source)).isEqualTo(packs + 1);
    }
  }

  @Test
  void refsHiddenFromUploadPackStayHidden() throws Exception {
    TestGitRepo repo = TestGitRepo.init(tmp.resolve("repo"));
    repo.write("a.yaml", widget("a", 1)).commit("one");
    repo.git("branch", "secret");
    repo.git("config", "uploadpack.hideRefs", "refs/heads/secret");
    try (GitSource visible = source(repo); GitSource hidden = GitSource.builder().url(repo.dir().toString())
        .ref("secret").cacheDir(tmp.resolve("cache-secret")).build()) {
      assertThat(value(visible.read(request), "a")).isEqualTo(1);
      // the hidden branch's objects are not copied in with the rest: a shallow fetch of main
      assertThat(visible.repositoryDirectory().resolve("shallow")).exists();
      assertThatThrownBy(() -> hidden.read(request)).isInstanceOf(SourceException.class)
          .hasMessageContaining("ref 'secret' not found").hasMessageContaining("main");
    }
  }

  @Test
  void eachTreeIsListedAfterTheTreesItNamesAcrossCommits() throws Exception {
    TestGitRepo repo = TestGitRepo.init(tmp.resolve("repo"));
    repo.write("a/b/c/one.yaml", widget("one", 1)).write("a/x.yaml", widget("x", 1)).commit("one");
    repo.write("a/b/c/two.yaml", widget("two", 2)).write("d/e/three.yaml", widget("three", 3)).commit("two");
    repo.git("mv", "a/b", "d/b");
    repo.write("d/e/three.yaml", widget("three", 4)).commit("three");
    try (Repository source = new FileRepositoryBuilder()
            .setGitDir(repo.dir().resolve(".git").toFile()).build();
        Repository empty = Git.init().setBare(true)
            .setDirectory(tmp.resolve("empty.git").toFile()).call().getRepository();
        ObjectReader reader = source.newObjectReader();
        RevWalk walk = new RevWalk(reader)) {
      walk.markStart(walk.parseCommit(source.resolve("HEAD")));
      List<RevCommit> commits = new ArrayList<>();
      walk.forEach(commits::add);
      Collections.reverse(commits);  // oldest first, as copyInto adds them
      LocalRepository.Missing missing = new LocalRepository.Missing(empty.getObjectDatabase(), 1_000);
      RevTree base = null;
      for (RevCommit c : commits) {
        assertThat(missing.add(reader, base, c.getTree())).isTrue();
        base = c.getTree();
      }

      // every tree of every commit once, each after every tree it names; every blob once
      assertThat(missing.trees).doesNotHaveDuplicates();
      assertThat(missing.blobs).doesNotHaveDuplicates().hasSize(5);
      for (int i = 0; i < missing.trees.size(); i++) {
        try (TreeWalk tw = new TreeWalk(reader)) {
          tw.addTree(missing.trees.get(i));
          while (tw.next()) {
            if (tw.isSubtree()) {
              assertThat(missing.trees.subList(0, i)).as("trees before %s", tw.getPathString())
                  .contains(tw.getObjectId(0));
            } else {
              assertThat(missing.blobs).contains(tw.getObjectId(0));
            }
          }
        }
      }
      for (RevCommit c : commits) {
        assertThat(missing.trees).contains(c.getTree());
      }
    }
  }

  /**
   * A branch is listed without reading its object ({@link LocalRepository#refs} peels tags only), so
   * a branch whose ref file names an annotated tag (git refuses to write one; a hand-written ref
   * file can) is advertised as the tag: it is still read as the tagged commit, when it first names
   * the tag and when it moves from a commit to a tag, which is then fetched with the tag rather than
   * copied without it.
   */
  @Test
  void aBranchThatNamesAnAnnotatedTagIsReadAsTheTaggedCommit() throws Exception {
    TestGitRepo repo = TestGitRepo.init(tmp.resolve("repo"));
    String one = repo.write("a.yaml", widget("a", 1)).commit("one");
    repo.git("tag", "-a", "-m", "first", "v1");
    repo.git("branch", "plain");
    Path release = repo.dir().resolve(".git/refs/heads/release");
    Files.writeString(release, repo.git("rev-parse", "refs/tags/v1").trim() + "\n");
    try (GitSource atTag = GitSource.builder().url(repo.dir().toString()).ref("release")
            .cacheDir(tmp.resolve("cache-release")).build();
        GitSource moving = GitSource.builder().url(repo.dir().toString()).ref("plain")
            .cacheDir(tmp.resolve("cache-plain")).build()) {
      State first = atTag.read(request);
      assertThat(first.revision()).isEqualTo("release@sha1:" + one);
      assertThat(value(first, "a")).isEqualTo(1);
      assertThat(moving.read(request).revision()).isEqualTo("plain@sha1:" + one);

      String two = repo.write("a.yaml", widget("a", 2)).commit("two");
      repo.git("tag", "-a", "-m", "second", "v2");
      String tag = repo.git("rev-parse", "refs/tags/v2").trim();
      Files.writeString(repo.dir().resolve(".git/refs/heads/plain"), tag + "\n");
      State moved = moving.read(request);

      assertThat(moved.revision()).isEqualTo("plain@sha1:" + two);
      assertThat(value(moved, "a")).isEqualTo(2);
      assertThat(git(repo, moving, "cat-file", "-t", tag).trim()).isEqualTo("tag");
      git(repo, moving, "fsck", "--connectivity-only", "--no-dangling");
    }
  }

  /**
   * A new process whose store expects the content of the commit the branch still names finds its
   * fingerprint without the cache: nothing of it is opened (here, a cache removed since is not made
   * again); a fingerprint expected of other content, or none, is resolved by reading the commit.
   */
  @Test
  void theExpectedFingerprintOfTheCommitTheBranchStillNamesIsFoundWithoutTheCache() throws Exception {
    TestGitRepo repo = TestGitRepo.init(tmp.resolve("repo"));
    String one = repo.write("a.yaml", widget("a", 1)).commit("one");
    repo.git("tag", "-a", "-m", "first", "v1");
    Path cache = tmp.resolve("cache");
    String expected;
    try (GitSource first = source(repo)) {
      first.read(request);
      expected = first.lastRead().orElseThrow().fingerprint();
    }
    deleteTree(cache);

    try (GitSource again = source(repo)) {
      Fingerprinted.Resolved found = again.fingerprint(request, expected).orElseThrow();
      assertThat(found.fingerprint()).isEqualTo(expected);
      assertThat(found.revision()).isEqualTo("main@sha1:" + one);
      assertThat(cache).as("the cache, not opened").doesNotExist();
    }
    try (GitSource tag = GitSource.builder().url(repo.dir().toString()).ref("v1").cacheDir(cache).build()) {
      Fingerprinted.Resolved read = tag.fingerprint(request).orElseThrow();
      assertThat(read.revision()).isEqualTo("v1@sha1:" + one);
      deleteTree(cache);
      try (GitSource tagAgain = GitSource.builder().url(repo.dir().toString()).ref("v1").cacheDir(cache).build()) {
        assertThat(tagAgain.fingerprint(request, read.fingerprint()).orElseThrow()).as("a tag, peeled").isEqualTo(read);
        assertThat(cache).doesNotExist();
      }
    }
    try (GitSource none = source(repo)) {
      assertThat(none.fingerprint(request, null).orElseThrow().fingerprint()).isEqualTo(expected);
      assertThat(cache).as("no fingerprint expected: the commit is read").exists();
    }
    String two = repo.write("a.yaml", widget("a", 2)).commit("two");
    try (GitSource moved = source(repo)) {
      Fingerprinted.Resolved found = moved.fingerprint(request, expected).orElseThrow();
      assertThat(found.revision()).isEqualTo("main@sha1:" + two);
      assertThat(found.fingerprint()).isNotEqualTo(expected).endsWith(":" + two);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    org.eclipse.jgit.util.FileUtils.delete(dir.toFile(), org.eclipse.jgit.util.FileUtils.RECURSIVE);
  }

  private GitSource source(TestGitRepo repo) {
    return GitSource.builder().url(repo.dir().toString()).ref("main").cacheDir(tmp.resolve("cache")).build();
  }

  private static String widget(String name, int x) {
    return "provider: m\ntype: t\nname: " + name + "\nspec: {x: " + x + "}\n";
  }

  private static int value(State state, String name) {
    return state.get(ResourceKey.of("m", "t", "", name)).orElseThrow().document().get("x").asInt();
  }

  private static long packs(GitSource source) throws IOException {
    try (Stream<Path> files = Files.list(source.repositoryDirectory().resolve("objects/pack"))) {
      return files.filter(f -> f.toString().endsWith(".pack")).count();
    }
  }

  /** Runs git on the source's cache repository. */
  private static String git(TestGitRepo repo, GitSource source, String... args) throws IOException {
    String[] all = new String[args.length + 1];
    all[0] = "--git-dir=" + source.repositoryDirectory();
    System.arraycopy(args, 0, all, 1, args.length);
    return repo.git(all);
  }
}
