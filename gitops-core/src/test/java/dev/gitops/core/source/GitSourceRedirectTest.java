package dev.gitops.core.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.gitops.api.Cancellation;
import dev.gitops.api.SourceException;
import dev.gitops.api.State;
import dev.gitops.api.spi.Source;
import dev.gitops.core.decode.YamlManifestDecoder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP credentials are given to the origin (scheme, host, port) of the configured URL only: a
 * redirect to another origin gets none, as with git, which keeps credentials per URL.
 */
@Timeout(120)
class GitSourceRedirectTest {

  private static final String SECRET = "s3cr3t-PW-redirect";

  @TempDir Path tmp;
  private Path served;
  private final List<GitSource> sources = new ArrayList<>();
  private final List<AutoCloseable> servers = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    served = tmp.resolve("served");
    TestGitRepo.init(served.resolve("repo")).write("a.yaml", "provider: m\ntype: t\nname: a\nspec: {x: 1}\n")
        .commit("one");
  }

  @AfterEach
  void tearDown() throws Exception {
    sources.forEach(GitSource::close);
    for (AutoCloseable s : servers) {
      s.close();
    }
  }

  private State read(String url, Credentials credentials) {
    GitSource s = GitSource.builder().url(url).ref("main").cacheDir(tmp.resolve("cache"))
        .credentials(credentials).build();
    sources.add(s);
    return s.read(new Source.ReadRequest(null, List.of(YamlManifestDecoder.create()), new Cancellation()));
  }

  /**
   * A server on 127.0.0.1 (another port: another origin) answering every request with a 301 to the
   * same path under {@code to}; with {@code askAuth} it first asks for basic authentication, so the
   * client has already sent its credentials to this origin when it is redirected.
   */
  private Redirector redirector(String to, boolean askAuth) throws IOException {
    Redirector r = new Redirector(to, askAuth);
    servers.add(r);
    return r;
  }

  private static final class Redirector implements AutoCloseable {
    final HttpServer server;
    final AtomicInteger redirected = new AtomicInteger();

    Redirector(String to, boolean askAuth) throws IOException {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
      server.createContext("/", ex -> answer(ex, to, askAuth));
      server.start();
    }

    private void answer(HttpExchange ex, String to, boolean askAuth) throws IOException {
      try (ex) {
        ex.getRequestBody().readAllBytes();
        if (askAuth && ex.getRequestHeaders().getFirst("Authorization") == null) {
          ex.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"git\"");
          ex.sendResponseHeaders(401, -1);
          return;
        }
        redirected.incrementAndGet();
        URI u = ex.getRequestURI();
        ex.getResponseHeaders().add("Location", to + u.getRawPath() + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery()));
        ex.sendResponseHeaders(301, -1);
      }
    }

    String url(String path) {
      return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }

  @Test
  void credentialsAreNotSentToTheOriginARedirectLeadsTo() throws Exception {
    GitHttpServer http = GitHttpServer.start(served, "alice", SECRET);
    servers.add(http);
    String other = http.url("").replaceAll("/git/$", "");
    for (boolean askAuth : new boolean[] {false, true}) {
      Redirector redirect = redirector(other, askAuth);
      for (Credentials c : List.of(Credentials.basic("alice", SECRET), Credentials.token(SECRET))) {
        String url = redirect.url("/git/repo");
        assertThatThrownBy(() -> read(url, c)).as("redirect to another port, askAuth=%s, %s", askAuth, c)
            .isInstanceOf(SourceException.class).hasMessageContaining(url).hasMessageNotContaining(SECRET);
      }
      assertThat(redirect.redirected.get()).as("the redirect was followed").isPositive();
    }
    assertThat(http.requests()).as("the other origin was asked").isPositive();
    assertThat(http.requestsWithAuthorization()).as("requests to the other origin carrying credentials").isZero();
  }

  @Test
  void credentialsInTheUrlAreNotSentToTheOriginARedirectLeadsTo() throws Exception {
    GitHttpServer http = GitHttpServer.start(served, "alice", SECRET);
    servers.add(http);
    String other = http.url("").replaceAll("/git/$", "");
    for (boolean askAuth : new boolean[] {false, true}) {
      Redirector redirect = redirector(other, askAuth);
      String url = redirect.url("/git/repo").replace("http://", "http://alice:" + SECRET + "@");
      GitSource s = GitSource.builder().url(url).ref("main").cacheDir(tmp.resolve("cache")).build();
      sources.add(s);
      assertThatThrownBy(() -> s.read(new Source.ReadRequest(null, List.of(YamlManifestDecoder.create()), new Cancellation())))
          .as("redirect to another port, askAuth=%s", askAuth)
          .isInstanceOf(SourceException.class).hasMessageNotContaining(SECRET);
      assertThat(redirect.redirected.get()).as("the redirect was followed").isPositive();
    }
    assertThat(http.requests()).as("the other origin was asked").isPositive();
    assertThat(http.requestsWithAuthorization()).as("requests to the other origin carrying credentials").isZero();
  }

  @Test
  void credentialsStillReachTheConfiguredOrigin() throws Exception {
    GitHttpServer http = GitHttpServer.start(served, "alice", SECRET);
    servers.add(http);
    State st = read(http.url("repo"), Credentials.basic("alice", SECRET));
    assertThat(st.resources()).hasSize(1);
    assertThat(http.requestsWithAuthorization()).isPositive();
  }
}
