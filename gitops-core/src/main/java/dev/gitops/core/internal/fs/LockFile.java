package dev.gitops.core.internal.fs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * An OS lock on one lock file (the file state store's {@code lock}, the Terraform provider's
 * {@code session.lock}, the agent's {@code agent.lock}), taken and held through the one channel
 * that opened it, with the holder's line written into the file for the message of one who finds
 * it held. The OS frees the lock when its process ends. What a caller waits for, how long, and
 * what it says of a holder stay the caller's.
 *
 * <p>Within one JVM, one {@code LockFile} at a time has a given file open: closing any descriptor
 * of a file drops every POSIX lock its process holds on it, so a second channel opened on a file
 * this JVM holds, tried ({@link OverlappingFileLockException}) and closed would free the first's
 * lock to every other process while this JVM still believes it held. A {@code LockFile} opened on
 * a file another one of this JVM has open (by any path to it: the file's key decides) opens
 * nothing; its tries fail, and it reads the holder's line through that one's channel, until that
 * one is closed.
 *
 * <p>Only a regular file is opened at the name: a symbolic link there is refused, so that a
 * holder's line is never written through it over another file, and so is a FIFO, socket, device
 * or directory (a FIFO would block the open until some writer came).
 *
 * <pre>{@code
 * try (LockFile lock = LockFile.open(dir.resolve("lock"), LockFile.Option.PRIVATE)) {
 *   long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
 *   if (lock.poll(deadline, Duration.ofMillis(50), () -> false, () -> { })) {
 *     lock.writeHolder("pid " + ProcessHandle.current().pid() + "\n", false);
 *   }
 * }
 * }</pre>
 */
public final class LockFile implements AutoCloseable {

  /** How a lock file is opened; none of them: read-write, created if missing, an exclusive lock. */
  public enum Option {
    /** Opened to read only, for a shared lock; the file must exist (nothing is created). */
    SHARED,
    /** Created readable and writable by its owner only, where the file system has POSIX permissions. */
    PRIVATE
  }

  /** The LockFile of this JVM that has each file open, by the file's key; guarded by itself. */
  private static final Map<Object, LockFile> OPEN = new HashMap<>();

  private final Path file;
  private final boolean shared;
  private final Set<Option> options;
  private final LinkOption[] links;
  /** The file's key, once known: when opened, or when found open by another LockFile of this JVM. */
  private Object key;
  /** Null while another LockFile of this JVM has the file open. */
  private FileChannel channel;
  private FileLock lock;
  private boolean closed;
  /** Descriptors of this file that other LockFiles opened while this one had it open; closed with it. */
  private final List<FileChannel> adopted = new ArrayList<>();

  private LockFile(Path file, Set<Option> options) {
    this.file = file;
    this.options = options;
    this.shared = options.contains(Option.SHARED);
    this.links = new LinkOption[] {LinkOption.NOFOLLOW_LINKS};
  }

  /**
   * Opens {@code file} (creating it unless {@link Option#SHARED}), or, when another {@code
   * LockFile} of this JVM has it open, nothing yet; no lock is taken.
   *
   * @throws IOException when the file cannot be opened (with {@link Option#SHARED}: a {@link
   *     NoSuchFileException} when it is missing), or what is at its name is not a regular file (a
   *     symbolic link, a FIFO, a directory), naming what it is
   */
  public static LockFile open(Path file, Option... options) throws IOException {
    LockFile f = new LockFile(file, options.length == 0 ? EnumSet.noneOf(Option.class)
        : EnumSet.copyOf(List.of(options)));
    f.attach();
    return f;
  }

  /** Opens the file unless another LockFile of this JVM has it open; whether this one has it now. */
  private boolean attach() throws IOException {
    synchronized (OPEN) {
      if (closed) {
        throw new IllegalStateException("lock file " + file + " is closed");
      }
      if (channel != null) {
        return true;
      }
      Object before = keyOf();
      if (before != null && OPEN.containsKey(before)) {
        key = before;
        return false;
      }
      try {
        DurableFiles.requireRegular(file, links);
      } catch (NoSuchFileException e) {
        // created by the open below (with SHARED: refused by it)
      }
      Set<OpenOption> opts = new HashSet<>(List.of(links));
      FileAttribute<?>[] attrs = new FileAttribute<?>[0];
      if (shared) {
        opts.add(StandardOpenOption.READ);
      } else {
        opts.addAll(List.of(StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE));
        if (options.contains(Option.PRIVATE) && DurableFiles.posix(file)) {
          attrs = new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(DurableFiles.OWNER_FILE)};
        }
      }
      FileChannel ch = FileChannel.open(file, opts, attrs);
      Object k;
      try {
        k = keyOf();
      } catch (IOException | RuntimeException e) {
        ch.close();  // nothing of this JVM has it open (it was not there, or not under another's key)
        throw e;
      }
      if (k == null) {
        k = file.toAbsolutePath().normalize();  // a file system without file keys: by its path
      }
      LockFile owner = OPEN.get(k);
      if (owner != null) {
        // replaced between the look and the open by a file another LockFile has open: closing this
        // descriptor now would drop that one's lock, so that one closes it with its own
        owner.adopted.add(ch);
        key = k;
        return false;
      }
      channel = ch;
      key = k;
      OPEN.put(k, this);
      return true;
    }
  }

  /** The file's key (device and inode, say), or null when it is missing or its file system has none. */
  private Object keyOf() throws IOException {
    try {
      return Files.readAttributes(file, BasicFileAttributes.class, links).fileKey();
    } catch (NoSuchFileException e) {
      return null;  // created by the open, or (shared) refused by it
    }
  }

  /** The lock file. */
  public Path file() {
    return file;
  }

  /**
   * Tries once to take the lock (shared with {@link Option#SHARED}, else exclusive).
   *
   * @return false when another process holds it, or another channel or {@code LockFile} of this JVM
   * @throws IllegalStateException when this one holds it already or is closed
   */
  public boolean tryLock() throws IOException {
    if (lock != null) {
      throw new IllegalStateException("lock file " + file + " is held already");
    }
    if (!attach()) {
      return false;
    }
    try {
      lock = channel.tryLock(0, Long.MAX_VALUE, shared);
    } catch (OverlappingFileLockException e) {
      // a channel of this JVM opened without this class holds it: held all the same
      return false;
    }
    return lock != null;
  }

  /**
   * Tries to take the lock until it is taken, {@code giveUp} says so, or {@code deadline} (of
   * {@link System#nanoTime()}) has passed; {@code eachMiss} runs after each failed try, before
   * either is looked at. Between tries it sleeps {@code interval}, or what is left when less.
   *
   * @return whether the lock is held
   */
  public boolean poll(long deadline, Duration interval, BooleanSupplier giveUp, Runnable eachMiss)
      throws IOException, InterruptedException {
    while (!tryLock()) {
      eachMiss.run();
      long left = deadline - System.nanoTime();
      if (giveUp.getAsBoolean() || left <= 0) {
        return false;
      }
      TimeUnit.NANOSECONDS.sleep(Math.min(left, interval.toNanos()));
    }
    return true;
  }

  /**
   * The first {@code maxBytes} of what the file holds (its holder's line, when held), as UTF-8,
   * read through the channel that has it open: opening another would drop this process's locks
   * on it when closed.
   */
  public String holder(int maxBytes) throws IOException {
    FileChannel ch;
    synchronized (OPEN) {
      LockFile owner = channel != null ? this : OPEN.get(key);
      if (owner == null) {
        attach();  // closed since: open it now
        owner = channel != null ? this : OPEN.get(key);
      }
      if (owner == null) {
        return "";
      }
      ch = owner.channel;
    }
    ByteBuffer buf = ByteBuffer.allocate(maxBytes);
    ch.read(buf, 0);
    return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
  }

  /** Replaces what the file holds by {@code line} (forced to the disk when {@code force}); the lock must be held. */
  public void writeHolder(String line, boolean force) throws IOException {
    requireHeld();
    channel.truncate(0);
    DurableFiles.writeFully(channel, ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8)), 0);
    if (force) {
      channel.force(false);
    }
  }

  /** Empties the file, so that a holder that is gone is not described; the lock must be held. */
  public void clearHolder() throws IOException {
    requireHeld();
    channel.truncate(0);
  }

  private void requireHeld() {
    if (lock == null) {
      throw new IllegalStateException("lock file " + file + " is not held");
    }
  }

  /**
   * Releases the lock, if held, and closes the file (once; later calls do nothing). The file
   * stays: removing it would let a third process lock a new one beside a second.
   *
   * @throws IOException when the release or the close failed; the file is closed all the same
   */
  @Override
  public void close() throws IOException {
    synchronized (OPEN) {  // a LockFile of this JVM opening the file meanwhile would lose its lock at this close
      if (closed) {
        return;
      }
      closed = true;
      try {
        if (lock != null) {
          lock.release();
        }
      } finally {
        if (channel != null) {
          try {
            for (FileChannel ch : adopted) {
              ch.close();
            }
            channel.close();
          } finally {
            OPEN.remove(key, this);
          }
        }
      }
    }
  }

  @Override
  public String toString() {
    return "lock file " + file + (lock != null && lock.isValid() ? " (held)" : "");
  }
}
