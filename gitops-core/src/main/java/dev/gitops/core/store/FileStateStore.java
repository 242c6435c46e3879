package dev.gitops.core.store;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.StoreCorruptException;
import dev.gitops.api.StoreException;
import dev.gitops.api.StoreLockedException;
import dev.gitops.api.spi.HistoryEntry;
import dev.gitops.api.spi.StateStore;
import dev.gitops.api.spi.StoreLock;
import dev.gitops.api.spi.StoredResource;
import dev.gitops.api.spi.StoredState;
import dev.gitops.core.internal.fs.DurableFiles;
import dev.gitops.core.internal.fs.KeyFileNames;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A crash-safe {@link StateStore} in a directory of small JSON files, one per key, with a journal
 * for batches of writes (group commit).
 *
 * <p>Batches: {@link #writeBatch} appends a batch (the pending records of every change the engine
 * is about to send together, or the applied records of the outcomes it learned together) to the
 * file {@code journal} as one checksummed, length-prefixed record, forced once; loads replay it
 * over the per-key files. Once the journal holds records the single-key methods append to it too.
 * When the lock is released (the end of a sync) the journal is compacted into the per-key files
 * and deleted, so between syncs the store is the per-key layout below; a journal found at the
 * next lock (a crash) is replayed, a torn last record from a crash mid-append is cut off, and
 * it is compacted then. A record that fails its checks anywhere but at the very end is
 * corruption naming the journal and the byte offset.
 *
 * <p>Layout: {@code format} (the layout version), {@code meta.json} (serial and revisions),
 * {@code inventory/<key>.json} (last-applied state per key), {@code pending/<key>.json} (desired
 * documents written before an apply), {@code history/} (one file per sync, rotated to the
 * history limit), {@code secret.key} (32 random bytes for keyed hashes) and {@code lock}. Every
 * write goes to a temp file in the same directory, is forced to disk, renamed atomically over
 * the target and followed by a force of the directory; a crash leaves either the old or the new
 * file, and at most a temp file that readers ignore. Files and directories are created readable
 * by the owner only.
 *
 * <p>The lock is an OS file lock on {@code lock} (freed by the OS when the process dies), plus an
 * in-process lock so that two threads or two store objects of one JVM exclude each other too.
 * Every mutating method requires this store object to hold the lock (any thread may call it
 * while it is held, so an executor's workers can record outcomes) and increases the serial.
 *
 * <p>Once {@link #load} or any read meets a file it cannot read, it throws {@link
 * StoreCorruptException} naming the file, and this object refuses every write until the store
 * is repaired and reopened. {@code meta.json} accounts for the rest of the store: once it exists,
 * {@code format}, {@code inventory/}, {@code pending/} and {@code history/} must exist, the key
 * directories must hold exactly as many entries as it counts (besides the one entry a write
 * crashed in may have left either way), and nothing but key files; anything missing or extra is
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
  public static final int FORMAT = 1;

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
     * Called at each {@link JournalPoint} of the journal's protocol with the journal file. The
     * default reports it as a write of the journal file (before or after, as the point says), so
     * a listener that counts writes counts these points too.
     */
    default void onJournal(JournalPoint point, Path journal) {
      onWrite(journal, point.after());
    }
  }

  /**
   * The named points of the journal's write protocol, in the order one batch and one compaction
   * pass them: where a crash test kills the process to prove each leaves a store that loads
   * with nothing acknowledged lost.
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
    /** Compaction of the journal into the per-key files begins. */
    COMPACTION_STARTED(false),
    /** Every per-key file of the journal is written, renamed and its directory forced; the journal is still there. */
    COMPACTED(false),
    /** The journal file is deleted and the deletion forced: compaction is done. */
    JOURNAL_REMOVED(true);

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
   *     default); false writes them one per-key file at a time, as stores did before the journal
   *     (kept for comparison in the benchmarks and for file systems where appends are slow)
   */
  public record Options(int historyLimit, Duration lockPollInterval, WriteListener writeListener, boolean journal) {
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
    }

    /** Options with the journal on. */
    public Options(int historyLimit, Duration lockPollInterval, WriteListener writeListener) {
      this(historyLimit, lockPollInterval, writeListener, true);
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
      return new Options(limit, lockPollInterval, writeListener, journal);
    }

    /** These options with another lock poll interval. */
    public Options withLockPollInterval(Duration interval) {
      return new Options(historyLimit, interval, writeListener, journal);
    }

    /** These options with a write listener (a test and fault-injection hook). */
    public Options withWriteListener(WriteListener listener) {
      return new Options(historyLimit, lockPollInterval, listener, journal);
    }

    /** These options with the journal on or off (off: every batch is written per key, one file at a time). */
    public Options withJournal(boolean on) {
      return new Options(historyLimit, lockPollInterval, writeListener, on);
    }
  }

  private final Path dir;
  private final Path inventoryDir;
  private final Path pendingDir;
  private final Path historyDir;
  private final Path journalFile;
  private final Options options;
  private final boolean readOnly;
  private final SecureRandom random = new SecureRandom();

  /** Guards the fields below and serializes writes of this object. */
  private final Object monitor = new Object();
  private Held held;
  private StoreException refusal;
  private boolean closed;
  private boolean layoutReady;
  private long serial;
  /**
   * What the last full read (and this object's writes since) found, while this object holds the
   * lock: a resync then reads meta.json only, not every entry. It is used only while meta.json's
   * serial, read when the lock is taken, still equals the snapshot's; any other writer bumps it.
   */
  private Snapshot snapshot;
  private String attempted = "";
  private String applied = "";
  private byte[] secret;
  /** The entries in inventory/ and pending/ as of {@link #serial}, or -1 until counted or read from meta.json. */
  private long inventoryCount = -1;
  private long pendingCount = -1;
  /**
   * What the journal holds on top of the per-key files, while this object holds the lock; null or
   * empty when there is no journal (then single writes go to the per-key files as they always did).
   */
  private JournalDelta delta;
  /** Where the journal's whole records end (the next append's offset). */
  private long journalEnd;
  /**
   * Whether meta.json's entry counts are those after the journal's compaction (written when a
   * compaction starts) rather than those of the per-key files as the journal found them.
   */
  private boolean metaCompacting;

  private FileStateStore(Path dir, Options options, boolean readOnly) {
    this.dir = Objects.requireNonNull(dir, "dir").toAbsolutePath().normalize();
    this.inventoryDir = this.dir.resolve("inventory");
    this.pendingDir = this.dir.resolve("pending");
    this.historyDir = this.dir.resolve("history");
    this.journalFile = this.dir.resolve(StoreJournal.FILE);
    this.options = Objects.requireNonNull(options, "options");
    this.readOnly = readOnly;
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

  /** The store's directory. */
  public Path directory() {
    return dir;
  }

  /** The options this store was opened with. */
  public Options options() {
    return options;
  }

  // ------------------------------------------------------------------------------------ lock

  @Override
  public StoreLock lock(Duration timeout) {
    StateStore.requirePositive(timeout);
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
            + " process (pid " + ProcessHandle.current().pid() + "), lock file " + lockFile + "; waited " + timeout);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted while waiting for the lock of store " + dir, e);
    }
    FileChannel channel = null;
    try {
      FileLock osLock = null;
      if (!readOnly) {
        channel = openLockFile(lockFile);
        osLock = pollOsLock(channel, lockFile, deadline, timeout, false);
        writeHolder(channel, lockFile);
      } else if (Files.exists(lockFile)) {
        // A reader waits for a writer (and lets other readers in) but creates nothing.
        channel = openLockFileToRead(lockFile);
        osLock = pollOsLock(channel, lockFile, deadline, timeout, true);
      }
      Held h = new Held(permit, channel, osLock);
      synchronized (monitor) {
        held = h;
        refreshMeta();
        if (!readOnly) {
          recoverJournal();
        }
      }
      LOG.debug("locked store {}", dir);
      return h;
    } catch (RuntimeException | Error e) {
      closeQuietly(channel);
      permit.release();
      throw e;
    }
  }

  /** An existing directory is not chmod-ed behind the user's back, but a readable one is worth a warning. */
  private static void warnIfShared(Path real) throws IOException {
    if (DurableFiles.posix(real)) {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(real);
      perms.removeAll(DurableFiles.OWNER_DIR);
      if (!perms.isEmpty()) {
        LOG.warn("store directory {} is accessible to other users ({}); it holds hashes of secret values,"
            + " restrict it with chmod 700", real, PosixFilePermissions.toString(Files.getPosixFilePermissions(real)));
      }
    }
  }

  private static FileChannel openLockFile(Path lockFile) {
    EnumSet<StandardOpenOption> opts = EnumSet.of(StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE);
    FileAttribute<?>[] attrs = DurableFiles.posix(lockFile)
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(DurableFiles.OWNER_FILE)}
        : new FileAttribute<?>[0];
    try {
      return FileChannel.open(lockFile, opts, attrs);
    } catch (IOException e) {
      throw new StoreException("cannot open lock file " + lockFile + ": " + e, e);
    }
  }

  private static FileChannel openLockFileToRead(Path lockFile) {
    try {
      return FileChannel.open(lockFile, StandardOpenOption.READ);
    } catch (IOException e) {
      throw new StoreException("cannot open lock file " + lockFile + ": " + e, e);
    }
  }

  private FileLock pollOsLock(FileChannel channel, Path lockFile, long deadline, Duration timeout, boolean shared) {
    while (true) {
      FileLock lock;
      try {
        lock = channel.tryLock(0, Long.MAX_VALUE, shared);
      } catch (OverlappingFileLockException e) {
        // this JVM holds it through another path to the same directory (a bind mount, say):
        // treat it like a holder elsewhere and keep polling
        lock = null;
      } catch (IOException e) {
        throw new StoreException("cannot lock " + lockFile + ": " + e, e);
      }
      if (lock != null) {
        return lock;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new StoreLockedException("store " + dir + " is locked by " + holder(channel)
            + ", lock file " + lockFile + "; waited " + timeout);
      }
      try {
        TimeUnit.NANOSECONDS.sleep(Math.min(left, options.lockPollInterval().toNanos()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new StoreException("interrupted while waiting for the lock of store " + dir, e);
      }
    }
  }

  /**
   * Reads the holder's pid through the channel we already have: opening and closing another
   * descriptor of the lock file would drop this process's POSIX locks on it.
   */
  private static String holder(FileChannel channel) {
    try {
      ByteBuffer buf = ByteBuffer.allocate(64);
      channel.read(buf, 0);
      String text = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII).trim();
      if (text.matches("pid \\d+")) {
        return "process " + text.substring(4);
      }
    } catch (IOException e) {
      // only the message loses the pid; Windows locks the bytes against reading, for one
      LOG.debug("cannot read lock holder: {}", e.toString());
    }
    return "another process (pid unknown)";
  }

  private static void writeHolder(FileChannel channel, Path lockFile) {
    try {
      channel.truncate(0);
      channel.write(ByteBuffer.wrap(("pid " + ProcessHandle.current().pid() + "\n")
          .getBytes(StandardCharsets.US_ASCII)), 0);
      channel.force(true);
    } catch (IOException e) {
      // the pid only improves other processes' error messages; the lock itself is held
      LOG.warn("cannot write the holder pid into {}: {}", lockFile, e.toString());
    }
  }

  private static void closeQuietly(FileChannel channel) {
    if (channel == null) {
      return;
    }
    try {
      channel.close();
    } catch (IOException e) {
      // closing releases the lock anyway; nothing else to do on a failed close
      LOG.debug("cannot close lock channel: {}", e.toString());
    }
  }

  /**
   * The held lock: releases the OS lock (if any: a read-only store without a lock file has none),
   * then the in-process permit.
   */
  private final class Held extends HeldLock {
    private final FileChannel channel;
    private final FileLock osLock;

    Held(Semaphore permit, FileChannel channel, FileLock osLock) {
      super(monitor, permit);
      this.channel = channel;
      this.osLock = osLock;
    }

    @Override
    void release() {
      if (held == this) {
        compactAtRelease();
        held = null;
      }
      if (osLock != null) {
        try {
          osLock.release();
        } catch (IOException e) {
          // closing the channel below releases it too
          LOG.debug("cannot release lock of {}: {}", dir, e.toString());
        }
      }
      closeQuietly(channel);
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
      if (held != null && snapshot != null && refusal == null && snapshot.serial == serial) {
        return new StoredState(serial, snapshot.inventory, snapshot.pending, attempted, applied, false);
      }
      snapshot = null;
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
    checkFormat(!fresh);
    long metaSerial = 0;
    String att = "";
    String app = "";
    StoreCodec.Accounting accounting = null;
    if (!fresh) {
      JsonNode meta = readJson(metaFile);
      try {
        metaSerial = StoreCodec.longValue(meta, "serial");
        att = StoreCodec.text(meta, "lastAttemptedRevision");
        app = StoreCodec.text(meta, "lastAppliedRevision");
        accounting = StoreCodec.accounting(meta);
      } catch (StoreCodec.BadContentException e) {
        throw corrupt(metaFile, e.getMessage(), e);
      }
      requireLayout(metaSerial);
    }
    boolean locked = held != null;
    boolean clean = locked && !readOnly;
    if (clean) {
      cleanRootTempFiles();
    }
    List<Path> inventoryFiles = keyFiles(inventoryDir, clean, true);
    List<Path> pendingFiles = keyFiles(pendingDir, clean, true);
    TreeMap<ResourceKey, StoredResource> inventory = new TreeMap<>();
    long maxSerial = metaSerial;
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
    TreeMap<ResourceKey, Resource> pending = new TreeMap<>();
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
    JournalDelta journal = Files.exists(journalFile) ? readJournal(false) : new JournalDelta();
    if (accounting != null) {
      // after reading every entry, so that a bad file is named before the count it throws off
      checkAccounting(accounting, inventoryFiles, pendingFiles, metaSerial, journal);
    }
    if (fresh && !(inventory.isEmpty() && pending.isEmpty() && journal.isEmpty())) {
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
    if (maxSerial > metaSerial) {
      LOG.warn("store {}: an inventory entry has serial {} above meta.json's {}; continuing from the higher",
          dir, maxSerial, metaSerial);
    }
    if (locked) {
      serial = maxSerial;
      attempted = att;
      applied = app;
      if (!readOnly) {
        delta = journal;
        journalEnd = scanEnd;
      }
      metaCompacting = accounting != null && accounting.compacting() && !journal.isEmpty();
      if (metaCompacting) {
        // a compaction is under way: its meta.json counts are those it will leave
        inventoryCount = accounting.inventory();
        pendingCount = accounting.pending();
      } else {
        inventoryCount = inventoryFiles.size();
        pendingCount = pendingFiles.size();
      }
      if (!fresh) {
        snapshot = new Snapshot(new TreeMap<>(inventory), new TreeMap<>(pending), maxSerial);
      }
    }
    return new StoredState(maxSerial, inventory, pending, att, app, fresh);
  }

  /** Checks the format file; {@code required} when the store has content. */
  private void checkFormat(boolean required) {
    Path f = dir.resolve("format");
    if (!Files.exists(f)) {
      if (required) {
        throw corrupt(f, "missing while meta.json exists", null);
      }
      return;
    }
    String text;
    try {
      text = new String(Files.readAllBytes(f), StandardCharsets.UTF_8).trim();
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
  }

  /**
   * Once meta.json exists, the directories it accounts for must too: a missing one is damage
   * (taking it as empty would orphan what it held), never recreated.
   */
  private void requireLayout(long metaSerial) {
    for (Path d : List.of(inventoryDir, pendingDir, historyDir)) {
      if (!Files.isDirectory(d)) {
        throw corrupt(d, (Files.exists(d) ? "is not a directory" : "is missing") + " while meta.json (serial "
            + metaSerial + ") accounts for it", null);
      }
    }
  }

  /**
   * The key directories hold exactly what meta.json counts, the entry a write was busy with aside.
   * While a journal exists the per-key files are as it found them, unless meta.json says a
   * compaction is under way: then its counts are those after the compaction, and the files of the
   * keys the journal sets may stand either way, so only the others are counted.
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

  private JsonNode readJson(Path f) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(f);
    } catch (IOException e) {
      throw corrupt(f, "unreadable: " + e, e);
    }
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

  /** Deletes temp files of crashed writes of meta.json and format (the caller holds the lock). */
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
   * Rereads meta.json after taking the lock: another process may have written since. The entry
   * counts follow from its accounting (the entry in flight counted as it stands); the directories
   * it accounts for must exist.
   */
  private void refreshMeta() {
    Path metaFile = dir.resolve("meta.json");
    serial = 0;
    attempted = "";
    applied = "";
    layoutReady = false;
    inventoryCount = -1;
    pendingCount = -1;
    delta = null;
    journalEnd = 0;
    metaCompacting = false;
    if (!Files.exists(metaFile)) {
      return;
    }
    try {
      JsonNode meta = readJson(metaFile);
      serial = StoreCodec.longValue(meta, "serial");
      attempted = StoreCodec.text(meta, "lastAttemptedRevision");
      applied = StoreCodec.text(meta, "lastAppliedRevision");
      requireLayout(serial);
      StoreCodec.Accounting a = StoreCodec.accounting(meta);
      if (a != null) {
        metaCompacting = a.compacting();
        boolean named = !a.entry().isEmpty();
        inventoryCount = a.inventory() + (named && Files.exists(inventoryDir.resolve(a.entry())) ? 1 : 0);
        pendingCount = a.pending() + (named && Files.exists(pendingDir.resolve(a.entry())) ? 1 : 0);
      }
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
   * Runs a mutation: checks the lock, writes meta.json with the next serial and the entry counts
   * of every key file but {@code entry} (the one file name the step may create or delete in
   * inventory/ and pending/, "" for none), then the step.
   */
  private long mutate(String what, String entry, Step step) {
    synchronized (monitor) {
      requireWritable(what);
      try {
        ensureLayout();
        countEntries();
        Path inv = entry.isEmpty() ? null : inventoryDir.resolve(entry);
        Path pend = entry.isEmpty() ? null : pendingDir.resolve(entry);
        long invOthers = inventoryCount - (inv != null && Files.exists(inv) ? 1 : 0);
        long pendOthers = pendingCount - (pend != null && Files.exists(pend) ? 1 : 0);
        long next = serial + 1;
        // meta first: after a crash the serial may have skipped a number, never gone back, and
        // the counts hold whichever way the crash left the entry
        write(dir.resolve("meta.json"), StoreCodec.bytes(StoreCodec.meta(next, attempted, applied,
            new StoreCodec.Accounting(invOthers, pendOthers, entry))));
        serial = next;
        metaCompacting = false;
        inventoryCount = -1;
        pendingCount = -1;
        step.run(next);
        inventoryCount = invOthers + (inv != null && Files.exists(inv) ? 1 : 0);
        pendingCount = pendOthers + (pend != null && Files.exists(pend) ? 1 : 0);
        if (snapshot != null) {
          snapshot.serial = next;
        }
        return next;
      } catch (IOException | RuntimeException e) {
        snapshot = null;
        if (e instanceof RuntimeException re) {
          throw re;
        }
        throw new StoreException("store " + dir + ": cannot " + what + ": " + e, e);
      }
    }
  }

  /** Counts the key files once when neither a full read nor meta.json gave the counts (a store written before them). */
  private void countEntries() {
    if (inventoryCount < 0 || pendingCount < 0) {
      inventoryCount = keyFiles(inventoryDir, true, true).size();
      pendingCount = keyFiles(pendingDir, true, true).size();
    }
  }

  /** A durable write of a store file, reported to the write listener around its rename. */
  private void write(Path target, byte[] bytes) throws IOException {
    DurableFiles.write(target, bytes, () -> options.writeListener().onWrite(target, false));
    options.writeListener().onWrite(target, true);
  }

  /** A durable delete of a store file (if present), reported to the write listener. */
  private void delete(Path target) throws IOException {
    if (!Files.exists(target)) {
      return;
    }
    options.writeListener().onWrite(target, false);
    DurableFiles.delete(target);
    options.writeListener().onWrite(target, true);
  }

  private void requireWritable(String what) {
    requireOpen();
    if (readOnly) {
      throw new IllegalStateException("store " + dir + " was opened read-only: cannot " + what);
    }
    if (refusal != null) {
      if (refusal instanceof StoreCorruptException) {
        throw new StoreCorruptException("store " + dir + " refuses to " + what + ": " + refusal.getMessage(), refusal);
      }
      throw new StoreException("store " + dir + " refuses to " + what + ": " + refusal.getMessage(), refusal);
    }
    if (held == null) {
      throw new IllegalStateException("store " + dir + ": " + what + " needs the store lock; call lock() first");
    }
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("store " + dir + " is closed");
    }
  }

  private void ensureLayout() throws IOException {
    if (layoutReady) {
      return;
    }
    if (Files.exists(dir.resolve("meta.json"))) {
      // A written store: what is missing now was lost, and recreating it empty would hide that.
      checkFormat(true);
      requireLayout(serial);
    } else {
      Path format = dir.resolve("format");
      if (Files.exists(format)) {
        checkFormat(true);
      } else {
        write(format, (FORMAT + "\n").getBytes(StandardCharsets.US_ASCII));
      }
      DurableFiles.createPrivateDirectory(inventoryDir);
      DurableFiles.createPrivateDirectory(pendingDir);
      DurableFiles.createPrivateDirectory(historyDir);
    }
    layoutReady = true;
  }

  @Override
  public void writePending(Resource desired) {
    Objects.requireNonNull(desired, "desired");
    if (journalActive()) {
      writeBatch(StoreBatch.builder().pending(desired).build());
      return;
    }
    mutate("write pending " + desired.key(), KeyFileNames.of(desired.key()), s -> {
      write(pendingDir.resolve(KeyFileNames.of(desired.key())), StoreCodec.bytes(StoreCodec.pendingEntry(desired)));
      if (snapshot != null) {
        snapshot.pending.put(desired.key(), desired);
      }
    });
    LOG.debug("store {}: pending {} from {}", dir, desired.key(), desired.origin());
  }

  @Override
  public StoredResource commit(Resource lastApplied, String revision) {
    Objects.requireNonNull(lastApplied, "lastApplied");
    Objects.requireNonNull(revision, "revision");
    if (journalActive()) {
      return writeBatch(StoreBatch.builder().applied(lastApplied, revision).build()).get(0);
    }
    StoredResource[] out = new StoredResource[1];
    String name = KeyFileNames.of(lastApplied.key());
    mutate("commit " + lastApplied.key(), name, s -> {
      StoredResource stored = new StoredResource(lastApplied, s, revision);
      // inventory before pending: a crash in between leaves both, and both count as owned
      write(inventoryDir.resolve(name), StoreCodec.bytes(StoreCodec.inventoryEntry(stored)));
      delete(pendingDir.resolve(name));
      out[0] = stored;
      if (snapshot != null) {
        snapshot.inventory.put(lastApplied.key(), stored);
        snapshot.pending.remove(lastApplied.key());
      }
    });
    LOG.debug("store {}: committed {} at {}", dir, lastApplied.key(), revision);
    return out[0];
  }

  @Override
  public void clearPending(ResourceKey key) {
    Objects.requireNonNull(key, "key");
    if (journalActive()) {
      writeBatch(new StoreBatch(List.of(new StoreBatch.ClearPending(key))));
      return;
    }
    mutate("clear pending " + key, KeyFileNames.of(key), s -> {
      delete(pendingDir.resolve(KeyFileNames.of(key)));
      if (snapshot != null) {
        snapshot.pending.remove(key);
      }
    });
  }

  @Override
  public void forget(ResourceKey key) {
    Objects.requireNonNull(key, "key");
    if (journalActive()) {
      writeBatch(StoreBatch.builder().forget(key).build());
      return;
    }
    String name = KeyFileNames.of(key);
    mutate("forget " + key, name, s -> {
      // pending first: a crash in between leaves last-applied of an absent object, which the
      // next sync drops from the inventory (the "L but not V" row)
      delete(pendingDir.resolve(name));
      delete(inventoryDir.resolve(name));
      if (snapshot != null) {
        snapshot.pending.remove(key);
        snapshot.inventory.remove(key);
      }
    });
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
        mutate("record revisions", "", s -> { });
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
    mutate("append history " + entry.id(), "", s -> {
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


  // ------------------------------------------------------------------------------------ journal

  /**
   * Whether single writes must go to the journal too: once it holds records, a per-key file
   * written beside it would be overwritten by the journal's older word on that key at replay.
   */
  private boolean journalActive() {
    synchronized (monitor) {
      return delta != null && !delta.isEmpty();
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>The batch is one record appended to the journal file and forced once (fdatasync), instead
   * of a temp file, fsync, rename and directory fsync per key and per meta.json update. The
   * journal is folded into the per-key files when the lock is released (at the end of a sync), or
   * at the next lock after a crash. With {@link Options#journal()} off, the ops are written one
   * per-key file at a time.
   */
  /** True with the journal on: a batch's in-sync proofs are kept with their entries. */
  @Override
  public boolean keepsInSync() {
    return options.journal();
  }

  @Override
  public List<StoredResource> writeBatch(StoreBatch batch) {
    Objects.requireNonNull(batch, "batch");
    if (batch.isEmpty()) {
      return List.of();
    }
    if (!options.journal()) {
      // the journal off: every op through the per-key protocol, as stores wrote before the journal
      return batch.writeOneByOne(this);
    }
    String what = "write a batch of " + batch.ops().size() + " records";
    synchronized (monitor) {
      requireWritable(what);
      try {
        ensureLayout();
        countEntries();
        if (delta == null || delta.isEmpty()) {
          startJournal();
        }
        List<JournalDelta.Entry> entries = new ArrayList<>(batch.ops().size());
        List<StoredResource> applied = new ArrayList<>();
        long s = serial;
        for (StoreBatch.Op op : batch.ops()) {
          s++;
          if (op instanceof StoreBatch.Pending p) {
            entries.add(new JournalDelta.Entry("pending", p.key(), s, p.desired(), null));
          } else if (op instanceof StoreBatch.Applied a) {
            entries.add(new JournalDelta.Entry("applied", a.key(), s, a.lastApplied(), a.revision(), a.inSync()));
            applied.add(new StoredResource(a.lastApplied(), s, a.revision(), a.inSync()));
          } else if (op instanceof StoreBatch.Forget) {
            entries.add(new JournalDelta.Entry("forget", op.key(), s, null, null));
          } else {
            entries.add(new JournalDelta.Entry("clear", op.key(), s, null, null));
          }
        }
        append(StoreJournal.frame(JournalDelta.encode(entries)));
        serial = s;
        for (JournalDelta.Entry e : entries) {
          fold(e);
        }
        if (snapshot != null) {
          snapshot.serial = s;
        }
        LOG.debug("store {}: journaled {} records up to serial {}", dir, entries.size(), s);
        return List.copyOf(applied);
      } catch (IOException | RuntimeException e) {
        snapshot = null;
        if (e instanceof RuntimeException re) {
          throw re;
        }
        throw new StoreException("store " + dir + ": cannot " + what + ": " + e, e);
      }
    }
  }

  /** A journaled op, now durable, folded into the delta and the snapshot. */
  private void fold(JournalDelta.Entry e) {
    switch (e.op()) {
      case "pending" -> {
        delta.pending(e.resource(), e.serial());
        if (snapshot != null) {
          snapshot.pending.put(e.key(), e.resource());
        }
      }
      case "applied" -> {
        StoredResource stored = new StoredResource(e.resource(), e.serial(), e.revision(), e.inSync());
        delta.applied(stored);
        if (snapshot != null) {
          snapshot.inventory.put(e.key(), stored);
          snapshot.pending.remove(e.key());
        }
      }
      case "forget" -> {
        delta.forget(e.key(), e.serial());
        if (snapshot != null) {
          snapshot.inventory.remove(e.key());
          snapshot.pending.remove(e.key());
        }
      }
      default -> {
        delta.clearPending(e.key(), e.serial());
        if (snapshot != null) {
          snapshot.pending.remove(e.key());
        }
      }
    }
  }

  /**
   * Before the first record of a journal: meta.json with the serial and the counts of the per-key
   * files as the journal finds them (no compaction under way), so that a store first written
   * through the journal is not taken for a fresh one, and the counts check out until compaction.
   */
  private void startJournal() throws IOException {
    write(dir.resolve("meta.json"), StoreCodec.bytes(StoreCodec.meta(serial, attempted, applied,
        new StoreCodec.Accounting(inventoryCount, pendingCount, ""))));
    metaCompacting = false;
    delta = new JournalDelta();
  }

  /**
   * Appends one record at the end of the whole records and forces it. Any failure leaves this
   * object refusing writes: the file may end in part of the record, which only a new lock (that
   * cuts a torn tail) may clean up.
   */
  private void append(byte[] record) throws IOException {
    WriteListener listener = options.writeListener();
    boolean created = !Files.exists(journalFile);
    try {
      listener.onJournal(JournalPoint.APPEND_STARTED, journalFile);
      try (FileChannel ch = FileChannel.open(journalFile, EnumSet.of(StandardOpenOption.CREATE,
          StandardOpenOption.WRITE), CompactionWriter.ownerOnly(journalFile))) {
        if (ch.size() > journalEnd) {
          ch.truncate(journalEnd);
        }
        int half = record.length / 2;
        writeFully(ch, ByteBuffer.wrap(record, 0, half), journalEnd);
        listener.onJournal(JournalPoint.APPEND_HALF_WRITTEN, journalFile);
        writeFully(ch, ByteBuffer.wrap(record, half, record.length - half), journalEnd + half);
        listener.onJournal(JournalPoint.APPENDED, journalFile);
        ch.force(false);
      }
      if (created) {
        DurableFiles.forceDirectory(dir);
      }
    } catch (IOException | RuntimeException | Error e) {
      refusal = new StoreException("store " + dir + ": appending to the journal " + journalFile + " at byte offset "
          + journalEnd + " failed (" + e + "); this store object refuses writes, reopen the store", e);
      throw e;
    }
    journalEnd += record.length;
    listener.onJournal(JournalPoint.SYNCED, journalFile);
  }

  private static void writeFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    long at = position;
    while (buf.hasRemaining()) {
      at += ch.write(buf, at);
    }
  }

  /** Where the last {@link #readJournal} found the whole records to end. */
  private long scanEnd;

  /**
   * The journal's records folded in order. A torn tail (see {@link StoreJournal}) is ignored, and
   * cut off when {@code repair} (writable, under the lock); anything else that does not check out
   * is corruption naming the file and the byte offset.
   */
  private JournalDelta readJournal(boolean repair) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(journalFile);
    } catch (NoSuchFileException e) {
      scanEnd = 0;
      return new JournalDelta();
    } catch (IOException e) {
      throw corrupt(journalFile, "unreadable: " + e, e);
    }
    StoreJournal.Scan scan;
    try {
      scan = StoreJournal.scan(bytes);
    } catch (StoreJournal.DamageException e) {
      throw corrupt(journalFile, e.getMessage(), e);
    }
    JournalDelta d = new JournalDelta();
    for (StoreJournal.Record r : scan.records()) {
      try {
        d.replay(r.payload(), d.serial());
      } catch (StoreCodec.BadContentException e) {
        throw corrupt(journalFile, "at byte offset " + r.offset() + ": " + e.getMessage(), e);
      }
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
    return d;
  }

  /**
   * At the lock: a journal still there was left by a crash (or a compaction that failed). It is
   * replayed and compacted now, so every sync starts from the per-key files alone. A failure
   * forbids writes (load still reads the journal); corruption is reported by {@link #load}.
   */
  private void recoverJournal() {
    if (refusal != null || !Files.exists(journalFile)) {
      return;
    }
    try {
      JournalDelta d = readJournal(true);
      if (!d.isEmpty() && !Files.exists(dir.resolve("meta.json"))) {
        throw corrupt(journalFile, "holds " + d.touched().size() + " keys while meta.json is missing", null);
      }
      delta = d;
      journalEnd = scanEnd;
      serial = Math.max(serial, d.serial());
      LOG.info("store {}: compacting the journal a crash left ({} keys, up to serial {})", dir, d.touched().size(),
          d.serial());
      compact();
    } catch (StoreException e) {
      if (refusal == null) {
        refusal = e;
      }
      LOG.debug("store {}: {}", dir, e.getMessage());
    } catch (IOException e) {
      refusal = new StoreException("store " + dir + ": cannot compact the journal " + journalFile + ": " + e, e);
      LOG.warn("{}", refusal.getMessage());
    }
  }

  /** At the end of a sync (the lock's release): folds the journal into the per-key files. */
  private void compactAtRelease() {
    if (readOnly || refusal != null || delta == null) {
      return;
    }
    try {
      compact();
    } catch (IOException | RuntimeException e) {
      // nothing is lost: the journal stays, and the next lock replays and compacts it
      LOG.warn("store {}: compacting the journal {} failed ({}); the next lock replays and compacts it", dir,
          journalFile, e.toString());
      delta = null;
    }
  }

  /**
   * Folds the journal into the per-key files, in an order where a crash anywhere leaves a store
   * that loads the same: meta.json first with the counts the files will have (and the mark that a
   * compaction is under way); then every file the journal sets, written to a temp file and forced
   * (in parallel), renamed, and every file it removes deleted; each key directory forced once; then
   * the journal deleted and meta.json rewritten without the mark. Until the journal is gone a
   * replay sets every file it touches again, whichever way the crash left it.
   */
  private void compact() throws IOException {
    WriteListener listener = options.writeListener();
    JournalDelta d = delta == null ? new JournalDelta() : delta;
    listener.onJournal(JournalPoint.COMPACTION_STARTED, journalFile);
    if (!d.isEmpty()) {
      countEntries();
      long inv = inventoryCount;
      long pend = pendingCount;
      List<Path[]> renames = new ArrayList<>();
      List<byte[]> contents = new ArrayList<>();
      List<Path> deletes = new ArrayList<>();
      for (JournalDelta.Touch t : d.touched().values()) {
        String name = KeyFileNames.of(t.key);
        if (t.inventorySet) {
          Path f = inventoryDir.resolve(name);
          inv += (t.inventory != null ? 1 : 0) - (!metaCompacting && Files.exists(f) ? 1 : 0);
          plan(f, t.inventory == null ? null : StoreCodec.bytes(StoreCodec.inventoryEntry(t.inventory)), renames,
              contents, deletes);
        }
        if (t.pendingSet) {
          Path f = pendingDir.resolve(name);
          pend += (t.pending != null ? 1 : 0) - (!metaCompacting && Files.exists(f) ? 1 : 0);
          plan(f, t.pending == null ? null : StoreCodec.bytes(StoreCodec.pendingEntry(t.pending)), renames, contents,
              deletes);
        }
      }
      if (metaCompacting) {
        // an earlier compaction of this very journal wrote the counts it leaves
        inv = inventoryCount;
        pend = pendingCount;
      } else {
        write(dir.resolve("meta.json"), StoreCodec.bytes(StoreCodec.meta(serial, attempted, applied,
            new StoreCodec.Accounting(inv, pend, "", true))));
        metaCompacting = true;
        inventoryCount = inv;
        pendingCount = pend;
      }
      CompactionWriter.writeAndForce(renames, contents);
      for (Path[] r : renames) {
        listener.onWrite(r[1], false);
        try {
          Files.move(r[0], r[1], StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
          throw new IOException("cannot rename " + r[0] + " atomically over " + r[1], e);
        }
        listener.onWrite(r[1], true);
      }
      for (Path f : deletes) {
        listener.onWrite(f, false);
        Files.deleteIfExists(f);
        listener.onWrite(f, true);
      }
      DurableFiles.forceDirectory(inventoryDir);
      DurableFiles.forceDirectory(pendingDir);
    }
    listener.onJournal(JournalPoint.COMPACTED, journalFile);
    if (Files.deleteIfExists(journalFile)) {
      DurableFiles.forceDirectory(dir);
    }
    listener.onJournal(JournalPoint.JOURNAL_REMOVED, journalFile);
    if (metaCompacting) {
      write(dir.resolve("meta.json"), StoreCodec.bytes(StoreCodec.meta(serial, attempted, applied,
          new StoreCodec.Accounting(inventoryCount, pendingCount, ""))));
      metaCompacting = false;
    }
    delta = null;
    journalEnd = 0;
    LOG.debug("store {}: compacted the journal ({} keys) at serial {}", dir, d.touched().size(), serial);
  }

  /** A file compaction writes (through a temp file beside it) or deletes ({@code bytes} null). */
  private static void plan(Path target, byte[] bytes, List<Path[]> renames, List<byte[]> contents, List<Path> deletes) {
    if (bytes == null) {
      if (Files.exists(target)) {
        deletes.add(target);
      }
    } else {
      renames.add(new Path[] {DurableFiles.tempBeside(target), target});
      contents.add(bytes);
    }
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
   * which fails when another process created it first, and then that key is used.
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

  private byte[] readSecret(Path f) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(f);
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

  /** The inventory and pending entries as of {@code serial}, kept while this object holds the lock. */
  private static final class Snapshot {
    final TreeMap<ResourceKey, StoredResource> inventory;
    final TreeMap<ResourceKey, Resource> pending;
    long serial;

    Snapshot(TreeMap<ResourceKey, StoredResource> inventory, TreeMap<ResourceKey, Resource> pending, long serial) {
      this.inventory = inventory;
      this.pending = pending;
      this.serial = serial;
    }
  }
}
