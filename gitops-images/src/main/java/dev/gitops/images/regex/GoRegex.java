package dev.gitops.images.regex;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A regular expression in Go's RE2 syntax — what Flux reads in {@code filterTags.pattern} and
 * {@code exclusionList} — translated into a Java {@link Pattern} that matches the same strings with
 * the same groups.
 *
 * <p>What the translation keeps faithful: {@code $} is the end of the text ({@code \z}), not before
 * a final line break as in Java; {@code .} excludes only {@code \n}; {@code \d}, {@code \s}, {@code
 * \w} and {@code \b} are ASCII ({@code \s} without {@code \v}); {@code \z}, {@code \A}, {@code
 * \Q…\E}, octal and {@code \x{…}} escapes; POSIX classes ({@code [[:alpha:]]}, {@code [[:^digit:]]});
 * Unicode classes ({@code \pN}, {@code \p{Greek}}, {@code \P{Lu}}, {@code \p{^Han}}); named groups
 * {@code (?P<name>…)} and {@code (?<name>…)} with any ASCII word name (numbered groups underneath,
 * see {@link #groupNames()}); the flags {@code i} (Unicode simple case folding), {@code m}, {@code s}
 * and {@code U} (ungreedy: {@code *} is lazy and {@code *?} greedy), set for the rest of a group or
 * scoped {@code (?i:…)}; a <code>&#123;</code> that opens no repetition is a literal.
 *
 * <p>What RE2 refuses is refused here too, with the construct and its offset: backreferences
 * ({@code \1}, {@code \k<n>}, {@code (?P=n)}), lookahead and lookbehind, atomic groups, possessive
 * and other stacked quantifiers ({@code a*+}, {@code a**}), {@code \Z}, {@code \G}, {@code \R},
 * {@code \e} and other escapes RE2 lacks, Java's flags ({@code (?x)}, {@code (?d)}), repetition
 * counts above 1000 (also as a product of nested counts, {@code (a{100}){20}}), and nesting deeper
 * than 1000.
 *
 * <p>One difference is left: the captures of a group repeated by {@code *} that can match the
 * empty string ({@code (a*)*}, {@code ()*}) may end elsewhere than in Go, whose matcher never
 * repeats an empty iteration. Which strings match is the same.
 *
 * <pre>{@code
 * GoRegex re = GoRegex.compile("^main-[[:xdigit:]]+-(?P<ts>\\d+)$");
 * java.util.regex.Matcher m = re.matcher("main-3f2a9c1-1718000000");
 * if (m.find()) {
 *   String ts = m.group(re.group("ts").orElseThrow());   // "1718000000"
 * }
 * GoRegex.compile("^v(?=1)");   // GoRegexException: lookahead is not RE2 syntax
 * }</pre>
 */
public final class GoRegex {

  /** The largest repetition count RE2 accepts (also the largest product of nested counts). */
  public static final int MAX_REPEAT = 1000;
  /** The deepest nesting of groups RE2 accepts. */
  public static final int MAX_NESTING = 1000;

  private static final String WORD = "[0-9A-Za-z_]";
  private static final String WORD_BOUNDARY = "(?:(?<=" + WORD + ")(?!" + WORD + ")|(?<!" + WORD + ")(?=" + WORD + "))";
  private static final String NOT_WORD_BOUNDARY = "(?:(?<=" + WORD + ")(?=" + WORD + ")|(?<!" + WORD + ")(?!" + WORD + "))";
  private static final Map<String, CodePointSet> POSIX = posixClasses();

  private final String source;
  private final Pattern pattern;
  private final Map<String, List<Integer>> names;
  private final int groups;

  private GoRegex(String source, Pattern pattern, Map<String, List<Integer>> names, int groups) {
    this.source = source;
    this.pattern = pattern;
    Map<String, List<Integer>> copy = new LinkedHashMap<>();
    names.forEach((k, v) -> copy.put(k, List.copyOf(v)));
    this.names = java.util.Collections.unmodifiableMap(copy);
    this.groups = groups;
  }

  /**
   * Translates {@code re2}.
   *
   * @throws GoRegexException naming the pattern, what RE2 refuses in it and where
   */
  public static GoRegex compile(String re2) {
    Objects.requireNonNull(re2, "pattern");
    Parser p = new Parser(re2);
    try {
      Node root = p.parse();
      return new GoRegex(re2, Pattern.compile(root.emit()), p.names, p.groups);
    } catch (StackOverflowError e) {
      // parsing and Java's compiler recurse per group: a thread with a small stack ends before RE2's limit
      throw new GoRegexException(re2, "expression nests too deeply for this thread's stack", 0);
    } catch (java.util.regex.PatternSyntaxException e) {
      // a translation Java cannot take (it should not happen): said, not thrown as Java's own error
      throw new GoRegexException(re2, "Java cannot compile its translation (" + e.getDescription() + ")", 0);
    }
  }

  /** The pattern as written (RE2 syntax). */
  public String source() {
    return source;
  }

  /** The Java translation; its group numbers are RE2's. */
  public Pattern pattern() {
    return pattern;
  }

  /** A matcher over {@code text} (searched with {@link Matcher#find()}, as Go's {@code MatchString} searches). */
  public Matcher matcher(CharSequence text) {
    return pattern.matcher(text);
  }

  /** The named groups: each name to the numbers of the groups it names, in order (RE2 lets a name be used twice). */
  public Map<String, List<Integer>> groupNames() {
    return names;
  }

  /** How many capturing groups there are. */
  public int groupCount() {
    return groups;
  }

  /** The number of the first group called {@code name}. */
  public Optional<Integer> group(String name) {
    List<Integer> all = names.get(name);
    return all == null ? Optional.empty() : Optional.of(all.get(0));
  }

  /**
   * The text the group called {@code name} matched, as Go's {@code Expand} reads {@code $name}: of
   * the groups with that name, the first that took part in the match; empty when none did.
   */
  public Optional<String> group(java.util.regex.MatchResult match, String name) {
    for (int g : names.getOrDefault(name, List.of())) {
      if (match.start(g) >= 0) {
        return Optional.of(match.group(g));
      }
    }
    return Optional.empty();
  }

  @Override
  public String toString() {
    return source;
  }

  // ---------------------------------------------------------------- the tree

  /** A parsed piece of the expression. */
  private abstract static class Node {
    /** Java regex text. */
    abstract String emit();

    /** Whether a quantifier may follow {@link #emit()} without a group around it. */
    boolean atomic() {
      return false;
    }

    /** The largest product of nested {@code {n,m}} counts on a path down from here (RE2's repeatIsValid). */
    long weight() {
      return 1;
    }
  }

  private static final class Chars extends Node {
    final CodePointSet set;

    Chars(CodePointSet set) {
      this.set = set;
    }

    @Override
    String emit() {
      return set.toJava();
    }

    @Override
    boolean atomic() {
      return !set.isEmpty();
    }
  }

  /** An assertion, emitted as given. */
  private static final class Raw extends Node {
    final String java;

    Raw(String java) {
      this.java = java;
    }

    @Override
    String emit() {
      return java;
    }
  }

  private static final class Capture extends Node {
    final Node body;

    Capture(Node body) {
      this.body = body;
    }

    @Override
    String emit() {
      return "(" + body.emit() + ")";
    }

    @Override
    boolean atomic() {
      return true;
    }

    @Override
    long weight() {
      return body.weight();
    }
  }

  private static final class Concat extends Node {
    final List<Node> items;

    Concat(List<Node> items) {
      this.items = items;
    }

    @Override
    String emit() {
      StringBuilder sb = new StringBuilder();
      for (Node n : items) {
        sb.append(n instanceof Alternate ? "(?:" + n.emit() + ")" : n.emit());
      }
      return sb.toString();
    }

    @Override
    long weight() {
      return items.stream().mapToLong(Node::weight).max().orElse(1);
    }
  }

  private static final class Alternate extends Node {
    final List<Node> alternatives;

    Alternate(List<Node> alternatives) {
      this.alternatives = alternatives;
    }

    @Override
    String emit() {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < alternatives.size(); i++) {
        sb.append(i == 0 ? "" : "|").append(alternatives.get(i).emit());
      }
      return sb.toString();
    }

    @Override
    long weight() {
      return alternatives.stream().mapToLong(Node::weight).max().orElse(1);
    }
  }

  private static final class Repeat extends Node {
    final Node body;
    final int min;
    final int max;  // -1: unbounded
    final boolean greedy;
    final boolean counted;  // written {n,m}

    Repeat(Node body, int min, int max, boolean greedy, boolean counted) {
      this.body = body;
      this.min = min;
      this.max = max;
      this.greedy = greedy;
      this.counted = counted;
    }

    @Override
    String emit() {
      String inner = body.atomic() ? body.emit() : "(?:" + body.emit() + ")";
      String q;
      if (!counted && min == 0 && max == -1) {
        q = "*";
      } else if (!counted && min == 1 && max == -1) {
        q = "+";
      } else if (!counted && min == 0 && max == 1) {
        q = "?";
      } else if (max == -1) {
        q = "{" + min + ",}";
      } else if (min == max) {
        q = "{" + min + "}";
      } else {
        q = "{" + min + "," + max + "}";
      }
      return inner + q + (greedy ? "" : "?");
    }

    @Override
    long weight() {
      if (!counted) {
        return body.weight();
      }
      if (max == 0) {
        return 1;  // as RE2's repeatIsValid: nothing under {0} counts
      }
      int m = Math.max(1, max == -1 ? min : max);
      return Math.min(Long.MAX_VALUE / 2, m * body.weight());
    }
  }

  // ---------------------------------------------------------------- the parser

  private static final int FOLD = 1;
  private static final int MULTI_LINE = 2;
  private static final int DOT_NL = 4;
  private static final int UNGREEDY = 8;

  /** Go's regexp/syntax parser with Perl flags (what {@code regexp.Compile} uses), building the tree. */
  private static final class Parser {
    final String src;
    int pos;
    int flags;
    int depth;
    int groups;
    final Map<String, List<Integer>> names = new LinkedHashMap<>();

    Parser(String src) {
      this.src = src;
      for (int i = 0; i < src.length(); i++) {
        char c = src.charAt(i);
        if (Character.isHighSurrogate(c) && i + 1 < src.length() && Character.isLowSurrogate(src.charAt(i + 1))) {
          i++;
        } else if (Character.isSurrogate(c)) {
          throw new GoRegexException(src, "invalid UTF-8 (an unpaired surrogate)", i);
        }
      }
    }

    Node parse() {
      Node n = alternation();
      if (pos < src.length()) {
        // only a ')' stops an alternation at the top
        throw error("unexpected ) `" + src.substring(0, pos + 1) + "`", pos);
      }
      return n;
    }

    GoRegexException error(String problem, int at) {
      return new GoRegexException(src, problem, at);
    }

    int peek() {
      return src.codePointAt(pos);
    }

    boolean more() {
      return pos < src.length();
    }

    boolean at(String s) {
      return src.startsWith(s, pos);
    }

    Node alternation() {
      List<Node> alts = new ArrayList<>();
      alts.add(concat());
      while (more() && peek() == '|') {
        pos++;
        alts.add(concat());
      }
      return alts.size() == 1 ? alts.get(0) : new Alternate(alts);
    }

    Node concat() {
      List<Node> items = new ArrayList<>();
      int lastRepeat = -1;  // where the repetition operator just read started, -1 when the last token was none
      while (more()) {
        int c = peek();
        if (c == '|' || c == ')') {
          break;
        }
        int repeatStart = -1;
        switch (c) {
          case '(' -> {
            Node g = group();
            if (g != null) {
              items.add(g);
            }
          }
          case '[' -> items.add(charClass());
          case '*', '+', '?' -> {
            repeatStart = pos;
            pos++;
            int min = c == '+' ? 1 : 0;
            int max = c == '?' ? 1 : -1;
            repeat(items, min, max, false, repeatStart, lastRepeat);
          }
          case '{' -> {
            int start = pos;
            int[] counts = repeatCounts();
            if (counts == null) {
              pos++;
              items.add(literal('{'));  // as RE2: a '{' that opens no repetition is itself
            } else {
              String written = src.substring(start, pos);
              int min = counts[0];
              int max = counts[1];
              if (min < 0 || min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && min > max)) {
                throw error("invalid repeat count `" + written + "` (RE2 allows at most " + MAX_REPEAT
                    + " repetitions, and no more than the minimum is smaller than the maximum)", start);
              }
              repeatStart = start;
              repeat(items, min, max, true, start, lastRepeat);
            }
          }
          case '.' -> {
            pos++;
            items.add(new Chars((flags & DOT_NL) != 0 ? CodePointSet.of(0, CodePointSet.MAX)
                : CodePointSet.of('\n', '\n').negated()));
          }
          case '^' -> {
            pos++;
            items.add(new Raw((flags & MULTI_LINE) != 0 ? "(?<![^\\n])" : "^"));
          }
          case '$' -> {
            pos++;
            items.add(new Raw((flags & MULTI_LINE) != 0 ? "(?![^\\n])" : "\\z"));
          }
          case '\\' -> escape(items);
          default -> {
            pos += Character.charCount(c);
            items.add(literal(c));
          }
        }
        lastRepeat = repeatStart;
      }
      return items.size() == 1 ? items.get(0) : new Concat(items);
    }

    /** Applies a repetition read from {@code start} (the optional lazy '?' still to read) to the last item. */
    void repeat(List<Node> items, int min, int max, boolean counted, int start, int lastRepeat) {
      boolean lazy = false;
      if (more() && peek() == '?') {
        pos++;
        lazy = true;
      }
      String op = src.substring(start, pos);
      if (lastRepeat >= 0) {
        throw error("invalid nested repetition operator `" + src.substring(lastRepeat, pos) + "` (RE2 has no "
            + "possessive quantifiers such as a*+ or a++, and a repetition cannot repeat a repetition without a group)",
            lastRepeat);
      }
      if (items.isEmpty()) {
        throw error("missing argument to repetition operator `" + op + "`", start);
      }
      boolean greedy = lazy == ((flags & UNGREEDY) != 0);
      Node sub = items.remove(items.size() - 1);
      Repeat r = new Repeat(sub, min, max, greedy, counted);
      if (counted && (min >= 2 || max >= 2) && r.weight() > MAX_REPEAT) {
        throw error("invalid repeat count `" + op + "`: with the repetitions inside it, it repeats more than "
            + MAX_REPEAT + " times (RE2's limit)", start);
      }
      items.add(r);
    }

    /** {@code {n}}, {@code {n,}} or {@code {n,m}} at pos, as RE2 reads it: {min, max (-1: none)}, or null (a literal '{'). */
    int[] repeatCounts() {
      int i = pos + 1;
      int[] min = number(i);
      if (min == null) {
        return null;
      }
      i = min[1];
      int max;
      if (i >= src.length()) {
        return null;
      }
      if (src.charAt(i) != ',') {
        max = min[0];
      } else {
        i++;
        if (i >= src.length()) {
          return null;
        }
        if (src.charAt(i) == '}') {
          max = -1;
        } else {
          int[] m = number(i);
          if (m == null) {
            return null;
          }
          max = m[0];
          i = m[1];
          if (max < 0) {
            min[0] = -1;  // too big: an invalid count
          }
        }
      }
      if (i >= src.length() || src.charAt(i) != '}') {
        return null;
      }
      pos = i + 1;
      return new int[] {min[0], max};
    }

    /** A decimal number at {@code i} without leading zeros: {value (-1 when huge), end}, or null. */
    int[] number(int i) {
      if (i >= src.length() || !isDigit(src.charAt(i))) {
        return null;
      }
      if (src.charAt(i) == '0' && i + 1 < src.length() && isDigit(src.charAt(i + 1))) {
        return null;
      }
      int j = i;
      long n = 0;
      while (j < src.length() && isDigit(src.charAt(j))) {
        n = n >= 100_000_000 ? n : n * 10 + (src.charAt(j) - '0');
        j++;
      }
      return new int[] {n >= 100_000_000 ? -1 : (int) n, j};
    }

    static boolean isDigit(char c) {
      return c >= '0' && c <= '9';
    }

    Node literal(int cp) {
      return new Chars((flags & FOLD) != 0 ? CodePointSet.foldOrbit(cp) : CodePointSet.of(cp, cp));
    }

    /** A group at '(': a capture, a flag group (null when it only sets flags), or an error for what RE2 lacks. */
    Node group() {
      int start = pos;
      if (at("(?")) {
        if (at("(?=") || at("(?!")) {
          throw error("lookahead `" + src.substring(pos, pos + 3) + "` is not RE2 syntax (Java and PCRE have it; "
              + "Go and Flux do not)", start);
        }
        if (at("(?<=") || at("(?<!")) {
          throw error("lookbehind `" + src.substring(pos, pos + 4) + "` is not RE2 syntax (Java and PCRE have it; "
              + "Go and Flux do not)", start);
        }
        if (at("(?>")) {
          throw error("atomic group `(?>` is not RE2 syntax", start);
        }
        if (at("(?#")) {
          throw error("comment group `(?#` is not RE2 syntax", start);
        }
        if (at("(?P=") || at("(?P>")) {
          throw error("named backreference or recursion `" + src.substring(pos, pos + 4) + "` is not RE2 syntax",
              start);
        }
        if (at("(?P<") || at("(?<")) {
          return namedCapture(start);
        }
        return flagGroup(start);
      }
      pos++;
      groups++;
      return new Capture(groupBody(start));
    }

    Node namedCapture(int start) {
      int nameStart = pos + (at("(?P<") ? 4 : 3);
      int end = src.indexOf('>', nameStart);
      if (end < 0) {
        throw error("invalid named capture `" + src.substring(start) + "` (no closing >)", start);
      }
      String name = src.substring(nameStart, end);
      if (name.isEmpty() || !name.chars().allMatch(ch -> ch == '_' || (ch < 128 && Character.isLetterOrDigit(ch)))) {
        throw error("invalid named capture `" + src.substring(start, end + 1) + "` (a name is ASCII letters, digits "
            + "and _)", start);
      }
      pos = end + 1;
      int index = ++groups;
      names.computeIfAbsent(name, k -> new ArrayList<>()).add(index);  // RE2 allows a name twice
      return new Capture(groupBody(start));
    }

    /** The body of a group opened at {@code start} (pos is past its opening), up to and past its ')'. */
    Node groupBody(int start) {
      if (++depth > MAX_NESTING) {
        throw error("expression nests too deeply (more than " + MAX_NESTING + " groups)", start);
      }
      int saved = flags;
      Node body = alternation();
      if (!more() || peek() != ')') {
        throw error("missing closing ) for the group at offset " + start + " `" + src.substring(start) + "`", start);
      }
      pos++;
      flags = saved;
      depth--;
      return body;
    }

    /** {@code (?flags)} or {@code (?flags:…)}: i, m, s, U, with '-' to clear. */
    Node flagGroup(int start) {
      int i = pos + 2;
      int set = flags;
      boolean negate = false;
      boolean sawFlag = false;
      while (i < src.length()) {
        char c = src.charAt(i);
        int bit = switch (c) {
          case 'i' -> FOLD;
          case 'm' -> MULTI_LINE;
          case 's' -> DOT_NL;
          case 'U' -> UNGREEDY;
          default -> 0;
        };
        if (bit != 0) {
          set = negate ? set & ~bit : set | bit;
          sawFlag = true;
          i++;
          continue;
        }
        if (c == '-' && !negate) {
          negate = true;
          sawFlag = false;
          i++;
          continue;
        }
        if ((c == ':' || c == ')') && !(negate && !sawFlag)) {
          if (c == ')') {
            pos = i + 1;
            flags = set;
            return null;
          }
          pos = i + 1;
          int saved = flags;
          flags = set;
          Node body = groupBody(start);
          flags = saved;
          return body;
        }
        break;
      }
      String seen = src.substring(start, Math.min(src.length(), i + 1));
      throw error("invalid or unsupported Perl syntax `" + seen + "` (RE2's flags are i, m, s and U;"
          + " Java's x, d, u and c are not RE2)", start);
    }

    /** An escape outside a class at '\\'. */
    void escape(List<Node> items) {
      int start = pos;
      if (pos + 1 >= src.length()) {
        throw error("trailing backslash at end of expression", start);
      }
      char c = src.charAt(pos + 1);
      switch (c) {
        case 'A' -> {
          pos += 2;
          items.add(new Raw("^"));
          return;
        }
        case 'z' -> {
          pos += 2;
          items.add(new Raw("\\z"));
          return;
        }
        case 'b' -> {
          pos += 2;
          items.add(new Raw(WORD_BOUNDARY));
          return;
        }
        case 'B' -> {
          pos += 2;
          items.add(new Raw(NOT_WORD_BOUNDARY));
          return;
        }
        case 'Q' -> {
          int end = src.indexOf("\\E", pos + 2);
          String lit = src.substring(pos + 2, end < 0 ? src.length() : end);
          pos = end < 0 ? src.length() : end + 2;
          lit.codePoints().forEach(cp -> items.add(literal(cp)));
          return;
        }
        default -> {
          // below
        }
      }
      CodePointSet cls = classEscape(false);
      if (cls != null) {
        items.add(new Chars(cls));
        return;
      }
      items.add(literal(singleEscape(start)));
    }

    /**
     * A Perl ({@code \d}) or Unicode ({@code \pL}) class escape at pos, folded when (?i) is on and
     * negated after folding as RE2 does; null when the escape is no class.
     */
    CodePointSet classEscape(boolean inClass) {
      char c = src.charAt(pos + 1);
      int start = pos;
      CodePointSet base;
      boolean negate;
      switch (c) {
        case 'd', 'D' -> {
          base = CodePointSet.of('0', '9');
          negate = c == 'D';
          pos += 2;
        }
        case 's', 'S' -> {
          base = new CodePointSet().add('\t', '\n').add('\f', '\r').add(' ');
          negate = c == 'S';
          pos += 2;
        }
        case 'w', 'W' -> {
          base = POSIX.get("word");
          base = new CodePointSet().addAll(base);
          negate = c == 'W';
          pos += 2;
        }
        case 'p', 'P' -> {
          negate = c == 'P';
          String name;
          int end;
          if (pos + 2 >= src.length()) {
            throw error("invalid character class range `" + src.substring(start) + "`", start);
          }
          if (src.charAt(pos + 2) == '{') {
            int close = src.indexOf('}', pos + 3);
            if (close < 0) {
              throw error("invalid character class range `" + src.substring(start) + "` (no closing })", start);
            }
            name = src.substring(pos + 3, close);
            end = close + 1;
          } else {
            int cp = src.codePointAt(pos + 2);
            name = new String(Character.toChars(cp));
            end = pos + 2 + Character.charCount(cp);
          }
          String seq = src.substring(start, end);
          if (name.startsWith("^")) {
            negate = !negate;
            name = name.substring(1);
          }
          base = CodePointSet.unicode(name);
          if (base == null) {
            throw error("invalid character class range `" + seq + "`: RE2 knows no Unicode class '" + name
                + "' (general categories such as L, Lu, N, Nd; scripts such as Greek, Latin, Han; Any)", start);
          }
          pos = end;
        }
        default -> {
          return null;
        }
      }
      if ((flags & FOLD) != 0) {
        base = base.folded();
      }
      return negate ? base.negated() : base;
    }

    /** A single-character escape at pos (RE2's parseEscape): its code point. */
    int singleEscape(int start) {
      if (pos + 1 >= src.length()) {
        throw error("trailing backslash at end of expression", start);
      }
      int c = src.codePointAt(pos + 1);
      pos += 1 + Character.charCount(c);
      if (c < 128 && !Character.isLetterOrDigit(c)) {
        return c;  // escaped punctuation is itself
      }
      switch (c) {
        case '1', '2', '3', '4', '5', '6', '7' -> {
          if (!more() || src.charAt(pos) < '0' || src.charAt(pos) > '7') {
            throw error("backreference `" + src.substring(start, pos) + "` is not RE2 syntax (RE2 matches in linear "
                + "time and has no backreferences)", start);
          }
          return octal(c - '0');
        }
        case '0' -> {
          return octal(0);
        }
        case 'x' -> {
          return hex(start);
        }
        case 'a' -> {
          return 7;
        }
        case 'f' -> {
          return '\f';
        }
        case 'n' -> {
          return '\n';
        }
        case 'r' -> {
          return '\r';
        }
        case 't' -> {
          return '\t';
        }
        case 'v' -> {
          return 0x0B;
        }
        default -> {
          // below
        }
      }
      String hint = switch (c) {
        case 'Z' -> " (RE2 has \\z, the end of the text; Java's \\Z also matches before a final line break)";
        case 'k' -> " (a named backreference: RE2 has no backreferences)";
        case 'G', 'R', 'X', 'h', 'H', 'V', 'e', 'c', 'u', 'N', 'K' -> " (a Java or PCRE escape RE2 does not have)";
        case 'C' -> " (RE2's \\C, any byte, is not supported by Go)";
        default -> "";
      };
      throw error("invalid escape sequence `" + src.substring(start, pos) + "`" + hint, start);
    }

    int octal(int first) {
      int r = first;
      for (int i = 1; i < 3 && more() && src.charAt(pos) >= '0' && src.charAt(pos) <= '7'; i++) {
        r = r * 8 + (src.charAt(pos) - '0');
        pos++;
      }
      return r;
    }

    int hex(int start) {
      if (!more()) {
        throw error("invalid escape sequence `" + src.substring(start, pos) + "`", start);
      }
      if (src.charAt(pos) == '{') {
        int close = src.indexOf('}', pos);
        String digits = close < 0 ? "" : src.substring(pos + 1, close);
        String significant = digits.replaceFirst("^0+(?=.)", "");
        if (close < 0 || digits.isEmpty() || significant.length() > 6
            || !digits.chars().allMatch(ch -> Character.digit(ch, 16) >= 0 && ch < 128)
            || Integer.parseInt(significant, 16) > CodePointSet.MAX) {
          throw error("invalid escape sequence `" + src.substring(start, close < 0 ? src.length() : close + 1) + "`",
              start);
        }
        pos = close + 1;
        return Integer.parseInt(significant, 16);
      }
      if (pos + 2 > src.length() || Character.digit(src.charAt(pos), 16) < 0 || Character.digit(src.charAt(pos + 1), 16) < 0
          || src.charAt(pos) >= 128 || src.charAt(pos + 1) >= 128) {
        throw error("invalid escape sequence `" + src.substring(start, Math.min(src.length(), pos + 2)) + "`", start);
      }
      int v = Integer.parseInt(src.substring(pos, pos + 2), 16);
      pos += 2;
      return v;
    }

    /** A bracket class at '[' (RE2's parseClass). */
    Node charClass() {
      int start = pos;
      pos++;
      boolean negate = false;
      if (more() && peek() == '^') {
        negate = true;
        pos++;
      }
      CodePointSet set = new CodePointSet();
      boolean first = true;
      while (true) {
        if (!more()) {
          throw error("missing closing ] `" + src.substring(start) + "`", start);
        }
        if (peek() == ']' && !first) {
          pos++;
          break;
        }
        first = false;
        if (at("[:")) {
          int close = src.indexOf(":]", pos + 2);
          if (close >= 0) {
            String name = src.substring(pos, close + 2);
            CodePointSet posix = posix(name);
            if (posix == null) {
              throw error("invalid character class range `" + name + "` (POSIX classes are [:alnum:], [:alpha:], "
                  + "[:ascii:], [:blank:], [:cntrl:], [:digit:], [:graph:], [:lower:], [:print:], [:punct:], "
                  + "[:space:], [:upper:], [:word:], [:xdigit:], negated as [:^alpha:])", pos);
            }
            set.addAll(posix);
            pos = close + 2;
            continue;
          }
        }
        if (peek() == '\\' && pos + 1 < src.length()) {
          CodePointSet cls = classEscape(true);
          if (cls != null) {
            set.addAll(cls);
            continue;
          }
        }
        int rangeStart = pos;
        int lo = classChar(start);
        int hi = lo;
        if (pos + 1 < src.length() && src.charAt(pos) == '-' && src.charAt(pos + 1) != ']') {
          pos++;
          hi = classChar(start);
          if (hi < lo) {
            throw error("invalid character class range `" + src.substring(rangeStart, pos) + "`", rangeStart);
          }
        }
        set.add(lo, hi);
      }
      if ((flags & FOLD) != 0) {
        set = set.folded();
      }
      return new Chars(negate ? set.negated() : set);
    }

    int classChar(int classStart) {
      if (!more()) {
        throw error("missing closing ] `" + src.substring(classStart) + "`", classStart);
      }
      if (peek() == '\\') {
        return singleEscape(pos);
      }
      int cp = peek();
      pos += Character.charCount(cp);
      return cp;
    }

    /** A POSIX class {@code [:name:]} or {@code [:^name:]}, folded under (?i) before negation; null when unknown. */
    CodePointSet posix(String written) {
      String name = written.substring(2, written.length() - 2);
      boolean negate = name.startsWith("^");
      CodePointSet base = POSIX.get(negate ? name.substring(1) : name);
      if (base == null) {
        return null;
      }
      base = new CodePointSet().addAll(base);
      if ((flags & FOLD) != 0) {
        base = base.folded();
      }
      return negate ? base.negated() : base;
    }
  }

  private static Map<String, CodePointSet> posixClasses() {
    Map<String, CodePointSet> m = new LinkedHashMap<>();
    m.put("alnum", new CodePointSet().add('0', '9').add('A', 'Z').add('a', 'z'));
    m.put("alpha", new CodePointSet().add('A', 'Z').add('a', 'z'));
    m.put("ascii", CodePointSet.of(0, 0x7f));
    m.put("blank", new CodePointSet().add('\t').add(' '));
    m.put("cntrl", new CodePointSet().add(0, 0x1f).add(0x7f));
    m.put("digit", CodePointSet.of('0', '9'));
    m.put("graph", CodePointSet.of('!', '~'));
    m.put("lower", CodePointSet.of('a', 'z'));
    m.put("print", CodePointSet.of(' ', '~'));
    m.put("punct", new CodePointSet().add('!', '/').add(':', '@').add('[', '`').add('{', '~'));
    m.put("space", new CodePointSet().add('\t', '\r').add(' '));
    m.put("upper", CodePointSet.of('A', 'Z'));
    m.put("word", new CodePointSet().add('0', '9').add('A', 'Z').add('a', 'z').add('_'));
    m.put("xdigit", new CodePointSet().add('0', '9').add('A', 'F').add('a', 'f'));
    m.values().forEach(CodePointSet::normalized);
    return Map.copyOf(m);
  }
}
