package dev.gitops.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gitops.agent.providers.FilesProviderFactory;
import dev.gitops.agent.spi.ProviderFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An SSH source that lacks its key or known_hosts file is refused when the file loads, at its
 * line and in the configuration's keys (docs/agent.md: every field is checked when the file is
 * read), not when its target starts, in the Git source builder's terms.
 */
class SshSourceConfigTest {

  @TempDir
  Path dir;

  final Map<String, ProviderFactory> factories = Map.of("files", new FilesProviderFactory());

  ConfigException error(String source) throws IOException {
    Files.writeString(dir.resolve("id_ed25519"), "key\n");
    Files.writeString(dir.resolve("known_hosts"), "");
    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, "targets:\n  - name: web\n    source:\n" + source
        + "    provider: {type: files, directory: www}\n");
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> AgentConfig.load(f, factories, Map.of(), true));
    assertThat(e).as("the configuration is refused").isNotNull();
    return e;
  }

  @Test
  void anSshUrlWithoutAnSshKeyIsRefusedAtItsLineNamingTheKeys() throws IOException {
    assertThat(error("      url: git@git.example.com:ops.git\n      knownHosts: known_hosts\n").getMessage())
        .contains("agent.yaml:4: targets[0].source.url: ")
        .contains("credentials.sshKey", "knownHosts")
        .doesNotContain("Credentials.sshKey(", "knownHosts(file)");
    assertThat(error("      url: ssh://git@git.example.com/ops.git\n      credentials: {token: {env: T}}\n")
        .getMessage()).contains("agent.yaml:4: targets[0].source.url: ").contains("credentials.sshKey");
  }

  @Test
  void anSshUrlWithoutKnownHostsIsRefusedUnlessUnknownHostsAreAccepted() throws IOException {
    assertThat(error("      url: ssh://git@git.example.com/ops.git\n      credentials: {sshKey: id_ed25519}\n")
        .getMessage()).contains("agent.yaml:4: targets[0].source.url: ")
        .contains("knownHosts", "acceptUnknownHosts: true")
        .doesNotContain("strictHostKeyChecking");
    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, "targets:\n  - name: web\n    source:\n      url: ssh://git@git.example.com/ops.git\n"
        + "      credentials: {sshKey: id_ed25519}\n      acceptUnknownHosts: true\n"
        + "    provider: {type: files, directory: www}\n");
    assertThat(AgentConfig.load(f, factories, Map.of(), true).targets()).hasSize(1);
  }

  @Test
  void anSshKeyForAUrlThatIsNotSshIsRefusedAtTheKey() throws IOException {
    assertThat(error("      url: https://git.example.com/ops.git\n      credentials: {sshKey: id_ed25519}\n")
        .getMessage()).contains("agent.yaml:5: targets[0].source.credentials.sshKey: ")
        .contains("https://git.example.com/ops.git");
  }
}
