package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.eclipse.jgit.lib.Config;
import org.eclipse.jgit.storage.file.FileBasedConfig;
import org.eclipse.jgit.util.FS;
import org.eclipse.jgit.util.SystemReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

  /** A reader whose JGit configuration file is {@code file}. */
  private static GitSystemConfig withJGitConfigAt(Path file) {
    SystemReader base = new SystemReader.Delegate(SystemReader.getInstance()) {
      @Override
      public FileBasedConfig openJGitConfig(Config parent, FS fs) {
        return new FileBasedConfig(parent, file.toFile(), fs);
      }
    };
    return new GitSystemConfig(base, null);
  }

  @Test
  void jgitsConfigurationIsSavedWhereItsDirectoryCanBeWritten(@TempDir Path tmp) throws Exception {
    Path file = tmp.resolve("home/.config/jgit/config");
    FileBasedConfig c = withJGitConfigAt(file).openJGitConfig(null, FS.DETECTED);
    c.setString("core", null, "measured", "yes");
    c.save();
    assertThat(Files.readString(file)).contains("measured = yes");
  }

  @Test
  void jgitsConfigurationIsNotSavedWhereItsDirectoryCannotBeWritten(@TempDir Path tmp) throws Exception {
    // a home that cannot be made (a file where a directory would be), as /nonexistent for a container's user
    Files.writeString(tmp.resolve("not-a-dir"), "x");
    Path file = tmp.resolve("not-a-dir/.config/jgit/config");
    FileBasedConfig c = withJGitConfigAt(file).openJGitConfig(null, FS.DETECTED);
    c.load();
    c.setString("core", null, "measured", "yes");
    c.save();  // JGit's own save logs an error with a stack trace and throws here
    assertThat(c.getString("core", null, "measured")).isEqualTo("yes");
    assertThat(GitSystemConfig.canWriteBelow(file.getParent())).isFalse();
    assertThat(GitSystemConfig.canWriteBelow(tmp.resolve("new/dirs"))).isTrue();
  }
}
