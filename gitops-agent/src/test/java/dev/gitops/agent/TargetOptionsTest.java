package dev.gitops.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gitops.agent.config.AgentConfig;
import dev.gitops.agent.config.ConfigException;
import dev.gitops.agent.config.ConfigNode;
import dev.gitops.agent.providers.FilesProviderFactory;
import dev.gitops.core.SyncOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a target's entry makes of the sync options its reconciler runs with. */
class TargetOptionsTest {

  @TempDir
  Path dir;

  SyncOptions options(String extra) throws IOException {
    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, """
        targets:
          - name: fleet
            source: {url: https://example.com/r.git}
            provider: {type: files, directory: live}
        """ + extra);
    AgentConfig c = AgentConfig.load(f, Map.of("files", new FilesProviderFactory()), Map.of(), true);
    return TargetRuntime.options(c.targets().get(0));
  }

  @Test
  void callAndSyncTimeoutsComeFromTheTarget() throws IOException {
    SyncOptions o = options("    callTimeout: 20m\n    syncTimeout: 2h\n");
    assertThat(o.execution().callTimeout()).isEqualTo(Duration.ofMinutes(20));
    assertThat(o.execution().syncTimeout()).isEqualTo(Duration.ofHours(2));

    SyncOptions defaults = options("");
    assertThat(defaults.execution()).isEqualTo(SyncOptions.defaults().execution());
  }

  @Test
  void theSourcesNetworkTimeoutComesFromItsEntry() throws IOException {
    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, """
        targets:
          - name: fleet
            source: {url: https://example.com/r.git, timeout: 2m}
            provider: {type: files, directory: live}
          - name: plain
            source: {url: https://example.com/r.git}
            provider: {type: files, directory: live2}
          - name: bad
            source: {url: https://example.com/r.git, timeout: never}
            provider: {type: files, directory: live3}
        """);
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> AgentConfig.load(f, Map.of("files", new FilesProviderFactory()), Map.of(), true));
    assertThat(e.line()).isEqualTo(9);
    assertThat(e.getMessage()).contains("targets[2].source.timeout: must be a positive duration");
    Files.writeString(f, Files.readString(f).substring(0, Files.readString(f).indexOf("  - name: bad")));
    AgentConfig c = AgentConfig.load(f, Map.of("files", new FilesProviderFactory()), Map.of(), true);
    assertThat(c.targets().get(0).gitTimeout()).isEqualTo(Duration.ofMinutes(2));
    assertThat(c.targets().get(1).gitTimeout()).isEqualTo(dev.gitops.core.source.GitSource.DEFAULT_TIMEOUT);
  }

  @Test
  void policiesBecomeTheDeletionBudget() throws IOException {
    SyncOptions o = options("    prune: false\n    policies: {maxDeletions: 3, maxDeletionPercent: 40, detectOnly: true}\n");
    assertThat(o.prune()).isFalse();
    assertThat(o.detectOnly()).isTrue();
    assertThat(o.budget().maxCount()).isEqualTo(3);
    assertThat(o.budget().maxPercent()).isEqualTo(40);
  }

  @Test
  void aBadTimeoutIsRefusedAtItsLine() {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> options("    callTimeout: soon\n"));
    assertThat(e.line()).isEqualTo(5);
    assertThat(e.getMessage()).contains("targets[0].callTimeout: must be a positive duration");
  }

  @Test
  void aTimeoutLongerThanTheLongestIsRefusedAtItsLineNotAtTheFirstSync() {
    // a deadline that far ahead overflows: refused with the file's line, not as a failure of every sync
    for (String value : List.of("36501d", "PT2562047788015215H")) {
      ConfigException e = catchThrowableOfType(ConfigException.class, () -> options("    callTimeout: " + value + "\n"));
      assertThat(e.line()).isEqualTo(5);
      assertThat(e.getMessage()).contains("targets[0].callTimeout: must be a positive duration").contains("at most 36500d");
    }
    assertThat(ConfigNode.parseDuration("36500d")).contains(Duration.ofDays(36_500));
  }
}
