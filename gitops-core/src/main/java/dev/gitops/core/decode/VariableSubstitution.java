package dev.gitops.core.decode;

import dev.gitops.api.DecodeException;
import dev.gitops.api.Documents;
import dev.gitops.api.Origin;
import dev.gitops.api.spi.SourceFile;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Strict {@code ${VAR}} substitution over the text of a file, from variables the user supplies.
 *
 * <p>A reference is {@code ${NAME}} with {@code NAME} matching {@code [A-Za-z_][A-Za-z0-9_]*}.
 * {@code $${NAME}} is an escape and yields the literal text {@code ${NAME}}. A reference to a
 * variable that is not defined, or a <code>${</code> that does not start a well-formed reference, is
 * an error naming the file, the line and the variable; nothing is ever silently left empty. A
 * {@code $} not followed by <code>{</code> is kept as is. Values must not contain line breaks (LF,
 * CR, and NEL, U+2028 and U+2029, which YAML reads as line breaks too), so that line numbers of
 * the substituted text still match the file in Git. Lines end at LF, CRLF or a lone CR.
 *
 * <pre>{@code
 * VariableSubstitution vars = VariableSubstitution.of(Map.of("ENV", "prod"));
 * vars.apply("name: web-${ENV}\n", "apps/web.yaml", "main@sha1:...");  // "name: web-prod\n"
 * }</pre>
 */
public final class VariableSubstitution {

  private final SortedMap<String, String> variables;
  private final String digest;

  private VariableSubstitution(SortedMap<String, String> variables) {
    this.variables = variables;
    MessageDigest md = Documents.sha256();
    for (Map.Entry<String, String> e : variables.entrySet()) {
      md.update(e.getKey().getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0);
      md.update(e.getValue().getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0);
    }
    this.digest = HexFormat.of().formatHex(md.digest());
  }

  /**
   * Substitution from {@code variables}.
   *
   * @throws IllegalArgumentException naming the variable when a name is malformed or a value
   *     contains a line break (naming its code point, never the value)
   */
  public static VariableSubstitution of(Map<String, String> variables) {
    TreeMap<String, String> copy = checked(variables, "variables");
    for (Map.Entry<String, String> e : copy.entrySet()) {
      String name = e.getKey();
      String value = e.getValue();
      if (!isName(name)) {
        throw new IllegalArgumentException(
            "variable name '" + name + "' is not valid (want [A-Za-z_][A-Za-z0-9_]*)");
      }
      int brk = lineBreak(value);
      if (brk >= 0) {
        // the value may be a secret: name the character, not the text
        throw new IllegalArgumentException(String.format(Locale.ROOT, "value of variable %s contains a line break"
            + " (U+%04X at index %d); values must be one line, so that the substituted file's line numbers"
            + " match the file in Git", name, (int) value.charAt(brk), brk));
      }
    }
    return new VariableSubstitution(copy);
  }

  /**
   * A sorted copy of {@code variables}, given as {@code what}, once no name and no value in it is
   * null; a map that refuses to be asked for a null key (as {@code Map.of}'s do) is fine.
   *
   * <pre>{@code
   * Map<String, String> vars = new HashMap<>();
   * vars.put("ENV", null);
   * VariableSubstitution.checked(vars, "variables");  // NullPointerException: value of variable ENV in variables is null
   * }</pre>
   *
   * @throws NullPointerException naming {@code what} when the map is null, the variable when its
   *     value is null, and saying so when a name is null (never quoting a value)
   */
  public static TreeMap<String, String> checked(Map<String, String> variables, String what) {
    Objects.requireNonNull(variables, what);
    TreeMap<String, String> copy = new TreeMap<>();
    for (Map.Entry<String, String> e : variables.entrySet()) {
      String name = e.getKey();
      if (name == null) {
        throw new NullPointerException(what + " holds a variable whose name is null");
      }
      if (e.getValue() == null) {
        throw new NullPointerException("value of variable " + name + " in " + what + " is null");
      }
      copy.put(name, e.getValue());
    }
    return copy;
  }

  /** The variables, sorted by name, read-only. */
  public SortedMap<String, String> variables() {
    return java.util.Collections.unmodifiableSortedMap(variables);
  }

  /** SHA-256 over the sorted variables: part of the decode cache key. */
  public String digest() {
    return digest;
  }

  /**
   * Substitutes every reference in {@code text}.
   *
   * @param file the file path, for errors
   * @param revision the revision, for errors
   * @throws DecodeException naming file, line and variable for an undefined or malformed reference
   */
  public String apply(String text, String file, String revision) {
    int first = text.indexOf('$');
    if (first < 0) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length() + 16);
    out.append(text, 0, first);
    int line = SourceText.lineAt(text, first);
    int i = first;
    int n = text.length();
    while (i < n) {
      char c = text.charAt(i);
      if (SourceText.endsLine(text, i)) {
        line++;
        out.append(c);
        i++;
      } else if (c == '$' && i + 2 < n && text.charAt(i + 1) == '$' && text.charAt(i + 2) == '{') {
        out.append('$').append('{');  // escape: "$${" keeps "${" literally
        i += 3;
        int close = text.indexOf('}', i);
        int end = close < 0 ? i : close + 1;
        for (int k = i; k < end; k++) {
          if (SourceText.endsLine(text, k)) {
            line++;
          }
        }
        out.append(text, i, end);
        i = end;
      } else if (c == '$' && i + 1 < n && text.charAt(i + 1) == '{') {
        int close = text.indexOf('}', i + 2);
        String name = close < 0 ? null : text.substring(i + 2, close);
        Origin at = Origin.of(file, line, revision);
        if (name == null || !isName(name)) {
          String shown = text.substring(i, Math.min(n, close < 0 ? i + 20 : close + 1)).split("[\r\n]", 2)[0];
          throw new DecodeException(at, "malformed variable reference '" + shown
              + "' (want ${NAME} with NAME matching [A-Za-z_][A-Za-z0-9_]*, or $${...} for a literal)");
        }
        String value = variables.get(name);
        if (value == null) {
          throw new DecodeException(at, "undefined variable ${" + name + "} (defined: "
              + (variables.isEmpty() ? "none" : String.join(", ", variables.keySet())) + ")");
        }
        out.append(value);
        i = close + 1;
      } else {
        out.append(c);
        i++;
      }
    }
    return out.toString();
  }

  /**
   * Substitutes every reference in the text of {@code file} and returns the file with the new
   * content (same path, blob id and revision).
   *
   * @throws DecodeException naming the file and line when it is not valid UTF-8 (saying so when it
   *     is UTF-16), or naming file, line and variable for an undefined or malformed reference
   */
  public SourceFile apply(SourceFile file) {
    String text;
    ByteBuffer in = ByteBuffer.wrap(file.content());
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(in)
          .toString();
    } catch (CharacterCodingException e) {
      String utf16 = SourceText.utf16(file.content());
      if (utf16 != null) {
        throw new DecodeException(Origin.of(file.path(), 1, file.revision()),
            SourceText.utf16Message(utf16) + "; cannot substitute variables", e);
      }
      throw new DecodeException(Origin.of(file.path(), SourceText.lineAt(file.content(), in.position()), file.revision()),
          "not valid UTF-8 (bad byte at offset " + in.position() + "), cannot substitute variables", e);
    }
    String out = apply(text, file.path(), file.revision());
    if (out.equals(text)) {
      return file;
    }
    return new SourceFile(file.path(), file.blobId(), out.getBytes(StandardCharsets.UTF_8), file.revision(),
        file.executable());
  }

  /** The index of the first line break in {@code value} (as YAML reads line breaks), or -1. */
  private static int lineBreak(String value) {
    for (int k = 0; k < value.length(); k++) {
      char c = value.charAt(k);
      if (c == '\n' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029') {
        return k;
      }
    }
    return -1;
  }

  static boolean isName(String name) {
    if (name.isEmpty()) {
      return false;
    }
    for (int k = 0; k < name.length(); k++) {
      char ch = name.charAt(k);
      boolean ok = ch == '_' || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
          || (k > 0 && ch >= '0' && ch <= '9');
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    // values may be secrets: show names only
    return "VariableSubstitution" + variables.keySet();
  }
}
