package dev.gitops.ansible.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;

/**
 * Python's {@code ast.literal_eval} over the value of an INI inventory variable, as Ansible's INI
 * plugin applies it: {@code 5} is an int, {@code True} a bool, {@code [1, 'a']} a list, {@code
 * 'x'} a string; anything that is not a Python literal stays the text it was. Values that Python
 * reads but JSON cannot hold (complex numbers, sets, bytes, tuple keys, infinities) are kept as
 * text too; Ansible itself could not print them with {@code ansible-inventory --list}.
 */
public final class PythonLiteral {

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  /** Thrown inside the parser when the text is not a literal this class represents. */
  private static final class NotALiteral extends RuntimeException {
    NotALiteral() {
      super(null, null, false, false);
    }
  }

  private final String s;
  private int i;

  private PythonLiteral(String s) {
    this.s = s;
  }

  /**
   * The value of {@code text} as {@code ast.literal_eval} gives it, as JSON; the text itself when
   * it is not a literal (Ansible's {@code _parse_value} keeps the string then).
   */
  public static JsonNode parseValue(String text) {
    JsonNode v = literal(text);
    return v == null ? NODES.textNode(text) : v;
  }

  /** The literal's value, or null when {@code text} is not a literal. */
  public static JsonNode literal(String text) {
    // literal_eval strips leading spaces and tabs before parsing
    int start = 0;
    while (start < text.length() && (text.charAt(start) == ' ' || text.charAt(start) == '\t')) {
      start++;
    }
    PythonLiteral p = new PythonLiteral(text.substring(start));
    try {
      JsonNode v = p.expression();
      p.skipSpace();
      if (p.i != p.s.length()) {
        return null;
      }
      return v;
    } catch (NotALiteral e) {
      return null;
    }
  }

  // ------------------------------------------------------------------ grammar

  private JsonNode expression() {
    skipSpace();
    JsonNode first = unary();
    skipSpace();
    if (peek() == ',') {
      // a bare tuple: 1, 2
      ArrayNode tuple = NODES.arrayNode();
      tuple.add(first);
      while (peek() == ',') {
        i++;
        skipSpace();
        if (atEnd() || peek() == ')' || peek() == ']' || peek() == '}') {
          break;
        }
        tuple.add(unary());
        skipSpace();
      }
      return tuple;
    }
    return first;
  }

  private JsonNode unary() {
    skipSpace();
    char c = peek();
    if (c == '-' || c == '+') {
      i++;
      skipSpace();
      // literal_eval allows one sign on a number (bools count: they are ints)
      JsonNode operand = atom(true);
      if (operand.isBoolean()) {
        operand = NODES.numberNode(operand.booleanValue() ? 1 : 0);
      }
      if (!operand.isNumber()) {
        throw new NotALiteral();
      }
      if (c == '+') {
        return operand;
      }
      if (operand.isBigInteger() || operand.isLong() || operand.isInt()) {
        return integer(operand.bigIntegerValue().negate());
      }
      return NODES.numberNode(-operand.doubleValue());
    }
    return atom(false);
  }

  private JsonNode atom(boolean numberOnly) {
    skipSpace();
    if (atEnd()) {
      throw new NotALiteral();
    }
    char c = peek();
    if (c == '(') {
      i++;
      skipSpace();
      if (peek() == ')') {
        i++;
        return NODES.arrayNode();
      }
      JsonNode inner = expression();
      skipSpace();
      expect(')');
      if (numberOnly && !inner.isNumber() && !inner.isBoolean()) {
        throw new NotALiteral();
      }
      return inner;
    }
    if (numberOnly) {
      if (isDigit(c, 10) || (c == '.' && i + 1 < s.length() && isDigit(s.charAt(i + 1), 10))) {
        return number();
      }
      if (startsWithName("True") || startsWithName("False")) {
        return name();
      }
      throw new NotALiteral();
    }
    if (c == '[') {
      i++;
      return sequence(']');
    }
    if (c == '{') {
      i++;
      return dict();
    }
    if (isDigit(c, 10) || (c == '.' && i + 1 < s.length() && isDigit(s.charAt(i + 1), 10))) {
      return number();
    }
    if (c == '\'' || c == '"' || isStringPrefix()) {
      return strings();
    }
    return name();
  }

  private ArrayNode sequence(char close) {
    ArrayNode out = NODES.arrayNode();
    skipSpace();
    if (peek() == close) {
      i++;
      return out;
    }
    while (true) {
      out.add(unary());
      skipSpace();
      if (peek() == ',') {
        i++;
        skipSpace();
        if (peek() == close) {
          i++;
          return out;
        }
        continue;
      }
      expect(close);
      return out;
    }
  }

  private ObjectNode dict() {
    ObjectNode out = NODES.objectNode();
    skipSpace();
    if (peek() == '}') {
      i++;
      return out;
    }
    while (true) {
      JsonNode key = unary();
      skipSpace();
      if (peek() != ':') {
        // {1, 2} is a set: Python reads it, JSON cannot hold it
        throw new NotALiteral();
      }
      i++;
      JsonNode value = unary();
      out.set(keyText(key), value);
      skipSpace();
      if (peek() == ',') {
        i++;
        skipSpace();
        if (peek() == '}') {
          i++;
          return out;
        }
        continue;
      }
      expect('}');
      return out;
    }
  }

  /** A dict key as Python's json module writes it. */
  private static String keyText(JsonNode key) {
    if (key.isTextual()) {
      return key.textValue();
    }
    if (key.isBoolean()) {
      return key.booleanValue() ? "true" : "false";
    }
    if (key.isNull()) {
      return "null";
    }
    if (key.isIntegralNumber()) {
      return key.bigIntegerValue().toString();
    }
    if (key.isDouble()) {
      return floatRepr(key.doubleValue());
    }
    throw new NotALiteral();
  }

  private JsonNode name() {
    int start = i;
    while (!atEnd() && (Character.isLetterOrDigit(peek()) || peek() == '_')) {
      i++;
    }
    String n = s.substring(start, i);
    switch (n) {
      case "True":
        return NODES.booleanNode(true);
      case "False":
        return NODES.booleanNode(false);
      case "None":
        return NODES.nullNode();
      default:
        throw new NotALiteral();
    }
  }

  private boolean startsWithName(String n) {
    return s.startsWith(n, i) && (i + n.length() == s.length()
        || !(Character.isLetterOrDigit(s.charAt(i + n.length())) || s.charAt(i + n.length()) == '_'));
  }

  // ------------------------------------------------------------------ numbers

  private JsonNode number() {
    if (peek() == '0' && i + 1 < s.length() && "xXoObB".indexOf(s.charAt(i + 1)) >= 0) {
      char base = Character.toLowerCase(s.charAt(i + 1));
      i += 2;
      int radix = base == 'x' ? 16 : base == 'o' ? 8 : 2;
      String digits = underscored(radix, true);
      noTrailingNameChar();
      return integer(new BigInteger(digits, radix));
    }
    String intPart = peek() == '.' ? "" : underscored(10, false);
    boolean isFloat = false;
    StringBuilder text = new StringBuilder(intPart);
    if (peek() == '.') {
      isFloat = true;
      i++;
      text.append('.');
      if (isDigit(peek(), 10)) {
        text.append(underscored(10, false));
      }
    }
    if (peek() == 'e' || peek() == 'E') {
      int save = i;
      i++;
      StringBuilder exp = new StringBuilder("e");
      if (peek() == '+' || peek() == '-') {
        exp.append(peek());
        i++;
      }
      if (isDigit(peek(), 10)) {
        exp.append(underscored(10, false));
        text.append(exp);
        isFloat = true;
      } else {
        i = save;
        throw new NotALiteral();
      }
    }
    if (peek() == 'j' || peek() == 'J') {
      throw new NotALiteral();  // complex
    }
    noTrailingNameChar();
    if (text.length() == 0 || text.toString().equals(".")) {
      throw new NotALiteral();
    }
    if (!isFloat) {
      // Python 3 forbids leading zeros in decimal ints other than zero itself
      if (intPart.length() > 1 && intPart.charAt(0) == '0' && !intPart.chars().allMatch(ch -> ch == '0')) {
        throw new NotALiteral();
      }
      return integer(new BigInteger(intPart));
    }
    double d = Double.parseDouble(text.toString());
    if (Double.isInfinite(d)) {
      throw new NotALiteral();
    }
    return NODES.numberNode(d);
  }

  /** Digits of {@code radix} with single underscores between digits (after a base prefix, before the first too). */
  private String underscored(int radix, boolean afterPrefix) {
    StringBuilder out = new StringBuilder();
    while (true) {
      boolean underscore = false;
      if (peek() == '_' && (out.length() > 0 || afterPrefix)) {
        if (i + 1 < s.length() && isDigit(s.charAt(i + 1), radix)) {
          i++;
          underscore = true;
        } else {
          throw new NotALiteral();
        }
      }
      if (!atEnd() && isDigit(peek(), radix)) {
        out.append(peek());
        i++;
      } else if (underscore) {
        throw new NotALiteral();
      } else {
        break;
      }
    }
    if (out.length() == 0) {
      throw new NotALiteral();
    }
    return out.toString();
  }

  private static boolean isDigit(char c, int radix) {
    return c < 0x80 && Character.digit(c, radix) >= 0;
  }

  private void noTrailingNameChar() {
    if (!atEnd() && (Character.isLetterOrDigit(peek()) || peek() == '_')) {
      throw new NotALiteral();
    }
  }

  private static JsonNode integer(BigInteger v) {
    return v.bitLength() < 64 ? NODES.numberNode(v.longValue()) : NODES.numberNode(v);
  }

  // ------------------------------------------------------------------ strings

  private boolean isStringPrefix() {
    int j = i;
    while (j < s.length() && j - i < 2 && "rRuUbBfF".indexOf(s.charAt(j)) >= 0) {
      j++;
    }
    return j > i && j < s.length() && (s.charAt(j) == '\'' || s.charAt(j) == '"');
  }

  /** One or more adjacent string literals, concatenated as Python does. */
  private JsonNode strings() {
    StringBuilder out = new StringBuilder();
    boolean any = false;
    while (true) {
      skipSpace();
      if (atEnd() || !(peek() == '\'' || peek() == '"' || isStringPrefix())) {
        break;
      }
      out.append(string());
      any = true;
    }
    if (!any) {
      throw new NotALiteral();
    }
    return NODES.textNode(out.toString());
  }

  private String string() {
    boolean raw = false;
    while ("rRuUbBfF".indexOf(peek()) >= 0) {
      char p = Character.toLowerCase(peek());
      if (p == 'b' || p == 'f') {
        throw new NotALiteral();  // bytes and f-strings: not text literals
      }
      raw |= p == 'r';
      i++;
    }
    char q = peek();
    boolean triple = s.startsWith(String.valueOf(q).repeat(3), i);
    i += triple ? 3 : 1;
    StringBuilder out = new StringBuilder();
    while (true) {
      if (atEnd()) {
        throw new NotALiteral();
      }
      char c = s.charAt(i);
      if (triple ? s.startsWith(String.valueOf(q).repeat(3), i) : c == q) {
        i += triple ? 3 : 1;
        return out.toString();
      }
      if (!triple && (c == '\n' || c == '\r')) {
        throw new NotALiteral();
      }
      if (c == '\\') {
        if (i + 1 >= s.length()) {
          throw new NotALiteral();
        }
        char e = s.charAt(i + 1);
        if (raw) {
          out.append(c).append(e);
          i += 2;
          continue;
        }
        i += 2;
        escape(e, out);
        continue;
      }
      out.append(c);
      i++;
    }
  }

  private void escape(char e, StringBuilder out) {
    switch (e) {
      case '\n':
        return;
      case '\\':
      case '\'':
      case '"':
        out.append(e);
        return;
      case 'a':
        out.append('\u0007');
        return;
      case 'b':
        out.append('\b');
        return;
      case 'f':
        out.append('\f');
        return;
      case 'n':
        out.append('\n');
        return;
      case 'r':
        out.append('\r');
        return;
      case 't':
        out.append('\t');
        return;
      case 'v':
        out.append('\u000b');
        return;
      case 'x':
        out.appendCodePoint(hex(2));
        return;
      case 'u':
        out.appendCodePoint(hex(4));
        return;
      case 'U':
        int cp = hex(8);
        if (cp > Character.MAX_CODE_POINT) {
          throw new NotALiteral();
        }
        out.appendCodePoint(cp);
        return;
      case 'N':
        if (peek() != '{') {
          throw new NotALiteral();
        }
        int close = s.indexOf('}', i);
        if (close < 0) {
          throw new NotALiteral();
        }
        try {
          out.appendCodePoint(Character.codePointOf(s.substring(i + 1, close)));
        } catch (IllegalArgumentException ex) {
          throw new NotALiteral();
        }
        i = close + 1;
        return;
      default:
        if (e >= '0' && e <= '7') {
          int v = e - '0';
          for (int k = 0; k < 2 && !atEnd() && peek() >= '0' && peek() <= '7'; k++) {
            v = v * 8 + (s.charAt(i++) - '0');
          }
          out.appendCodePoint(v);
          return;
        }
        // an unknown escape keeps its backslash
        out.append('\\').append(e);
    }
  }

  private int hex(int n) {
    if (i + n > s.length()) {
      throw new NotALiteral();
    }
    int v = 0;
    for (int k = 0; k < n; k++) {
      int d = Character.digit(s.charAt(i + k), 16);
      if (d < 0) {
        throw new NotALiteral();
      }
      v = v * 16 + d;
    }
    i += n;
    return v;
  }

  /** Python's {@code repr} of a float: shortest digits, scientific below 1e-4 and from 1e16. */
  public static String floatRepr(double d) {
    if (Double.isNaN(d)) {
      return "nan";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? "inf" : "-inf";
    }
    if (d == 0) {
      return (1 / d) < 0 ? "-0.0" : "0.0";
    }
    java.math.BigDecimal bd = new java.math.BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
    String digits = bd.unscaledValue().toString();
    int exp = digits.length() - 1 - bd.scale();
    String sign = d < 0 ? "-" : "";
    if (exp >= -4 && exp < 16) {
      String plain = bd.toPlainString();
      return sign + (plain.indexOf('.') < 0 ? plain + ".0" : plain);
    }
    String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
    return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
  }

  // ------------------------------------------------------------------ scanning

  private void skipSpace() {
    while (!atEnd()) {
      char c = peek();
      if (c == ' ' || c == '\t' || c == '\f') {
        i++;
      } else if (c == '#') {
        // a comment runs to the end of the line
        while (!atEnd() && peek() != '\n') {
          i++;
        }
      } else {
        return;
      }
    }
  }

  private void expect(char c) {
    if (peek() != c) {
      throw new NotALiteral();
    }
    i++;
  }

  private char peek() {
    return i < s.length() ? s.charAt(i) : '\0';
  }

  private boolean atEnd() {
    return i >= s.length();
  }
}
