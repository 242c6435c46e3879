package dev.gitops.core.source;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A semantic-version range over tags, npm style: comparators ({@code >=1.0 <2.0}, {@code =1.2.3},
 * {@code 1.2.3}), caret ({@code ^1.2}), tilde ({@code ~1.2}), wildcards ({@code 1.x}, {@code 1.2.*},
 * {@code *}) and alternatives joined by {@code ||}. Tags are versions with an optional {@code v}
 * prefix ({@code v1.2.3}, {@code 1.2.3-rc.1}). Pre-releases match only when the range itself names a
 * pre-release.
 *
 * <p>Public so that other modules pick versions by the same rules as {@code GitSource} refs (the
 * image policies of {@code gitops-images} use it for tags).
 *
 * <pre>{@code
 * SemverRange range = SemverRange.parse("^1.2").orElseThrow();
 * range.includes("v1.4.0");                                  // true
 * range.highest(List.of("v1.2.0", "v1.9.1", "v2.0.0"));     // Optional[v1.9.1]
 * }</pre>
 */
public final class SemverRange {

  private static final Pattern VERSION = Pattern.compile(
      "v?(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-([0-9A-Za-z.-]+))?(?:\\+[0-9A-Za-z.-]+)?");
  private static final Pattern PARTIAL = Pattern.compile(
      "v?(\\d+|[xX*])(?:\\.(\\d+|[xX*]))?(?:\\.(\\d+|[xX*]))?(?:-([0-9A-Za-z.-]+))?(?:\\+[0-9A-Za-z.-]+)?");
  private static final Pattern COMPARATOR = Pattern.compile("(\\^|~|>=|<=|>|<|=)?\\s*(\\S+)");

  /** A version. */
  record Version(BigInteger major, BigInteger minor, BigInteger patch, String pre) implements Comparable<Version> {

    static Optional<Version> parseTag(String text) {
      Matcher m = VERSION.matcher(text);
      if (!m.matches()) {
        return Optional.empty();
      }
      return Optional.of(new Version(new BigInteger(m.group(1)), new BigInteger(m.group(2)),
          new BigInteger(m.group(3)), m.group(4) == null ? "" : m.group(4)));
    }

    boolean isPrerelease() {
      return !pre.isEmpty();
    }

    @Override
    public int compareTo(Version o) {
      int c = major.compareTo(o.major);
      if (c == 0) {
        c = minor.compareTo(o.minor);
      }
      if (c == 0) {
        c = patch.compareTo(o.patch);
      }
      if (c != 0) {
        return c;
      }
      if (pre.isEmpty() || o.pre.isEmpty()) {
        return Boolean.compare(pre.isEmpty(), o.pre.isEmpty());  // a release is above its pre-releases
      }
      String[] a = pre.split("\\.");
      String[] b = o.pre.split("\\.");
      for (int i = 0; i < Math.min(a.length, b.length); i++) {
        boolean an = a[i].matches("\\d+");
        boolean bn = b[i].matches("\\d+");
        int d;
        if (an && bn) {
          d = new BigInteger(a[i]).compareTo(new BigInteger(b[i]));
        } else if (an != bn) {
          d = an ? -1 : 1;
        } else {
          d = a[i].compareTo(b[i]);
        }
        if (d != 0) {
          return d;
        }
      }
      return Integer.compare(a.length, b.length);
    }
  }

  private record Comparator(String op, Version v) {
    boolean test(Version x) {
      int c = x.compareTo(v);
      return switch (op) {
        case ">=" -> c >= 0;
        case ">" -> c > 0;
        case "<=" -> c <= 0;
        case "<" -> c < 0;
        default -> c == 0;
      };
    }
  }

  private final String text;
  private final List<List<Comparator>> alternatives;
  private final boolean allowsPrerelease;

  private SemverRange(String text, List<List<Comparator>> alternatives) {
    this.text = text;
    this.alternatives = alternatives;
    this.allowsPrerelease = text.contains("-");
  }

  /** Parses {@code text}, or empty when it is not a range. */
  public static Optional<SemverRange> parse(String text) {
    String t = text.trim();
    if (t.isEmpty() || !(t.matches(".*\\d.*") || t.equals("*"))) {
      return Optional.empty();  // "x" or "main" are names, not ranges
    }
    List<List<Comparator>> alts = new ArrayList<>();
    for (String alt : t.split("\\|\\|")) {
      List<Comparator> all = new ArrayList<>();
      String a = alt.trim().replaceAll("(\\^|~|>=|<=|>|<|=)\\s+", "$1");
      if (a.isEmpty()) {
        return Optional.empty();
      }
      Matcher m = COMPARATOR.matcher(a);
      int pos = 0;
      while (pos < a.length()) {
        if (Character.isWhitespace(a.charAt(pos))) {
          pos++;
          continue;
        }
        if (!m.find(pos) || m.start() != pos) {
          return Optional.empty();
        }
        if (!expand(m.group(1) == null ? "" : m.group(1), m.group(2), all)) {
          return Optional.empty();
        }
        pos = m.end();
      }
      alts.add(all);
    }
    return Optional.of(new SemverRange(t, alts));
  }

  private static boolean expand(String op, String ver, List<Comparator> out) {
    Matcher m = PARTIAL.matcher(ver);
    if (!m.matches()) {
      return false;
    }
    BigInteger[] parts = new BigInteger[3];
    int known = 0;
    for (int i = 0; i < 3; i++) {
      String g = m.group(i + 1);
      if (g == null || g.equalsIgnoreCase("x") || g.equals("*")) {
        break;
      }
      parts[i] = new BigInteger(g);
      known++;
    }
    String pre = m.group(4) == null ? "" : m.group(4);
    BigInteger z = BigInteger.ZERO;
    BigInteger one = BigInteger.ONE;
    Version low = new Version(known > 0 ? parts[0] : z, known > 1 ? parts[1] : z, known > 2 ? parts[2] : z, pre);
    switch (op) {
      case "^" -> {
        out.add(new Comparator(">=", low));
        if (known == 0) {
          return true;
        }
        Version high;
        if (parts[0].signum() != 0 || known == 1) {
          high = new Version(parts[0].add(one), z, z, "0");
        } else if (known == 2 || parts[1].signum() != 0) {
          high = new Version(z, parts[1].add(one), z, "0");
        } else {
          high = new Version(z, z, parts[2].add(one), "0");
        }
        out.add(new Comparator("<", high));
      }
      case "~" -> {
        out.add(new Comparator(">=", low));
        if (known == 0) {
          return true;
        }
        Version high = known == 1 ? new Version(parts[0].add(one), z, z, "0") : new Version(parts[0], parts[1].add(one), z, "0");
        out.add(new Comparator("<", high));
      }
      case "", "=" -> {
        if (known == 3) {
          out.add(new Comparator("=", low));
        } else if (known == 0) {
          out.add(new Comparator(">=", new Version(z, z, z, "")));
        } else {
          out.add(new Comparator(">=", low));
          out.add(new Comparator("<", known == 1 ? new Version(parts[0].add(one), z, z, "0")
              : new Version(parts[0], parts[1].add(one), z, "0")));
        }
      }
      case ">=", "<" -> out.add(new Comparator(op, low));
      case ">" -> {
        if (known == 3 || known == 0) {
          out.add(new Comparator(known == 0 ? "<" : ">", known == 0 ? new Version(z, z, z, "0") : low));
        } else {
          out.add(new Comparator(">=", known == 1 ? new Version(parts[0].add(one), z, z, "")
              : new Version(parts[0], parts[1].add(one), z, "")));
        }
      }
      case "<=" -> {
        if (known == 3) {
          out.add(new Comparator("<=", low));
        } else if (known > 0) {
          out.add(new Comparator("<", known == 1 ? new Version(parts[0].add(one), z, z, "0")
              : new Version(parts[0], parts[1].add(one), z, "0")));
        }
      }
      default -> {
        return false;
      }
    }
    return true;
  }

  /** Whether {@code v} is in the range. */
  boolean matches(Version v) {
    if (v.isPrerelease() && !allowsPrerelease) {
      return false;
    }
    for (List<Comparator> all : alternatives) {
      if (all.stream().allMatch(c -> c.test(v))) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether {@code tag} is a version ({@code X.Y.Z} with an optional {@code v}, pre-release and
   * build) inside the range.
   */
  public boolean includes(String tag) {
    return Version.parseTag(tag).map(this::matches).orElse(false);
  }

  /**
   * The highest of {@code tagNames} (short names) in the range, or empty. Of tags of one version
   * ({@code v1.2.0} and {@code 1.2.0}, or builds {@code 1.2.0+a} and {@code 1.2.0+b}) the one whose
   * name sorts last is taken, whatever the order they are given in.
   */
  public Optional<String> highest(Collection<String> tagNames) {
    String best = null;
    Version bestVersion = null;
    for (String tag : tagNames) {
      Optional<Version> v = Version.parseTag(tag);
      int c = v.isEmpty() || bestVersion == null ? 1 : v.get().compareTo(bestVersion);
      if (v.isPresent() && matches(v.get()) && (c > 0 || (c == 0 && tag.compareTo(best) > 0))) {
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
