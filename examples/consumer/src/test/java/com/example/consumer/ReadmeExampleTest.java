package com.example.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.SourceException;
import dev.gitops.api.SyncResult;
import dev.gitops.core.source.Credentials;
import dev.gitops.core.source.GitSource;
import dev.gitops.testkit.TempGitRepo;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReadmeExampleTest {

  @TempDir Path tmp;

  @Test
  void theReadmeExampleSyncsARepositoryIntoADirectory() throws Exception {
    try (TempGitRepo repo = TempGitRepo.create()) {
      repo.write("app/settings.conf", "level=debug\n");
      repo.write("motd.txt", "hello\n");
      repo.commit("initial");
      Path target = Files.createDirectories(tmp.resolve("target"));
      Path state = target.resolve(".gitops");

      SyncResult result = ReadmeExample.run(repo.dir(), target, state);

      assertThat(result.isSuccessful()).isTrue();
      assertThat(Files.readString(target.resolve("app/settings.conf"))).isEqualTo("level=debug\n");
      assertThat(Files.readString(target.resolve("motd.txt"))).isEqualTo("hello\n");
      assertThat(state).isNotEmptyDirectory();
    }
  }

  @Test
  void theOptionalModulesArePluggedInByTheirArtifactsAlone() throws Exception {
    // each fails in the module's own code (the key file, the key ring), not with "add the dependency ..."
    Path missing = tmp.resolve("absent");
    assertThatThrownBy(() -> GitSource.builder().url("git@git.example.com:ops.git")
        .credentials(Credentials.sshKey(missing)).strictHostKeyChecking(false).build())
        .isInstanceOf(SourceException.class).hasMessageContaining("SSH private key file " + missing);
    assertThatThrownBy(() -> GitSource.builder().url(tmp.toString()).requireSignedBy(missing).build())
        .isInstanceOf(SourceException.class).hasMessage("the trusted OpenPGP key ring " + missing + " does not exist");
  }
}
