package dev.gitops.images.regex;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A set of Unicode code points kept as sorted, disjoint ranges: what an RE2 character class,
 * Perl class, POSIX class or Unicode class stands for, built exactly (negation over {@code
 * [0, 0x10FFFF]}, case folding before negation as RE2 does) and written out as a Java class of
 * {@code \x{…}} escapes, so no Java class syntax ({@code &&}, nested {@code [...]}, {@code \p{Alpha}})
 * can change its meaning.
 */
final class CodePointSet {

  static final int MAX = Character.MAX_CODE_POINT;

  /** Each {@code [lo, hi]}, sorted and merged after {@link #normalized()}. */
  private final List<int[]> ranges = new ArrayList<>();

  /** Java's general category numbers of each two-letter category RE2 knows. */
  private static final Map<String, int[]> CATEGORIES = categories();
  private static final Map<String, CodePointSet> UNICODE_CACHE = new ConcurrentHashMap<>();

  CodePointSet() {}

  static CodePointSet of(int lo, int hi) {
    return new CodePointSet().add(lo, hi);
  }

  CodePointSet add(int lo, int hi) {
    ranges.add(new int[] {lo, hi});
    return this;
  }

  CodePointSet add(int cp) {
    return add(cp, cp);
  }

  CodePointSet addAll(CodePointSet other) {
    for (int[] r : other.ranges) {
      add(r[0], r[1]);
    }
    return this;
  }

  /** The sorted, merged ranges. */
  List<int[]> normalized() {
    ranges.sort(Comparator.comparingInt((int[] r) -> r[0]));
    List<int[]> merged = new ArrayList<>();
    for (int[] r : ranges) {
      int[] last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
      if (last != null && r[0] <= last[1] + 1) {
        last[1] = Math.max(last[1], r[1]);
      } else {
        merged.add(new int[] {r[0], r[1]});
      }
    }
    ranges.clear();
    ranges.addAll(merged);
    return merged;
  }

  boolean contains(int cp) {
    return in(normalized(), cp);
  }

  /** Whether {@code cp} is in the sorted, merged {@code ranges} (a binary search). */
  private static boolean in(List<int[]> ranges, int cp) {
    int lo = 0;
    int hi = ranges.size() - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      int[] r = ranges.get(mid);
      if (cp < r[0]) {
        hi = mid - 1;
      } else if (cp > r[1]) {
        lo = mid + 1;
      } else {
        return true;
      }
    }
    return false;
  }

  boolean isEmpty() {
    return ranges.isEmpty();
  }

  /** Every code point not in this set. */
  CodePointSet negated() {
    CodePointSet out = new CodePointSet();
    int next = 0;
    for (int[] r : normalized()) {
      if (r[0] > next) {
        out.add(next, r[0] - 1);
      }
      next = r[1] + 1;
    }
    if (next <= MAX) {
      out.add(next, MAX);
    }
    return out;
  }

  /** This set with every code point's simple case-folding orbit ({@code k}, {@code K}, KELVIN SIGN), as RE2's {@code (?i)}. */
  CodePointSet folded() {
    List<int[]> mine = normalized();
    CodePointSet out = new CodePointSet().addAll(this);
    for (int[] orbit : Folding.ORBITS) {
      for (int cp : orbit) {
        if (in(mine, cp)) {
          for (int x : orbit) {
            out.add(x);
          }
          break;
        }
      }
    }
    return out;
  }

  /** The code points of {@code cp}'s orbit, {@code cp} included. */
  static CodePointSet foldOrbit(int cp) {
    return new CodePointSet().add(cp).folded();
  }

  /** A single code point, when the set holds exactly one. */
  int single() {
    List<int[]> n = normalized();
    return n.size() == 1 && n.get(0)[0] == n.get(0)[1] ? n.get(0)[0] : -1;
  }

  /** The set as Java regex text matching one code point of it; {@code (?!)} (never matches) when empty. */
  String toJava() {
    List<int[]> n = normalized();
    if (n.isEmpty()) {
      return "(?!)";
    }
    int one = single();
    if (one >= 0) {
      return escape(one);
    }
    StringBuilder sb = new StringBuilder("[");
    for (int[] r : n) {
      sb.append(escape(r[0]));
      if (r[1] > r[0]) {
        sb.append('-').append(escape(r[1]));
      }
    }
    return sb.append(']').toString();
  }

  private static String escape(int cp) {
    if ((cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z')) {
      return String.valueOf((char) cp);
    }
    return "\\x{" + Integer.toHexString(cp) + "}";
  }

  /**
   * The set an RE2 Unicode class name stands for ({@code L}, {@code Lu}, {@code Greek}, {@code
   * Any}), or null when RE2 knows no such name. Names are case-sensitive, as in Go.
   */
  static CodePointSet unicode(String name) {
    if (name.equals("Any")) {
      return of(0, MAX);
    }
    CodePointSet cached = UNICODE_CACHE.get(name);
    if (cached != null) {
      return new CodePointSet().addAll(cached);
    }
    CodePointSet built = null;
    int[] types = CATEGORIES.get(name);
    if (types != null) {
      built = collect(cp -> {
        int t = Character.getType(cp);
        for (int x : types) {
          if (t == x) {
            return true;
          }
        }
        return false;
      });
    } else {
      Character.UnicodeScript script = script(name);
      if (script != null) {
        built = collect(cp -> Character.UnicodeScript.of(cp) == script);
      }
    }
    if (built == null) {
      return null;
    }
    built.normalized();
    UNICODE_CACHE.put(name, built);
    return new CodePointSet().addAll(built);
  }

  /** The script Go calls {@code name} (Unicode's long name, such as {@code Old_Italic}); null when none. */
  private static Character.UnicodeScript script(String name) {
    for (Character.UnicodeScript s : Character.UnicodeScript.values()) {
      if (s != Character.UnicodeScript.UNKNOWN && goName(s).equals(name)) {
        return s;
      }
    }
    return null;
  }

  private static String goName(Character.UnicodeScript s) {
    if (s == Character.UnicodeScript.SIGNWRITING) {
      return "SignWriting";
    }
    StringBuilder sb = new StringBuilder();
    for (String part : s.name().split("_")) {
      if (!sb.isEmpty()) {
        sb.append('_');
      }
      sb.append(part.charAt(0)).append(part.substring(1).toLowerCase(java.util.Locale.ROOT));
    }
    return sb.toString();
  }

  private static CodePointSet collect(java.util.function.IntPredicate in) {
    CodePointSet out = new CodePointSet();
    int start = -1;
    for (int cp = 0; cp <= MAX; cp++) {
      boolean yes = in.test(cp);
      if (yes && start < 0) {
        start = cp;
      } else if (!yes && start >= 0) {
        out.add(start, cp - 1);
        start = -1;
      }
    }
    if (start >= 0) {
      out.add(start, MAX);
    }
    return out;
  }

  private static Map<String, int[]> categories() {
    Map<String, int[]> m = new HashMap<>();
    m.put("Lu", new int[] {Character.UPPERCASE_LETTER});
    m.put("Ll", new int[] {Character.LOWERCASE_LETTER});
    m.put("Lt", new int[] {Character.TITLECASE_LETTER});
    m.put("Lm", new int[] {Character.MODIFIER_LETTER});
    m.put("Lo", new int[] {Character.OTHER_LETTER});
    m.put("Mn", new int[] {Character.NON_SPACING_MARK});
    m.put("Mc", new int[] {Character.COMBINING_SPACING_MARK});
    m.put("Me", new int[] {Character.ENCLOSING_MARK});
    m.put("Nd", new int[] {Character.DECIMAL_DIGIT_NUMBER});
    m.put("Nl", new int[] {Character.LETTER_NUMBER});
    m.put("No", new int[] {Character.OTHER_NUMBER});
    m.put("Pc", new int[] {Character.CONNECTOR_PUNCTUATION});
    m.put("Pd", new int[] {Character.DASH_PUNCTUATION});
    m.put("Ps", new int[] {Character.START_PUNCTUATION});
    m.put("Pe", new int[] {Character.END_PUNCTUATION});
    m.put("Pi", new int[] {Character.INITIAL_QUOTE_PUNCTUATION});
    m.put("Pf", new int[] {Character.FINAL_QUOTE_PUNCTUATION});
    m.put("Po", new int[] {Character.OTHER_PUNCTUATION});
    m.put("Sm", new int[] {Character.MATH_SYMBOL});
    m.put("Sc", new int[] {Character.CURRENCY_SYMBOL});
    m.put("Sk", new int[] {Character.MODIFIER_SYMBOL});
    m.put("So", new int[] {Character.OTHER_SYMBOL});
    m.put("Zs", new int[] {Character.SPACE_SEPARATOR});
    m.put("Zl", new int[] {Character.LINE_SEPARATOR});
    m.put("Zp", new int[] {Character.PARAGRAPH_SEPARATOR});
    m.put("Cc", new int[] {Character.CONTROL});
    m.put("Cf", new int[] {Character.FORMAT});
    m.put("Co", new int[] {Character.PRIVATE_USE});
    m.put("Cs", new int[] {Character.SURROGATE});
    for (String major : List.of("L", "M", "N", "P", "S", "Z", "C")) {
      // Go's one-letter categories are the union of their two-letter ones (C without Cn: unassigned is no category)
      m.put(major, m.entrySet().stream().filter(e -> e.getKey().length() == 2 && e.getKey().startsWith(major))
          .flatMapToInt(e -> java.util.Arrays.stream(e.getValue())).toArray());
    }
    return Map.copyOf(m);
  }

  /** Simple case-folding orbits (Go's {@code unicode.SimpleFold}), from the JDK's case mappings. */
  private static final class Folding {
    static final List<int[]> ORBITS = orbits();

    private static List<int[]> orbits() {
      Map<Integer, List<Integer>> byKey = new HashMap<>();
      for (int cp = 0; cp <= MAX; cp++) {
        // U+0130 and U+0131 fold only under Turkic rules (CaseFolding.txt's T entries), which RE2 does not use
        if (cp == 0x130 || cp == 0x131) {
          continue;
        }
        int key = Character.toLowerCase(Character.toUpperCase(cp));
        if (key != cp || Character.toUpperCase(cp) != cp) {
          byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(cp);
        }
      }
      List<int[]> out = new ArrayList<>();
      for (Map.Entry<Integer, List<Integer>> e : byKey.entrySet()) {
        java.util.TreeSet<Integer> orbit = new java.util.TreeSet<>(e.getValue());
        orbit.add(e.getKey());
        if (orbit.size() > 1) {
          out.add(orbit.stream().mapToInt(Integer::intValue).toArray());
        }
      }
      return List.copyOf(out);
    }
  }
}
