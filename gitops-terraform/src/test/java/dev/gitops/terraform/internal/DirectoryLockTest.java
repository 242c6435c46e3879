package dev.gitops.terraform.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lock file of a working directory's session. */
class DirectoryLockTest {

  @TempDir
  Path root;

  @Test
  void theSessionLockFileIsOwnerOnlyAsTheStateStoresLockIs() throws Exception {
    Assumptions.assumeTrue(root.getFileSystem().supportedFileAttributeViews().contains("posix"));
    WorkingDirectory dir = new WorkingDirectory(root.resolve("work"));
    DirectoryLock lock = DirectoryLock.acquire(dir, "planning", Duration.ZERO, () -> false);
    try {
      Path file = dir.own().resolve(DirectoryLock.FILE);
      // it names its holder (pid, user, host, what it does): no one else's to read
      assertThat(Files.readString(file)).contains("pid " + DirectoryLock.pid(), "planning");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    } finally {
      lock.release();
    }
  }
}
