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
 * <p>JGit also saves what it measured of a file system (its timestamp resolution) into its own
 * configuration file under {@code $XDG_CONFIG_HOME/jgit} (else {@code ~/.config/jgit}). Where that
 * directory cannot be written (a container's random user, whose home is {@code /nonexistent}),
 * JGit logged every attempt as an error with a stack trace; there the file is still read, and not
 * written (the measurement is repeated by the next process instead).
 *
 * <p>Only {@link Main#main} installs it, as the owner of the process; {@link Main#run}, which tests
 * and embedding applications call, leaves JGit's global {@link SystemReader} alone.
 */
final class GitSystemConfig extends SystemReader.Delegate {

  private static final Logger LOG = LoggerFactory.getLogger(GitSystemConfig.class);

  /** The system configuration file of a {@code git} built with prefix {@code /usr} or {@code /}. */
  static final Path ETC_GITCONFIG = Path.of("/etc/gitconfig");

  /** The system configuration file, or null when JGit's own discovery decides it. */
  private final Path file;

  GitSystemConfig(SystemReader delegate, Path file) {
    super(delegate);
    this.file = file;
  }

  /** Installs the reader as JGit's. */
  static void install() {
    SystemReader current = SystemReader.getInstance();
    Optional<Path> file = systemConfig(current.getProperty("os.name"), current::getenv, GitSystemConfig::isExecutable);
    SystemReader.setInstance(new GitSystemConfig(current, file.orElse(null)));
    if (file.isPresent()) {
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
    return file == null ? super.openSystemConfig(parent, fs) : new FileBasedConfig(parent, file.toFile(), fs);
  }

  /** JGit's own configuration, read as always; not saved where its directory cannot be written. */
  @Override
  public FileBasedConfig openJGitConfig(Config parent, FS fs) {
    FileBasedConfig config = super.openJGitConfig(parent, fs);
    File f = config.getFile();
    if (f == null || canWriteBelow(f.toPath().toAbsolutePath().getParent())) {
      return config;
    }
    return new FileBasedConfig(parent, f, fs) {
      @Override
      public void save() {
        // nothing is lost: JGit measures the file system again in the next process
        LOG.debug("not saving JGit's configuration {}: its directory cannot be written", f);
      }
    };
  }

  /** Whether {@code dir} exists as a writable directory, or its nearest existing ancestor is one. */
  static boolean canWriteBelow(Path dir) {
    for (Path p = dir; p != null; p = p.getParent()) {
      if (Files.exists(p)) {
        return Files.isDirectory(p) && Files.isWritable(p);
      }
    }
    return false;
  }
}
