package dev.gitops.terraform.internal;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Documents;
import java.io.IOException;

/**
 * Reads a file of Terraform's JSON syntax ({@code *.tf.json}, {@code *.tofu.json}, {@code
 * *.tfvars.json}) as HCL reads it where plain JSON readers differ: a property given twice in one
 * object is both, not the last. HCL takes {@code {"variable": {"a": {}}, "variable": {"b": {}}}}
 * as two {@code variable} blocks (and a label given twice as two blocks of it), so such a property
 * is read as the list of its values, the form HCL gives the same meaning ({@code "variable": [{"a":
 * {}}, {"b": {}}]}); a list among them is spliced in. An argument given twice is an error to
 * Terraform, which names the file itself; reading it as a list only learns both values.
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
      return first == null ? MissingNode.getInstance() : value(p, first);
    }
  }

  private static JsonNode value(JsonParser p, JsonToken token) throws IOException {
    if (token == JsonToken.START_OBJECT) {
      ObjectNode o = Documents.nodes().objectNode();
      for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
        String name = p.currentName();
        JsonNode v = value(p, p.nextToken());
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
      return o;
    }
    if (token == JsonToken.START_ARRAY) {
      ArrayNode a = Documents.nodes().arrayNode();
      for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
        a.add(value(p, t));
      }
      return a;
    }
    return PlanReader.JSON.readTree(p);  // a scalar, at the parser's current token
  }

  private static void splice(ArrayNode into, JsonNode v) {
    if (v.isArray()) {
      into.addAll((ArrayNode) v);
    } else {
      into.add(v);
    }
  }
}
