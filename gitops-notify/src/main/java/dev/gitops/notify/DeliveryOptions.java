package dev.gitops.notify;

import java.time.Duration;
import java.util.Objects;

/**
 * How an HTTP notifier delivers: its queue's capacity, how often and how patiently it retries.
 * Immutable; made with a {@link #builder()} (or changed from an instance with {@link
 * #toBuilder()}); every part has a default, so a builder only names what differs from {@link
 * #defaults()}.
 *
 * <pre>{@code
 * DeliveryOptions patient = DeliveryOptions.builder()
 *     .queueCapacity(1000)
 *     .maxAttempts(8)
 *     .backoff(Duration.ofSeconds(2), Duration.ofMinutes(2))
 *     .build();
 * DeliveryOptions impatient = patient.toBuilder().maxAttempts(1).build();
 * }</pre>
 */
public final class DeliveryOptions {

  private final int queueCapacity;
  private final int maxAttempts;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final Duration requestTimeout;

  private DeliveryOptions(Builder b) {
    this.queueCapacity = b.queueCapacity;
    this.maxAttempts = b.maxAttempts;
    this.initialBackoff = b.initialBackoff;
    this.maxBackoff = b.maxBackoff;
    this.requestTimeout = b.requestTimeout;
  }

  /** 100 queued, 5 attempts, 1 s doubling to 60 s, 10 s per request. */
  public static DeliveryOptions defaults() {
    return builder().build();
  }

  /** A builder holding the {@linkplain #defaults() defaults}. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding these options. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.queueCapacity = queueCapacity;
    b.maxAttempts = maxAttempts;
    b.initialBackoff = initialBackoff;
    b.maxBackoff = maxBackoff;
    b.requestTimeout = requestTimeout;
    return b;
  }

  /** Notifications waiting at most; more are dropped (and counted). */
  public int queueCapacity() {
    return queueCapacity;
  }

  /** Attempts per notification, the first included. */
  public int maxAttempts() {
    return maxAttempts;
  }

  /** The wait before the second attempt; it doubles (with jitter) up to {@link #maxBackoff()}. */
  public Duration initialBackoff() {
    return initialBackoff;
  }

  /** The longest wait between attempts (a Retry-After header is honoured up to it). */
  public Duration maxBackoff() {
    return maxBackoff;
  }

  /** How long one request may take. */
  public Duration requestTimeout() {
    return requestTimeout;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DeliveryOptions d && queueCapacity == d.queueCapacity && maxAttempts == d.maxAttempts
        && initialBackoff.equals(d.initialBackoff) && maxBackoff.equals(d.maxBackoff)
        && requestTimeout.equals(d.requestTimeout);
  }

  @Override
  public int hashCode() {
    return Objects.hash(queueCapacity, maxAttempts, initialBackoff, maxBackoff, requestTimeout);
  }

  @Override
  public String toString() {
    return "DeliveryOptions[queueCapacity=" + queueCapacity + ", maxAttempts=" + maxAttempts + ", initialBackoff="
        + initialBackoff + ", maxBackoff=" + maxBackoff + ", requestTimeout=" + requestTimeout + "]";
  }

  /** Builds {@link DeliveryOptions}; {@link #build()} checks the values together. */
  public static final class Builder {
    private int queueCapacity = 100;
    private int maxAttempts = 5;
    private Duration initialBackoff = Duration.ofSeconds(1);
    private Duration maxBackoff = Duration.ofSeconds(60);
    private Duration requestTimeout = Duration.ofSeconds(10);

    private Builder() {}

    /**
     * Notifications waiting at most (default 100, at least 1, up to {@link Integer#MAX_VALUE}); more
     * are dropped (and counted). Memory is taken by what waits, not set aside for the capacity.
     */
    public Builder queueCapacity(int n) {
      this.queueCapacity = n;
      return this;
    }

    /** Attempts per notification, the first included (default 5, at least 1). */
    public Builder maxAttempts(int n) {
      this.maxAttempts = n;
      return this;
    }

    /**
     * The wait before the second attempt, doubling (with jitter) up to {@code max}, the longest
     * wait between attempts (default 1 s and 60 s; {@code 0 <= initial <= max}).
     */
    public Builder backoff(Duration initial, Duration max) {
      this.initialBackoff = Objects.requireNonNull(initial, "initialBackoff");
      this.maxBackoff = Objects.requireNonNull(max, "maxBackoff");
      return this;
    }

    /** How long one request may take (default 10 s, positive). */
    public Builder requestTimeout(Duration d) {
      this.requestTimeout = Objects.requireNonNull(d, "requestTimeout");
      return this;
    }

    /**
     * The options.
     *
     * @throws IllegalArgumentException naming the part out of range
     */
    public DeliveryOptions build() {
      if (queueCapacity < 1) {
        throw new IllegalArgumentException("queueCapacity must be at least 1, got " + queueCapacity);
      }
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be at least 1, got " + maxAttempts);
      }
      if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0) {
        throw new IllegalArgumentException("backoff must satisfy 0 <= initial <= max, got " + initialBackoff + " and "
            + maxBackoff);
      }
      if (requestTimeout.isNegative() || requestTimeout.isZero()) {
        throw new IllegalArgumentException("requestTimeout must be positive, got " + requestTimeout);
      }
      return new DeliveryOptions(this);
    }
  }
}
