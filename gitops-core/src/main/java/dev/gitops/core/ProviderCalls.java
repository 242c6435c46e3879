package dev.gitops.core;

import dev.gitops.api.Cancellation;
import dev.gitops.api.ProviderException;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Provider;
import dev.gitops.core.internal.Durations;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The provider calls of planning ({@link Provider#listMarked}, {@link Provider#versions}, {@link
 * Provider#observe}), bounded as the executor bounds an apply: each call gets a deadline of its
 * own, the whole {@code callTimeout} from its start (not what the calls before it in the same plan
 * left), and runs on a thread of its own while the sync's thread waits for it until that deadline
 * or the sync's cancellation. A call still running then is interrupted and abandoned (its thread
 * ends when the provider returns; nothing it returns is used) and fails with a {@link
 * ProviderException} naming the provider, the call and the limit, so its keys are UNKNOWN and
 * the plan prunes nothing, instead of a provider that ignores its context holding the sync, and
 * {@link Reconciler#close()} behind it, for ever.
 *
 * <p>While an abandoned call of a provider has not returned, the same call of that provider is not
 * started again: it fails at once naming the call still running. A provider that never returns
 * therefore holds one thread per kind of call, not one more at every sync of a loop.
 */
final class ProviderCalls {

  private static final Logger LOG = LoggerFactory.getLogger(ProviderCalls.class);
  private static final AtomicInteger THREAD_NUMBER = new AtomicInteger();

  /** A call abandoned while its provider had not returned: its thread, and when it was abandoned. */
  private record Abandoned(Thread thread, Instant since) {}

  private final Duration timeout;
  /** By provider id and call ("m observe"); an entry whose thread ended is stale and dropped. */
  private final Map<String, Abandoned> abandoned = new ConcurrentHashMap<>();

  /** Calls bounded by {@code timeout} each. */
  ProviderCalls(Duration timeout) {
    this.timeout = Objects.requireNonNull(timeout, "timeout");
  }

  /**
   * Runs {@code call} (provider {@code p}'s {@code what}) with {@code planning}'s owner, revision
   * and cancellation and a deadline {@code callTimeout} from now, which is the context {@code call}
   * is handed; its exceptions and errors are rethrown as they are.
   *
   * @throws ProviderException when the deadline passed first, or the same call of {@code p}
   *     abandoned earlier has not returned yet
   * @throws Cancellation.CancelledException when the sync was cancelled first
   */
  <T> T bounded(Provider p, String what, CallContext planning, Function<CallContext, T> call) {
    return start(p, what, planning, call).await();
  }

  /**
   * Starts {@code call} as {@link #bounded} runs it, for the caller to {@link Call#await} later
   * (doing other work meanwhile); its deadline runs from now.
   *
   * @throws ProviderException when the same call of {@code p} abandoned earlier has not returned yet
   * @throws Cancellation.CancelledException when the sync was cancelled already
   */
  <T> Call<T> start(Provider p, String what, CallContext planning, Function<CallContext, T> call) {
    planning.cancellation().throwIfCancelled();
    String key = p.id() + " " + what;
    Abandoned earlier = abandoned.get(key);
    if (earlier != null) {
      if (earlier.thread().isAlive()) {
        throw new ProviderException(null, "provider '" + p.id() + "' has not returned from the " + what
            + " abandoned at " + earlier.since() + " (" + earlier.thread().getName() + "): not called again until"
            + " it does", false, null);
      }
      abandoned.remove(key, earlier);
    }
    Instant deadline = Instant.now().plus(timeout);
    CallContext ctx = planning.withDeadline(deadline);
    String caller = Thread.currentThread().getName();
    FutureTask<T> task = new FutureTask<>(() -> call.apply(ctx));
    Thread t = new Thread(task, "gitops-" + what + "-" + THREAD_NUMBER.incrementAndGet() + " for " + caller);
    t.setDaemon(true);
    Cancellation.Registration stop = ctx.cancellation().onCancel(() -> task.cancel(true));
    try {
      t.start();
    } catch (RuntimeException | Error e) {
      stop.close();
      throw e;
    }
    return new Call<>(p, what, key, ctx, task, t, stop, System.nanoTime() + timeout.toNanos());
  }

  /** A started call: {@link #await} it once, on the thread that started it. */
  final class Call<T> {
    private final Provider p;
    private final String what;
    private final String key;
    private final CallContext ctx;
    private final FutureTask<T> task;
    private final Thread thread;
    private final Cancellation.Registration stop;
    private final long deadlineNanos;

    private Call(Provider p, String what, String key, CallContext ctx, FutureTask<T> task, Thread thread,
        Cancellation.Registration stop, long deadlineNanos) {
      this.p = p;
      this.what = what;
      this.key = key;
      this.ctx = ctx;
      this.task = task;
      this.thread = thread;
      this.stop = stop;
      this.deadlineNanos = deadlineNanos;
    }

    /**
     * Gives up a call whose answer is not wanted any more (the caller fails before it awaits it): it
     * is interrupted and, while it runs, abandoned as a call past its deadline is.
     */
    void cancel() {
      try (stop) {
        giveUp();
      }
    }

    /** Interrupts the call and remembers it as abandoned while its thread runs. */
    private void giveUp() {
      task.cancel(true);
      abandon(key, thread);
    }

    /**
     * What the call returned, waiting for it until its deadline or the sync's cancellation.
     *
     * @throws ProviderException when the deadline passed first
     * @throws Cancellation.CancelledException when the sync was cancelled first
     */
    T await() {
      try (stop) {
        return task.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        giveUp();
        throw new ProviderException(null, "provider '" + p.id() + "' did not answer " + what + " within the call"
            + " timeout (" + Durations.human(timeout) + "): abandoned, its thread ends when the provider returns", false, e);
      } catch (java.util.concurrent.CancellationException e) {
        abandon(key, thread);
        throw new Cancellation.CancelledException(ctx.cancellation().reason());
      } catch (InterruptedException e) {
        giveUp();
        Thread.currentThread().interrupt();
        throw new Cancellation.CancelledException("interrupted while provider '" + p.id() + "' answered " + what);
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof RuntimeException r) {
          throw r;
        }
        if (cause instanceof Error err) {
          throw err;
        }
        throw new ProviderException(null, "provider '" + p.id() + "' failed in " + what + ": " + cause, false, cause);
      }
    }
  }

  /** Remembers {@code t}'s call as abandoned while it runs. */
  private void abandon(String key, Thread t) {
    if (t.isAlive()) {
      abandoned.put(key, new Abandoned(t, Instant.now()));
      LOG.debug("abandoned the call {} on thread {}", key, t.getName());
    }
  }
}
