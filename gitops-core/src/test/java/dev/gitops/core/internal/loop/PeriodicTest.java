package dev.gitops.core.internal.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PeriodicTest {

  @Test
  void aTaskThatThrowsCountsAsFailedAndTheLoopGoesOn() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    Periodic p = Periodic.builder("t").interval(Duration.ofHours(1)).build(() -> {
      calls.incrementAndGet();
      throw new StackOverflowError("from the task");
    });
    try {
      p.start();
      // each trigger after a run that threw an Error runs the task again: the loop did not stop
      for (int expected = 1; expected <= 3; expected++) {
        int want = expected;
        await(() -> p.runs() == want);
        assertThat(p.consecutiveFailures()).isEqualTo(want);
        p.trigger();
      }
      assertThat(calls.get()).isGreaterThanOrEqualTo(3);
    } finally {
      p.close(true, Duration.ofSeconds(5));
    }
  }

  private static void await(java.util.function.BooleanSupplier cond) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!cond.getAsBoolean()) {
      assertThat(System.nanoTime()).as("condition within 5 s").isLessThan(deadline);
      Thread.sleep(10);
    }
  }

  @Test
  void withoutABoundFailedRunsWaitTheIntervalAndWithOneTheyBackOff() {
    Periodic plain = Periodic.builder("t").interval(Duration.ofSeconds(80)).jitter(0).build(() -> false);
    Periodic backingOff = Periodic.builder("t").interval(Duration.ofSeconds(80)).jitter(0)
        .maxBackoff(Duration.ofSeconds(60)).build(() -> false);
    assertThat(plain.nextDelay(true)).isEqualTo(Duration.ofSeconds(80));
    assertThat(backingOff.nextDelay(true)).isEqualTo(Duration.ofSeconds(10));
    plain.close(true, Duration.ofSeconds(1));
    backingOff.close(true, Duration.ofSeconds(1));
  }

  @Test
  void closeWithoutInterruptLetsTheRunInFlightFinishAndNothingRunsAfter() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean interrupted = new AtomicBoolean();
    AtomicInteger runs = new AtomicInteger();
    Periodic p = Periodic.builder("t").interval(Duration.ofMillis(1)).jitter(0).build(() -> {
      runs.incrementAndGet();
      running.countDown();
      try {
        release.await(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        interrupted.set(true);
      }
      return true;
    });
    p.start();
    assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();
    Thread closer = new Thread(() -> p.close(false, Duration.ofSeconds(5)));
    closer.start();
    Thread.sleep(50);
    release.countDown();
    closer.join(6000);
    assertThat(closer.isAlive()).isFalse();
    assertThat(interrupted).isFalse();
    assertThat(runs.get()).isEqualTo(1);
    assertThatThrownBy(p::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("t is closed");
  }
}
