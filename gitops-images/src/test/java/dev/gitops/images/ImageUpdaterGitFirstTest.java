package dev.gitops.images;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.core.source.GitHttpServer;
import dev.gitops.core.source.TestGitRepo;
import dev.gitops.images.git.GitWriteBack;
import dev.gitops.images.git.GitWriteException;
import dev.gitops.images.git.PathNotFoundException;
import dev.gitops.images.policy.ImagePolicy;
import dev.gitops.images.policy.TagOrder;
import dev.gitops.images.registry.RegistryClient;
import dev.gitops.images.registry.RegistryStub;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Git is checked before any registry is asked: a mistyped URL, branch or path fails at once, not
 * after a scan of every registry (minutes against one that stalls).
 */
class ImageUpdaterGitFirstTest {

  @TempDir
  Path tmp;
  RegistryStub registry;
  GitHttpServer http;
  Path bare;

  @BeforeEach
  void start() throws Exception {
    registry = RegistryStub.start(ex -> RegistryStub.reply(ex, 200, ex.getRequestURI().getPath().endsWith("/tags/list")
        ? "{\"name\":\"team/web\",\"tags\":[\"v1.2.3\",\"v1.2.4\"]}" : "{}",
        "Docker-Content-Digest", "sha256:" + "a".repeat(64)));
    TestGitRepo seed = TestGitRepo.init(tmp.resolve("seed"));
    seed.write("apps/web.yaml", "image: " + registry.host() + "/team/web:v1.2.3 # {\"$imagepolicy\": \"apps:web\"}\n")
        .commit("seed");
    bare = tmp.resolve("served/cluster.git");
    seed.git("clone", "-q", "--bare", seed.dir().toString(), bare.toString());
    seed.git("-C", bare.toString(), "config", "http.receivepack", "true");
    http = GitHttpServer.start(tmp.resolve("served"));
  }

  @AfterEach
  void stop() throws Exception {
    if (http != null) {
      http.close();
    }
    if (registry != null) {
      registry.close();
    }
  }

  private ImageUpdater updater(String repo, UnaryOperator<GitWriteBack.Builder> git) {
    return ImageUpdater.builder()
        .registry(RegistryClient.builder().plainHttp(registry.host()).build())
        .policy(ImagePolicy.builder("apps:web", registry.host() + "/team/web").order(TagOrder.semver("^1.2")).build())
        .git(git.apply(GitWriteBack.builder(http.url(repo)).branch("main").path("apps")
            .author("Image Bot", "bot@example.com")).build())
        .build();
  }

  @Test
  void aMistypedPathBranchOrRepositoryFailsBeforeAnyRegistryIsAsked() {
    try (ImageUpdater updater = updater("cluster.git", g -> g.path("aps"))) {
      assertThatThrownBy(updater::preview).isInstanceOf(PathNotFoundException.class)
          .hasMessageContaining("path 'aps' is not in branch main");
      assertThatThrownBy(updater::run).isInstanceOf(PathNotFoundException.class);
    }
    try (ImageUpdater updater = updater("cluster.git", g -> g.branch("mian"))) {
      assertThatThrownBy(updater::run).isInstanceOf(GitWriteException.class)
          .hasMessageContaining("branch mian does not exist");
    }
    try (ImageUpdater updater = updater("clutser.git", g -> g)) {
      assertThatThrownBy(updater::run).isInstanceOf(GitWriteException.class).hasMessageContaining("clutser.git");
    }
    assertThat(registry.seen()).as("requests to the registry").isEmpty();

    try (ImageUpdater updater = updater("cluster.git", g -> g)) {
      ImageUpdateResult r = updater.run();
      assertThat(r.status()).isEqualTo(ImageUpdateResult.Status.PUSHED);
      assertThat(registry.seen()).isNotEmpty();
      assertThat(updater.run().status()).as("nothing moved").isEqualTo(ImageUpdateResult.Status.UNCHANGED);
    }
  }
}
