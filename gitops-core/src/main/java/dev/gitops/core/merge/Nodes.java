package dev.gitops.core.merge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.ContainerNode;
import com.fasterxml.jackson.databind.node.NumericNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldPath;
import dev.gitops.api.MergeRules.KeyField;
import dev.gitops.api.MergeRules.ListRule;
import dev.gitops.core.internal.redact.SensitiveValues;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Small helpers over frozen documents shared by the merge, the diff and the reports. */
final class Nodes {

  private Nodes() {}

  /**
   * The key of a keyed-list element (key field values, defaults applied), or null when the
   * element is not an object or lacks a key field that has no default. A JSON null counts as missing.
   */
  static List<JsonNode> keyOf(ListRule rule, JsonNode element) {
    if (element == null || !element.isObject()) {
      return null;
    }
    List<KeyField> fields = rule.keys();
    if (fields.size() == 1) {
      JsonNode v = keyValue(fields.get(0), element);
      return v == null ? null : List.of(v);
    }
    if (fields.size() == 2) {
      JsonNode a = keyValue(fields.get(0), element);
      JsonNode b = a == null ? null : keyValue(fields.get(1), element);
      return b == null ? null : List.of(a, b);
    }
    List<JsonNode> out = new ArrayList<>(fields.size());
    for (KeyField f : fields) {
      JsonNode v = keyValue(f, element);
      if (v == null) {
        return null;
      }
      out.add(v);
    }
    return out;
  }

  /**
   * The key of a keyed-list element as one value to compare with {@code equals}: the key field's
   * value when the rule has a single key field (the common case, no list built), else the list of
   * values as {@link #keyOf}; null when keyless.
   */
  static Object key(ListRule rule, JsonNode element) {
    if (!(element instanceof ObjectNode)) {
      return null;
    }
    List<KeyField> fields = rule.keys();
    return fields.size() == 1 ? keyValue(fields.get(0), element) : keyOf(rule, element);
  }

  /**
   * Whether {@code element} has the key {@code key} (as {@link #key} gives it, not null): {@code
   * key.equals(key(rule, element))}, without building the list of a key of several fields.
   */
  static boolean hasKey(ListRule rule, JsonNode element, Object key) {
    if (!(element instanceof ObjectNode)) {
      return false;
    }
    List<KeyField> fields = rule.keys();
    if (fields.size() == 1) {
      JsonNode v = keyValue(fields.get(0), element);
      return v != null && (v == key || key.equals(v));
    }
    List<?> want = (List<?>) key;
    if (want.size() != fields.size()) {
      return false;
    }
    for (int i = 0; i < fields.size(); i++) {
      JsonNode v = keyValue(fields.get(i), element);
      if (v == null || !want.get(i).equals(v)) {
        return false;
      }
    }
    return true;
  }

  /** A key from {@link #key} as the list of its field values. */
  @SuppressWarnings("unchecked")
  static List<JsonNode> keyList(Object key) {
    return key instanceof JsonNode n ? List.of(n) : (List<JsonNode>) key;
  }

  private static JsonNode keyValue(KeyField f, JsonNode element) {
    // Key fields mostly come first in their elements, and names are mostly shared strings: the
    // search from position 0 mostly ends at the first compare, by identity.
    JsonNode v;
    if (Documents.isFrozen(element)) {
      int i = Documents.fieldIndex(element, f.name(), 0);
      v = i < 0 ? null : Documents.fieldValue(element, i);
    } else {
      v = element.get(f.name());
    }
    if (v == null || isNull(v)) {
      v = f.defaultValue();
    }
    return v;
  }

  /** The path segment naming a keyed element. */
  static FieldPath.Key keySegment(ListRule rule, List<JsonNode> key) {
    Map<String, JsonNode> m = new LinkedHashMap<>();
    for (int i = 0; i < key.size(); i++) {
      m.put(rule.keys().get(i).name(), key.get(i));
    }
    return new FieldPath.Key(m);
  }

  /** Whether a key segment (possibly parsed from text) names this key. */
  static boolean keyMatches(ListRule rule, List<JsonNode> key, FieldPath.Key seg) {
    if (key == null || seg.fields().size() != key.size()) {
      return false;
    }
    for (int i = 0; i < key.size(); i++) {
      JsonNode want = seg.fields().get(rule.keys().get(i).name());
      if (want == null || !looselyEqual(key.get(i), want)) {
        return false;
      }
    }
    return true;
  }

  /** Value equality, or equal text forms (a parsed path holds every key value as text). */
  static boolean looselyEqual(JsonNode a, JsonNode b) {
    return SensitiveValues.looselyEqual(a, b);
  }

  /**
   * Whether {@code d} equals {@code v} (as {@link JsonNode#equals} of frozen trees) and, when
   * {@code noNulls}, also holds no null object field, so that {@link #clean} would return it
   * unchanged: one walk for both. Unequal frozen containers are told apart by their cached hash
   * without a walk, and equal ones with the same field names compare value by value.
   */
  static boolean equalWithoutNulls(JsonNode d, JsonNode v, boolean noNulls) {
    return equal(d, v, noNulls);
  }

  /**
   * {@link JsonNode#equals} of frozen trees (and, when {@code noNulls}, no null object field in
   * {@code a}), walked by position: containers are told apart by size and cached hash first,
   * objects with the same field names in the same order compare value by value, others fall back
   * to {@code equals}, which ignores field order.
   */
  private static boolean equal(JsonNode a, JsonNode b, boolean noNulls) {
    if (a == b) {
      return !noNulls || !hasNullField(a);
    }
    if (a instanceof ObjectNode) {
      if (!(b instanceof ObjectNode) || a.hashCode() != b.hashCode()) {
        return false;
      }
      if (!Documents.sameFieldNames(a, b)) {
        return a.equals(b) && (!noNulls || !hasNullField(a));
      }
      for (int i = 0, n = a.size(); i < n; i++) {
        JsonNode x = Documents.fieldValue(a, i);
        if (noNulls && isNull(x) || !equal(x, Documents.fieldValue(b, i), noNulls)) {
          return false;
        }
      }
      return true;
    }
    if (a instanceof ArrayNode) {
      int n = a.size();
      if (!(b instanceof ArrayNode) || n != b.size() || a.hashCode() != b.hashCode()) {
        return false;
      }
      for (int i = 0; i < n; i++) {
        if (!equal(a.get(i), b.get(i), noNulls)) {
          return false;
        }
      }
      return true;
    }
    return a.equals(b);
  }

  /** Whether some object in {@code d} (itself included) has a field whose value is JSON null. */
  static boolean hasNullField(JsonNode d) {
    if (!(d instanceof ContainerNode) || d.size() == 0) {
      return false;
    }
    boolean object = d instanceof ObjectNode;
    for (int i = 0, n = d.size(); i < n; i++) {
      JsonNode x = object ? Documents.fieldValue(d, i) : d.get(i);
      if (x instanceof ContainerNode ? hasNullField(x) : object && isNull(x)) {
        return true;
      }
    }
    return false;
  }

  /** {@link JsonNode#isNull}, without its virtual call for the common scalar classes. */
  static boolean isNull(JsonNode x) {
    return !(x instanceof TextNode || x instanceof NumericNode || x instanceof BooleanNode || x instanceof ContainerNode)
        && x.isNull();
  }

  /**
   * The position of field {@code name} in frozen object {@code o}, or -1: searched from position
   * {@code from} on, then before it. Callers walking another object whose fields mostly come in
   * the same order pass the position after their last hit, so a lookup is usually one compare
   * (by identity when the names are shared).
   */
  static int indexOfField(JsonNode o, String name, int from) {
    return Documents.fieldIndex(o, name, from);
  }

  /**
   * The document with every null object field removed (ABSENT null mode); the same node if it has
   * none. Walks frozen containers by position, so a clean document costs no iterator or entry.
   */
  static JsonNode clean(JsonNode d) {
    if (!(d instanceof ContainerNode) || d.size() == 0) {
      return d;
    }
    boolean object = d instanceof ObjectNode;
    int n = d.size();
    // The kept names and values once one differs from d's (before that, d's first i are kept).
    String[] names = null;
    JsonNode[] values = null;
    int w = 0;
    for (int i = 0; i < n; i++) {
      JsonNode v = object ? Documents.fieldValue(d, i) : d.get(i);
      JsonNode c = object && isNull(v) ? null : clean(v);
      if (values == null && c != v) {
        names = object ? new String[n] : null;
        values = new JsonNode[n];
        for (; w < i; w++) {
          if (object) {
            names[w] = Documents.fieldName(d, w);
          }
          values[w] = object ? Documents.fieldValue(d, w) : d.get(w);
        }
      }
      if (values != null && c != null) {
        if (object) {
          names[w] = Documents.fieldName(d, i);
        }
        values[w++] = c;
      }
    }
    if (values == null) {
      return d;
    }
    return object ? Documents.object(names, values, w) : Documents.array(values, w);
  }

  /** An RFC 6901 reference token. */
  static String escapePointer(String s) {
    if (s.indexOf('~') < 0 && s.indexOf('/') < 0) {
      return s;
    }
    return s.replace("~", "~0").replace("/", "~1");
  }
}
