package dev.gitops.core;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * Files and directories made to refuse writes for a test (chattr +i as root, where a mode stops
 * nothing; the mode otherwise), and given back when closed. A test that finds nothing here makes a
 * path refuse writes (root without chattr) is skipped, not passed.
 *
 * <pre>{@code
 * try (WriteLocks locks = new WriteLocks()) {
 *   locks.lock(storeDir);   // a sync now cannot write there
 * }
 * }</pre>
 */
public final class WriteLocks implements AutoCloseable {

  private final List<Path> locked = new ArrayList<>();

  private static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  /** Makes {@code p} (a file or a directory) refuse writes, or skips the test where nothing available does. */
  public void lock(Path p) throws Exception {
    locked.add(p);
    if (isRoot()) {
      int code;
      try {
        code = new ProcessBuilder("chattr", "+i", p.toString()).redirectErrorStream(true).start().waitFor();
      } catch (IOException e) {
        code = -1;  // no chattr: the assumption below skips the test
      }
      if (code != 0) {
        locked.remove(p);
      }
    } else {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "r-x------" : "r--------"));
    }
    Assumptions.assumeFalse(writable(p), () -> "nothing here makes " + p + " refuse writes (root without chattr +i)");
  }

  /** Gives every locked path its writes back. */
  @Override
  public void close() throws Exception {
    for (Path p : locked) {
      if (isRoot()) {
        new ProcessBuilder("chattr", "-i", p.toString()).inheritIO().start().waitFor();
      } else {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwx------" : "rw-------"));
      }
    }
    locked.clear();
  }

  private static boolean writable(Path p) {
    try {
      if (Files.isDirectory(p)) {
        Files.delete(Files.createFile(p.resolve("probe")));
      } else {
        FileChannel.open(p, StandardOpenOption.WRITE).close();
      }
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
