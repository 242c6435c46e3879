package dev.gitops.core;

import dev.gitops.api.Cancellation;
import dev.gitops.api.SyncResult;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link Reconciler#sync} periodically: with jitter, with exponential backoff after
 * failures (an INCOMPLETE sync counts as one), on demand with {@link #trigger()}, paused with
 * {@link #suspend()}, and pinned to one
 * revision with {@link #pin} (what a rollback uses, so the loop does not undo it). At most one
 * sync is in flight; {@link #newRevision()} cancels the one in flight (and any health wait in
 * it) and starts over. A sync that throws anything — an {@code Error} from a provider or a
 * listener included — is logged at ERROR, kept as {@link #lastError()}, and backed off from; the
 * loop goes on.
 *
 * <pre>{@code
 * try (ReconcileLoop loop = ReconcileLoop.builder(reconciler).interval(Duration.ofMinutes(3)).build()) {
 *   loop.start();
 *   // ... a webhook arrives:
 *   loop.newRevision();
 * }
 * }</pre>
 */
public final class ReconcileLoop implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ReconcileLoop.class);

  private final Reconciler reconciler;
  private final Gate gate;
  private final Duration interval;
  private final double jitter;
  private final Duration maxBackoff;
  private final Random random;
  private final ScheduledExecutorService scheduler;
  private final AtomicReference<ScheduledFuture<?>> next = new AtomicReference<>();
  private final AtomicReference<Cancellation> inFlight = new AtomicReference<>();
  private final AtomicReference<SyncResult> lastResult = new AtomicReference<>();
  private final AtomicReference<Throwable> lastError = new AtomicReference<>();
  private final AtomicInteger failures = new AtomicInteger();
  private final AtomicInteger runs = new AtomicInteger();
  private final AtomicInteger skipped = new AtomicInteger();
  /** Set by trigger(); a run consumes it when it starts, and runs again at once if it was set meanwhile. */
  private final java.util.concurrent.atomic.AtomicBoolean triggered = new java.util.concurrent.atomic.AtomicBoolean();
  private volatile boolean suspended;
  private volatile boolean started;
  private volatile boolean closed;
  private volatile String pinned;

  private ReconcileLoop(Builder b) {
    this.reconciler = b.reconciler;
    this.gate = b.gate;
    this.interval = b.interval;
    this.jitter = b.jitter;
    this.maxBackoff = b.maxBackoff;
    this.random = new Random(b.seed);
    this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "gitops-loop");
      t.setDaemon(true);
      return t;
    });
  }

  /** A builder for a loop around {@code reconciler}. */
  public static Builder builder(Reconciler reconciler) {
    return new Builder(reconciler);
  }

  /** Starts the loop: the first sync runs at once. */
  public synchronized void start() {
    if (closed) {
      throw new IllegalStateException("loop is closed");
    }
    if (!started) {
      started = true;
      schedule(Duration.ZERO);
    }
  }

  /** Runs a sync as soon as the one in flight (if any) is done. */
  public void trigger() {
    if (started && !closed) {
      triggered.set(true);
      schedule(Duration.ZERO);
    }
  }

  /** A new revision arrived: cancels the sync in flight (and its health waits) and syncs again. */
  public void newRevision() {
    Cancellation c = inFlight.get();
    if (c != null) {
      c.cancel("a new revision arrived");
    }
    trigger();
  }

  /** Skips syncs until {@link #resume()}. */
  public void suspend() {
    suspended = true;
  }

  /** Resumes syncing and syncs at once. */
  public void resume() {
    suspended = false;
    trigger();
  }

  /** Syncs {@code revision} instead of the head until {@link #unpin()}. */
  public void pin(String revision) {
    this.pinned = Objects.requireNonNull(revision, "revision");
  }

  /** Follows the head again. */
  public void unpin() {
    this.pinned = null;
  }

  /** The revision the loop is pinned to; empty while it follows the head. */
  public Optional<String> pinnedRevision() {
    return Optional.ofNullable(pinned);
  }

  /** Whether the loop is suspended. */
  public boolean isSuspended() {
    return suspended;
  }

  /** The result of the last completed sync; empty until one completed. */
  public Optional<SyncResult> lastResult() {
    return Optional.ofNullable(lastResult.get());
  }

  /** The error of the last sync if it threw; empty when the last sync returned a result. */
  public Optional<Throwable> lastError() {
    return Optional.ofNullable(lastError.get());
  }

  /** How many syncs ran (skipped ones while suspended do not count). */
  public int runs() {
    return runs.get();
  }

  /** How many scheduled syncs were skipped because the loop was suspended. */
  public int skippedRuns() {
    return skipped.get();
  }

  /** Consecutive failed syncs. */
  public int consecutiveFailures() {
    return failures.get();
  }

  private synchronized void schedule(Duration delay) {
    if (closed) {
      return;
    }
    ScheduledFuture<?> old = next.get();
    if (old != null && !old.isDone()) {
      if (old.getDelay(TimeUnit.MILLISECONDS) <= delay.toMillis()) {
        return;
      }
      old.cancel(false);
    }
    next.set(scheduler.schedule(this::runOnce, delay.toMillis(), TimeUnit.MILLISECONDS));
  }

  private void runOnce() {
    if (closed) {
      return;
    }
    synchronized (this) {
      // This run is no longer "the next one": later schedule() calls must plan a new run.
      next.set(null);
    }
    if (suspended) {
      skipped.incrementAndGet();
      schedule(nextDelay(false));
      return;
    }
    triggered.set(false);
    Cancellation c = new Cancellation();
    inFlight.set(c);
    boolean ok = false;
    try {
      String revision = pinned;
      SyncResult r = gate.run(c, () -> reconciler.sync(revision, c));
      lastResult.set(r);
      lastError.set(null);
      ok = r.isSuccessful();
    } catch (Throwable e) {
      // The loop must survive anything one iteration throws, Errors included (an AssertionError
      // or StackOverflowError from a provider or listener): otherwise the scheduler would drop
      // the task and the loop would stop without a word. The error is kept for callers.
      lastError.set(e);
      String what = pinned == null ? "the head" : pinned;
      if (e instanceof dev.gitops.api.GitOpsException) {
        // An engine error already names what went wrong; its stack adds nothing on every backoff.
        LOG.error("sync of {} failed; backing off: {}", what, e.toString());
      } else {
        LOG.error("sync of {} failed; backing off: {}", what, e.toString(), e);
      }
    } finally {
      inFlight.set(null);
      runs.incrementAndGet();
    }
    if (ok) {
      failures.set(0);
    } else {
      failures.incrementAndGet();
    }
    schedule(triggered.get() ? Duration.ZERO : nextDelay(!ok));
  }

  /** The delay before the next run: the interval with jitter, or a backoff after failures. */
  Duration nextDelay(boolean failed) {
    long base = interval.toMillis();
    if (failed) {
      int n = Math.min(failures.get(), 20);
      long backoff = Math.min(maxBackoff.toMillis(), Math.max(1, base / 8) << Math.max(0, n - 1));
      base = Math.max(1, backoff);
    }
    double spread = 1 + jitter * (2 * random.nextDouble() - 1);
    return Duration.ofMillis(Math.max(1, Math.round(base * spread)));
  }

  /**
   * Stops the loop: a sync in flight is cancelled, and the loop's thread has ended (or a warning
   * says it did not within 10 s) when this returns. The reconciler is not closed: it is the
   * caller's (close it after the loop).
   */
  @Override
  public void close() {
    closed = true;
    Cancellation c = inFlight.get();
    if (c != null) {
      c.cancel("loop closed");
    }
    scheduler.shutdownNow();
    try {
      if (!scheduler.awaitTermination(10, TimeUnit.SECONDS)) {
        LOG.warn("sync loop did not stop within 10 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Runs each sync of a loop. A gate may hold a sync back before running it (an agent bounds the
   * syncs in flight across its loops this way) or decline it by throwing {@link
   * Cancellation.CancelledException}; the loop counts either failure like a failed sync and goes on.
   *
   * <pre>{@code
   * Semaphore slots = new Semaphore(2, true);   // at most two syncs at a time, first come first served
   * ReconcileLoop loop = ReconcileLoop.builder(reconciler).gate((cancellation, sync) -> {
   *   slots.acquireUninterruptibly();
   *   try { return sync.get(); } finally { slots.release(); }
   * }).build();
   * }</pre>
   */
  @FunctionalInterface
  public interface Gate {
    /**
     * Runs {@code sync} (the loop's next sync, cancelled through {@code cancellation}) at most once
     * and returns its result.
     */
    SyncResult run(Cancellation cancellation, Supplier<SyncResult> sync);
  }

  /** Builds a {@link ReconcileLoop}. */
  public static final class Builder {
    private final Reconciler reconciler;
    private Gate gate = (cancellation, sync) -> sync.get();
    private Duration interval = Duration.ofMinutes(3);
    private double jitter = 0.1;
    private Duration maxBackoff = Duration.ofMinutes(10);
    private long seed = System.nanoTime();

    private Builder(Reconciler reconciler) {
      this.reconciler = Objects.requireNonNull(reconciler, "reconciler");
    }

    /** Time between syncs (default 3 minutes). */
    public Builder interval(Duration d) {
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("interval must be positive, got " + d);
      }
      this.interval = d;
      return this;
    }

    /** Relative jitter, 0 to 0.5 (default 0.1). */
    public Builder jitter(double j) {
      if (j < 0 || j > 0.5) {
        throw new IllegalArgumentException("jitter must be in 0..0.5, got " + j);
      }
      this.jitter = j;
      return this;
    }

    /** The longest backoff after failures (default 10 minutes). */
    public Builder maxBackoff(Duration d) {
      this.maxBackoff = Objects.requireNonNull(d, "maxBackoff");
      return this;
    }

    /** The gate every sync passes through (default: none, each sync runs at once). */
    public Builder gate(Gate g) {
      this.gate = Objects.requireNonNull(g, "gate");
      return this;
    }

    /** Seed for the jitter (tests). */
    public Builder seed(long s) {
      this.seed = s;
      return this;
    }

    /** The loop (not started). */
    public ReconcileLoop build() {
      return new ReconcileLoop(this);
    }
  }
}
