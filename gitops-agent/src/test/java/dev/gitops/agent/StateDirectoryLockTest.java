package dev.gitops.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's lock on its state directory. */
class StateDirectoryLockTest {

  @Test
  void theLockFileIsCreatedReadableAndWritableByItsOwnerOnlyAsTheStoresLockIs(@TempDir Path dir) throws Exception {
    assumeThat(dir.getFileSystem().supportedFileAttributeViews()).contains("posix");
    Path state = dir.resolve("state");
    try (StateDirectoryLock lock = StateDirectoryLock.acquire(state)) {
      Path file = state.resolve(StateDirectoryLock.FILE);
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
          .as("%s holds the agent's pid; another user has no business reading or locking it", file)
          .isEqualTo("rw-------");
      assertThat(Files.readString(file)).isEqualTo(ProcessHandle.current().pid() + "\n");
    }
  }
}
