package dev.gitops.core.merge;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldPath;
import dev.gitops.api.MergeRules.KeyField;
import dev.gitops.api.MergeRules.ListRule;
import dev.gitops.core.internal.redact.SensitiveValues;
import java.util.ArrayList;
import java.util.Iterator;
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
    if (element == null || !element.isObject()) {
      return null;
    }
    List<KeyField> fields = rule.keys();
    return fields.size() == 1 ? keyValue(fields.get(0), element) : keyOf(rule, element);
  }

  /** A key from {@link #key} as the list of its field values. */
  @SuppressWarnings("unchecked")
  static List<JsonNode> keyList(Object key) {
    return key instanceof JsonNode n ? List.of(n) : (List<JsonNode>) key;
  }

  /**
   * The index of the first of {@code keys[0..n)} equal to {@code k}, or -1; a linear scan, which
   * beats hashing for the short lists (containers, env, ports) of real documents.
   */
  static int indexOfKey(Object[] keys, int n, Object k) {
    for (int i = 0; i < n; i++) {
      Object x = keys[i];
      if (x != null && (x == k || x.equals(k))) {
        return i;
      }
    }
    return -1;
  }

  private static JsonNode keyValue(KeyField f, JsonNode element) {
    JsonNode v = element.get(f.name());
    if (v == null || v.isNull()) {
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
   * unchanged: one walk instead of an equality walk and a clean walk. Unequal frozen containers
   * are told apart by their cached hash without a walk.
   */
  static boolean equalWithoutNulls(JsonNode d, JsonNode v, boolean noNulls) {
    if (!noNulls) {
      return d == v || d.equals(v);
    }
    if (d.isObject()) {
      if (!v.isObject() || d.size() != v.size() || d.hashCode() != v.hashCode()) {
        return false;
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = d.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        JsonNode dk = e.getValue();
        if (dk.isNull()) {
          return false;
        }
        JsonNode vk = v.get(e.getKey());
        if (vk == null || !equalWithoutNulls(dk, vk, true)) {
          return false;
        }
      }
      return true;
    }
    if (d.isArray()) {
      int n = d.size();
      if (!v.isArray() || n != v.size() || d.hashCode() != v.hashCode()) {
        return false;
      }
      for (int i = 0; i < n; i++) {
        if (!equalWithoutNulls(d.get(i), v.get(i), true)) {
          return false;
        }
      }
      return true;
    }
    return d == v || d.equals(v);
  }

  /** The document with every null object field removed (ABSENT null mode); the same node if it has none. */
  static JsonNode clean(JsonNode d) {
    if (d.isObject()) {
      Map<String, JsonNode> out = null;
      int i = 0;
      for (Iterator<Map.Entry<String, JsonNode>> it = d.fields(); it.hasNext(); i++) {
        Map.Entry<String, JsonNode> e = it.next();
        JsonNode v = e.getValue();
        JsonNode c = v.isNull() ? null : clean(v);
        if (out == null && c != v) {
          out = new LinkedHashMap<>();
          int j = 0;
          for (Iterator<Map.Entry<String, JsonNode>> it2 = d.fields(); j < i; j++) {
            Map.Entry<String, JsonNode> e2 = it2.next();
            out.put(e2.getKey(), e2.getValue());
          }
        }
        if (out != null && c != null) {
          out.put(e.getKey(), c);
        }
      }
      return out == null ? d : Documents.object(out);
    }
    if (d.isArray()) {
      List<JsonNode> out = null;
      for (int i = 0; i < d.size(); i++) {
        JsonNode v = d.get(i);
        JsonNode c = clean(v);
        if (out == null && c != v) {
          out = new ArrayList<>(d.size());
          for (int j = 0; j < i; j++) {
            out.add(d.get(j));
          }
        }
        if (out != null) {
          out.add(c);
        }
      }
      return out == null ? d : Documents.array(out);
    }
    return d;
  }

  /** An RFC 6901 reference token. */
  static String escapePointer(String s) {
    if (s.indexOf('~') < 0 && s.indexOf('/') < 0) {
      return s;
    }
    return s.replace("~", "~0").replace("/", "~1");
  }
}
