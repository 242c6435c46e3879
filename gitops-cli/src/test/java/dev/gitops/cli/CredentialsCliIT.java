package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.core.source.GitHttpServer;
import dev.gitops.core.source.TestGitRepo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jar reads a repository over smart HTTP with basic auth, the password coming from the environment only;
 * it carries the SSH module.
 */
class CredentialsCliIT {

  @TempDir
  Path tmp;

  @Test
  void basicAuthPasswordComesFromTheEnvironmentAndAWrongOneIsOneLineWithoutThePassword() throws Exception {
    Path served = tmp.resolve("served");
    TestGitRepo.init(served.resolve("repo")).write("app.conf", "x=1\n").commit("one");
    Path target = tmp.resolve("target");
    try (GitHttpServer http = GitHttpServer.start(served, "alice", "right-pw-42")) {
      GitopsJar.Result ok = GitopsJar.run(tmp, Map.of("GITOPS_PASSWORD", "right-pw-42"), "sync", "--repo", http.url("repo"),
          "--ref", "main", "--target", target.toString(), "--username", "alice");
      assertThat(ok.code()).as(ok.toString()).isZero();
      assertThat(Files.readString(target.resolve("app.conf"))).isEqualTo("x=1\n");

      GitopsJar.Result bad = GitopsJar.run(tmp, Map.of("GITOPS_PASSWORD", "wrong-pw-17"), "plan", "--repo", http.url("repo"),
          "--ref", "main", "--target", tmp.resolve("other").toString(), "--username", "alice");
      assertThat(bad.code()).as(bad.toString()).isEqualTo(1);
      assertThat(bad.err().strip().lines()).singleElement().satisfies(line -> {
        assertThat(line).startsWith("gitops: ").contains(http.url("repo"));
        assertThat(line).doesNotContain("wrong-pw-17");
      });
      assertThat(bad.out()).doesNotContain("wrong-pw-17");

      GitopsJar.Result missing = GitopsJar.run(tmp, Map.of(), "plan", "--repo", http.url("repo"), "--target",
          tmp.resolve("other").toString(), "--username", "alice");
      assertThat(missing.code()).isEqualTo(1);
      assertThat(missing.err()).contains("GITOPS_PASSWORD");
    }
  }

  @Test
  void theJarCarriesTheSshModule() throws Exception {
    // the key is loaded when the source is built: reaching that check means gitops-git-ssh is in the jar
    // (a file that is missing is refused by the CLI's flag check before, naming --ssh-key)
    Path key = Files.writeString(tmp.resolve("id_ed25519"), "not a key\n");
    Path knownHosts = Files.writeString(tmp.resolve("known_hosts"), "");
    GitopsJar.Result r = GitopsJar.run(tmp, Map.of(), "plan", "--repo", "git@127.0.0.1:ops.git", "--ssh-key",
        key.toString(), "--known-hosts", knownHosts.toString(), "--target", tmp.resolve("target").toString());
    assertThat(r.code()).as(r.toString()).isEqualTo(1);
    assertThat(r.err()).contains("SSH private key", key.toString()).doesNotContain("gitops-git-ssh")
        .doesNotContain("--ssh-key");
  }
}
