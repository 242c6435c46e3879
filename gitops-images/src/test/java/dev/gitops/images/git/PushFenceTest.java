package dev.gitops.images.git;

import static dev.gitops.images.git.GitWriteBackTest.choices;
import static dev.gitops.images.git.GitWriteBackTest.unchecked;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A clustered writer's pushes: a {@code Reconciled-By} trailer, and nothing pushed once its token is stale. */
class PushFenceTest {

  @TempDir
  Path tmp;
  GitRemote remote;
  final AtomicBoolean stale = new AtomicBoolean();
  final PushFence fence = PushFence.of("Reconciled-By: m1@42", () -> {
    if (stale.get()) {
      throw new IllegalStateException("fenced: member m1 no longer owns target images (its token 42 is stale)");
    }
  });

  @BeforeEach
  void start() throws Exception {
    Map<String, String> files = new LinkedHashMap<>();
    files.put("apps/web.yaml", GitWriteBackTest.WEB);
    files.put("apps/api.yaml", GitWriteBackTest.API);
    files.put("README.md", "cluster\n");
    remote = GitRemote.start(tmp, files);
  }

  @AfterEach
  void stop() throws Exception {
    remote.close();
  }

  GitWriteBack.Builder writer() {
    return GitWriteBack.builder(remote.url).branch("main").path("apps").author("Image Bot", "bot@example.com")
        .retryDelay(Duration.ofMillis(20)).pushFence(fence);
  }

  @Test
  void everyPushCarriesTheTrailerAsAGitTrailer() throws Exception {
    try (GitWriteBack git = writer().build()) {
      WriteResult r = git.write(choices("v1.2.4", "v2.0.0"));
      assertThat(r.pushed()).isTrue();
    }
    assertThat(remote.git("log", "-1", "--format=%(trailers:key=Reconciled-By,valueonly)", "main").trim())
        .isEqualTo("m1@42");
    assertThat(remote.git("log", "-1", "--format=%B", "main")).startsWith("Update images\n\n- apps/web.yaml")
        .endsWith("\n\nReconciled-By: m1@42\n\n");
  }

  @Test
  void aStaleWriterPushesNothing() throws Exception {
    String before = remote.git("rev-parse", "main").trim();
    try (GitWriteBack git = writer().beforePush(attempt -> stale.set(true)).build()) {
      assertThatThrownBy(() -> git.write(choices("v1.2.4", "v2.0.0"))).isInstanceOf(GitWriteException.class)
          .hasMessageContaining("fenced").hasMessageContaining("token 42");
    }
    assertThat(remote.git("rev-parse", "main").trim()).isEqualTo(before);
  }

  @Test
  void aWriterThatLostARaceAndThenItsTokenNeitherForcesNorPushesAgain() throws Exception {
    String[] theirs = new String[1];
    try (GitWriteBack git = writer().beforePush(attempt -> {
      if (attempt == 1) {
        // the new owner pushed first: this push is not a fast-forward and is rejected, never forced
        theirs[0] = unchecked(() -> remote.pushFromAnotherClient("main", "README.md", "the new owner's edit\n"));
      } else {
        stale.set(true);  // by the retry, the coordinator says its token is stale
      }
    }).build()) {
      assertThatThrownBy(() -> git.write(choices("v1.2.4", "v2.0.0"))).isInstanceOf(GitWriteException.class)
          .hasMessageContaining("fenced");
    }
    assertThat(remote.git("rev-parse", "main").trim()).isEqualTo(theirs[0]);
    assertThat(remote.show("main", "apps/web.yaml")).isEqualTo(GitWriteBackTest.WEB);
  }

  @Test
  void aTrailerThatIsNotOneKeyValueLineIsRefused() {
    assertThatThrownBy(() -> PushFence.of("Reconciled-By m1", () -> { })).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Reconciled-By m1");
    assertThatThrownBy(() -> PushFence.of("Reconciled-By: m1\nSigned-off-by: x", () -> { }))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
