package dev.gitops.core.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gitops.api.Cancellation;
import dev.gitops.api.SourceException;
import dev.gitops.api.State;
import dev.gitops.api.spi.Source;
import dev.gitops.core.LogCapture;
import dev.gitops.core.decode.YamlManifestDecoder;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A token given as the user name of an HTTP URL ({@code http://TOKEN@host/...}, as GitHub and
 * GitLab document it) or a password in it is never shown: not in the source's description, nor in
 * an error's message, cause chain or stack trace, nor in a log line; it is shown as {@code ***}.
 * Served by real {@code git http-backend} with basic authentication on 127.0.0.1.
 */
class GitSourceUrlSecretsTest {

  private static final String TOKEN = "ghp_9fTq2LmX7vR4sB1nK8dZ0cW5yH3jA6uE";

  @TempDir Path tmp;
  private GitHttpServer http;
  private final List<GitSource> sources = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    TestGitRepo.init(tmp.resolve("served/repo")).write("a.yaml", "provider: m\ntype: t\nname: a\nspec: {x: 1}\n")
        .commit("one");
    http = GitHttpServer.start(tmp.resolve("served"), "alice", "right-pw-77");
  }

  @AfterEach
  void tearDown() throws Exception {
    sources.forEach(GitSource::close);
    http.close();
  }

  /** {@code http://127.0.0.1:<port>/git/repo} with {@code userInfo} before the host. */
  private String url(String userInfo) {
    return http.url("repo").replace("http://", "http://" + userInfo + "@");
  }

  private GitSource source(String url, Credentials credentials) {
    GitSource.Builder b = GitSource.builder().url(url).ref("main").cacheDir(tmp.resolve("cache" + sources.size()));
    GitSource s = (credentials == null ? b : b.credentials(credentials)).build();
    sources.add(s);
    return s;
  }

  private static State read(GitSource s) {
    return s.read(new Source.ReadRequest(null, List.of(YamlManifestDecoder.create()), new Cancellation()));
  }

  /** Everything a user could be shown of {@code e}: each message and string of its chain, and its stack trace. */
  private static String shown(Throwable e) {
    StringWriter trace = new StringWriter();
    e.printStackTrace(new PrintWriter(trace));
    StringBuilder all = new StringBuilder(trace.toString());
    for (Throwable t = e; t != null; t = t.getCause()) {
      all.append('\n').append(t.getMessage()).append('\n').append(t);
    }
    return all.toString();
  }

  @Test
  void aTokenAsTheUserNameIsNeverShownInErrorsTracesOrLogs() {
    try (LogCapture logs = LogCapture.of("dev.gitops", "TRACE")) {
      GitSource s = source(url(TOKEN), null);
      assertThat(s.describe()).contains("http://***@127.0.0.1:").doesNotContain(TOKEN);
      assertThat(s.toString()).doesNotContain(TOKEN);
      SourceException e = catchThrowableOfType(SourceException.class, () -> read(s));
      assertThat(e).isNotNull();
      assertThat(e.getMessage()).contains("***@127.0.0.1").contains("ref main");
      assertThat(shown(e)).doesNotContain(TOKEN);
      assertThat(String.join("\n", logs.lines())).doesNotContain(TOKEN);
    }
    assertThat(http.refusedRequests()).as("the server was asked, and refused").isPositive();
  }

  @Test
  void aTokenAsTheUserNameWithTheTokenAlsoInTheCredentialsIsNeverShownWhenTheServerRefusesIt() {
    try (LogCapture logs = LogCapture.of("dev.gitops", "TRACE")) {
      GitSource s = source(url(TOKEN), Credentials.token(TOKEN));
      SourceException e = catchThrowableOfType(SourceException.class, () -> read(s));
      assertThat(e).isNotNull();
      assertThat(shown(e)).doesNotContain(TOKEN);
      assertThat(String.join("\n", logs.lines())).doesNotContain(TOKEN);
    }
  }

  @Test
  void aPasswordInTheUrlIsShownAsStarsWhetherTheReadFailsOrSucceeds() {
    try (LogCapture logs = LogCapture.of("dev.gitops", "TRACE")) {
      GitSource wrong = source(url("alice:wrong-pw-4242"), null);
      SourceException e = catchThrowableOfType(SourceException.class, () -> read(wrong));
      assertThat(e).isNotNull();
      assertThat(e.getMessage()).contains("alice:***@127.0.0.1");
      assertThat(shown(e)).doesNotContain("wrong-pw-4242");

      GitSource right = source(url("alice:right-pw-77"), null);
      assertThat(read(right).resources()).hasSize(1);
      assertThat(right.describe()).contains("alice:***@127.0.0.1").doesNotContain("right-pw-77");
      assertThat(logs.lines()).anyMatch(l -> l.contains("read 1 resources") && l.contains("alice:***@"));
      assertThat(String.join("\n", logs.lines())).doesNotContain("wrong-pw-4242").doesNotContain("right-pw-77");
    }
  }
}
