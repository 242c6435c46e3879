package dev.gitops.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waits, bounded, for what other threads and processes bring about. */
public final class Await {

  private Await() {}

  /** Polls {@code condition} every 50 ms; fails naming {@code what} when it is still false after {@code within}. */
  public static void until(String what, BooleanSupplier condition, Duration within) throws InterruptedException {
    long end = System.nanoTime() + within.toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("%s within %s", what, within).isLessThan(end);
      Thread.sleep(50);
    }
  }
}
