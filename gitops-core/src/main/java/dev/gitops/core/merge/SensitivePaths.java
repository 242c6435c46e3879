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
    if (!cur.mayBeSensitive()) {
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
      } else if (holds(node, cur)) {
        // an atomic list is compared, reported and replaced whole (its path is the one a change
        // names), so a sensitive value anywhere inside it makes the whole list sensitive
        out.add(at.toPath());
      }
    }
  }

  /** Whether {@code node} is, or holds, a value that is sensitive under {@code cur} (any list read as atomic). */
  private static boolean holds(JsonNode node, RuleCursor cur) {
    if (!cur.mayBeSensitive()) {
      return false;
    }
    if (cur.isSensitive()) {
      return true;
    }
    if (node.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (holds(e.getValue(), cur.field(e.getKey()))) {
          return true;
        }
      }
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        JsonNode e = node.get(i);
        // any element segment a rule may name: by index, and by value for rules that name elements.
        // Where both are in the same states (no rule names this element) one is walked: walking it twice per
        // level took 2^depth steps for nested lists (a 30-deep [[[..]]] never finished).
        RuleCursor byIndex = cur.step(new FieldPath.Index(i));
        RuleCursor byValue = cur.step(new FieldPath.Element(e));
        if (holds(e, byIndex) || !byValue.sameStates(byIndex) && holds(e, byValue)) {
          return true;
        }
      }
    }
    return false;
  }
}
