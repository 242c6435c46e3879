package dev.gitops.core.store;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.StoreCorruptException;
import dev.gitops.api.StoreException;
import dev.gitops.api.StoreLockedException;
import dev.gitops.api.StoreOwnerException;
import dev.gitops.api.internal.SortedArrayMap;
import dev.gitops.api.spi.HistoryEntry;
import dev.gitops.api.spi.StateStore;
import dev.gitops.api.spi.StoreLock;
import dev.gitops.api.spi.StoredResource;
import dev.gitops.api.spi.StoredState;
import dev.gitops.core.internal.Durations;
import dev.gitops.core.internal.fs.DurableFiles;
import dev.gitops.core.internal.fs.KeyFileNames;
import dev.gitops.core.internal.fs.LockFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A crash-safe {@link StateStore} in a directory: a checksummed snapshot of every entry plus a
 * journal of the writes since (group commit).
 *
 * <p>Writes: every entry write ({@link #writePending}, {@link #commit}, {@link #clearPending},
 * {@link #forget}, and {@link #writeBatch} for many at once) is one checksummed, length-prefixed
 * record appended to the file {@code journal} and forced once. The journal stays between syncs;
 * a load reads the snapshot and replays the journal over it. When the journal has outgrown its
 * bound ({@link Options#compactionBytes()}, and more bytes than the snapshot) the lock's release
 * folds it into a new {@code snapshot} (temp file, fsync, rename, directory fsync) and removes it;
 * a sync that changed nothing writes nothing, and a small sync only appends. A torn last record
 * from a crash mid-append is cut off at the next lock; a record that fails its checks anywhere but
 * at the very end, or a snapshot that fails any check, is corruption naming the file and the byte
 * offset.
 *
 * <p>Layout (format 2): {@code format} (the layout version), {@code meta.json} (serial, revisions
 * and the serial of the snapshot it expects), {@code snapshot}, {@code journal}, {@code history/}
 * (one file per sync, rotated to the history limit), {@code secret.key} (32 random bytes for
 * keyed hashes), {@code owner} (the {@linkplain #owner() owner} whose sync first wrote the store,
 * {@code {"owner": "<id>"}}; a file of its own, written once, so that a build that does not know it
 * keeps it and no format change was needed) and {@code lock}. A store of format 1 (per-key files {@code inventory/<key>.json}
 * and {@code pending/<key>.json}, written by older builds) is read as it is and migrated to format
 * 2 at the first writable lock. Files and directories are created readable by the owner only.
 *
 * <p>The lock is an OS file lock on {@code lock} (freed by the OS when the process dies), plus an
 * in-process lock so that two threads or two store objects of one JVM exclude each other too.
 * Every mutating method requires this store object to hold the lock (any thread may call it
 * while it is held, so an executor's workers can record outcomes) and increases the serial.
 *
 * <p>Once {@link #load} or any read meets a file it cannot read, it throws {@link
 * StoreCorruptException} naming the file, and this object refuses every write until the store
 * is repaired and reopened. {@code meta.json} accounts for the rest of the store: once it exists,
 * {@code format} and {@code history/} must exist, and the snapshot it names; anything missing is
 * corruption, named, never an empty inventory.
 *
 * <p>A store {@linkplain #openReadOnly opened read-only} (for plan, diff, status, history)
 * creates nothing: no directory, lock file or secret key; its lock is shared with other readers
 * and taken only where a lock file exists, and every write is refused.
 *
 * <pre>{@code
 * try (FileStateStore store = FileStateStore.open(Path.of(".gitops/state"));
 *      StoreLock lock = store.lock(Duration.ofSeconds(30))) {
 *   StoredState state = store.load();
 *   store.writePending(resource);
 *   // ... apply ...
 *   store.commit(resource, "main@sha1:...");
 * }
 * }</pre>
 */
public final class FileStateStore implements BatchedStateStore {

  /** The newest layout version this build reads and the one it writes. */
  public static final int FORMAT = 2;

  private static final Logger LOG = LoggerFactory.getLogger(FileStateStore.class);
  private static final int SECRET_BYTES = 32;
  private static final String SECRET_FILE = "secret.key";
  private static final String HISTORY_PREFIX = "h-";

  /** One permit per store directory (by real path) for the whole JVM: OS locks are per process. */
  private static final ConcurrentHashMap<Path, Semaphore> JVM_LOCKS = new ConcurrentHashMap<>();

  /**
   * A test and fault-injection hook told about every durable write of the store: before the
   * atomic rename (or the delete) of a store file and right after it. A hook that kills the
   * process at its n-th call reproduces a crash at an exact point of the store's write protocol.
   * Not meant for production use; the default does nothing.
   */
  @FunctionalInterface
  public interface WriteListener {
    /** Does nothing. */
    WriteListener NONE = (file, after) -> { };

    /**
     * Called with the store file about to be replaced or deleted ({@code after} false) and once
     * the rename or delete is done ({@code after} true).
     */
    void onWrite(Path file, boolean after);

    /**
     * Called at each {@link JournalPoint} of the journal's and the snapshot's protocol with the
     * file the point concerns (the journal, the snapshot, {@code format}, or the store directory
     * for {@link JournalPoint#MIGRATED}). The default reports it as a write of that file (before
     * or after, as the point says), so a listener that counts writes counts these points too.
     */
    default void onJournal(JournalPoint point, Path file) {
      onWrite(file, point.after());
    }
  }

  /**
   * The named points of the store's write protocol, in the order one batch, one compaction and
   * one migration pass them: where a crash test kills the process to prove each leaves a store
   * that loads with nothing acknowledged lost.
   */
  public enum JournalPoint {
    /** A batch's record is about to be appended. */
    APPEND_STARTED(false),
    /** Half of the record's bytes are written: a crash here leaves a torn tail. */
    APPEND_HALF_WRITTEN(false),
    /** The whole record is written but not yet forced to disk. */
    APPENDED(false),
    /** The record is forced to disk: the batch is durable and the call is about to return. */
    SYNCED(true),
    /** A torn tail left by a crash was cut off (at the first lock after it). */
    TAIL_TRUNCATED(true),
    /** Compaction begins: a new snapshot is about to be written. */
    COMPACTION_STARTED(false),
    /** The new snapshot is written to its temp file and forced, not yet renamed. */
    SNAPSHOT_WRITTEN(false),
    /** The new snapshot is renamed into place and the directory forced; the journal is still there. */
    SNAPSHOT_RENAMED(true),
    /** The journal file is deleted and the deletion forced: compaction is done (meta.json follows). */
    JOURNAL_REMOVED(true),
    /** A store of format 1 (per-key files) was read whole and is about to be migrated. */
    MIGRATION_STARTED(false),
    /** The {@code format} file says 2: the snapshot is the truth; journal and per-key files still there. */
    FORMAT_SWITCHED(true),
    /** The per-key files and directories of format 1 are removed: migration is done. */
    MIGRATED(true);

    private final boolean after;

    JournalPoint(boolean after) {
      this.after = after;
    }

    /** Whether the point follows a completed write (as {@link WriteListener#onWrite}'s {@code after}). */
    public boolean after() {
      return after;
    }
  }

  /**
   * Settings of a file store.
   *
   * @param historyLimit how many history entries to keep (older ones are deleted), at least 1
   * @param lockPollInterval how often {@link #lock} retries an OS lock held by another process
   * @param writeListener the test and fault-injection hook told about every durable write
   *     ({@link WriteListener#NONE} by default)
   * @param journal whether {@link #writeBatch batches} go to the journal in one append (the
   *     default); false appends every op of a batch on its own with its own fsync (no group
   *     commit; kept for comparison in the benchmarks)
   * @param compactionBytes the journal's bound: at the lock's release a journal of at least this
   *     many bytes, and more than the snapshot, is folded into a new snapshot (8 MiB by default);
   *     0 folds it at every release that finds one
   */
  public record Options(int historyLimit, Duration lockPollInterval, WriteListener writeListener, boolean journal,
      long compactionBytes) {
    /** The default bound of the journal. */
    public static final long DEFAULT_COMPACTION_BYTES = 8L << 20;

    /** Validates. */
    public Options {
      if (historyLimit < 1) {
        throw new IllegalArgumentException("history limit must be at least 1, got " + historyLimit);
      }
      Objects.requireNonNull(lockPollInterval, "lockPollInterval");
      if (lockPollInterval.isNegative() || lockPollInterval.isZero()) {
        throw new IllegalArgumentException("lock poll interval must be positive, got " + lockPollInterval);
      }
      Objects.requireNonNull(writeListener, "writeListener");
      if (compactionBytes < 0) {
        throw new IllegalArgumentException("compaction bytes must not be negative, got " + compactionBytes);
      }
    }

    /** Options with the journal on and its default bound. */
    public Options(int historyLimit, Duration lockPollInterval, WriteListener writeListener) {
      this(historyLimit, lockPollInterval, writeListener, true, DEFAULT_COMPACTION_BYTES);
    }

    /** Options without a write listener. */
    public Options(int historyLimit, Duration lockPollInterval) {
      this(historyLimit, lockPollInterval, WriteListener.NONE);
    }

    /** 100 history entries, polling a held lock every 50 ms. */
    public static Options defaults() {
      return new Options(100, Duration.ofMillis(50));
    }

    /** These options with another history limit. */
    public Options withHistoryLimit(int limit) {
      return new Options(limit, lockPollInterval, writeListener, journal, compactionBytes);
    }

    /** These options with another lock poll interval. */
    public Options withLockPollInterval(Duration interval) {
      return new Options(historyLimit, interval, writeListener, journal, compactionBytes);
    }

    /** These options with a write listener (a test and fault-injection hook). */
    public Options withWriteListener(WriteListener listener) {
      return new Options(historyLimit, lockPollInterval, listener, journal, compactionBytes);
    }

    /** These options with group commit on or off (off: every op of a batch is its own append and fsync). */
    public Options withJournal(boolean on) {
      return new Options(historyLimit, lockPollInterval, writeListener, on, compactionBytes);
    }

    /** These options with another bound of the journal (0: compact at every release that finds a journal). */
    public Options withCompactionBytes(long bytes) {
      return new Options(historyLimit, lockPollInterval, writeListener, journal, bytes);
    }
  }

  private final Path dir;
  private final Path inventoryDir;
  private final Path pendingDir;
  private final Path historyDir;
  private final Path journalFile;
  private final Path snapshotFile;
  private final Options options;
  private final boolean readOnly;
  private final SecureRandom random = new SecureRandom();
  /** The text of resources journaled under the current lock, reused by their commit and the snapshot. */
  private final EncodedResources encoded = new EncodedResources();

  /** Guards the fields below and serializes writes of this object. */
  private final Object monitor = new Object();
  private Held held;
  private StoreException refusal;
  private boolean closed;
  private boolean layoutReady;
  private long serial;
  /**
   * What the last full read (and this object's writes since) found: a resync under a new lock
   * reads nothing more when the serial found at the lock (the highest of meta.json's, the
   * snapshot's and the journal's) still equals the cache's; any other writer raises it.
   */
  private Cached cache;
  private String attempted = "";
  private String applied = "";
  private byte[] secret;
  /** Whether the last load found a record holding sensitive values (hashed under the secret key). */
  private boolean loadedSensitive;
  /** The layout version found at the lock (0 for a store not written yet). */
  private int storeFormat;
  /** The snapshot's serial meta.json names (0: none yet). */
  private long metaSnapshotSerial;
  /** The serial the snapshot on disk includes (0: none) and its size, while this object holds the lock. */
  private long snapshotSerial;
  private long snapshotBytes;
  /** Where the journal's whole records end (the next append's offset). */
  private long journalEnd;
  /**
   * The serial of the last entry write known durable in the journal or the snapshot: meta.json
   * records it, so a journal truncated or removed behind the store's back is found at the next
   * load instead of read as an inventory that forgot what gitops owns.
   */
  private long entriesSerial;

  private FileStateStore(Path dir, Options options, boolean readOnly) {
    if (Objects.requireNonNull(dir, "dir").toString().isEmpty()) {
      // Path.of("") is the working directory: a store's files would land among whatever is there
      throw new IllegalArgumentException("the store directory is an empty path; give the directory to keep the"
          + " store in, Path.of(\".gitops\") for example");
    }
    this.dir = dir.toAbsolutePath().normalize();
    this.inventoryDir = this.dir.resolve("inventory");
    this.pendingDir = this.dir.resolve("pending");
    this.historyDir = this.dir.resolve("history");
    this.journalFile = this.dir.resolve(StoreJournal.FILE);
    this.snapshotFile = this.dir.resolve(StoreSnapshot.FILE);
    this.options = Objects.requireNonNull(options, "options");
    this.readOnly = readOnly;
  }

  /**
   * Loads and initializes what reading any store needs (its JSON codec, about 300 classes) on the
   * calling thread, and returns; it reads no store. For a short-lived process about to open a
   * store: called on a thread of its own at start, this work runs beside the process's other
   * start-up work instead of in front of its first read. Without it, the first read does it.
   *
   * <pre>{@code
   * new Thread(FileStateStore::warmUp, "store-warm-up").start();
   * // ... parse the command line, open the source ...
   * try (FileStateStore store = FileStateStore.open(Path.of(".gitops"))) {
   *   store.history();
   * }
   * }</pre>
   */
  public static void warmUp() {
    StoreCodec.warmUp();
  }

  /**
   * Opens the store in {@code dir} with default options. Nothing is read or created yet: the
   * directory is created by the first {@link #lock}, and a store never written loads as
   * {@linkplain StoredState#fresh() fresh}.
   */
  public static FileStateStore open(Path dir) {
    return open(dir, Options.defaults());
  }

  /** Opens the store in {@code dir} with {@code options}. */
  public static FileStateStore open(Path dir, Options options) {
    return new FileStateStore(dir, options, false);
  }

  /**
   * Opens the store in {@code dir} for reading only: nothing is ever created (a missing store
   * loads as {@linkplain StoredState#fresh() fresh}, a missing secret key is replaced by one that
   * lives as long as this object), the lock is shared with other readers, and writes throw.
   *
   * <pre>{@code
   * try (FileStateStore store = FileStateStore.openReadOnly(Path.of(".gitops"))) {
   *   store.history();
   * }
   * }</pre>
   */
  public static FileStateStore openReadOnly(Path dir) {
    return openReadOnly(dir, Options.defaults());
  }

  /** {@link #openReadOnly(Path)} with {@code options}. */
  public static FileStateStore openReadOnly(Path dir, Options options) {
    return new FileStateStore(dir, options, true);
  }

  /** Whether this store object was opened read-only. */
  public boolean isReadOnly() {
    return readOnly;
  }

  /**
   * Whether no sync ever wrote this store (it is missing, or holds at most a secret key): what
   * {@link #load()} would report as {@linkplain StoredState#fresh() fresh}, found without reading
   * the store. A tool tells its user so, since a mistyped store directory looks the same.
   */
  public boolean isFresh() {
    synchronized (monitor) {
      requireOpen();
      return !Files.exists(dir.resolve("meta.json"));
    }
  }

  /** The store's directory. */
  public Path directory() {
    return dir;
  }

  /** The options this store was opened with. */
  public Options options() {
    return options;
  }

  // ------------------------------------------------------------------------------------ writable

  /**
   * Checks that this store can be written the way a sync writes it, before anything is changed on
   * the strength of it (the engine calls it before every sync, apply, destroy and forget that
   * writes; see {@link StateStore#checkWritable}). A missing store directory is created
   * owner-only, as {@link #lock} creates it; then a probe file is created and deleted in
   * the store directory and in its {@code history/} directory (where they exist), the files
   * written in place (the journal, the lock file) are opened for writing, and the files replaced
   * by a rename ({@code meta.json}, the snapshot, ...) are checked not to be immutable. It writes
   * nothing that stays and needs no lock. A store this object found damaged (or written by a newer
   * version) is refused as its writes are.
   *
   * <pre>{@code
   * try (FileStateStore files = FileStateStore.open(dir)) {
   *   files.checkWritable();   // StoreException: "store ... cannot be written: .../journal: permission denied"
   * }
   * }</pre>
   *
   * @throws StoreException naming the path and why it cannot be written (permission denied, a
   *     read-only file system, an immutable file, a file where a directory must be), or that this
   *     object was opened read-only ({@link #openReadOnly}); a {@link StoreCorruptException} when a
   *     load found the store damaged
   * @throws IllegalStateException when this store is closed
   */
  @Override
  public void checkWritable() {
    synchronized (monitor) {
      requireOpen();
      if (readOnly) {
        throw new StoreException("store " + dir + " was opened read-only (FileStateStore.openReadOnly), so nothing"
            + " can be recorded through it; open it with FileStateStore.open to write it, or plan without applying");
      }
      refuseIfRefused("be written");
    }
    Path at = dir;
    try {
      DurableFiles.createPrivateDirectory(dir);
      probe(dir);
      at = historyDir;
      if (Files.exists(historyDir, LinkOption.NOFOLLOW_LINKS)) {
        if (!Files.isDirectory(historyDir)) {
          throw new StoreException("store " + dir + " cannot be written: " + historyDir
              + " is not a directory (the store keeps its history there)");
        }
        probe(historyDir);
      }
      for (Path f : List.of(journalFile, dir.resolve("lock"))) {
        at = f;
        if (Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
          // appended to (the journal) or written (the lock's holder) in place
          FileChannel.open(f, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS).close();
        }
      }
      for (Path f : List.of(dir.resolve("meta.json"), snapshotFile, dir.resolve("format"),
          dir.resolve("nochange.json"), dir.resolve("nochange-digests"))) {
        at = f;
        if (Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
          try {
            FileChannel.open(f, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS).close();
          } catch (AccessDeniedException e) {
            // its mode refuses writes (EACCES), which a rename over it in a writable directory does not need
            LOG.debug("store {}: {} is not writable in place; it is replaced by a rename", dir, f);
          }
        }
      }
    } catch (IOException e) {
      throw new StoreException("store " + dir + " cannot be written: " + at + ": " + whyNotWritable(e), e);
    }
  }

  /**
   * Creates and deletes a probe file in {@code d}, as the store's writes create files there. A
   * refused write (permission, a read-only file system, an immutable directory) fails at the
   * create; nothing is written or forced (an fsync would cost every sync, a no-change one
   * included), and no channel is used, so a thread's interrupt is left for the sync to see as a
   * cancellation.
   */
  private static void probe(Path d) throws IOException {
    Path probe = Files.createFile(DurableFiles.tempBeside(d.resolve("probe")));
    DurableFiles.deleteQuietly(probe);
  }

  /** Why a write was refused, in words: NIO names only the path for a permission denied. */
  private static String whyNotWritable(IOException e) {
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof FileAlreadyExistsException || e instanceof NotDirectoryException) {
      return "not a directory (a file or a link is in the way)";
    }
    if (e instanceof FileSystemException f && f.getReason() != null) {
      String reason = f.getReason();
      // EPERM on a file or directory root may write: the immutable or append-only attribute (chattr)
      return reason.equals("Operation not permitted") ? reason + " (an immutable or append-only file or directory?)"
          : reason;
    }
    return e.toString();
  }

  // ------------------------------------------------------------------------------------ lock

  @Override
  public StoreLock lock(Duration timeout) {
    StateStore.requireNotNegative(timeout);
    synchronized (monitor) {
      requireOpen();
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    Path real;
    try {
      if (readOnly) {
        real = Files.isDirectory(dir) ? dir.toRealPath() : dir;
      } else {
        DurableFiles.createPrivateDirectory(dir);
        real = dir.toRealPath();
        warnIfShared(real);
      }
    } catch (IOException e) {
      throw new StoreException("cannot create store directory " + dir + ": " + e, e);
    }
    Path lockFile = real.resolve("lock");
    Semaphore permit = JVM_LOCKS.computeIfAbsent(real, k -> new Semaphore(1));
    try {
      if (!permit.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        throw new StoreLockedException("store " + dir + " is locked by another thread or store object of this"
            + " process (pid " + ProcessHandle.current().pid() + "), lock file " + lockFile + "; waited "
            + Durations.human(timeout));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted while waiting for the lock of store " + dir, e);
    }
    LockFile osLock = null;
    try {
      if (!readOnly) {
        osLock = openLockFile(lockFile);
        pollOsLock(osLock, deadline, timeout);
        writeHolder(osLock);
      } else if (Files.exists(lockFile)) {
        // A reader waits for a writer (and lets other readers in) but creates nothing.
        osLock = openLockFile(lockFile, LockFile.Option.SHARED);
        pollOsLock(osLock, deadline, timeout);
      }
      Held h = new Held(permit, osLock);
      synchronized (monitor) {
        held = h;
        refreshMeta();
        if (!readOnly) {
          recover();
        }
      }
      LOG.debug("locked store {}", dir);
      return h;
    } catch (RuntimeException | Error e) {
      closeQuietly(osLock);
      permit.release();
      throw e;
    }
  }

  /** An existing directory is not chmod-ed behind the user's back, but a readable one is worth a warning. */
  private static void warnIfShared(Path real) throws IOException {
    if (DurableFiles.posix(real)) {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(real);
      String mode = PosixFilePermissions.toString(perms);
      perms.removeAll(DurableFiles.OWNER_DIR);
      if (perms.isEmpty()) {
        WARNED_SHARED.remove(real);
      } else if (!mode.equals(WARNED_SHARED.put(real, mode))) {
        // once per directory and mode, not at every lock: a ReconcileLoop locks the store at each sync
        LOG.warn("store directory {} is accessible to other users ({}); it holds hashes of secret values,"
            + " restrict it with chmod 700", real, mode);
      }
    }
  }

  /** The store directories warned about as shared in this JVM, with the mode they were warned about at. */
  private static final Map<Path, String> WARNED_SHARED = new ConcurrentHashMap<>();

  /** Opens the lock file, owner-only when it is created ({@link LockFile.Option#SHARED}: to read, for a reader). */
  private static LockFile openLockFile(Path lockFile, LockFile.Option... options) {
    try {
      return options.length == 0 ? LockFile.open(lockFile, LockFile.Option.PRIVATE) : LockFile.open(lockFile, options);
    } catch (IOException e) {
      throw new StoreException("cannot open lock file " + lockFile + ": " + e, e);
    }
  }

  private void pollOsLock(LockFile lock, long deadline, Duration timeout) {
    boolean held;
    try {
      // a holder of this JVM through another path to the same directory (a bind mount, say) is
      // treated like a holder elsewhere: polled until the deadline
      held = lock.poll(deadline, options.lockPollInterval(), () -> false, () -> { });
    } catch (IOException e) {
      throw new StoreException("cannot lock " + lock.file() + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted while waiting for the lock of store " + dir, e);
    }
    if (!held) {
      throw new StoreLockedException("store " + dir + " is locked by " + holder(lock)
          + ", lock file " + lock.file() + "; waited " + Durations.human(timeout));
    }
  }

  /** The holder's pid, read through the lock file already open (see {@link LockFile#holder}). */
  private static String holder(LockFile lock) {
    try {
      String text = lock.holder(64).trim();
      if (text.matches("pid \\d{1,18}")) {
        long pid = Long.parseLong(text.substring(4));
        if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          return "process " + pid;
        }
        // a writer killed with kill -9 leaves its pid; the lock went with it, and a reader, which
        // writes none, holds it now (or one on another host, where this pid means nothing)
        return "another process (the lock file names pid " + pid + ", which is not running on this host: it held the"
            + " lock last, and the process that holds it now wrote no pid, as a reader such as plan, diff, status or"
            + " history writes none)";
      }
    } catch (IOException e) {
      // only the message loses the pid; Windows locks the bytes against reading, for one
      LOG.debug("cannot read lock holder: {}", e.toString());
    }
    return "another process (pid unknown: a reader, such as a read-only store, writes none)";
  }

  private static void writeHolder(LockFile lock) {
    try {
      // not forced: the pid only improves messages, and a lock does not outlive its process
      lock.writeHolder("pid " + ProcessHandle.current().pid() + "\n", false);
    } catch (IOException e) {
      // the pid only improves other processes' error messages; the lock itself is held
      LOG.warn("cannot write the holder pid into {}: {}", lock.file(), e.toString());
    }
  }

  private static void closeQuietly(LockFile lock) {
    if (lock == null) {
      return;
    }
    try {
      lock.close();
    } catch (IOException e) {
      // closing releases the lock anyway; nothing else to do on a failed close
      LOG.debug("cannot close lock file {}: {}", lock.file(), e.toString());
    }
  }

  /**
   * The held lock: releases the OS lock (if any: a read-only store without a lock file has none),
   * then the in-process permit.
   */
  private final class Held extends HeldLock {
    private final LockFile osLock;

    Held(Semaphore permit, LockFile osLock) {
      super(monitor, permit);
      this.osLock = osLock;
    }

    @Override
    void release() {
      if (held == this) {
        compactAtRelease();
        encoded.clear();
        held = null;
      }
      if (osLock != null) {
        if (!readOnly) {
          try {
            // the pid left in the file would be named as the holder of a lock a reader (which writes none) takes next
            osLock.clearHolder();
          } catch (IOException | IllegalStateException e) {
            LOG.debug("cannot clear the holder pid of {}: {}", osLock.file(), e.toString());
          }
        }
        try {
          osLock.close();
        } catch (IOException e) {
          // the close releases it even so
          LOG.debug("cannot release lock of {}: {}", dir, e.toString());
        }
      }
      LOG.debug("unlocked store {}", dir);
    }

    @Override
    public String toString() {
      return "lock of " + dir + (released() ? " (released)" : "");
    }
  }

  // ------------------------------------------------------------------------------------ load

  @Override
  public StoredState load() {
    synchronized (monitor) {
      requireOpen();
      if (!Files.exists(dir)) {
        return StoredState.empty();
      }
      if (!Files.isDirectory(dir)) {
        throw new StoreException("store path " + dir + " is not a directory");
      }
      if (held != null && !readOnly && cache != null && refusal == null && cache.serial == serial) {
        cache.freeze();
        return new StoredState(serial, cache.frozenInventory, cache.frozenPending, attempted, applied,
            cache.fresh && !Files.exists(dir.resolve("meta.json")));
      }
      cache = null;
      try {
        return readAll();
      } catch (StoreException e) {
        refusal = e;
        throw e;
      }
    }
  }

  private StoredState readAll() {
    Path metaFile = dir.resolve("meta.json");
    boolean fresh = !Files.exists(metaFile);
    int version = checkFormat(!fresh);
    boolean perKey = !fresh && version == 1;
    long metaSerial = 0;
    long metaSnapshot = 0;
    long metaEntries = 0;
    String att = "";
    String app = "";
    StoreCodec.Accounting accounting = null;
    if (!fresh) {
      JsonNode meta = readJson(metaFile);
      try {
        metaSerial = StoreCodec.longValue(meta, "serial");
        att = StoreCodec.text(meta, "lastAttemptedRevision");
        app = StoreCodec.text(meta, "lastAppliedRevision");
        accounting = perKey ? StoreCodec.accounting(meta) : null;
        metaSnapshot = perKey ? 0 : StoreCodec.snapshotSerial(meta);
        metaEntries = perKey ? 0 : StoreCodec.entriesSerial(meta);
      } catch (StoreCodec.BadContentException e) {
        throw corrupt(metaFile, e.getMessage(), e);
      }
      requireLayout(metaSerial, perKey);
    }
    boolean locked = held != null;
    boolean clean = locked && !readOnly;
    if (clean) {
      cleanRootTempFiles();
    }
    TreeMap<ResourceKey, StoredResource> inventory = new TreeMap<>();
    TreeMap<ResourceKey, Resource> pending = new TreeMap<>();
    long maxSerial = metaSerial;
    long snapSerial = 0;
    long snapBytes = 0;
    List<Path> inventoryFiles = List.of();
    List<Path> pendingFiles = List.of();
    if (perKey) {
      inventoryFiles = keyFiles(inventoryDir, clean, true);
      pendingFiles = keyFiles(pendingDir, clean, true);
      maxSerial = Math.max(maxSerial, readPerKey(inventoryFiles, pendingFiles, inventory, pending));
    } else if (Files.exists(snapshotFile)) {
      byte[] bytes = readBytes(snapshotFile);
      StoreSnapshot.Content c;
      try {
        c = StoreSnapshot.decode(bytes, snapshotFile);
      } catch (StoreSnapshot.DamageException e) {
        throw corrupt(snapshotFile, e.getMessage(), e);
      }
      if (c.serial() < metaSnapshot) {
        throw corrupt(snapshotFile, "includes serial " + c.serial() + ", older than the snapshot of serial "
            + metaSnapshot + " meta.json names", null);
      }
      inventory = c.inventory();
      pending = c.pending();
      snapSerial = c.serial();
      snapBytes = bytes.length;
      maxSerial = Math.max(maxSerial, snapSerial);
    } else if (metaSnapshot > 0) {
      throw corrupt(snapshotFile, "is missing while meta.json (serial " + metaSerial + ") names the snapshot of serial "
          + metaSnapshot, null);
    }
    scanEnd = 0;
    JournalDelta journal = Files.exists(journalFile) ? readJournal(false, snapSerial) : new JournalDelta();
    if (metaEntries > Math.max(snapSerial, journal.serial())) {
      throw journalLost(journal.serial(), metaEntries, snapSerial);
    }
    if (accounting != null) {
      // after reading every entry, so that a bad file is named before the count it throws off
      checkAccounting(accounting, inventoryFiles, pendingFiles, metaSerial, journal);
    }
    if (fresh && !(inventory.isEmpty() && pending.isEmpty() && journal.isEmpty() && !Files.exists(snapshotFile))) {
      throw corrupt(metaFile, "missing while the store holds " + inventory.size() + " inventory and "
          + pending.size() + " pending entries" + (journal.isEmpty() ? "" : " and a journal"), null);
    }
    journal.applyTo(inventory, pending);
    maxSerial = Math.max(maxSerial, journal.serial());
    readHistory(clean);
    Path secretFile = dir.resolve(SECRET_FILE);
    if (Files.exists(secretFile)) {
      readSecret(secretFile);
    }
    if (maxSerial > metaSerial && perKey) {
      LOG.warn("store {}: an inventory entry has serial {} above meta.json's {}; continuing from the higher",
          dir, maxSerial, metaSerial);
    }
    if (locked) {
      serial = maxSerial;
      attempted = att;
      applied = app;
      storeFormat = fresh ? 0 : version;
      if (!readOnly) {
        journalEnd = scanEnd;
        entriesSerial = Math.max(metaEntries, Math.max(snapSerial, journal.serial()));
        snapshotSerial = snapSerial;
        snapshotBytes = snapBytes;
      }
      cache = new Cached(new TreeMap<>(inventory), new TreeMap<>(pending), maxSerial);
      cache.fresh = fresh;
    }
    loadedSensitive = anySensitive(inventory, pending);
    return new StoredState(maxSerial, inventory, pending, att, app, fresh);
  }

  /**
   * A journal that ends below the entry writes meta.json records: every entry write is forced before
   * a meta.json that counts it is written, so what is gone was removed or cut behind the store's back.
   */
  private StoreCorruptException journalLost(long journalSerial, long metaEntries, long snapSerial) {
    return corrupt(journalFile, (Files.exists(journalFile) ? "ends at serial " + journalSerial : "is missing")
        + ", but meta.json records entry writes up to serial " + metaEntries + " (the snapshot holds up to "
        + snapSerial + "): the journal was truncated or removed, and what it recorded (what gitops owns) is lost",
        null);
  }

  /** Reads the per-key files of a store of format 1 into the maps; returns the highest serial an entry has. */
  private long readPerKey(List<Path> inventoryFiles, List<Path> pendingFiles,
      TreeMap<ResourceKey, StoredResource> inventory, TreeMap<ResourceKey, Resource> pending) {
    long maxSerial = 0;
    for (Path f : inventoryFiles) {
      StoredResource s;
      try {
        s = StoreCodec.readInventoryEntry(readJson(f));
      } catch (StoreCodec.BadContentException e) {
        throw corrupt(f, e.getMessage(), e);
      }
      checkName(f, s.resource().key());
      inventory.put(s.resource().key(), s);
      maxSerial = Math.max(maxSerial, s.serial());
    }
    for (Path f : pendingFiles) {
      Resource r;
      try {
        r = StoreCodec.readPendingEntry(readJson(f));
      } catch (StoreCodec.BadContentException e) {
        throw corrupt(f, e.getMessage(), e);
      }
      checkName(f, r.key());
      pending.put(r.key(), r);
    }
    return maxSerial;
  }

  /** Checks the format file; {@code required} when the store has content. Returns the version (0 when absent). */
  private int checkFormat(boolean required) {
    Path f = dir.resolve("format");
    if (!Files.exists(f)) {
      if (required) {
        throw corrupt(f, "missing while meta.json exists", null);
      }
      return 0;
    }
    String text;
    try {
      text = new String(readStoreFile(f), StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      throw corrupt(f, "unreadable: " + e, e);
    }
    int version;
    try {
      version = Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw corrupt(f, "not a format number: '" + abbreviate(text) + "'", e);
    }
    if (version > FORMAT) {
      StoreException e = new StoreException("store " + dir + " was written by a newer version (format " + version
          + ", this build reads up to " + FORMAT + "); upgrade to use it");
      refusal = e;
      throw e;
    }
    if (version < 1) {
      throw corrupt(f, "format " + version + " does not exist", null);
    }
    return version;
  }

  /**
   * Once meta.json exists, the directories it accounts for must too: a missing one is damage
   * (taking it as empty would orphan what it held), never recreated. A store of format 1 keeps
   * its entries in {@code inventory/} and {@code pending/}; one of format 2 in the snapshot.
   */
  private void requireLayout(long metaSerial, boolean perKey) {
    for (Path d : perKey ? List.of(inventoryDir, pendingDir, historyDir) : List.of(historyDir)) {
      if (!Files.isDirectory(d)) {
        throw corrupt(d, (Files.exists(d) ? "is not a directory" : "is missing") + " while meta.json (serial "
            + metaSerial + ") accounts for it", null);
      }
    }
  }

  /**
   * Format 1: the key directories hold exactly what meta.json counts, the entry a write was busy
   * with aside. While a journal exists the per-key files are as it found them, unless meta.json
   * says a compaction is under way: then its counts are those after the compaction, and the files
   * of the keys the journal sets may stand either way, so only the others are counted.
   */
  private void checkAccounting(StoreCodec.Accounting a, List<Path> inventoryFiles, List<Path> pendingFiles,
      long metaSerial, JournalDelta journal) {
    Set<String> invSet = new java.util.HashSet<>();
    Set<String> pendSet = new java.util.HashSet<>();
    long invWant = a.inventory();
    long pendWant = a.pending();
    String besides = a.entry().isEmpty() ? "" : " besides " + a.entry();
    if (a.compacting() && !journal.isEmpty()) {
      for (JournalDelta.Touch t : journal.touched().values()) {
        String name = KeyFileNames.of(t.key);
        if (t.inventorySet) {
          invSet.add(name);
          invWant -= t.inventory != null ? 1 : 0;
        }
        if (t.pendingSet) {
          pendSet.add(name);
          pendWant -= t.pending != null ? 1 : 0;
        }
      }
      besides = " besides the " + journal.touched().size() + " keys of the journal being compacted";
    } else if (!a.entry().isEmpty()) {
      invSet.add(a.entry());
      pendSet.add(a.entry());
    }
    long inv = inventoryFiles.stream().filter(f -> !invSet.contains(f.getFileName().toString())).count();
    long pend = pendingFiles.stream().filter(f -> !pendSet.contains(f.getFileName().toString())).count();
    if (inv != invWant) {
      throw corrupt(inventoryDir, "holds " + inv + " entries" + besides + ", but meta.json (serial " + metaSerial
          + ") accounts for " + invWant + ": " + (inv < invWant ? (invWant - inv) + " missing"
          : (inv - invWant) + " extra"), null);
    }
    if (pend != pendWant) {
      throw corrupt(pendingDir, "holds " + pend + " entries" + besides + ", but meta.json (serial " + metaSerial
          + ") accounts for " + pendWant + ": " + (pend < pendWant ? (pendWant - pend) + " missing"
          : (pend - pendWant) + " extra"), null);
    }
  }

  /**
   * The bytes of one of the store's own files, a regular file (a link to one is followed, as
   * before): a FIFO, device or directory in its place is refused with the file's name (damage for
   * the store's records, an ignored hint for a hint). Opening a FIFO waits for a writer that may
   * never come, so a sync would hang in its load, which has no timeout.
   */
  private static byte[] readStoreFile(Path f) throws IOException {
    return DurableFiles.readRegular(f, Integer.MAX_VALUE - 8);
  }

  private byte[] readBytes(Path f) {
    try {
      return readStoreFile(f);
    } catch (IOException e) {
      throw corrupt(f, "unreadable: " + e, e);
    }
  }

  private JsonNode readJson(Path f) {
    byte[] bytes = readBytes(f);
    try {
      return StoreCodec.parse(bytes);
    } catch (StoreCodec.BadContentException e) {
      throw corrupt(f, e.getMessage(), e);
    }
  }

  private void checkName(Path f, ResourceKey key) {
    String want = KeyFileNames.of(key);
    if (!f.getFileName().toString().equals(want)) {
      throw corrupt(f, "holds key " + key + ", whose file is " + want, null);
    }
  }

  /**
   * The entry files of a key directory; temp files are skipped (and deleted under the lock). In a
   * {@code strict} directory (inventory, pending) anything else than a key file is damage.
   */
  private List<Path> keyFiles(Path d, boolean clean, boolean strict) {
    if (!Files.isDirectory(d)) {
      return List.of();
    }
    List<Path> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(d)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        String name = p.getFileName().toString();
        if (name.startsWith(DurableFiles.TEMP_PREFIX)) {
          // a write that crashed before its rename: the old file (or none) is the truth
          if (clean) {
            LOG.info("store {}: removing leftover temp file {}", dir, p);
            DurableFiles.deleteQuietly(p);
          }
        } else if (!name.endsWith(KeyFileNames.SUFFIX) || !Files.isRegularFile(p)) {
          if (name.endsWith(KeyFileNames.SUFFIX)) {
            // an entry's name on a directory, special file or broken link: what the entry held is gone
            throw corrupt(p, "is not a regular file (" + (Files.isDirectory(p) ? "a directory"
                : Files.isSymbolicLink(p) ? "a link to " + linkTarget(p) : "a special file") + ")", null);
          }
          if (strict) {
            throw corrupt(p, "is not a key file (extra " + (Files.isDirectory(p) ? "directory" : "file")
                + " in " + d.getFileName() + "/)", null);
          }
          LOG.warn("store {}: ignoring unexpected entry {}", dir, p);
        } else {
          out.add(p);
        }
      }
    } catch (IOException e) {
      throw corrupt(d, "cannot list: " + e, e);
    }
    Collections.sort(out);
    return out;
  }

  private static String linkTarget(Path link) {
    try {
      Path t = Files.readSymbolicLink(link);
      return t + (Files.exists(link) ? "" : ", which does not exist");
    } catch (IOException e) {
      return "an unreadable target";
    }
  }

  /** Deletes temp files of crashed writes of meta.json, format and the snapshot (the caller holds the lock). */
  private void cleanRootTempFiles() {
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        String name = p.getFileName().toString();
        // secret.key is created without the lock, so its temp file may belong to a live writer
        if (name.startsWith(DurableFiles.TEMP_PREFIX) && !name.startsWith(DurableFiles.TEMP_PREFIX + SECRET_FILE)) {
          LOG.info("store {}: removing leftover temp file {}", dir, p);
          DurableFiles.deleteQuietly(p);
        }
      }
    } catch (IOException e) {
      throw corrupt(dir, "cannot list: " + e, e);
    }
  }

  private StoreCorruptException corrupt(Path file, String problem, Throwable cause) {
    StoreCorruptException e = new StoreCorruptException("store " + dir + ": file " + file + " is corrupt: "
        + problem + "; the store refuses writes until it is repaired", cause);
    refusal = e;
    return e;
  }

  private static String abbreviate(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "..." : s;
  }

  /**
   * Rereads meta.json after taking the lock: another process may have written since. The serial
   * is the highest of meta.json's, the snapshot's and the journal's last record's (see {@link
   * #recover}), so that a cache of this object's last load is used only when nobody wrote since.
   */
  private void refreshMeta() {
    Path metaFile = dir.resolve("meta.json");
    serial = 0;
    attempted = "";
    applied = "";
    layoutReady = false;
    storeFormat = 0;
    metaSnapshotSerial = 0;
    journalEnd = 0;
    snapshotSerial = 0;
    snapshotBytes = 0;
    entriesSerial = 0;
    if (!Files.exists(metaFile)) {
      return;
    }
    try {
      storeFormat = checkFormat(true);
      JsonNode meta = readJson(metaFile);
      serial = StoreCodec.longValue(meta, "serial");
      attempted = StoreCodec.text(meta, "lastAttemptedRevision");
      applied = StoreCodec.text(meta, "lastAppliedRevision");
      requireLayout(serial, storeFormat == 1);
      metaSnapshotSerial = storeFormat == 1 ? 0 : StoreCodec.snapshotSerial(meta);
      // kept by a meta.json the lock's recovery writes before any load (else it would record 0)
      entriesSerial = storeFormat == 1 ? 0 : StoreCodec.entriesSerial(meta);
    } catch (StoreCodec.BadContentException e) {
      corrupt(metaFile, e.getMessage(), e);
    } catch (StoreException e) {
      // refusal is set: the lock is still handed out so that load() reports the damage
      LOG.debug("store {}: {}", dir, e.getMessage());
    }
  }

  // ------------------------------------------------------------------------------------ writes

  /** One write step that may fail with I/O. */
  @FunctionalInterface
  private interface Step {
    void run(long newSerial) throws IOException;
  }

  /**
   * Runs a mutation that is not an entry write (revisions, history): checks the lock, writes
   * meta.json with the next serial, then the step.
   */
  private long mutate(String what, Step step) {
    synchronized (monitor) {
      requireWritable(what);
      try {
        ensureLayout();
        long next = serial + 1;
        // meta first: after a crash the serial may have skipped a number, never gone back
        writeMeta(next);
        serial = next;
        step.run(next);
        if (cache != null) {
          cache.serial = next;
        }
        return next;
      } catch (IOException | RuntimeException e) {
        cache = null;
        if (e instanceof RuntimeException re) {
          throw re;
        }
        throw new StoreException("store " + dir + ": cannot " + what + ": " + e, e);
      }
    }
  }

  private void writeMeta(long s) throws IOException {
    write(dir.resolve("meta.json"), StoreCodec.bytes(StoreCodec.meta(s, attempted, applied, snapshotSerial,
        entriesSerial)));
    metaSnapshotSerial = snapshotSerial;
  }

  /** A durable write of a store file, reported to the write listener around its rename. */
  private void write(Path target, byte[] bytes) throws IOException {
    DurableFiles.write(target, bytes, () -> options.writeListener().onWrite(target, false));
    options.writeListener().onWrite(target, true);
  }

  /**
   * An atomic but unforced write of one of the no-change hints (marker, digests, plan id),
   * reported to the write listener around its rename. Forcing them bought nothing: each names the
   * serial it was written at and counts only while the store is still there (every record it
   * vouches for was forced before it), the digests and the plan id carry a checksum, and one that
   * a crash of the machine left old, empty or damaged is ignored (logged), costing the next sync
   * its short cut only. Unforced, a sync that changes a file no longer waits for the disk twice
   * more (the file, then its directory) for each hint it rewrites after its records are durable.
   */
  private void writeHint(Path target, byte[] bytes) throws IOException {
    DurableFiles.replaceUnforced(target, bytes, () -> options.writeListener().onWrite(target, false));
    options.writeListener().onWrite(target, true);
  }

  private void requireWritable(String what) {
    requireOpen();
    if (readOnly) {
      throw new IllegalStateException("store " + dir + " was opened read-only: cannot " + what);
    }
    refuseIfRefused(what);
    if (held == null) {
      throw new IllegalStateException("store " + dir + ": " + what + " needs the store lock; call lock() first");
    }
  }

  /**
   * Refuses {@code what} once a read found this store damaged (or written by a newer version): a
   * write would build on records it cannot read.
   */
  private void refuseIfRefused(String what) {
    if (refusal != null) {
      if (refusal instanceof StoreCorruptException) {
        throw new StoreCorruptException("store " + dir + " refuses to " + what + ": " + refusal.getMessage(), refusal);
      }
      throw new StoreException("store " + dir + " refuses to " + what + ": " + refusal.getMessage(), refusal);
    }
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("store " + dir + " is closed");
    }
  }

  /**
   * A written store must still have its layout (what is missing now was lost, and recreating it
   * empty would hide that); a new one gets {@code format}, {@code history/} and {@code meta.json}.
   */
  private void ensureLayout() throws IOException {
    if (layoutReady) {
      return;
    }
    if (Files.exists(dir.resolve("meta.json"))) {
      if (checkFormat(true) != FORMAT) {
        // a store of format 1 is migrated at the lock; one that was not has refused writes already
        throw new StoreException("store " + dir + " is still of format 1: it was not migrated at the lock");
      }
      requireLayout(serial, false);
    } else {
      Path format = dir.resolve("format");
      if (!Files.exists(format) || checkFormat(true) != FORMAT) {
        write(format, (FORMAT + "\n").getBytes(StandardCharsets.US_ASCII));
      }
      DurableFiles.createPrivateDirectory(historyDir);
      // meta.json last: from now on the store is not fresh, and a missing journal or snapshot is damage
      writeMeta(serial);
      storeFormat = FORMAT;
    }
    layoutReady = true;
  }

  @Override
  public void writePending(Resource desired) {
    Objects.requireNonNull(desired, "desired");
    journal("write pending " + desired.key(), List.of(new StoreBatch.Pending(desired)));
    LOG.debug("store {}: pending {} from {}", dir, desired.key(), desired.origin());
  }

  @Override
  public StoredResource commit(Resource lastApplied, String revision) {
    Objects.requireNonNull(lastApplied, "lastApplied");
    Objects.requireNonNull(revision, "revision");
    StoredResource out = journal("commit " + lastApplied.key(),
        List.of(new StoreBatch.Applied(lastApplied, revision))).get(0);
    LOG.debug("store {}: committed {} at {}", dir, lastApplied.key(), revision);
    return out;
  }

  @Override
  public void clearPending(ResourceKey key) {
    Objects.requireNonNull(key, "key");
    journal("clear pending " + key, List.of(new StoreBatch.ClearPending(key)));
  }

  @Override
  public void forget(ResourceKey key) {
    Objects.requireNonNull(key, "key");
    journal("forget " + key, List.of(new StoreBatch.Forget(key)));
    LOG.debug("store {}: forgot {}", dir, key);
  }

  @Override
  public void recordRevisions(String attemptedRevision, String appliedRevision) {
    Objects.requireNonNull(attemptedRevision, "attempted");
    synchronized (monitor) {
      String prevAttempted = attempted;
      String prevApplied = applied;
      attempted = attemptedRevision;
      if (appliedRevision != null) {
        applied = appliedRevision;
      }
      try {
        // meta.json carries the revisions, so the serial bump writes them
        mutate("record revisions", s -> { });
      } catch (RuntimeException e) {
        attempted = prevAttempted;
        applied = prevApplied;
        throw e;
      }
    }
  }

  @Override
  public void appendHistory(HistoryEntry entry) {
    Objects.requireNonNull(entry, "entry");
    mutate("append history " + entry.id(), s -> {
      write(historyDir.resolve(String.format("%s%020d.json", HISTORY_PREFIX, s)),
          StoreCodec.bytes(StoreCodec.history(entry)));
      List<Path> files = historyFiles(true);
      boolean deleted = false;
      for (int i = options.historyLimit(); i < files.size(); i++) {
        options.writeListener().onWrite(files.get(i), false);
        deleted |= Files.deleteIfExists(files.get(i));
        options.writeListener().onWrite(files.get(i), true);
      }
      if (deleted) {
        DurableFiles.forceDirectory(historyDir);
      }
    });
  }

  // ------------------------------------------------------------------------------------ owner

  /** The file naming the store's owner, {@code {"owner": "<id>"}}: written once, by the first owner's sync. */
  static final String OWNER_FILE = "owner";

  /**
   * {@inheritDoc}
   *
   * <p>Read from the file {@code owner}; a store without one (never written, or written by a build
   * before owners were recorded) has none. A file that cannot be read is corruption naming it.
   */
  @Override
  public Optional<String> owner() {
    synchronized (monitor) {
      requireOpen();
      return readOwner();
    }
  }

  private Optional<String> readOwner() {
    Path f = dir.resolve(OWNER_FILE);
    if (!Files.exists(f)) {
      return Optional.empty();
    }
    try {
      return Optional.of(StoreCodec.owner(readJson(f)));
    } catch (StoreCodec.BadContentException e) {
      throw corrupt(f, e.getMessage(), e);  // and writes are refused, as for every corrupt file
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>Writes the file {@code owner} (temp file, fsync, rename, directory fsync) when there is none.
   */
  @Override
  public void claimOwner(String owner) {
    StoreEntries.requireOwner(owner);
    synchronized (monitor) {
      requireWritable("claim the store for owner '" + owner + "'");
      Optional<String> recorded = readOwner();
      if (recorded.isPresent()) {
        if (!recorded.get().equals(owner)) {
          throw new StoreOwnerException(dir.toString(), recorded.get(), owner);
        }
        return;
      }
      Path f = dir.resolve(OWNER_FILE);
      try {
        write(f, StoreEntries.ownerEntry(owner));
      } catch (IOException e) {
        throw new StoreException("store " + dir + ": cannot record owner '" + owner + "' in " + f + ": " + e, e);
      }
      LOG.info("store {}: recorded owner '{}'", dir, owner);
    }
  }

  // ------------------------------------------------------------------------------ no-change marker

  /** The file of the no-change marker: the serial it was recorded at and the source fingerprint. */
  static final String MARKER_FILE = "nochange.json";

  /**
   * {@inheritDoc}
   *
   * <p>Kept in {@code nochange.json} beside {@code meta.json}; a store without one (any store
   * written before markers existed) has none. A marker file that cannot be read is logged and
   * ignored: it only ever lets a sync skip decoding, never changes what it decides.
   */
  @Override
  public Optional<String> noChangeMarker() {
    synchronized (monitor) {
      if (held == null || refusal != null) {
        return Optional.empty();
      }
      Path f = dir.resolve(MARKER_FILE);
      if (!Files.exists(f)) {
        return Optional.empty();
      }
      try {
        JsonNode n = StoreCodec.parse(readStoreFile(f));
        long at = StoreCodec.longValue(n, "serial");
        return at == serial ? Optional.of(StoreCodec.text(n, "fingerprint")) : Optional.empty();
      } catch (IOException | StoreCodec.BadContentException e) {
        LOG.warn("store {}: ignoring the unreadable no-change marker {} (the next sync reads its source in full): {}",
            dir, f, e.getMessage());
        return Optional.empty();
      }
    }
  }

  @Override
  public void recordNoChangeMarker(String fingerprint) {
    Objects.requireNonNull(fingerprint, "fingerprint");
    synchronized (monitor) {
      requireWritable("record the no-change marker");
      try {
        writeHint(dir.resolve(MARKER_FILE), StoreCodec.bytes(StoreCodec.marker(serial, fingerprint)));
      } catch (IOException e) {
        throw new StoreException("store " + dir + ": cannot record the no-change marker: " + e, e);
      }
    }
  }

  /**
   * The file of the no-change digests: the digests of each record (of its document and of the
   * resource), bound to the marker's serial and fingerprint and checksummed (see {@link
   * #noChangeDigests}).
   */
  static final String DIGESTS_FILE = "nochange-digests";
  private static final String DIGESTS_HEADER = "gitops-nochange-digests 1";

  /**
   * {@inheritDoc}
   *
   * <p>Kept in {@code nochange-digests} beside the marker: a header, the serial and the
   * fingerprint, one {@code <digest> <key>} line per record, and a CRC-32C of everything before it.
   * A file of another serial or fingerprint, a bad checksum or any unreadable content gives an
   * empty map (logged): the sync then digests the documents itself.
   */
  @Override
  public Map<String, String> noChangeDigests(String fingerprint) {
    synchronized (monitor) {
      Path f = dir.resolve(DIGESTS_FILE);
      if (held == null || refusal != null || !Files.exists(f)) {
        return Map.of();
      }
      try {
        return NoChangeDigests.parse(readStoreFile(f), DIGESTS_HEADER, serial, fingerprint);
      } catch (IOException | NoChangeDigests.BadDigestsException e) {
        LOG.warn("store {}: ignoring the no-change digests {} (the next sync digests its documents): {}", dir, f,
            e.getMessage());
        return Map.of();
      }
    }
  }

  @Override
  public void recordNoChangeDigests(String fingerprint, Map<String, String> digests) {
    Objects.requireNonNull(fingerprint, "fingerprint");
    synchronized (monitor) {
      requireWritable("record the no-change digests");
      try {
        writeHint(dir.resolve(DIGESTS_FILE), NoChangeDigests.bytes(DIGESTS_HEADER, serial, fingerprint, digests));
      } catch (IOException e) {
        throw new StoreException("store " + dir + ": cannot record the no-change digests: " + e, e);
      }
    }
  }

  /**
   * The file of the no-change plan id: the id of a plan whose changes were all plain NOOPs and the
   * digest of its inputs, bound to the marker's serial and fingerprint and checksummed, in the
   * format of the no-change digests (two entries: {@code <inputs> inputs} and {@code <id> id}).
   */
  static final String PLAN_ID_FILE = "nochange-plan";
  private static final String PLAN_ID_HEADER = "gitops-nochange-plan 1";

  /**
   * {@inheritDoc}
   *
   * <p>Kept in {@code nochange-plan} beside the marker. A file of another serial or fingerprint
   * gives nothing; a bad checksum or unreadable content gives nothing, logged.
   */
  @Override
  public Optional<NoChangePlanId> noChangePlanId(String fingerprint) {
    synchronized (monitor) {
      Path f = dir.resolve(PLAN_ID_FILE);
      if (held == null || refusal != null || !Files.exists(f)) {
        return Optional.empty();
      }
      try {
        Map<String, String> m = NoChangeDigests.parse(readStoreFile(f), PLAN_ID_HEADER, serial, fingerprint);
        return m.get("inputs") == null || m.get("id") == null ? Optional.empty()
            : Optional.of(new NoChangePlanId(m.get("inputs"), m.get("id")));
      } catch (IOException | NoChangeDigests.BadDigestsException e) {
        LOG.warn("store {}: ignoring the no-change plan id {} (the next sync computes its plan id): {}", dir, f,
            e.getMessage());
        return Optional.empty();
      }
    }
  }

  @Override
  public void recordNoChangePlanId(String fingerprint, String inputs, String planId) {
    Objects.requireNonNull(fingerprint, "fingerprint");
    Map<String, String> m = new TreeMap<>();
    m.put("id", Objects.requireNonNull(planId, "planId"));
    m.put("inputs", Objects.requireNonNull(inputs, "inputs"));
    synchronized (monitor) {
      requireWritable("record the no-change plan id");
      try {
        writeHint(dir.resolve(PLAN_ID_FILE), NoChangeDigests.bytes(PLAN_ID_HEADER, serial, fingerprint, m));
      } catch (IOException e) {
        throw new StoreException("store " + dir + ": cannot record the no-change plan id: " + e, e);
      }
    }
  }

  // ------------------------------------------------------------------------------------ journal

  /** True with the journal on: a batch's in-sync proofs are kept with their entries. */
  @Override
  public boolean keepsInSync() {
    return options.journal();
  }

  /**
   * {@inheritDoc}
   *
   * <p>The batch is one record appended to the journal file and forced once (fdatasync), instead
   * of a durable file write per key. The journal stays between syncs; it is folded into a new
   * snapshot when it outgrows {@link Options#compactionBytes()} (see {@link #compact()}). With
   * {@link Options#journal()} off, every op is its own append and fsync (no group commit).
   */
  @Override
  public List<StoredResource> writeBatch(StoreBatch batch) {
    Objects.requireNonNull(batch, "batch");
    if (batch.isEmpty()) {
      return List.of();
    }
    if (!options.journal()) {
      return batch.writeOneByOne(this);
    }
    return journal("write a batch of " + batch.ops().size() + " records", batch.ops());
  }

  /** Appends {@code ops} as one journal record, forced once; the stored form of each applied op. */
  private List<StoredResource> journal(String what, List<StoreBatch.Op> ops) {
    synchronized (monitor) {
      requireWritable(what);
      try {
        ensureLayout();
        List<JournalDelta.Entry> entries = new ArrayList<>(ops.size());
        List<StoredResource> stored = new ArrayList<>();
        long s = serial;
        for (StoreBatch.Op op : ops) {
          s++;
          if (op instanceof StoreBatch.Pending p) {
            entries.add(new JournalDelta.Entry("pending", p.key(), s, p.desired(), null));
          } else if (op instanceof StoreBatch.Applied a) {
            entries.add(new JournalDelta.Entry("applied", a.key(), s, a.lastApplied(), a.revision(), a.inSync()));
            stored.add(new StoredResource(a.lastApplied(), s, a.revision(), a.inSync()));
          } else if (op instanceof StoreBatch.Forget) {
            entries.add(new JournalDelta.Entry("forget", op.key(), s, null, null));
          } else {
            entries.add(new JournalDelta.Entry("clear", op.key(), s, null, null));
          }
        }
        StoreJournal.RecordBuffer record = JournalDelta.record(entries, encoded);
        append(record.framed(), record.size());
        serial = s;
        entriesSerial = s;
        if (cache != null) {
          entries.forEach(this::fold);
          cache.serial = s;
        }
        LOG.debug("store {}: journaled {} records up to serial {}", dir, entries.size(), s);
        return List.copyOf(stored);
      } catch (IOException | RuntimeException e) {
        cache = null;
        if (e instanceof RuntimeException re) {
          throw re;
        }
        throw new StoreException("store " + dir + ": cannot " + what + ": " + e, e);
      }
    }
  }

  /** A journaled op, now durable, folded into the cache. */
  private void fold(JournalDelta.Entry e) {
    switch (e.op()) {
      case "pending" -> cache.pending.put(e.key(), e.resource());
      case "applied" -> {
        cache.inventory.put(e.key(), new StoredResource(e.resource(), e.serial(), e.revision(), e.inSync()));
        cache.pending.remove(e.key());
      }
      case "forget" -> {
        cache.inventory.remove(e.key());
        cache.pending.remove(e.key());
      }
      default -> cache.pending.remove(e.key());
    }
  }

  /**
   * Appends one record (the first {@code length} bytes of {@code record}) at the end of the whole
   * records and forces it. Any failure leaves this object refusing writes: the file may end in part
   * of the record, which only a new lock (that cuts a torn tail) may clean up.
   */
  private void append(byte[] record, int length) throws IOException {
    WriteListener listener = options.writeListener();
    boolean created = !Files.exists(journalFile);
    if (created && journalEnd > 0) {
      // removed behind this store's back since it was read: writing at the old end would leave a
      // journal of zeros before this record, and recreating it from here would lose what it held
      StoreCorruptException gone = corrupt(journalFile, "vanished while the store was open (it held " + journalEnd
          + " bytes); nothing is appended", null);
      throw gone;
    }
    try {
      listener.onJournal(JournalPoint.APPEND_STARTED, journalFile);
      try (FileChannel ch = FileChannel.open(journalFile, EnumSet.of(StandardOpenOption.CREATE,
          StandardOpenOption.WRITE), ownerOnly(journalFile))) {
        long size = ch.size();
        if (size < journalEnd) {
          // cut behind this store's back since it was read: writing at the old end would leave
          // zeros where the lost records were, and the records after them unreadable
          throw corrupt(journalFile, "was cut to " + size + " bytes while the store was open (it held " + journalEnd
              + " bytes); nothing is appended", null);
        }
        if (size > journalEnd) {
          ch.truncate(journalEnd);
        }
        int half = length / 2;
        DurableFiles.writeFully(ch, ByteBuffer.wrap(record, 0, half), journalEnd);
        listener.onJournal(JournalPoint.APPEND_HALF_WRITTEN, journalFile);
        DurableFiles.writeFully(ch, ByteBuffer.wrap(record, half, length - half), journalEnd + half);
        listener.onJournal(JournalPoint.APPENDED, journalFile);
        ch.force(false);
      }
      if (created) {
        DurableFiles.forceDirectory(dir);
      }
    } catch (IOException | RuntimeException | Error e) {
      if (!(e instanceof StoreCorruptException)) {
        // (a journal found cut is refused as the corruption it is: corrupt() set the refusal)
        refusal = new StoreException("store " + dir + ": appending to the journal " + journalFile + " at byte offset "
            + journalEnd + " failed (" + e + "); this store object refuses writes, reopen the store", e);
      }
      throw e;
    }
    journalEnd += length;
    listener.onJournal(JournalPoint.SYNCED, journalFile);
  }

  /** Owner-only permissions for a file created in the store (where the file system has them). */
  private static FileAttribute<?>[] ownerOnly(Path file) {
    return DurableFiles.posix(file.getParent())
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(DurableFiles.OWNER_FILE)}
        : new FileAttribute<?>[0];
  }

  /** Where the last {@link #readJournal} found the whole records to end. */
  private long scanEnd;

  /**
   * The journal's records after the snapshot of serial {@code includedThrough}, folded in order.
   * A torn tail (see {@link StoreJournal}) is ignored; anything else that does not check out is
   * corruption naming the file and the byte offset.
   */
  private JournalDelta readJournal(boolean repair, long includedThrough) {
    StoreJournal.Scan scan = scanJournal(repair);
    JournalDelta d = new JournalDelta();
    long last = 0;
    for (StoreJournal.Record r : scan.records()) {
      try {
        last = d.replay(r.payload(), last, includedThrough);
      } catch (StoreCodec.BadContentException e) {
        throw corrupt(journalFile, "at byte offset " + r.offset() + ": " + e.getMessage(), e);
      }
    }
    return d;
  }

  /** Splits the journal into records; a torn tail is cut off when {@code repair} (writable, under the lock). */
  private StoreJournal.Scan scanJournal(boolean repair) {
    byte[] bytes;
    try {
      bytes = readStoreFile(journalFile);
    } catch (NoSuchFileException e) {
      scanEnd = 0;
      return new StoreJournal.Scan(List.of(), 0, 0, null);
    } catch (IOException e) {
      throw corrupt(journalFile, "unreadable: " + e, e);
    }
    StoreJournal.Scan scan;
    try {
      scan = StoreJournal.scan(bytes);
    } catch (StoreJournal.DamageException e) {
      throw corrupt(journalFile, e.getMessage(), e);
    }
    if (scan.hasTornTail()) {
      if (repair) {
        LOG.warn("store {}: the journal {} ends in a torn record (a crash during an append that never returned):"
            + " discarding {} bytes at byte offset {}: {}", dir, journalFile, scan.size() - scan.end(), scan.end(),
            scan.torn());
        try (FileChannel ch = FileChannel.open(journalFile, StandardOpenOption.WRITE)) {
          ch.truncate(scan.end());
          ch.force(true);
        } catch (IOException e) {
          throw new StoreException("store " + dir + ": cannot cut the torn tail of the journal " + journalFile + ": "
              + e, e);
        }
        options.writeListener().onJournal(JournalPoint.TAIL_TRUNCATED, journalFile);
      } else {
        LOG.debug("store {}: ignoring the torn tail of the journal {} at byte offset {}: {}", dir, journalFile,
            scan.end(), scan.torn());
      }
    }
    scanEnd = scan.end();
    return scan;
  }

  /**
   * At a writable lock: a store of format 1 is migrated to the snapshot; otherwise a torn tail of
   * the journal is cut, a journal that the snapshot already includes (a compaction that crashed
   * after its rename) is removed, and the leftovers of a migration that crashed are finished. The
   * serial becomes the highest the store holds. A failure forbids writes (load reports damage).
   */
  private void recover() {
    if (refusal != null || !Files.exists(dir.resolve("meta.json"))) {
      if (refusal == null && Files.exists(journalFile)) {
        refusal = corrupt(dir.resolve("meta.json"), "missing while the store holds a journal", null);
      }
      return;
    }
    try {
      if (storeFormat == 1) {
        migrate();
        return;
      }
      long snap = 0;
      long snapSize = Files.exists(snapshotFile) ? Files.size(snapshotFile) : 0;
      if (Files.exists(snapshotFile)) {
        try {
          snap = StoreSnapshot.headerSerial(readHead(snapshotFile, StoreSnapshot.HEADER), snapSize);
        } catch (StoreSnapshot.DamageException e) {
          throw corrupt(snapshotFile, e.getMessage(), e);
        }
        if (snap < metaSnapshotSerial) {
          throw corrupt(snapshotFile, "includes serial " + snap + ", older than the snapshot of serial "
              + metaSnapshotSerial + " meta.json names", null);
        }
      } else if (metaSnapshotSerial > 0) {
        throw corrupt(snapshotFile, "is missing while meta.json names the snapshot of serial " + metaSnapshotSerial,
            null);
      }
      snapshotSerial = snap;
      snapshotBytes = snapSize;
      serial = Math.max(serial, snap);
      // scanned without cutting first: a tail is torn only if the journal still holds every entry write
      // meta.json records as durable; one that ends below them was cut or emptied behind the store's back,
      // and cutting or removing it would destroy what is left of it
      StoreJournal.Scan scan = scanJournal(false);
      long last = 0;
      if (!scan.records().isEmpty()) {
        try {
          last = new JournalDelta().replay(scan.records().get(scan.records().size() - 1).payload(), 0, Long.MAX_VALUE);
        } catch (StoreCodec.BadContentException e) {
          throw corrupt(journalFile, "at byte offset " + scan.records().get(scan.records().size() - 1).offset() + ": "
              + e.getMessage(), e);
        }
      }
      if (entriesSerial > Math.max(snap, last)) {
        throw journalLost(last, entriesSerial, snap);
      }
      if (scan.hasTornTail()) {
        scan = scanJournal(true);
      }
      journalEnd = scan.end();
      if (!scan.records().isEmpty()) {
        serial = Math.max(serial, last);
        if (last <= snap) {
          LOG.info("store {}: the snapshot includes the whole journal (a compaction that stopped before removing"
              + " it); removing it", dir);
          removeJournal();
        }
      } else if (Files.exists(journalFile)) {
        // empty, or nothing left once a torn first record was cut
        removeJournal();
      }
      if (metaSnapshotSerial < snapshotSerial) {
        entriesSerial = Math.max(entriesSerial, snapshotSerial);  // the snapshot holds entries up to its serial
        writeMeta(serial);
      }
      removePerKeyLayout();
    } catch (StoreException e) {
      if (refusal == null) {
        refusal = e;
      }
      LOG.debug("store {}: {}", dir, e.getMessage());
    } catch (IOException e) {
      refusal = new StoreException("store " + dir + ": cannot recover the journal " + journalFile + ": " + e, e);
      LOG.warn("{}", refusal.getMessage());
    }
  }

  private static byte[] readHead(Path f, int n) throws IOException {
    DurableFiles.requireRegular(f);  // see readStoreFile
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      ByteBuffer b = ByteBuffer.allocate((int) Math.min(n, ch.size()));
      while (b.hasRemaining() && ch.read(b) >= 0) {
        // read until full or end of file
      }
      return b.array();
    }
  }

  /**
   * Migrates a store of format 1 (per-key files and a journal) to format 2, in an order where a
   * crash anywhere loads the same: everything is read (as format 1, strictly), the snapshot is
   * written and renamed into place (format 1 readers ignore it), {@code format} is switched to 2
   * (from now on the snapshot is the truth and the journal, all of it included, is skipped), the
   * journal is removed, meta.json rewritten, and last the per-key files and their directories.
   */
  private void migrate() throws IOException {
    WriteListener listener = options.writeListener();
    scanJournal(true);
    readAll();
    listener.onJournal(JournalPoint.MIGRATION_STARTED, dir.resolve("format"));
    writeSnapshot();
    write(dir.resolve("format"), (FORMAT + "\n").getBytes(StandardCharsets.US_ASCII));
    storeFormat = FORMAT;
    listener.onJournal(JournalPoint.FORMAT_SWITCHED, dir.resolve("format"));
    removeJournal();
    writeMeta(serial);
    removePerKeyLayout();
    LOG.info("store {}: migrated from format 1 (per-key files) to format {} (snapshot and journal), {} entries",
        dir, FORMAT, cache == null ? 0 : cache.inventory.size() + cache.pending.size());
  }

  /** Removes what a store of format 1 kept per key, once the snapshot holds it (format 2 only). */
  private void removePerKeyLayout() throws IOException {
    if (!Files.exists(inventoryDir) && !Files.exists(pendingDir)) {
      return;
    }
    for (Path d : List.of(inventoryDir, pendingDir)) {
      if (Files.isDirectory(d)) {
        try (Stream<Path> s = Files.list(d)) {
          for (Path p : s.toList()) {
            Files.deleteIfExists(p);
          }
        }
      }
      Files.deleteIfExists(d);
    }
    DurableFiles.forceDirectory(dir);
    options.writeListener().onJournal(JournalPoint.MIGRATED, dir);
  }

  /** At the end of a sync (the lock's release): a new snapshot when the journal outgrew its bound. */
  private void compactAtRelease() {
    if (readOnly || refusal != null || journalEnd == 0) {
      return;
    }
    long bound = options.compactionBytes();
    if (journalEnd < bound || (bound > 0 && journalEnd <= snapshotBytes)) {
      return;
    }
    try {
      compactNow();
    } catch (IOException | RuntimeException e) {
      // nothing is lost: the journal stays, and loads replay it
      LOG.warn("store {}: compacting the journal {} failed ({}); it stays and is replayed at load", dir,
          journalFile, e.toString());
    }
  }

  /**
   * Folds the journal into a new snapshot now (the lock must be held): the snapshot is written to
   * a temp file, forced, renamed over the old one and the directory forced; then the journal is
   * removed and meta.json names the new snapshot. A crash anywhere loads the same state: before
   * the rename the old snapshot and the whole journal stand; after it the new snapshot includes
   * every record of the journal (it says up to which serial), so a load skips them and the next
   * lock removes the journal. Compaction also runs by itself at the lock's release once the
   * journal holds at least {@link Options#compactionBytes()} bytes and more than the snapshot.
   *
   * <pre>{@code
   * try (FileStateStore fileStore = FileStateStore.open(storeDir);
   *      StoreLock lock = fileStore.lock(Duration.ofSeconds(30))) {
   *   fileStore.compact();
   * }
   * }</pre>
   */
  public void compact() {
    synchronized (monitor) {
      requireWritable("compact the journal");
      try {
        compactNow();
      } catch (IOException e) {
        throw new StoreException("store " + dir + ": cannot compact the journal " + journalFile + ": " + e, e);
      }
    }
  }

  private void compactNow() throws IOException {
    if (!Files.exists(journalFile)) {
      return;
    }
    if (cache == null || cache.serial != serial) {
      readAll();
    }
    writeSnapshot();
    removeJournal();
    writeMeta(serial);
    LOG.debug("store {}: compacted the journal into a snapshot at serial {}", dir, serial);
  }

  /** Writes the cached state as the snapshot of the current serial. */
  private void writeSnapshot() throws IOException {
    WriteListener listener = options.writeListener();
    listener.onJournal(JournalPoint.COMPACTION_STARTED, snapshotFile);
    TreeMap<ResourceKey, StoredResource> inventory = cache == null ? new TreeMap<>() : cache.inventory;
    TreeMap<ResourceKey, Resource> pending = cache == null ? new TreeMap<>() : cache.pending;
    byte[] bytes = StoreSnapshot.encode(serial, inventory, pending, encoded);
    DurableFiles.write(snapshotFile, bytes, () -> listener.onJournal(JournalPoint.SNAPSHOT_WRITTEN, snapshotFile));
    snapshotSerial = serial;
    entriesSerial = Math.max(entriesSerial, serial);
    snapshotBytes = bytes.length;
    listener.onJournal(JournalPoint.SNAPSHOT_RENAMED, snapshotFile);
  }

  /** Deletes the journal (its records are in the snapshot) and forces the directory. */
  private void removeJournal() throws IOException {
    if (Files.deleteIfExists(journalFile)) {
      DurableFiles.forceDirectory(dir);
    }
    journalEnd = 0;
    options.writeListener().onJournal(JournalPoint.JOURNAL_REMOVED, journalFile);
  }

  // ------------------------------------------------------------------------------------ history

  @Override
  public List<HistoryEntry> history() {
    synchronized (monitor) {
      requireOpen();
      try {
        return readHistory(held != null && !readOnly);
      } catch (StoreException e) {
        refusal = e;
        throw e;
      }
    }
  }

  private List<HistoryEntry> readHistory(boolean clean) {
    List<Path> files = historyFiles(clean);
    List<HistoryEntry> out = new ArrayList<>(Math.min(files.size(), options.historyLimit()));
    for (Path f : files.subList(0, Math.min(files.size(), options.historyLimit()))) {
      try {
        out.add(StoreCodec.readHistory(readJson(f)));
      } catch (StoreCodec.BadContentException e) {
        throw corrupt(f, e.getMessage(), e);
      }
    }
    return List.copyOf(out);
  }

  /** History files, newest first (names carry the zero-padded serial). */
  private List<Path> historyFiles(boolean clean) {
    List<Path> files = new ArrayList<>();
    for (Path p : keyFiles(historyDir, clean, false)) {
      if (p.getFileName().toString().startsWith(HISTORY_PREFIX)) {
        files.add(p);
      } else {
        LOG.warn("store {}: ignoring unexpected history file {}", dir, p);
      }
    }
    files.sort(Collections.reverseOrder());
    return files;
  }

  // ------------------------------------------------------------------------------------ secret

  /**
   * {@inheritDoc}
   *
   * <p>Created on first use without needing the lock: the file is published with a hard link,
   * which fails when another process created it first, and then that key is used. A key missing
   * from a store whose records, as last {@linkplain #load() loaded}, hold sensitive values (hashed
   * under it) is never replaced: that throws a {@link StoreCorruptException} naming the file, and
   * the store refuses writes.
   */
  @Override
  public byte[] secretKey() {
    synchronized (monitor) {
      requireOpen();
      if (secret != null) {
        return secret.clone();
      }
      Path f = dir.resolve(SECRET_FILE);
      try {
        if (!Files.exists(f) && holdsSensitive()) {
          // The store's records and every saved plan hold sensitive values as HMACs under the lost
          // key: a new one, made silently, would show each as changed and fail each plan vaguely.
          StoreCorruptException e = new StoreCorruptException("store " + dir + ": the secret key " + f
              + " is missing while the store holds records: the store's and every saved plan's hashes of sensitive"
              + " values were made under it. Restore it from a backup; if it is lost, write a new one (32 random bytes,"
              + " owner-only: head -c 32 /dev/urandom > " + f + "; chmod 600 " + f + "): plans saved before are"
              + " then refused, and each sensitive value shows as changed at the next sync", null);
          refusal = e;
          throw e;
        }
        if (!Files.exists(f) && readOnly) {
          // Nothing may be created: a key for this object's life hashes what it renders.
          secret = new byte[SECRET_BYTES];
          random.nextBytes(secret);
          LOG.debug("store {} (read-only) has no secret key yet; using one that is not kept", dir);
          return secret.clone();
        }
        if (!Files.exists(f)) {
          if (refusal != null) {
            requireWritable("create the secret key");
          }
          DurableFiles.createPrivateDirectory(dir);
          byte[] fresh = new byte[SECRET_BYTES];
          random.nextBytes(fresh);
          if (DurableFiles.writeNew(f, fresh)) {
            LOG.info("store {}: created a new secret key", dir);
            secret = fresh;
            return fresh.clone();
          }
        }
        secret = readSecret(f);
        return secret.clone();
      } catch (NoSuchFileException e) {
        throw new StoreException("store " + dir + ": secret key " + f + " vanished while reading it", e);
      } catch (IOException e) {
        throw new StoreException("store " + dir + ": cannot create the secret key " + f + ": " + e, e);
      }
    }
  }

  /** Whether a record of the last load (or of this object's writes since) holds values hashed under the key. */
  private boolean holdsSensitive() {
    return loadedSensitive || cache != null && anySensitive(cache.inventory, cache.pending);
  }

  private static boolean anySensitive(Map<ResourceKey, StoredResource> inventory, Map<ResourceKey, Resource> pending) {
    for (StoredResource r : inventory.values()) {
      if (!r.resource().sensitive().isEmpty()) {
        return true;
      }
    }
    for (Resource r : pending.values()) {
      if (!r.sensitive().isEmpty()) {
        return true;
      }
    }
    return false;
  }

  private byte[] readSecret(Path f) {
    byte[] bytes;
    try {
      bytes = readStoreFile(f);
    } catch (IOException e) {
      throw corrupt(f, "unreadable: " + e, e);
    }
    if (bytes.length != SECRET_BYTES) {
      throw corrupt(f, "holds " + bytes.length + " bytes, want " + SECRET_BYTES, null);
    }
    return bytes;
  }

  // ------------------------------------------------------------------------------------ close

  /** Marks this object closed; a lock still held stays held until its {@link StoreLock#close()}. */
  @Override
  public void close() {
    synchronized (monitor) {
      closed = true;
    }
  }

  @Override
  public String toString() {
    return "FileStateStore[" + dir + "]";
  }

  /** The inventory and pending entries as of {@code serial}, as this object last read and wrote them. */
  private static final class Cached {
    final TreeMap<ResourceKey, StoredResource> inventory;
    final TreeMap<ResourceKey, Resource> pending;
    long serial;
    /** Whether the read found no store yet (a write makes it one). */
    boolean fresh;
    /**
     * Immutable copies of the maps as of serial {@link #frozenAt}: the loads until the next write
     * (which moves the serial) hand out these very maps, which a reader tells unchanged by identity.
     */
    SortedMap<ResourceKey, StoredResource> frozenInventory;
    SortedMap<ResourceKey, Resource> frozenPending;
    long frozenAt = -1;

    Cached(TreeMap<ResourceKey, StoredResource> inventory, TreeMap<ResourceKey, Resource> pending, long serial) {
      this.inventory = inventory;
      this.pending = pending;
      this.serial = serial;
    }

    /** Makes the frozen copies current: every change of the maps comes with a new serial. */
    void freeze() {
      if (frozenAt != serial) {
        frozenInventory = SortedArrayMap.copyOf(inventory);
        frozenPending = SortedArrayMap.copyOf(pending);
        frozenAt = serial;
      }
    }
  }
}
