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
  void theSourcesFileSizeLimitComesFromItsEntry() throws IOException {
    Path f = dir.resolve("agent.yaml");
    Map<String, Long> accepted = Map.of("4MiB", 4L << 20, "512KiB", 512L << 10, "1GiB", 1L << 30, "3000000", 3_000_000L,
        "\"3000000\"", 3_000_000L, "010", 10L);
    for (Map.Entry<String, Long> size : accepted.entrySet()) {
      Files.writeString(f, withMaxFileSize(size.getKey()));
      AgentConfig c = AgentConfig.load(f, Map.of("files", new FilesProviderFactory()), Map.of(), true);
      assertThat(c.targets().get(0).maxFileSize()).as(size.getKey()).isEqualTo(size.getValue());
    }
    Files.writeString(f, """
        targets:
          - name: fleet
            source: {url: https://example.com/r.git}
            provider: {type: files, directory: live}
        """);
    assertThat(AgentConfig.load(f, Map.of("files", new FilesProviderFactory()), Map.of(), true).targets().get(0)
        .maxFileSize()).isEqualTo(dev.gitops.core.source.GitSource.DEFAULT_MAX_FILE_SIZE);

    for (String bad : List.of("0", "0MiB", "-1", "-4MiB", "4MB", "4mib", "4 MiB", "4TiB", "1.5", "1.5MiB", "MiB",
        "\"\"", "abc", "true", "[4MiB]", "{size: 4}", "9223372036854775808", "8589934592GiB", "0x400")) {
      Files.writeString(f, withMaxFileSize(bad));
      ConfigException e = catchThrowableOfType(ConfigException.class,
          () -> AgentConfig.load(f, Map.of("files", new FilesProviderFactory()), Map.of(), true));
      assertThat(e).as(bad).isNotNull();
      assertThat(e.line()).as(bad).isEqualTo(5);
      assertThat(e.getMessage()).as(bad).contains("agent.yaml:5: targets[0].source.maxFileSize: must be a positive size"
          + " in bytes or with a unit KiB, MiB or GiB");
    }
  }

  /** A configuration of one target whose source's {@code maxFileSize} is {@code value} as written, on line 5. */
  private static String withMaxFileSize(String value) {
    return """
        targets:
          - name: fleet
            source:
              url: https://example.com/r.git
              maxFileSize: %s
            provider: {type: files, directory: live}
        """.formatted(value);
  }

  @Test
  void aSizeReadsAsTheCommandLineReadsIt() {
    assertThat(ConfigNode.parseSize("4MiB")).hasValue(4L << 20);
    assertThat(ConfigNode.parseSize("1")).hasValue(1);
    assertThat(ConfigNode.parseSize(String.valueOf(Long.MAX_VALUE))).hasValue(Long.MAX_VALUE);
    assertThat(ConfigNode.parseSize((Long.MAX_VALUE >> 30) + "GiB")).hasValue((Long.MAX_VALUE >> 30) << 30);
    for (String bad : new String[] {null, "", "0", "-1", "+1", "4M", "4 MiB", "9223372036854775808",
        ((Long.MAX_VALUE >> 10) + 1) + "KiB"}) {
      assertThat(ConfigNode.parseSize(bad)).as(bad).isEmpty();
    }
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
