package dev.gitops.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Callbacks run at most once, and are gone once their run ends. */
class CancellationTest {

  @Test
  void manyRunsOnOneLongLivedTokenLeaveNoCallbacksBehind() {
    Cancellation shutdown = new Cancellation();
    AtomicInteger ran = new AtomicInteger();
    for (int run = 0; run < 1000; run++) {
      try (Cancellation runToken = shutdown.child()) {
        runToken.onCancel(ran::incrementAndGet);
        try (Cancellation call = runToken.child(); Cancellation.Registration r = call.onCancel(ran::incrementAndGet)) {
          assertThat(call.isCancelled()).isFalse();
        }
        assertThat(runToken.registeredCallbacks()).as("the call's child token removed itself").isEqualTo(1);
      }
    }
    assertThat(shutdown.registeredCallbacks()).as("closed children leave no callback in the parent").isZero();
    shutdown.cancel("shutting down");
    assertThat(ran.get()).as("callbacks of ended runs never run").isZero();
  }

  @Test
  void aFailingCallbackNeitherStopsTheOthersNorReachesTheThreadsUncaughtExceptionHandler() {
    Cancellation c = new Cancellation();
    AtomicInteger ran = new AtomicInteger();
    java.util.List<Throwable> uncaught = new java.util.concurrent.CopyOnWriteArrayList<>();
    Thread self = Thread.currentThread();
    Thread.UncaughtExceptionHandler before = self.getUncaughtExceptionHandler();
    self.setUncaughtExceptionHandler((t, e) -> uncaught.add(e));
    try {
      c.onCancel(() -> {
        throw new IllegalStateException("callback boom");
      });
      c.onCancel(ran::incrementAndGet);
      c.cancel("stop");
    } finally {
      self.setUncaughtExceptionHandler(before);
    }
    assertThat(c.isCancelled()).isTrue();
    assertThat(ran.get()).isEqualTo(1);
    assertThat(uncaught).as("a library logs, it never hands a live thread's exception to the handler").isEmpty();
  }

  @Test
  void aRemovedCallbackDoesNotRunAndOneAddedToAClosedTokenIsNotKept() {
    Cancellation c = new Cancellation();
    AtomicInteger ran = new AtomicInteger();
    Cancellation.Registration r = c.onCancel(ran::incrementAndGet);
    r.close();
    c.close();
    c.onCancel(ran::incrementAndGet);
    assertThat(c.registeredCallbacks()).isZero();
    c.cancel("late");
    assertThat(c.isCancelled()).isTrue();
    assertThat(ran.get()).isZero();
    c.onCancel(ran::incrementAndGet);
    assertThat(ran.get()).as("a token already cancelled runs a new callback at once").isEqualTo(1);
  }

  @Test
  void cancelRacingWithRegistrationAndCompletionRunsEachCallbackAtMostOnce() throws Exception {
    ExecutorService threads = Executors.newFixedThreadPool(3);
    try {
      for (int i = 0; i < 2000; i++) {
        Cancellation parent = new Cancellation();
        Cancellation run = parent.child();
        AtomicInteger registeredRuns = new AtomicInteger();
        AtomicInteger removedRuns = new AtomicInteger();
        CyclicBarrier start = new CyclicBarrier(3);
        Cancellation.Registration kept = run.onCancel(registeredRuns::incrementAndGet);
        Cancellation.Registration removed = run.onCancel(removedRuns::incrementAndGet);
        AtomicInteger lateRuns = new AtomicInteger();
        Future<?> canceller = threads.submit(() -> {
          start.await();
          parent.cancel("race");
          return null;
        });
        Future<?> registrar = threads.submit(() -> {
          start.await();
          run.onCancel(lateRuns::incrementAndGet);
          return null;
        });
        Future<?> completer = threads.submit(() -> {
          start.await();
          removed.close();
          return null;
        });
        canceller.get(10, TimeUnit.SECONDS);
        registrar.get(10, TimeUnit.SECONDS);
        completer.get(10, TimeUnit.SECONDS);
        run.close();
        assertThat(run.isCancelled()).isTrue();
        assertThat(registeredRuns.get()).as("try %d", i).isEqualTo(1);
        assertThat(lateRuns.get()).as("registered while cancelling: exactly once (try %d)", i).isEqualTo(1);
        assertThat(removedRuns.get()).as("removed while cancelling: at most once (try %d)", i).isLessThanOrEqualTo(1);
        kept.close();
        assertThat(registeredRuns.get()).isEqualTo(1);
        assertThat(parent.registeredCallbacks()).isZero();
        assertThat(run.registeredCallbacks()).isZero();
      }
    } finally {
      threads.shutdownNow();
    }
  }
}
