package dev.gitops.terraform.internal;

import dev.gitops.core.internal.Durations;
import dev.gitops.core.internal.fs.LockFile;
import dev.gitops.terraform.TerraformException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The exclusive lock of one working directory, held for a session that writes it (configuration,
 * init, plan, apply): an OS lock ({@link LockFile}) on {@code .gitops-terraform/session.lock}
 * against other processes, and, since an OS lock is held per process, a lock of this JVM keyed by
 * the directory's real path against another provider in this process. The lock file holds its
 * holder's description (pid, host, what it does, since when) for the message of one who waits;
 * the operating system releases the lock when its process ends, so a lock that is held has a
 * living holder.
 */
public final class DirectoryLock {

  /** The lock file under the provider's own directory. */
  public static final String FILE = "session.lock";
  /** Touched by one who waits for the lock: a holder only keeping it between a plan and its apply yields. */
  public static final String WANTED = "session.wanted";

  private static final Map<Path, Semaphore> IN_JVM = new ConcurrentHashMap<>();
  private static final Map<Path, String> IN_JVM_HOLDERS = new ConcurrentHashMap<>();
  private static final Duration POLL = Duration.ofMillis(100);

  private final Path real;
  private final Path file;
  private final Semaphore semaphore;
  private final LockFile lock;
  private boolean released;

  private DirectoryLock(Path real, Path file, Semaphore semaphore, LockFile lock) {
    this.real = real;
    this.file = file;
    this.semaphore = semaphore;
    this.lock = lock;
  }

  /** This process's id, as a holder is described. */
  public static long pid() {
    return ProcessHandle.current().pid();
  }

  /**
   * Takes the lock of {@code dir}, waiting up to {@code wait} (and not past {@code cancelled}) for
   * its holder, described as {@code holder} while it is held.
   *
   * @throws TerraformException naming the directory and its holder when it is not free in time
   */
  public static DirectoryLock acquire(WorkingDirectory dir, String holder, Duration wait, BooleanSupplier cancelled) {
    Path file = dir.own().resolve(FILE);
    Path real;
    try {
      real = dir.root().toRealPath();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot resolve the working directory " + dir.root() + ": " + e.getMessage(), e);
    }
    long deadline = System.nanoTime() + wait.toNanos();
    String description = "pid " + pid() + " (" + System.getProperty("user.name", "?") + "@" + Host.NAME + "), " + holder
        + ", since " + Instant.now();
    Semaphore semaphore = IN_JVM.computeIfAbsent(real, p -> new Semaphore(1, true));
    Path wanted = file.resolveSibling(WANTED);
    if (!waitFor(semaphore, wanted, deadline, cancelled)) {
      throw busy(dir, "another provider of this process: " + IN_JVM_HOLDERS.getOrDefault(real, "(unknown)"), wait,
          cancelled);
    }
    LockFile lock = null;
    boolean held = false;
    try {
      // never through a link (LockFile refuses one): the holder's line is written over what the file holds;
      // owner-only as the state store's lock, since that line says who runs what, where and since when
      lock = LockFile.open(file, LockFile.Option.PRIVATE);
      // a channel of this JVM holding it (not through this class) is a holder all the same; a
      // waiter says it wants the lock at every poll
      if (!lock.poll(deadline, POLL, cancelled, () -> want(wanted))) {
        String who = holderOf(lock);
        throw busy(dir, "another process: " + (who.isEmpty() ? "(it has not said who it is yet)" : who), wait,
            cancelled);
      }
      Files.deleteIfExists(wanted);
      lock.writeHolder(description + "\n", true);
      IN_JVM_HOLDERS.put(real, description);
      held = true;
      return new DirectoryLock(real, file, semaphore, lock);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot lock the working directory " + dir.root() + " (" + file + "): "
          + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TerraformException("interrupted while waiting for the lock of the working directory " + dir.root());
    } finally {
      if (!held) {
        if (lock != null) {
          close(lock);
        }
        semaphore.release();
      }
    }
  }

  /** Whether someone waits for this lock ({@link #WANTED}). */
  public boolean wanted() {
    return Files.exists(file.resolveSibling(WANTED));
  }

  private static void want(Path wanted) {
    try {
      Files.createFile(wanted);  // never through a link, dangling or not
    } catch (FileAlreadyExistsException e) {
      // wanted already (or something else is there): the holder sees it all the same
    } catch (IOException e) {
      // The holder then keeps the lock until its apply or its bound: a longer wait, nothing worse.
    }
  }

  /**
   * What the holder wrote of itself: its first 512 bytes, control characters dropped (the file is
   * anyone's to write, and its text goes into an error and the log); "" when unreadable.
   */
  private static String holderOf(LockFile lock) {
    try {
      String text = lock.holder(512);
      return text.codePoints().filter(c -> !Character.isISOControl(c))
          .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString().strip();
    } catch (IOException e) {
      return "";  // described as not having said who it is
    }
  }

  /** Releases the lock (once; later calls do nothing). */
  public synchronized void release() {
    if (released) {
      return;
    }
    released = true;
    IN_JVM_HOLDERS.remove(real);
    try {
      lock.clearHolder();  // a holder that is gone is not described to the next one who waits
    } catch (IOException e) {
      // Closing below releases the lock all the same.
    } finally {
      close(lock);
      semaphore.release();
    }
  }

  private static boolean waitFor(Semaphore s, Path wanted, long deadline, BooleanSupplier cancelled) {
    try {
      while (!s.tryAcquire(POLL.toMillis(), TimeUnit.MILLISECONDS)) {
        // said at every poll, as a waiter in another process does: each new holder deletes it
        want(wanted);
        if (cancelled.getAsBoolean() || System.nanoTime() - deadline >= 0) {
          return false;
        }
      }
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static TerraformException busy(WorkingDirectory dir, String holder, Duration wait, BooleanSupplier cancelled) {
    return new TerraformException("the Terraform working directory " + dir.root() + " is in use by " + holder
        + "; " + (cancelled.getAsBoolean() ? "cancelled while waiting for it"
            : "waited " + Durations.human(wait) + " for it")
        + ". One gitops session at a time writes a working directory (its configuration, init, plan and apply); "
        + "nothing was written or planned: run again once that one is done");
  }

  private static void close(LockFile lock) {
    try {
      lock.close();
    } catch (IOException e) {
      // Closing releases the lock; a failure to close leaves nothing to do.
    }
  }

  /** This host's name, looked up once (a lookup may wait on DNS), not at every lock. */
  private static final class Host {
    static final String NAME = lookup();

    private static String lookup() {
      try {
        return java.net.InetAddress.getLocalHost().getHostName();
      } catch (IOException e) {
        return "localhost";  // only a description of the holder
      }
    }
  }
}
