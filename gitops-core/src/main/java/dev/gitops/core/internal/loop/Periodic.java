package dev.gitops.core.internal.loop;

import dev.gitops.core.internal.Durations;
import java.time.Duration;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one task on its own thread: every interval with jitter, at once on {@link #trigger()},
 * not at all while {@linkplain #suspend() suspended}, and after a failed run after a backoff that
 * doubles up to a bound (when one is set). At most one run is in flight; a trigger during a run
 * makes exactly one more run right after it. The scheduling behind the engine's {@code
 * ReconcileLoop} and the image automation's {@code ImageUpdateLoop}; internal.
 */
public final class Periodic {

  private static final Logger LOG = LoggerFactory.getLogger(Periodic.class);

  /** One run. */
  @FunctionalInterface
  public interface Task {
    /**
     * Runs once and says whether the run succeeded; a failed run counts towards the backoff. A
     * task that throws is logged here and counted as failed; the loop goes on.
     */
    boolean run();
  }

  private final Task task;
  private final String name;
  private final Duration interval;
  private final double jitter;
  private final Duration maxBackoff;
  private final Random random;
  private final ScheduledExecutorService scheduler;
  private final AtomicReference<ScheduledFuture<?>> next = new AtomicReference<>();
  /** Set by trigger(); a run consumes it when it starts, and runs again at once if it was set meanwhile. */
  private final AtomicBoolean triggered = new AtomicBoolean();
  private final AtomicInteger failures = new AtomicInteger();
  private final AtomicInteger runs = new AtomicInteger();
  private final AtomicInteger skipped = new AtomicInteger();
  private volatile boolean suspended;
  private volatile boolean started;
  private volatile boolean closed;

  private Periodic(Builder b, Task task) {
    this.task = Objects.requireNonNull(task, "task");
    this.name = b.name;
    this.interval = b.interval;
    this.jitter = b.jitter;
    this.maxBackoff = b.maxBackoff;
    this.random = new Random(b.seed);
    ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, b.name);
      t.setDaemon(true);
      return t;
    });
    executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);  // close() drops the next timer
    this.scheduler = executor;
  }

  /** A builder for a loop whose thread is named {@code name}. */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** Starts the loop: the first run is at once. */
  public synchronized void start() {
    if (closed) {
      throw new IllegalStateException(name + " is closed");
    }
    if (!started) {
      started = true;
      schedule(Duration.ZERO);
    }
  }

  /** Runs as soon as the run in flight (if any) is done; nothing before {@link #start()}. */
  public void trigger() {
    if (started && !closed) {
      triggered.set(true);
      schedule(Duration.ZERO);
    }
  }

  /** Skips runs until {@link #resume()}. */
  public void suspend() {
    suspended = true;
  }

  /** Resumes and runs at once. */
  public void resume() {
    suspended = false;
    trigger();
  }

  /** Whether the loop is suspended. */
  public boolean isSuspended() {
    return suspended;
  }

  /** Runs done (skipped ones while suspended do not count). */
  public int runs() {
    return runs.get();
  }

  /** Scheduled runs skipped because the loop was suspended. */
  public int skippedRuns() {
    return skipped.get();
  }

  /** Consecutive failed runs. */
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
    boolean ok = false;
    try {
      ok = task.run();
    } catch (Throwable e) {
      // The loop must survive anything one run throws, Errors included: otherwise the scheduler
      // would drop the task and the loop would stop without a word.
      LOG.error("{}: a run failed; going on: {}", name, e.toString(), e);
    } finally {
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
  public Duration nextDelay(boolean failed) {
    long base = interval.toMillis();
    if (failed && maxBackoff != null) {
      int n = Math.min(failures.get(), 20);
      long backoff = Math.min(maxBackoff.toMillis(), Math.max(1, base / 8) << Math.max(0, n - 1));
      base = Math.max(1, backoff);
    }
    double spread = 1 + jitter * (2 * random.nextDouble() - 1);
    return Duration.ofMillis(Math.max(1, Math.round(base * spread)));
  }

  /**
   * Stops the loop without waiting, from any thread, the loop's own included: no run starts any
   * more, and a run in flight ends on its own. For a task that finds there is nothing left to run
   * (what it runs was closed); {@link #close} afterwards waits for the thread as usual.
   */
  public void stop() {
    synchronized (this) {
      closed = true;
    }
    scheduler.shutdown();
  }

  /** Whether the loop was stopped or closed. */
  public boolean isClosed() {
    return closed;
  }

  /**
   * Stops the loop. With {@code interrupt} the run in flight is interrupted, without it it is let
   * finish; either way this waits up to {@code wait} for the loop's thread to end and warns when
   * it did not.
   */
  public void close(boolean interrupt, Duration wait) {
    synchronized (this) {
      closed = true;
    }
    if (interrupt) {
      scheduler.shutdownNow();
    } else {
      scheduler.shutdown();
    }
    try {
      if (!scheduler.awaitTermination(wait.toMillis(), TimeUnit.MILLISECONDS)) {
        LOG.warn("{} did not stop within {} s", name, wait.toSeconds());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Builds a {@link Periodic}. */
  public static final class Builder {
    private final String name;
    private Duration interval = Duration.ofMinutes(3);
    private double jitter = 0.1;
    private Duration maxBackoff;
    private long seed = System.nanoTime();

    private Builder(String name) {
      this.name = Objects.requireNonNull(name, "name");
    }

    /** Time between runs (default 3 minutes). */
    public Builder interval(Duration d) {
      this.interval = Durations.positive(d, "interval");
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

    /** The longest backoff after failed runs; without one a failed run waits the interval. */
    public Builder maxBackoff(Duration d) {
      this.maxBackoff = Durations.notNegative(d, "maxBackoff");
      return this;
    }

    /** Seed for the jitter (tests). */
    public Builder seed(long s) {
      this.seed = s;
      return this;
    }

    /** The loop running {@code task} (not started). */
    public Periodic build(Task task) {
      return new Periodic(this, task);
    }
  }
}
