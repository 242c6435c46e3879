package dev.gitops.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
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

  @Test
  void aHolderPidThatNoProcessRunsIsNotNamedAndALiveOneIs(@TempDir Path dir) throws Exception {
    Path state = dir.resolve("state");
    try (StateDirectoryLock held = StateDirectoryLock.acquire(state)) {
      Path file = state.resolve(StateDirectoryLock.FILE);
      StateDirectoryInUseException live = catchThrowableOfType(() -> StateDirectoryLock.acquire(state).close(),
          StateDirectoryInUseException.class);
      assertThat(live.holderPid()).contains(Long.toString(ProcessHandle.current().pid()));

      // what an agent killed with kill -9 leaves, read while the next one holds the lock and has not written its own
      Process ended = new ProcessBuilder(List.of("true")).start();
      ended.waitFor();
      Files.writeString(file, ended.pid() + "\n");
      StateDirectoryInUseException gone = catchThrowableOfType(() -> StateDirectoryLock.acquire(state).close(),
          StateDirectoryInUseException.class);
      assertThat(gone.holderPid()).as("pid %s is not running", ended.pid()).isEmpty();
      assertThat(gone.getMessage()).doesNotContain("pid " + ended.pid());
    }
  }
}
