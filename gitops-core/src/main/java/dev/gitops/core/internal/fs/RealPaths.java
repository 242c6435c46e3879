package dev.gitops.core.internal.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Real paths of places that may not exist yet (a target made by its first sync): links resolved
 * as far as the path exists, the rest appended as given. Two paths that lead to one directory
 * compare equal this way, whichever link either goes through.
 */
public final class RealPaths {

  private RealPaths() {}

  /** The real path of {@code p}, or of its nearest existing ancestor with the rest appended (nothing is created). */
  public static Path of(Path p) throws IOException {
    Path abs = p.toAbsolutePath().normalize();
    Path existing = abs;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      return abs;
    }
    Path real = existing.toRealPath();
    return existing.equals(abs) ? real : real.resolve(existing.relativize(abs).toString());
  }
}
