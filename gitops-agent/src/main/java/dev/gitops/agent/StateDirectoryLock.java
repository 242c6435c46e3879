package dev.gitops.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The agent's hold on its state directory for its whole life: an OS lock on {@code
 * <stateDir>/agent.lock}, which holds the holder's pid. The stores' own locks are taken per sync
 * only, so two agents on one state directory would otherwise both run every target, each undoing
 * the other. The kernel frees the lock when the process dies, so a killed agent never leaves it
 * held. Not taken in cluster mode, where members may share a state directory and the coordinator
 * decides who runs what.
 */
final class StateDirectoryLock implements AutoCloseable {

  /** The lock file's name in the state directory. */
  static final String FILE = "agent.lock";

  private final Path dir;
  private final FileChannel channel;
  private final FileLock lock;

  private StateDirectoryLock(Path dir, FileChannel channel, FileLock lock) {
    this.dir = dir;
    this.channel = channel;
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
    FileChannel channel = null;
    try {
      Files.createDirectories(dir);
      channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;  // another agent of this JVM holds it
      }
      if (lock == null) {
        String holder = holder(channel);
        channel.close();
        throw new StateDirectoryInUseException(dir, holder);
      }
      channel.truncate(0);
      channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
      channel.force(false);
      return new StateDirectoryLock(dir, channel, lock);
    } catch (IOException e) {
      closeQuietly(channel);
      throw new UncheckedIOException("cannot lock the agent's state directory " + dir + " (" + file + "): "
          + e.getMessage(), e);
    }
  }

  /** The pid the holder wrote, or null when it cannot be read (an old or empty file). */
  private static String holder(FileChannel channel) {
    try {
      ByteBuffer b = ByteBuffer.allocate(32);
      channel.read(b, 0);
      String pid = new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).trim();
      return pid.matches("\\d{1,19}") ? pid : null;
    } catch (IOException e) {
      return null;
    }
  }

  private static void closeQuietly(FileChannel channel) {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException e) {
        // nothing held: the lock was not taken
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
      lock.release();
      channel.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot release the lock of " + dir + ": " + e.getMessage(), e);
    }
  }
}
