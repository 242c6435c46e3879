package dev.gitops.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Cancellation;
import dev.gitops.api.Plan;
import dev.gitops.api.SyncResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

class SyncSlotsTest {

  static SyncResult result() {
    Plan plan = new Plan("id", "r", List.of(), new TreeMap<>(), new TreeMap<>(), new TreeMap<>(), new TreeMap<>(),
        new java.util.TreeSet<>());
    return new SyncResult("r", plan, SyncResult.Status.SUCCEEDED, new TreeMap<>(), Duration.ZERO, "");
  }

  static void await(BooleanSupplier condition) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("condition reached within 10 s").isLessThan(end);
      Thread.sleep(5);
    }
  }

  static Thread async(Runnable r) {
    Thread t = new Thread(r);
    t.setDaemon(true);
    t.start();
    return t;
  }

  @Test
  void neverMoreSyncsInFlightThanTheBound() throws Exception {
    SyncSlots slots = new SyncSlots(2);
    AtomicInteger now = new AtomicInteger();
    AtomicInteger max = new AtomicInteger();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      ReconcileGate gate = new ReconcileGate(slots, "t" + i);
      threads.add(async(() -> gate.run(() -> {
        max.accumulateAndGet(now.incrementAndGet(), Math::max);
        sleep(50);
        now.decrementAndGet();
      })));
    }
    for (Thread t : threads) {
      t.join(10_000);
    }
    assertThat(max.get()).isEqualTo(2);
    assertThat(slots.inFlight()).isZero();
  }

  @Test
  void slotsGoFirstComeFirstServedSoABusyTargetWaitsItsTurn() throws Exception {
    SyncSlots slots = new SyncSlots(1);
    List<String> served = new CopyOnWriteArrayList<>();
    CountDownLatch release = new CountDownLatch(1);
    ReconcileGate hog = new ReconcileGate(slots, "hog");
    async(() -> hog.run(() -> {
      served.add("hog");
      await(release);
    }));
    await(() -> slots.isRunning("hog"));
    for (String t : List.of("a", "b", "c")) {
      ReconcileGate g = new ReconcileGate(slots, t);
      async(() -> g.run(() -> served.add(t)));
      await(() -> slots.waiting() == List.of("a", "b", "c").indexOf(t) + 1);
    }
    Thread again = async(() -> hog.run(() -> served.add("hog")));  // the hog asks again at once
    await(() -> slots.waiting() == 4);
    release.countDown();
    again.join(10_000);
    await(() -> served.size() == 5);
    assertThat(served).containsExactly("hog", "a", "b", "c", "hog");
  }

  @Test
  void stoppingATargetEndsItsWaitAndCancelsItsSync() throws Exception {
    SyncSlots slots = new SyncSlots(1);
    AtomicReference<Cancellation> running = new AtomicReference<>();
    Cancellation first = new Cancellation();
    async(() -> slots.gate("a").run(first, () -> {
      running.set(first);
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!first.isCancelled() && System.nanoTime() < end) {
        sleep(5);
      }
      return result();
    }));
    await(() -> running.get() != null);
    AtomicReference<Throwable> waitEnded = new AtomicReference<>();
    Thread waiting = async(() -> {
      try {
        slots.gate("b").run(new Cancellation(), SyncSlotsTest::result);
      } catch (Cancellation.CancelledException e) {
        waitEnded.set(e);
      }
    });
    await(() -> slots.waiting() == 1);
    slots.stop("b", "removed");
    waiting.join(10_000);
    assertThat(waitEnded.get()).hasMessageContaining("target b is stopping");

    slots.close("the agent is shutting down");
    assertThat(slots.awaitIdle(null, Duration.ofSeconds(10))).isTrue();
    assertThat(first.reason()).isEqualTo("the agent is shutting down");
    Throwable afterClose = org.assertj.core.api.Assertions.catchThrowable(
        () -> slots.gate("c").run(new Cancellation(), SyncSlotsTest::result));
    assertThat(afterClose).isInstanceOf(Cancellation.CancelledException.class).hasMessageContaining("shutting down");
  }

  /** A gate of one target running plain work. */
  record ReconcileGate(SyncSlots slots, String target) {
    void run(Runnable work) {
      slots.gate(target).run(new Cancellation(), () -> {
        work.run();
        return result();
      });
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static void await(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
