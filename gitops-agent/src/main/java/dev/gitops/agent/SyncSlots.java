package dev.gitops.agent;

import dev.gitops.api.Cancellation;
import dev.gitops.api.SyncResult;
import dev.gitops.core.ReconcileLoop;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The agent's bound on syncs in flight across all targets, handed out first come, first served:
 * a target waiting for a slot is served before any target that asks after it, and since each
 * target's loop asks for one slot at a time, a slow or busy target never keeps the others waiting
 * for more than one of its syncs. Stopping a target or the agent turns its waits into
 * cancellations and cancels its sync in flight.
 */
final class SyncSlots {

  private int max;
  private int inUse;
  private boolean closed;
  private String closeReason = "";
  private final ArrayDeque<Object> queue = new ArrayDeque<>();
  private final Map<String, Cancellation> running = new HashMap<>();
  private final Set<String> stopping = new HashSet<>();

  SyncSlots(int max) {
    setMax(max);
  }

  /** Changes the bound (a reload); syncs beyond a lowered bound finish, no new one starts until below it. */
  synchronized void setMax(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("at least one sync must be allowed, got " + n);
    }
    max = n;
    notifyAll();
  }

  /** Syncs in flight now. */
  synchronized int inFlight() {
    return inUse;
  }

  /** Syncs waiting for a slot now. */
  synchronized int waiting() {
    return queue.size();
  }

  /** Whether {@code target} has a sync in flight. */
  synchronized boolean isRunning(String target) {
    return running.containsKey(target);
  }

  /** The gate of {@code target}'s loop. */
  ReconcileLoop.Gate gate(String target) {
    synchronized (this) {
      stopping.remove(target);
    }
    return (cancellation, sync) -> run(target, cancellation, sync);
  }

  private SyncResult run(String target, Cancellation cancellation, Supplier<SyncResult> sync) {
    acquire(target, cancellation);
    try {
      return sync.get();
    } finally {
      synchronized (this) {
        inUse--;
        running.remove(target);
        notifyAll();
      }
    }
  }

  private synchronized void acquire(String target, Cancellation cancellation) {
    Object ticket = new Object();
    queue.addLast(ticket);
    try {
      while (queue.peekFirst() != ticket || inUse >= max || closed || stopping.contains(target)
          || cancellation.isCancelled()) {
        if (closed || stopping.contains(target) || cancellation.isCancelled()) {
          throw new Cancellation.CancelledException(closed ? closeReason
              : stopping.contains(target) ? "target " + target + " is stopping" : cancellation.reason());
        }
        // Bounded wait: a cancellation has no way to wake this monitor, so look again soon.
        wait(100);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Cancellation.CancelledException("interrupted while waiting for a sync slot");
    } finally {
      // Served or gave up: either way this ticket leaves the queue, and the next in line may go.
      queue.remove(ticket);
      notifyAll();
    }
    inUse++;
    running.put(target, cancellation);
  }

  /** {@code target} stops: its wait ends, its sync in flight is cancelled at the next safe point. */
  synchronized void stop(String target, String reason) {
    stopping.add(target);
    Cancellation c = running.get(target);
    if (c != null) {
      c.cancel(reason);
    }
    notifyAll();
  }

  /** The agent stops: no sync starts any more, every sync in flight is cancelled. */
  synchronized void close(String reason) {
    closed = true;
    closeReason = reason;
    running.values().forEach(c -> c.cancel(reason));
    notifyAll();
  }

  /** Waits up to {@code timeout} until {@code target} (null: every target) has no sync in flight. */
  synchronized boolean awaitIdle(String target, Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (target == null ? inUse > 0 : running.containsKey(target)) {
      long left = end - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      wait(Math.max(1, Math.min(100, left / 1_000_000)));
    }
    return true;
  }
}
