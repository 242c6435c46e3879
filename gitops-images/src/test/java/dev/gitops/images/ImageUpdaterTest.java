package dev.gitops.images;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.SyncResult;
import dev.gitops.core.Reconciler;
import dev.gitops.core.files.LocalFilesProvider;
import dev.gitops.core.source.GitHttpServer;
import dev.gitops.core.source.GitSource;
import dev.gitops.core.source.TestGitRepo;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.images.git.EditConflict;
import dev.gitops.images.git.GitWriteBack;
import dev.gitops.images.git.ImageUpdate;
import dev.gitops.images.policy.ImagePolicy;
import dev.gitops.images.policy.TagOrder;
import dev.gitops.images.registry.DockerRegistry;
import dev.gitops.images.registry.RegistryClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole chain with real parts: docker-registry on loopback, a Git remote over {@code git
 * http-backend}, the updater and its loop, and the core's files provider syncing what the commit wrote.
 */
class ImageUpdaterTest {

  @TempDir
  Path tmp;
  DockerRegistry registry;
  GitHttpServer http;
  TestGitRepo seed;
  Path bare;
  String url;
  String deployment;

  @BeforeEach
  void start() throws Exception {
    DockerRegistry.assumeAvailable();
    registry = DockerRegistry.builder(tmp.resolve("registry")).start();
    registry.push("team/web", "v1.2.3");
    deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web   # the web front end
        spec:
          template:
            spec:
              containers:
                - name: web
                  image: %s/team/web:v1.2.3 # {"$imagepolicy": "apps:web"}
        """.formatted(registry.host());
    seed = TestGitRepo.init(tmp.resolve("seed"));
    seed.write("apps/web.yaml", deployment).write("apps/notes.txt", "not yaml\n").commit("seed");
    bare = tmp.resolve("served/cluster.git");
    seed.git("clone", "-q", "--bare", seed.dir().toString(), bare.toString());
    seed.git("-C", bare.toString(), "config", "http.receivepack", "true");
    http = GitHttpServer.start(tmp.resolve("served"));
    url = http.url("cluster.git");
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

  private ImageUpdater updater(List<Object> events) {
    return ImageUpdater.builder()
        .registry(RegistryClient.builder().plainHttp(registry.host()).build())
        .policy(ImagePolicy.builder("apps:web", registry.host() + "/team/web").order(TagOrder.semver("^1.2")).build())
        .git(GitWriteBack.builder(url).branch("main").path("apps").author("Image Bot", "bot@example.com")
            .cacheDir(tmp.resolve("cache")).build())
        .listener(new ImageUpdateListener() {
          @Override
          public void onUpdate(ImageUpdate update, String commit) {
            events.add(update.image() + " " + update.oldTag() + " -> " + update.newTag() + " @" + commit);
          }

          @Override
          public void onConflict(EditConflict conflict) {
            events.add(conflict);
          }
        })
        .build();
  }

  private String remoteHead() throws Exception {
    return seed.git("--git-dir", bare.toString(), "rev-parse", "main").trim();
  }

  @Test
  void aHandWrittenNewerTagIsNeverDowngradedToThePolicysChoice() throws Exception {
    // someone pinned v1.5.0 by hand (no such build in the registry): ^1.2's best is v1.2.3, below it
    seed.write("apps/web.yaml", deployment.replace("web:v1.2.3", "web:v1.5.0")).commit("hotfix by hand");
    seed.git("push", "-q", bare.toString(), "HEAD:main");
    String head = remoteHead();
    try (ImageUpdater updater = updater(new CopyOnWriteArrayList<>())) {
      ImageUpdateResult preview = updater.preview();
      assertThat(preview.updates()).isEmpty();
      assertThat(preview.downgradesRefused()).singleElement().satisfies(d -> {
        assertThat(d.current()).isEqualTo(registry.host() + "/team/web:v1.5.0");
        assertThat(d.reason()).startsWith("v1.5.0 ranks above v1.2.3");
      });
      ImageUpdateResult run = updater.run();
      assertThat(run.status()).isEqualTo(ImageUpdateResult.Status.UP_TO_DATE);
      assertThat(run.downgradesRefused()).hasSize(1);
      assertThat(remoteHead()).isEqualTo(head);
    }
  }

  @Test
  void aNewTagIsCommittedAndARunWhereNothingMovedDoesNothing() throws Exception {
    List<Object> events = new CopyOnWriteArrayList<>();
    try (ImageUpdater updater = updater(events)) {
      ImageUpdateResult first = updater.run();
      assertThat(first.status()).isEqualTo(ImageUpdateResult.Status.UP_TO_DATE);
      assertThat(first.choices().get("apps:web").tag()).isEqualTo("v1.2.3");
      int fetches = http.fetchRequests();

      ImageUpdateResult idle = updater.run();
      assertThat(idle.status()).isEqualTo(ImageUpdateResult.Status.UNCHANGED);
      assertThat(http.fetchRequests()).isEqualTo(fetches);   // only the branch listing went out

      registry.push("team/web", "v1.2.4");
      registry.push("team/web", "v2.0.0");                  // outside the range
      ImageUpdateResult pushed = updater.run();
      assertThat(pushed.status()).isEqualTo(ImageUpdateResult.Status.PUSHED);
      assertThat(pushed.commit()).contains(remoteHead());
      assertThat(pushed.updates()).singleElement().satisfies(u -> {
        assertThat(u.oldTag()).isEqualTo("v1.2.3");
        assertThat(u.newTag()).isEqualTo("v1.2.4");
        assertThat(u.image()).isEqualTo(registry.host() + "/team/web");
      });
      assertThat(events).containsExactly(registry.host() + "/team/web v1.2.3 -> v1.2.4 @" + remoteHead());
      assertThat(seed.git("--git-dir", bare.toString(), "show", "main:apps/web.yaml"))
          .isEqualTo(deployment.replace("web:v1.2.3", "web:v1.2.4"));

      // our own commit is the new head: nothing moved
      assertThat(updater.run().status()).isEqualTo(ImageUpdateResult.Status.UNCHANGED);
      // someone else's commit moves the head: the files are read again, nothing to change
      TestGitRepo other = TestGitRepo.init(tmp.resolve("other"));
      other.git("fetch", "-q", url, "main");
      other.git("reset", "-q", "--hard", "FETCH_HEAD");
      other.write("apps/notes.txt", "edited\n").commit("notes");
      other.git("push", "-q", url, "HEAD:main");
      assertThat(updater.run().status()).isEqualTo(ImageUpdateResult.Status.UP_TO_DATE);
    }
  }

  @Test
  void endToEndTheFilesProviderSyncsTheNewImage() throws Exception {
    Path target = tmp.resolve("target");
    Path state = tmp.resolve("state");
    Files.createDirectories(target);
    Reconciler reconciler = Reconciler.builder()
        .source(GitSource.builder().url(url).ref("main").path("apps").cacheDir(tmp.resolve("source-cache")).build())
        .provider(LocalFilesProvider.builder(target).exclude(state).build())
        .store(FileStateStore.open(state))
        .build();
    SyncResult before = reconciler.sync();
    assertThat(before.isSuccessful()).isTrue();
    assertThat(Files.readString(target.resolve("web.yaml"))).contains("/team/web:v1.2.3 #");

    registry.push("team/web", "v1.2.4");
    try (ImageUpdater updater = updater(new CopyOnWriteArrayList<>())) {
      assertThat(updater.run().status()).isEqualTo(ImageUpdateResult.Status.PUSHED);
    }

    SyncResult after = reconciler.sync();
    assertThat(after.isSuccessful()).isTrue();
    assertThat(after.revision()).contains(remoteHead());
    assertThat(Files.readString(target.resolve("web.yaml"))).isEqualTo(deployment.replace("web:v1.2.3", "web:v1.2.4"));
  }

  @Test
  void theLoopRunsOnStartAndTriggerAndNotWhileSuspended() throws Exception {
    try (ImageUpdater updater = updater(new CopyOnWriteArrayList<>());
         ImageUpdateLoop loop = ImageUpdateLoop.builder(updater).interval(Duration.ofHours(1)).build()) {
      loop.start();
      await(() -> loop.runs() == 1);
      assertThat(loop.lastResult().orElseThrow().status()).isEqualTo(ImageUpdateResult.Status.UP_TO_DATE);

      loop.suspend();
      registry.push("team/web", "v1.2.5");
      loop.trigger();
      Thread.sleep(300);
      assertThat(loop.runs()).isEqualTo(1);
      assertThat(seed.git("--git-dir", bare.toString(), "show", "main:apps/web.yaml")).contains("web:v1.2.3 #");

      loop.resume();
      await(() -> loop.runs() == 2);
      assertThat(loop.lastResult().orElseThrow().status()).isEqualTo(ImageUpdateResult.Status.PUSHED);
      assertThat(loop.lastResult().orElseThrow().updates()).singleElement()
          .satisfies(u -> assertThat(u.newTag()).isEqualTo("v1.2.5"));
      loop.trigger();
      await(() -> loop.runs() == 3);
      assertThat(loop.lastResult().orElseThrow().status()).isEqualTo(ImageUpdateResult.Status.UNCHANGED);
      assertThat(loop.lastError()).isEmpty();
    }
  }

  @Test
  void theLoopStopsByItselfOnceItsUpdaterIsClosedAndTheUpdaterRefusesToRun() throws Exception {
    ImageUpdater updater = updater(new CopyOnWriteArrayList<>());
    try (ImageUpdateLoop loop = ImageUpdateLoop.builder(updater).interval(Duration.ofMillis(50)).build()) {
      loop.start();
      await(() -> loop.runs() >= 1);
      assertThat(loop.isStopped()).isFalse();

      updater.close();

      await(loop::isStopped);
      int runs = loop.runs();
      Thread.sleep(300);  // several intervals: nothing more runs, and nothing is reported failed
      assertThat(loop.runs()).isEqualTo(runs);
      assertThat(loop.lastError()).isEmpty();
      assertThat(updater.isClosed()).isTrue();
      org.assertj.core.api.Assertions.assertThatThrownBy(updater::run).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("closed");
    }
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 30 s");
      }
      Thread.sleep(20);
    }
  }
}
