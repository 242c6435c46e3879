package dev.gitops.core;

import dev.gitops.api.Cancellation;
import dev.gitops.api.SyncResult;
import dev.gitops.core.internal.loop.Periodic;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
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
 * it) and starts over. A sync that throws anything — an {@code Error} from a provider included —
 * is logged at ERROR, kept as {@link #lastError()}, and backed off from; the loop goes on. A
 * listener that throws fails no sync: the {@link Reconciler} logs it at WARN.
 *
 * <p>A loop stops by itself when its reconciler is {@linkplain Reconciler#close() closed}: a sync
 * in flight finishes first (closing the reconciler waits for it), no sync starts after, one line at
 * INFO says why, and {@link #stopped()} completes; {@link #close()} afterwards does nothing.
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
  private final Periodic periodic;
  private final AtomicReference<Cancellation> inFlight = new AtomicReference<>();
  private final AtomicReference<SyncResult> lastResult = new AtomicReference<>();
  private final AtomicReference<Throwable> lastError = new AtomicReference<>();
  private volatile String pinned;
  /** Completed with why once the loop stopped: closed, or its reconciler was. */
  private final java.util.concurrent.CompletableFuture<String> stopped = new java.util.concurrent.CompletableFuture<>();
  /** Why the loop stops because its reconciler was closed; null until then. */
  private volatile String reconcilerGone;
  /** Removes this loop's hook from its reconciler (on {@link #close()}, so a closed loop is not kept). */
  private final Runnable unhook;

  private ReconcileLoop(Builder b) {
    this.reconciler = b.reconciler;
    this.gate = b.gate;
    this.periodic = b.periodic.build(this::syncOnce);
    this.unhook = reconciler.onClose(this::reconcilerClosed);
  }

  /** A builder for a loop around {@code reconciler}. */
  public static Builder builder(Reconciler reconciler) {
    return new Builder(reconciler);
  }

  /**
   * Starts the loop: the first sync runs at once.
   *
   * @throws IllegalStateException when the loop was closed, or stopped because its reconciler was
   */
  public void start() {
    if (stopped.isDone()) {
      throw new IllegalStateException("the loop of reconciler '" + reconciler.owner() + "' has stopped: "
          + stopped.getNow(""));
    }
    periodic.start();
  }

  /**
   * Completes, with why, once the loop has stopped: after {@link #close()}, or once its reconciler
   * was closed (then no sync runs or starts any more).
   *
   * <pre>{@code
   * ReconcileLoop loop = ReconcileLoop.builder(reconciler).build();
   * loop.stopped().thenAccept(why -> log.info("loop stopped: {}", why));
   * }</pre>
   */
  public java.util.concurrent.CompletionStage<String> stopped() {
    return stopped.minimalCompletionStage();
  }

  /** Whether the loop has stopped: closed, or its reconciler was (see {@link #stopped()}). */
  public boolean isStopped() {
    return stopped.isDone();
  }

  /**
   * The reconciler was closed: the loop stops by itself, once. Runs on the thread that closed it
   * (after any sync in flight returned), or on the loop's own when a sync found it closed.
   */
  private void reconcilerClosed() {
    String why = "its reconciler '" + reconciler.owner() + "' was closed";
    synchronized (stopped) {
      if (stopped.isDone() || reconcilerGone != null) {
        return;
      }
      reconcilerGone = why;
      LOG.info("the reconcile loop stops: {}", why);
      periodic.stop();
      Cancellation c = inFlight.get();
      if (c != null) {
        c.cancel(why);  // one waiting in the gate: it would find the reconciler closed
        return;  // stopped completes when that sync has returned and been recorded (syncOnce)
      }
      stopped.complete(why);
    }
  }

  /** Runs a sync as soon as the one in flight (if any) is done. */
  public void trigger() {
    periodic.trigger();
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
    periodic.suspend();
  }

  /** Resumes syncing and syncs at once. */
  public void resume() {
    periodic.resume();
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
    return periodic.isSuspended();
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
    return periodic.runs();
  }

  /** How many scheduled syncs were skipped because the loop was suspended. */
  public int skippedRuns() {
    return periodic.skippedRuns();
  }

  /** Consecutive failed syncs. */
  public int consecutiveFailures() {
    return periodic.consecutiveFailures();
  }

  /** One sync; an INCOMPLETE sync or one that throws counts as failed (and is backed off from). */
  private boolean syncOnce() {
    Cancellation c = new Cancellation();
    inFlight.set(c);
    try {
      String revision = pinned;
      SyncResult r = gate.run(c, () -> reconciler.sync(revision, c));
      lastResult.set(r);
      lastError.set(null);
      return r.isSuccessful();
    } catch (Throwable e) {
      if (reconciler.isClosed()) {
        // closed between two syncs, or while this one waited in the gate: nothing failed, the loop is done
        reconcilerClosed();
        return true;
      }
      // The loop must survive anything one iteration throws, Errors included (an AssertionError
      // or StackOverflowError from a provider or listener). The error is kept for callers.
      lastError.set(e);
      String what = pinned == null ? "the head" : pinned;
      if (e instanceof Cancellation.CancelledException && c.isCancelled()) {
        // this loop's own sync was stopped (the loop is closing, or it was asked to): not a failure
        LOG.info("sync of {} stopped: {}", what, e.getMessage());
      } else if (e instanceof dev.gitops.api.GitOpsException) {
        // An engine error already names what went wrong; its stack adds nothing on every backoff.
        LOG.error("sync of {} failed; backing off: {}", what, e.toString());
      } else {
        LOG.error("sync of {} failed; backing off: {}", what, e.toString(), e);
      }
      return false;
    } finally {
      inFlight.set(null);
      String gone = reconcilerGone;
      if (gone != null) {
        stopped.complete(gone);  // the last sync is recorded: the loop has stopped
      }
    }
  }

  /** The delay before the next run: the interval with jitter, or a backoff after failures. */
  Duration nextDelay(boolean failed) {
    return periodic.nextDelay(failed);
  }

  /**
   * Stops the loop: a sync in flight is cancelled, and the loop's thread has ended (or a warning
   * says it did not within 10 s) when this returns. Called on the loop's own thread (from a
   * listener of its sync), it cannot wait for that thread: it cancels the sync and returns at once,
   * and the thread ends when the sync unwinds. The reconciler is not closed: it is the caller's
   * (close it after the loop). Once the loop has stopped (closed before, or its reconciler was),
   * this does nothing.
   */
  @Override
  public void close() {
    unhook.run();
    synchronized (stopped) {
      if (stopped.isDone()) {
        return;
      }
      Cancellation c = inFlight.get();
      if (c != null) {
        c.cancel("loop closed");
      }
    }
    periodic.close(true, Duration.ofSeconds(10));
    stopped.complete("loop closed");
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
    private final Periodic.Builder periodic = Periodic.builder("gitops-loop").maxBackoff(Duration.ofMinutes(10));

    private Builder(Reconciler reconciler) {
      this.reconciler = Objects.requireNonNull(reconciler, "reconciler");
    }

    /** Time between syncs (default 3 minutes). */
    public Builder interval(Duration d) {
      periodic.interval(d);
      return this;
    }

    /** Relative jitter, 0 to 0.5 (default 0.1). */
    public Builder jitter(double j) {
      periodic.jitter(j);
      return this;
    }

    /** The longest backoff after failures (default 10 minutes). */
    public Builder maxBackoff(Duration d) {
      periodic.maxBackoff(d);
      return this;
    }

    /** The gate every sync passes through (default: none, each sync runs at once). */
    public Builder gate(Gate g) {
      this.gate = Objects.requireNonNull(g, "gate");
      return this;
    }

    /** Seed for the jitter (tests). */
    public Builder seed(long s) {
      periodic.seed(s);
      return this;
    }

    /**
     * The loop (not started).
     *
     * @throws IllegalStateException naming the reconciler when it is closed already
     */
    public ReconcileLoop build() {
      if (reconciler.isClosed()) {
        throw new IllegalStateException("reconciler '" + reconciler.owner() + "' is closed: a loop around it would"
            + " never sync");
      }
      return new ReconcileLoop(this);
    }
  }
}
