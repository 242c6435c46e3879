package dev.gitops.core.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gitops.api.Cancellation;
import dev.gitops.api.SourceException;
import dev.gitops.api.spi.Source;
import dev.gitops.core.decode.YamlManifestDecoder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every URL the builder takes is one a fetch can use: a URL a fetch would fail on (a port out of
 * range, a host no name service could resolve, no repository path, a control character a {@code
 * git://} server cuts its request at) is refused by {@link GitSource.Builder#url} naming the part
 * at fault; and every message quoting the URL, the ref or the path quotes it on one line, control
 * characters escaped. Served by real {@code git daemon} on 127.0.0.1.
 */
class GitSourceUrlTest {

  @TempDir Path tmp;
  private GitDaemonServer daemon;
  private final List<GitSource> sources = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    TestGitRepo.init(tmp.resolve("served/repo")).write("a.yaml", "provider: m\ntype: t\nname: a\nspec: {x: 1}\n")
        .commit("one");
    daemon = GitDaemonServer.start(tmp.resolve("served"));
  }

  @AfterEach
  void tearDown() throws Exception {
    sources.forEach(GitSource::close);
    daemon.close();
  }

  private GitSource source(String url, String ref, String path) {
    GitSource s = GitSource.builder().url(url).ref(ref).path(path).cacheDir(tmp.resolve("cache" + sources.size())).build();
    sources.add(s);
    return s;
  }

  private static SourceException readFails(GitSource s) {
    return catchThrowableOfType(
        () -> s.read(new Source.ReadRequest(null, List.of(YamlManifestDecoder.create()), new Cancellation())),
        SourceException.class);
  }

  private static IllegalArgumentException refused(String url) {
    IllegalArgumentException e = catchThrowableOfType(() -> GitSource.builder().url(url), IllegalArgumentException.class);
    assertThat(e).as("url %s is refused by the builder", url.replace("\n", "\\n")).isNotNull();
    assertThat(e.getMessage()).as(url).doesNotMatch("(?s).*\\p{Cntrl}.*");
    return e;
  }

  @Test
  void aPortOutOfRangeIsRefusedWhenBuiltNamingThePort() {
    String repo = daemon.url("repo");
    String at = "127.0.0.1:" + daemon.port();
    for (String port : new String[] {"99999", "65536", "0"}) {
      for (String url : new String[] {repo.replace(at, "127.0.0.1:" + port), "http://127.0.0.1:" + port + "/git/repo",
          "ssh://git@127.0.0.1:" + port + "/repo.git"}) {
        assertThat(refused(url)).hasMessage("'" + url + "': port " + port + " is out of range (1 to 65535)");
      }
    }
  }

  @Test
  void aHostWithACharacterNoHostNameHoldsIsRefusedWhenBuilt() {
    for (String host : new String[] {"exa mple.com", "1%0a27.0.0.1", "ho\u202est"}) {
      String url = "https://" + host + "/ops.git";
      assertThat(refused(url).getMessage()).as(host).contains("host '").contains("' is not a host name or address");
    }
    assertThat(refused("https://1%0a27.0.0.1/ops.git").getMessage()).contains("host '1\\n27.0.0.1'");
  }

  /** An HTTP(S) host with '_' is refused when built: the JDK's HTTP stack refuses it at every fetch; git:// takes it. */
  @Test
  void anHttpHostWithAnUnderscoreIsRefusedWhenBuiltAndAGitDaemonHostIsNot() {
    for (String url : new String[] {"https://h_x/x.git", "http://git_server.example.com:8080/ops.git"}) {
      assertThat(refused(url).getMessage()).as(url).contains("holds '_', which no HTTP(S) fetch takes in a host name");
    }
    assertThat(GitSource.builder().url("git://git_server.example.com/ops.git")).isNotNull();
  }

  @Test
  void aRemoteUrlWithoutARepositoryPathIsRefusedWhenBuilt() {
    for (String url : new String[] {"http://127.0.0.1:9", "https://git.example.com/", "git://127.0.0.1:9/"}) {
      assertThat(refused(url).getMessage()).as(url).contains("names no repository path after the host");
    }
  }

  @Test
  void aFileUrlWithAHostOrWithoutAPathIsRefusedWhenBuilt() {
    for (String url : new String[] {"file://host/tmp/repo", "file://", "file://alice@/tmp/repo"}) {
      assertThat(refused(url).getMessage()).as(url).contains("a file: URL");
    }
    assertThat(GitSource.builder().url("file://" + tmp.resolve("served/repo"))).isNotNull();
  }

  @Test
  void aControlCharacterInARemotePathIsRefusedWhenBuiltOnOneLine() {
    // git daemon cuts its request at a NUL and a line break: "repo%00x" and "repo%0a" would read "repo"
    for (String suffix : new String[] {"%0a", "%00x", "%0a.git", "%1b[31m"}) {
      String url = daemon.url("repo") + suffix;
      assertThat(refused(url).getMessage()).as(url).startsWith("'" + url + "': its path '")
          .contains("holds a control or format character");
    }
    assertThat(refused("http://127.0.0.1:9/r%0a.git")).hasMessage(
        "'http://127.0.0.1:9/r%0a.git': its path '/r\\n.git' holds a control or format character");
    assertThat(refused("git://127.0.0.1:9/re\npo")).hasMessageContaining("'git://127.0.0.1:9/re\\npo'");
  }

  @Test
  void aLocalPathWithALineBreakIsQuotedOnOneLine() {
    String url = tmp.resolve("no\nrepo").toString();
    SourceException e = readFails(source(url, "main", ""));
    assertThat(e.getMessage()).doesNotMatch("(?s).*\\p{Cntrl}.*").contains("no\\nrepo");
  }

  @Test
  void aRefWithAControlCharacterIsRefusedAndAPathWithOneIsQuotedOnOneLine() {
    IllegalArgumentException e = catchThrowableOfType(() -> GitSource.builder().ref("ma\nin"),
        IllegalArgumentException.class);
    assertThat(e).hasMessage("ref 'ma\\nin' holds a control or format character, which no branch, tag or commit id does");
    assertThat(GitSource.builder().ref(" main\n")).as("blanks around a ref are trimmed").isNotNull();

    GitSource s = source(daemon.url("repo"), "main", "ap\nps");
    assertThat(s.describe()).isEqualTo("git " + daemon.url("repo") + " ref main path ap\\nps");
    assertThat(readFails(s).getMessage()).doesNotMatch("(?s).*\\p{Cntrl}.*").contains("path 'ap\\nps' does not exist");
    IllegalArgumentException abs = catchThrowableOfType(() -> GitSource.builder().path("/etc\n/x"),
        IllegalArgumentException.class);
    assertThat(abs).hasMessage("path must be relative to the repository root: '/etc\\n/x'");
  }

  @Test
  void usableUrlsAreStillTaken() {
    for (String url : new String[] {"https://git.example.com/ops.git", "https://git.example.com:8443/ops/desired.git",
        "git://[::1]:9418/repo", "git://my_host.internal/x.git", "git@git.example.com:ops.git", "ops/local-repo",
        "https://git.example.com/ops%20team/desired.git"}) {
      assertThat(GitSource.builder().url(url)).as(url).isNotNull();
    }
  }
}
