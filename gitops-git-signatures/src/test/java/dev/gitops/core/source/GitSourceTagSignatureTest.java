package dev.gitops.core.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Cancellation;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SignatureException;
import dev.gitops.api.State;
import dev.gitops.api.spi.Source;
import dev.gitops.core.decode.YamlManifestDecoder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SignatureMode#TAG} and {@link SignatureMode#TAG_AND_HEAD} against what real tools make:
 * tags signed by {@code git tag -s} and commits by {@code git commit -S}, with ed25519 keys a real
 * {@code gpg} generates in a home of the test's own (never the user's), served by {@code git daemon}.
 */
class GitSourceTagSignatureTest {

  @TempDir static Path keys;
  private static Path gnupgHome;
  /** A gpg.program for git: gpg in the test's home, without a terminal. */
  private static Path gpgProgram;
  private static String trusted;
  private static String stranger;
  private static Path trustedRing;
  /** One daemon for the class, serving each test's repository under a name of its own. */
  private static GitDaemonServer daemon;
  private static int repos;

  @TempDir Path tmp;
  private TestGitRepo repo;
  private String url;

  @BeforeAll
  static void gpgKeys() throws Exception {
    // skipped without gpg outside CI, as the registry tests are; in CI (which installs gnupg) it fails instead
    boolean ci = System.getenv("CI") != null && !System.getenv("CI").isBlank();
    Assumptions.assumeTrue(onPath("gpg") || ci, "gpg is not installed (apt-get install gnupg); .ci/run installs it");
    gnupgHome = Files.createDirectory(keys.resolve("gnupg"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    gpgProgram = keys.resolve("gpg.sh");
    Files.writeString(gpgProgram, "#!/bin/sh\nexec gpg --homedir '" + gnupgHome + "' --batch \"$@\"\n");
    gpgProgram.toFile().setExecutable(true);
    trusted = newKey("Trusted <trusted@example.com>");
    stranger = newKey("Stranger <stranger@example.com>");
    trustedRing = keys.resolve("trusted.asc");
    Files.writeString(trustedRing, gpg("--armor", "--export", trusted));
    daemon = GitDaemonServer.start(Files.createDirectory(keys.resolve("served")));
  }

  @AfterAll
  static void stop() throws Exception {
    if (daemon != null) {
      daemon.close();
    }
    if (gnupgHome != null) {
      run(List.of("gpgconf", "--kill", "gpg-agent"), true);  // the agent gpg started for this home
    }
  }

  @BeforeEach
  void setUp() throws Exception {
    String name = "repo" + ++repos;
    repo = TestGitRepo.init(keys.resolve("served").resolve(name));
    url = daemon.url(name);
  }

  /** A signing-only ed25519 primary key for {@code userId}; its fingerprint. */
  private static String newKey(String userId) throws IOException {
    gpg("--passphrase", "", "--quick-gen-key", userId, "ed25519", "sign", "never");
    for (String line : gpg("--with-colons", "--list-keys", userId).split("\n")) {
      if (line.startsWith("fpr:")) {
        return line.split(":")[9];
      }
    }
    throw new IOException("no fingerprint listed for " + userId);
  }

  private static String gpg(String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("gpg", "--homedir", gnupgHome.toString(), "--batch"));
    cmd.addAll(List.of(args));
    return run(cmd, false);
  }

  private static String run(List<String> cmd, boolean quiet) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("GNUPGHOME", gnupgHome.toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(cmd + " timed out");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    if (p.exitValue() != 0 && !quiet) {
      throw new IOException(cmd + " failed (" + p.exitValue() + "): " + out);
    }
    return out;
  }

  private static boolean onPath(String program) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
        return true;
      }
    }
    return false;
  }

  /** {@code git tag -s} by the key {@code fingerprint}. */
  private void signedTag(String name, String fingerprint) throws IOException {
    repo.git("-c", "gpg.program=" + gpgProgram, "tag", "-s", "-u", fingerprint, "-m", "release " + name, name);
  }

  /** Writes a file and commits it with {@code git commit -S} by the trusted key; the commit id. */
  private String signedCommit(String file) throws IOException {
    repo.write(file, "type: t\nname: " + file.replace(".yaml", "") + "\n");
    repo.git("add", "-A");
    repo.git("-c", "gpg.program=" + gpgProgram, "commit", "-q", "-S" + trusted, "-m", "add " + file);
    return repo.head();
  }

  private GitSource source(String ref, SignatureMode mode) {
    return GitSource.builder().url(url).ref(ref).cacheDir(tmp.resolve("cache"))
        .requireSignedBy(trustedRing, mode).build();
  }

  private static Source.ReadRequest request(String pinned) {
    return new Source.ReadRequest(pinned, List.of(YamlManifestDecoder.builder().defaultProvider("m").build()),
        new Cancellation());
  }

  private State read(String ref, SignatureMode mode) {
    try (GitSource s = source(ref, mode)) {
      return s.read(request(null));
    }
  }

  /**
   * A tag made by {@code git tag -s} with a trusted key is read under TAG, the commit unsigned; also
   * when the cache already holds the commit (read through the branch) but not the tag object.
   */
  @Test
  void aSignedTagIsReadUnderTagMode() throws Exception {
    String commit = repo.write("a.yaml", "type: t\nname: a\n").commit("one");
    signedTag("v1.0.0", trusted);
    try (GitSource unsigned = GitSource.builder().url(url).ref("main").cacheDir(tmp.resolve("cache"))
        .build()) {
      unsigned.read(request(null));  // the commit in the cache, the tag object not
    }
    State st = read("v1.0.0", SignatureMode.TAG);
    assertThat(st.revision()).isEqualTo("v1.0.0@sha1:" + commit);
    assertThat(st.get(ResourceKey.of("m", "t", "", "a"))).isPresent();
    assertThat(read("^1.0", SignatureMode.TAG).revision()).as("a version range over signed tags")
        .isEqualTo("v1.0.0@sha1:" + commit);
    // a local repository: its objects copied, or the tag fetched when the cache holds the commit only
    for (String first : List.of("v1.0.0", "main")) {
      Path cache = tmp.resolve("local-cache-" + first);
      try (GitSource branch = GitSource.builder().url(repo.dir().toString()).ref(first).cacheDir(cache).build();
          GitSource tag = GitSource.builder().url(repo.dir().toString()).ref("v1.0.0").cacheDir(cache)
              .requireSignedBy(trustedRing, SignatureMode.TAG).build()) {
        branch.read(request(null));
        assertThat(tag.read(request(null)).revision()).as("local, after " + first).isEqualTo("v1.0.0@sha1:" + commit);
      }
    }
  }

  @Test
  void anUnsignedAnnotatedTagIsRefusedNamingTheTag() throws Exception {
    String commit = repo.write("a.yaml", "type: t\nname: a\n").commit("one");
    repo.tag("v1");
    assertThatThrownBy(() -> read("v1", SignatureMode.TAG)).isInstanceOfSatisfying(SignatureException.class, e -> {
      assertThat(e.tag()).contains("v1");
      assertThat(e.commit()).isEqualTo(commit);
      assertThat(e.getMessage()).startsWith("tag v1 (commit " + commit + ") refused: the tag is not signed")
          .contains(trustedRing.toString()).contains(url + " ref v1 at v1@sha1:" + commit);
    });
  }

  @Test
  void aTagSignedByAKeyOutsideTheRingIsRefused() throws Exception {
    repo.write("a.yaml", "type: t\nname: a\n").commit("one");
    signedTag("v1", stranger);
    assertThatThrownBy(() -> read("v1", SignatureMode.TAG)).isInstanceOfSatisfying(SignatureException.class, e -> {
      assertThat(e.tag()).contains("v1");
      assertThat(e.getMessage()).contains("signed by key " + stranger.substring(24))
          .contains("not in the trusted key ring " + trustedRing);
    });
  }

  /** A signed tag whose message was changed afterwards (git hash-object of the edited object). */
  @Test
  void aTagWhoseContentNoLongerMatchesItsSignatureIsRefused() throws Exception {
    repo.write("a.yaml", "type: t\nname: a\n").commit("one");
    signedTag("v1", trusted);
    String edited = repo.git("cat-file", "tag", "v1").replace("release v1", "release v2");
    Path object = Files.writeString(tmp.resolve("tag-object"), edited);
    String id = repo.git("hash-object", "-t", "tag", "-w", object.toString()).trim();
    repo.git("update-ref", "refs/tags/v1", id);
    assertThatThrownBy(() -> read("v1", SignatureMode.TAG)).isInstanceOfSatisfying(SignatureException.class, e -> {
      assertThat(e.tag()).contains("v1");
      assertThat(e.getMessage()).contains("does not match the tag content");
    });
  }

  /** A branch, a lightweight tag and a commit id are refused under TAG, naming the ref and the mode. */
  @Test
  void aRefThatIsNotAnAnnotatedTagIsRefusedUnderTagMode() throws Exception {
    String commit = signedCommit("a.yaml");
    repo.git("tag", "light");
    assertThatThrownBy(() -> read("main", SignatureMode.TAG)).isInstanceOfSatisfying(SignatureException.class,
        e -> assertThat(e.getMessage()).contains("ref 'main' names the branch refs/heads/main, not an annotated tag")
            .contains("signature mode TAG"));
    assertThatThrownBy(() -> read("light", SignatureMode.TAG_AND_HEAD)).isInstanceOfSatisfying(
        SignatureException.class, e -> assertThat(e.getMessage())
            .contains("ref 'light' names the lightweight tag refs/tags/light").contains("signature mode TAG_AND_HEAD"));
    assertThatThrownBy(() -> source(commit, SignatureMode.TAG)).as("refused by build(), before any fetch")
        .isInstanceOfSatisfying(IllegalStateException.class, e -> assertThat(e.getMessage())
            .contains("ref '" + commit + "' is a commit id, not an annotated tag").contains("signature mode TAG"));
    assertThat(read("main", SignatureMode.HEAD).revision()).as("the commit is signed: HEAD reads it")
        .isEqualTo("main@sha1:" + commit);
  }

  @Test
  void tagAndHeadRefusesAnUnsignedCommitUnderASignedTag() throws Exception {
    String unsigned = repo.write("a.yaml", "type: t\nname: a\n").commit("one");
    signedTag("v1", trusted);
    assertThat(read("v1", SignatureMode.TAG).revision()).isEqualTo("v1@sha1:" + unsigned);
    assertThatThrownBy(() -> read("v1", SignatureMode.TAG_AND_HEAD)).isInstanceOfSatisfying(
        SignatureException.class, e -> {
          assertThat(e.tag()).isEmpty();
          assertThat(e.commit()).isEqualTo(unsigned);
          assertThat(e.getMessage()).contains("the commit is not signed");
        });
    String signed = signedCommit("b.yaml");
    signedTag("v2", trusted);
    assertThat(read("v2", SignatureMode.TAG_AND_HEAD).revision()).isEqualTo("v2@sha1:" + signed);
  }

  /**
   * The no-change fast path does not answer from the store's fingerprint under TAG: a tag made
   * again, unsigned, at the same commit is refused by a new source given the earlier fingerprint,
   * and by the source that read it, reading again.
   */
  @Test
  void aTagMadeAgainUnsignedAtTheSameCommitIsRefusedByTheFastPathAndAgainUnchanged() throws Exception {
    repo.write("a.yaml", "type: t\nname: a\n").commit("one");
    signedTag("v1", trusted);
    String expected;
    try (GitSource first = source("v1", SignatureMode.TAG); GitSource kept = source("v1", SignatureMode.TAG)) {
      expected = first.fingerprint(request(null), null).orElseThrow().fingerprint();
      kept.read(request(null));
      repo.git("tag", "-f", "-a", "-m", "not signed", "v1");
      assertThatThrownBy(() -> kept.read(request(null))).as("the same source, the commit unchanged")
          .isInstanceOfSatisfying(SignatureException.class, e -> assertThat(e.getMessage()).contains("not signed"));
    }
    try (GitSource now = source("v1", SignatureMode.TAG)) {
      assertThat(now.fingerprint(request(null), expected)).as("the tag checked again, and refused").isEmpty();
      assertThatThrownBy(() -> now.read(request(null))).isInstanceOfSatisfying(SignatureException.class,
          e -> assertThat(e.tag()).contains("v1"));
    }
  }

  /** The fingerprint names the mode: a store's marker made under one mode is not current under another. */
  @Test
  void theFingerprintNamesTheMode() throws Exception {
    signedCommit("a.yaml");
    signedTag("v1", trusted);
    List<String> fingerprints = new ArrayList<>();
    for (SignatureMode mode : SignatureMode.values()) {
      try (GitSource s = source("v1", mode)) {
        fingerprints.add(s.fingerprint(request(null), null).orElseThrow().fingerprint());
      }
    }
    assertThat(fingerprints).doesNotHaveDuplicates();
  }

  /** A pinned revision is read under TAG only while the tag its label names still names that commit. */
  @Test
  void aPinnedRevisionIsReadThroughItsSignedTagOnly() throws Exception {
    String older = repo.write("a.yaml", "type: t\nname: a\n").commit("one");
    String newer = repo.write("b.yaml", "type: t\nname: b\n").commit("two");
    signedTag("v1", trusted);
    try (GitSource s = source("v1", SignatureMode.TAG)) {
      assertThat(s.read(request("v1@sha1:" + newer)).revision()).isEqualTo("v1@sha1:" + newer);
      assertThatThrownBy(() -> s.read(request("v1@sha1:" + older))).isInstanceOfSatisfying(SignatureException.class,
          e -> assertThat(e.getMessage()).contains("the pinned revision v1@sha1:" + older
              + " is not the commit the tag refs/tags/v1 names").contains("(it names " + newer + ")"));
    }
  }
}
