package dev.gitops.images.git;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.core.source.GitDaemonServer;
import dev.gitops.core.source.SilentServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The write-back over {@code git://}: a real {@code git daemon} taking anonymous pushes, and a
 * server that accepts and never answers, which fails the write at the timeout instead of holding it.
 */
class GitWriteBackDaemonTest {

  @TempDir
  Path tmp;

  @Test
  void writesBackThroughAGitDaemon() throws Exception {
    try (GitRemote remote = GitRemote.start(tmp, Map.of("apps/web.yaml", GitWriteBackTest.WEB));
        GitDaemonServer daemon = GitDaemonServer.start(tmp.resolve("served"), true)) {
      String before = remote.git("rev-parse", "main").trim();
      try (GitWriteBack git = GitWriteBack.builder(daemon.url("cluster.git")).branch("main").path("apps")
          .author("Image Bot", "bot@example.com").timeout(Duration.ofSeconds(20)).build()) {
        WriteResult r = git.write(GitWriteBackTest.choices("v1.2.4", "v2.0.0"));
        assertThat(r.pushed()).as(daemon.log()).isTrue();
        assertThat(remote.git("rev-parse", "main").trim()).isEqualTo(r.commit().orElseThrow());
        assertThat(remote.git("rev-parse", "main^").trim()).isEqualTo(before);
        assertThat(remote.show("main", "apps/web.yaml")).contains("team/web:v1.2.4");
      }
    }
  }

  @Test
  void aBranchMovedUnderThePushIsARaceRetriedNotARefusal() throws Exception {
    // current git says "failed to update ref" with "cannot lock ref 'refs/heads/main': is at X but expected
    // Y" only among the remote's messages when the branch moved between its check and its update
    try (GitRemote remote = GitRemote.start(tmp, Map.of("apps/web.yaml", GitWriteBackTest.WEB));
        GitDaemonServer daemon = GitDaemonServer.start(tmp.resolve("served"), true)) {
      remote.git("branch", "theirs", "main");
      String theirs = remote.pushFromAnotherClient("theirs", "README.md", "someone else's\n");
      Path done = tmp.resolve("hook.done");
      Path hook = remote.bare.resolve("hooks/update");
      java.nio.file.Files.writeString(hook, "#!/bin/sh\n"
          + "if [ \"$1\" = refs/heads/main ] && [ ! -e '" + done + "' ]; then\n"
          + "  touch '" + done + "'\n"
          + "  git update-ref refs/heads/main refs/heads/theirs\n"
          + "fi\n"
          + "exit 0\n");
      assertThat(hook.toFile().setExecutable(true)).isTrue();
      try (GitWriteBack git = GitWriteBack.builder(daemon.url("cluster.git")).branch("main").path("apps")
          .author("Image Bot", "bot@example.com").retryDelay(Duration.ofMillis(20)).maxPushAttempts(3)
          .timeout(Duration.ofSeconds(20)).build()) {
        WriteResult r = git.write(GitWriteBackTest.choices("v1.2.4", "v2.0.0"));
        assertThat(r.pushed()).as(daemon.log()).isTrue();
        assertThat(r.pushAttempts()).isEqualTo(2);
        assertThat(r.base()).contains(theirs);
        assertThat(remote.git("rev-parse", "main").trim()).isEqualTo(r.commit().orElseThrow());
        assertThat(remote.git("rev-parse", "main^").trim()).isEqualTo(theirs);
        assertThat(remote.show("main", "apps/web.yaml")).contains("team/web:v1.2.4");
      }
    }
  }

  @Test
  @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)  // a hang fails rather than holds the build
  void aGitDaemonThatAcceptsAndNeverAnswersFailsTheWriteAtTheTimeout() throws Exception {
    try (SilentServer silent = SilentServer.start();
        GitWriteBack git = GitWriteBack.builder("git://127.0.0.1:" + silent.port() + "/cluster.git")
            .branch("main").path("apps").author("Image Bot", "bot@example.com").timeout(Duration.ofSeconds(1)).build()) {
      assertThatThrownBy(() -> git.write(GitWriteBackTest.choices("v1.2.4", "v2.0.0")))
          .isInstanceOf(GitWriteException.class).hasMessageContaining("timed out");
      assertThat(silent.connections()).as("connections made").isPositive();
    }
  }
}
