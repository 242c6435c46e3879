package dev.gitops.core;

import dev.gitops.api.Cancellation;
import dev.gitops.api.ProviderException;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Provider;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The provider calls of planning ({@link Provider#listMarked}, {@link Provider#versions}, {@link
 * Provider#observe}), bounded as the executor bounds an apply: each runs on a thread of its own
 * while the sync's thread waits for it until the call's deadline ({@code callTimeout}) or the
 * sync's cancellation. A call still running then is interrupted and abandoned (its thread ends
 * when the provider returns; nothing it returns is used) and fails with a {@link
 * ProviderException} naming the provider, the call and the limit, so its keys are UNKNOWN and
 * the plan prunes nothing, instead of a provider that ignores its context holding the sync, and
 * {@link Reconciler#close()} behind it, for ever.
 */
final class ProviderCalls {

  private static final AtomicInteger THREAD_NUMBER = new AtomicInteger();

  private ProviderCalls() {}

  /**
   * Runs {@code call} (provider {@code p}'s {@code what}) within {@code ctx}'s deadline; its
   * exceptions and errors are rethrown as they are.
   *
   * @throws ProviderException when the deadline passed first
   * @throws Cancellation.CancelledException when the sync was cancelled first
   */
  static <T> T bounded(Provider p, String what, CallContext ctx, Supplier<T> call) {
    String caller = Thread.currentThread().getName();
    FutureTask<T> task = new FutureTask<>(call::get);
    Thread t = new Thread(task, "gitops-" + what + "-" + THREAD_NUMBER.incrementAndGet() + " for " + caller);
    t.setDaemon(true);
    try (Cancellation.Registration stop = ctx.cancellation().onCancel(() -> task.cancel(true))) {
      t.start();
      long waitNanos = Math.max(0, Duration.between(Instant.now(), ctx.deadline()).toNanos());
      return task.get(waitNanos, TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      task.cancel(true);
      throw new ProviderException(null, "provider '" + p.id() + "' did not answer " + what + " by its deadline (the"
          + " call timeout): abandoned, its thread ends when the provider returns", false, e);
    } catch (java.util.concurrent.CancellationException e) {
      throw new Cancellation.CancelledException(ctx.cancellation().reason());
    } catch (InterruptedException e) {
      task.cancel(true);
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
