package dev.gitops.core.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Durable, owner-only file writes: a temp file in the target's directory, written and forced,
 * renamed atomically over the target, then the directory forced so the rename itself survives a
 * power loss.
 */
final class DurableFiles {

  private static final Logger LOG = LoggerFactory.getLogger(DurableFiles.class);

  /** Prefix of temp files; a leftover one is a write whose rename never happened. */
  static final String TEMP_PREFIX = ".tmp-";

  static final Set<PosixFilePermission> OWNER_FILE = PosixFilePermissions.fromString("rw-------");
  static final Set<PosixFilePermission> OWNER_DIR = PosixFilePermissions.fromString("rwx------");

  private DurableFiles() {}

  /** Whether the file system of {@code p} has POSIX permissions. */
  static boolean posix(Path p) {
    return p.getFileSystem().supportedFileAttributeViews().contains("posix");
  }

  /** Creates {@code dir} and missing parents' last segment owner-only; existing dirs are left alone. */
  static void createPrivateDirectory(Path dir) throws IOException {
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

  /** Creates a new owner-only temp file in {@code dir}. */
  static Path createTemp(Path dir, String label) throws IOException {
    FileAttribute<?>[] attrs = posix(dir)
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_FILE)}
        : new FileAttribute<?>[0];
    return Files.createTempFile(dir, TEMP_PREFIX + label + "-", ".tmp", attrs);
  }

  /** Writes {@code bytes} to {@code target} atomically and durably, owner-only. */
  static void write(Path target, byte[] bytes) throws IOException {
    write(target, bytes, () -> { });
  }

  /**
   * Writes {@code bytes} to {@code target} atomically and durably, owner-only, running {@code
   * beforeRename} once the temp file is written and forced (a fault-injection point).
   */
  static void write(Path target, byte[] bytes, Runnable beforeRename) throws IOException {
    Path dir = target.getParent();
    Path tmp = createTemp(dir, target.getFileName().toString());
    boolean moved = false;
    try {
      writeAndForce(tmp, bytes);
      beforeRename.run();
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException("the file system of " + dir + " cannot rename atomically; the store needs it", e);
      }
      moved = true;
      forceDirectory(dir);
    } finally {
      if (!moved) {
        deleteQuietly(tmp);
      }
    }
  }

  /**
   * Writes {@code bytes} to {@code target} only if it does not exist yet, atomically (a hard
   * link fails when the name is taken). Returns false when another writer got there first.
   */
  static boolean writeNew(Path target, byte[] bytes) throws IOException {
    Path dir = target.getParent();
    Path tmp = createTemp(dir, target.getFileName().toString());
    try {
      writeAndForce(tmp, bytes);
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

  private static void writeAndForce(Path file, byte[] bytes) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
  }

  /** Deletes {@code file} if present and forces its directory; returns whether it existed. */
  static boolean delete(Path file) throws IOException {
    boolean existed = Files.deleteIfExists(file);
    if (existed) {
      forceDirectory(file.getParent());
    }
    return existed;
  }

  /** Forces a directory's entries (creations, renames, deletions) to disk. */
  static void forceDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // Windows cannot open a directory as a channel and some file systems refuse to fsync one;
      // there the rename is as durable as the platform allows and failing the write would make
      // the store unusable, so this is logged and tolerated
      LOG.debug("cannot fsync directory {} ({}); relying on the file system's own ordering", dir, e.toString());
    }
  }

  static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // a leftover temp file is harmless: readers ignore it and the next locked load cleans it
      LOG.debug("cannot delete temp file {}: {}", file, e.toString());
    }
  }
}
