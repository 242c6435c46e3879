package dev.gitops.terraform.internal;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Documents;
import java.io.IOException;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Reads a file of Terraform's JSON syntax ({@code *.tf.json}, {@code *.tofu.json}, {@code
 * *.tfvars.json}) as HCL reads it where plain JSON readers differ: a property given twice in one
 * object is both, not the last. HCL takes {@code {"variable": {"a": {}}, "variable": {"b": {}}}}
 * as two {@code variable} blocks (and a label given twice as two blocks of it), so such a property
 * is read as the list of its values, the form HCL gives the same meaning ({@code "variable": [{"a":
 * {}}, {"b": {}}]}); a list among them is spliced in. An argument given twice is an error to
 * Terraform, which names the file itself; reading it as a list only learns both values.
 *
 * <p>A configuration file's root may also be a list of objects ({@code [{"variable": {...}},
 * {"module": {...}}]}), each a part of the same body: {@link #body} reads it as one object whose
 * properties given in more than one element are read as a property given twice.
 */
public final class HclJson {

  private HclJson() {}

  /**
   * The JSON {@code text} with every property given twice in an object read as the list of its
   * values; a missing node when {@code text} holds no value.
   *
   * @throws IOException when it is not JSON (or nested deeper than the parser allows)
   */
  public static JsonNode read(String text) throws IOException {
    try (JsonParser p = PlanReader.JSON.getFactory().createParser(text)) {
      JsonToken first = p.nextToken();
      return first == null ? MissingNode.getInstance() : value(p, first, null);
    }
  }

  /**
   * The body of a configuration file ({@code *.tf.json}, {@code *.tofu.json}) as Terraform reads
   * it, whether its root is an object or a list of objects: the properties of a list's objects are
   * one object's, a property given in more than one of them read as a property given twice ({@link
   * #read}); an empty object when {@code text} holds no value (Terraform refuses that file itself).
   *
   * @throws NotABody when the root is neither an object nor a list of objects, naming the element
   *     of the list that is not an object (Terraform refuses such a file too: "Incorrect JSON value
   *     type")
   * @throws IOException when it is not JSON
   */
  public static ObjectNode body(String text) throws IOException {
    return body(text, null);
  }

  /**
   * The body of a configuration file as {@link #body(String)} reads it, noting in {@code lines} the
   * line where the value of each property of each object starts, so that a message can name it.
   *
   * <pre>{@code
   * HclJson.Lines lines = new HclJson.Lines();
   * ObjectNode body = HclJson.body("{\n  \"module\": {\"m\": {\"source\": \"./m\"}}\n}", lines);
   * lines.of(body.path("module").path("m"), "source");  // 2
   * }</pre>
   *
   * @param lines where the lines are noted, or null
   * @throws NotABody as {@link #body(String)}
   * @throws IOException when it is not JSON
   */
  public static ObjectNode body(String text, Lines lines) throws IOException {
    try (JsonParser p = PlanReader.JSON.getFactory().createParser(text)) {
      JsonToken first = p.nextToken();
      if (first == null) {
        return Documents.nodes().objectNode();
      }
      if (first == JsonToken.START_OBJECT) {
        return (ObjectNode) value(p, first, lines);
      }
      if (first != JsonToken.START_ARRAY) {
        throw new NotABody(p.currentLocation().getLineNr(), "the root value is " + what(first)
            + ", not an object or a list of objects");
      }
      ObjectNode body = Documents.nodes().objectNode();
      int index = 0;
      for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken(), index++) {
        if (t != JsonToken.START_OBJECT) {
          throw new NotABody(p.currentLocation().getLineNr(), "element [" + index + "] of the root list is "
              + what(t) + ", not an object (a file whose root is a list holds only objects, each part of its body)");
        }
        ObjectNode part = (ObjectNode) value(p, t, lines);
        part.fields().forEachRemaining(e -> put(body, e.getKey(), e.getValue()));
        if (lines != null) {
          lines.of.computeIfAbsent(body, o -> new java.util.HashMap<>()).putAll(lines.of.getOrDefault(part, Map.of()));
        }
      }
      return body;
    }
  }

  private static String what(JsonToken t) {
    return switch (t) {
      case START_ARRAY -> "a list";
      case VALUE_STRING -> "a string";
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
      case VALUE_TRUE, VALUE_FALSE -> "a bool";
      case VALUE_NULL -> "null";
      default -> t.asString() == null ? t.name() : t.asString();
    };
  }

  /**
   * A configuration file whose root is neither an object nor a list of objects: Terraform refuses
   * it. The message names the element of the list that is not an object ({@code element [1]}).
   */
  public static final class NotABody extends IOException {
    private static final long serialVersionUID = 1L;

    /** The line (from 1) where the value that is not an object starts. */
    private final int line;

    NotABody(int line, String message) {
      super(message);
      this.line = line;
    }

    /**
     * The line where that value starts.
     *
     * @return the line, from 1
     */
    public int line() {
      return line;
    }
  }

  /**
   * Where the values of the properties of the objects {@link #body(String, Lines)} read start: the
   * line of each property of each object (by identity), the first one's for a property given twice.
   */
  public static final class Lines {
    private final Map<JsonNode, Map<String, Integer>> of = new IdentityHashMap<>();

    /**
     * The line where the value of {@code property} of {@code object} starts.
     *
     * @return the line, from 1, or 0 when {@code object} is not one read with these lines or has no such property
     */
    public int of(JsonNode object, String property) {
      return of.getOrDefault(object, Map.of()).getOrDefault(property, 0);
    }
  }

  private static JsonNode value(JsonParser p, JsonToken token, Lines lines) throws IOException {
    if (token == JsonToken.START_OBJECT) {
      ObjectNode o = Documents.nodes().objectNode();
      for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
        String name = p.currentName();
        JsonToken v = p.nextToken();
        if (lines != null) {
          lines.of.computeIfAbsent(o, x -> new java.util.HashMap<>()).putIfAbsent(name,
              p.currentTokenLocation().getLineNr());
        }
        put(o, name, value(p, v, lines));
      }
      return o;
    }
    if (token == JsonToken.START_ARRAY) {
      ArrayNode a = Documents.nodes().arrayNode();
      for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
        a.add(value(p, t, lines));
      }
      return a;
    }
    return PlanReader.JSON.readTree(p);  // a scalar, at the parser's current token
  }

  /** Sets {@code name} in {@code o} to {@code v}, or to the list of both values when it is already there. */
  private static void put(ObjectNode o, String name, JsonNode v) {
    JsonNode before = o.get(name);
    if (before == null) {
      o.set(name, v);
    } else {
      ArrayNode both = Documents.nodes().arrayNode();
      splice(both, before);
      splice(both, v);
      o.set(name, both);
    }
  }

  private static void splice(ArrayNode into, JsonNode v) {
    if (v.isArray()) {
      into.addAll((ArrayNode) v);
    } else {
      into.add(v);
    }
  }
}
