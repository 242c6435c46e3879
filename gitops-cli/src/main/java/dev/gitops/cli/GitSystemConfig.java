package dev.gitops.cli;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;
import org.eclipse.jgit.lib.Config;
import org.eclipse.jgit.storage.file.FileBasedConfig;
import org.eclipse.jgit.util.FS;
import org.eclipse.jgit.util.StringUtils;
import org.eclipse.jgit.util.SystemReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a {@code gitops} process reads Git's system-wide configuration from, found without running
 * {@code git}. JGit finds that file by running {@code git --version} and {@code git config --system
 * --show-origin --list} in child processes, the first time any repository is opened: two process
 * spawns in every one-shot command. On Linux, a {@code git} installed under {@code /usr/bin} or
 * {@code /bin} (every distribution's package) is built to read {@code /etc/gitconfig}, so that file
 * is read directly (when it does not exist, the configuration is empty, as for {@code git}). In
 * every other case (another operating system, a {@code git} installed elsewhere, whose build decides
 * the file, {@code GIT_CONFIG_SYSTEM} set, no {@code git} on {@code PATH}) JGit's own discovery runs
 * as before; {@code GIT_CONFIG_NOSYSTEM} still turns the system configuration off.
 *
 * <p>Only {@link Main#main} installs it, as the owner of the process; {@link Main#run}, which tests
 * and embedding applications call, leaves JGit's global {@link SystemReader} alone.
 */
final class GitSystemConfig extends SystemReader.Delegate {

  private static final Logger LOG = LoggerFactory.getLogger(GitSystemConfig.class);

  /** The system configuration file of a {@code git} built with prefix {@code /usr} or {@code /}. */
  static final Path ETC_GITCONFIG = Path.of("/etc/gitconfig");

  private final Path file;

  private GitSystemConfig(SystemReader delegate, Path file) {
    super(delegate);
    this.file = file;
  }

  /** Installs the reader as JGit's when {@link #systemConfig} knows the file without running git. */
  static void install() {
    SystemReader current = SystemReader.getInstance();
    Optional<Path> file = systemConfig(current.getProperty("os.name"), current::getenv, GitSystemConfig::isExecutable);
    if (file.isPresent()) {
      SystemReader.setInstance(new GitSystemConfig(current, file.get()));
      LOG.debug("Git's system configuration: {} (the file of the git on PATH; not discovered by running git)", file.get());
    }
  }

  /**
   * The system configuration file of the {@code git} on {@code PATH}, when it is known without
   * running it; empty when JGit's discovery must decide (or {@code GIT_CONFIG_NOSYSTEM} turns the
   * file off, which JGit honours).
   */
  static Optional<Path> systemConfig(String osName, Function<String, String> env, Predicate<Path> executable) {
    if (osName == null || !osName.equals("Linux")
        || !StringUtils.isEmptyOrNull(env.apply("GIT_CONFIG_NOSYSTEM"))
        || env.apply("GIT_CONFIG_SYSTEM") != null) {
      return Optional.empty();
    }
    String path = env.apply("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path git = Path.of(dir, "git");
      if (executable.test(git)) {
        // the first git on PATH is the one JGit would run: its prefix decides the file
        Path bin = git.toAbsolutePath().normalize().getParent();
        boolean distribution = bin.equals(Path.of("/usr/bin")) || bin.equals(Path.of("/bin"));
        return distribution ? Optional.of(ETC_GITCONFIG) : Optional.empty();
      }
    }
    return Optional.empty();
  }

  private static boolean isExecutable(Path p) {
    return Files.isRegularFile(p) && Files.isExecutable(p);
  }

  @Override
  public FileBasedConfig openSystemConfig(Config parent, FS fs) {
    return new FileBasedConfig(parent, file.toFile(), fs);
  }
}
