package dev.gitops.api;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A cancellation token shared by a sync and every provider call it makes. Thread-safe.
 *
 * <pre>{@code
 * Cancellation c = new Cancellation();
 * c.onCancel(() -> request.cancel(true));   // stops the call in flight
 * c.cancel("a new revision arrived");
 * c.throwIfCancelled();   // throws CancelledException with that reason
 * }</pre>
 */
public final class Cancellation {
  private volatile String reason;
  private final Cancellation parent;
  private final List<Runnable> callbacks = new CopyOnWriteArrayList<>();

  /** A token that is not cancelled. */
  public Cancellation() {
    this(null);
  }

  private Cancellation(Cancellation parent) {
    this.parent = parent;
  }

  /** A token that is cancelled when this one is, and may also be cancelled on its own. */
  public Cancellation child() {
    Cancellation c = new Cancellation(this);
    onCancel(() -> c.cancel(reason()));
    return c;
  }

  /** Cancels with {@code why}; runs the callbacks once. Later calls do nothing. */
  public void cancel(String why) {
    synchronized (this) {
      if (reason != null) {
        return;
      }
      reason = why == null ? "cancelled" : why;
    }
    for (Runnable r : callbacks) {
      try {
        r.run();
      } catch (RuntimeException e) {
        // A callback failing must not stop the others from running; the token is cancelled anyway.
        Thread.currentThread().getUncaughtExceptionHandler().uncaughtException(Thread.currentThread(), e);
      }
    }
  }

  /** Whether this token (or its parent) is cancelled. */
  public boolean isCancelled() {
    return reason != null || (parent != null && parent.isCancelled());
  }

  /** Why it was cancelled, or null. */
  public String reason() {
    if (reason != null) {
      return reason;
    }
    return parent == null ? null : parent.reason();
  }

  /** Runs {@code callback} on cancel (at once if already cancelled). */
  public void onCancel(Runnable callback) {
    callbacks.add(callback);
    if (isCancelled()) {
      callback.run();
    }
  }

  /** Throws {@link CancelledException} if cancelled. */
  public void throwIfCancelled() {
    if (isCancelled()) {
      throw new CancelledException(reason());
    }
  }

  /** Thrown where work stops because its token was cancelled. */
  public static final class CancelledException extends GitOpsException {
    private static final long serialVersionUID = 1L;

    /** Cancelled for {@code reason}. */
    public CancelledException(String reason) {
      super("cancelled: " + reason);
    }
  }
}
