package dev.gitops.core.merge;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.FieldPath;
import dev.gitops.api.MergeRules.ListKind;
import dev.gitops.api.MergeRules.ListRule;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Finds the sensitive paths of a document by walking it with the merge's compiled rules. */
final class SensitivePaths {

  private SensitivePaths() {}

  /** The key-addressed paths below {@code at} whose values are sensitive under {@code cur}. */
  static Set<FieldPath> find(JsonNode doc, RuleCursor cur, Trail at) {
    Set<FieldPath> out = new LinkedHashSet<>();
    walk(doc, cur, at, out);
    return out;
  }

  private static void walk(JsonNode node, RuleCursor cur, Trail at, Set<FieldPath> out) {
    if (cur.isEmpty()) {
      return;
    }
    if (cur.isSensitive()) {
      out.add(at.toPath());
      return;
    }
    if (node.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        FieldPath.Segment s = new FieldPath.Field(e.getKey());
        walk(e.getValue(), cur.step(s), at.then(s), out);
      }
    } else if (node.isArray()) {
      ListRule rule = cur.listRule();
      if (rule.kind() == ListKind.SET) {
        for (JsonNode e : node) {
          FieldPath.Segment s = new FieldPath.Element(e);
          RuleCursor ec = cur.step(s);
          walk(e, ec, at.then(KeyedPaths.name(s, ec, false, rule)), out);
        }
      } else if (rule.kind() == ListKind.KEYED) {
        Set<List<JsonNode>> seen = new HashSet<>();
        for (int i = 0; i < node.size(); i++) {
          FieldPath.Segment s = KeyedPaths.elementSegment(rule, node.get(i), i, seen);
          RuleCursor ec = cur.step(s);
          walk(node.get(i), ec, at.then(KeyedPaths.name(s, ec, false, rule)), out);
        }
      }
    }
  }
}
