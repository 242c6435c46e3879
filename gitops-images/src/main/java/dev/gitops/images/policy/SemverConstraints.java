package dev.gitops.images.policy;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A semver range read as Flux's {@code ImagePolicy} reads {@code spec.policy.semver.range}: the
 * constraints of Masterminds semver v3. Comparators {@code =}, {@code !=}, {@code >}, {@code <},
 * {@code >=} ({@code =>}), {@code <=} ({@code =<}), tilde {@code ~1.2} ({@code ~>}), caret
 * {@code ^1.2}, wildcards {@code 1.x}, {@code 1.2.*}, {@code *}; a space or a comma between
 * comparators means AND, {@code ||} means OR, and {@code 1.0.0 - 2.0.0} is {@code >= 1.0.0, <=
 * 2.0.0}. Spaces may follow an operator ({@code >= 1.0}).
 *
 * <p>Pre-releases follow Masterminds exactly: a comparator whose own version has no pre-release
 * rejects every pre-release version. So a pre-release matches an AND-set only when it satisfies
 * every comparator and each of them names a pre-release ({@code >=1.2.0-0 <2.0.0-0}); with
 * {@code >=1.2.0-0 <2.0.0} no pre-release matches.
 *
 * <p>Tags are versions {@code X.Y.Z} with an optional {@code v}, pre-release and build (as Flux's
 * strict parse); anything else is not a version, nor is a numeric pre-release identifier with a
 * leading zero ({@code 1.2.3-01}), which SemVer 2.0.0 forbids.
 *
 * <pre>{@code
 * SemverConstraints range = SemverConstraints.parse(">= 1.2, < 2.0");
 * range.includes("v1.10.0");                                        // true
 * range.highest(List.of("v1.10.0", "v1.2.0-rc.2", "v2.0.0-beta.1")); // Optional[v1.10.0]
 * }</pre>
 */
public final class SemverConstraints {

  private static final String IDENT = "[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*";
  /** A pre-release identifier of a tag: a number without leading zeros, or not only digits (SemVer 2.0.0). */
  private static final String PRE_IDENT = "(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)";
  private static final Pattern TAG = Pattern.compile("v?(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(?:-("
      + PRE_IDENT + "(?:\\." + PRE_IDENT + ")*))?(?:\\+" + IDENT + ")?");
  /** A constraint's version: parts may be wildcards or missing. */
  private static final Pattern CV = Pattern.compile(
      "v?([0-9xX*]+)(?:\\.([0-9xX*]+))?(?:\\.([0-9xX*]+))?(?:-(" + IDENT + "))?(?:\\+" + IDENT + ")?");
  /** A constraint's version as one piece, for the hyphen range. */
  private static final String CV_TEXT = "v?[0-9xX*]+(?:\\.[0-9xX*]+)?(?:\\.[0-9xX*]+)?(?:-" + IDENT + ")?(?:\\+" + IDENT + ")?";
  /** A hyphen range, rewritten to {@code >= a, <= b} before anything else is read (as Masterminds does). */
  private static final Pattern HYPHEN_RANGE = Pattern.compile("\\s*(" + CV_TEXT + ")\\s+-\\s+(" + CV_TEXT + ")\\s*");
  /** Operators, longest first (a shorter one is never what a longer one's text means). */
  private static final List<String> OPERATORS = List.of("!=", ">=", "=>", "<=", "=<", "~>", ">", "<", "=", "~", "^");

  /**
   * A version: numbers, and the pre-release ("" for a release). Build metadata plays no part. The
   * numbers are unsigned 64-bit, as Masterminds semver v3 reads them ({@code strconv.ParseUint(s,
   * 10, 64)}): {@code 18446744073709551615.0.0} is a version, compared as unsigned; one number
   * larger is no version there, nor here.
   */
  record Version(long major, long minor, long patch, String pre) implements Comparable<Version> {

    static Optional<Version> parseTag(String tag) {
      Matcher m = TAG.matcher(tag);
      if (!m.matches()) {
        return Optional.empty();
      }
      try {
        return Optional.of(new Version(Long.parseUnsignedLong(m.group(1)), Long.parseUnsignedLong(m.group(2)),
            Long.parseUnsignedLong(m.group(3)), m.group(4) == null ? "" : m.group(4)));
      } catch (NumberFormatException tooLarge) {
        return Optional.empty();  // above 2^64-1: Masterminds' ParseUint fails, so not a version Flux can read either
      }
    }

    boolean isPrerelease() {
      return !pre.isEmpty();
    }

    @Override
    public int compareTo(Version o) {
      int c = Long.compareUnsigned(major, o.major);
      if (c == 0) {
        c = Long.compareUnsigned(minor, o.minor);
      }
      if (c == 0) {
        c = Long.compareUnsigned(patch, o.patch);
      }
      return c != 0 ? c : comparePrerelease(pre, o.pre);
    }

    static int comparePrerelease(String a, String b) {
      if (a.equals(b)) {
        return 0;
      }
      if (a.isEmpty() || b.isEmpty()) {
        return a.isEmpty() ? 1 : -1;  // a release is above its pre-releases
      }
      String[] x = a.split("\\.");
      String[] y = b.split("\\.");
      for (int i = 0; i < Math.min(x.length, y.length); i++) {
        int d = compareIdentifier(x[i], y[i]);
        if (d != 0) {
          return d;
        }
      }
      return Integer.compare(x.length, y.length);
    }

    private static int compareIdentifier(String a, String b) {
      boolean an = a.chars().allMatch(Character::isDigit);
      boolean bn = b.chars().allMatch(Character::isDigit);
      if (an && bn) {
        return new java.math.BigInteger(a).compareTo(new java.math.BigInteger(b));
      }
      if (an != bn) {
        return an ? -1 : 1;  // numbers sort below words
      }
      return Integer.signum(a.compareTo(b));
    }

    @Override
    public String toString() {
      return Long.toUnsignedString(major) + "." + Long.toUnsignedString(minor) + "." + Long.toUnsignedString(patch)
          + (pre.isEmpty() ? "" : "-" + pre);
    }
  }

  /**
   * One comparator, as Masterminds keeps it: the operator, the version with wildcards and missing
   * parts as zeros, and which parts were wildcards ({@code dirty}: some were).
   */
  private record Comparator(String op, Version con, boolean dirty, boolean minorDirty, boolean patchDirty) {

    boolean check(Version v) {
      return switch (op) {
        case "!=" -> notEqual(v);
        case ">" -> preOk(v) && greaterThan(v);
        case "<" -> preOk(v) && v.compareTo(con) < 0;
        case ">=", "=>" -> preOk(v) && v.compareTo(con) >= 0;
        case "<=", "=<" -> preOk(v) && lessThanEqual(v);
        case "~", "~>" -> preOk(v) && tilde(v);
        case "^" -> preOk(v) && caret(v);
        default -> preOk(v) && (dirty ? tilde(v) : v.compareTo(con) == 0);
      };
    }

    /** A comparator without a pre-release of its own is only looking for release versions. */
    private boolean preOk(Version v) {
      return !v.isPrerelease() || con.isPrerelease();
    }

    private boolean notEqual(Version v) {
      if (dirty) {
        if (!preOk(v)) {
          return false;
        }
        if (con.major() != v.major()) {
          return true;
        }
        if (con.minor() != v.minor() && !minorDirty) {
          return true;
        } else if (minorDirty) {
          return false;
        } else if (con.patch() != v.patch() && !patchDirty) {
          return true;
        } else if (patchDirty) {
          if (v.isPrerelease() || con.isPrerelease()) {
            return Version.comparePrerelease(v.pre(), con.pre()) != 0;
          }
          return false;
        }
      }
      return v.compareTo(con) != 0;
    }

    private boolean greaterThan(Version v) {
      if (!dirty) {
        return v.compareTo(con) > 0;
      }
      int major = Long.compareUnsigned(v.major(), con.major());
      if (major > 0) {
        return true;
      } else if (major < 0) {
        return false;
      } else if (minorDirty) {
        return false;  // >11 wants 12 or higher
      } else if (patchDirty) {
        return Long.compareUnsigned(v.minor(), con.minor()) > 0;  // >11.1 wants 11.2 or higher
      }
      return v.compareTo(con) > 0;
    }

    private boolean lessThanEqual(Version v) {
      if (!dirty) {
        return v.compareTo(con) <= 0;
      }
      if (Long.compareUnsigned(v.major(), con.major()) > 0) {
        return false;
      }
      return !(v.major() == con.major() && Long.compareUnsigned(v.minor(), con.minor()) > 0 && !minorDirty);
    }

    private boolean tilde(Version v) {
      if (v.compareTo(con) < 0) {
        return false;
      }
      if (con.major() == 0 && con.minor() == 0 && con.patch() == 0 && !minorDirty && !patchDirty) {
        return true;  // ~0.0.0 and ~* take anything
      }
      if (v.major() != con.major()) {
        return false;
      }
      return v.minor() == con.minor() || minorDirty;
    }

    private boolean caret(Version v) {
      if (v.compareTo(con) < 0) {
        return false;
      }
      // the numbers are unsigned: "above 0" is "not 0"
      if (con.major() != 0 || minorDirty) {
        return v.major() == con.major();
      }
      if (v.major() != 0) {
        return false;
      }
      if (con.minor() != 0 || patchDirty) {
        return v.minor() == con.minor();
      }
      if (v.minor() != 0) {
        return false;
      }
      return v.patch() == con.patch();
    }
  }

  private final String text;
  private final List<List<Comparator>> alternatives;

  private SemverConstraints(String text, List<List<Comparator>> alternatives) {
    this.text = text;
    this.alternatives = alternatives;
  }

  /**
   * Parses {@code range}.
   *
   * @throws IllegalArgumentException naming the range and the part that is not a constraint
   */
  public static SemverConstraints parse(String range) {
    Objects.requireNonNull(range, "range");
    String rewritten = rewriteHyphenRanges(range);
    List<List<Comparator>> ors = new ArrayList<>();
    for (String part : rewritten.split("\\|\\|", -1)) {
      ors.add(parseAnd(range, part));
    }
    return new SemverConstraints(range, List.copyOf(ors));
  }

  private static String rewriteHyphenRanges(String range) {
    Matcher m = HYPHEN_RANGE.matcher(range);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(">= " + m.group(1) + ", <= " + m.group(2)));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** One AND-set: comparators separated by spaces or by a comma. */
  private static List<Comparator> parseAnd(String range, String part) {
    List<Comparator> all = new ArrayList<>();
    int i = skipSpaces(part, 0);
    boolean first = true;
    while (first || i < part.length()) {
      if (!first) {
        // a separator: spaces, or a comma with spaces around it
        int afterSpaces = skipSpaces(part, i);
        boolean comma = afterSpaces < part.length() && part.charAt(afterSpaces) == ',';
        if (!comma && afterSpaces == i) {
          throw improper(range, part.substring(i));
        }
        i = comma ? skipSpaces(part, afterSpaces + 1) : afterSpaces;
        if (i >= part.length()) {
          if (comma) {
            throw improper(range, part);
          }
          break;
        }
      }
      first = false;
      String op = "";
      for (String o : OPERATORS) {
        if (part.startsWith(o, i)) {
          op = o;
          break;
        }
      }
      int v = skipSpaces(part, i + op.length());
      Matcher m = CV.matcher(part).region(v, part.length());
      if (!m.lookingAt()) {
        throw improper(range, part.substring(i).strip());
      }
      all.add(comparator(range, op, m));
      i = m.end();
      if (i < part.length() && !Character.isWhitespace(part.charAt(i)) && part.charAt(i) != ',') {
        throw improper(range, part.substring(v).strip());
      }
      i = skipSpacesBeforeEnd(part, i);
    }
    if (all.isEmpty()) {
      throw improper(range, part);
    }
    return List.copyOf(all);
  }

  /** Skips trailing spaces only when nothing follows them, so that a separator stays to be read. */
  private static int skipSpacesBeforeEnd(String s, int i) {
    int j = skipSpaces(s, i);
    return j >= s.length() ? j : i;
  }

  private static int skipSpaces(String s, int i) {
    while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
      i++;
    }
    return i;
  }

  private static Comparator comparator(String range, String op, Matcher m) {
    String major = m.group(1);
    String minor = m.group(2);
    String patch = m.group(3);
    String pre = m.group(4) == null ? "" : m.group(4);
    try {
      if (isX(major)) {
        return new Comparator(op, new Version(0, 0, 0, pre), true, false, false);
      }
      if (minor == null || isX(minor)) {
        return new Comparator(op, new Version(Long.parseUnsignedLong(major), 0, 0, pre), true, true, false);
      }
      if (patch == null || isX(patch)) {
        return new Comparator(op, new Version(Long.parseUnsignedLong(major), Long.parseUnsignedLong(minor), 0, pre),
            true, false, true);
      }
      return new Comparator(op, new Version(Long.parseUnsignedLong(major), Long.parseUnsignedLong(minor),
          Long.parseUnsignedLong(patch), pre), false, false, false);
    } catch (NumberFormatException e) {
      throw improper(range, m.group());
    }
  }

  private static boolean isX(String s) {
    return s.equals("x") || s.equals("X") || s.equals("*");
  }

  private static IllegalArgumentException improper(String range, String part) {
    return new IllegalArgumentException("'" + range + "' is not a semver range: '" + part.strip()
        + "' is not a constraint (use comparators such as '>=1.2.0 <2.0.0', '>= 1.2, < 2.0', '^1.2', '~1.2.3',"
        + " '1.x', '1.0.0 - 2.0.0', alternatives joined by '||')");
  }

  /** Whether {@code tag} is a version inside the range. */
  public boolean includes(String tag) {
    return Version.parseTag(tag).map(this::check).orElse(false);
  }

  private boolean check(Version v) {
    for (List<Comparator> all : alternatives) {
      if (all.stream().allMatch(c -> c.check(v))) {
        return true;
      }
    }
    return false;
  }

  /** The highest of {@code tags} inside the range (the first of equal versions), or empty. */
  public Optional<String> highest(Collection<String> tags) {
    String best = null;
    Version bestVersion = null;
    for (String tag : tags) {
      Optional<Version> v = Version.parseTag(tag);
      if (v.isPresent() && check(v.get()) && (bestVersion == null || v.get().compareTo(bestVersion) > 0)) {
        best = tag;
        bestVersion = v.get();
      }
    }
    return Optional.ofNullable(best);
  }

  @Override
  public String toString() {
    return text;
  }
}
