package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gitops.api.StoreLockedException;
import dev.gitops.core.store.FileStateStore;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A lock's holder as an error names it: the pid a writer killed with {@code kill -9} left in a
 * state store's lock file is never named as the holder of the lock a reader (which writes no pid)
 * holds now; a holder that runs is named as before.
 */
class LockHolderMessagesTest {

  @TempDir
  Path tmp;

  /** Holds a read lock of the store {@code args[0]} (as plan, diff, status and history do) until its stdin closes. */
  public static final class ReaderHoldingTheLock {
    public static void main(String[] args) throws Exception {
      try (FileStateStore store = FileStateStore.openReadOnly(Path.of(args[0]));
          var lock = store.lock(Duration.ofSeconds(30))) {
        System.out.println("locked");
        System.out.flush();
        while (System.in.read() >= 0) {
          // held until the test closes our stdin
        }
      }
    }
  }

  @Test
  void aDeadWritersPidLeftInTheLockFileIsNotNamedAsTheHolderAndALiveOneIs() throws Exception {
    Path state = tmp.resolve("state");
    try (FileStateStore store = FileStateStore.open(state); var lock = store.lock(Duration.ZERO)) {
      assertThat(state.resolve("lock")).exists();  // made by a writer, as a sync makes it
    }
    Path lockFile = state.resolve("lock");
    long dead = deadPid();
    Files.writeString(lockFile, "pid " + dead + "\n");  // what a writer killed with kill -9 leaves

    Process reader = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
        System.getProperty("java.class.path"), ReaderHoldingTheLock.class.getName(), state.toString())
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(reader.getInputStream(), StandardCharsets.UTF_8));
      assertThat(out.readLine()).isEqualTo("locked");

      String deadHolder = ExitCodes.describe(lockedOut(state));
      assertThat(deadHolder).doesNotContain("locked by process " + dead)
          .contains("is locked by another process (the lock file names pid " + dead + ", which is not running on this"
              + " host")
          .contains("lock file " + lockFile.toRealPath());

      Files.writeString(lockFile, "pid " + reader.pid() + "\n");
      assertThat(ExitCodes.describe(lockedOut(state))).contains("is locked by process " + reader.pid() + ",")
          .doesNotContain("not running");
    } finally {
      reader.getOutputStream().close();
      reader.waitFor();
    }
  }

  /** The error a writer gets from the store held by the reader. */
  private static StoreLockedException lockedOut(Path state) {
    try (FileStateStore store = FileStateStore.open(state)) {
      return catchThrowableOfType(() -> store.lock(Duration.ofMillis(200)).close(), StoreLockedException.class);
    }
  }

  /** The pid of a process that has ended. */
  private static long deadPid() throws Exception {
    Process p = new ProcessBuilder(List.of("true")).directory(new File(".")).start();
    p.waitFor();
    assertThat(ProcessHandle.of(p.pid())).isEmpty();
    return p.pid();
  }
}
