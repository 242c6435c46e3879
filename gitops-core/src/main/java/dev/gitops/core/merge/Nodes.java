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
   * to {@code equals}, which ignores field order. The pairs still to compare wait on a stack of the
   * walk's own, not the thread's, so no depth of nesting overflows it.
   */
  private static boolean equal(JsonNode a, JsonNode b, boolean noNulls) {
    java.util.ArrayDeque<JsonNode> todo = null;
    while (true) {
      if (a == b) {
        if (noNulls && hasNullField(a)) {
          return false;
        }
      } else if (a instanceof ObjectNode) {
        if (!(b instanceof ObjectNode) || a.hashCode() != b.hashCode()) {
          return false;
        }
        if (!Documents.sameFieldNames(a, b)) {
          if (!a.equals(b) || noNulls && hasNullField(a)) {
            return false;
          }
        } else {
          for (int i = a.size() - 1; i >= 0; i--) {
            JsonNode x = Documents.fieldValue(a, i);
            if (noNulls && isNull(x)) {
              return false;
            }
            if (todo == null) {
              todo = new java.util.ArrayDeque<>();
            }
            todo.push(Documents.fieldValue(b, i));
            todo.push(x);
          }
        }
      } else if (a instanceof ArrayNode) {
        int n = a.size();
        if (!(b instanceof ArrayNode) || n != b.size() || a.hashCode() != b.hashCode()) {
          return false;
        }
        for (int i = n - 1; i >= 0; i--) {
          if (todo == null) {
            todo = new java.util.ArrayDeque<>();
          }
          todo.push(b.get(i));
          todo.push(a.get(i));
        }
      } else if (!a.equals(b)) {
        return false;
      }
      if (todo == null || todo.isEmpty()) {
        return true;
      }
      a = todo.pop();
      b = todo.pop();
    }
  }

  /**
   * Whether some object in {@code d} (itself included) has a field whose value is JSON null; walked
   * from a stack of its own.
   */
  static boolean hasNullField(JsonNode d) {
    if (!(d instanceof ContainerNode) || d.size() == 0) {
      return false;
    }
    java.util.ArrayDeque<JsonNode> todo = null;
    while (true) {
      boolean object = d instanceof ObjectNode;
      for (int i = 0, n = d.size(); i < n; i++) {
        JsonNode x = object ? Documents.fieldValue(d, i) : d.get(i);
        if (x instanceof ContainerNode) {
          if (x.size() > 0) {
            if (todo == null) {
              todo = new java.util.ArrayDeque<>();
            }
            todo.push(x);
          }
        } else if (object && isNull(x)) {
          return true;
        }
      }
      if (todo == null || todo.isEmpty()) {
        return false;
      }
      d = todo.pop();
    }
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
   * none. Walks frozen containers by position, so a clean document costs no iterator or entry, and
   * keeps the containers it is inside on a stack of its own, not the thread's.
   */
  static JsonNode clean(JsonNode d) {
    if (!(d instanceof ContainerNode) || d.size() == 0) {
      return d;
    }
    java.util.ArrayDeque<Cleaning> above = null;
    Cleaning c = new Cleaning(d);
    JsonNode child = null;
    boolean resumed = false;
    while (true) {
      JsonNode into = c.advance(child, resumed);
      if (into != null) {
        if (above == null) {
          above = new java.util.ArrayDeque<>();
        }
        above.push(c);
        c = new Cleaning(into);
        child = null;
        resumed = false;
        continue;
      }
      child = c.result();
      if (above == null || above.isEmpty()) {
        return child;
      }
      c = above.pop();
      resumed = true;
    }
  }

  /** One container {@link #clean} is inside: the fields or elements kept so far. */
  private static final class Cleaning {
    final JsonNode d;
    final boolean object;
    final int n;
    int i;
    // The kept names and values once one differs from d's (before that, d's first i are kept).
    String[] names;
    JsonNode[] values;
    int w;

    Cleaning(JsonNode d) {
      this.d = d;
      this.object = d instanceof ObjectNode;
      this.n = d.size();
    }

    /**
     * Goes on from child {@code i} ({@code cleaned} is its clean form when {@code resumed}): returns
     * a child container to clean first, or null when every child is done.
     */
    JsonNode advance(JsonNode cleaned, boolean resumed) {
      if (resumed) {
        keep(cleaned);
        i++;
      }
      for (; i < n; i++) {
        JsonNode v = object ? Documents.fieldValue(d, i) : d.get(i);
        if (object && isNull(v)) {
          keep(null);
        } else if (v instanceof ContainerNode && v.size() > 0) {
          return v;
        } else {
          keep(v);
        }
      }
      return null;
    }

    /** Child {@code i} cleaned to {@code c} (null: dropped). */
    private void keep(JsonNode c) {
      JsonNode v = object ? Documents.fieldValue(d, i) : d.get(i);
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

    JsonNode result() {
      if (values == null) {
        return d;
      }
      return object ? Documents.object(names, values, w) : Documents.array(values, w);
    }
  }

  /** An RFC 6901 reference token. */
  static String escapePointer(String s) {
    if (s.indexOf('~') < 0 && s.indexOf('/') < 0) {
      return s;
    }
    return s.replace("~", "~0").replace("/", "~1");
  }
}
