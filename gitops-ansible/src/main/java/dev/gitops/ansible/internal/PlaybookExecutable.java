package dev.gitops.ansible.internal;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Where the {@code ansible-playbook} executable is: a configured path, or a name looked up on
 * {@code PATH} as a shell (and {@code ProcessBuilder}) would, each directory in order. The same
 * rules as gitops-terraform's {@code Binary.locate}, kept here so that the Ansible provider does
 * not depend on the Terraform one.
 */
public final class PlaybookExecutable {

  /** The executable is not there: trying again will not help until someone installs it. */
  public static final class NotFound extends IOException {
    private static final long serialVersionUID = 1L;

    NotFound(String message) {
      super(message);
    }
  }

  private PlaybookExecutable() {}

  /**
   * Finds {@code nameOrPath}: a name without a slash is searched on {@code searchPath} (the value
   * of {@code PATH}); anything else is a file that must exist and be executable.
   *
   * @throws NotFound naming what was looked for and where
   */
  public static Path locate(String nameOrPath, String searchPath) throws NotFound {
    Objects.requireNonNull(nameOrPath, "nameOrPath");
    if (nameOrPath.isBlank()) {
      throw new NotFound("no ansible-playbook executable configured: the name is blank");
    }
    if (nameOrPath.indexOf('/') >= 0 || nameOrPath.indexOf(File.separatorChar) >= 0) {
      Path p;
      try {
        p = Path.of(nameOrPath);
      } catch (InvalidPathException e) {
        throw new NotFound("the configured ansible-playbook '" + nameOrPath + "' is not a valid path");
      }
      if (!Files.isRegularFile(p) || !Files.isExecutable(p)) {
        throw new NotFound("the configured ansible-playbook " + p.toAbsolutePath()
            + (Files.exists(p) ? " is not an executable file" : " does not exist"));
      }
      return p.toAbsolutePath();
    }
    List<String> dirs = new ArrayList<>();
    for (String dir : (searchPath == null ? "" : searchPath).split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      dirs.add(dir);
      try {
        Path p = Path.of(dir).resolve(nameOrPath);
        if (Files.isRegularFile(p) && Files.isExecutable(p)) {
          return p.toAbsolutePath();
        }
      } catch (InvalidPathException e) {
        // a PATH entry that is no path on this system is skipped, as a shell would
      }
    }
    throw new NotFound("no '" + nameOrPath + "' executable found: looked for it in the PATH directories " + dirs
        + "; install Ansible (ansible-core) there, or configure the executable's path with ansiblePlaybook(path)");
  }
}
