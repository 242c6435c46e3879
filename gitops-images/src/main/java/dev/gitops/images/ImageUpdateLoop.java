package dev.gitops.images;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs an {@link ImageUpdater} every interval (with jitter), at once on {@link #trigger()} (a
 * registry webhook, say), and not at all while {@linkplain #suspend() suspended}. A run where
 * nothing moved costs a tag listing per image and a branch listing: the updater skips the rest.
 * At most one run is in flight; a failed run is logged and kept in {@link #lastError()}, and the
 * loop goes on.
 *
 * <pre>{@code
 * try (ImageUpdateLoop loop = ImageUpdateLoop.builder(updater).interval(Duration.ofMinutes(5)).build()) {
 *   loop.start();
 *   // ... later, when the registry's webhook reports a push:
 *   loop.trigger();
 * }
 * }</pre>
 */
public final class ImageUpdateLoop implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ImageUpdateLoop.class);

  private final ImageUpdater updater;
  private final Duration interval;
  private final double jitter;
  private final ScheduledExecutorService scheduler;
  private final Object lock = new Object();
  /** A run is queued or running; a trigger meanwhile sets {@link #again} instead of queueing a second one. */
  private boolean queued;
  private final AtomicBoolean again = new AtomicBoolean();
  private final AtomicReference<ImageUpdateResult> lastResult = new AtomicReference<>();
  private final AtomicReference<RuntimeException> lastError = new AtomicReference<>();
  private final AtomicInteger runs = new AtomicInteger();
  private volatile boolean suspended;
  private volatile boolean started;
  private volatile boolean closed;
  private java.util.concurrent.ScheduledFuture<?> timer;

  private ImageUpdateLoop(Builder b) {
    this.updater = b.updater;
    this.interval = b.interval;
    this.jitter = b.jitter;
    ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "gitops-images-loop");
      t.setDaemon(true);
      return t;
    });
    executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);  // close() drops the next timer
    this.scheduler = executor;
  }

  /** A builder for a loop around {@code updater}. */
  public static Builder builder(ImageUpdater updater) {
    return new Builder(updater);
  }

  /** Starts the loop; the first run is at once. */
  public void start() {
    if (closed) {
      throw new IllegalStateException("image update loop is closed");
    }
    started = true;
    trigger();
  }

  /** Runs as soon as the run in flight (if any) ends. */
  public void trigger() {
    synchronized (lock) {
      if (!started || closed) {
        return;
      }
      if (queued) {
        again.set(true);
        return;
      }
      queued = true;
      if (timer != null) {
        timer.cancel(false);
      }
      scheduler.execute(this::runOnce);
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

  /** The result of the last run that completed; empty before the first. */
  public Optional<ImageUpdateResult> lastResult() {
    return Optional.ofNullable(lastResult.get());
  }

  /** The error of the last run if it threw; empty when it completed. */
  public Optional<RuntimeException> lastError() {
    return Optional.ofNullable(lastError.get());
  }

  /** Runs done (skipped ones while suspended do not count). */
  public int runs() {
    return runs.get();
  }

  private void runOnce() {
    again.set(false);
    if (!suspended && !closed) {
      try {
        lastResult.set(updater.run());
        lastError.set(null);
      } catch (RuntimeException e) {
        // one failed run (registry down, push refused) must not end the loop: kept and logged
        lastError.set(e);
        LOG.warn("image update run failed: {}", e.getMessage());
      } finally {
        runs.incrementAndGet();
      }
    }
    synchronized (lock) {
      queued = false;
      if (closed) {
        return;
      }
      if (again.getAndSet(false)) {
        queued = true;
        scheduler.execute(this::runOnce);
        return;
      }
      double spread = 1 + jitter * (2 * ThreadLocalRandom.current().nextDouble() - 1);
      long delay = Math.max(1, Math.round(interval.toMillis() * spread));
      timer = scheduler.schedule(this::trigger, delay, TimeUnit.MILLISECONDS);
    }
  }

  /** Stops the loop; a run in flight finishes first (at most 30 s are waited for). */
  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
    }
    scheduler.shutdown();
    try {
      if (!scheduler.awaitTermination(30, TimeUnit.SECONDS)) {
        LOG.warn("image update loop did not stop within 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Builds an {@link ImageUpdateLoop}. */
  public static final class Builder {
    private final ImageUpdater updater;
    private Duration interval = Duration.ofMinutes(5);
    private double jitter = 0.1;

    private Builder(ImageUpdater updater) {
      this.updater = Objects.requireNonNull(updater, "updater");
    }

    /** Time between runs (default 5 minutes). */
    public Builder interval(Duration d) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("interval must be positive, got " + d);
      }
      this.interval = d;
      return this;
    }

    /** Relative jitter of the interval, 0 to 0.5 (default 0.1). */
    public Builder jitter(double j) {
      if (j < 0 || j > 0.5) {
        throw new IllegalArgumentException("jitter must be in 0..0.5, got " + j);
      }
      this.jitter = j;
      return this;
    }

    /** The loop (not started). */
    public ImageUpdateLoop build() {
      return new ImageUpdateLoop(this);
    }
  }
}
