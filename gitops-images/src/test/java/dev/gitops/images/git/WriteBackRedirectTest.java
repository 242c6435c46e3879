package dev.gitops.images.git;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.gitops.core.source.GitHttpServer;
import dev.gitops.core.source.TestGitRepo;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The write-back's Git credentials stay with the repository's origin, as the Git source's do. */
@Timeout(120)
class WriteBackRedirectTest {

  private static final String SECRET = "wb-s3cr3t-redirect";

  @TempDir Path tmp;

  @Test
  void aRedirectToAnotherOriginGetsNoCredentials() throws Exception {
    TestGitRepo seed = TestGitRepo.init(tmp.resolve("seed"));
    seed.write("apps/web.yaml", "image: registry.example.com/team/web:v1 # {\"$imagepolicy\": \"apps:web\"}\n")
        .commit("seed");
    Path bare = tmp.resolve("served/cluster.git");
    seed.git("clone", "-q", "--bare", seed.dir().toString(), bare.toString());
    AtomicInteger redirected = new AtomicInteger();
    try (GitHttpServer http = GitHttpServer.start(tmp.resolve("served"), "alice", SECRET)) {
      String to = http.url("").replaceAll("/git/$", "");
      HttpServer redirector = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
      redirector.createContext("/", ex -> {
        try (ex) {
          ex.getRequestBody().readAllBytes();
          if (ex.getRequestHeaders().getFirst("Authorization") == null) {
            // asks first, so the client has answered this origin once before it is redirected
            ex.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"git\"");
            ex.sendResponseHeaders(401, -1);
            return;
          }
          redirected.incrementAndGet();
          URI u = ex.getRequestURI();
          ex.getResponseHeaders().add("Location", to + u.getRawPath() + (u.getRawQuery() == null ? "" : "?"
              + u.getRawQuery()));
          ex.sendResponseHeaders(301, -1);
        }
      });
      redirector.start();
      try {
        String url = "http://127.0.0.1:" + redirector.getAddress().getPort() + "/git/cluster.git";
        assertThatThrownBy(() -> {
          try (GitWriteBack git = GitWriteBack.builder(url).branch("main").path("apps")
              .author("Image Bot", "bot@example.com").credentials("alice", SECRET).build()) {
            git.preview(Map.of());
          }
        }).hasMessageNotContaining(SECRET);
      } finally {
        redirector.stop(0);
      }
      assertThat(redirected.get()).as("the redirect was followed").isPositive();
      assertThat(http.requestsWithAuthorization()).as("requests to the other origin carrying credentials").isZero();
    }
  }
}
