package dev.gitops.core.decode;

import dev.gitops.core.internal.JsonErrors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The problem of a YAML or JSON syntax error in words that never quote the file's text: a file
 * may hold a secret on the line that fails to parse, and errors reach logs and notifications.
 * SnakeYAML and Jackson quote what they found (an escape's digits, a token, a tag handle); what
 * is kept is the problem, the tokens the parser expected and one character when it is syntax
 * (an indicator such as {@code @}, or a tab), never a letter or digit. The line and column name
 * the place: {@code "expected escape sequence of 4 hexadecimal numbers, but found: SECR"} reads
 * {@code "expected escape sequence of 4 hexadecimal numbers, but found something else"}.
 */
final class SyntaxErrors {

  /** A token name SnakeYAML's parser reports, such as {@code '<block end>'}: no text of the file. */
  private static final Pattern TOKEN = Pattern.compile("'?<[a-z ]+>'?");
  /** One character as SnakeYAML's scanner reports it: {@code 'x'}, {@code ' ' (32)}, {@code x(120)}. */
  private static final Pattern CHAR = Pattern.compile("'(.)'(?: ?\\(\\d+\\))?|(.)\\(\\d+\\)");
  /** A quoted run of a file's text in Jackson's JSON messages: {@code 'LeakMe'} or {@code ('L' (code 76))}. */
  private static final Pattern JSON_QUOTED = Pattern.compile("\\('([^']*)' \\(code \\d+\\)\\)|'([^']*)'(?: \\(code \\d+\\))?");
  /** Words Jackson quotes in its own text ("was expecting ... token 'null', 'true' or 'false'"). */
  private static final java.util.Set<String> JSON_WORDS = java.util.Set.of("null", "true", "false");
  /** YAML's spellings of NaN and infinity, which Jackson calls malformed numbers: syntax, not a value's text. */
  private static final Pattern SPECIAL_FLOAT = Pattern.compile("[-+]?\\.(?:nan|NaN|NAN|inf|Inf|INF)");

  private SyntaxErrors() {}

  /** SnakeYAML's problem (a {@code MarkedYAMLException}'s) without the text of the file. */
  static String yaml(String problem) {
    if (problem == null || problem.isBlank()) {
      return "syntax error";
    }
    String p = problem.strip();
    if (p.contains("cannot start any token")) {
      Matcher m = Pattern.compile("found character '(.+?)' that").matcher(p);
      String found = m.find() ? m.group(1) : "";
      if (found.startsWith("\\t")) {
        return "found a tab, which cannot start any token (indent with spaces, not tabs)";
      }
      return found.length() == 1 && syntax(found.charAt(0))
          ? "found character '" + found + "', which cannot start any token (quote the value)"
          : "found a character that cannot start any token";
    }
    for (String cut : new String[] {"found unknown escape character", "found undefined tag handle",
        "duplicate tag handle", "found undefined alias", "expected URI in UTF-8"}) {
      if (p.startsWith(cut)) {
        return cut;
      }
    }
    int but = p.indexOf(", but found");
    if (but >= 0) {
      String tail = p.substring(but + ", but found".length()).replaceFirst("^:", "").strip();
      return p.substring(0, but) + ", but found " + shown(tail);
    }
    return p;
  }

  /** Jackson's message of a syntax error (JSON, or YAML that SnakeYAML read) ({@code getOriginalMessage()}) without the text of the file. */
  static String jackson(String raw) {
    if (raw == null || raw.isBlank()) {
      return "syntax error";
    }
    String message = JsonErrors.problem(raw);  // its first line, Jackson's own locations in words
    if (message.startsWith("Duplicate field")) {
      return message;  // a key's name, not a value: kept so that the duplicate can be found
    }
    Matcher m = JSON_QUOTED.matcher(message);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String q = m.group(1) != null ? m.group(1) : m.group(2);
      boolean special = SPECIAL_FLOAT.matcher(q).matches();
      String keep = JSON_WORDS.contains(q) || special || (q.length() == 1 && syntax(q.charAt(0)))
          ? m.group() + (special ? " (JSON has no NaN or infinity)" : "") : "";
      m.appendReplacement(out, Matcher.quoteReplacement(keep));
    }
    m.appendTail(out);
    return out.toString().replaceAll(" {2,}", " ").replace(" :", ":").strip();
  }

  /** Jackson's words for a value over one of its limits: {@code Number value length (1001) exceeds the maximum allowed (1000, ...)}. */
  private static final Pattern LIMIT = Pattern.compile("(Number value|Name|String value) length \\((\\d+)\\) exceeds the maximum"
      + " allowed \\((\\d+)\\b.*", Pattern.DOTALL);

  /**
   * Jackson's message of a value over one of its limits ({@code StreamConstraintsException}) in
   * the decoder's words, without Jackson's names: {@code "a number 1001 characters long, more than
   * the 1000 a number may have (quote it to read it as a string)"}. Another message as {@link #jackson}.
   */
  static String limit(String raw) {
    Matcher m = raw == null ? null : LIMIT.matcher(raw.strip());
    if (m == null || !m.matches()) {
      return jackson(raw);
    }
    String what = switch (m.group(1)) {
      case "Number value" -> "number";
      case "Name" -> "key";
      default -> "string";
    };
    return "a " + what + " " + m.group(2) + " characters long, more than the " + m.group(3) + " a " + what
        + " may have" + (what.equals("number") ? " (quote it to read it as a string)" : "");
  }

  /** What the scanner found, when it is a token name or one syntax character; else "something else". */
  private static String shown(String found) {
    if (TOKEN.matcher(found).matches()) {
      return found;
    }
    Matcher m = CHAR.matcher(found);
    if (m.matches()) {
      char c = (m.group(1) != null ? m.group(1) : m.group(2)).charAt(0);
      if (c == ' ') {
        return "a space";
      }
      if (syntax(c)) {
        return "'" + c + "'";
      }
    }
    return "something else";
  }

  /** Whether {@code c} is ASCII punctuation: YAML's and JSON's syntax, never the letters of a value. */
  private static boolean syntax(char c) {
    return c > ' ' && c < 0x7F && !Character.isLetterOrDigit(c);
  }
}
