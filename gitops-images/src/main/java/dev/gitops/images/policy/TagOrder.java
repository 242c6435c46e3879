package dev.gitops.images.policy;

import java.math.BigDecimal;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How a policy ranks the tags that passed its filter, and which it takes: the highest version in a
 * semver range, or the last in alphabetical or numerical order ({@link Direction#ASC}, the default,
 * takes the greatest; {@link Direction#DESC} the least). A value the order cannot read (not a
 * version, not a number) is skipped.
 *
 * <pre>{@code
 * TagOrder.semver(">=1.0.0 <2.0.0");
 * TagOrder.alphabetical(TagOrder.Direction.ASC);   // e.g. RELEASE.2024-06-01T00-00-00Z
 * TagOrder.numerical(TagOrder.Direction.ASC);      // e.g. build numbers or timestamps
 * }</pre>
 */
public sealed interface TagOrder {

  /** Which end of the order a policy takes. */
  enum Direction {
    /** Ascending order; the last (greatest) value wins. */
    ASC,
    /** Descending order; the last (least) value wins. */
    DESC
  }

  /** A value that passed the filter, with the tag it came from. */
  record Candidate(String tag, String value) {}

  /** Whether {@code value} can take part: a version in the range, a number, any text. */
  boolean accepts(String value);

  /**
   * The winner among {@code candidates}, all accepted; empty when there are none. Ties go as in
   * Flux, wherever Flux's choice does not hang on Go's map order: of several tags giving the same
   * value (through a filter's {@code extract}), the greatest tag wins (the last of a sorted listing,
   * which Flux's filter keeps); of equal numbers ({@code 1} and {@code 1.0}, or two that are one
   * 64-bit float) also the greatest tag, in both directions; of equal versions written apart
   * ({@code 1.2.3} and {@code v1.2.3}) the first in {@code candidates}.
   */
  Optional<Candidate> choose(List<Candidate> candidates);

  /**
   * Whether {@code value} ranks above {@code other} in this order, so that the order would take it
   * over {@code other}: a higher version (whether or not the range holds it, pre-releases
   * included), a later text or a greater number ({@link Direction#ASC}), or an earlier or smaller
   * one ({@link Direction#DESC}). False when either value is not one the order can read (not a
   * version, not a number) or when they rank the same.
   *
   * <pre>{@code
   * TagOrder.semver("^1.2").ranksAbove("v2.0.0", "v1.2.4");                   // true: never downgrade to 1.2.4
   * TagOrder.numerical(TagOrder.Direction.ASC).ranksAbove("10", "9");         // true
   * TagOrder.alphabetical(TagOrder.Direction.DESC).ranksAbove("a", "b");      // true
   * }</pre>
   */
  boolean ranksAbove(String value, String other);

  /**
   * The highest version ({@code X.Y.Z}, optional {@code v}) in {@code range}, read as Flux reads it
   * ({@link SemverConstraints}: Masterminds semver); a pre-release only when every comparator of an
   * AND-set names one.
   *
   * @throws IllegalArgumentException naming the range when it does not parse
   */
  static TagOrder semver(String range) {
    return new Semver(range, SemverConstraints.parse(range));
  }

  /** The last value in alphabetical ({@code ASC}) or reverse ({@code DESC}) order. */
  static TagOrder alphabetical(Direction direction) {
    return new Alphabetical(Objects.requireNonNull(direction, "direction"));
  }

  /**
   * The last value in numerical order; values that are not numbers are skipped, and so are those
   * too large for a 64-bit float ({@code 1e400}), which Flux's {@code strconv.ParseFloat} refuses.
   * (Flux fails the whole policy on such a value instead; a tag like {@code latest} beside the
   * build numbers would stop it.) Values are compared as the 64-bit floats {@code ParseFloat}
   * gives; of equal ones the greatest tag wins ({@link #choose}).
   *
   * <pre>{@code
   * TagOrder.numerical(TagOrder.Direction.ASC).ranksAbove("1.0", "1");   // false: one float64
   * }</pre>
   */
  static TagOrder numerical(Direction direction) {
    return new Numerical(Objects.requireNonNull(direction, "direction"));
  }

  /**
   * One candidate per value, in the order of their first appearance: of the tags giving one value,
   * the greatest (by code point), as Flux's tag filter keeps the last of a sorted listing.
   */
  private static List<Candidate> greatestTagPerValue(List<Candidate> candidates) {
    java.util.Map<String, Candidate> byValue = new java.util.LinkedHashMap<>();
    for (Candidate c : candidates) {
      byValue.merge(c.value(), c, (kept, next) -> Alphabetical.byCodePoint(next.tag(), kept.tag()) > 0 ? next : kept);
    }
    return List.copyOf(byValue.values());
  }

  /** A semver range. */
  record Semver(String range, SemverConstraints parsed) implements TagOrder {
    @Override
    public boolean accepts(String value) {
      return parsed.includes(value);
    }

    @Override
    public Optional<Candidate> choose(List<Candidate> candidates) {
      List<Candidate> unique = greatestTagPerValue(candidates);
      Optional<String> best = parsed.highest(unique.stream().map(Candidate::value).toList());
      return best.flatMap(v -> unique.stream().filter(c -> c.value().equals(v)).findFirst());
    }

    @Override
    public boolean ranksAbove(String value, String other) {
      Optional<SemverConstraints.Version> a = SemverConstraints.Version.parseTag(value);
      Optional<SemverConstraints.Version> b = SemverConstraints.Version.parseTag(other);
      return a.isPresent() && b.isPresent() && a.get().compareTo(b.get()) > 0;
    }

    @Override
    public String toString() {
      return "semver " + range;
    }
  }

  /** Alphabetical order. */
  record Alphabetical(Direction direction) implements TagOrder {
    @Override
    public boolean accepts(String value) {
      return true;
    }

    @Override
    public Optional<Candidate> choose(List<Candidate> candidates) {
      // by code point, as Go's sort.Strings orders UTF-8 bytes (Java's compareTo orders UTF-16 units); one tag per
      // value, so no tie is left to break
      Comparator<Candidate> c = Comparator.comparing(Candidate::value, Alphabetical::byCodePoint);
      List<Candidate> unique = greatestTagPerValue(candidates);
      return direction == Direction.ASC ? unique.stream().max(c) : unique.stream().min(c);
    }

    @Override
    public boolean ranksAbove(String value, String other) {
      int c = byCodePoint(value, other);
      return direction == Direction.ASC ? c > 0 : c < 0;
    }

    static int byCodePoint(String a, String b) {
      int i = 0;
      int j = 0;
      while (i < a.length() && j < b.length()) {
        int x = a.codePointAt(i);
        int y = b.codePointAt(j);
        if (x != y) {
          return Integer.compare(x, y);
        }
        i += Character.charCount(x);
        j += Character.charCount(y);
      }
      return Boolean.compare(i < a.length(), j < b.length());
    }

    @Override
    public String toString() {
      return "alphabetical " + direction.name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Numerical order. */
  record Numerical(Direction direction) implements TagOrder {
    @Override
    public boolean accepts(String value) {
      return number(value).isPresent();
    }

    @Override
    public Optional<Candidate> choose(List<Candidate> candidates) {
      // compared as the 64-bit floats Flux compares (strconv.ParseFloat), where an equal value replaces the one
      // before it in either direction: of equal numbers the greatest tag wins, the last of a sorted listing
      Comparator<Candidate> byNumber = Comparator.comparingDouble(x -> number(x.value()).orElseThrow());
      Comparator<Candidate> c = (direction == Direction.ASC ? byNumber : byNumber.reversed())
          .thenComparing(Candidate::tag, Alphabetical::byCodePoint);
      return candidates.stream().max(c);
    }

    @Override
    public boolean ranksAbove(String value, String other) {
      Optional<Double> a = number(value);
      Optional<Double> b = number(other);
      if (a.isEmpty() || b.isEmpty()) {
        return false;
      }
      int c = Double.compare(a.get(), b.get());
      return direction == Direction.ASC ? c > 0 : c < 0;
    }

    /**
     * The value as the 64-bit float Go's {@code strconv.ParseFloat(v, 64)} reads (-0 as 0, which
     * Go's {@code <} does not tell apart), or empty when it is no decimal number or too large for one.
     */
    private static Optional<Double> number(String value) {
      // a tag is up to 128 characters and every one may be a digit: a longer number is still one to ParseFloat
      if (value.isEmpty() || value.length() > 4096 || !value.chars().allMatch(ch -> ch < 0x80)) {
        return Optional.empty();  // BigDecimal would read other scripts' digits, which no Go parser takes
      }
      BigDecimal number;
      try {
        number = new BigDecimal(value);
      } catch (NumberFormatException e) {
        return Optional.empty();  // not a number: the tag is skipped and counted
      }
      // Flux reads the value with Go's strconv.ParseFloat(value, 64), which refuses one that rounds
      // past the largest float64 (1e400: ErrRange), so Flux never takes it; here it is skipped, as a
      // value that is no number is. BigDecimal.doubleValue rounds as ParseFloat does (IEEE 754,
      // to nearest even), so it is infinite exactly where ParseFloat overflows.
      if (Double.isInfinite(number.doubleValue())) {
        return Optional.empty();
      }
      return Optional.of(number.doubleValue() + 0.0);
    }

    @Override
    public String toString() {
      return "numerical " + direction.name().toLowerCase(java.util.Locale.ROOT);
    }
  }
}
