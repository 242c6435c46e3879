package dev.gitops.core.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Action;
import dev.gitops.api.DecodeException;
import dev.gitops.api.PathPattern;
import dev.gitops.api.Plan;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.SourceFile;
import dev.gitops.core.LogCapture;
import dev.gitops.core.Reconciler;
import dev.gitops.core.plan.PlanCodec;
import dev.gitops.core.redact.ShownText;
import dev.gitops.core.source.GitSource;
import dev.gitops.core.source.TestGitRepo;
import dev.gitops.core.store.FileStateStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The files provider's sensitive rules: from the builder and from the repository's {@code .gitops.yaml}. */
class SensitiveFilesTest {

  @TempDir Path tmp;

  static final String SECRET_YAML = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  user: app\n  password: %s\n";

  private static SourceFile file(String path, String text) {
    return new SourceFile(path, "blob-" + path, text.getBytes(StandardCharsets.UTF_8), "rev1");
  }

  @Test
  void ruleParsesGlobAndPointerOrTheWholeFile() {
    assertThat(SensitiveFiles.parse("k8s/*.yaml:/data/*").pointer()).isEqualTo(PathPattern.of("/data/*"));
    assertThat(SensitiveFiles.parse("k8s/*.yaml:/data/*").glob().matches("k8s/a.yaml")).isTrue();
    assertThat(SensitiveFiles.parse("certs/*.key").pointer()).isNull();
    assertThat(SensitiveFiles.parse("certs/*.key:").pointer()).isNull();
    assertThat(SensitiveFiles.parse("a.json:/").pointer()).isNull();
    assertThatThrownBy(() -> SensitiveFiles.parse(":/data")).hasMessageContaining("':/data'").hasMessageContaining("no glob");
    assertThatThrownBy(() -> SensitiveFiles.parse("{a.yaml:/x")).hasMessageContaining("'{a.yaml:/x'");
  }

  @Test
  void aRuleWhosePointerLacksItsSlashIsRefusedAsTheTwoPartFormRefusesItNotReadAsAGlobThatHidesNothing() {
    // read as the glob 'db.yaml:password', the rule matched no file and the password was shown in every plan
    assertThatThrownBy(() -> SensitiveFiles.parse("db.yaml:password")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'db.yaml:password'").hasMessageContaining("'db.yaml:/password'");
    assertThatThrownBy(() -> LocalFilesProvider.builder(tmp.resolve("t")).sensitive("k8s/*.yaml:data/*"))
        .hasMessageContaining("'k8s/*.yaml:/data/*'");
    assertThatThrownBy(() -> LocalFilesProvider.builder(tmp.resolve("t")).sensitive("db.yaml", "password"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'db.yaml:password'");
    Decoder d = LocalFilesProvider.builder(tmp.resolve("t")).structured("*.yaml").build().decoder().orElseThrow();
    assertConfigErrorAt(d, "files:\n  sensitive:\n    - \"db.yaml:password\"\n", 3, "'db.yaml:/password'");
    // a whole file whose name holds ':' is still possible, and so is its pointer
    assertThat(SensitiveFiles.parse("a:b.yaml:").glob().matches("a:b.yaml")).isTrue();
    assertThat(SensitiveFiles.parse("a:b.yaml:").pointer()).isNull();
    assertThat(SensitiveFiles.parse("a:b.yaml:/pw").pointer()).isEqualTo(PathPattern.of("/pw"));
  }

  @Test
  void decoderMarksThePointerInStructuredFilesAndTheWholeOfOthers() {
    LocalFilesProvider p = LocalFilesProvider.builder(tmp.resolve("t")).structured("k8s/*.yaml")
        .sensitive("k8s/*.yaml", "/data/password").sensitive("**/*.key").sensitive("notes.txt:/password").build();
    Decoder d = p.decoder().orElseThrow();
    Resource structured = d.decode(file("k8s/db.yaml", SECRET_YAML.formatted("pw"))).get(0);
    assertThat(structured.sensitive()).contains(PathPattern.of("/data/data/password"), PathPattern.of("/content"))
        .doesNotContain(PathPattern.of("/data"));
    assertThat(d.decode(file("tls/server.key", "-----BEGIN-----")).get(0).sensitive())
        .contains(PathPattern.of("/content"), PathPattern.of("/contentBase64"));
    assertThat(d.decode(file("notes.txt", "password=x\n")).get(0).sensitive())
        .as("a pointer cannot reach into a plain file: the whole file is sensitive").contains(PathPattern.of("/content"));
    assertThat(d.decode(file("readme.md", "hello")).get(0).sensitive()).isEmpty();
  }

  @Test
  void parseErrorsOfASensitiveFileDoNotQuoteIt() {
    Decoder d = LocalFilesProvider.builder(tmp.resolve("t")).structured("*.json").sensitive("secret.json", "/pw").build()
        .decoder().orElseThrow();
    assertThatThrownBy(() -> d.decode(file("secret.json", "{\"pw\": hunter2-unquoted}")))
        .isInstanceOf(DecodeException.class).hasMessageContaining("secret.json").hasMessageNotContaining("hunter2");
    assertThatThrownBy(() -> d.decode(file("other.json", "{\"pw\": hunter2-unquoted}")))
        .isInstanceOf(DecodeException.class).hasMessageContaining("hunter2");
  }

  @Test
  void aLiveStructuredFileThatDoesNotParseIsReportedWithoutQuotingIt() throws IOException {
    LocalFilesProvider p = LocalFilesProvider.builder(tmp.resolve("t")).structured("*.json").build();
    Files.createDirectories(tmp.resolve("t"));
    Files.writeString(tmp.resolve("t/app.json"), "{\"pw\": hunter2-live-unquoted}");
    try (LogCapture logs = LogCapture.of("dev.gitops", "DEBUG")) {
      ResourceKey key = p.keyOf("app.json");
      assertThat(p.observe(List.of(key), dev.gitops.api.spi.CallContext.of("o", "r", java.time.Duration.ofSeconds(5)))
          .get(key).live().has("content")).isTrue();
      String logged = String.join("\n", logs.lines());
      assertThat(logged).contains("app.json").contains("line 1").doesNotContain("hunter2");
    }
  }

  @Test
  void repositoryConfigAddsRulesAndBadConfigNamesTheFile() {
    Decoder d = LocalFilesProvider.builder(tmp.resolve("t")).structured("**/*.yaml").build().decoder().orElseThrow();
    Decoder configured = d.configure(file(".gitops.yaml", "files:\n  sensitive:\n    - \"k8s/*.yaml:/data/*\"\n"));
    assertThat(configured.fingerprint()).isNotEqualTo(d.fingerprint());
    assertThat(configured.decode(file("k8s/db.yaml", SECRET_YAML.formatted("pw"))).get(0).sensitive())
        .contains(PathPattern.of("/data/data/*"));
    assertThat(d.configure(file(".gitops.yaml", "# nothing yet\n"))).isSameAs(d);
    assertThatThrownBy(() -> d.configure(file(".gitops.yaml", "file:\n  sensitive: []\n")))
        .isInstanceOf(DecodeException.class).hasMessageContaining(".gitops.yaml").hasMessageContaining("unknown key 'file'");
    assertThatThrownBy(() -> d.configure(file(".gitops.yaml", "files:\n  sensitve: []\n")))
        .isInstanceOf(DecodeException.class).hasMessageContaining("files.sensitve");
    assertThatThrownBy(() -> d.configure(file(".gitops.yaml", "files:\n  sensitive: [1]\n")))
        .isInstanceOf(DecodeException.class).hasMessageContaining("not a '<glob>:<json-pointer>' string");
    assertThatThrownBy(() -> d.configure(file(".gitops.yaml", "files: [\n")))
        .isInstanceOf(DecodeException.class).hasMessageContaining(".gitops.yaml:");
  }

  @Test
  void everyRepositoryConfigErrorNamesTheFileAndTheLineOfTheOffendingKeyOrValue() {
    Decoder d = LocalFilesProvider.builder(tmp.resolve("t")).build().decoder().orElseThrow();
    String head = "# rules for this repository\n\n";
    assertConfigErrorAt(d, head + "file:\n  sensitive: []\n", 3, "unknown key 'file'");
    assertConfigErrorAt(d, head + "files:\n  sensitive: []\n  sensitve: []\n", 5, "unknown key 'files.sensitve'");
    assertConfigErrorAt(d, head + "files: 3\n", 3, "'files' must be a map");
    assertConfigErrorAt(d, head + "files:\n  sensitive: \"a/*\"\n", 4, "'files.sensitive' must be a list");
    assertConfigErrorAt(d, head + "files:\n  sensitive:\n    - \"a/*\"\n    - 1\n", 6, "entry 1 is not");
    assertConfigErrorAt(d, head + "files:\n  sensitive:\n    - \"a/*\"\n    - \"{a.yaml:/x\"\n", 6, "unbalanced '{'");
    assertConfigErrorAt(d, head + "files:\n  sensitive:\n    - \"a/*\"\n\n    - \":/data/x\"\n", 7, "has no glob");
    assertConfigErrorAt(d, head + "files:\n  sensitive: []\n  sensitive: []\n", 5, "sensitive");
    assertConfigErrorAt(d, head + "- files\n", 3, "a repository config is a map");
    assertConfigErrorAt(d, head + "files: [\n", 3, "not a valid repository config");
  }

  private static void assertConfigErrorAt(Decoder d, String config, int line, String message) {
    assertThatThrownBy(() -> d.configure(file("apps/.gitops.yaml", config)))
        .as(config)
        .isInstanceOfSatisfying(DecodeException.class, e -> {
          assertThat(e.origin().path()).isEqualTo("apps/.gitops.yaml");
          assertThat(e.origin().line()).as("line of %s", e.getMessage()).isEqualTo(line);
        })
        .hasMessageContaining("apps/.gitops.yaml:" + line + "@")
        .hasMessageContaining(message);
  }

  @Test
  void builderRuleKeepsASecretFileOutOfPlansAndTheStoreThroughDriftAndDelete() throws IOException {
    TestGitRepo repo = TestGitRepo.init(tmp.resolve("repo"));
    repo.write("secret.yaml", SECRET_YAML.formatted("git-pw-1")).write("keep.txt", "keep\n").commit("one");
    assertSecretsStayHidden(repo, b -> b.sensitive("secret.yaml:/data/password"));
  }

  @Test
  void repositoryConfigRuleDoesTheSameAndIsNotSyncedAsAFile() throws IOException {
    TestGitRepo repo = TestGitRepo.init(tmp.resolve("repo"));
    repo.write(".gitops.yaml", "files:\n  sensitive:\n    - secret.yaml:/data/password\n")
        .write("secret.yaml", SECRET_YAML.formatted("git-pw-1")).write("keep.txt", "keep\n").commit("one");
    assertSecretsStayHidden(repo, b -> b);
    assertThat(tmp.resolve("target/.gitops.yaml")).doesNotExist();
  }

  private void assertSecretsStayHidden(TestGitRepo repo, java.util.function.UnaryOperator<LocalFilesProvider.Builder> rules)
      throws IOException {
    Path target = tmp.resolve("target");
    Path state = tmp.resolve("state");
    List<String> seen = new ArrayList<>();
    LocalFilesProvider files = rules.apply(LocalFilesProvider.builder(target).structured("*.yaml")).build();
    try (GitSource source = GitSource.builder().url(repo.dir().toString()).cacheDir(tmp.resolve("cache")).build();
        FileStateStore store = FileStateStore.open(state)) {
      Reconciler r = Reconciler.builder().source(source).provider(files).store(store)
          .listener(e -> seen.add(e.toString())).build();
      assertThat(r.sync().isSuccessful()).isTrue();
      ResourceKey key = files.keyOf("secret.yaml");
      assertThat(Files.readString(target.resolve("secret.yaml"))).contains("git-pw-1");

      Files.writeString(target.resolve("secret.yaml"), SECRET_YAML.formatted("live-pw-2"));
      Plan drift = r.plan();
      assertThat(drift.change(key).orElseThrow().drift()).as("drift of the secret is still seen").isTrue();
      seen.add(PlanCodec.toJson(drift, store.secretKey()));

      repo.delete("secret.yaml").commit("two");
      Files.writeString(target.resolve("secret.yaml"), SECRET_YAML.formatted("live-pw-3"));
      Plan delete = r.plan();
      assertThat(delete.change(key).orElseThrow().action()).isEqualTo(Action.DELETE);
      seen.add(PlanCodec.toJson(delete, store.secretKey()));
      SyncResult deleted = r.sync();
      assertThat(deleted.isSuccessful()).as(deleted.toString()).isTrue();
      seen.add(r.history().toString());
      seen.add(ShownText.storeBytes(state));
    }
    for (String s : seen) {
      assertThat(s).doesNotContain("git-pw-1").doesNotContain("live-pw-2").doesNotContain("live-pw-3");
    }
  }
}
