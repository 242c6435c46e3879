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

  /** One value {@link #find} still has to walk. */
  private record Item(JsonNode node, RuleCursor cur, Trail at) {}

  /**
   * The key-addressed paths below {@code at} whose values are sensitive under {@code cur}, in
   * document order; the values still to walk wait on a stack of the walk's own, not the thread's.
   */
  static Set<FieldPath> find(JsonNode doc, RuleCursor cur, Trail at) {
    Set<FieldPath> out = new LinkedHashSet<>();
    java.util.ArrayDeque<Item> todo = new java.util.ArrayDeque<>();
    List<Item> kids = new java.util.ArrayList<>();
    todo.push(new Item(doc, cur, at));
    while (!todo.isEmpty()) {
      Item x = todo.pop();
      walk(x.node(), x.cur(), x.at(), out, kids);
      for (int i = kids.size() - 1; i >= 0; i--) {
        todo.push(kids.get(i));
      }
      kids.clear();
    }
    return out;
  }

  /** One step of {@link #find}: {@code node}'s own path into {@code out} when sensitive, the values below it into {@code kids}, in order. */
  private static void walk(JsonNode node, RuleCursor cur, Trail at, Set<FieldPath> out, List<Item> kids) {
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
        kids.add(new Item(e.getValue(), cur.step(s), at.then(s)));
      }
    } else if (node.isArray()) {
      ListRule rule = cur.listRule();
      if (rule.kind() == ListKind.SET) {
        for (JsonNode e : node) {
          FieldPath.Segment s = new FieldPath.Element(e);
          RuleCursor ec = cur.step(s);
          kids.add(new Item(e, ec, at.then(KeyedPaths.name(s, ec, false, rule))));
        }
      } else if (rule.kind() == ListKind.KEYED) {
        Set<List<JsonNode>> seen = new HashSet<>();
        for (int i = 0; i < node.size(); i++) {
          FieldPath.Segment s = KeyedPaths.elementSegment(rule, node.get(i), i, seen);
          RuleCursor ec = cur.step(s);
          kids.add(new Item(node.get(i), ec, at.then(KeyedPaths.name(s, ec, false, rule))));
        }
      } else if (holds(node, cur)) {
        // an atomic list is compared, reported and replaced whole (its path is the one a change
        // names), so a sensitive value anywhere inside it makes the whole list sensitive
        out.add(at.toPath());
      }
    }
  }

  /**
   * Whether {@code node} is, or holds, a value that is sensitive under {@code cur} (any list read as
   * atomic); the values still to look at wait on a stack of the walk's own.
   */
  private static boolean holds(JsonNode node, RuleCursor cur) {
    java.util.ArrayDeque<Object> todo = new java.util.ArrayDeque<>();
    todo.push(cur);
    todo.push(node);
    while (!todo.isEmpty()) {
      JsonNode n = (JsonNode) todo.pop();
      RuleCursor c = (RuleCursor) todo.pop();
      if (!c.mayBeSensitive()) {
        continue;
      }
      if (c.isSensitive()) {
        return true;
      }
      if (n.isObject()) {
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          todo.push(c.field(e.getKey()));
          todo.push(e.getValue());
        }
      } else if (n.isArray()) {
        for (int i = 0; i < n.size(); i++) {
          JsonNode e = n.get(i);
          // any element segment a rule may name: by index, and by value for rules that name elements.
          // Where both are in the same states (no rule names this element) one is walked: walking it twice per
          // level took 2^depth steps for nested lists (a 30-deep [[[..]]] never finished).
          RuleCursor byIndex = c.step(new FieldPath.Index(i));
          RuleCursor byValue = c.step(new FieldPath.Element(e));
          todo.push(byIndex);
          todo.push(e);
          if (!byValue.sameStates(byIndex)) {
            todo.push(byValue);
            todo.push(e);
          }
        }
      }
    }
    return false;
  }
}
