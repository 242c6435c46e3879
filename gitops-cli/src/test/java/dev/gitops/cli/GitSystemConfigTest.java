package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GitSystemConfigTest {

  private static final Set<Path> GITS = Set.of(Path.of("/usr/bin/git"), Path.of("/bin/git"),
      Path.of("/usr/local/bin/git"), Path.of("/opt/git/bin/git"));

  private static java.util.Optional<Path> resolve(String os, Map<String, String> env) {
    return GitSystemConfig.systemConfig(os, env::get, GITS::contains);
  }

  @Test
  void aDistributionsGitOnLinuxReadsEtcGitconfig() {
    assertThat(resolve("Linux", Map.of("PATH", "/home/u/bin:/usr/bin:/bin"))).contains(Path.of("/etc/gitconfig"));
    assertThat(resolve("Linux", Map.of("PATH", "/bin"))).contains(Path.of("/etc/gitconfig"));
  }

  @Test
  void theFirstGitOnPathDecidesAndAnotherPrefixLeavesItToJgit() {
    // /usr/local/bin/git comes first: its build decides the file, so JGit runs it to find out
    assertThat(resolve("Linux", Map.of("PATH", "/usr/local/bin:/usr/bin"))).isEmpty();
    assertThat(resolve("Linux", Map.of("PATH", "/opt/git/bin"))).isEmpty();
    assertThat(resolve("Linux", Map.of("PATH", "/nowhere"))).isEmpty();
    assertThat(resolve("Linux", Map.of())).isEmpty();
  }

  @Test
  void otherSystemsAndGitsEnvironmentLeaveItToJgit() {
    assertThat(resolve("Mac OS X", Map.of("PATH", "/usr/bin"))).isEmpty();
    assertThat(resolve("Windows 11", Map.of("PATH", "/usr/bin"))).isEmpty();
    assertThat(resolve("Linux", Map.of("PATH", "/usr/bin", "GIT_CONFIG_SYSTEM", "/srv/gitconfig"))).isEmpty();
    assertThat(resolve("Linux", Map.of("PATH", "/usr/bin", "GIT_CONFIG_NOSYSTEM", "1"))).isEmpty();
    // an empty GIT_CONFIG_NOSYSTEM does not turn the file off, for git as for JGit
    assertThat(resolve("Linux", Map.of("PATH", "/usr/bin", "GIT_CONFIG_NOSYSTEM", ""))).contains(Path.of("/etc/gitconfig"));
  }
}
