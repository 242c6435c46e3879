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

  /**
   * An --ssh-key or --known-hosts that is empty, missing, a directory or unreadable is one line naming
   * the flag and the file, before anything is created or connected to: an empty --ssh-key read
   * "SSH private key file  does not exist or is not a file" (no flag, no file), and a --known-hosts
   * that is missing or a directory was met only once the server answered, or never with
   * --accept-unknown-hosts.
   */
  @Test
  void anSshKeyOrKnownHostsFileThatCannotBeReadIsNamedWithItsFlagBeforeAnythingRuns() throws Exception {
    Path key = Files.writeString(tmp.resolve("id_ed25519"), "not a key\n");
    Path hosts = Files.writeString(tmp.resolve("known_hosts"), "");
    Path dir = Files.createDirectories(tmp.resolve("a dir"));
    Path missing = tmp.resolve("missing");
    String[][] cases = {
        {"", hosts.toString(), "--ssh-key is empty"},
        {missing.toString(), hosts.toString(), "--ssh-key " + missing + ": no such file"},
        {dir.toString(), hosts.toString(), "--ssh-key " + dir + ": is a directory"},
        {key.toString(), "", "--known-hosts is empty"},
        {key.toString(), missing.toString(), "--known-hosts " + missing + ": no such file"},
        {key.toString(), dir.toString(), "--known-hosts " + dir + ": is a directory"},
    };
    for (String[] c : cases) {
      for (boolean accept : new boolean[] {false, true}) {
        Path target = tmp.resolve("target");
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("sync", "--repo",
            "ssh://git@127.0.0.1:1/ops.git", "--ssh-key", c[0], "--known-hosts", c[1], "--target", target.toString()));
        if (accept) {
          args.add("--accept-unknown-hosts");
        }
        CliRun r = gitops(args.toArray(String[]::new));
        assertThat(r.code()).as(r.toString()).isEqualTo(1);
        assertThat(r.err().strip().lines()).as(r.toString()).singleElement().satisfies(line -> assertThat(line)
            .startsWith("gitops: " + c[2]));
        assertThat(target).doesNotExist();
      }
    }
  }

  @Test
  void historyReadsTheStoreWithoutTheSshFlags() {
    CliRun r = gitops("history", "--repo", "git@127.0.0.1:ops.git", "--target", tmp.resolve("target").toString());
    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.out()).contains("No syncs recorded yet.");
  }
}
