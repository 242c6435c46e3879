package dev.gitops.terraform.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Documents;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What {@code terraform init} depends on, read from the configuration files ({@code *.tf}, {@code
 * *.tf.json} and OpenTofu's {@code *.tofu}, {@code *.tofu.json}: {@link #isHcl}, {@link #isJson}): the {@code terraform}
 * blocks (required providers, backend), the {@code module} blocks (sources and versions), the
 * {@code provider} blocks' names and the providers implied by resource and data types, plus the
 * dependency lock file. Its digest decides whether init must run again: a change anywhere else in
 * the configuration does not need it.
 *
 * <p>The HCL is not parsed; top-level blocks are found by a scanner that knows strings (with
 * template interpolations), comments and heredocs, which is all it takes to find where a block
 * starts and ends.
 */
public final class InitInputs {

  private InitInputs() {}

  /** The name of the dependency lock file. */
  public static final String LOCK_FILE = ".terraform.lock.hcl";

  /**
   * Whether {@code path} is a configuration file in HCL: Terraform's {@code *.tf}, or OpenTofu's
   * {@code *.tofu}, which OpenTofu reads wherever it reads {@code *.tf}.
   *
   * <pre>{@code
   * InitInputs.isHcl("modules/net/main.tofu");  // true
   * InitInputs.isHcl("prod.tfvars");            // false: variable values, not configuration
   * }</pre>
   */
  public static boolean isHcl(String path) {
    return path.endsWith(".tf") || path.endsWith(".tofu");
  }

  /** Whether {@code path} is a configuration file in JSON: {@code *.tf.json}, or OpenTofu's {@code *.tofu.json}. */
  public static boolean isJson(String path) {
    return path.endsWith(".tf.json") || path.endsWith(".tofu.json");
  }

  /** Whether {@code path} is a configuration file, in HCL or JSON ({@link #isHcl}, {@link #isJson}); not a variable file. */
  public static boolean isConfiguration(String path) {
    return isHcl(path) || isJson(path);
  }

  /**
   * Whether {@code files} (paths relative to the root module) hold a configuration file at the root
   * module itself, not only in a directory below it: without one, Terraform has no configuration to
   * plan ("No configuration files"), and what is left of it in Git (a module's files, variable
   * files, notes) means the root module is gone.
   */
  public static boolean hasRootConfiguration(java.util.Map<String, String> files) {
    for (String path : files.keySet()) {
      if (!path.contains("/") && isConfiguration(path)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The digest of what init depends on in {@code files} (path relative to the root module ->
   * content), plus {@code extra} (the binary and its version, the backend settings).
   */
  public static String digest(SortedMap<String, String> files, String extra) {
    List<String> parts = new ArrayList<>();
    parts.add("extra=" + extra);
    for (Map.Entry<String, String> f : files.entrySet()) {
      String path = f.getKey();
      if (path.endsWith(LOCK_FILE)) {
        parts.add("lock " + path + "=" + f.getValue());
      } else if (isHcl(path)) {
        parts.add("tf " + path + "=" + String.join("\u0001", relevantBlocks(f.getValue())));
      } else if (isJson(path)) {
        parts.add("json " + path + "=" + relevantJson(f.getValue()));
      }
    }
    MessageDigest md = Documents.sha256();
    for (String p : parts) {
      md.update(p.getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** The backend type the {@code terraform} blocks of {@code files} configure, or "" for the default (local). */
  public static String backend(SortedMap<String, String> files) {
    for (Map.Entry<String, String> f : files.entrySet()) {
      if (isHcl(f.getKey()) && !f.getKey().contains("/")) {
        for (Block b : blocks(f.getValue())) {
          if (b.type().equals("terraform")) {
            for (Block inner : blocks(b.body())) {
              if (inner.type().equals("backend") || inner.type().equals("cloud")) {
                return inner.type().equals("cloud") ? "cloud" : inner.labels().isEmpty() ? "?" : inner.labels().get(0);
              }
            }
          }
        }
      } else if (isJson(f.getKey()) && !f.getKey().contains("/")) {
        try {
          JsonNode tf = HclJson.body(f.getValue()).path("terraform");  // a root list of objects is one body
          for (JsonNode t : tf.isArray() ? tf : List.of(tf)) {
            if (t.has("backend")) {
              Iterator<String> names = t.get("backend").fieldNames();
              return names.hasNext() ? names.next() : "?";
            }
            if (t.has("cloud")) {
              return "cloud";
            }
          }
        } catch (java.io.IOException e) {
          // Not JSON: terraform itself reports that when it plans; the backend stays unknown here.
          return "?";
        }
      }
    }
    return "";
  }

  /** The texts that matter to init of one .tf (or .tofu) file: whole terraform and module blocks, provider and resource types. */
  static List<String> relevantBlocks(String text) {
    List<String> out = new ArrayList<>();
    TreeSet<String> implied = new TreeSet<>();
    for (Block b : blocks(text)) {
      switch (b.type()) {
        case "terraform", "module" -> out.add(b.type() + " " + b.labels() + " {" + b.body() + "}");
        case "provider" -> implied.add("provider " + b.labels());
        case "resource", "data", "ephemeral" -> {
          if (!b.labels().isEmpty()) {
            implied.add("uses " + impliedProvider(b.labels().get(0)));
          }
        }
        default -> { }
      }
    }
    out.addAll(implied);
    return out;
  }

  /** The provider a resource type implies: the part before its first underscore ({@code aws_instance} -> aws). */
  private static String impliedProvider(String type) {
    return type.contains("_") ? type.substring(0, type.indexOf('_')) : type;
  }

  private static String relevantJson(String text) {
    try {
      JsonNode root = HclJson.body(text);  // a block type given twice, or in two objects of a root list: both blocks
      SortedMap<String, String> m = new TreeMap<>();
      for (String k : List.of("terraform", "module")) {
        if (root.has(k)) {
          m.put(k, Documents.canonicalJson(root.get(k)));
        }
      }
      TreeSet<String> implied = new TreeSet<>();
      // a block type's value is an object of labels or a list of such objects
      for (String k : List.of("provider", "resource", "data", "ephemeral")) {
        JsonNode blocks = root.path(k);
        for (JsonNode byLabel : blocks.isArray() ? blocks : List.of(blocks)) {
          byLabel.fieldNames().forEachRemaining(t -> implied.add(k.equals("provider") ? "provider " + t
              : "uses " + impliedProvider(t)));
        }
      }
      m.put("implied", implied.toString());
      return m.toString();
    } catch (java.io.IOException e) {
      // Not JSON: init would fail on it too; its text decides, so any edit re-runs init.
      return "unparsed:" + text;
    }
  }

  /**
   * HCL {@code text} (a {@code .tf}, {@code .tofu} or {@code .tfvars} file) with a leading byte
   * order mark, which Terraform skips, read as a space: a scan then finds the block or argument on
   * the file's first line (a {@code ^\s*} does not match U+FEFF), at the same offsets and lines.
   */
  static String withoutByteOrderMark(String text) {
    return text.startsWith("\uFEFF") ? " " + text.substring(1) : text;
  }

  /**
   * {@code text} with the characters of every comment ({@code #}, {@code //}, a block comment)
   * but its line breaks replaced by spaces, strings and heredocs left as they are, and a leading
   * byte order mark read as a space ({@link #withoutByteOrderMark}): a scan of it sees only what
   * Terraform reads, at the same offsets and lines.
   */
  static String blankComments(String text) {
    text = withoutByteOrderMark(text);
    StringBuilder out = new StringBuilder(text);
    int n = text.length();
    int i = 0;
    while (i < n) {
      char c = text.charAt(i);
      char next = i + 1 < n ? text.charAt(i + 1) : '\0';
      int past = skipLexical(text, i);
      if (past == i) {
        i++;
        continue;
      }
      if (c == '#' || c == '/' && (next == '/' || next == '*')) {
        for (int k = i; k < past; k++) {
          if (text.charAt(k) != '\n' && text.charAt(k) != '\r') {
            out.setCharAt(k, ' ');
          }
        }
      }
      i = past;
    }
    return out.toString();
  }

  /** One top-level block: its type, labels and body text (between the braces). */
  record Block(String type, List<String> labels, String body) {}

  /** The top-level blocks of HCL {@code text}. */
  static List<Block> blocks(String text) {
    text = withoutByteOrderMark(text);
    List<Block> out = new ArrayList<>();
    int n = text.length();
    int i = 0;
    int headerStart = 0;
    while (i < n) {
      char c = text.charAt(i);
      int past = skipLexical(text, i);
      if (past != i) {
        i = past;
      } else if (c == '{') {
        int end = skipBraces(text, i);
        String header = text.substring(headerStart, i);
        Block b = header(header, text.substring(i + 1, Math.max(i + 1, end - 1)));
        if (b != null) {
          out.add(b);
        }
        i = end;
        headerStart = i;
      } else if (c == '\n' || c == '=') {
        // An attribute (not a block) or a line break: the next header starts after it.
        if (c == '=') {
          i = endOfValue(text, i + 1);
        } else {
          i++;
        }
        headerStart = i;
      } else {
        i++;
      }
    }
    return out;
  }

  private static Block header(String header, String body) {
    List<String> words = new ArrayList<>();
    int i = 0;
    while (i < header.length()) {
      char c = header.charAt(i);
      if (Character.isWhitespace(c)) {
        i++;
      } else if (c == '"') {
        int end = skipString(header, i);
        words.add(header.substring(i + 1, Math.max(i + 1, end - 1)));
        i = end;
      } else if (c == '#' || c == '/') {
        i = endOfLine(header, i);
      } else {
        int start = i;
        while (i < header.length() && !Character.isWhitespace(header.charAt(i)) && header.charAt(i) != '"') {
          i++;
        }
        words.add(header.substring(start, i));
      }
    }
    if (words.isEmpty()) {
      return null;
    }
    return new Block(words.get(0), List.copyOf(words.subList(1, words.size())), body);
  }

  private static int endOfLine(String text, int i) {
    int end = text.indexOf('\n', i);
    return end < 0 ? text.length() : end;
  }

  /** Skips an attribute's value: to the end of its line, past any bracketed, braced or quoted part. */
  private static int endOfValue(String text, int i) {
    int n = text.length();
    int depth = 0;
    while (i < n) {
      char c = text.charAt(i);
      int past = skipLexical(text, i);
      if (past != i) {
        i = past;
        continue;
      }
      if (c == '{' || c == '[' || c == '(') {
        depth++;
      } else if (c == '}' || c == ']' || c == ')') {
        depth--;
      } else if (c == '\n' && depth <= 0) {
        return i;
      }
      i++;
    }
    return n;
  }

  /**
   * Past the string, comment or heredoc starting at {@code i}, or {@code i} itself when none
   * starts there: what may hold braces that are not the structure's.
   */
  static int skipLexical(String text, int i) {
    int n = text.length();
    char c = text.charAt(i);
    char next = i + 1 < n ? text.charAt(i + 1) : '\0';
    if (c == '"') {
      return skipString(text, i);
    }
    if (c == '#' || (c == '/' && next == '/')) {
      return Math.max(endOfLine(text, i), i + 1);
    }
    if (c == '/' && next == '*') {
      int end = text.indexOf("*/", i + 2);
      return end < 0 ? n : end + 2;
    }
    if (c == '<' && next == '<') {
      return skipHeredoc(text, i);
    }
    return i;
  }

  /** From an opening quote to just after the closing one; template interpolations may nest strings. */
  static int skipString(String text, int i) {
    int n = text.length();
    i++;
    while (i < n) {
      char c = text.charAt(i);
      if (c == '\\') {
        i += 2;
      } else if (c == '"') {
        return i + 1;
      } else if ((c == '$' || c == '%') && i + 1 < n && text.charAt(i + 1) == '{') {
        if (text.charAt(i - 1) == c) {
          i += 2;  // $${ and %%{ are escapes
        } else {
          i = skipBraces(text, i + 1);
        }
      } else if (c == '\n') {
        return i;  // unterminated: stop at the line end rather than swallow the file
      } else {
        i++;
      }
    }
    return n;
  }

  /** From an opening brace to just after its matching closing brace (the text's end when it has none). */
  static int skipBraces(String text, int i) {
    int close = closingBrace(text, i);
    return close < 0 ? text.length() : close + 1;
  }

  /**
   * The offset of the brace closing the one at {@code open} (strings, comments and heredocs
   * skipped), or -1 when it is not closed.
   */
  static int closingBrace(String text, int open) {
    int n = text.length();
    int depth = 0;
    int i = open;
    while (i < n) {
      char c = text.charAt(i);
      int past = skipLexical(text, i);
      if (past != i) {
        i = past;
        continue;
      }
      if (c == '{') {
        depth++;
      } else if (c == '}') {
        depth--;
        if (depth == 0) {
          return i;
        }
      }
      i++;
    }
    return -1;
  }

  /** A heredoc {@code <<EOT} / {@code <<-EOT}: to the end of its closing line. Not a heredoc: past the two chars. */
  static int skipHeredoc(String text, int i) {
    int j = i + 2;
    if (j < text.length() && text.charAt(j) == '-') {
      j++;
    }
    int start = j;
    while (j < text.length() && (Character.isLetterOrDigit(text.charAt(j)) || text.charAt(j) == '_')) {
      j++;
    }
    if (j == start) {
      return i + 2;
    }
    String marker = text.substring(start, j);
    int line = text.indexOf('\n', j);
    while (line >= 0) {
      int next = text.indexOf('\n', line + 1);
      String l = text.substring(line + 1, next < 0 ? text.length() : next);
      if (l.strip().equals(marker)) {
        return next < 0 ? text.length() : next;
      }
      line = next;
    }
    return text.length();
  }
}
