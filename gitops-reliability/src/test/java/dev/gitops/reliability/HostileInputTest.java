package dev.gitops.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.DecodeException;
import dev.gitops.api.DuplicateResourceException;
import dev.gitops.api.PlanRefusedException;
import dev.gitops.api.SignatureException;
import dev.gitops.api.SourceException;
import dev.gitops.api.StoreCorruptException;
import dev.gitops.api.StoreException;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.Provider;
import dev.gitops.core.Reconciler;
import dev.gitops.core.decode.YamlManifestDecoder;
import dev.gitops.core.files.LocalFilesProvider;
import dev.gitops.core.source.Credentials;
import dev.gitops.core.source.GitHttpServer;
import dev.gitops.core.source.GitSource;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.testkit.InMemoryProvider;
import dev.gitops.testkit.TempGitRepo;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.PublicKeyAlgorithmTags;
import org.bouncycastle.crypto.generators.RSAKeyPairGenerator;
import org.bouncycastle.crypto.params.RSAKeyGenerationParameters;
import org.bouncycastle.openpgp.PGPKeyRingGenerator;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.operator.bc.BcPGPContentSignerBuilder;
import org.bouncycastle.openpgp.operator.bc.BcPGPDigestCalculatorProvider;
import org.bouncycastle.openpgp.operator.bc.BcPGPKeyPair;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hostile-input corpus ({@code src/test/resources/hostile/}) and generated cases: each sync
 * fails with the exact error (naming the file, line, key, ref or URL at fault), applies nothing
 * (the live objects are unchanged) and records nothing (the store's bytes are unchanged).
 */
class HostileInputTest {

  private static final String BASE = "type: widget\nname: base\nspec: {v: 1}\n";

  @TempDir
  Path tmp;

  private TempGitRepo repo;
  private final InMemoryProvider live = InMemoryProvider.builder()
      .decoder(YamlManifestDecoder.builder().defaultProvider("memory").build()).build();
  private Path state;

  @BeforeEach
  void setUp() {
    repo = TempGitRepo.in(tmp.resolve("repo"));
    state = tmp.resolve("state");
  }

  @AfterEach
  void tearDown() {
    repo.close();
  }

  // ------------------------------------------------------------------------------ helpers

  private GitSource.Builder source() {
    return GitSource.builder().url(repo.uri()).ref("main").cacheDir(tmp.resolve("cache"));
  }

  private Reconciler reconciler(GitSource.Builder source, Provider provider) {
    return Reconciler.builder().source(source.build()).provider(provider).store(FileStateStore.open(state)).build();
  }

  private String baseline() {
    repo.write("apps/base.yaml", BASE);
    String sha = repo.commit("base");
    SyncResult r = reconciler(source(), live).sync();
    assertThat(r.isSuccessful()).as("baseline %s", r.failures()).isTrue();
    assertThat(live.snapshot()).hasSize(1);
    return sha;
  }

  private static byte[] corpus(String name) {
    try (InputStream in = HostileInputTest.class.getResourceAsStream("/hostile/" + name)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every file of the store (the lock file aside, its content is the holder's pid) with its bytes. */
  private Map<String, String> storeBytes() {
    Map<String, String> out = new TreeMap<>();
    if (!Files.exists(state)) {
      return out;
    }
    try (Stream<Path> s = Files.walk(state)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        if (Files.isRegularFile(p) && !p.getFileName().toString().equals("lock")) {
          out.put(state.relativize(p).toString(), java.util.HexFormat.of().formatHex(Files.readAllBytes(p)));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** Syncs, expects {@code type} with a message holding every fragment; nothing applied, nothing recorded. */
  private void assertRefused(Reconciler r, Class<? extends Throwable> type, String... fragments) {
    Map<String, String> storeBefore = storeBytes();
    var liveBefore = live.snapshot();
    long writesBefore = live.writeCount();
    assertThatThrownBy(r::sync).isInstanceOf(type).satisfies(e -> {
      for (String f : fragments) {
        assertThat(e.getMessage()).contains(f);
      }
    });
    assertThat(live.snapshot()).as("nothing applied").isEqualTo(liveBefore);
    assertThat(live.writeCount()).as("no provider write").isEqualTo(writesBefore);
    assertThat(storeBytes()).as("nothing recorded").isEqualTo(storeBefore);
  }

  private void commitCorpus(String... names) {
    for (String n : names) {
      repo.write("apps/" + n, corpus(n));
    }
    repo.commit("hostile " + String.join(", ", names));
  }

  // ------------------------------------------------------------------------------ the corpus

  @Test
  void malformedYamlNamesFileAndLine() {
    baseline();
    commitCorpus("malformed.yaml");
    assertRefused(reconciler(source(), live), DecodeException.class, "apps/malformed.yaml:5");
  }

  @Test
  void malformedJsonNamesFileAndLine() {
    baseline();
    commitCorpus("malformed.json");
    assertRefused(reconciler(source(), live), DecodeException.class, "apps/malformed.json:2");
  }

  @Test
  void aYamlAliasBombIsRefusedBeforeExpansion() {
    baseline();
    commitCorpus("alias-bomb.yaml");
    assertRefused(reconciler(source(), live), DecodeException.class, "apps/alias-bomb.yaml", "alias");
  }

  @Test
  void nonUtf8BytesAreRefusedNamingTheFile() {
    baseline();
    commitCorpus("non-utf8.yaml");
    assertRefused(reconciler(source(), live), DecodeException.class, "apps/non-utf8.yaml", "UTF-8");
  }

  @Test
  void duplicateIdentitiesAcrossFilesNameBothOrigins() {
    baseline();
    commitCorpus("duplicate-a.yaml", "duplicate-b.yaml");
    assertRefused(reconciler(source(), live), DuplicateResourceException.class,
        "memory:widget:team-a:web", "apps/duplicate-a.yaml:1", "apps/duplicate-b.yaml:6");
  }

  @Test
  void aResourceMissingItsNameIsRefusedNamingFileLineAndField() {
    baseline();
    commitCorpus("missing-name.yaml");
    assertRefused(reconciler(source(), live), DecodeException.class, "apps/missing-name.yaml:1", "name");
  }

  @Test
  void aFileOverTheSizeLimitIsRefusedNamingFileAndLimit() {
    baseline();
    StringBuilder big = new StringBuilder("type: widget\nname: big\nspec:\n  blob: \"");
    big.append("x".repeat(5000)).append("\"\n");
    repo.write("apps/big.yaml", big.toString());
    repo.commit("big");
    assertRefused(reconciler(source().maxFileSize(4096), live), DecodeException.class, "apps/big.yaml", "4096");
  }

  @Test
  void aSymlinkPointingOutOfTheRepositoryIsNeverFollowed() {
    String base = baseline();
    repo.symlink("apps/escape.yaml", "../../../../etc/passwd");
    String sha = repo.commit("symlink");
    assertThat(sha).isNotEqualTo(base);
    assertRefused(reconciler(source(), live), SourceException.class, "apps/escape.yaml", "symlinks are not followed");
  }

  @Test
  void dotDotInTheSubPathIsRefusedNamingIt() {
    assertThatThrownBy(() -> GitSource.builder().path("apps/../../etc")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("apps/../../etc");
    assertThatThrownBy(() -> GitSource.builder().path("../etc")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("../etc");
  }

  @Test
  void dotDotInAResourceNameStaysAnOpaqueNameNeverAPath() {
    baseline();
    repo.write("apps/dots.yaml", "type: widget\nname: ../../etc/passwd\nspec: {v: 1}\n");
    repo.commit("dots");
    // a name is an opaque identity for the in-memory provider: it must stay a name, never a path
    SyncResult r = reconciler(source(), live).sync();
    assertThat(r.isSuccessful()).isTrue();
    assertThat(live.snapshot().keySet()).anySatisfy(k -> assertThat(k.name()).isEqualTo("../../etc/passwd"));
    assertThat(tmp.resolve("etc")).doesNotExist();
  }

  @Test
  void dotDotInAFileNameForTheFilesProviderIsRefusedNamingTheKey() throws Exception {
    Path target = tmp.resolve("target");
    LocalFilesProvider files = LocalFilesProvider.builder(target).build();
    dev.gitops.api.ResourceKey key = dev.gitops.api.ResourceKey.of("files", "file", "", "../escape.txt");
    dev.gitops.api.Resource res = dev.gitops.api.Resource.of(key,
        dev.gitops.api.Documents.object(Map.of("content", dev.gitops.api.Documents.nodes().textNode("x"))));
    dev.gitops.api.Outcome o = files.apply(dev.gitops.api.Change.create(res, "test"),
        new dev.gitops.api.spi.CallContext("gitops", "r", java.time.Instant.now().plusSeconds(10),
            new dev.gitops.api.Cancellation()));
    assertThat(o.kind()).isEqualTo(dev.gitops.api.Outcome.Kind.PERMANENT);
    assertThat(o.message()).contains("../escape.txt");
    assertThat(tmp.resolve("escape.txt")).doesNotExist();
  }

  @Test
  void namesThatLookLikeCommandLineOptionsAreOrdinaryFiles() throws Exception {
    Path target = tmp.resolve("target");
    repo.write("--help", "not an option\n").write("-rf", "not an option either\n").write("dir/--force", "x\n");
    repo.commit("option-like names");
    LocalFilesProvider files = LocalFilesProvider.builder(target).build();
    SyncResult r = reconciler(source(), files).sync();
    assertThat(r.isSuccessful()).as("%s", r.failures()).isTrue();
    assertThat(Files.readString(target.resolve("--help"))).isEqualTo("not an option\n");
    assertThat(Files.readString(target.resolve("-rf"))).isEqualTo("not an option either\n");
    assertThat(Files.readString(target.resolve("dir/--force"))).isEqualTo("x\n");
  }

  @Test
  void anEmptyDesiredStateIsRefusedByTheMassDeletionGuard() {
    baseline();
    repo.delete("apps/base.yaml");
    repo.write("README.md", "nothing here\n");
    repo.commit("everything gone");
    assertRefused(reconciler(source(), live), PlanRefusedException.class, "mass-deletion guard", "memory",
        "deletes or replaces all 1 resources it owns");
  }

  @Test
  void aPathThatDoesNotExistAtTheRevisionIsNamed() {
    String sha = baseline();
    assertRefused(reconciler(source().path("clusters/staging"), live), SourceException.class, "clusters/staging", sha);
  }

  @Test
  void aDeletedBranchIsNamed() throws Exception {
    baseline();
    repo.branch("feature");
    Reconciler onFeature = reconciler(source().ref("feature"), live);
    assertThat(onFeature.sync().isSuccessful()).isTrue();
    repo.git().branchDelete().setBranchNames("feature").setForce(true).call();
    assertRefused(reconciler(source().ref("feature"), live), SourceException.class, "feature", repo.uri());
  }

  @Test
  void aForcePushedBranchIsFlaggedAndReconciledToTheNewHead() {
    String base = baseline();
    repo.write("apps/extra.yaml", "type: widget\nname: extra\nspec: {v: 1}\n");
    repo.commit("extra");
    GitSource.Builder src = source();
    GitSource gs = src.build();
    Reconciler r = Reconciler.builder().source(gs).provider(live).store(FileStateStore.open(state)).build();
    assertThat(r.sync().isSuccessful()).isTrue();
    assertThat(live.snapshot()).hasSize(2);
    repo.resetHard(base);
    repo.write("apps/other.yaml", "type: widget\nname: other\nspec: {v: 2}\n");
    repo.commit("rewritten");
    List<SyncEvent> events = new ArrayList<>();
    r.addListener(events::add);
    SyncResult after = r.sync();
    assertThat(after.isSuccessful()).isTrue();
    assertThat(events).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(SyncEvent.SourceRead.class,
        s -> assertThat(s.historyRewritten()).isTrue()));
    assertThat(live.snapshot().keySet()).extracting(k -> k.name()).containsExactlyInAnyOrder("base", "other");
  }

  @Test
  void anUnreachableRepositoryIsNamed() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    String url = "http://127.0.0.1:" + port + "/nowhere.git";
    assertRefused(reconciler(GitSource.builder().url(url).ref("main").cacheDir(tmp.resolve("cache2"))
        .timeout(java.time.Duration.ofSeconds(5)), live), SourceException.class, url, "ref main");
  }

  @Test
  void wrongCredentialsAreNamedWithoutThePassword() throws Exception {
    Path served = tmp.resolve("served");
    Files.createDirectories(served);
    try (TempGitRepo remote = TempGitRepo.in(served.resolve("repo"))) {
      remote.write("apps/base.yaml", BASE).commit("base");
      try (GitHttpServer http = GitHttpServer.start(served, "alice", "right-password")) {
        Reconciler r = reconciler(GitSource.builder().url(http.url("repo")).ref("main").cacheDir(tmp.resolve("cache3"))
            .credentials(Credentials.basic("alice", "hunter2-wrong")), live);
        Map<String, String> storeBefore = storeBytes();
        assertThatThrownBy(r::sync).isInstanceOf(SourceException.class)
            .hasMessageContaining(http.url("repo")).hasMessageContaining("ref main")
            .satisfies(e -> assertThat(e.getMessage()).doesNotContain("hunter2-wrong"));
        assertThat(live.snapshot()).isEmpty();
        assertThat(storeBytes()).isEqualTo(storeBefore);
      }
    }
  }

  @Test
  void anUnsignedCommitIsRefusedWhenSignaturesAreRequired() throws Exception {
    String sha = baseline();
    repo.write("apps/more.yaml", "type: widget\nname: more\nspec: {v: 1}\n");
    String unsigned = repo.commit("unsigned");
    assertThat(unsigned).isNotEqualTo(sha);
    Path ring = Files.write(tmp.resolve("trusted.gpg"), publicRing());
    assertRefused(reconciler(source().requireSignedBy(ring), live), SignatureException.class, unsigned, "not signed");
  }

  @Test
  void aStateFileWithCorruptBytesIsNamedAndForbidsWrites() throws Exception {
    baseline();
    // the journal holds the baseline's records (pending, then applied): damage in the first is corruption
    Path entry = state.resolve("journal");
    byte[] bytes = Files.readAllBytes(entry);
    bytes[20] = (byte) 0xC3;
    bytes[21] = (byte) '{';
    Files.write(entry, bytes);
    repo.write("apps/base.yaml", "type: widget\nname: base\nspec: {v: 2}\n").commit("change");
    assertRefused(reconciler(source(), live), StoreCorruptException.class, entry.toString(), "is corrupt");
  }

  @Test
  void aStateFileFromANewerFormatIsRefusedNamingTheVersion() throws Exception {
    baseline();
    Files.writeString(state.resolve("format"), "7\n");
    repo.write("apps/base.yaml", "type: widget\nname: base\nspec: {v: 2}\n").commit("change");
    assertRefused(reconciler(source(), live), StoreException.class, "written by a newer version (format 7");
  }

  @Test
  void aMissingStoreWhileLiveObjectsCarryOurMarkIsRefused() throws Exception {
    InMemoryProvider marking = InMemoryProvider.builder().marks(true)
        .decoder(YamlManifestDecoder.builder().defaultProvider("memory").build()).build();
    repo.write("apps/base.yaml", BASE);
    repo.commit("base");
    assertThat(reconciler(source(), marking).sync().isSuccessful()).isTrue();
    CrashWorld.deleteTree(state);
    repo.write("apps/base.yaml", "type: widget\nname: base\nspec: {v: 2}\n").commit("change");
    var before = marking.snapshot();
    assertThatThrownBy(() -> reconciler(source(), marking).sync()).isInstanceOf(StoreException.class)
        .hasMessageContaining("the state store is missing or empty (" + state + "), but 1 live object of provider"
            + " 'memory' carries the mark")
        .hasMessageContaining("memory:widget::base");
    assertThat(marking.snapshot()).isEqualTo(before);
    assertThat(storeBytes()).as("the refused sync creates no inventory").doesNotContainKey("meta.json");
  }

  private static byte[] publicRing() throws Exception {
    RSAKeyPairGenerator gen = new RSAKeyPairGenerator();
    gen.init(new RSAKeyGenerationParameters(BigInteger.valueOf(0x10001), new SecureRandom(), 2048, 12));
    BcPGPKeyPair key = new BcPGPKeyPair(PublicKeyAlgorithmTags.RSA_GENERAL, gen.generateKeyPair(), new Date());
    PGPKeyRingGenerator ring = new PGPKeyRingGenerator(PGPSignature.POSITIVE_CERTIFICATION, key, "Trusted <t@example.com>",
        new BcPGPDigestCalculatorProvider().get(HashAlgorithmTags.SHA1), null, null,
        new BcPGPContentSignerBuilder(PublicKeyAlgorithmTags.RSA_GENERAL, HashAlgorithmTags.SHA256), null);
    return ring.generatePublicKeyRing().getEncoded();
  }

}
