package dev.gitops.core.internal.fs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Durable file writes, the one implementation the state store and the local-files provider share:
 * a new temp file is written and forced, given its permissions, renamed atomically over the
 * target, then the target's directory is forced so the rename itself survives a power loss. A
 * crash leaves the old file or the new one, and at most the temp file.
 *
 * <p>The caller chooses where the temp file goes ({@link #tempBeside} for a private directory
 * such as the store's); it is created new (never over an existing file, never through a link) and
 * readable by the owner only until it is complete.
 *
 * <pre>{@code
 * DurableFiles.write(storeDir.resolve("meta.json"), bytes);   // owner-only, temp file beside it
 * }</pre>
 */
public final class DurableFiles {

  private static final Logger LOG = LoggerFactory.getLogger(DurableFiles.class);

  /** Prefix of the temp files {@link #tempBeside} names; a leftover one is a write whose rename never happened. */
  public static final String TEMP_PREFIX = ".tmp-";

  /** {@code rw-------}. */
  public static final Set<PosixFilePermission> OWNER_FILE = PosixFilePermissions.fromString("rw-------");
  /** {@code rwx------}. */
  public static final Set<PosixFilePermission> OWNER_DIR = PosixFilePermissions.fromString("rwx------");

  /** How much of the target's name a temp file beside it repeats (the rest of a 255-byte name is room to spare). */
  private static final int LABEL_CHARS = 64;

  /**
   * The most one channel call moves. The JDK copies a heap buffer through a temporary direct buffer
   * the size of the call and keeps that buffer for the thread: one call reading or writing the 16 MB
   * snapshot of 10,000 entries held 16 MB of native memory until the process ended.
   */
  static final int SLICE = 1 << 20;

  private DurableFiles() {}

  /**
   * All of {@code file}'s bytes, like {@link Files#readAllBytes} but read {@link #SLICE} at a time,
   * so a large file costs its array and no native copy of the same size.
   *
   * <pre>{@code
   * byte[] snapshot = DurableFiles.readAll(storeDir.resolve("snapshot"));
   * }</pre>
   *
   * @throws java.nio.file.NoSuchFileException when the file does not exist
   */
  public static byte[] readAll(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return readAll(file, ch, ch.size());
    }
  }

  /**
   * All of {@code file}'s bytes read into an array of {@code size}, the size a stat just gave (one
   * allocation for a file that did not change since, where a stream's read of everything grows 8 KiB
   * chunks and copies them); a file that grew or shrank since is read to its end all the same, and
   * a negative {@code size} (none known) takes the size of the open file. With {@link
   * LinkOption#NOFOLLOW_LINKS} a symbolic link at {@code file} fails the open.
   *
   * <pre>{@code
   * Path conf = dir.resolve("app.conf");
   * long size = java.nio.file.Files.size(conf);  // as a stat a moment ago gave it
   * byte[] live = DurableFiles.readSized(conf, size, LinkOption.NOFOLLOW_LINKS);
   * }</pre>
   *
   * @throws java.nio.file.NoSuchFileException when nothing is at {@code file}
   */
  public static byte[] readSized(Path file, long size, LinkOption... options) throws IOException {
    Set<OpenOption> open = new java.util.HashSet<>(Arrays.asList(options));
    open.add(StandardOpenOption.READ);
    try (FileChannel ch = FileChannel.open(file, open)) {
      return readAll(file, ch, size < 0 ? ch.size() : size);
    }
  }

  /**
   * {@link #readAll(Path)} of a regular file only ({@link #requireRegular}), of at most {@code
   * maxBytes}: a FIFO, a device or a directory there is not opened (opening a FIFO waits for a
   * writer that may never come), and with {@link LinkOption#NOFOLLOW_LINKS} a symbolic link is not
   * followed either (for a file the process writes itself under a name others may reach, read back
   * as a hint or a record); without it a link to a regular file is read through.
   *
   * <pre>{@code
   * byte[] listing = DurableFiles.readRegular(dir.resolve("owners.listing"), 256L << 20,
   *     java.nio.file.LinkOption.NOFOLLOW_LINKS);
   * }</pre>
   *
   * @throws java.nio.file.NoSuchFileException when nothing is at {@code file}
   * @throws IOException naming {@code file} when it is not a regular file or holds more than {@code
   *     maxBytes}
   */
  public static byte[] readRegular(Path file, long maxBytes, LinkOption... options) throws IOException {
    long size = requireRegular(file, options);
    if (size > maxBytes) {
      throw new IOException(file + " holds " + size + " bytes, more than the " + maxBytes + " it may");
    }
    // with the options of the look: a link put in its place since then fails a no-follow open (ELOOP)
    return readSized(file, size, options);
  }

  /**
   * The size of {@code file} when it is a regular file (a link to one is followed unless {@code
   * options} hold {@link LinkOption#NOFOLLOW_LINKS}); otherwise an exception naming it and what
   * is there, so that a FIFO, socket, device or directory is never opened to be read.
   *
   * <pre>{@code
   * long size = DurableFiles.requireRegular(dir.resolve("lock"));
   * }</pre>
   *
   * @throws java.nio.file.NoSuchFileException when nothing is at {@code file}
   */
  public static long requireRegular(Path file, LinkOption... options) throws IOException {
    java.nio.file.attribute.BasicFileAttributes a = Files.readAttributes(file,
        java.nio.file.attribute.BasicFileAttributes.class, options);
    if (!a.isRegularFile()) {
      throw new IOException(file + " is not a regular file but " + (a.isSymbolicLink() ? "a symbolic link"
          : a.isDirectory() ? "a directory" : "a FIFO, socket or device"));
    }
    return a.size();
  }

  /** Everything {@code ch} (open on {@code file}) holds from its position, into an array of {@code size} first. */
  private static byte[] readAll(Path file, FileChannel ch, long size) throws IOException {
    if (size > Integer.MAX_VALUE - 8) {
      throw new IOException(file + " holds " + size + " bytes, more than an array holds");
    }
    byte[] out = new byte[(int) size];
    int n = 0;
    while (true) {
      if (n == out.length) {
        // the file may have grown since its size was read: read on until its end, as readAllBytes does
        ByteBuffer one = ByteBuffer.allocate(1);
        if (ch.read(one) < 0) {
          return out;
        }
        out = Arrays.copyOf(out, Math.max(n + SLICE, n * 2));
        out[n++] = one.get(0);
      }
      ByteBuffer rest = ByteBuffer.wrap(out, n, out.length - n);
      readFully(ch, rest);
      if (rest.hasRemaining()) {
        return Arrays.copyOf(out, rest.position());
      }
      n = out.length;
    }
  }

  /**
   * Reads from {@code ch} into {@code buf} until it is full or the channel ends, {@link #SLICE} at a
   * time (see there); {@code buf}'s limit is kept.
   */
  public static void readFully(ReadableByteChannel ch, ByteBuffer buf) throws IOException {
    int limit = buf.limit();
    try {
      while (buf.hasRemaining()) {
        buf.limit(Math.min(limit, buf.position() + SLICE));
        if (ch.read(buf) < 0) {
          return;
        }
        buf.limit(limit);
      }
    } finally {
      buf.limit(limit);
    }
  }

  /**
   * Writes all of {@code buf}'s remaining bytes at {@code position} of {@code ch}, {@link #SLICE} at
   * a time (see there); {@code buf}'s position ends at its limit.
   */
  public static void writeFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    long at = position;
    int limit = buf.limit();
    try {
      while (buf.hasRemaining()) {
        buf.limit(Math.min(limit, buf.position() + SLICE));
        at += ch.write(buf, at);
        buf.limit(limit);
      }
    } finally {
      buf.limit(limit);
    }
  }

  /** Whether the file system of {@code p} has POSIX permissions. */
  public static boolean posix(Path p) {
    return p.getFileSystem().supportedFileAttributeViews().contains("posix");
  }

  /** Creates {@code dir} (and missing parents) with its last segment owner-only; an existing dir is left alone. */
  public static void createPrivateDirectory(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return;
    }
    Path parent = dir.toAbsolutePath().getParent();
    if (parent != null && !Files.isDirectory(parent)) {
      Files.createDirectories(parent);
    }
    try {
      if (posix(dir)) {
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_DIR));
        // the umask can only remove bits, but set them explicitly in case it is unusual
        Files.setPosixFilePermissions(dir, OWNER_DIR);
      } else {
        Files.createDirectory(dir);
      }
    } catch (FileAlreadyExistsException e) {
      // another thread or process created it between the check and here: fine if a directory
      if (!Files.isDirectory(dir)) {
        throw e;
      }
      return;
    }
    if (parent != null) {
      forceDirectory(parent);
    }
  }

  /**
   * A fresh temp file name beside {@code target}: {@code .tmp-<start of the name>-<random>.tmp}.
   * Only for directories nobody else writes in (the store's), where that prefix marks leftovers.
   */
  public static Path tempBeside(Path target) {
    String name = target.getFileName().toString();
    String label = name.length() > LABEL_CHARS ? name.substring(0, LABEL_CHARS) : name;
    return target.resolveSibling(TEMP_PREFIX + label + "-" + randomName() + ".tmp");
  }

  /** Twelve or so random base-36 characters: short, so a temp name never outgrows the name it stands for. */
  public static String randomName() {
    return Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
  }

  /** Writes {@code bytes} to {@code target} atomically and durably, owner-only. */
  public static void write(Path target, byte[] bytes) throws IOException {
    write(target, bytes, () -> { });
  }

  /**
   * Writes {@code bytes} to {@code target} atomically and durably, owner-only, running {@code
   * beforeRename} once the temp file is written and forced (a fault-injection point).
   */
  public static void write(Path target, byte[] bytes, Runnable beforeRename) throws IOException {
    write(target, bytes, tempBeside(target), OWNER_FILE, beforeRename);
  }

  /**
   * Writes {@code bytes} to {@code target} atomically and durably through the new file {@code
   * temp} (on the same file system), which gets {@code permissions} (where the file system has
   * them) before it is renamed over the target; {@code beforeRename} runs just before the rename.
   * The temp file is removed when anything fails before the rename.
   *
   * @throws FileAlreadyExistsException when {@code temp} already exists (it is left alone)
   * @throws IOException when the file system cannot rename atomically, naming both paths
   */
  public static void write(Path target, byte[] bytes, Path temp, Set<PosixFilePermission> permissions,
      Runnable beforeRename) throws IOException {
    write(target, bytes, temp, permissions, beforeRename, DurableFiles::forceDirectory);
  }

  /** Forces a directory to disk: at once, or later for many writes together. */
  @FunctionalInterface
  public interface DirectorySync {
    /** Makes the entries of {@code dir} durable (or arranges for it before the writes are reported done). */
    void force(Path dir) throws IOException;
  }

  /**
   * {@link #write(Path, byte[], Path, Set, Runnable)}, handing the target's directory to {@code
   * directorySync} instead of forcing it at once: a batch of writes forces each directory once,
   * and the rename is durable only after that (the caller must not report the write done before).
   */
  public static void write(Path target, byte[] bytes, Path temp, Set<PosixFilePermission> permissions,
      Runnable beforeRename, DirectorySync directorySync) throws IOException {
    replace(target, bytes, temp, permissions, beforeRename, directorySync, true);
  }

  /**
   * Replaces {@code target} by {@code bytes} atomically but not durably, owner-only: readers see the
   * old content or the new, whole; a crash of the machine may leave the old content, an empty file
   * or other bytes. Only for files whose readers check what they read and lose nothing but a short
   * cut when it is wrong (the store's no-change hints, bound to a serial and checksummed); the
   * forcing a durable write pays is then spent for nothing. {@code beforeRename} runs just before
   * the rename.
   */
  public static void replaceUnforced(Path target, byte[] bytes, Runnable beforeRename) throws IOException {
    replace(target, bytes, tempBeside(target), OWNER_FILE, beforeRename, dir -> { }, false);
  }

  private static void replace(Path target, byte[] bytes, Path temp, Set<PosixFilePermission> permissions,
      Runnable beforeRename, DirectorySync directorySync, boolean force) throws IOException {
    FileChannel channel = createNew(temp);
    boolean moved = false;
    try {
      write(channel, bytes, force);
      if (posix(temp) && !permissions.equals(OWNER_FILE)) {
        Files.setPosixFilePermissions(temp, permissions);
      }
      beforeRename.run();
      try {
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException("cannot rename " + temp + " atomically over " + target
            + " (another file system, or one without atomic renames)", e);
      }
      moved = true;
      // The destination's directory holds the new entry; forcing it makes the rename durable.
      directorySync.force(target.getParent());
    } finally {
      if (!moved) {
        deleteQuietly(temp);
      }
    }
  }

  /**
   * Writes {@code bytes} to {@code target} only if it does not exist yet, atomically (a hard
   * link fails when the name is taken). Returns false when another writer got there first.
   */
  public static boolean writeNew(Path target, byte[] bytes) throws IOException {
    Path dir = target.getParent();
    Path tmp = tempBeside(target);
    FileChannel channel = createNew(tmp);
    try {
      writeAndForce(channel, bytes);
      try {
        Files.createLink(target, tmp);
      } catch (FileAlreadyExistsException e) {
        return false;
      } catch (UnsupportedOperationException e) {
        // no hard links here (some non-POSIX file systems): fall back to a no-replace move,
        // which is atomic enough when callers also hold the store lock
        try {
          Files.move(tmp, target);
        } catch (FileAlreadyExistsException e2) {
          return false;
        }
      }
      forceDirectory(dir);
      return true;
    } finally {
      deleteQuietly(tmp);
    }
  }

  /**
   * Creates {@code file} empty and owner-only, never over an existing file or through a link, and
   * returns it open for writing (one open: the caller writes through it, see {@link #writeAndForce}).
   */
  private static FileChannel createNew(Path file) throws IOException {
    FileAttribute<?>[] attrs = posix(file)
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_FILE)}
        : new FileAttribute<?>[0];
    return FileChannel.open(file, Set.<OpenOption>of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
        LinkOption.NOFOLLOW_LINKS), attrs);
  }

  /** Writes all of {@code bytes} through {@code ch}, forces them to disk and closes it. */
  private static void writeAndForce(FileChannel ch, byte[] bytes) throws IOException {
    write(ch, bytes, true);
  }

  /** Writes all of {@code bytes} through {@code ch}, forces them to disk when {@code force}, and closes it. */
  private static void write(FileChannel ch, byte[] bytes, boolean force) throws IOException {
    try (ch) {
      writeFully(ch, ByteBuffer.wrap(bytes), 0);
      if (force) {
        ch.force(true);
      }
    }
  }

  /** Deletes {@code file} if present and forces its directory; returns whether it existed. */
  public static boolean delete(Path file) throws IOException {
    boolean existed = Files.deleteIfExists(file);
    if (existed) {
      forceDirectory(file.getParent());
    }
    return existed;
  }

  /** Forces a directory's entries (creations, renames, deletions) to disk. */
  public static void forceDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // Windows cannot open a directory as a channel and some file systems refuse to fsync one;
      // there the rename is as durable as the platform allows and failing the write would make
      // the store unusable, so this is logged and tolerated
      LOG.debug("cannot fsync directory {} ({}); relying on the file system's own ordering", dir, e.toString());
    }
  }

  /** Deletes {@code file} if present; a failure is logged, not thrown. */
  public static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // a leftover temp file is harmless: readers ignore it and the next cleanup removes it
      LOG.debug("cannot delete temp file {}: {}", file, e.toString());
    }
  }
}
