package dev.gitops.core.apply;

import java.time.Duration;
import java.util.Objects;
import java.util.Random;

/**
 * How TRANSIENT failures are retried: up to {@code maxAttempts} attempts in all, waiting an
 * exponentially growing delay with random jitter between them.
 *
 * <pre>{@code
 * RetryPolicy p = RetryPolicy.defaults().withMaxAttempts(3);
 * Duration wait = p.delay(1, new Random());   // about 200 ms, +-20 %
 * }</pre>
 *
 * @param maxAttempts attempts in all, the first included (1 means no retry)
 * @param initialBackoff the delay after the first failed attempt
 * @param maxBackoff the longest delay, jitter included
 * @param jitter the random spread, as a fraction of the delay (0.2 means +-20 %), in [0, 1]
 */
public record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff, double jitter) {

  /** Validates. */
  public RetryPolicy {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("retry maxAttempts must be at least 1, was " + maxAttempts);
    }
    Objects.requireNonNull(initialBackoff, "initialBackoff");
    Objects.requireNonNull(maxBackoff, "maxBackoff");
    if (initialBackoff.isNegative() || maxBackoff.isNegative()) {
      throw new IllegalArgumentException("retry backoffs must not be negative: initial=" + initialBackoff
          + ", max=" + maxBackoff);
    }
    if (maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException("retry maxBackoff " + maxBackoff + " is below initialBackoff "
          + initialBackoff);
    }
    if (!(jitter >= 0 && jitter <= 1)) {
      throw new IllegalArgumentException("retry jitter must be in [0, 1], was " + jitter);
    }
  }

  /** Five attempts, 200 ms doubling up to 30 s, 20 % jitter. */
  public static RetryPolicy defaults() {
    return new RetryPolicy(5, Duration.ofMillis(200), Duration.ofSeconds(30), 0.2);
  }

  /** A single attempt: failures are final. */
  public static RetryPolicy none() {
    return new RetryPolicy(1, Duration.ZERO, Duration.ZERO, 0);
  }

  /**
   * The delay before the attempt after {@code failedAttempt} (counted from 1): {@code
   * initialBackoff * 2^(failedAttempt-1)}, spread by the jitter and capped at {@code maxBackoff}.
   */
  public Duration delay(int failedAttempt, Random random) {
    if (failedAttempt < 1) {
      throw new IllegalArgumentException("attempt counts from 1, was " + failedAttempt);
    }
    double base = initialBackoff.toNanos() * Math.pow(2, Math.min(failedAttempt - 1, 62));
    double spread = jitter == 0 ? 1 : 1 + jitter * (2 * random.nextDouble() - 1);
    double nanos = Math.min(base * spread, (double) maxBackoff.toNanos());
    return Duration.ofNanos((long) Math.max(0, nanos));
  }

  /** Whether another attempt may follow {@code attempt}. */
  public boolean allowsAfter(int attempt) {
    return attempt < maxAttempts;
  }

  /** This policy with another number of attempts. */
  public RetryPolicy withMaxAttempts(int n) {
    return new RetryPolicy(n, initialBackoff, maxBackoff, jitter);
  }

  /** This policy with other backoff bounds. */
  public RetryPolicy withBackoff(Duration initial, Duration max) {
    return new RetryPolicy(maxAttempts, initial, max, jitter);
  }

  /** This policy with another jitter. */
  public RetryPolicy withJitter(double newJitter) {
    return new RetryPolicy(maxAttempts, initialBackoff, maxBackoff, newJitter);
  }
}
