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

  /** The winner among {@code candidates}, all accepted; empty when there are none. */
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
   */
  static TagOrder numerical(Direction direction) {
    return new Numerical(Objects.requireNonNull(direction, "direction"));
  }

  /** A semver range. */
  record Semver(String range, SemverConstraints parsed) implements TagOrder {
    @Override
    public boolean accepts(String value) {
      return parsed.includes(value);
    }

    @Override
    public Optional<Candidate> choose(List<Candidate> candidates) {
      Optional<String> best = parsed.highest(candidates.stream().map(Candidate::value).toList());
      return best.flatMap(v -> candidates.stream().filter(c -> c.value().equals(v)).findFirst());
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
      // by code point, as Go's sort.Strings orders UTF-8 bytes (Java's compareTo orders UTF-16 units)
      Comparator<Candidate> c = Comparator.comparing(Candidate::value, Alphabetical::byCodePoint)
          .thenComparing(Candidate::tag, Alphabetical::byCodePoint);
      return direction == Direction.ASC ? candidates.stream().max(c) : candidates.stream().min(c);
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
      Comparator<Candidate> c = Comparator.<Candidate, BigDecimal>comparing(x -> number(x.value()).orElseThrow())
          .thenComparing(Candidate::tag);
      return direction == Direction.ASC ? candidates.stream().max(c) : candidates.stream().min(c);
    }

    @Override
    public boolean ranksAbove(String value, String other) {
      Optional<BigDecimal> a = number(value);
      Optional<BigDecimal> b = number(other);
      if (a.isEmpty() || b.isEmpty()) {
        return false;
      }
      int c = a.get().compareTo(b.get());
      return direction == Direction.ASC ? c > 0 : c < 0;
    }

    private static Optional<BigDecimal> number(String value) {
      if (value.isEmpty() || value.length() > 100) {
        return Optional.empty();
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
      return Optional.of(number);
    }

    @Override
    public String toString() {
      return "numerical " + direction.name().toLowerCase(java.util.Locale.ROOT);
    }
  }
}
