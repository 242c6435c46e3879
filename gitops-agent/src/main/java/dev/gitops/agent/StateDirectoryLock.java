package dev.gitops.agent;

import dev.gitops.agent.config.AgentConfig;
import dev.gitops.core.internal.fs.LockFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The agent's hold on its state directory for its whole life: an OS lock on {@code
 * <stateDir>/agent.lock}, which holds the holder's pid (created readable and writable by its owner
 * only, where the file system has POSIX permissions, as the stores' lock files are). The stores' own locks are taken per sync
 * only, so two agents on one state directory would otherwise both run every target, each undoing
 * the other. The kernel frees the lock when the process dies, so a killed agent never leaves it
 * held. Not taken in cluster mode, where members may share a state directory and the coordinator
 * decides who runs what.
 */
final class StateDirectoryLock implements AutoCloseable {

  /** The lock file's name in the state directory. */
  static final String FILE = AgentConfig.LOCK_FILE;

  private final Path dir;
  private final LockFile lock;

  private StateDirectoryLock(Path dir, LockFile lock) {
    this.dir = dir;
    this.lock = lock;
  }

  /**
   * Locks {@code dir} (created if missing) for this process.
   *
   * @throws StateDirectoryInUseException naming the directory and, when it can be read, the holder's pid
   * @throws UncheckedIOException when the directory or its lock file cannot be created
   */
  static StateDirectoryLock acquire(Path dir) {
    Path file = dir.resolve(FILE);
    LockFile lock = null;
    try {
      Files.createDirectories(dir);
      // owner-only, as the stores' lock files: another user who could open it could hold a shared
      // lock on it and keep every agent from starting on the directory
      lock = LockFile.open(file, LockFile.Option.PRIVATE);
      // another agent of this JVM holding it is refused as one of another process (and its lock
      // stays: LockFile opens no second descriptor, whose close would drop it)
      if (!lock.tryLock()) {
        String holder = holder(lock);
        lock.close();
        throw new StateDirectoryInUseException(dir, holder);
      }
      lock.writeHolder(ProcessHandle.current().pid() + "\n", true);
      return new StateDirectoryLock(dir, lock);
    } catch (IOException e) {
      closeQuietly(lock);
      throw new UncheckedIOException("cannot lock the agent's state directory " + dir + " (" + file + "): "
          + e.getMessage(), e);
    }
  }

  /**
   * The pid the holder wrote, or null when it cannot be read (an old or empty file) or names no
   * process running here: the agent that holds the lock now has not written its pid yet, and the
   * one in the file is that of an agent killed with {@code kill -9}.
   */
  private static String holder(LockFile lock) {
    try {
      String pid = lock.holder(32).trim();
      return pid.matches("\\d{1,18}") && ProcessHandle.of(Long.parseLong(pid)).map(ProcessHandle::isAlive)
          .orElse(false) ? pid : null;
    } catch (IOException e) {
      return null;
    }
  }

  private static void closeQuietly(LockFile lock) {
    if (lock != null) {
      try {
        lock.close();
      } catch (IOException e) {
        // the close releases the lock even when it fails; the caller reports the first failure
      }
    }
  }

  /** The directory held. */
  Path directory() {
    return dir;
  }

  /** Releases the directory (the file stays: removing it would let a third agent lock a new one beside a second). */
  @Override
  public void close() {
    try {
      lock.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot release the lock of " + dir + ": " + e.getMessage(), e);
    }
  }
}
