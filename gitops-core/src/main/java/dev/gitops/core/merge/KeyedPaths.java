package dev.gitops.core.merge;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.FieldPath;
import dev.gitops.api.MergeRules.ListKind;
import dev.gitops.api.MergeRules.ListRule;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/** Leaves of a document and values at key-addressed paths, as the merge rules address them. */
final class KeyedPaths {

  private KeyedPaths() {}

  /**
   * Calls {@code sink} for every leaf under {@code node} (itself included) with its path and value:
   * scalars, nulls, atomic lists and maps, empty objects and lists. Ignored paths are skipped.
   */
  static void leaves(JsonNode node, RuleCursor cur, Trail at, BiConsumer<Trail, JsonNode> sink) {
    if (cur.isIgnored()) {
      return;
    }
    if (node.isObject()) {
      if (node.size() == 0 || cur.isAtomicMap()) {
        sink.accept(at, node);
        return;
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        FieldPath.Segment s = new FieldPath.Field(e.getKey());
        leaves(e.getValue(), cur.step(s), at.then(s), sink);
      }
      return;
    }
    if (node.isArray()) {
      ListRule rule = cur.listRule();
      if (node.size() == 0 || rule.kind() == ListKind.ATOMIC) {
        sink.accept(at, node);
        return;
      }
      if (rule.kind() == ListKind.SET) {
        Set<JsonNode> seen = new HashSet<>();
        for (JsonNode e : node) {
          if (seen.add(e)) {
            FieldPath.Segment s = new FieldPath.Element(e);
            if (!cur.step(s).isIgnored()) {
              sink.accept(at.then(s), e);
            }
          }
        }
        return;
      }
      Set<List<JsonNode>> seen = new HashSet<>();
      for (int i = 0; i < node.size(); i++) {
        FieldPath.Segment s = elementSegment(rule, node.get(i), i, seen);
        leaves(node.get(i), cur.step(s), at.then(s), sink);
      }
      return;
    }
    sink.accept(at, node);
  }

  /** The segment of element {@code i} of a keyed list: its key, or {@code [#i]} when keyless or a repeat. */
  static FieldPath.Segment elementSegment(ListRule rule, JsonNode e, int i, Set<List<JsonNode>> seen) {
    List<JsonNode> k = Nodes.keyOf(rule, e);
    if (k != null && seen.add(k)) {
      return Nodes.keySegment(rule, k);
    }
    return new FieldPath.Index(i);
  }

  /** The value at {@code path}, or null when absent. */
  static JsonNode resolve(JsonNode doc, FieldPath path, RuleCursor cur) {
    JsonNode node = doc;
    for (FieldPath.Segment s : path.segments()) {
      if (node == null) {
        return null;
      }
      if (s instanceof FieldPath.Field f) {
        node = node.isObject() ? node.get(f.name()) : null;
      } else if (!node.isArray()) {
        return null;
      } else if (s instanceof FieldPath.Index ix) {
        node = ix.index() < node.size() ? node.get(ix.index()) : null;
      } else if (s instanceof FieldPath.Element el) {
        JsonNode found = null;
        for (JsonNode e : node) {
          if (e.equals(el.value())) {
            found = e;
            break;
          }
        }
        if (found == null) {
          for (JsonNode e : node) {
            if (Nodes.looselyEqual(e, el.value())) {
              found = e;
              break;
            }
          }
        }
        node = found;
      } else {
        FieldPath.Key key = (FieldPath.Key) s;
        ListRule rule = cur.listRule();
        JsonNode found = null;
        if (rule.kind() == ListKind.KEYED) {
          for (JsonNode e : node) {
            if (Nodes.keyMatches(rule, Nodes.keyOf(rule, e), key)) {
              found = e;
              break;
            }
          }
        } else {
          found = matchWithoutRule(node, key);
        }
        node = found;
      }
      cur = cur.step(s);
    }
    return node;
  }

  /** Finds a keyed element when no rule says how keys default: explicit fields must match. */
  static JsonNode matchWithoutRule(JsonNode array, FieldPath.Key key) {
    JsonNode loose = null;
    for (JsonNode e : array) {
      if (!e.isObject()) {
        continue;
      }
      boolean exact = true;
      boolean ok = true;
      boolean any = false;
      for (Map.Entry<String, JsonNode> f : key.fields().entrySet()) {
        JsonNode ev = e.get(f.getKey());
        if (ev == null || ev.isNull()) {
          exact = false;
        } else if (!Nodes.looselyEqual(ev, f.getValue())) {
          ok = false;
          break;
        } else {
          any = true;
        }
      }
      if (ok && exact) {
        return e;
      }
      if (ok && any && loose == null) {
        loose = e;
      }
    }
    return loose;
  }
}
