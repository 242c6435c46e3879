package dev.gitops.core.apply;

import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads one {@link Executor} makes provider calls on, for its whole life: at most {@link
 * #limit()} of them. A slot is taken before a call is submitted and given back only when the
 * provider returns — not when the engine abandons the call — so a provider that ignores
 * interrupts cannot make the engine start threads without end; it only shrinks what is left for
 * live calls until it returns.
 */
final class Workers {
  private static final AtomicInteger THREAD_NUMBER = new AtomicInteger();

  private final int limit;
  private final ThreadPoolExecutor pool;
  /** Guarded by {@code this}: calls whose provider method has not returned. */
  private int busy;
  /** Runs waiting for a slot: each is woken when one is given back. */
  private final Set<Runnable> waiters = new CopyOnWriteArraySet<>();

  Workers(int limit) {
    this.limit = limit;
    // Core = max = limit, idle threads time out: a quiet executor holds no threads. The queue
    // only ever holds a task for the moment between a slot's release and its thread's return to
    // the pool, since no more tasks than slots are submitted.
    this.pool = new ThreadPoolExecutor(limit, limit, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
      Thread t = new Thread(r, "gitops-apply-" + THREAD_NUMBER.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    pool.allowCoreThreadTimeOut(true);
  }

  /** The most provider calls in progress at once, abandoned ones included. */
  int limit() {
    return limit;
  }

  /** Takes a slot if one is free. */
  synchronized boolean tryAcquire() {
    if (busy >= limit) {
      return false;
    }
    busy++;
    return true;
  }

  /** Slots taken by calls that have not returned (abandoned ones included). */
  synchronized int busy() {
    return busy;
  }

  /**
   * Runs {@code call} in the slot the caller took; {@code always} runs after it (or instead of it,
   * when the call was stopped before it started), then the slot is given back.
   */
  Handle submit(Runnable call, Runnable always) {
    Handle h = new Handle();
    // the worker's name says for whom it calls (an agent's target thread is "target <name>"), so a
    // provider's log line names the target it works for; restored when the call ends
    String caller = Thread.currentThread().getName();
    pool.execute(() -> {
      Thread self = Thread.currentThread();
      String own = self.getName();
      self.setName(own + " for " + caller);
      boolean run;
      synchronized (h) {
        run = !h.stopped;
        h.thread = run ? Thread.currentThread() : null;
      }
      try {
        if (run) {
          call.run();
        }
      } finally {
        synchronized (h) {
          h.thread = null;
        }
        try {
          always.run();
        } finally {
          self.setName(own);
          giveBack();
        }
      }
    });
    return h;
  }

  /** A submitted call. */
  static final class Handle {
    /** Guarded by {@code this}. */
    private Thread thread;
    /** Guarded by {@code this}. */
    private boolean stopped;

    /** Interrupts the call if it is running; one not started yet never starts. */
    synchronized void stop() {
      stopped = true;
      if (thread != null) {
        thread.interrupt();
      }
    }
  }

  /** Gives a slot back (also when a slot was taken but no call was submitted after all). */
  void giveBack() {
    synchronized (this) {
      busy--;
    }
    for (Runnable w : waiters) {
      w.run();
    }
  }

  /**
   * Lets the threads end: idle ones at once, one still running an abandoned call when its provider
   * returns. No call may be submitted after this.
   */
  void shutdown() {
    pool.shutdown();
  }

  /** {@code wakeup} runs whenever a slot is given back, until {@link #stopWaking}. */
  void wakeOnRelease(Runnable wakeup) {
    waiters.add(wakeup);
  }

  void stopWaking(Runnable wakeup) {
    waiters.remove(wakeup);
  }
}
