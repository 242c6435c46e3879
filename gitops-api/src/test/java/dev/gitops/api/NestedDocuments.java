package dev.gitops.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Deeply nested documents for the tests of the depth limit ({@link Documents#MAX_DEPTH}), here and
 * in gitops-core's (through this module's test jar).
 *
 * <pre>{@code
 * JsonNode doc = NestedDocuments.deep(Documents.MAX_DEPTH, "leaf");   // {"spec": [[...{"k": "leaf"}...]]}
 * }</pre>
 */
public final class NestedDocuments {

  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private NestedDocuments() {}

  /**
   * {"spec": [[...[{"k": [{"k": ...leaf}]}]...]]} of {@code levels} levels: lists in lists down to
   * half way, then objects in lists, {@code leaf} the text at the bottom.
   */
  public static JsonNode deep(int levels, String leaf) {
    JsonNode v = F.textNode(leaf);
    int inner = levels - 1;
    for (int i = 0; i < inner; i++) {
      if (i < inner / 2 && i % 2 == 0) {
        ObjectNode o = F.objectNode();
        o.set("k", v);
        v = o;
      } else {
        ArrayNode a = F.arrayNode();
        a.add(v);
        v = a;
      }
    }
    return F.objectNode().set("spec", v);
  }
}
