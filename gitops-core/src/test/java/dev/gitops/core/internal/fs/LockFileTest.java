package dev.gitops.core.internal.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lock file's own contract, beyond what its callers' tests see: a second lock of this JVM on
 * a held file (the agent's second agent, a store through a bind mount) is refused without freeing
 * the first's OS lock, which only another process could notice.
 */
class LockFileTest {

  private static final Path PROC_LOCKS = Path.of("/proc/locks");

  @TempDir
  Path dir;

  /**
   * Whether this process holds a POSIX lock on {@code file}, as the kernel tells every other
   * process ({@code /proc/locks}: id, kind, mode, access, pid, device:inode, range).
   */
  private static boolean heldByThisProcess(Path file) throws IOException {
    String pid = String.valueOf(ProcessHandle.current().pid());
    String inode = ":" + Files.getAttribute(file, "unix:ino");
    return Files.readAllLines(PROC_LOCKS).stream().map(l -> l.trim().split("\\s+"))
        .anyMatch(f -> f.length > 5 && f[1].equals("POSIX") && f[4].equals(pid) && f[5].endsWith(inode));
  }

  @Test
  void aSecondLockOfThisJvmOnAHeldFileIsRefusedWithoutFreeingTheFirstForOtherProcesses() throws Exception {
    assumeThat(Files.isReadable(PROC_LOCKS)).as("the kernel's table of locks (Linux)").isTrue();
    Path real = Files.createDirectory(dir.resolve("d"));
    Path alias = Files.createSymbolicLink(dir.resolve("alias"), real);  // a bind mount's case: another path
    Path file = real.resolve("lock");
    for (Path other : List.of(file, alias.resolve("lock"))) {
      try (LockFile first = LockFile.open(file)) {
        assertThat(first.tryLock()).isTrue();
        first.writeHolder("pid 42\n", false);
        assertThat(heldByThisProcess(file)).isTrue();

        try (LockFile second = LockFile.open(other)) {
          assertThat(second.tryLock()).as(other.toString()).isFalse();
          assertThat(second.poll(System.nanoTime() + Duration.ofMillis(30).toNanos(), Duration.ofMillis(10),
              () -> false, () -> { })).as(other.toString()).isFalse();
          assertThat(second.holder(64)).as("read through the first's descriptor").isEqualTo("pid 42\n");
        }
        assertThat(heldByThisProcess(file)).as("still held for other processes after the second closed (%s)",
            other).isTrue();
      }
      assertThat(heldByThisProcess(file)).isFalse();
      try (LockFile next = LockFile.open(other)) {
        assertThat(next.tryLock()).as("free once the first is closed").isTrue();
      }
    }
  }

  @Test
  void aLinkOrAFifoAtTheNameIsRefusedNamingWhatItIsAndSharedCreatesNothing() throws Exception {
    Path target = Files.writeString(dir.resolve("precious"), "keep\n");
    Path link = Files.createSymbolicLink(dir.resolve("session.lock"), target);
    for (LockFile.Option[] options : List.of(new LockFile.Option[0], new LockFile.Option[] {LockFile.Option.PRIVATE},
        new LockFile.Option[] {LockFile.Option.SHARED})) {
      assertThatThrownBy(() -> LockFile.open(link, options)).isInstanceOf(IOException.class)
          .hasMessage(link + " is not a regular file but a symbolic link");
    }
    assertThat(Files.readString(target)).isEqualTo("keep\n");

    Path fifo = dir.resolve("agent.lock");
    Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assumeThat(mkfifo.waitFor(10, java.util.concurrent.TimeUnit.SECONDS) && mkfifo.exitValue() == 0).as("mkfifo")
        .isTrue();
    // a FIFO would block the open until a writer came: refused before it
    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(20), () ->
        assertThatThrownBy(() -> LockFile.open(fifo)).isInstanceOf(IOException.class)
            .hasMessage(fifo + " is not a regular file but a FIFO, socket or device"));

    Path missing = dir.resolve("missing");
    assertThatThrownBy(() -> LockFile.open(missing, LockFile.Option.SHARED)).isInstanceOf(NoSuchFileException.class);
    assertThat(missing).doesNotExist();
  }
}
