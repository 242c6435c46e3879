package dev.gitops.api;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cancellation token shared by a sync and every provider call it makes. Thread-safe.
 *
 * <p>Each callback runs at most once, and only while it is registered: {@link
 * Registration#close()} removes one, and {@link #close()} ends a token's run, removing every
 * callback registered on it and detaching it from its parent. A long-lived token handed to many
 * runs therefore does not accumulate callbacks.
 *
 * <pre>{@code
 * Cancellation c = new Cancellation();
 * try (Cancellation.Registration r = c.onCancel(() -> httpCall.abort())) {
 *   httpCall.run();                      // aborted if c is cancelled meanwhile
 * }                                      // the callback is gone once the call is over
 * c.cancel("a new revision arrived");
 * c.throwIfCancelled();                  // throws CancelledException with that reason
 * }</pre>
 */
public final class Cancellation implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Cancellation.class);
  private volatile String reason;
  private final Cancellation parent;
  /** This child's callback in its parent, removed when this token is closed. */
  private volatile Registration inParent;
  /** Guarded by {@code this}; in registration order. */
  private final Set<Registration> callbacks = new LinkedHashSet<>();
  /** Guarded by {@code this}. */
  private boolean closed;

  /** A token that is not cancelled. */
  public Cancellation() {
    this(null);
  }

  private Cancellation(Cancellation parent) {
    this.parent = parent;
  }

  /**
   * A token that is cancelled when this one is, and may also be cancelled on its own. Close the
   * child when its run ends, so this token does not keep a callback for it.
   */
  public Cancellation child() {
    Cancellation c = new Cancellation(this);
    c.inParent = onCancel(() -> c.cancel(reason()));
    return c;
  }

  /** Cancels with {@code why}; runs the registered callbacks, each once. Later calls do nothing. */
  public void cancel(String why) {
    List<Registration> toRun;
    synchronized (this) {
      if (reason != null) {
        return;
      }
      reason = why == null ? "cancelled" : why;
      toRun = new ArrayList<>(callbacks);
      callbacks.clear();
    }
    for (Registration r : toRun) {
      r.fire();
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

  /**
   * Runs {@code callback} once on cancel (at once if already cancelled), unless the returned
   * registration is closed first. On a closed token the callback only runs if it is already
   * cancelled.
   */
  public Registration onCancel(Runnable callback) {
    Registration r = new Registration(this, java.util.Objects.requireNonNull(callback, "callback"));
    synchronized (this) {
      if (reason == null && !closed) {
        callbacks.add(r);
      }
    }
    // Also covers a parent cancelled while its callback to this child has not run yet; the
    // registration's own flag keeps the callback from running twice.
    if (isCancelled()) {
      r.fire();
    }
    return r;
  }

  /** How many callbacks are registered and have neither run nor been removed (for leak checks). */
  public synchronized int registeredCallbacks() {
    return callbacks.size();
  }

  /**
   * Ends this token's run: removes every callback still registered on it (they will not run)
   * and, for a child, its callback in the parent. It can still be cancelled and asked about.
   */
  @Override
  public void close() {
    Registration r = inParent;
    if (r != null) {
      r.close();
    }
    synchronized (this) {
      closed = true;
      callbacks.clear();
    }
  }

  private synchronized void remove(Registration r) {
    callbacks.remove(r);
  }

  /** Throws {@link CancelledException} if cancelled. */
  public void throwIfCancelled() {
    if (isCancelled()) {
      throw new CancelledException(reason());
    }
  }

  /** A callback registered with {@link #onCancel}; closing it removes the callback if it has not run. */
  public static final class Registration implements AutoCloseable {
    private final Cancellation owner;
    private final Runnable callback;
    private final AtomicBoolean done = new AtomicBoolean();

    private Registration(Cancellation owner, Runnable callback) {
      this.owner = owner;
      this.callback = callback;
    }

    private void fire() {
      if (!done.compareAndSet(false, true)) {
        return;
      }
      owner.remove(this);
      try {
        callback.run();
      } catch (RuntimeException e) {
        // A callback failing must not stop the others from running, and the token is cancelled
        // anyway: logged (not handed to the thread's uncaught-exception handler, which prints it
        // or ends an application that treats it as a thread's death, though no thread died).
        LOG.warn("a callback of a cancellation ({}) failed; the others ran", owner.reason(), e);
      }
    }

    /** Removes the callback; it will not start after this returns (one already running finishes). */
    @Override
    public void close() {
      if (done.compareAndSet(false, true)) {
        owner.remove(this);
      }
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
