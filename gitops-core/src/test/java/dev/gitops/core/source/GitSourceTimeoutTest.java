package dev.gitops.core.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Cancellation;
import dev.gitops.api.SourceException;
import dev.gitops.core.internal.git.GitDaemonTransport;
import dev.gitops.api.spi.Source;
import dev.gitops.core.decode.YamlManifestDecoder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.eclipse.jgit.internal.storage.dfs.DfsRepositoryDescription;
import org.eclipse.jgit.internal.storage.dfs.InMemoryRepository;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.transport.Transport;
import org.eclipse.jgit.transport.URIish;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server that stops sending in the middle of a fetch fails the read once the network timeout
 * passes: the timed-out fetch is not tried again (without depth, or for every branch), which
 * would hold the read for a multiple of the timeout. Over {@code git://} too, where JGit's own
 * timeout (an interrupt a blocked socket read ignores) never fired.
 */
@Timeout(120)
class GitSourceTimeoutTest {

  @TempDir Path tmp;

  @Test
  @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)  // a hang fails rather than holds the build
  void aGitDaemonThatAcceptsAndNeverAnswersTimesOut() throws Exception {
    try (SilentServer silent = SilentServer.start()) {
      String url = "git://127.0.0.1:" + silent.port() + "/repo";
      // the read (refs listed, then fetched) and the fingerprint (refs listed) each end at the timeout
      try (GitSource s = GitSource.builder().url(url).ref("main").cacheDir(tmp.resolve("cache-git"))
          .timeout(Duration.ofSeconds(1)).build()) {
        assertThatThrownBy(() -> s.read(new Source.ReadRequest(null, List.of(YamlManifestDecoder.create()),
            new Cancellation()))).isInstanceOf(SourceException.class).hasMessageContaining(url)
            .hasMessageContaining("timed out");
        assertThatThrownBy(() -> s.fingerprint(new Source.ReadRequest(null, List.of(YamlManifestDecoder.create()),
            new Cancellation()))).isInstanceOf(SourceException.class).hasMessageContaining("timed out");
      }
      assertThat(silent.connections()).as("connections the source made").isPositive();
      assertThat(Thread.currentThread().isInterrupted()).as("interrupt flag left behind").isFalse();
    }
  }

  @Test
  @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void closeDuringAReadThatWaitsOnTheServerReturnsAtOnceAndTheReadClosesTheSourceWhenItEnds() throws Exception {
    try (SilentServer silent = SilentServer.start()) {
      String url = "git://127.0.0.1:" + silent.port() + "/repo";
      GitSource s = GitSource.builder().url(url).ref("main").timeout(Duration.ofSeconds(20)).build();
      java.util.concurrent.CompletableFuture<Throwable> read = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try {
          s.read(new Source.ReadRequest(null, List.of(YamlManifestDecoder.create()), new Cancellation()));
          return null;
        } catch (RuntimeException e) {
          return e;
        }
      });
      long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (silent.connections() == 0 && System.nanoTime() < until) {
        Thread.sleep(10);
      }
      assertThat(silent.connections()).as("the read is waiting on the server").isPositive();

      long start = System.nanoTime();
      s.close();
      assertThat(Duration.ofNanos(System.nanoTime() - start)).as("close waited for the read")
          .isLessThan(Duration.ofSeconds(5));
      assertThat(read).isNotDone();

      silent.close();  // the server goes away: the read ends, failing, and closes the source
      assertThat(read.get(15, java.util.concurrent.TimeUnit.SECONDS)).isInstanceOf(SourceException.class);
      assertThat(s.repositoryDirectory()).as("the temporary clone, deleted by the deferred close").isNull();
    }
  }

  @Test
  void aTimeoutOfDecadesReadsOverHttpAndGitDaemonAlike() throws Exception {
    // the longest timeout the agent's configuration takes; in int milliseconds it would overflow
    Path served = tmp.resolve("served-long");
    TestGitRepo repo = TestGitRepo.init(served.resolve("repo"));
    repo.write("a.yaml", "provider: m\ntype: t\nname: a\nspec: {x: 1}\n").commit("one");
    try (GitHttpServer http = GitHttpServer.start(served); GitDaemonServer daemon = GitDaemonServer.start(served)) {
      for (String url : List.of(http.url("repo"), daemon.url("repo"))) {
        try (GitSource s = GitSource.builder().url(url).ref("main").cacheDir(tmp.resolve("cache-long-" + url.charAt(0)))
            .timeout(Duration.ofDays(36_500)).build()) {
          assertThat(s.read(new Source.ReadRequest(null, List.of(YamlManifestDecoder.create()), new Cancellation()))
              .resources()).as(url).hasSize(1);
        }
      }
    }
  }

  @Test
  void otherUsersOfJGitKeepJGitsTransport() throws Exception {
    try (Repository repo = new InMemoryRepository(new DfsRepositoryDescription("x"));
        Transport ours = GitDaemonTransport.around(() -> Transport.open(repo, new URIish("git://127.0.0.1:1/r")));
        Transport theirs = Transport.open(repo, new URIish("git://127.0.0.1:1/r"))) {
      assertThat(ours).isInstanceOf(GitDaemonTransport.class);
      assertThat(theirs).isNotInstanceOf(GitDaemonTransport.class);
    }
  }

  @Test
  void aFetchThatTimesOutIsNotRetried() throws Exception {
    Path served = tmp.resolve("served");
    TestGitRepo repo = TestGitRepo.init(served.resolve("repo"));
    String sha = repo.write("a.yaml", "provider: m\ntype: t\nname: a\nspec: {x: 1}\n").commit("one");
    try (GitHttpServer http = GitHttpServer.start(served).stallFetchesAfter(8)) {
      for (String ref : List.of("main", sha)) {
        int before = http.fetchRequests();
        GitSource s = GitSource.builder().url(http.url("repo")).ref(ref).cacheDir(tmp.resolve("cache-" + ref))
            .timeout(Duration.ofSeconds(1)).build();
        try {
          long start = System.nanoTime();
          assertThatThrownBy(() -> s.read(new Source.ReadRequest(null, List.of(YamlManifestDecoder.create()),
              new Cancellation()))).as(ref).isInstanceOf(SourceException.class)
              .hasMessageContaining(http.url("repo")).hasMessageContaining("timed out");
          System.err.printf("stalled fetch of %s failed after %d ms%n", ref, (System.nanoTime() - start) / 1_000_000);
        } finally {
          s.close();
        }
        assertThat(http.fetchRequests() - before).as("fetches of %s on the wire", ref).isEqualTo(1);
      }
      // resolving before a read (the no-change fast path) reports the timeout rather than leave the
      // read to wait as long again
      int before = http.fetchRequests();
      try (GitSource s = GitSource.builder().url(http.url("repo")).ref("main").cacheDir(tmp.resolve("cache-fp"))
          .timeout(Duration.ofSeconds(1)).build()) {
        assertThatThrownBy(() -> s.fingerprint(new Source.ReadRequest(null, List.of(YamlManifestDecoder.create()),
            new Cancellation()))).isInstanceOf(SourceException.class).hasMessageContaining("timed out");
      }
      assertThat(http.fetchRequests() - before).as("fetches on the wire").isEqualTo(1);
    }
  }
}
