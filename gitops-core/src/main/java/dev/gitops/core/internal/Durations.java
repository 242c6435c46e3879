package dev.gitops.core.internal;

import java.time.Duration;
import java.util.Objects;

/**
 * The one check of the durations the engine turns into deadlines and waits (timeouts, intervals,
 * backoffs): a longer one than {@link #MAX} ({@code ChronoUnit.FOREVER}, meant as no limit) would
 * overflow an instant or a count of nanoseconds in the middle of a sync, or wrap to a tiny
 * timeout where seconds are an {@code int}.
 */
public final class Durations {

  /** The longest duration taken: 36,500 days (about 100 years). */
  public static final Duration MAX = Duration.ofDays(36_500);

  private Durations() {}

  /**
   * {@code d}, when it is positive and at most {@link #MAX}.
   *
   * @throws IllegalArgumentException naming {@code name} otherwise
   */
  public static Duration positive(Duration d, String name) {
    Objects.requireNonNull(d, name);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, was " + d);
    }
    return atMostMax(d, name);
  }

  /**
   * {@code d}, when it is zero or positive and at most {@link #MAX}.
   *
   * @throws IllegalArgumentException naming {@code name} otherwise
   */
  public static Duration notNegative(Duration d, String name) {
    Objects.requireNonNull(d, name);
    if (d.isNegative()) {
      throw new IllegalArgumentException(name + " must not be negative, was " + d);
    }
    return atMostMax(d, name);
  }

  /**
   * {@code d} as the whole seconds JGit's network timeouts take: at least one, and at most what
   * JGit's {@code int} milliseconds hold (about 24 days; a longer one would turn negative there,
   * which JGit reads as no timeout at all).
   *
   * <pre>{@code
   * int seconds = Durations.jgitSeconds(Duration.ofMillis(500));  // 1
   * }</pre>
   */
  public static int jgitSeconds(Duration d) {
    return (int) Math.min(Integer.MAX_VALUE / 1000, Math.max(1, d.toSeconds()));
  }

  private static Duration atMostMax(Duration d, String name) {
    if (d.compareTo(MAX) > 0) {
      throw new IllegalArgumentException(name + " must be at most " + MAX.toDays() + " days (for no practical limit,"
          + " give that), was " + d);
    }
    return d;
  }

  /** {@code d} readable in messages: "200 ms", "1.5 s", "2 min", "2 min 5 s" (not {@code PT2M5S}). */
  public static String human(Duration d) {
    long ms = d.toMillis();
    if (ms < 1000) {
      return ms + " ms";
    }
    if (ms < 60_000) {
      return (ms % 1000 == 0 ? String.valueOf(ms / 1000) : String.valueOf(ms / 1000.0)) + " s";
    }
    long s = d.getSeconds();
    return s % 60 == 0 ? (s / 60) + " min" : (s / 60) + " min " + (s % 60) + " s";
  }
}
