package dev.gitops.terraform.internal;

import dev.gitops.terraform.TerraformException;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the Terraform or OpenTofu executable is: a configured path, or a name looked up on
 * {@code PATH} like a shell would (each directory in order, the first executable file wins).
 */
public final class Binary {

  private final Path path;
  private final String lookedFor;

  private Binary(Path path, String lookedFor) {
    this.path = path;
    this.lookedFor = lookedFor;
  }

  /**
   * Finds {@code nameOrPath}: a name without a slash ({@code terraform}, {@code tofu}) is searched
   * on {@code searchPath} (the value of {@code PATH}); anything else is a file that must exist
   * and be executable.
   *
   * @throws TerraformException naming what was looked for and where
   */
  public static Binary locate(String nameOrPath, String searchPath) {
    Objects.requireNonNull(nameOrPath, "nameOrPath");
    if (nameOrPath.isBlank()) {
      throw new TerraformException("no terraform binary configured: the binary name is blank");
    }
    if (nameOrPath.indexOf('/') >= 0 || nameOrPath.indexOf(File.separatorChar) >= 0) {
      Path p;
      try {
        p = Path.of(nameOrPath);
      } catch (InvalidPathException e) {
        throw new TerraformException("the configured terraform binary '" + nameOrPath + "' is not a valid path");
      }
      if (!Files.isRegularFile(p) || !Files.isExecutable(p)) {
        throw new TerraformException("the configured terraform binary " + p.toAbsolutePath()
            + (Files.exists(p) ? " is not an executable file" : " does not exist"));
      }
      return new Binary(p.toAbsolutePath(), nameOrPath);
    }
    List<String> dirs = new ArrayList<>();
    for (String dir : (searchPath == null ? "" : searchPath).split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      dirs.add(dir);
      Optional<Path> found = executable(dir, nameOrPath);
      if (found.isPresent()) {
        return new Binary(found.get(), nameOrPath);
      }
    }
    throw new TerraformException("no '" + nameOrPath + "' executable found: looked for '" + nameOrPath
        + "' in the PATH directories " + dirs + "; install " + ("tofu".equals(nameOrPath) ? "OpenTofu" : "Terraform")
        + " there, or configure the binary's path");
  }

  private static Optional<Path> executable(String dir, String name) {
    try {
      Path p = Path.of(dir).resolve(name);
      return Files.isRegularFile(p) && Files.isExecutable(p) ? Optional.of(p.toAbsolutePath()) : Optional.empty();
    } catch (InvalidPathException e) {
      // A PATH entry that is no path on this system is skipped, as a shell would.
      return Optional.empty();
    }
  }

  /** The executable. */
  public Path path() {
    return path;
  }

  /** What was asked for (a name or a path). */
  public String lookedFor() {
    return lookedFor;
  }

  /** Whether this is OpenTofu (judged by its file name; the version output says the same). */
  public boolean isOpenTofu() {
    return path.getFileName().toString().startsWith("tofu");
  }

  /** The product name: {@code OpenTofu} or {@code Terraform}. */
  public String product() {
    return isOpenTofu() ? "OpenTofu" : "Terraform";
  }

  @Override
  public String toString() {
    return path.toString();
  }
}
