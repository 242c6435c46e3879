package dev.gitops.core.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.core.source.spi.CommitSignatures;
import dev.gitops.core.source.spi.SshConnector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * gitops-core alone (no gitops-git-ssh, no gitops-git-signatures on this module's classpath):
 * asking for SSH or signature checks fails when the source is built, naming the artifact to add.
 * The modules' own tests (GitSourceSshTest, GitSourceSignatureTest) show the other side.
 */
class OptionalModulesTest {

  @TempDir Path tmp;

  @Test
  void theOptionalModulesAreNotOnCoresClasspath() {
    assertThat(ServiceLoader.load(SshConnector.class).findFirst()).isEmpty();
    assertThat(ServiceLoader.load(CommitSignatures.class).findFirst()).isEmpty();
  }

  @Test
  void sshUrlsWithoutTheSshModuleNameTheArtifactToAdd() throws Exception {
    Path key = Files.writeString(tmp.resolve("id_ed25519"), "not read: the module is missing");
    Path knownHosts = Files.writeString(tmp.resolve("known_hosts"), "");
    for (String url : new String[] {"git@git.example.com:ops/desired.git", "ssh://git@git.example.com:2222/ops.git"}) {
      assertThatThrownBy(() -> GitSource.builder().url(url).credentials(Credentials.sshKey(key))
          .knownHosts(knownHosts).build())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("dev.gitops:gitops-git-ssh")
          .hasMessageContaining("git.example.com");
    }
  }

  @Test
  void anSshUrlWithoutTheModuleNamesTheModuleAndEverythingElseItLacksInOneMessage() throws Exception {
    assertThatThrownBy(() -> GitSource.builder().url("git@git.example.com:ops.git").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("SSH remote git@git.example.com:ops.git needs the SSH module: add the dependency"
            + " dev.gitops:gitops-git-ssh")
        .hasMessageEndingWith("; it needs credentials(Credentials.sshKey(privateKey)) and knownHosts(file) to check the"
            + " server's host key (or strictHostKeyChecking(false) to accept unknown hosts) too");
    Path key = Files.writeString(tmp.resolve("id_ed25519"), "not read: the module is missing");
    assertThatThrownBy(() -> GitSource.builder().url("git@git.example.com:ops.git").credentials(Credentials.sshKey(key))
        .build())
        .hasMessageContaining("dev.gitops:gitops-git-ssh").hasMessageEndingWith("; it needs knownHosts(file) to check"
            + " the server's host key (or strictHostKeyChecking(false) to accept unknown hosts) too")
        .hasMessageNotContaining("Credentials.sshKey");
  }

  @Test
  void requiringSignaturesWithoutTheSignaturesModuleNamesTheArtifactToAdd() throws Exception {
    Path ring = Files.writeString(tmp.resolve("trusted.asc"), "not read: the module is missing");
    assertThatThrownBy(() -> GitSource.builder().url(tmp.resolve("repo").toString()).requireSignedBy(ring).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("dev.gitops:gitops-git-signatures")
        .hasMessageContaining(ring.toString());
  }

  @Test
  void httpsAndLocalSourcesNeedNeitherModule() {
    try (GitSource https = GitSource.builder().url("https://git.example.com/ops.git")
        .credentials(Credentials.token("t0ken")).build();
        GitSource local = GitSource.builder().url(tmp.resolve("repo").toString()).build()) {
      assertThat(https.describe()).isEqualTo("git https://git.example.com/ops.git ref HEAD");
      assertThat(local.describe()).contains(tmp.resolve("repo").toString());
    }
  }
}
