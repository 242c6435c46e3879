package dev.gitops.terraform.internal;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the provider reads of Terraform's configuration before Terraform runs: the root variables
 * declared {@code sensitive = true}, and their values in variable files, so their secrets are
 * scrubbed from Terraform's first messages. A light reading of HCL (blocks and string literals),
 * not a parser: a value it cannot read is only not scrubbed early, never changed.
 */
public final class VariableFiles {

  /** A {@code variable} block's head: HCL takes its label quoted or as a bare identifier ({@code variable pw}). */
  private static final Pattern VARIABLE = Pattern.compile(
      "(?m)^\\s*variable\\s+(?:\"([^\"]+)\"|([A-Za-z_][A-Za-z0-9_-]*))\\s*\\{");
  /** {@code sensitive = true}; Terraform converts the string {@code "true"} to the bool as well. */
  private static final Pattern SENSITIVE = Pattern.compile(
      "(?m)(?:^|\\{|;)\\s*sensitive\\s*=\\s*(?:true\\b|\"true\")");
  private static final Pattern STRING = Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"");
  private static final Pattern HEREDOC = Pattern.compile("<<-?\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*\\n(.*?)\\n\\s*\\1\\s*(?:\\n|$)",
      Pattern.DOTALL);

  private VariableFiles() {}

  /** The root module's variables (files without a directory) declared {@code sensitive = true}. */
  public static Set<String> sensitiveDeclared(SortedMap<String, String> files) {
    return rootVariables(files, body -> SENSITIVE.matcher(body).find(),
        v -> v.path("sensitive").asBoolean(false));
  }

  /**
   * The root module's variables (files without a directory) whose declaration passes {@code hcl}
   * (the text of a {@code .tf} or {@code .tofu} file's {@code variable} block) or {@code json} (a
   * {@code .tf.json} or {@code .tofu.json} file's variable object).
   */
  private static Set<String> rootVariables(SortedMap<String, String> files, java.util.function.Predicate<String> hcl,
      java.util.function.Predicate<JsonNode> json) {
    Set<String> out = new TreeSet<>();
    for (Map.Entry<String, String> f : files.entrySet()) {
      String path = f.getKey();
      if (path.contains("/")) {
        continue;
      }
      if (InitInputs.isHcl(path)) {
        // what a comment says ('# sensitive = true', a commented-out block) is not Terraform's
        String text = InitInputs.blankComments(f.getValue());
        Matcher m = VARIABLE.matcher(text);
        while (m.find()) {
          if (hcl.test(topLevel(block(text, m.end())))) {
            out.add(m.group(1) != null ? m.group(1) : m.group(2));
          }
        }
      } else if (InitInputs.isJson(path)) {
        try {
          // JSON writes blocks as objects or as lists of them, at the block type and under each label (and a
          // property given twice is both, and a root list of objects is one body: HclJson)
          JsonNode vars = HclJson.body(f.getValue()).path("variable");
          for (JsonNode byName : vars.isArray() ? vars : List.of(vars)) {
            for (Iterator<Map.Entry<String, JsonNode>> it = byName.fields(); it.hasNext(); ) {
              Map.Entry<String, JsonNode> e = it.next();
              for (JsonNode body : e.getValue().isArray() ? e.getValue() : List.of(e.getValue())) {
                if (json.test(body)) {
                  out.add(e.getKey());
                }
              }
            }
          }
        } catch (IOException e) {
          // Not JSON, or not a body (the decoder refuses that first): Terraform refuses the file itself, naming it.
        }
      }
    }
    return out;
  }

  private static final Pattern TYPE = Pattern.compile("(?m)^\\s*type\\s*=\\s*([A-Za-z_]+)");

  /**
   * {@code body} with everything nested in braces, brackets or parentheses blanked, and heredocs
   * (line ends kept): what remains are the block's own arguments, so a {@code type} or {@code
   * sensitive} in a default's object, a validation block or a heredoc is not taken for the
   * variable's. Strings and heredocs are read as Terraform reads them ({@link InitInputs#skipLexical}).
   */
  static String topLevel(String body) {
    StringBuilder b = new StringBuilder(body);
    int depth = 0;
    for (int i = 0; i < body.length(); ) {
      char c = body.charAt(i);
      int past = InitInputs.skipLexical(body, i);
      if (past != i) {
        if (depth > 0 || c != '"') {  // a top-level string stays: sensitive = "true" counts
          blank(b, i, past);
        }
        i = past;
        continue;
      }
      if (depth > 0) {
        blank(b, i, i + 1);
      }
      if (c == '{' || c == '[' || c == '(') {
        depth++;
      } else if ((c == '}' || c == ']' || c == ')') && depth > 0) {
        depth--;
      }
      i++;
    }
    return b.toString();
  }

  /** Blanks {@code b} from {@code from} to {@code to}, line ends kept (lines and offsets stay). */
  private static void blank(StringBuilder b, int from, int to) {
    for (int k = from; k < to; k++) {
      if (b.charAt(k) != '\n' && b.charAt(k) != '\r') {
        b.setCharAt(k, ' ');
      }
    }
  }

  /**
   * The root module's variables whose declared type is a list, map, set, object or tuple, or
   * {@code any}: {@code -var} takes their value as an HCL expression (every type but a primitive
   * one), any other variable's (a string, number or bool, or no type) as a string.
   */
  public static Set<String> complexTyped(SortedMap<String, String> files) {
    Set<String> complex = Set.of("list", "map", "set", "object", "tuple", "any");
    return rootVariables(files, body -> {
      Matcher t = TYPE.matcher(body);
      return t.find() && complex.contains(t.group(1));
    }, v -> {
      String type = v.path("type").asText("").replaceFirst("^\\$\\{", "");
      int paren = type.indexOf('(');
      return complex.contains(paren < 0 ? type.strip() : type.substring(0, paren).strip());
    });
  }

  /** Whether Terraform loads the root-module file {@code path} as variable values by itself. */
  public static boolean loadedByTerraform(String path) {
    return !path.contains("/") && (path.equals("terraform.tfvars") || path.equals("terraform.tfvars.json")
        || path.endsWith(".auto.tfvars") || path.endsWith(".auto.tfvars.json"));
  }

  /**
   * The string values {@code text} (a variable file, HCL or JSON by {@code name}) gives the
   * variables {@code names}: every string literal and heredoc of their assignments, every string
   * of their JSON values.
   */
  public static List<String> values(String name, String text, Set<String> names) {
    List<String> out = new ArrayList<>();
    if (name.endsWith(".json")) {
      try {
        // a value given twice: both are learned; behind a byte order mark too, which Terraform refuses quoting the line
        JsonNode root = HclJson.read(InitInputs.withoutByteOrderMark(text));
        // a root list of objects Terraform refuses ("A JSON object is required here"), but its error quotes the
        // file's line: the values in those objects are learned too
        for (JsonNode part : root.isArray() ? root : List.of(root)) {
          for (String n : names) {
            if (part.has(n)) {
              Set<String> strings = new TreeSet<>();
              Masks.strings(part.get(n), strings);
              out.addAll(strings);
            }
          }
        }
      } catch (IOException e) {
        // Terraform refuses the file itself, naming it.
      }
      return out;
    }
    text = InitInputs.withoutByteOrderMark(text);  // Terraform reads a first line behind one
    for (String n : names) {
      Matcher m = Pattern.compile("(?m)^\\s*" + Pattern.quote(n) + "\\s*=").matcher(text);
      while (m.find()) {
        String rest = assignment(text, m.end());
        Matcher h = HEREDOC.matcher(rest);
        if (h.find() && rest.substring(0, h.start()).isBlank()) {
          out.add(h.group(2));
          h.group(2).lines().map(String::strip).forEach(out::add);
          continue;
        }
        Matcher s = STRING.matcher(rest);
        while (s.find()) {
          out.add(unescape(s.group(1)));
        }
      }
    }
    return out;
  }

  /** The text of the block opened just before {@code from}, up to its closing brace (strings skipped). */
  private static String block(String text, int from) {
    return text.substring(from, ConfigDecoder.blockEnd(text, from));
  }

  /**
   * The value of an assignment starting at {@code from}: to the end of its line, or of the bracket
   * or heredoc it opens (strings, comments and heredocs read by {@link InitInputs#skipLexical}).
   */
  static String assignment(String text, int from) {
    int depth = 0;
    int i = from;
    while (i < text.length()) {
      char c = text.charAt(i);
      int past = InitInputs.skipLexical(text, i);
      if (past != i) {
        i = past;
        continue;
      }
      if (c == '[' || c == '{' || c == '(') {
        depth++;
      } else if (c == ']' || c == '}' || c == ')') {
        depth--;
      } else if (c == '\n' && depth <= 0) {
        break;
      }
      i++;
    }
    return text.substring(from, Math.min(i, text.length()));
  }

  /**
   * The value of an HCL string literal's text, in one pass as HCL reads it: backslash escapes
   * (a backslash before {@code n}, {@code t}, a quote, a backslash, {@code uNNNN}, ...), and a doubled
   * {@code $} or {@code %} before a brace for a literal one. An escape it does not know is kept as written.
   */
  static String unescape(String s) {
    StringBuilder out = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < s.length()) {
        char e = s.charAt(i + 1);
        int hex = e == 'u' ? 4 : e == 'U' ? 8 : 0;
        long point = hex > 0 && i + 2 + hex <= s.length() && s.substring(i + 2, i + 2 + hex).matches("[0-9A-Fa-f]+")
            ? Long.parseLong(s.substring(i + 2, i + 2 + hex), 16) : -1;
        if (point >= 0 && point <= Character.MAX_CODE_POINT) {
          out.appendCodePoint((int) point);
          i += 1 + hex;
          continue;
        }
        String plain = switch (e) {
          case 'n' -> "\n";
          case 'r' -> "\r";
          case 't' -> "\t";
          case '"' -> "\"";
          case '\\' -> "\\";
          default -> null;
        };
        if (plain != null) {
          out.append(plain);
          i++;
          continue;
        }
      } else if ((c == '$' || c == '%') && s.startsWith(c + "" + c + "{", i)) {
        out.append(c).append('{');
        i += 2;
        continue;
      }
      out.append(c);
    }
    return out.toString();
  }
}
