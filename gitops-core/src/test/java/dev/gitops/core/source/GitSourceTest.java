package dev.gitops.core.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Cancellation;
import dev.gitops.api.DecodeException;
import dev.gitops.api.DuplicateResourceException;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SourceException;
import dev.gitops.api.State;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.Source;
import dev.gitops.core.decode.YamlManifestDecoder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GitSourceTest {

  @TempDir Path tmp;
  private Path served;
  private TestGitRepo repo;
  private GitDaemonServer daemon;
  private final List<GitSource> sources = new ArrayList<>();
  private final Decoder yaml = YamlManifestDecoder.builder().defaultProvider("memory").build();

  @BeforeEach
  void setUp() throws Exception {
    served = tmp.resolve("served");
    repo = TestGitRepo.init(served.resolve("repo"));
    daemon = GitDaemonServer.start(served);
  }

  @AfterEach
  void tearDown() throws Exception {
    sources.forEach(GitSource::close);
    daemon.close();
  }

  static String manifest(String name, String value) {
    return "type: widget\nname: " + name + "\nspec:\n  value: " + value + "\n";
  }

  private GitSource.Builder builder(String url) {
    return GitSource.builder().url(url).cacheDir(tmp.resolve("cache"));
  }

  private GitSource source(GitSource.Builder b) {
    GitSource s = b.build();
    sources.add(s);
    return s;
  }

  private State read(GitSource s) {
    return s.read(new Source.ReadRequest(null, List.of(yaml), new Cancellation()));
  }

  private State readPinned(GitSource s, String revision) {
    return s.read(new Source.ReadRequest(revision, List.of(yaml), new Cancellation()));
  }

  private static String value(State st, String name) {
    Resource r = st.get(ResourceKey.of("memory", "widget", "", name)).orElseThrow();
    return r == null ? null : r.document().get("value").asText();
  }

  @Test
  void readsOverGitDaemonWithoutCheckout() throws Exception {
    repo.write("apps/web.yaml", manifest("web", "0")).commit("older history, not fetched");
    repo.write("apps/web.yaml", manifest("web", "1")).write("apps/db.yml", manifest("db", "2"))
        .write("README.md", "not a manifest");
    String sha = repo.commit("init");
    GitSource s = source(builder(daemon.url("repo")).ref("main"));
    State st = read(s);
    assertThat(st.revision()).isEqualTo("main@sha1:" + sha);
    assertThat(st.unchanged()).isFalse();
    assertThat(value(st, "web")).isEqualTo("1");
    assertThat(value(st, "db")).isEqualTo("2");
    Resource web = st.get(ResourceKey.of("memory", "widget", "", "web")).orElseThrow();
    assertThat(web.origin().path()).isEqualTo("apps/web.yaml");
    assertThat(web.origin().line()).isEqualTo(1);
    assertThat(web.origin().revision()).isEqualTo(st.revision());
    // bare cache, no working tree
    assertThat(s.repositoryDirectory()).isNotNull();
    assertThat(s.repositoryDirectory().resolve("apps")).doesNotExist();
    assertThat(s.repositoryDirectory().resolve("shallow")).as("depth-1 fetch").exists();
  }

  @Test
  void readsOverSmartHttpWithBasicAuthAndSkipsFetchWhenUnchanged() throws Exception {
    repo.write("a.yaml", manifest("a", "1")).commit("one");
    try (GitHttpServer http = GitHttpServer.start(served, "alice", "s3cret-pw")) {
      GitSource s = source(builder(http.url("repo")).ref("main").credentials(Credentials.basic("alice", "s3cret-pw")));
      State first = read(s);
      assertThat(value(first, "a")).isEqualTo("1");
      int packs = http.fetchRequests();
      assertThat(packs).isPositive();

      State second = read(s);
      assertThat(second.unchanged()).isTrue();
      assertThat(second.resources()).isEqualTo(first.resources());
      assertThat(http.fetchRequests()).as("no fetch on the wire").isEqualTo(packs);
      assertThat(s.fetchCount()).isEqualTo(1);
      assertThat(s.decodeCount()).isEqualTo(1);

      String sha = repo.write("a.yaml", manifest("a", "2")).commit("two");
      State third = read(s);
      assertThat(third.unchanged()).isFalse();
      assertThat(third.historyRewritten()).isFalse();
      assertThat(third.revision()).isEqualTo("main@sha1:" + sha);
      assertThat(value(third, "a")).isEqualTo("2");
      assertThat(http.fetchRequests()).isGreaterThan(packs);
      assertThat(s.fetchCount()).isEqualTo(2);
    }
  }

  @Test
  void badCredentialsFailNamingUrlAndRefWithoutThePassword() throws Exception {
    repo.write("a.yaml", manifest("a", "1")).commit("one");
    try (GitHttpServer http = GitHttpServer.start(served, "alice", "right-pw")) {
      GitSource s = source(builder(http.url("repo")).ref("main").credentials(Credentials.basic("alice", "wrong-pw-123")));
      assertThatThrownBy(() -> read(s))
          .isInstanceOf(SourceException.class)
          .hasMessageContaining(http.url("repo"))
          .hasMessageContaining("ref main")
          .satisfies(e -> {
            for (Throwable t = e; t != null; t = t.getCause()) {
              assertThat(String.valueOf(t.getMessage())).doesNotContain("wrong-pw-123");
            }
          });
      GitSource anonymous = source(builder(http.url("repo")).ref("main"));
      assertThatThrownBy(() -> read(anonymous)).isInstanceOf(SourceException.class)
          .hasMessageContaining(http.url("repo"));
      assertThat(http.refusedRequests()).isPositive();
    }
  }

  @Test
  void aUrlWhosePasswordCannotBeReadIsRefusedUpFrontWithoutQuotingThePassword() {
    String secret = "S3cr3t-url-pw";
    for (String url : List.of(
        "ftp://alice:" + secret + "@127.0.0.1/x",                         // a scheme not supported
        "https://alice:" + secret + "%zz@127.0.0.1/x",                    // a '%' not encoded: no URL at all
        "http://alice:" + secret + "/x@127.0.0.1:9/git/repo",             // a '/' not encoded: JGit finds no host
        "http://alice:" + secret + "@127.0.0.1:9/git/repo\n")) {          // whitespace: read as a local path
      assertThatThrownBy(() -> GitSource.builder().url(url)).as(url)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("alice:***@")
          .satisfies(e -> {
            for (Throwable t = e; t != null; t = t.getCause()) {
              assertThat(String.valueOf(t.getMessage())).as(url).doesNotContain(secret);
            }
          });
    }
    assertThatThrownBy(() -> GitSource.builder().url("http://alice:" + secret + "/x@127.0.0.1:9/git/repo"))
        .hasMessageContaining("percent-encoded");
    assertThatThrownBy(() -> Credentials.originBound("https://alice:" + secret + "%zz@127.0.0.1/x", null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("alice:***@")
        .satisfies(e -> assertThat(e.getCause().getMessage()).doesNotContain(secret));
  }

  @Test
  void unreachableRemoteFailsNamingUrlAndRef() throws Exception {
    String url = "git://127.0.0.1:" + GitDaemonServer.freePort() + "/repo";
    GitSource s = source(builder(url).ref("main"));
    assertThatThrownBy(() -> read(s)).isInstanceOf(SourceException.class)
        .hasMessageContaining(url).hasMessageContaining("ref main");
  }

  @Test
  void unknownRefNamesTheRefAndWhatExists() throws Exception {
    repo.write("a.yaml", manifest("a", "1")).commit("one");
    GitSource s = source(builder(daemon.url("repo")).ref("nope"));
    assertThatThrownBy(() -> read(s)).isInstanceOf(SourceException.class)
        .hasMessageContaining("'nope'").hasMessageContaining(daemon.url("repo")).hasMessageContaining("main");
  }

  @Test
  void resolvesBranchTagCommitAndSemverRange() throws Exception {
    String c1 = repo.write("a.yaml", manifest("a", "1.0.0")).commit("1.0.0");
    repo.tag("v1.0.0");
    repo.write("a.yaml", manifest("a", "1.2.0")).commit("1.2.0");
    repo.tag("v1.2.0");
    repo.write("a.yaml", manifest("a", "1.3.1")).commit("1.3.1");
    repo.tag("v1.3.1");
    repo.write("a.yaml", manifest("a", "2.0.0-rc.1")).commit("rc");
    repo.tag("v2.0.0-rc.1");
    repo.write("a.yaml", manifest("a", "2.0.0")).commit("2.0.0");
    repo.tag("v2.0.0");
    repo.git("checkout", "-q", "-b", "feature");
    repo.write("a.yaml", manifest("a", "feature")).commit("feature");
    repo.git("checkout", "-q", "main");
    String url = daemon.url("repo");

    assertThat(value(read(source(builder(url).ref("main"))), "a")).isEqualTo("2.0.0");
    assertThat(value(read(source(builder(url).ref("feature"))), "a")).isEqualTo("feature");
    State tag = read(source(builder(url).ref("v1.2.0")));
    assertThat(value(tag, "a")).isEqualTo("1.2.0");
    assertThat(tag.revision()).startsWith("v1.2.0@sha1:");
    State commit = read(source(builder(url).ref(c1)));
    assertThat(value(commit, "a")).isEqualTo("1.0.0");
    assertThat(commit.revision()).isEqualTo(c1 + "@sha1:" + c1);
    State caret = read(source(builder(url).ref("^1.2")));
    assertThat(value(caret, "a")).isEqualTo("1.3.1");
    assertThat(caret.revision()).startsWith("v1.3.1@sha1:");
    assertThat(value(read(source(builder(url).ref(">=1.0 <1.3"))), "a")).isEqualTo("1.2.0");
    assertThat(value(read(source(builder(url).ref(">=2.0.0-0"))), "a")).isEqualTo("2.0.0");
    assertThat(value(read(source(builder(url).ref("~1.0"))), "a")).isEqualTo("1.0.0");
    assertThatThrownBy(() -> read(source(builder(url).ref("^3"))))
        .isInstanceOf(SourceException.class).hasMessageContaining("^3").hasMessageContaining("v2.0.0");
  }

  @Test
  void readsOnlyTheSubPathWithRelativePaths() throws Exception {
    repo.write("clusters/prod/web.yaml", manifest("web", "prod")).write("clusters/dev/web.yaml", manifest("web", "dev"))
        .write("top.yaml", manifest("top", "x"));
    String sha = repo.commit("init");
    State st = read(source(builder(daemon.url("repo")).ref("main").path("clusters/prod/")));
    assertThat(st.resources()).hasSize(1);
    assertThat(value(st, "web")).isEqualTo("prod");
    assertThat(st.get(ResourceKey.of("memory", "widget", "", "web")).orElseThrow().origin().path()).isEqualTo("web.yaml");

    GitSource missing = source(builder(daemon.url("repo")).ref("main").path("clusters/staging"));
    assertThatThrownBy(() -> read(missing)).isInstanceOf(SourceException.class)
        .hasMessageContaining("clusters/staging").hasMessageContaining(sha);
  }

  @Test
  void aSubPathSpeltTheWayFluxAndArgoCdSpellItReadsTheSameDirectory() throws Exception {
    repo.write("clusters/prod/web.yaml", manifest("web", "prod")).write("top.yaml", manifest("top", "x"));
    repo.commit("init");
    for (String dotted : List.of("./clusters/prod", "./clusters/prod/", "clusters//prod", "clusters/./prod")) {
      State st = read(source(builder(daemon.url("repo")).ref("main").path(dotted)));
      assertThat(st.resources()).as(dotted).hasSize(1);
      assertThat(st.get(ResourceKey.of("memory", "widget", "", "web")).orElseThrow().origin().path()).as(dotted)
          .isEqualTo("web.yaml");
    }
    for (String root : List.of(".", "./")) {
      assertThat(read(source(builder(daemon.url("repo")).ref("main").path(root))).resources()).as(root).hasSize(2);
    }
    assertThatThrownBy(() -> GitSource.builder().path("./a/..")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'./a/..'");
    assertThatThrownBy(() -> GitSource.builder().path("a\\b")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("backslash");
  }

  @Test
  void aSubPathIsReadAsGivenWithTheSpacesAroundItAndOneNotThereIsQuoted() throws Exception {
    repo.write("apps/x.yaml", manifest("plain", "1")).write("apps /y.yaml", manifest("spaced", "2"));
    String sha = repo.commit("init");
    for (String spaced : List.of("apps ", "./apps /")) {
      State st = read(source(builder(daemon.url("repo")).ref("main").path(spaced)));
      assertThat(st.resources().keySet()).as(spaced).extracting(ResourceKey::name).containsExactly("spaced");
    }
    assertThat(read(source(builder(daemon.url("repo")).ref("main").path("apps"))).resources().keySet())
        .extracting(ResourceKey::name).containsExactly("plain");
    assertThatThrownBy(() -> read(source(builder(daemon.url("repo")).ref("main").path(" apps"))))
        .isInstanceOf(SourceException.class).hasMessageStartingWith("path ' apps' does not exist at main@sha1:" + sha);
  }

  @Test
  void subPathEscapesAreRefusedUpFront() {
    assertThatThrownBy(() -> GitSource.builder().path("../etc")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("../etc");
    assertThatThrownBy(() -> GitSource.builder().path("a/../../b")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> GitSource.builder().path("/abs")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("/abs");
  }

  @Test
  void gitopsIgnoreFilesExcludeFilesAtEveryLevel() throws Exception {
    repo.write("deploy/.gitopsignore", "drafts/\n*.local.yaml\n")
        .write("deploy/a.yaml", manifest("a", "1"))
        .write("deploy/a.local.yaml", manifest("a-local", "1"))
        .write("deploy/drafts/d.yaml", "this: [is not valid")
        .write("deploy/sub/.gitopsignore", "skip.yaml\n!keep.local.yaml\n")
        .write("deploy/sub/skip.yaml", manifest("skip", "1"))
        .write("deploy/sub/keep.local.yaml", manifest("keep", "1"))
        .write("deploy/sub/b.yaml", manifest("b", "1"))
        .write("deploy/sub/other.local.yaml", manifest("other", "1"));
    repo.commit("init");
    State st = read(source(builder(daemon.url("repo")).ref("main").path("deploy")));
    assertThat(st.resources().keySet()).extracting(ResourceKey::name).containsExactlyInAnyOrder("a", "b", "keep");
  }

  @Test
  void forcePushIsFlaggedAndNewContentRead() throws Exception {
    repo.write("a.yaml", manifest("a", "1")).commit("one");
    repo.write("a.yaml", manifest("a", "2")).commit("two");
    GitSource s = source(builder(daemon.url("repo")).ref("main"));
    assertThat(value(read(s), "a")).isEqualTo("2");
    repo.git("reset", "-q", "--hard", "HEAD~1");
    String rewritten = repo.write("a.yaml", manifest("a", "3")).commit("rewritten");
    State st = read(s);
    assertThat(st.historyRewritten()).isTrue();
    assertThat(st.revision()).isEqualTo("main@sha1:" + rewritten);
    assertThat(value(st, "a")).isEqualTo("3");
    // a normal commit on top is not flagged
    repo.write("a.yaml", manifest("a", "4")).commit("four");
    State next = read(s);
    assertThat(next.historyRewritten()).isFalse();
    assertThat(value(next, "a")).isEqualTo("4");
  }

  @Test
  void changingOneFileReDecodesOnlyThatFile() throws Exception {
    repo.write("a.yaml", manifest("a", "1")).write("b.yaml", manifest("b", "1")).write("c/c.yaml", manifest("c", "1"));
    repo.commit("init");
    GitSource s = source(builder(daemon.url("repo")).ref("main"));
    read(s);
    assertThat(s.decodeCount()).isEqualTo(3);
    String sha = repo.write("b.yaml", manifest("b", "2")).commit("b");
    State st = read(s);
    assertThat(s.decodeCount()).isEqualTo(4);
    assertThat(value(st, "b")).isEqualTo("2");
    // resources reused from the cache carry the new revision
    assertThat(st.get(ResourceKey.of("memory", "widget", "", "a")).orElseThrow().origin().revision()).isEqualTo("main@sha1:" + sha);
  }

  /** A decoder that reads every {@code *.part} file at once: one resource listing them all. */
  static final class TogetherDecoder implements Decoder {
    final List<List<String>> calls = new ArrayList<>();

    @Override
    public boolean claims(String path) {
      return path.endsWith(".part");
    }

    @Override
    public boolean decodesTogether() {
      return true;
    }

    @Override
    public List<Resource> decode(dev.gitops.api.spi.SourceFile file) {
      throw new AssertionError("decode() called for " + file.path() + " on a decoder that reads files together");
    }

    @Override
    public List<Resource> decodeTogether(List<dev.gitops.api.spi.SourceFile> files) {
      calls.add(files.stream().map(dev.gitops.api.spi.SourceFile::path).toList());
      var doc = dev.gitops.api.Documents.nodes().objectNode();
      files.forEach(f -> doc.put(f.path(), f.text()));
      return List.of(Resource.of(ResourceKey.of("memory", "whole", "", "all"), doc));
    }
  }

  @Test
  void aDecoderThatReadsFilesTogetherGetsEveryClaimedFileOnceAndAgainWhenAnyChanges() throws Exception {
    repo.write("b.part", "B1").write("a/x.part", "X1").write("a.yaml", manifest("a", "1")).commit("init");
    GitSource s = source(builder(daemon.url("repo")).ref("main"));
    TogetherDecoder together = new TogetherDecoder();
    Source.ReadRequest request = new Source.ReadRequest(null, List.of(together, yaml), new Cancellation());
    State first = s.read(request);
    assertThat(together.calls).containsExactly(List.of("a/x.part", "b.part"));
    assertThat(first.get(ResourceKey.of("memory", "whole", "", "all")).orElseThrow().document().get("b.part").asText()).isEqualTo("B1");
    assertThat(value(first, "a")).isEqualTo("1");

    // a commit that touches only another decoder's file reuses the decoded whole
    repo.write("a.yaml", manifest("a", "2")).commit("a");
    State second = s.read(request);
    assertThat(together.calls).hasSize(1);
    assertThat(second.get(ResourceKey.of("memory", "whole", "", "all"))).isNotNull();

    // any one claimed file changing decodes the whole set again
    repo.write("a/x.part", "X2").commit("x");
    State third = s.read(request);
    assertThat(together.calls).hasSize(2).last().isEqualTo(List.of("a/x.part", "b.part"));
    assertThat(third.get(ResourceKey.of("memory", "whole", "", "all")).orElseThrow().document().get("a/x.part").asText()).isEqualTo("X2");
  }

  @Test
  void symlinksAnywhereUnderThePathAreRefused() throws Exception {
    repo.write("deploy/a.yaml", manifest("a", "1")).symlink("deploy/nested/escape.yaml", "../../../etc/passwd");
    String sha = repo.commit("link");
    GitSource s = source(builder(daemon.url("repo")).ref("main").path("deploy"));
    assertThatThrownBy(() -> read(s)).isInstanceOf(SourceException.class)
        .hasMessageContaining("deploy/nested/escape.yaml").hasMessageContaining(sha)
        .hasMessageContaining(daemon.url("repo")).hasMessageContaining("symlinks are not followed");
    repo.git("rm", "-q", "-r", "deploy/nested");
    repo.symlink("linked", "deploy").commit("dir link");
    assertThatThrownBy(() -> read(source(builder(daemon.url("repo")).ref("main").path("linked"))))
        .isInstanceOf(SourceException.class).hasMessageContaining("linked").hasMessageContaining(daemon.url("repo"))
        .hasMessageContaining("symlinks are not followed");
  }

  @Test
  void submodulesAreRefused() throws Exception {
    String first = repo.write("a.yaml", manifest("a", "1")).commit("one");
    repo.git("update-index", "--add", "--cacheinfo", "160000," + first + ",vendor/lib");
    repo.git("commit", "-q", "-m", "gitlink");
    assertThatThrownBy(() -> read(source(builder(daemon.url("repo")).ref("main"))))
        .isInstanceOf(SourceException.class).hasMessageContaining("vendor/lib").hasMessageContaining("submodule")
        .hasMessageContaining(daemon.url("repo")).hasMessageContaining("main@sha1:");
  }

  @Test
  void aSymlinkOrSubmoduleTheIgnoreFileExcludesIsLeftOutAndTheRestRead() throws Exception {
    String first = repo.write("a.yaml", manifest("a", "1")).commit("one");
    repo.write(".gitopsignore", "/vendor/\nREADME.md\ncharts/*/values.yaml\n")
        .symlink("README.md", "docs/README.md").symlink("escape.yaml", "/etc/passwd")
        .symlink("charts/web/values.yaml", "../../../../etc/shadow").write("charts/web/b.yaml", manifest("b", "2"));
    // an empty directory is how git leaves a submodule that is not checked out: 'add -A' keeps the gitlink
    java.nio.file.Files.createDirectories(repo.dir().resolve("vendor/lib"));
    repo.git("update-index", "--add", "--cacheinfo", "160000," + first + ",vendor/lib");
    repo.commit("links");
    assertThat(repo.git("ls-tree", "-r", "HEAD")).contains("160000 commit " + first + "\tvendor/lib");
    GitSource s = source(builder(daemon.url("repo")).ref("main"));
    // a link the ignore file does not exclude is still refused, and the message says how to exclude it
    assertThatThrownBy(() -> read(s)).isInstanceOf(SourceException.class).hasMessageContaining("escape.yaml at ")
        .hasMessageContaining("symlinks are not followed").hasMessageContaining("exclude it in .gitopsignore");

    repo.write(".gitopsignore", "/vendor/\nREADME.md\ncharts/*/values.yaml\nescape.yaml\n").commit("exclude");
    State st = read(s);
    assertThat(value(st, "a")).isEqualTo("1");
    assertThat(value(st, "b")).isEqualTo("2");
    assertThat(st.resources()).hasSize(2);

    // a submodule nobody excludes is refused naming how to exclude it
    repo.write(".gitopsignore", "README.md\ncharts/*/values.yaml\nescape.yaml\n").commit("vendor back");
    assertThatThrownBy(() -> read(s)).isInstanceOf(SourceException.class).hasMessageContaining("vendor/lib at ")
        .hasMessageContaining("submodule").hasMessageContaining("exclude it in .gitopsignore");
  }

  @Test
  void aRepositoryConfigThatIsASymlinkIsRefusedEvenWhenExcluded() throws Exception {
    repo.write("a.yaml", manifest("a", "1")).write(".gitopsignore", ".gitops.yaml\n").symlink(".gitops.yaml", "a.yaml")
        .commit("config link");
    assertThatThrownBy(() -> read(source(builder(daemon.url("repo")).ref("main")))).isInstanceOf(SourceException.class)
        .hasMessageContaining(".gitops.yaml at ").hasMessageContaining("symbolic link");
  }

  /**
   * Commits on main a tree holding a.yaml and a file at {@code path} (each segment a directory but
   * the last), written with JGit's inserter: git itself refuses to build such trees.
   */
  private String commitCrafted(String path, String content) throws Exception {
    try (org.eclipse.jgit.lib.Repository r = new org.eclipse.jgit.storage.file.FileRepositoryBuilder()
        .setGitDir(repo.dir().resolve(".git").toFile()).build();
        org.eclipse.jgit.lib.ObjectInserter ins = r.newObjectInserter()) {
      String[] parts = path.split("/");
      org.eclipse.jgit.lib.ObjectId id = ins.insert(org.eclipse.jgit.lib.Constants.OBJ_BLOB,
          content.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      org.eclipse.jgit.lib.FileMode mode = org.eclipse.jgit.lib.FileMode.EXECUTABLE_FILE;
      for (int i = parts.length - 1; i >= 1; i--) {
        org.eclipse.jgit.lib.TreeFormatter t = new org.eclipse.jgit.lib.TreeFormatter();
        t.append(parts[i], mode, id);
        id = ins.insert(t);
        mode = org.eclipse.jgit.lib.FileMode.TREE;
      }
      org.eclipse.jgit.lib.ObjectId yaml = ins.insert(org.eclipse.jgit.lib.Constants.OBJ_BLOB,
          manifest("a", "1").getBytes(java.nio.charset.StandardCharsets.UTF_8));
      org.eclipse.jgit.lib.TreeFormatter root = new org.eclipse.jgit.lib.TreeFormatter();
      // git's order: names compared as bytes, a tree's as if it ended in '/'
      String sortKey = parts[0] + (parts.length > 1 ? "/" : "");
      if (sortKey.compareTo("a.yaml") < 0) {
        root.append(parts[0], mode, id);
        root.append("a.yaml", org.eclipse.jgit.lib.FileMode.REGULAR_FILE, yaml);
      } else {
        root.append("a.yaml", org.eclipse.jgit.lib.FileMode.REGULAR_FILE, yaml);
        root.append(parts[0], mode, id);
      }
      return commitOnMain(r, ins, ins.insert(root), null, "crafted " + path);
    }
  }

  /** Commits {@code tree} on main (after {@code parent}, when given) and moves main there. */
  private static String commitOnMain(org.eclipse.jgit.lib.Repository r, org.eclipse.jgit.lib.ObjectInserter ins,
      org.eclipse.jgit.lib.ObjectId tree, org.eclipse.jgit.lib.ObjectId parent, String message) throws Exception {
    org.eclipse.jgit.lib.CommitBuilder c = new org.eclipse.jgit.lib.CommitBuilder();
    c.setTreeId(tree);
    if (parent != null) {
      c.setParentId(parent);
    }
    org.eclipse.jgit.lib.PersonIdent who = new org.eclipse.jgit.lib.PersonIdent("t", "t@example.com");
    c.setAuthor(who);
    c.setCommitter(who);
    c.setMessage(message);
    org.eclipse.jgit.lib.ObjectId commit = ins.insert(c);
    ins.flush();
    org.eclipse.jgit.lib.RefUpdate u = r.updateRef("refs/heads/main");
    u.setNewObjectId(commit);
    u.setForceUpdate(true);
    u.update();
    return commit.name();
  }

  @Test
  void pathsThroughAGitDirectoryAreRefusedOverEveryTransport() throws Exception {
    repo.write("a.yaml", manifest("a", "0")).commit("init");
    // each crafted path, and the entry the refusal names (the first named like .git)
    Map<String, String> crafted = new java.util.LinkedHashMap<>();
    crafted.put(".git/hooks/post-commit", ".git");
    crafted.put("sub/.GIT/config", "sub/.GIT");
    crafted.put(".git", ".git");
    crafted.put("sub/.git. /hooks/x", "sub/.git. ");
    crafted.put("sub/git~1/config", "sub/git~1");
    crafted.put("sub/.gi\u200ct/config", "sub/.gi\u200ct");
    for (Map.Entry<String, String> c : crafted.entrySet()) {
      String sha = commitCrafted(c.getKey(), "#!/bin/sh\necho pwned\n");
      for (String url : List.of(daemon.url("repo"), repo.dir().toString())) {
        GitSource s = source(GitSource.builder().url(url).ref("main").cacheDir(tmp.resolve("c-" + sources.size())));
        assertThatThrownBy(() -> read(s)).as("%s over %s", c.getKey(), url).isInstanceOf(SourceException.class)
            .hasMessageContaining(c.getValue() + " at main@sha1:" + sha).hasMessageContaining(url)
            .hasMessageContaining("Git directory");
      }
    }
  }

  @Test
  void aTreeNestedDeeperThanGitAllowsIsRefusedNamingItRatherThanOverflowingTheStack() throws Throwable {
    repo.write("a.yaml", manifest("a", "0")).commit("init");
    // git's own limit (core.maxTreeDepth) is read, on a thread with a small stack (an agent's pool)
    commitCrafted("d/".repeat(TreeDecoder.MAX_DEPTH) + "deep.yaml", manifest("deep", "1"));
    GitSource atLimit = source(GitSource.builder().url(repo.dir().toString()).ref("main").cacheDir(tmp.resolve("c1")));
    assertThat(value(onSmallStack(() -> read(atLimit)), "deep")).isEqualTo("1");

    GitSource s = source(GitSource.builder().url(repo.dir().toString()).ref("main").cacheDir(tmp.resolve("c2")));
    Source.ReadRequest request = new Source.ReadRequest(null, List.of(yaml), new Cancellation());
    State before = s.read(request);
    String fingerprint = s.lastRead().orElseThrow().fingerprint();
    String sha = commitCrafted("d/".repeat(5_000) + "deep.yaml", manifest("deep", "2"));
    assertThat(s.readSince(request, fingerprint, before.resources().values()))
        .as("the read since the last one leaves the depth to the full read").isEmpty();
    assertThatThrownBy(() -> onSmallStack(() -> read(s))).isInstanceOf(SourceException.class)
        .hasMessageContaining("at main@sha1:" + sha).hasMessageContaining(repo.dir().toString())
        .hasMessageContaining("more than " + TreeDecoder.MAX_DEPTH + " directories deep");
  }

  /** What {@code read} returns on a thread with a 512 KiB stack; what it throws is rethrown. */
  private static State onSmallStack(java.util.function.Supplier<State> read) throws Throwable {
    State[] out = new State[1];
    Throwable[] failed = new Throwable[1];
    Thread t = new Thread(null, () -> {
      try {
        out[0] = read.get();
      } catch (Throwable e) {
        failed[0] = e;
      }
    }, "small-stack", 512 * 1024);
    t.start();
    t.join();
    if (failed[0] != null) {
      throw failed[0];
    }
    return out[0];
  }

  @Test
  void everyReadTellsTheDecodersTheWholeTreeSoAFileGoneFromItIsNotDeclaredStill() throws Exception {
    // a decoder is handed only the files that changed: the one removed and the one not decoded
    // again (cached) are news only through treeRead
    List<List<String>> told = new java.util.concurrent.CopyOnWriteArrayList<>();
    Decoder recording = new Decoder() {
      public boolean claims(String path) {
        return yaml.claims(path);
      }

      public List<Resource> decode(dev.gitops.api.spi.SourceFile f) {
        return yaml.decode(f);
      }

      public String fingerprint() {
        return yaml.fingerprint();
      }

      public void treeRead(List<Resource> resources) {
        told.add(resources.stream().map(r -> r.key().name() + "@" + r.origin().path()).sorted().toList());
      }
    };
    Source.ReadRequest request = new Source.ReadRequest(null, List.of(recording), new Cancellation());
    repo.write("a.yaml", manifest("a", "0")).write("b.yaml", manifest("b", "1")).commit("init");
    GitSource s = source(builder(repo.dir().toString()).ref("main"));
    State before = s.read(request);
    String fingerprint = s.lastRead().orElseThrow().fingerprint();
    assertThat(told).containsExactly(List.of("a@a.yaml", "b@b.yaml"));

    repo.delete("b.yaml").commit("b removed");
    s.read(request);
    assertThat(told).hasSize(2).last().isEqualTo(List.of("a@a.yaml"));
    read(s);  // the state of the last read again: nothing decoded, nothing new to tell
    assertThat(told).hasSize(2);

    // a process started since reads only the files changed since the store's records
    GitSource fresh = source(builder(repo.dir().toString()).ref("main"));  // its cache holds the earlier commit
    assertThat(fresh.fingerprint(request)).isPresent();
    assertThat(fresh.readSince(request, fingerprint, before.resources().values())).isPresent();
    assertThat(told).hasSize(3).last().isEqualTo(List.of("a@a.yaml"));
  }

  @Test
  void aNameThatIsNotUtf8IsRefusedNamingItsBytesOnAFullReadAndAReadSinceTheLast() throws Exception {
    repo.write("a.yaml", manifest("a", "0")).commit("init");
    GitSource s = source(builder(daemon.url("repo")).ref("main"));
    Source.ReadRequest request = new Source.ReadRequest(null, List.of(yaml), new Cancellation());
    State before = s.read(request);
    String fingerprint = s.lastRead().orElseThrow().fingerprint();
    // 'café.yaml' in Latin-1 (0xE9) beside the same name in UTF-8: JGit reads the first as Latin-1,
    // so both would be one 'café.yaml' and the last would silently win
    java.nio.charset.Charset latin1 = java.nio.charset.StandardCharsets.ISO_8859_1;
    java.nio.charset.Charset utf8 = java.nio.charset.StandardCharsets.UTF_8;
    Map<byte[], String> files = new java.util.LinkedHashMap<>();
    files.put("a.yaml".getBytes(utf8), manifest("a", "0"));
    files.put("caf\u00e9.yaml".getBytes(utf8), manifest("c", "2"));
    files.put("caf\u00e9.yaml".getBytes(latin1), manifest("b", "1"));
    String sha = commitRawNames(files);

    assertThat(s.readSince(request, fingerprint, before.resources().values()))
        .as("the read since the last one leaves the name to the full read").isEmpty();
    assertThatThrownBy(() -> s.read(request)).isInstanceOf(SourceException.class)
        .hasMessageContaining("caf\\xE9.yaml at main@sha1:" + sha).hasMessageContaining(daemon.url("repo"))
        .hasMessageContaining("not valid UTF-8");

    // a file no decoder reads, and one the ignore file excludes, only name themselves
    files.clear();
    files.put(".gitopsignore".getBytes(utf8), "old\u00e9*\n");
    files.put("a.yaml".getBytes(utf8), manifest("a", "1"));
    files.put("caf\u00e9.md".getBytes(latin1), "notes\n");
    files.put("old\u00e9.yaml".getBytes(latin1), manifest("old", "1"));
    commitRawNames(files);
    assertThat(value(s.read(request), "a")).isEqualTo("1");
  }

  @Test
  void anEntryNamedWithASlashOrDotsIsRefusedBeforeTheIgnoreRulesOverEveryTransport() throws Exception {
    repo.write("a.yaml", manifest("a", "0")).commit("init");
    Map<String, String> refusals = Map.of("secret/key.yaml", "holds a '/' in its name (git fsck: fullPathname)",
        "..", "is named '..' (git fsck: hasDotdot)", ".", "is named '.' (git fsck: hasDot)");
    for (Map.Entry<String, String> bad : refusals.entrySet()) {
      Map<byte[], String> files = new java.util.TreeMap<>(java.util.Arrays::compareUnsigned);
      files.put(".gitopsignore".getBytes(java.nio.charset.StandardCharsets.UTF_8), "secret/\n..\n.\n");
      files.put("ok.yaml".getBytes(java.nio.charset.StandardCharsets.UTF_8), manifest("ok", "1"));
      files.put(bad.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8), manifest("leaked", "x"));
      String sha = commitRawNames(files);
      for (String url : List.of(daemon.url("repo"), repo.dir().toString())) {
        GitSource s = source(builder(url).ref("main").cacheDir(tmp.resolve("c" + url.hashCode() + bad.getKey().length())));
        assertThatThrownBy(() -> read(s)).as(bad.getKey() + " over " + url).isInstanceOf(SourceException.class)
            .hasMessage("the tree entry '" + bad.getKey() + "' in the root at main@sha1:" + sha + " in " + url + " "
                + bad.getValue() + "; Git refuses such entries and they are never read (remove it from the repository)");
      }
    }
  }

  /** Commits on main a tree of files named by {@code files}' raw bytes (given in Git's byte order). */
  private String commitRawNames(Map<byte[], String> files) throws Exception {
    try (org.eclipse.jgit.lib.Repository r = new org.eclipse.jgit.storage.file.FileRepositoryBuilder()
        .setGitDir(repo.dir().resolve(".git").toFile()).build();
        org.eclipse.jgit.lib.ObjectInserter ins = r.newObjectInserter()) {
      org.eclipse.jgit.lib.TreeFormatter root = new org.eclipse.jgit.lib.TreeFormatter();
      for (Map.Entry<byte[], String> f : files.entrySet()) {
        root.append(f.getKey(), 0, f.getKey().length, org.eclipse.jgit.lib.FileMode.REGULAR_FILE, ins.insert(
            org.eclipse.jgit.lib.Constants.OBJ_BLOB, f.getValue().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      }
      return commitOnMain(r, ins, ins.insert(root), r.resolve("refs/heads/main"), "raw names");
    }
  }

  @Test
  void duplicateResourcesAcrossFilesNameBothOrigins() throws Exception {
    repo.write("one.yaml", manifest("web", "1")).write("two.yaml", "# second\n" + manifest("web", "2")).commit("dup");
    GitSource s = source(builder(daemon.url("repo")).ref("main"));
    assertThatThrownBy(() -> read(s)).isInstanceOf(DuplicateResourceException.class)
        .hasMessageContaining("one.yaml:1").hasMessageContaining("two.yaml:2");
  }

  @Test
  void filesOverTheSizeLimitAreRefusedNamingFileAndSize() throws Exception {
    repo.write("big.yaml", manifest("big", "x".repeat(2000))).commit("big");
    GitSource s = source(builder(daemon.url("repo")).ref("main").maxFileSize(1000));
    assertThatThrownBy(() -> read(s)).isInstanceOf(DecodeException.class)
        .hasMessageContaining("big.yaml").hasMessageContaining("bytes").hasMessageContaining("1000")
        .hasMessageContaining(daemon.url("repo")).hasMessageContaining(".gitopsignore")
        // every place the limit is raised: the CLI's flag, the agent's field, the builder
        .hasMessageContaining("(--max-file-size, the agent's source.maxFileSize, GitSource.Builder.maxFileSize)");
  }

  @Test
  void pinnedRevisionReadsThatCommit() throws Exception {
    String old = repo.write("a.yaml", manifest("a", "old")).commit("old");
    repo.write("a.yaml", manifest("a", "new")).commit("new");
    GitSource s = source(builder(daemon.url("repo")).ref("main"));
    assertThat(value(read(s), "a")).isEqualTo("new");
    State pinned = readPinned(s, "main@sha1:" + old);
    assertThat(pinned.revision()).isEqualTo("main@sha1:" + old);
    assertThat(value(pinned, "a")).isEqualTo("old");
    assertThat(pinned.historyRewritten()).isFalse();
    GitSource fresh = source(GitSource.builder().url(daemon.url("repo")).ref("main").cacheDir(tmp.resolve("cache2")));
    assertThat(value(readPinned(fresh, old), "a")).isEqualTo("old");
    assertThatThrownBy(() -> readPinned(fresh, "yesterday")).isInstanceOf(SourceException.class)
        .hasMessageContaining("yesterday");
  }

  @Test
  void readsALocalPathAndDetectsNewCommits() throws Exception {
    repo.write("a.yaml", manifest("a", "1")).commit("one");
    GitSource s = source(builder(repo.dir().toString()).ref("main"));
    assertThat(value(read(s), "a")).isEqualTo("1");
    assertThat(read(s).unchanged()).isTrue();
    repo.write("a.yaml", manifest("a", "2")).commit("two");
    State st = read(s);
    assertThat(st.unchanged()).isFalse();
    assertThat(value(st, "a")).isEqualTo("2");
  }

  @Test
  void substitutesVariablesWhenEnabled() throws Exception {
    repo.write("a.yaml", "type: widget\nname: a\nspec:\n  value: ${ENV}\n").commit("vars");
    State st = read(source(builder(daemon.url("repo")).ref("main").substitution(true).variables(Map.of("ENV", "prod"))));
    assertThat(value(st, "a")).isEqualTo("prod");
    State off = read(source(GitSource.builder().url(daemon.url("repo")).ref("main").cacheDir(tmp.resolve("c3"))));
    assertThat(value(off, "a")).isEqualTo("${ENV}");
    GitSource unknown = source(GitSource.builder().url(daemon.url("repo")).ref("main").cacheDir(tmp.resolve("c4"))
        .substitution(true).variables(Map.of("OTHER", "x")));
    assertThatThrownBy(() -> read(unknown)).isInstanceOf(DecodeException.class)
        .hasMessageContaining("a.yaml:4").hasMessageContaining("${ENV}");
  }

  @Test
  void changedDecoderSettingsReadAgainForTheSameCommit() throws Exception {
    repo.write("a.yaml", "type: widget\nname: a\nspec: {value: 1}\n").commit("one");
    GitSource s = source(builder(daemon.url("repo")).ref("main"));
    State first = read(s);
    Decoder other = YamlManifestDecoder.builder().defaultProvider("other").build();
    State second = s.read(new Source.ReadRequest(null, List.of(other), new Cancellation()));
    assertThat(second.unchanged()).isFalse();
    assertThat(second.get(ResourceKey.of("other", "widget", "", "a"))).isPresent();
    assertThat(s.fetchCount()).as("the commit is in the cache already").isEqualTo(1);
    assertThat(first.resources()).containsKey(ResourceKey.of("memory", "widget", "", "a"));
  }

  @Test
  void unclaimedFilesAreNotDecodedAndFirstClaimWins() throws Exception {
    repo.write("a.yaml", manifest("a", "1")).write("b.txt", "whatever").commit("one");
    List<String> seen = new ArrayList<>();
    Decoder txt = new Decoder() {
      @Override
      public boolean claims(String path) {
        return path.endsWith(".txt") || path.equals("a.yaml");
      }

      @Override
      public List<Resource> decode(dev.gitops.api.spi.SourceFile file) {
        seen.add(file.path());
        return List.of(Resource.of(ResourceKey.of("txt", "file", "", file.path()), dev.gitops.api.Documents.emptyObject()));
      }
    };
    State st = source(builder(daemon.url("repo")).ref("main"))
        .read(new Source.ReadRequest(null, List.of(txt, yaml), new Cancellation()));
    assertThat(seen).containsExactly("a.yaml", "b.txt");
    assertThat(st.resources()).hasSize(2);
  }

  @Test
  void cancelledReadStops() throws Exception {
    repo.write("a.yaml", manifest("a", "1")).commit("one");
    Cancellation c = new Cancellation();
    c.cancel("test");
    GitSource s = source(builder(daemon.url("repo")).ref("main"));
    assertThatThrownBy(() -> s.read(new Source.ReadRequest(null, List.of(yaml), c)))
        .isInstanceOf(Cancellation.CancelledException.class);
    assertThat(s.fetchCount()).isZero();
  }


  @Test
  void theTreeWalksCacheKeysCompareEveryPart() throws ClassNotFoundException {
    // their equals and hashCode are written out (a record's generated ones are linked at their first
    // call): a component added to one must be added to both, or the cache would answer for another file
    assertThat(Class.forName("dev.gitops.core.source.TreeDecoder$CacheKey").getRecordComponents()).hasSize(4);
    assertThat(Class.forName("dev.gitops.core.source.TreeDecoder$SubtreeKey").getRecordComponents()).hasSize(4);
  }
}
