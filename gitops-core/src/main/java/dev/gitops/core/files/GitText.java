package dev.gitops.core.files;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Documents;
import dev.gitops.core.files.FileFormats.Format;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A structured file as Git holds it: its bytes, the data they parse to, and the source text of
 * every scalar whose meaning depends on how it is spelled (YAML plain scalars such as {@code
 * 0755}, {@code NO}, {@code 1.10}, {@code 0x1F}, {@code ~}, {@code on}, JSON numbers such as
 * {@code 1.0} or {@code 3.14159265358979323846}).
 *
 * <p>The provider compares files structurally, but writes Git's bytes whenever the target's data
 * equals Git's, and otherwise (fields kept from the live file) renders the target spelling every
 * value that Git also holds exactly as Git spells it. So a sync never changes a value's text.
 */
final class GitText {

  /** Words YAML 1.1 or 1.2 read as something other than a string, when unquoted. */
  private static final Set<String> YAML_WORDS = Set.of("y", "n", "yes", "no", "on", "off", "true", "false", "null", "~");
  /** Strings a YAML reader reads back as the same string without quotes (checked against {@link #YAML_WORDS} too). */
  private static final Pattern YAML_PLAIN = Pattern.compile("[A-Za-z_/][A-Za-z0-9_./@+-]*( [A-Za-z0-9_./@+-]+)*");

  private final Format format;
  private final byte[] bytes;
  private final JsonNode data;
  private volatile Map<String, String> values;
  private volatile Map<String, String> keys;

  GitText(Format format, byte[] bytes, JsonNode data) {
    this.format = format;
    this.bytes = bytes;
    this.data = data;
  }

  /** Git's bytes. */
  byte[] bytes() {
    return bytes;
  }

  /** What Git's bytes parse to (frozen). */
  JsonNode data() {
    return data;
  }

  /**
   * The bytes to write for {@code target}: Git's own when the data are equal, else {@code
   * target} rendered with every scalar Git also holds spelled as in Git.
   */
  byte[] render(JsonNode target) throws IOException {
    if (target.equals(data)) {
      return bytes.clone();
    }
    index();
    if (format == Format.JSON) {
      StringWriter w = new StringWriter();
      try (JsonGenerator g = FileFormats.prettyJson(w)) {
        writeJson(g, target, JsonPointer.empty());
      }
      return (w + "\n").getBytes(StandardCharsets.UTF_8);
    }
    StringBuilder sb = new StringBuilder();
    writeYaml(sb, target, JsonPointer.empty(), 0, false);
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  // ---------------------------------------------------------------- source texts

  /** Records the source spelling of Git's scalars (and YAML keys) by JSON pointer, once. */
  private void index() throws IOException {
    if (values != null) {
      return;
    }
    Map<String, String> v = new HashMap<>();
    Map<String, String> k = new HashMap<>();
    String source = new String(bytes, StandardCharsets.UTF_8);
    try (JsonParser p = FileFormats.parser(format, bytes)) {
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        if (t == JsonToken.FIELD_NAME && format == Format.YAML) {
          String raw = verbatim(p, source);
          if (raw != null) {
            k.put(p.getParsingContext().pathAsPointer().toString(), raw);
          }
        } else if (t.isNumeric() || (format == Format.YAML && t.isScalarValue())) {
          String raw = format == Format.JSON ? p.getText() : verbatim(p, source);
          if (raw != null) {
            v.put(p.getParsingContext().pathAsPointer().toString(), raw);
          }
        }
      }
    }
    keys = k;
    values = v;
  }

  /** The token's text when it stands in the source exactly so (a single-line plain scalar), else null. */
  private static String verbatim(JsonParser p, String source) throws IOException {
    String text = p.getText();
    long offset = p.currentTokenLocation().getCharOffset();
    if (text == null || text.isEmpty() || offset < 0 || offset > source.length()) {
      return null;
    }
    int at = (int) offset;
    return source.startsWith(text, at) && text.indexOf('\n') < 0 ? text : null;
  }

  /** Git's spelling of the scalar at {@code ptr} when {@code node} is the value Git has there. */
  private String rawValue(JsonPointer ptr, JsonNode node) {
    String raw = values.get(ptr.toString());
    return raw != null && node.equals(data.at(ptr)) ? raw : null;
  }

  // ---------------------------------------------------------------- JSON

  private void writeJson(JsonGenerator g, JsonNode node, JsonPointer ptr) throws IOException {
    if (node.isObject()) {
      g.writeStartObject();
      for (Map.Entry<String, JsonNode> e : node.properties()) {
        g.writeFieldName(e.getKey());
        writeJson(g, e.getValue(), ptr.appendProperty(e.getKey()));
      }
      g.writeEndObject();
    } else if (node.isArray()) {
      g.writeStartArray();
      for (int i = 0; i < node.size(); i++) {
        writeJson(g, node.get(i), ptr.appendIndex(i));
      }
      g.writeEndArray();
    } else {
      String raw = node.isNumber() ? rawValue(ptr, node) : null;
      if (raw != null) {
        g.writeNumber(raw);
      } else {
        g.writeTree(node);
      }
    }
  }

  // ---------------------------------------------------------------- YAML

  /**
   * Block YAML, two spaces per level, sequences indented under their key (as {@link
   * FileFormats#render} writes them). {@code inline} means the caller already wrote {@code "- "}
   * or {@code "key: "} on this line.
   */
  private void writeYaml(StringBuilder sb, JsonNode node, JsonPointer ptr, int indent, boolean inline) {
    if (node.isObject() && !node.isEmpty()) {
      boolean first = true;
      for (Map.Entry<String, JsonNode> e : node.properties()) {
        if (!(first && inline)) {
          sb.append(" ".repeat(indent));
        }
        first = false;
        JsonPointer child = ptr.appendProperty(e.getKey());
        String key = keys.get(child.toString());
        sb.append(key != null ? key : yamlString(e.getKey())).append(':');
        writeYamlChild(sb, e.getValue(), child, indent);
      }
    } else if (node.isArray() && !node.isEmpty()) {
      for (int i = 0; i < node.size(); i++) {
        if (!(i == 0 && inline)) {
          sb.append(" ".repeat(indent));
        }
        sb.append("- ");
        JsonNode item = node.get(i);
        JsonPointer child = ptr.appendIndex(i);
        if ((item.isObject() || item.isArray()) && !item.isEmpty()) {
          writeYaml(sb, item, child, indent + 2, true);
        } else {
          sb.append(yamlScalar(item, child)).append('\n');
        }
      }
    } else {
      sb.append(yamlScalar(node, ptr)).append('\n');
    }
  }

  private void writeYamlChild(StringBuilder sb, JsonNode value, JsonPointer ptr, int indent) {
    if ((value.isObject() || value.isArray()) && !value.isEmpty()) {
      sb.append('\n');
      writeYaml(sb, value, ptr, indent + 2, false);
    } else {
      sb.append(' ').append(yamlScalar(value, ptr)).append('\n');
    }
  }

  private String yamlScalar(JsonNode node, JsonPointer ptr) {
    String raw = rawValue(ptr, node);
    if (raw != null) {
      return raw;
    }
    if (node.isObject()) {
      return "{}";
    }
    if (node.isArray()) {
      return "[]";
    }
    if (node.isNull()) {
      return "null";
    }
    if (node.isBoolean()) {
      return node.booleanValue() ? "true" : "false";
    }
    if (node.isNumber()) {
      if (node.isDouble() || node.isFloat()) {
        double d = node.doubleValue();
        if (Double.isNaN(d)) {
          return ".nan";
        }
        if (Double.isInfinite(d)) {
          return d > 0 ? ".inf" : "-.inf";
        }
        // not asText(): Double.toString's text differs between JDKs for some doubles
        return Documents.doubleText(d);
      }
      return node.isBigDecimal() ? node.decimalValue().toString() : node.asText();
    }
    return yamlString(node.asText());
  }

  /** A string plain when YAML reads it back as the same string, else double-quoted (JSON escapes are YAML's). */
  static String yamlString(String s) {
    if (YAML_PLAIN.matcher(s).matches() && !YAML_WORDS.contains(s.toLowerCase(Locale.ROOT))) {
      return s;
    }
    return FileFormats.jsonString(s);
  }
}
