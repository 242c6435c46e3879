package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Outcome;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.core.apply.ExecutionOptions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A write that outlives its deadline may land during a later sync: its key stays UNKNOWN (a SKIP
 * that keeps the plan incomplete) until the call has returned and the key was observed after that.
 */
@Timeout(30)
class AbandonedCallPlanningTest {
  static final ResourceKey A = ResourceKey.of("m", "thing", "", "a");

  final MapProvider live = new MapProvider("m", false);
  final CountDownLatch release = new CountDownLatch(1);
  final CountDownLatch returned = new CountDownLatch(1);
  final AtomicInteger applies = new AtomicInteger();

  /** The first apply ignores interrupts and its deadline until released; later ones are normal. */
  void hangFirstApply() {
    live.beforeApply = change -> {
      if (applies.incrementAndGet() == 1) {
        try {
          boolean done = false;
          while (!done) {
            try {
              done = release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              // Deliberately ignored: the hostile provider does not honour interrupts.
            }
          }
        } finally {
          returned.countDown();
        }
      }
    };
  }

  @AfterEach
  void letTheCallReturn() {
    release.countDown();
  }

  Reconciler reconciler() {
    SyncOptions options = SyncOptions.builder().execution(ExecutionOptions.defaults()
        .withCallTimeout(Duration.ofMillis(150)).withHealthPollInterval(Duration.ofMillis(5))).build();
    return Reconciler.builder()
        .desiredState(State.of("r1", List.of(Resource.of(A, ReconcilerTest.json("{'x':1}")))))
        .provider(live).inMemoryStore().owner("me").options(options).build();
  }

  @Test
  void aKeyWhoseCallMayStillLandIsSkippedUntilTheCallReturnedAndTheKeyWasObservedAgain() throws Exception {
    hangFirstApply();
    Reconciler rec = reconciler();

    SyncResult first = rec.sync();
    assertThat(first.outcomes().get(A).kind()).isEqualTo(Outcome.Kind.UNKNOWN);

    SyncResult second = rec.sync();
    Change skipped = second.plan().change(A).orElseThrow();
    assertThat(skipped.action()).isEqualTo(Action.SKIP);
    assertThat(skipped.reason()).contains("abandoned").contains("may still land");
    assertThat(second.plan().isComplete()).as("the key is unknown, so the plan prunes nothing").isFalse();
    assertThat(applies.get()).as("no second call while the first may land").isEqualTo(1);

    // The call returns while the third sync observes: that observation may predate the write.
    live.beforeObserve = keys -> {
      live.beforeObserve = k -> { };
      release.countDown();
      try {
        assertThat(returned.await(10, TimeUnit.SECONDS)).isTrue();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
    SyncResult third = rec.sync();
    assertThat(third.plan().change(A).orElseThrow().action()).isEqualTo(Action.SKIP);
    assertThat(applies.get()).isEqualTo(1);

    // plan() observes too: the first observation that starts after the call returned clears the key.
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (rec.plan().change(A).orElseThrow().action() == Action.SKIP && System.nanoTime() < end) {
      TimeUnit.MILLISECONDS.sleep(2);
    }
    SyncResult fourth = rec.sync();
    assertThat(fourth.plan().change(A).orElseThrow().action()).as("observed after the call returned").isNotEqualTo(Action.SKIP);
    assertThat(fourth.plan().isComplete()).isTrue();
    assertThat(fourth.isSuccessful()).isTrue();
    assertThat(live.live.get(A)).isEqualTo(ReconcilerTest.json("{'x':1}"));
    assertThat(applies.get()).as("the landed write already matches: nothing to call").isEqualTo(1);
  }
}
