package dev.gitops.notify;

import java.time.Duration;
import java.util.Objects;

/**
 * How an HTTP notifier delivers: its queue's capacity, how often and how patiently it retries.
 *
 * <pre>{@code
 * DeliveryOptions patient = DeliveryOptions.defaults().withQueueCapacity(1000).withMaxAttempts(8)
 *     .withBackoff(Duration.ofSeconds(2), Duration.ofMinutes(2));
 * }</pre>
 *
 * @param queueCapacity notifications waiting at most; more are dropped (and counted)
 * @param maxAttempts attempts per notification, the first included
 * @param initialBackoff the wait before the second attempt; it doubles (with jitter) up to {@code maxBackoff}
 * @param maxBackoff the longest wait between attempts (a Retry-After header is honoured up to it)
 * @param requestTimeout how long one request may take
 */
public record DeliveryOptions(int queueCapacity, int maxAttempts, Duration initialBackoff, Duration maxBackoff,
    Duration requestTimeout) {

  /** Checks. */
  public DeliveryOptions {
    if (queueCapacity < 1) {
      throw new IllegalArgumentException("queueCapacity must be at least 1, got " + queueCapacity);
    }
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1, got " + maxAttempts);
    }
    Objects.requireNonNull(initialBackoff, "initialBackoff");
    Objects.requireNonNull(maxBackoff, "maxBackoff");
    Objects.requireNonNull(requestTimeout, "requestTimeout");
    if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException("backoff must satisfy 0 <= initial <= max, got " + initialBackoff + " and "
          + maxBackoff);
    }
    if (requestTimeout.isNegative() || requestTimeout.isZero()) {
      throw new IllegalArgumentException("requestTimeout must be positive, got " + requestTimeout);
    }
  }

  /** 100 queued, 5 attempts, 1 s doubling to 60 s, 10 s per request. */
  public static DeliveryOptions defaults() {
    return new DeliveryOptions(100, 5, Duration.ofSeconds(1), Duration.ofSeconds(60), Duration.ofSeconds(10));
  }

  /** With another queue capacity. */
  public DeliveryOptions withQueueCapacity(int n) {
    return new DeliveryOptions(n, maxAttempts, initialBackoff, maxBackoff, requestTimeout);
  }

  /** With another number of attempts. */
  public DeliveryOptions withMaxAttempts(int n) {
    return new DeliveryOptions(queueCapacity, n, initialBackoff, maxBackoff, requestTimeout);
  }

  /** With another backoff. */
  public DeliveryOptions withBackoff(Duration initial, Duration max) {
    return new DeliveryOptions(queueCapacity, maxAttempts, initial, max, requestTimeout);
  }

  /** With another request timeout. */
  public DeliveryOptions withRequestTimeout(Duration d) {
    return new DeliveryOptions(queueCapacity, maxAttempts, initialBackoff, maxBackoff, d);
  }
}
