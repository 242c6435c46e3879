package dev.gitops.core.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Cancellation;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.Source;
import dev.gitops.api.spi.SourceFile;
import dev.gitops.core.LogCapture;
import dev.gitops.core.decode.DocumentMapping;
import dev.gitops.core.decode.YamlManifestDecoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.eclipse.jgit.util.FileUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Decoders given per path glob, files no decoder reads, and the temporary clone's lifetime. */
class GitSourceDecodersTest {

  @TempDir Path tmp;
  private final Decoder generic = YamlManifestDecoder.builder().defaultProvider("memory").build();
  private final DocumentMapping setting = DocumentMapping.when("/kind", "Setting")
      .provider("db").type("setting").nameFrom("/name").without("/kind", "/name").build();
  private final Decoder settings = YamlManifestDecoder.builder().map(setting).build();
  /** Settings and, for other documents, the generic format. */
  private final Decoder both = YamlManifestDecoder.builder().defaultProvider("memory").map(setting).build();

  private static State read(GitSource s, Decoder... providerDecoders) {
    return s.read(new Source.ReadRequest(null, List.of(providerDecoders), new Cancellation()));
  }

  private TestGitRepo repo() throws Exception {
    TestGitRepo repo = TestGitRepo.init(tmp.resolve("repo"));
    repo.write("settings/eu/shop.yaml", "kind: Setting\nname: timeout\nvalue: 30s\n")
        .write("apps/web.yaml", "type: widget\nname: web\nspec: {replicas: 2}\n")
        .commit("init");
    return repo;
  }

  @Test
  void globDecodersAreTriedBeforeTheDecodersOfTheRequest() throws Exception {
    TestGitRepo repo = repo();
    try (GitSource s = GitSource.builder().url(repo.dir().toString()).ref("main").cacheDir(tmp.resolve("cache"))
        .decoder("settings/**/*.yaml", settings).build()) {
      State st = read(s, generic);
      assertThat(st.resources()).containsOnlyKeys(ResourceKey.of("db", "setting", "timeout"),
          ResourceKey.of("memory", "widget", "web"));
      assertThat(st.get(ResourceKey.of("db", "setting", "timeout")).orElseThrow().origin().path()).isEqualTo("settings/eu/shop.yaml");
    }
    try (GitSource s = GitSource.builder().url(repo.dir().toString()).ref("main").cacheDir(tmp.resolve("cache2")).build()) {
      assertThatThrownBy(() -> read(s, generic)).as("without the glob decoder the generic format refuses the setting")
          .hasMessageContaining("settings/eu/shop.yaml:1").hasMessageContaining("unknown field 'kind'");
    }
  }

  @Test
  void aGlobDecoderReadsFilesItsDecoderWouldNotClaim() throws Exception {
    TestGitRepo repo = TestGitRepo.init(tmp.resolve("repo"));
    repo.write("conf/app.conf", "type: widget\nname: conf\n").commit("init");
    try (GitSource s = GitSource.builder().url(repo.dir().toString()).ref("main").cacheDir(tmp.resolve("cache"))
        .decoder("conf/*.conf", generic).build()) {
      assertThat(read(s).resources()).containsOnlyKeys(ResourceKey.of("memory", "widget", "conf"));
    }
    assertThatThrownBy(() -> GitSource.builder().decoder("*.{a,b", generic)).hasMessageContaining("*.{a,b");
  }

  @Test
  void filesNoDecoderReadsAreReportedAtInfoWithTheirCountAndAHint() throws Exception {
    TestGitRepo repo = repo();
    repo.write("README.md", "# desired state").write("docs/notes.txt", "x").write("skip.txt", "y")
        .write(".gitopsignore", "skip.txt\n").commit("docs");
    try (GitSource s = GitSource.builder().url(repo.dir().toString()).ref("main").cacheDir(tmp.resolve("cache")).build();
        LogCapture logs = LogCapture.of(GitSource.class, "INFO")) {
      read(s, both);
      List<String> unread = logs.lines().stream().filter(l -> l.contains("read by no decoder")).toList();
      assertThat(unread).hasSize(1);
      assertThat(unread.get(0)).startsWith("INFO ").contains("2 files at main@sha1:")
          .contains("README.md").contains("docs/notes.txt").doesNotContain("skip.txt")
          .contains("GitSource.builder().decoder(glob, decoder)").contains(".gitopsignore");
    }
    Decoder documentation = new Decoder() {
      @Override
      public boolean claims(String path) {
        return true;
      }

      @Override
      public List<Resource> decode(SourceFile file) {
        return List.of();  // read, and declares nothing
      }
    };
    try (GitSource s = GitSource.builder().url(repo.dir().toString()).ref("main").cacheDir(tmp.resolve("cache2"))
        .decoder("**/*.{md,txt}", documentation).build();
        LogCapture logs = LogCapture.of(GitSource.class, "INFO")) {
      assertThat(read(s, both).resources()).hasSize(2);
      assertThat(logs.lines()).as("every file was read").noneMatch(l -> l.contains("read by no decoder"));
    }
  }

  @Test
  void anIgnorePatternWithManyStarsInOneSegmentIsRefusedAtItsLineBeforeAnyMatch() throws Exception {
    // JGit matches such a segment with a backtracking regex: four '*' on a 200-character name take
    // about a second per name, ten take hours
    TestGitRepo repo = repo();
    repo.write("apps/.gitopsignore", "# drafts\n*.local.yaml\n!keep/*a*a*a*ab\n")
        .write("apps/" + "a".repeat(200) + ".yaml", "type: widget\nname: long\n").commit("ignore");
    try (GitSource s = GitSource.builder().url(repo.dir().toString()).ref("main").cacheDir(tmp.resolve("cache")).build()) {
      assertThatThrownBy(() -> read(s, both)).isInstanceOf(dev.gitops.api.DecodeException.class)
          .hasMessageContaining("apps/.gitopsignore:3@main@sha1:")
          .hasMessageContaining("4 '*' in one path segment").hasMessageContaining("at most 3");
    }
    // '**' segments, escaped stars, stars in separate segments and up to three in one are fine
    repo.write("apps/.gitopsignore", "**/drafts/**\n*-*-*.yaml\n\\*\\*\\*\\*.txt\n*/*/*/*/x\n")
        .write("apps/x-y-z.yaml", "this: [is not valid").commit("fewer");
    try (GitSource s = GitSource.builder().url(repo.dir().toString()).ref("main").cacheDir(tmp.resolve("cache2")).build()) {
      assertThat(read(s, both).resources().keySet()).extracting(ResourceKey::name)
          .containsExactlyInAnyOrder("timeout", "web", "long");
    }
  }

  @Test
  void theStarsOfEverySegmentOfEveryPatternAreCounted() {
    for (String refused : new String[] {"*a*b*c*d", "a/**/x*y*z*w*", "foo**b**", "*a*a*a*a[b", "![*]*a*b*c", "x/*a*b*c*d/y"}) {
      assertThatThrownBy(() -> TreeDecoder.checkIgnorePatterns(("ok\r\n# ****\r\n" + refused + "\r\n").getBytes(
          java.nio.charset.StandardCharsets.UTF_8), "d/.gitopsignore", "r")).as(refused)
          .isInstanceOf(dev.gitops.api.DecodeException.class).hasMessageContaining("d/.gitopsignore:3@r");
    }
    for (String allowed : new String[] {"**/x/**", "\\*\\*\\*\\*", "*/*/*/*", "# *****", "*a*b*c", "**/*.y*ml", "**"}) {
      TreeDecoder.checkIgnorePatterns((allowed + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8), "d/.gitopsignore", "r");
    }
  }

  @Test
  void withNoDecoderAtAllTheReportSaysSo() throws Exception {
    TestGitRepo repo = repo();
    try (GitSource s = GitSource.builder().url(repo.dir().toString()).ref("main").cacheDir(tmp.resolve("cache")).build();
        LogCapture logs = LogCapture.of(GitSource.class, "INFO")) {
      assertThat(read(s).resources()).isEmpty();
      assertThat(logs.lines()).anyMatch(l -> l.contains("2 files at main@sha1:")
          && l.contains("no decoder was given at all"));
    }
  }

  @Test
  void closeDeletesTheTemporaryCloneButKeepsAConfiguredCache() throws Exception {
    TestGitRepo repo = repo();
    GitSource temporary = GitSource.builder().url(repo.dir().toString()).ref("main").build();
    read(temporary, both);
    Path clone = temporary.repositoryDirectory();
    assertThat(clone).isDirectory();
    assertThat(clone.getParent().getFileName().toString()).startsWith("gitops-source-");
    temporary.close();
    assertThat(clone.getParent()).doesNotExist();
    temporary.close();  // closing twice is harmless

    Path cache = tmp.resolve("cache");
    GitSource cached = GitSource.builder().url(repo.dir().toString()).ref("main").cacheDir(cache).build();
    read(cached, both);
    Path kept = cached.repositoryDirectory();
    cached.close();
    assertThat(kept).isDirectory();
    assertThat(Files.list(cache).count()).isEqualTo(1);
  }

  @Test
  void aReadAfterCloseIsRefusedNamingTheSourceAndClonesNothingAgain() throws Exception {
    TestGitRepo repo = repo();
    GitSource temporary = GitSource.builder().url(repo.dir().toString()).ref("main").build();
    read(temporary, both);
    Path clone = temporary.repositoryDirectory();
    temporary.close();
    assertThat(clone.getParent()).doesNotExist();
    Source.ReadRequest head = new Source.ReadRequest(null, List.of(both), new Cancellation());
    assertThatThrownBy(() -> temporary.read(head)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("git " + repo.dir() + " ref main").hasMessageContaining("is closed");
    assertThatThrownBy(() -> temporary.fingerprint(head)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("is closed");
    assertThatThrownBy(() -> temporary.readSince(head, "main@sha1:" + "0".repeat(40), List.of()))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
    assertThat(temporary.repositoryDirectory())
        .as("no new temporary clone, which no close would delete").isNull();
    temporary.close();  // closing again is harmless
  }

  @Test
  void aTemporaryCloneRebuiltAfterDamageIsStillDeletedOnClose() throws Exception {
    TestGitRepo repo = repo();
    GitSource temporary = GitSource.builder().url(repo.dir().toString()).ref("main").build();
    read(temporary, both);
    Path damaged = temporary.repositoryDirectory();
    FileUtils.delete(damaged.resolve("objects").toFile(), FileUtils.RECURSIVE);
    String head = repo.write("apps/web.yaml", "type: widget\nname: web\nspec: {replicas: 3}\n").commit("scale");
    try (LogCapture logs = LogCapture.of(GitSource.class, "WARN")) {
      assertThat(read(temporary, both).revision()).isEqualTo("main@sha1:" + head);
      assertThat(logs.lines()).as("the clone was rebuilt").anyMatch(l -> l.contains("rebuilding it"));
    }
    Path rebuilt = temporary.repositoryDirectory();
    temporary.close();
    assertThat(rebuilt.getParent()).doesNotExist();
    assertThat(damaged.getParent()).as("the damaged clone's temporary directory").doesNotExist();
  }

  @Test
  void aGitLfsPointerFileIsReadAsItIsWithAWarningNamingIt() throws Exception {
    TestGitRepo repo = TestGitRepo.init(tmp.resolve("lfs"));
    String pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:"
        + "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n";
    repo.write("blob.bin", pointer).write("a.yaml", "type: widget\nname: a\n").commit("lfs");
    Decoder all = new Decoder() {
      @Override
      public boolean claims(String path) {
        return true;
      }

      @Override
      public List<Resource> decode(SourceFile file) {
        return List.of();
      }
    };
    try (GitSource s = GitSource.builder().url(repo.dir().toString()).ref("main").cacheDir(tmp.resolve("c-lfs"))
        .decoder("**", all).build();
        LogCapture logs = LogCapture.of(GitSource.class.getPackageName(), "WARN")) {
      read(s);
      assertThat(logs.lines()).filteredOn(l -> l.contains("LFS")).singleElement().asString()
          .contains("blob.bin").contains("main@sha1:").contains(repo.dir().toString()).doesNotContain("a.yaml");
      // and given to the caller, which shows no log (the CLI prints it as a warning line)
      assertThat(s.readWarnings()).singleElement().asString().contains("blob.bin").contains("Git LFS pointer")
          .doesNotContain("a.yaml");
    }
  }
}
