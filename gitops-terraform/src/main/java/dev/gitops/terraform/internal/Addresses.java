package dev.gitops.terraform.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.ResourceKey;

/**
 * Resource keys of Terraform objects. A resource instance is {@code <provider>:<type>:<module
 * path>:<name with index>}, where a data source's type is {@code data.<type>}, the module path is
 * "" in the root module, and a deposed object (left by an interrupted create-before-destroy) has
 * {@code " deposed=<id>"} after its name: {@code tf:aws_instance:module.net:web[0]}, {@code
 * tf:data.aws_ami::ubuntu}, {@code tf:null_resource::x["a"]}. A root output is {@code
 * <provider>:output::<name>}, a root input variable {@code <provider>:var::<name>}; a configuration file {@code <provider>:file:config:<path>}.
 */
public final class Addresses {

  /** The type of output keys. */
  public static final String OUTPUT = "output";
  /** The type of root variable keys: the value each input variable has in a plan. */
  public static final String VARIABLE = "var";
  /** The type of configuration file keys. */
  public static final String FILE = "file";
  /** The scope of configuration file keys (no module path looks like it). */
  public static final String CONFIG = "config";

  private static final String DEPOSED = " deposed=";

  private Addresses() {}

  /** The key of a resource instance; {@code index} is a JSON number or string, or null; {@code deposed} "" or an id. */
  public static ResourceKey resource(String provider, String mode, String type, String module, String name,
      JsonNode index, String deposed) {
    String t = "data".equals(mode) ? "data." + type : type;
    String n = name + index(index) + (deposed == null || deposed.isEmpty() ? "" : DEPOSED + deposed);
    return ResourceKey.of(provider, t, module == null ? "" : module, n);
  }

  /** The key of root output {@code name}. */
  public static ResourceKey output(String provider, String name) {
    return ResourceKey.of(provider, OUTPUT, "", name);
  }

  /** The key of root input variable {@code name}. */
  public static ResourceKey variable(String provider, String name) {
    return ResourceKey.of(provider, VARIABLE, "", name);
  }

  /** Whether {@code key} is a root input variable's. */
  public static boolean isVariable(ResourceKey key) {
    return key.type().equals(VARIABLE) && key.scope().isEmpty();
  }

  /** The key of the configuration file at {@code path} (relative to the configuration directory). */
  public static ResourceKey file(String provider, String path) {
    return ResourceKey.of(provider, FILE, CONFIG, path);
  }

  /** Whether {@code key} is a configuration file's. */
  public static boolean isFile(ResourceKey key) {
    return key.type().equals(FILE) && key.scope().equals(CONFIG);
  }

  /** Whether {@code key} is a root output's. */
  public static boolean isOutput(ResourceKey key) {
    return key.type().equals(OUTPUT) && key.scope().isEmpty();
  }

  /** Whether {@code key} is a data source's. */
  public static boolean isData(ResourceKey key) {
    return key.type().startsWith("data.");
  }

  /**
   * {@code [0]}, {@code ["a"]} or "" for no index.
   *
   * @throws dev.gitops.terraform.TerraformException for an index that is neither a number nor a
   *     string, which Terraform never writes: read as text, an object or a bool would be the key
   *     {@code ""} or {@code "true"}, another instance's
   */
  public static String index(JsonNode index) {
    if (index == null || index.isNull() || index.isMissingNode()) {
      return "";
    }
    if (index.isIntegralNumber()) {
      return "[" + index.asText() + "]";
    }
    if (!index.isTextual()) {
      throw new dev.gitops.terraform.TerraformException("an instance key that is neither a whole number nor a string: "
          + (index.isContainerNode() ? index.getNodeType().toString().toLowerCase(java.util.Locale.ROOT) : index)
          + " (Terraform writes count's numbers and for_each's strings)");
    }
    return "[" + quote(index.asText()) + "]";
  }

  /** The Terraform address of a resource instance key ({@code module.net.aws_instance.web[0]}), without deposed. */
  public static String address(ResourceKey key) {
    String name = key.name();
    int d = name.indexOf(DEPOSED);
    if (d >= 0) {
      name = name.substring(0, d);
    }
    if (isOutput(key)) {
      return "output." + name;
    }
    return (key.scope().isEmpty() ? "" : key.scope() + ".") + key.type() + "." + name;
  }

  /**
   * A string as Terraform quotes an instance key in an address (its {@code toHCLQuotedString}): a
   * quote, a backslash and line ends escaped, {@code $} or {@code %} doubled before a brace (HCL's
   * escape of a template sequence: {@code x["$${a}"]} is the key <code>${a}</code>), and a
   * character that does not print as <code>&#92;uNNNN</code> (or <code>&#92;UNNNNNNNN</code> past U+FFFF).
   */
  static String quote(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); ) {
      int c = s.codePointAt(i);
      i += Character.charCount(c);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        case '$', '%' -> {
          sb.append((char) c);
          if (i < s.length() && s.charAt(i) == '{') {
            sb.append((char) c);
          }
        }
        default -> {
          if (printable(c)) {
            sb.appendCodePoint(c);
          } else if (c < 0x10000) {
            sb.append(String.format("\\u%04x", c));
          } else {
            sb.append(String.format("\\U%08x", c));
          }
        }
      }
    }
    return sb.append('"').toString();
  }

  /**
   * Whether Go's {@code unicode.IsPrint} holds for {@code c}: a letter, mark, number, punctuation or
   * symbol, or the ASCII space; not a control, format, private-use or unassigned character, nor a
   * separator other than the space.
   */
  private static boolean printable(int c) {
    if (c == ' ') {
      return true;
    }
    return switch (Character.getType(c)) {
      case Character.CONTROL, Character.FORMAT, Character.PRIVATE_USE, Character.SURROGATE, Character.UNASSIGNED,
          Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> false;
      default -> true;
    };
  }
}
