package dev.gitops.core.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Cancellation;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SourceException;
import dev.gitops.api.State;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.Source;
import dev.gitops.core.decode.YamlManifestDecoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class GitSourceSshTest {

  @TempDir Path tmp;
  private TestGitRepo repo;
  private KeyPair clientKey;
  private Path keyFile;
  private Path knownHosts;
  private GitSshServer server;
  private final List<GitSource> sources = new ArrayList<>();
  private final Decoder yaml = YamlManifestDecoder.builder().defaultProvider("memory").build();

  @BeforeEach
  void setUp() throws Exception {
    repo = TestGitRepo.init(tmp.resolve("served/repo"));
    repo.write("apps/web.yaml", GitSourceTest.manifest("web", "1")).commit("init");
    clientKey = GitSshServer.newKeyPair();
    keyFile = GitSshServer.writePrivateKey(clientKey, tmp.resolve("keys/id_ecdsa"), null);
    knownHosts = tmp.resolve("keys/known_hosts");
    server = GitSshServer.start(tmp.resolve("served"), clientKey.getPublic());
  }

  @AfterEach
  void tearDown() throws Exception {
    sources.forEach(GitSource::close);
    server.close();
  }

  private GitSource source(GitSource.Builder b) {
    GitSource s = b.build();
    sources.add(s);
    return s;
  }

  private GitSource.Builder builder(Credentials credentials) {
    return GitSource.builder().url(server.url("repo")).ref("main").cacheDir(tmp.resolve("cache"))
        .credentials(credentials).timeout(Duration.ofSeconds(15));
  }

  private State read(GitSource s) {
    return s.read(new Source.ReadRequest(null, List.of(yaml), new Cancellation()));
  }

  private static String web(State st) {
    return st.get(ResourceKey.of("memory", "widget", "", "web")).orElseThrow().document().get("value").asText();
  }

  @Test
  void fetchesOverSshWithTheKeyAndAKnownHost() throws Exception {
    Files.writeString(knownHosts, "# comment\nother.example.com " + server.knownHostsLine().split(" ", 2)[1]
        + server.knownHostsLine());
    GitSource s = source(builder(Credentials.sshKey(keyFile)).knownHosts(knownHosts));
    State first = read(s);
    assertThat(first.revision()).isEqualTo("main@sha1:" + repo.head());
    assertThat(web(first)).isEqualTo("1");

    String sha = repo.write("apps/web.yaml", GitSourceTest.manifest("web", "2")).commit("two");
    State second = read(s);
    assertThat(second.revision()).isEqualTo("main@sha1:" + sha);
    assertThat(web(second)).isEqualTo("2");
    assertThat(read(s).unchanged()).isTrue();
    assertThat(s.fetchCount()).isEqualTo(2);
    assertThat(server.uploads()).as("ls-remote and fetch both went over SSH").isGreaterThanOrEqualTo(4);
    assertThat(s.repositoryDirectory().getParent().resolve("ssh-home")).isEmptyDirectory();
  }

  @Test
  void readsWithAnEncryptedKeyAndItsPassphrase() throws Exception {
    Files.writeString(knownHosts, server.knownHostsLine());
    Path encrypted = GitSshServer.writePrivateKey(clientKey, tmp.resolve("keys/id_enc"), "open sesame 42");
    GitSource s = source(builder(Credentials.sshKey(encrypted, "open sesame 42".toCharArray())).knownHosts(knownHosts));
    assertThat(web(read(s))).isEqualTo("1");
  }

  @Test
  void wrongPassphraseFailsNamingTheKeyFileWithoutThePassphrase() throws Exception {
    Files.writeString(knownHosts, server.knownHostsLine());
    Path encrypted = GitSshServer.writePrivateKey(clientKey, tmp.resolve("keys/id_enc"), "open sesame 42");
    assertThatThrownBy(() -> builder(Credentials.sshKey(encrypted, "wrong-pass-77".toCharArray()))
        .knownHosts(knownHosts).build())
        .isInstanceOf(SourceException.class)
        .hasMessageContaining(encrypted.toString())
        .satisfies(e -> assertThat(chain(e)).doesNotContain("wrong-pass-77").doesNotContain("open sesame"));
    assertThatThrownBy(() -> builder(Credentials.sshKey(encrypted)).knownHosts(knownHosts).build())
        .isInstanceOf(SourceException.class).hasMessageContaining(encrypted.toString())
        .hasMessageContaining("no passphrase");
  }

  @Test
  void unknownHostIsRefusedByDefaultNamingHostPortAndFile() throws Exception {
    Files.writeString(knownHosts, "other.example.com " + server.knownHostsLine().split(" ", 2)[1]);
    GitSource s = source(builder(Credentials.sshKey(keyFile)).knownHosts(knownHosts));
    assertThatThrownBy(() -> read(s))
        .isInstanceOf(SourceException.class)
        .hasMessageContaining("unknown SSH host 127.0.0.1 port " + server.port())
        .hasMessageContaining("not in the known_hosts file " + knownHosts)
        .hasMessageContaining(server.url("repo"));
    assertThat(server.authAttempts()).as("the key is never offered to an unknown host").isZero();
    assertThat(server.uploads()).isZero();
  }

  @Test
  void missingKnownHostsFileRefusesTheHostNamingTheFile() throws Exception {
    Path absent = tmp.resolve("keys/absent_known_hosts");
    GitSource s = source(builder(Credentials.sshKey(keyFile)).knownHosts(absent));
    assertThatThrownBy(() -> read(s)).isInstanceOf(SourceException.class)
        .hasMessageContaining("the known_hosts file " + absent + " does not exist");
    assertThat(server.uploads()).isZero();
  }

  @Test
  void changedHostKeyIsRefusedEvenWithStrictCheckingOff() throws Exception {
    KeyPair impostor = GitSshServer.newKeyPair();
    Files.writeString(knownHosts, server.knownHostsLine(impostor.getPublic()));
    GitSource s = source(builder(Credentials.sshKey(keyFile)).knownHosts(knownHosts).strictHostKeyChecking(false));
    assertThatThrownBy(() -> read(s))
        .isInstanceOf(SourceException.class)
        .hasMessageContaining("host key of 127.0.0.1 port " + server.port() + " has CHANGED")
        .hasMessageContaining(knownHosts.toString())
        .hasMessageContaining(org.apache.sshd.common.config.keys.KeyUtils.getFingerPrint(server.hostKey()));
    assertThat(server.authAttempts()).isZero();
    assertThat(server.uploads()).isZero();
  }

  @Test
  void aRevokedHostKeyIsRefusedEvenWhereItIsAlsoListedAndStrictCheckingIsOff() throws Exception {
    String key = server.knownHostsLine().split(" ", 2)[1];
    Files.writeString(knownHosts, server.knownHostsLine() + "@revoked * " + key);
    GitSource s = source(builder(Credentials.sshKey(keyFile)).knownHosts(knownHosts).strictHostKeyChecking(false));
    assertThatThrownBy(() -> read(s))
        .isInstanceOf(SourceException.class)
        .hasMessageContaining("host key of 127.0.0.1 port " + server.port())
        .hasMessageContaining("marked @revoked in the known_hosts file " + knownHosts);
    assertThat(server.authAttempts()).as("the key is never offered to a revoked host key").isZero();
    assertThat(server.uploads()).isZero();
  }

  @Test
  @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)  // MINA alone waits 2 minutes
  void aServerThatAcceptsAndNeverSpeaksSshFailsTheReadAtTheTimeout() throws Exception {
    try (SilentServer silent = SilentServer.start()) {
      String url = "ssh://git@127.0.0.1:" + silent.port() + "/repo";
      GitSource s = source(GitSource.builder().url(url).ref("main").cacheDir(tmp.resolve("cache-silent"))
          .credentials(Credentials.sshKey(keyFile)).strictHostKeyChecking(false).timeout(Duration.ofSeconds(2)));
      long start = System.nanoTime();
      assertThatThrownBy(() -> read(s)).isInstanceOf(SourceException.class).hasMessageContaining(url)
          .hasMessageContaining("timed out after 2000 ms setting up the SSH session")
          .hasMessageNotContaining("was refused");  // a timeout, not a refused key
      assertThat(Duration.ofNanos(System.nanoTime() - start)).as("bounded by the timeout, not MINA's two minutes")
          .isLessThan(Duration.ofSeconds(30));
      assertThat(silent.connections()).isPositive();
    }
    assertThat(Thread.currentThread().isInterrupted()).as("the watchdog's interrupt is not left behind").isFalse();
  }

  @Test
  void anIpv6LiteralUrlIsReadAndItsHostKeyCheckedAsOpenSshWritesIt() throws Exception {
    try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("::1"))) {
      // a host without IPv6 on its loopback cannot run this
    } catch (java.io.IOException e) {
      org.junit.jupiter.api.Assumptions.abort("no IPv6 loopback: " + e);
    }
    try (GitSshServer v6 = GitSshServer.start(tmp.resolve("served"), clientKey.getPublic(), "::1")) {
      String url = v6.url("repo");
      assertThat(url).startsWith("ssh://git@[::1]:");
      // JGit handed MINA the host as "[::1]": every IPv6 URL failed before connecting, with
      // "Invalid non-standard port value host pattern enclosure delimiters in [::1]"
      Files.writeString(knownHosts, v6.knownHostsLine());
      GitSource s = source(GitSource.builder().url(url).ref("main").cacheDir(tmp.resolve("cache-v6"))
          .credentials(Credentials.sshKey(keyFile)).knownHosts(knownHosts).timeout(Duration.ofSeconds(15)));
      assertThat(web(read(s))).isEqualTo("1");

      Files.writeString(knownHosts, "[::1]:" + (v6.port() + 1) + " " + v6.knownHostsLine().split(" ", 2)[1]);
      GitSource unknown = source(GitSource.builder().url(url).ref("main").cacheDir(tmp.resolve("cache-v6b"))
          .credentials(Credentials.sshKey(keyFile)).knownHosts(knownHosts).timeout(Duration.ofSeconds(15)));
      assertThatThrownBy(() -> read(unknown)).isInstanceOf(SourceException.class)
          .hasMessageContaining("unknown SSH host ::1 port " + v6.port())
          .hasMessageContaining("add a line for [::1]:" + v6.port());
    }
  }

  @Test
  void strictCheckingOffAcceptsAnUnknownHost() throws Exception {
    GitSource s = source(builder(Credentials.sshKey(keyFile)).strictHostKeyChecking(false));
    assertThat(web(read(s))).isEqualTo("1");
    assertThat(knownHosts).as("nothing is written").doesNotExist();
  }

  @Test
  void wrongClientKeyIsRefusedNamingUrlUserAndKeyFile() throws Exception {
    Files.writeString(knownHosts, server.knownHostsLine());
    KeyPair stranger = GitSshServer.newKeyPair();
    Path strangerFile = GitSshServer.writePrivateKey(stranger, tmp.resolve("keys/id_stranger"), null);
    String keyText = Files.readString(strangerFile);
    String keyBody = keyText.lines().filter(l -> !l.startsWith("-----")).findFirst().orElseThrow();
    GitSource s = source(builder(Credentials.sshKey(strangerFile)).knownHosts(knownHosts));
    assertThatThrownBy(() -> read(s))
        .isInstanceOf(SourceException.class)
        .hasMessageContaining(server.url("repo"))
        .hasMessageContaining("user 'git'")
        .hasMessageContaining(strangerFile.toString())
        .satisfies(e -> assertThat(chain(e)).doesNotContain(keyBody)
            .doesNotContain(Base64.getEncoder().encodeToString(stranger.getPrivate().getEncoded())));
    assertThat(server.authAttempts()).isPositive();
    assertThat(server.uploads()).isZero();
  }

  @Test
  void sshUrlsNeedAnSshKeyAndAKnownHostsFile() {
    assertThatThrownBy(() -> GitSource.builder().url("git@example.com:ops.git").knownHosts(knownHosts).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("Credentials.sshKey");
    assertThatThrownBy(() -> GitSource.builder().url("ssh://git@example.com/ops.git")
        .credentials(Credentials.token("t0ken-xyz")).knownHosts(knownHosts).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("Credentials.sshKey")
        .hasMessageNotContaining("t0ken-xyz");
    assertThatThrownBy(() -> GitSource.builder().url("git@example.com:ops.git")
        .credentials(Credentials.sshKey(keyFile)).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("knownHosts");
    assertThatThrownBy(() -> GitSource.builder().url("https://example.com/ops.git")
        .credentials(Credentials.sshKey(keyFile)).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("https://example.com/ops.git");
    assertThatThrownBy(() -> GitSource.builder().url("git@example.com:ops.git")
        .credentials(Credentials.sshKey(tmp.resolve("nope"))).knownHosts(knownHosts).build())
        .isInstanceOf(SourceException.class).hasMessageContaining(tmp.resolve("nope").toString());
    assertThat(Credentials.sshKey(keyFile, "pw-123".toCharArray()).toString()).doesNotContain("pw-123")
        .contains(keyFile.toString());
  }

  private static String chain(Throwable e) {
    StringBuilder sb = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      sb.append(t).append('\n');
      for (Throwable s : t.getSuppressed()) {
        sb.append(s).append('\n');
      }
    }
    return sb.toString();
  }
}
