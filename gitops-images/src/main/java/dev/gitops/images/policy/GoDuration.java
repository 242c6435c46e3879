package dev.gitops.images.policy;

import dev.gitops.images.registry.ImageReference;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.Map;

/**
 * Durations as Flux writes them ({@code metav1.Duration}, read by Go's {@code time.ParseDuration}):
 * a sequence of decimal numbers, each with an optional fraction and a unit ({@code ns}, {@code us}
 * or {@code µs}, {@code ms}, {@code s}, {@code m}, {@code h}), with an optional sign before the
 * first: {@code 60s}, {@code 1m30s}, {@code 1.5h}, {@code 300ms}, {@code -5s}; {@code 0} alone
 * needs no unit. Days and ISO-8601 ({@code PT30S}) are not Go's, and are refused.
 */
final class GoDuration {

  private static final long NS_PER_US = 1_000L;
  private static final long NS_PER_MS = 1_000_000L;
  private static final long NS_PER_S = 1_000_000_000L;

  /** Go's unit map: nanoseconds per unit; {@code µs} is written with the micro sign or the Greek mu. */
  private static final Map<String, Long> UNITS = Map.of(
      "ns", 1L, "us", NS_PER_US, "\u00b5s", NS_PER_US, "\u03bcs", NS_PER_US, "ms", NS_PER_MS,
      "s", NS_PER_S, "m", 60 * NS_PER_S, "h", 3600 * NS_PER_S);

  /** The largest duration Go holds: an int64 of nanoseconds (about 292 years). */
  private static final BigInteger MAX_NANOS = BigInteger.valueOf(Long.MAX_VALUE);

  private GoDuration() {}

  /**
   * The duration {@code text} spells, negative and zero included (the caller decides what it takes).
   *
   * @throws IllegalArgumentException saying what is wrong, as Go's {@code time.ParseDuration} refuses it
   */
  static Duration parse(String text) {
    String s = text;
    boolean negative = false;
    if (!s.isEmpty() && (s.charAt(0) == '-' || s.charAt(0) == '+')) {
      negative = s.charAt(0) == '-';
      s = s.substring(1);
    }
    if (s.equals("0")) {
      return Duration.ZERO;
    }
    if (s.isEmpty()) {
      throw invalid(text, "it holds no number");
    }
    BigInteger total = BigInteger.ZERO;
    int i = 0;
    while (i < s.length()) {
      int start = i;
      while (i < s.length() && isDigit(s.charAt(i))) {
        i++;
      }
      String whole = s.substring(start, i);
      String fraction = "";
      if (i < s.length() && s.charAt(i) == '.') {
        int f = ++i;
        while (i < s.length() && isDigit(s.charAt(i))) {
          i++;
        }
        fraction = s.substring(f, i);
      }
      if (whole.isEmpty() && fraction.isEmpty()) {
        // the next character must start a number: "abc", "5s x", ".s"
        throw invalid(text, "a number is expected at " + ImageReference.quoted(s.substring(start)));
      }
      int u = i;
      while (i < s.length() && s.charAt(i) != '.' && !isDigit(s.charAt(i))) {
        i++;
      }
      String unit = s.substring(u, i);
      if (unit.isEmpty()) {
        throw invalid(text, "the number " + s.substring(start, u) + " has no unit");
      }
      Long nanos = UNITS.get(unit);
      if (nanos == null) {
        throw invalid(text, "unknown unit " + ImageReference.quoted(unit));
      }
      // exact, then cut to whole nanoseconds, as Go drops what is finer than a nanosecond
      BigDecimal value = new BigDecimal((whole.isEmpty() ? "0" : whole) + (fraction.isEmpty() ? "" : "." + fraction));
      total = total.add(value.multiply(BigDecimal.valueOf(nanos)).toBigInteger());
      if (total.compareTo(MAX_NANOS) > 0) {
        throw invalid(text, "it is longer than Go's longest duration (about 292 years)");
      }
    }
    long n = total.longValueExact();
    return Duration.ofNanos(negative ? -n : n);
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static IllegalArgumentException invalid(String text, String why) {
    return new IllegalArgumentException(ImageReference.quoted(text) + " is not a duration (" + why + "); write one"
        + " such as 60s, 1m30s or 500ms: numbers with the units ns, us, ms, s, m, h, as Go's time.ParseDuration reads them");
  }
}
