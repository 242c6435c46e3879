package dev.gitops.core.apply;

import dev.gitops.core.internal.Durations;
import java.time.Duration;
import java.util.Objects;

/**
 * How the {@link Executor} runs a plan. Immutable; change it with the {@code with...} methods.
 *
 * <pre>{@code
 * ExecutionOptions o = ExecutionOptions.defaults()
 *     .withParallelism(8)
 *     .withCallTimeout(Duration.ofSeconds(30))
 *     .withRetry(RetryPolicy.defaults().withMaxAttempts(3));
 * }</pre>
 *
 * @param parallelism how many provider calls run at once (a batch counts as one)
 * @param retry how TRANSIENT failures are retried
 * @param callTimeout how long one provider call may take (capped by the sync deadline)
 * @param syncTimeout how long a whole {@code execute} may take; then it is cancelled
 * @param healthTimeout how long an applied object may take to become healthy (or a deleted one
 *     to disappear)
 * @param healthPollInterval how often health is checked while waiting
 * @param waitForHealth whether applied objects are waited on until healthy before their
 *     dependents start; when false, an applied object is observed once (to verify it) and then
 *     done. Either way a deleted object is watched until it is observed absent (up to {@code
 *     healthTimeout}): a delete is never forgotten before that
 */
public record ExecutionOptions(int parallelism, RetryPolicy retry, Duration callTimeout, Duration syncTimeout,
    Duration healthTimeout, Duration healthPollInterval, boolean waitForHealth) {

  /** Validates. */
  public ExecutionOptions {
    if (parallelism < 1) {
      throw new IllegalArgumentException("parallelism must be at least 1, was " + parallelism);
    }
    Objects.requireNonNull(retry, "retry");
    positive(callTimeout, "callTimeout");
    positive(syncTimeout, "syncTimeout");
    positive(healthTimeout, "healthTimeout");
    positive(healthPollInterval, "healthPollInterval");
  }

  /**
   * The longest duration taken (about 100 years): deadlines are instants and waits nanoseconds, so
   * a longer one ({@code ChronoUnit.FOREVER}, meant as no limit) would overflow in the middle of a sync.
   */
  public static final Duration MAX = Durations.MAX;

  private static void positive(Duration d, String name) {
    Durations.positive(d, name);
  }

  /**
   * Parallelism 4, {@link RetryPolicy#defaults()}, 2 min per call, 30 min per sync, 5 min health
   * timeout polled every second, waiting for health.
   */
  public static ExecutionOptions defaults() {
    return new ExecutionOptions(4, RetryPolicy.defaults(), Duration.ofMinutes(2), Duration.ofMinutes(30),
        Duration.ofMinutes(5), Duration.ofSeconds(1), true);
  }

  /** With another parallelism. */
  public ExecutionOptions withParallelism(int n) {
    return new ExecutionOptions(n, retry, callTimeout, syncTimeout, healthTimeout, healthPollInterval, waitForHealth);
  }

  /** With another retry policy. */
  public ExecutionOptions withRetry(RetryPolicy r) {
    return new ExecutionOptions(parallelism, r, callTimeout, syncTimeout, healthTimeout, healthPollInterval,
        waitForHealth);
  }

  /** With another per-call timeout. */
  public ExecutionOptions withCallTimeout(Duration d) {
    return new ExecutionOptions(parallelism, retry, d, syncTimeout, healthTimeout, healthPollInterval, waitForHealth);
  }

  /** With another whole-sync timeout. */
  public ExecutionOptions withSyncTimeout(Duration d) {
    return new ExecutionOptions(parallelism, retry, callTimeout, d, healthTimeout, healthPollInterval, waitForHealth);
  }

  /** With another health timeout. */
  public ExecutionOptions withHealthTimeout(Duration d) {
    return new ExecutionOptions(parallelism, retry, callTimeout, syncTimeout, d, healthPollInterval, waitForHealth);
  }

  /** With another health poll interval. */
  public ExecutionOptions withHealthPollInterval(Duration d) {
    return new ExecutionOptions(parallelism, retry, callTimeout, syncTimeout, healthTimeout, d, waitForHealth);
  }

  /** Waiting for health (and for deletes to finish) or not. */
  public ExecutionOptions withWaitForHealth(boolean wait) {
    return new ExecutionOptions(parallelism, retry, callTimeout, syncTimeout, healthTimeout, healthPollInterval, wait);
  }
}
