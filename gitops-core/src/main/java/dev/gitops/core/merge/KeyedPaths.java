package dev.gitops.core.merge;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.FieldPath;
import dev.gitops.api.MergeRules;
import dev.gitops.api.MergeRules.ListKind;
import dev.gitops.api.MergeRules.ListRule;
import dev.gitops.core.internal.redact.SensitiveValues;
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
    leaves(node, cur, at, false, sink);
  }

  /** {@link #leaves}, for a walk already below a sensitive path when {@code secret}. */
  static void leaves(JsonNode node, RuleCursor cur, Trail at, boolean secret, BiConsumer<Trail, JsonNode> sink) {
    if (cur.isIgnored()) {
      return;
    }
    boolean sec = secret || cur.isSensitive();
    if (node.isObject()) {
      if (node.size() == 0 || cur.isAtomicMap()) {
        sink.accept(at, node);
        return;
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        FieldPath.Segment s = new FieldPath.Field(e.getKey());
        leaves(e.getValue(), cur.step(s), at.then(s), sec, sink);
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
            RuleCursor ec = cur.step(s);
            if (!ec.isIgnored()) {
              sink.accept(at.then(name(s, ec, sec, rule)), e);
            }
          }
        }
        return;
      }
      Set<List<JsonNode>> seen = new HashSet<>();
      for (int i = 0; i < node.size(); i++) {
        FieldPath.Segment s = elementSegment(rule, node.get(i), i, seen);
        RuleCursor ec = cur.step(s);
        leaves(node.get(i), ec, at.then(name(s, ec, sec, rule)), sec, sink);
      }
      return;
    }
    sink.accept(at, node);
  }

  /**
   * How paths name a list element whose plain segment is {@code plain} and cursor {@code element}:
   * by {@code plain}, unless that would show a sensitive value (the walk is below a sensitive path
   * ({@code secret}), the element is sensitive, or one of its key fields is), then by the keyed hash
   * of {@code plain}. Positions ({@code [#i]}) show nothing and stay.
   */
  static FieldPath.Segment name(FieldPath.Segment plain, RuleCursor element, boolean secret, ListRule rule) {
    if (plain instanceof FieldPath.Index) {
      return plain;
    }
    boolean hide = secret || element.isSensitive();
    if (!hide && rule.kind() == ListKind.KEYED && !element.isEmpty()) {
      for (MergeRules.KeyField k : rule.keys()) {
        hide |= element.field(k.name()).isSensitive();
      }
    }
    return hide ? element.hashed(plain) : plain;
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
      } else if (s instanceof FieldPath.Hashed h) {
        node = findHashed(node, h, cur);
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

  /** The element of {@code array} that the hashed segment {@code h} names, or null. */
  private static JsonNode findHashed(JsonNode array, FieldPath.Hashed h, RuleCursor cur) {
    ListRule rule = cur.listRule();
    Set<List<JsonNode>> seen = new HashSet<>();
    for (int i = 0; i < array.size(); i++) {
      JsonNode e = array.get(i);
      FieldPath.Segment plain = rule.kind() == ListKind.KEYED ? elementSegment(rule, e, i, seen) : new FieldPath.Element(e);
      if (!(plain instanceof FieldPath.Index) && cur.hashed(plain).equals(h)) {
        return e;
      }
    }
    return null;
  }

  /** Finds a keyed element when no rule says how keys default: explicit fields must match. */
  static JsonNode matchWithoutRule(JsonNode array, FieldPath.Key key) {
    return SensitiveValues.matchWithoutRule(array, key);
  }
}
