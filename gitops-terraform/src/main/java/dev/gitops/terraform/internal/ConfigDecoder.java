package dev.gitops.terraform.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.DecodeException;
import dev.gitops.api.Documents;
import dev.gitops.api.Origin;
import dev.gitops.api.Resource;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.SourceFile;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Claims the Terraform configuration under one directory of the source: every file at any depth
 * ({@code *.tf}, {@code *.tf.json}, OpenTofu's {@code *.tofu} and {@code *.tofu.json}, {@code
 * *.tfvars(.json)}, local modules, the dependency lock file, and the files {@code file()} and
 * {@code templatefile()} read), but Terraform's own (a
 * state file, {@code .terraform/}). Each UTF-8 file becomes one resource, {@code
 * <provider>:file:config:<path relative to the directory>} with the document {@code {"content":
 * "<text>"}}, which the provider writes into its working directory before it plans; a file that
 * is not UTF-8 text is not copied (a configuration file that is not is refused, naming the line
 * and byte offset of its first bad byte). A local module whose source leaves the directory, or
 * names a host path, is refused naming the file, line and module: Terraform would read it from the
 * host, not from the revision; so is one whose source is not a literal string, which Terraform
 * evaluates.
 */
public final class ConfigDecoder implements Decoder {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ConfigDecoder.class);

  private final String provider;
  private final String prefix;

  /** Claims files under {@code directory} ("" for the source root) for {@code provider}. */
  public ConfigDecoder(String provider, String directory) {
    this.provider = provider;
    String d = directory.replace('\\', '/');
    while (d.startsWith("./")) {
      d = d.substring(2);
    }
    d = d.replaceAll("/+$", "");
    this.prefix = d.isEmpty() || d.equals(".") ? "" : d + "/";
  }

  /** Whether {@code path} is a configuration file of the directory. */
  @Override
  public boolean claims(String path) {
    if (!path.startsWith(prefix)) {
      return false;
    }
    String rel = path.substring(prefix.length());
    String name = rel.substring(rel.lastIndexOf('/') + 1);
    if (rel.isEmpty() || name.equals("terraform.tfstate") || name.equals("terraform.tfstate.backup")
        || name.equals(".terraform.tfstate.lock.info")) {
      return false;  // Terraform's own files: a copy would overwrite the working directory's state
    }
    for (String segment : rel.split("/")) {
      if (segment.equals(".terraform") || segment.equals("terraform.tfstate.d") || segment.equals(".git")) {
        return false;
      }
    }
    return true;
  }

  /** Whether Terraform reads {@code name} as configuration (the rest is data for {@code file()} and the like). */
  static boolean isConfiguration(String name) {
    return WorkingDirectory.isConfigurationName(name) || name.equals(InitInputs.LOCK_FILE);
  }

  /** One resource holding the file's text. */
  @Override
  public List<Resource> decode(SourceFile file) {
    String text;
    ByteBuffer in = ByteBuffer.wrap(file.content());
    try {
      text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(in).toString();
    } catch (CharacterCodingException e) {
      String name = file.path().substring(file.path().lastIndexOf('/') + 1);
      if (!isConfiguration(name)) {
        LOG.info("{} at {} is not UTF-8 text: not copied into the Terraform working directory", file.path(),
            file.revision());
        return List.of();
      }
      // the decoder stops at the first byte it cannot read: its line and offset are where to look
      int at = in.position();
      throw new DecodeException(Origin.of(file.path(), lineOfByte(file.content(), at), file.revision()),
          "Terraform configuration files are UTF-8 text; this one is not: the byte at offset " + at
          + String.format(" (0x%02x)", file.content()[Math.min(at, file.content().length - 1)] & 0xff)
          + " is not valid UTF-8; save the file as UTF-8", e);
    }
    String rel = file.path().substring(prefix.length());
    String name = rel.substring(rel.lastIndexOf('/') + 1);
    if (InitInputs.isConfiguration(name)) {
      checkModuleSources(file, rel, text, InitInputs.isJson(name));
    }
    JsonNode doc = Documents.object(Map.of("content", Documents.nodes().textNode(text)));
    return List.of(Resource.builder(Addresses.file(provider, rel)).document(doc)
        .origin(Origin.of(file.path(), 1, file.revision())).build());
  }

  /** A {@code module} block's head: HCL takes its label quoted or as a bare identifier ({@code module net}). */
  private static final Pattern MODULE = Pattern.compile(
      "(?m)^\\s*module\\s+(?:\"([^\"]+)\"|([A-Za-z_][A-Za-z0-9_-]*))\\s*\\{");

  /**
   * Refuses a module block whose source is a local path leaving the configuration directory, or a
   * host path: Terraform would read it from the host, never from the revision. A source is read as
   * Terraform reads it: an HCL string literal with its escapes decoded (<code>"&#92;u002e./x"</code> is
   * {@code ../x}); one written as an expression ({@code ("../x")}, {@code "..${"/x"}"}), which
   * Terraform evaluates, is refused, since where it leads is only known once evaluated. In JSON the
   * source is the string's value (Terraform does not evaluate it there); another value is refused.
   */
  private void checkModuleSources(SourceFile file, String rel, String text, boolean json) {
    if (json) {
      try {
        // JSON writes blocks as objects or as lists of them, at the block type and under each label (and a
        // property given twice is both, and a root list of objects is one body: HclJson)
        HclJson.Lines lines = new HclJson.Lines();
        JsonNode modules = HclJson.body(text, lines).path("module");
        for (JsonNode byName : modules.isArray() ? modules : List.of(modules)) {
          for (java.util.Iterator<Map.Entry<String, JsonNode>> it = byName.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            for (JsonNode block : e.getValue().isArray() ? e.getValue() : List.of(e.getValue())) {
              JsonNode source = block.path("source");
              int line = lines.of(block, "source");
              if (source.isMissingNode()) {
                continue;  // Terraform refuses a module without a source itself
              }
              if (!source.isTextual()) {
                // Terraform refuses it too ("Unsuitable value type"); given twice, it is both ("Duplicate argument")
                throw notAString(file, e.getKey(), line, source.isArray() ? "a list (or given twice)"
                    : source.isObject() ? "an object" : "not a string (" + source + ")",
                    "in JSON a module's source is a string");
              }
              checkSource(file, rel, e.getKey(), source.asText(), line);
            }
          }
        }
      } catch (HclJson.NotABody e) {
        // Terraform refuses it too ("Incorrect JSON value type"); refused here, it names the element at fault
        throw new DecodeException(Origin.of(file.path(), e.line(), file.revision()), "this JSON configuration file is"
            + " not a body Terraform reads: " + e.getMessage());
      } catch (java.io.IOException e) {
        // Not JSON: Terraform refuses the file itself, naming it.
      }
      return;
    }
    // a commented-out source is not the one Terraform reads: the scan sees no comment (offsets and lines kept)
    String code = InitInputs.blankComments(text);
    Matcher m = MODULE.matcher(code);
    while (m.find()) {
      String module = m.group(1) != null ? m.group(1) : m.group(2);
      int end = blockEnd(code, m.end());
      String body = code.substring(m.end(), end);
      for (int at : attributeValues(body, "source")) {
        String value = VariableFiles.assignment(body, at);
        int lead = at + (value.length() - value.stripLeading().length());
        int line = lineOf(code, m.end() + lead);
        String literal = literalText(value.strip());
        if (literal == null) {
          String shown = value.strip();
          throw notAString(file, module, line, "not a literal string (" + (shown.length() > 80
              ? shown.substring(0, 80) + "..." : shown) + ")", "Terraform evaluates a source written as an"
              + " expression, and where it leads is known only then");
        }
        checkSource(file, rel, module, VariableFiles.unescape(literal), line);
      }
    }
  }

  private DecodeException notAString(SourceFile file, String module, int line, String what, String why) {
    return new DecodeException(Origin.of(file.path(), line, file.revision()), "module \"" + module + "\" has a"
        + " source that is " + what + ": gitops checks where a module comes from before init runs, which it can do"
        + " only for a quoted string without ${...} or %{...} (" + why + "); write the source as a plain string,"
        + " such as \"./modules/x\" or a registry or Git address");
  }

  /**
   * The offsets in the block body {@code body} just past the {@code =} of each attribute {@code
   * name} of the body itself (not of an object or block nested in it); strings and heredocs
   * skipped, comments already blanked.
   */
  static List<Integer> attributeValues(String body, String name) {
    List<Integer> out = new java.util.ArrayList<>();
    int depth = 0;
    boolean lineStart = true;
    int i = 0;
    while (i < body.length()) {
      char c = body.charAt(i);
      int past = InitInputs.skipLexical(body, i);
      if (past != i) {
        i = past;
        lineStart = false;
        continue;
      }
      if (c == '\n') {
        lineStart = true;
      } else if (!Character.isWhitespace(c)) {
        if (c == '{' || c == '[' || c == '(') {
          depth++;
        } else if (c == '}' || c == ']' || c == ')') {
          depth--;
        } else if (lineStart && depth == 0 && body.startsWith(name, i)) {
          int j = i + name.length();
          if (j == body.length() || !(Character.isLetterOrDigit(body.charAt(j)) || body.charAt(j) == '_'
              || body.charAt(j) == '-')) {
            while (j < body.length() && (body.charAt(j) == ' ' || body.charAt(j) == '\t')) {
              j++;
            }
            if (j < body.length() && body.charAt(j) == '=' && (j + 1 == body.length() || body.charAt(j + 1) != '=')) {
              out.add(j + 1);
            }
          }
        }
        lineStart = false;
      }
      i++;
    }
    return out;
  }

  /**
   * The text between the quotes of {@code value} when it is one quoted HCL string without an
   * interpolation or directive (<code>$${</code> and <code>%%{</code> are their escapes, left for {@link
   * VariableFiles#unescape}), or null when it is anything else: an expression, a template, a
   * heredoc, a string followed by more.
   */
  static String literalText(String value) {
    if (value.length() < 2 || value.charAt(0) != '"') {
      return null;
    }
    for (int i = 1; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '\\') {
        i++;  // an escape: the next character is its own
      } else if (c == '\n') {
        return null;
      } else if ((c == '$' || c == '%') && i + 1 < value.length()) {
        char next = value.charAt(i + 1);
        if (next == c && i + 2 < value.length() && value.charAt(i + 2) == '{') {
          i += 2;  // $${ or %%{, read left to right as HCL reads it
        } else if (next == '{') {
          return null;
        }
      } else if (c == '"') {
        return i == value.length() - 1 ? value.substring(1, i) : null;
      }
    }
    return null;
  }

  private void checkSource(SourceFile file, String rel, String module, String written, int line) {
    // Terraform takes a backslash in a local source for a slash, on every platform (..\\x is ../x)
    String source = written.replace('\\', '/');
    boolean local = source.startsWith("./") || source.startsWith("../") || source.equals(".") || source.equals("..");
    boolean host = hostSource(source);
    String why = null;
    if (host) {
      why = "is a path on the host";
    } else if (local) {
      int slash = rel.lastIndexOf('/');
      java.nio.file.Path resolved = java.nio.file.Path.of(slash < 0 ? "." : rel.substring(0, slash))
          .resolve(source).normalize();
      if (resolved.startsWith("..")) {
        why = "leaves the configuration directory" + (prefix.isEmpty() ? "" : " " + prefix.replaceAll("/$", ""));
      }
    }
    if (why != null) {
      throw new DecodeException(Origin.of(file.path(), line, file.revision()), "module \"" + module
          + "\" has source \"" + written + "\", which " + why + ": Terraform would read it from this host, not from"
          + " the revision. Put the module under the configuration directory (or make it a registry or Git"
          + " source), or make the configuration directory the repository directory that holds both");
    }
  }

  /**
   * Whether a module {@code source} names a path of this host that Terraform's installer reads or
   * copies: an absolute or home path, a {@code file:} URL ({@code file:///srv/m}), or, behind a
   * forced getter ({@code file::}, {@code git::file:///srv/repo}, {@code git::../repo}), any path.
   * A local module ({@code ./x}, {@code ../x}) is not: where it leads is checked apart.
   */
  static boolean hostSource(String source) {
    String rest = source.replaceFirst("^[A-Za-z0-9+.-]+::", "");
    boolean forced = rest.length() != source.length();
    return rest.startsWith("/") || rest.startsWith("~") || rest.regionMatches(true, 0, "file:", 0, 5)
        || rest.matches("^[A-Za-z]:[\\\\/].*") || forced && (rest.startsWith(".") || source.startsWith("file::"));
  }

  /** The 1-based line of the byte at {@code offset} of UTF-8 {@code bytes}, lines ending at LF as Terraform counts them. */
  private static int lineOfByte(byte[] bytes, int offset) {
    int line = 1;
    for (int i = 0; i < offset && i < bytes.length; i++) {
      if (bytes[i] == '\n') {
        line++;
      }
    }
    return line;
  }

  private static int lineOf(String text, int offset) {
    int line = 1;
    for (int i = 0; i < offset && i < text.length(); i++) {
      if (text.charAt(i) == '\n') {
        line++;
      }
    }
    return line;
  }

  /**
   * The offset of the brace closing the block opened just before {@code from} (strings, comments
   * and heredocs skipped, {@link InitInputs#closingBrace}), or the text's length when it is not closed.
   */
  static int blockEnd(String text, int from) {
    int close = InitInputs.closingBrace(text, from - 1);
    return close < 0 ? text.length() : close;
  }

  @Override
  public String fingerprint() {
    return getClass().getName() + "|5|" + provider + "|" + prefix;  // 5: a source that is no literal string refused
  }
}
