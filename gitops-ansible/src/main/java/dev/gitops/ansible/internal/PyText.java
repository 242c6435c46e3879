package dev.gitops.ansible.internal;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/** Python's text primitives that Ansible's parsers lean on, so Java splits and trims the same way. */
public final class PyText {

  private PyText() {}

  /** {@code str.isspace()} for one character. */
  public static boolean isSpace(char c) {
    switch (c) {
      case ' ': case '\t': case '\n': case '\u000b': case '\f': case '\r':
      case '\u001c': case '\u001d': case '\u001e': case '\u001f':
      case '\u0085': case '\u00a0': case '\u1680': case '\u2028': case '\u2029':
      case '\u202f': case '\u205f': case '\u3000':
        return true;
      default:
        return c >= '\u2000' && c <= '\u200a';
    }
  }

  /** {@code str.strip()}. */
  public static String strip(String s) {
    int a = 0;
    int b = s.length();
    while (a < b && isSpace(s.charAt(a))) {
      a++;
    }
    while (b > a && isSpace(s.charAt(b - 1))) {
      b--;
    }
    return s.substring(a, b);
  }

  /** {@code str.splitlines()}: every line boundary Python knows, no trailing empty line. */
  public static List<String> splitLines(String s) {
    List<String> out = new ArrayList<>();
    int start = 0;
    int i = 0;
    while (i < s.length()) {
      char c = s.charAt(i);
      boolean boundary = c == '\n' || c == '\r' || c == '\u000b' || c == '\f' || c == '\u001c' || c == '\u001d'
          || c == '\u001e' || c == '\u0085' || c == '\u2028' || c == '\u2029';
      if (boundary) {
        out.add(s.substring(start, i));
        if (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n') {
          i++;
        }
        start = i + 1;
      }
      i++;
    }
    if (start < s.length()) {
      out.add(s.substring(start));
    }
    return out;
  }

  /**
   * {@code int(text)} for a string: surrounding whitespace, one sign, ASCII digits with single
   * underscores between them.
   *
   * @throws NumberFormatException as Python raises ValueError
   */
  public static BigInteger parseInt(String text) {
    String t = strip(text);
    int i = 0;
    boolean negative = false;
    if (!t.isEmpty() && (t.charAt(0) == '+' || t.charAt(0) == '-')) {
      negative = t.charAt(0) == '-';
      i = 1;
    }
    StringBuilder digits = new StringBuilder();
    boolean lastUnderscore = true;
    for (; i < t.length(); i++) {
      char c = t.charAt(i);
      if (c == '_' && !lastUnderscore) {
        lastUnderscore = true;
      } else if (c >= '0' && c <= '9') {
        digits.append(c);
        lastUnderscore = false;
      } else {
        throw new NumberFormatException("invalid literal for int() with base 10: '" + text + "'");
      }
    }
    if (digits.length() == 0 || lastUnderscore) {
      throw new NumberFormatException("invalid literal for int() with base 10: '" + text + "'");
    }
    BigInteger v = new BigInteger(digits.toString());
    return negative ? v.negate() : v;
  }

  /** {@code str.zfill(width)}: zeros after a leading sign. */
  public static String zfill(String s, int width) {
    if (s.length() >= width) {
      return s;
    }
    String zeros = "0".repeat(width - s.length());
    if (!s.isEmpty() && (s.charAt(0) == '+' || s.charAt(0) == '-')) {
      return s.charAt(0) + zeros + s.substring(1);
    }
    return zeros + s;
  }

  /** {@code os.path.splitext(path)[1]}: the extension of the last segment, leading dots not counting. */
  public static String extension(String path) {
    int slash = path.lastIndexOf('/');
    String name = path.substring(slash + 1);
    int dot = name.lastIndexOf('.');
    if (dot <= 0) {
      return "";
    }
    // a name made only of dots and then the extension (".bashrc", "..x") has none
    for (int k = 0; k < dot; k++) {
      if (name.charAt(k) != '.') {
        return name.substring(dot);
      }
    }
    return "";
  }
}
