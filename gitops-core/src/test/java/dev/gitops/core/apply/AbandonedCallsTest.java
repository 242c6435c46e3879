package dev.gitops.core.apply;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Cancellation;
import dev.gitops.api.Change;
import dev.gitops.api.Outcome;
import dev.gitops.api.Outcome.Kind;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Provider;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A provider call that outlives its deadline and ignores interrupts: bounded threads, no second call. */
@Timeout(20)
class AbandonedCallsTest {
  static final ExecutionOptions OPTIONS = ExecutionOptions.defaults().withParallelism(1)
      .withCallTimeout(Duration.ofMillis(100)).withWaitForHealth(false)
      .withRetry(RetryPolicy.defaults().withBackoff(Duration.ofMillis(1), Duration.ofMillis(5)));

  final FakeProvider provider = new FakeProvider("p");
  final RecordingHooks hooks = new RecordingHooks();
  final CountDownLatch release = new CountDownLatch(1);

  @AfterEach
  void letStubbornCallsReturn() {
    release.countDown();
  }

  static ResourceKey k(String name) {
    return Plans.key("p", name);
  }

  /** Waits for {@code release}, swallowing every interrupt, then does what the change says. */
  Outcome stubborn(Change change, CallContext ctx) {
    boolean done = false;
    while (!done) {
      try {
        done = release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        // Deliberately ignored: this provider does not honour interrupts.
      }
    }
    return provider.perform(change);
  }

  Map<ResourceKey, Outcome> run(Executor executor, Plans plan) {
    return executor.execute(plan.build(), Map.of("p", provider), hooks, new Cancellation(), "owner-1");
  }

  static void await(BooleanSupplier condition) {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean() && System.nanoTime() < end) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
    }
    assertThat(condition.getAsBoolean()).as("reached within 10 s").isTrue();
  }

  @Test
  void noSecondCallStartsForAKeyWhileItsAbandonedCallMayStillLand() {
    Executor executor = new Executor(OPTIONS);
    provider.script(k("a"), this::stubborn);

    Map<ResourceKey, Outcome> first = run(executor, Plans.of("p").create("a"));
    assertThat(first.get(k("a")).kind()).isEqualTo(Kind.UNKNOWN);
    assertThat(first.get(k("a")).message()).contains("timed out after 100 ms");
    assertThat(executor.abandoned().mayStillLand(k("a"))).isTrue();

    Map<ResourceKey, Outcome> second = run(executor, Plans.of("p").add(dev.gitops.api.Action.UPDATE, "a").create("b"));
    assertThat(second.get(k("a")).kind()).isEqualTo(Kind.UNKNOWN);
    assertThat(second.get(k("a")).message()).startsWith("not started: an earlier CREATE call was abandoned")
        .contains("may still land");
    assertThat(second.get(k("b")).kind()).as("other keys still run").isEqualTo(Kind.CREATED);
    assertThat(provider.attemptsOf(k("a"))).as("the key was not called again").isEqualTo(1);

    release.countDown();
    await(() -> !executor.abandoned().mayStillLand(k("a")));
    assertThat(executor.abandoned().get(k("a")).ended()).isTrue();
    Map<ResourceKey, Outcome> third = run(executor, Plans.of("p").add(dev.gitops.api.Action.UPDATE, "a"));
    assertThat(third.get(k("a")).kind()).isEqualTo(Kind.CONFIGURED);
    assertThat(provider.attemptsOf(k("a"))).isEqualTo(2);
  }

  @Test
  void callsThatIgnoreTheirDeadlineNeverMakeTheExecutorUseMoreThanTwiceItsParallelismInThreads() {
    Executor executor = new Executor(OPTIONS.withSyncTimeout(Duration.ofMillis(800)));
    Plans plan = Plans.of("p");
    for (String name : new String[] {"a", "b", "c", "d", "e", "f"}) {
      provider.script(k(name), this::stubborn);
      plan.create(name);
    }

    Map<ResourceKey, Outcome> out = run(executor, plan);

    assertThat(provider.maxRunning.get()).as("calls in progress at once, abandoned ones included").isLessThanOrEqualTo(2);
    assertThat(out.get(k("a")).message()).contains("timed out");
    assertThat(out.get(k("b")).message()).contains("timed out");
    assertThat(out.get(k("f")).message()).startsWith("cancelled before start: sync timed out");
    assertThat(executor.abandoned().keys()).containsExactlyInAnyOrder(k("a"), k("b"));

    // Once the abandoned calls return, their threads serve new calls again.
    release.countDown();
    Map<ResourceKey, Outcome> next = run(executor, Plans.of("p").create("g"));
    assertThat(next.get(k("g")).kind()).isEqualTo(Kind.CREATED);
  }
}
