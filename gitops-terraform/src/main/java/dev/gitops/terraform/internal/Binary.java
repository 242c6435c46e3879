package dev.gitops.terraform.internal;

import dev.gitops.core.internal.fs.Executables;
import dev.gitops.terraform.TerraformException;
import java.nio.file.Path;

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
    try {
      return new Binary(Executables.locate("terraform binary", nameOrPath, searchPath, "install "
          + ("tofu".equals(nameOrPath) ? "OpenTofu" : "Terraform") + " there, or configure the binary's path"), nameOrPath);
    } catch (Executables.NotFound e) {
      throw new TerraformException(e.getMessage());
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
