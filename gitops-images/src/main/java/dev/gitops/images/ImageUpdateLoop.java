package dev.gitops.images;

import dev.gitops.core.internal.loop.Periodic;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs an {@link ImageUpdater} every interval (with jitter), at once on {@link #trigger()} (a
 * registry webhook, say), and not at all while {@linkplain #suspend() suspended}. A run where
 * nothing moved costs a tag listing per image and a branch listing: the updater skips the rest.
 * At most one run is in flight; a failed run is logged and kept in {@link #lastError()}, and the
 * loop goes on. It stops by itself once its updater is {@linkplain ImageUpdater#close() closed}
 * (one line at INFO; {@link #isStopped()}).
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
  private final Periodic periodic;
  private final AtomicReference<ImageUpdateResult> lastResult = new AtomicReference<>();
  private final AtomicReference<RuntimeException> lastError = new AtomicReference<>();

  private ImageUpdateLoop(Builder b) {
    this.updater = b.updater;
    this.periodic = b.periodic.build(this::runOnce);
  }

  /** A builder for a loop around {@code updater}. */
  public static Builder builder(ImageUpdater updater) {
    return new Builder(updater);
  }

  /** Starts the loop; the first run is at once. */
  public void start() {
    periodic.start();
  }

  /** Runs as soon as the run in flight (if any) ends. */
  public void trigger() {
    periodic.trigger();
  }

  /** Skips runs until {@link #resume()}. */
  public void suspend() {
    periodic.suspend();
  }

  /** Resumes and runs at once. */
  public void resume() {
    periodic.resume();
  }

  /** Whether the loop is suspended. */
  public boolean isSuspended() {
    return periodic.isSuspended();
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
    return periodic.runs();
  }

  private boolean runOnce() {
    if (updater.isClosed()) {
      stopBecauseClosed();
      return true;
    }
    try {
      lastResult.set(updater.run());
      lastError.set(null);
      return true;
    } catch (RuntimeException e) {
      if (updater.isClosed()) {
        stopBecauseClosed();  // closed while it ran: nothing failed, there is nothing left to run
        return true;
      }
      // one failed run (registry down, push refused) must not end the loop: kept and logged
      lastError.set(e);
      LOG.warn("image update run failed: {}", e.getMessage());
      return false;
    }
  }

  /** Stops the loop; a run in flight finishes first (at most 30 s are waited for). */
  @Override
  public void close() {
    periodic.close(false, Duration.ofSeconds(30));
  }

  /** The updater was closed: the loop stops by itself, said once. */
  private void stopBecauseClosed() {
    if (!periodic.isClosed()) {
      LOG.info("the image update loop stops: its updater was closed");
      periodic.stop();
    }
  }

  /** Whether the loop has stopped: closed, or stopped by itself because its updater was closed. */
  public boolean isStopped() {
    return periodic.isClosed();
  }

  /** Builds an {@link ImageUpdateLoop}. */
  public static final class Builder {
    private final ImageUpdater updater;
    // no backoff: a failed run (registry down, push refused) is tried again after the interval
    private final Periodic.Builder periodic = Periodic.builder("gitops-images-loop").interval(Duration.ofMinutes(5));

    private Builder(ImageUpdater updater) {
      this.updater = Objects.requireNonNull(updater, "updater");
    }

    /** Time between runs (default 5 minutes). */
    public Builder interval(Duration d) {
      periodic.interval(d);
      return this;
    }

    /** Relative jitter of the interval, 0 to 0.5 (default 0.1). */
    public Builder jitter(double j) {
      periodic.jitter(j);
      return this;
    }

    /** The loop (not started). */
    public ImageUpdateLoop build() {
      return new ImageUpdateLoop(this);
    }
  }
}
