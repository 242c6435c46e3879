package dev.gitops.core.files;

import dev.gitops.core.internal.fs.DurableFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the local-files provider's atomic writes keep their temp files, so that no temp file is
 * ever named like, or mistaken for, a user's file.
 *
 * <p>A temp file lives in the provider's own directory {@code <target>/.gitops/files/tmp/} and is
 * named {@code <pid>.<random>}: short, so a file name of the file system's full length (255 bytes)
 * can still be written, and carrying the writing process's id, so the leftovers of a killed
 * process are recognised (its pid is gone) without touching another live process's writes. When
 * a file's directory is on another file system than that directory (a mount point inside the
 * target), the temp file must sit beside the file instead: it is then named {@code
 * .gitops-tmp-<pid>.<random>} and its path is recorded durably in the temp directory before it is
 * created, so a cleanup removes exactly the files the provider created and nothing else.
 */
final class TempFiles {

  private static final Logger LOG = LoggerFactory.getLogger(TempFiles.class);
  /** Prefix of a temp file that has to sit beside its file (another file system). */
  static final String BESIDE_PREFIX = ".gitops-tmp-";
  private static final String RECORD_SUFFIX = ".ref";
  private static final long PID = ProcessHandle.current().pid();

  private final Path root;
  private final Path dir;
  private final Set<Path> cleaned;
  /** Whether this object made sure the temp directory exists (once per object: a batch shares one). */
  private volatile boolean dirMade;
  /** Whether a rename from the temp directory into a directory stays on one file system, by directory. */
  private final Map<Path, Boolean> sameFileSystem = new ConcurrentHashMap<>();

  /**
   * Temp files for writes under {@code root}, kept in {@code dir} (whose parent exists); {@code
   * cleaned} remembers the temp directories already cleaned of leftovers, once per provider.
   */
  TempFiles(Path root, Path dir, Set<Path> cleaned) {
    this.root = root;
    this.dir = dir;
    this.cleaned = cleaned;
  }

  /** The temp directory. */
  Path directory() {
    return dir;
  }

  /**
   * Writes {@code bytes} to {@code file} atomically and durably with {@code permissions} (null:
   * the file system has none), through a temp file only this provider can have created.
   */
  void write(Path file, byte[] bytes, Set<PosixFilePermission> permissions) throws IOException {
    write(file, bytes, permissions, DurableFiles::forceDirectory);
  }

  /** {@link #write(Path, byte[], Set)}, with the file's directory forced through {@code directorySync}. */
  void write(Path file, byte[] bytes, Set<PosixFilePermission> permissions, DurableFiles.DirectorySync directorySync)
      throws IOException {
    if (!dirMade) {
      DurableFiles.createPrivateDirectory(dir);
      dirMade = true;
    }
    cleanOnce();
    Set<PosixFilePermission> perms = permissions != null ? permissions : DurableFiles.OWNER_FILE;
    String name = PID + "." + DurableFiles.randomName();
    Path parent = file.getParent();
    Boolean same = sameFileSystem.get(parent);
    if (same == null) {
      same = sameFileSystem(dir, parent);
      sameFileSystem.put(parent, same);
    }
    if (same) {
      DurableFiles.write(file, bytes, dir.resolve(name), perms, () -> { }, directorySync);
      return;
    }
    Path beside = parent.resolve(BESIDE_PREFIX + name);
    Path record = dir.resolve(name + RECORD_SUFFIX);
    DurableFiles.write(record, root.relativize(beside).toString().getBytes(StandardCharsets.UTF_8));
    try {
      DurableFiles.write(file, bytes, beside, perms, () -> { }, directorySync);
    } finally {
      DurableFiles.delete(record);
    }
  }

  /**
   * {@link #removeLeftovers}, the first time this provider touches this temp directory. Callers
   * from a parallel batch that come while the cleaning runs wait for it to end: a delete must not
   * try to remove a directory a killed write's temp file still holds.
   */
  void cleanOnce() {
    if (cleaned.contains(dir)) {
      return;
    }
    synchronized (cleaned) {
      if (!cleaned.contains(dir)) {
        removeLeftovers();
        cleaned.add(dir);
      }
    }
  }

  /**
   * Removes what killed processes left in the temp directory: their temp files, and the files
   * beside a target file their records name. Entries of live processes (this one, or another
   * owner writing into the same target right now) are left alone.
   */
  void removeLeftovers() {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        String name = p.getFileName().toString();
        long pid = pidOf(name);
        if (pid < 0 || pid == PID || ProcessHandle.of(pid).isPresent()) {
          continue;
        }
        if (name.endsWith(RECORD_SUFFIX) && !name.startsWith(DurableFiles.TEMP_PREFIX)) {
          removeRecorded(p, pid);
        }
        Files.deleteIfExists(p);
        LOG.info("removed {}, left by an interrupted write of process {}", p, pid);
      }
    } catch (IOException e) {
      // Leftovers only cost space; the write that asked for the cleanup goes on.
      LOG.warn("cannot clean the temp directory {}: {}", dir, e.toString());
    }
  }

  private void removeRecorded(Path record, long pid) throws IOException {
    String rel;
    try {
      rel = Files.readString(record, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return;
    }
    Path beside = root.resolve(rel).normalize();
    // Only a name this class gives, of that process, inside the target, and a regular file.
    if (beside.startsWith(root) && beside.getFileName() != null
        && beside.getFileName().toString().startsWith(BESIDE_PREFIX + pid + ".")
        && Files.isRegularFile(beside, LinkOption.NOFOLLOW_LINKS)) {
      Files.deleteIfExists(beside);
      LOG.info("removed {}, left by an interrupted write of process {}", beside, pid);
    }
  }

  /** The pid a temp directory entry was made by, or -1 for a name this class does not give. */
  static long pidOf(String name) {
    String n = name.startsWith(DurableFiles.TEMP_PREFIX) ? name.substring(DurableFiles.TEMP_PREFIX.length()) : name;
    int dot = n.indexOf('.');
    if (dot <= 0) {
      return -1;
    }
    try {
      return Long.parseLong(n.substring(0, dot));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** Whether a rename from {@code a} to {@code b} stays on one file system (same device). */
  private static boolean sameFileSystem(Path a, Path b) throws IOException {
    Object ka = Files.readAttributes(a, BasicFileAttributes.class).fileKey();
    Object kb = Files.readAttributes(b, BasicFileAttributes.class).fileKey();
    if (ka == null || kb == null) {
      return true;  // no device ids here: try the rename, which fails cleanly across devices
    }
    return device(ka).equals(device(kb));
  }

  /** The device part of a Unix file key, printed {@code (dev=803,ino=1234)}. */
  private static String device(Object fileKey) {
    String s = fileKey.toString();
    int comma = s.indexOf(',');
    return comma < 0 ? s : s.substring(0, comma);
  }
}
