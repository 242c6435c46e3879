package dev.gitops.core.internal.fs;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Where an external program a provider runs is ({@code terraform}, {@code ansible-playbook}): a
 * configured path, or a name looked up on {@code PATH} as a shell (and {@code ProcessBuilder})
 * would, each directory in order, the first executable file winning.
 *
 * <pre>{@code
 * Path tf = Executables.locate("terraform binary", "terraform", System.getenv("PATH"),
 *     "install Terraform there, or configure the binary's path");
 * }</pre>
 */
public final class Executables {

  /** The program is not there: trying again will not help until someone installs it. */
  public static final class NotFound extends IOException {
    private static final long serialVersionUID = 1L;

    NotFound(String message) {
      super(message);
    }
  }

  private Executables() {}

  /**
   * Finds {@code nameOrPath}: a name without a slash is searched on {@code searchPath} (the value
   * of {@code PATH}; entries that are no path on this system are skipped); anything else is a
   * file that must exist and be executable.
   *
   * @param what what the program is, for messages ({@code terraform binary})
   * @param remedy what to do when a name is on no PATH directory, for the message
   * @throws NotFound naming what was looked for and where
   */
  public static Path locate(String what, String nameOrPath, String searchPath, String remedy) throws NotFound {
    Objects.requireNonNull(nameOrPath, "nameOrPath");
    if (nameOrPath.isBlank()) {
      throw new NotFound("no " + what + " configured: the name is blank");
    }
    if (nameOrPath.indexOf('/') >= 0 || nameOrPath.indexOf(File.separatorChar) >= 0) {
      Path p;
      try {
        p = Path.of(nameOrPath);
      } catch (InvalidPathException e) {
        throw new NotFound("the configured " + what + " '" + nameOrPath + "' is not a valid path");
      }
      if (!Files.isRegularFile(p) || !Files.isExecutable(p)) {
        throw new NotFound("the configured " + what + " " + p.toAbsolutePath()
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
        + "; " + remedy);
  }
}
