package dev.gitops.cli;

import static dev.gitops.cli.CliRun.gitops;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an SSH remote lacks is said in the flags the CLI takes (docs/cli.md: {@code --ssh-key},
 * {@code --known-hosts}, {@code --accept-unknown-hosts}), never in the library's builder methods,
 * and before anything is created.
 */
class SshFlagsTest {

  @TempDir
  Path tmp;

  @Test
  void anSshRemoteWithoutAKeyNamesTheSshFlags() {
    Path target = tmp.resolve("target");
    CliRun r = gitops("plan", "--repo", "git@127.0.0.1:ops.git", "--target", target.toString());
    assertThat(r.code()).as(r.toString()).isEqualTo(1);
    assertThat(r.err().strip().lines()).singleElement().satisfies(line -> assertThat(line)
        .startsWith("gitops: --repo git@127.0.0.1:ops.git is an SSH remote")
        .contains("--ssh-key FILE", "--known-hosts FILE", "--accept-unknown-hosts")
        .doesNotContain("Credentials.sshKey", "knownHosts(", "strictHostKeyChecking"));
    assertThat(target).doesNotExist();
  }

  @Test
  void anSshRemoteWithAKeyButNoKnownHostsNamesTheKnownHostsFlags() throws Exception {
    Path key = Files.writeString(tmp.resolve("id_ed25519"), "not a key\n");
    CliRun r = gitops("plan", "--repo", "ssh://git@127.0.0.1:2222/ops.git", "--ssh-key", key.toString(),
        "--target", tmp.resolve("target").toString());
    assertThat(r.code()).as(r.toString()).isEqualTo(1);
    assertThat(r.err().strip().lines()).singleElement().satisfies(line -> assertThat(line)
        .startsWith("gitops: --repo ssh://git@127.0.0.1:2222/ops.git is an SSH remote")
        .contains("--known-hosts FILE", "--accept-unknown-hosts")
        .doesNotContain("knownHosts(", "strictHostKeyChecking"));
  }

  @Test
  void anSshKeyForARemoteThatIsNotSshNamesTheFlag() throws Exception {
    Path key = Files.writeString(tmp.resolve("id_ed25519"), "not a key\n");
    CliRun r = gitops("plan", "--repo", "https://127.0.0.1:1/ops.git", "--ssh-key", key.toString(),
        "--target", tmp.resolve("target").toString());
    assertThat(r.code()).as(r.toString()).isEqualTo(1);
    assertThat(r.err().strip().lines()).singleElement().satisfies(line -> assertThat(line)
        .startsWith("gitops: --ssh-key is for SSH remotes")
        .contains("https://127.0.0.1:1/ops.git")
        .doesNotContain("Credentials.sshKey"));
  }

  @Test
  void historyReadsTheStoreWithoutTheSshFlags() {
    CliRun r = gitops("history", "--repo", "git@127.0.0.1:ops.git", "--target", tmp.resolve("target").toString());
    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.out()).contains("No syncs recorded yet.");
  }
}
