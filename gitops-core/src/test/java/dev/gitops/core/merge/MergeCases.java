package dev.gitops.core.merge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.gitops.api.Documents;
import dev.gitops.api.KeySelector;
import dev.gitops.api.MergeRules;
import dev.gitops.api.MergeRules.KeyField;
import dev.gitops.api.ResourceKey;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Random merge inputs that are valid for random rules. A random schema (objects, keyed lists,
 * ordered keyed lists, set lists, atomic lists, atomic maps, scalars) yields the rules; D is an
 * instance of it with unique keys; L and V are D after random edits, so keyed lists overlap, and
 * V also gets fields and elements of its own, keyless and duplicate elements, and type changes.
 */
final class MergeCases {

  static final ResourceKey KEY = ResourceKey.of("p", "T", "s", "n");
  private static final String[] NAMES = {"a", "b", "c", "d", "e"};
  private static final String[] KEYS = {"k0", "k1", "k2", "k3", "k4", "k5"};

  enum Kind { OBJ, KEYED, SET, ATOMIC_LIST, ATOMIC_MAP, SCALAR }

  /** A node of the schema; for KEYED the element schema is {@code element}. */
  static final class Schema {
    Kind kind;
    boolean ordered;
    boolean secondKey;
    Map<String, Schema> fields = new LinkedHashMap<>();
    Schema element;
  }

  /** One generated case. */
  record Case(long seed, MergeRules rules, JsonNode l, JsonNode d, JsonNode v) {
    @Override
    public String toString() {
      return "seed=" + seed + "\nrules=" + rules + "\nL=" + l + "\nD=" + d + "\nV=" + v;
    }
  }

  private final Random r;
  private final MergeRules.Builder rules = MergeRules.builder();
  private boolean absent;

  private MergeCases(long seed) {
    this.r = new Random(seed);
  }

  static Case generate(long seed) {
    MergeCases g = new MergeCases(seed);
    g.absent = g.r.nextBoolean();
    g.rules.nullMode(g.absent ? MergeRules.NullMode.ABSENT : MergeRules.NullMode.VALUE);
    Schema root = g.object(0);
    g.makeRules(root, "");
    JsonNode d = g.instance(root);
    JsonNode l = g.r.nextInt(6) == 0 ? null : g.edit(d, root, false);
    JsonNode base = l != null && g.r.nextInt(3) == 0 ? l : d;
    JsonNode v = g.r.nextInt(10) == 0 ? null : g.edit(base, root, true);
    return new Case(seed, g.rules.build(), d(l), d(d), d(v));
  }

  private static JsonNode d(JsonNode n) {
    return n == null ? null : Documents.freeze(n);
  }

  // ---- schema and rules

  private Schema object(int depth) {
    Schema s = new Schema();
    s.kind = Kind.OBJ;
    int n = 1 + r.nextInt(depth == 0 ? 4 : 3);
    for (int i = 0; i < n; i++) {
      s.fields.put(NAMES[r.nextInt(NAMES.length)], schema(depth + 1));
    }
    return s;
  }

  private Schema schema(int depth) {
    int pick = r.nextInt(depth >= 3 ? 4 : 10);
    Schema s = new Schema();
    switch (pick) {
      case 0 -> s.kind = Kind.SCALAR;
      case 1 -> s.kind = Kind.SET;
      case 2 -> s.kind = Kind.ATOMIC_LIST;
      case 3 -> s.kind = Kind.ATOMIC_MAP;
      case 4, 5, 6 -> {
        s.kind = Kind.KEYED;
        s.ordered = r.nextBoolean();
        s.secondKey = r.nextInt(3) == 0;
        s.element = object(depth + 1);
        s.element.fields.remove("k");
      }
      default -> s = object(depth);
    }
    return s;
  }

  private void makeRules(Schema s, String path) {
    switch (s.kind) {
      case OBJ -> {
        for (Map.Entry<String, Schema> e : s.fields.entrySet()) {
          String p = path + "/" + e.getKey();
          if (r.nextInt(8) == 0) {
            ignoreSometimesElsewhere(p);
          }
          makeRules(e.getValue(), p);
        }
      }
      case KEYED -> {
        KeyField[] keys = s.secondKey
            ? new KeyField[] {KeyField.of("k"), KeyField.withDefault("q", TextNode.valueOf("dq"))}
            : new KeyField[] {KeyField.of("k")};
        if (s.ordered) {
          rules.orderedKeyedList(path, keys);
        } else {
          rules.keyedList(path, keys);
        }
        boolean literal = false;
        if (r.nextInt(5) == 0) {
          // Ignore rules over the elements themselves: all of them, or one named by its key.
          String k = KEYS[r.nextInt(KEYS.length)];
          literal = r.nextBoolean();
          ignoreSometimesElsewhere(path + (!literal ? "/*" : s.secondKey ? "/[k=" + k + ",q=dq]" : "/[k=" + k + "]"));
        }
        if (!literal && r.nextInt(8) == 0) {
          // Secret elements (the whole list, or a key field): their paths must not show the key.
          rules.sensitive(r.nextBoolean() ? path : path + "/*/k", KeySelector.ANY);
        }
        if (r.nextInt(8) == 0) {
          // A key field ignored (a server-defaulted one, say): elements still match by it.
          ignoreSometimesElsewhere(path + "/*/" + (s.secondKey && r.nextBoolean() ? "q" : "k"));
        }
        makeRules(s.element, path + "/*");
      }
      case SET -> {
        rules.setList(path);
        boolean literal = false;
        if (r.nextInt(4) == 0) {
          // Ignore rules over set elements: all of them, or one named by its value.
          literal = r.nextBoolean();
          ignoreSometimesElsewhere(path + (!literal ? "/*" : "/[=" + setValue().asText() + "]"));
        }
        if (!literal && r.nextInt(6) == 0) {
          // Secret elements: their paths must not show their values. (Not with a rule naming an
          // element by value: the tests' MergeRules.isIgnored cannot match hashed paths to it.)
          rules.sensitive(r.nextBoolean() ? path : path + "/*", KeySelector.ANY);
        }
      }
      case ATOMIC_MAP -> rules.atomicMap(path);
      case ATOMIC_LIST -> {
        if (r.nextBoolean()) {
          rules.atomicList(path);
        }
      }
      default -> { }
    }
  }

  /** An ignore rule that selects this resource, or (sometimes) another one. */
  private void ignoreSometimesElsewhere(String pattern) {
    rules.ignore(pattern, r.nextInt(4) == 0 ? KeySelector.type("p", "Other") : KeySelector.of("p", "T", "*", "n*"));
  }

  // ---- instances

  private JsonNode instance(Schema s) {
    switch (s.kind) {
      case OBJ: {
        Map<String, JsonNode> m = new LinkedHashMap<>();
        for (Map.Entry<String, Schema> e : s.fields.entrySet()) {
          if (r.nextInt(5) != 0) {
            m.put(e.getKey(), r.nextInt(25) == 0 ? scalar() : instance(e.getValue()));
          }
        }
        return Documents.object(m);
      }
      case KEYED: {
        List<String> keys = new ArrayList<>(List.of(KEYS));
        Collections.shuffle(keys, r);
        int n = r.nextInt(4);
        List<JsonNode> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          out.add(element(s, keys.get(i)));
        }
        return Documents.array(out);
      }
      case SET: {
        Set<JsonNode> vals = new HashSet<>();
        List<JsonNode> out = new ArrayList<>();
        for (int i = r.nextInt(4); i > 0; i--) {
          JsonNode x = setValue();
          if (vals.add(x)) {
            out.add(x);
          }
        }
        return Documents.array(out);
      }
      case ATOMIC_LIST: {
        List<JsonNode> out = new ArrayList<>();
        for (int i = r.nextInt(4); i > 0; i--) {
          out.add(arbitrary(2));
        }
        return Documents.array(out);
      }
      case ATOMIC_MAP: {
        Map<String, JsonNode> m = new LinkedHashMap<>();
        for (int i = r.nextInt(3); i > 0; i--) {
          m.put("r" + r.nextInt(4), scalar());
        }
        return Documents.object(m);
      }
      default:
        return scalar();
    }
  }

  private JsonNode element(Schema s, String key) {
    Map<String, JsonNode> m = new LinkedHashMap<>();
    m.put("k", TextNode.valueOf(key));
    if (s.secondKey && r.nextBoolean()) {
      // Spelled out or left to the default: both address the same element.
      m.put("q", TextNode.valueOf("dq"));
    }
    JsonNode body = instance(s.element);
    body.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue()));
    return Documents.object(m);
  }

  private JsonNode setValue() {
    return r.nextBoolean() ? TextNode.valueOf("s" + r.nextInt(5)) : Documents.nodes().numberNode(r.nextInt(3));
  }

  private JsonNode scalar() {
    return switch (r.nextInt(6)) {
      case 0 -> Documents.nodes().nullNode();
      case 1 -> Documents.nodes().booleanNode(r.nextBoolean());
      case 2 -> Documents.nodes().numberNode(r.nextInt(3) == 0 ? r.nextInt(3) + 0.5 : r.nextInt(4));
      default -> TextNode.valueOf("v" + r.nextInt(4));
    };
  }

  /** Arbitrary JSON whose field names no rule mentions. */
  private JsonNode arbitrary(int depth) {
    int pick = depth <= 0 ? 0 : r.nextInt(4);
    if (pick == 1) {
      Map<String, JsonNode> m = new LinkedHashMap<>();
      for (int i = r.nextInt(3); i > 0; i--) {
        m.put("r" + r.nextInt(4), arbitrary(depth - 1));
      }
      return Documents.object(m);
    }
    if (pick == 2) {
      List<JsonNode> out = new ArrayList<>();
      for (int i = r.nextInt(3); i > 0; i--) {
        out.add(arbitrary(depth - 1));
      }
      return Documents.array(out);
    }
    return scalar();
  }

  // ---- edits

  /** {@code n} after random edits; {@code live} adds what only a live system would have. */
  private JsonNode edit(JsonNode n, Schema s, boolean live) {
    if (r.nextInt(live ? 12 : 20) == 0) {
      return r.nextBoolean() ? instance(s) : scalar();
    }
    switch (s.kind) {
      case OBJ: {
        if (!n.isObject()) {
          return r.nextBoolean() ? n : instance(s);
        }
        Map<String, JsonNode> m = new LinkedHashMap<>();
        n.fields().forEachRemaining(e -> {
          Schema fs = s.fields.get(e.getKey());
          int x = r.nextInt(6);
          if (x == 0) {
            return; // dropped
          }
          m.put(e.getKey(), fs == null || x < 3 ? e.getValue() : edit(e.getValue(), fs, live));
        });
        for (Map.Entry<String, Schema> e : s.fields.entrySet()) {
          if (!m.containsKey(e.getKey()) && r.nextInt(4) == 0) {
            m.put(e.getKey(), instance(e.getValue()));
          }
        }
        if (live && r.nextInt(3) == 0) {
          m.put(r.nextBoolean() ? "x" : "y", arbitrary(2));
        }
        return Documents.object(m);
      }
      case KEYED: {
        if (!n.isArray()) {
          return r.nextBoolean() ? n : instance(s);
        }
        List<JsonNode> out = new ArrayList<>();
        Set<String> used = new HashSet<>();
        for (JsonNode e : n) {
          if (e.isObject() && e.has("k")) {
            used.add(e.get("k").asText());
          }
        }
        for (JsonNode e : n) {
          int x = r.nextInt(6);
          if (x == 0) {
            continue;
          }
          if (x == 1 && e.isObject()) {
            Map<String, JsonNode> m = new LinkedHashMap<>();
            e.fields().forEachRemaining(f -> m.put(f.getKey(), f.getValue()));
            JsonNode body = edit(Documents.object(without(m, "k", "q")), s.element, live);
            Map<String, JsonNode> m2 = new LinkedHashMap<>();
            m2.put("k", m.get("k"));
            if (m.containsKey("q")) {
              m2.put("q", m.get("q"));
            }
            body.fields().forEachRemaining(f -> m2.put(f.getKey(), f.getValue()));
            out.add(Documents.object(m2));
          } else {
            out.add(e);
          }
        }
        if (r.nextInt(3) == 0) {
          for (String k : KEYS) {
            if (!used.contains(k)) {
              out.add(r.nextInt(out.size() + 1), element(s, k));
              break;
            }
          }
        }
        if (live) {
          if (r.nextInt(4) == 0) {
            Collections.shuffle(out, r);
          }
          if (r.nextInt(6) == 0) {
            out.add(r.nextInt(out.size() + 1), arbitrary(1)); // keyless
          }
          if (r.nextInt(8) == 0 && !out.isEmpty()) {
            JsonNode dup = out.get(r.nextInt(out.size()));
            if (dup.isObject() && dup.has("k")) {
              Map<String, JsonNode> m = new LinkedHashMap<>();
              dup.fields().forEachRemaining(f -> m.put(f.getKey(), f.getValue()));
              m.put("x", TextNode.valueOf("dup"));
              out.add(r.nextInt(out.size() + 1), Documents.object(m));
            }
          }
        }
        return Documents.array(out);
      }
      case SET: {
        if (!n.isArray()) {
          return instance(s);
        }
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode e : n) {
          if (r.nextInt(5) != 0) {
            out.add(e);
          }
        }
        if (r.nextInt(3) == 0) {
          JsonNode x = setValue();
          if (!out.contains(x)) {
            out.add(r.nextInt(out.size() + 1), x);
          }
        }
        return Documents.array(out);
      }
      case ATOMIC_LIST: {
        if (!n.isArray()) {
          return instance(s);
        }
        int x = r.nextInt(4);
        if (x == 0) {
          return instance(s);
        }
        if (x == 1 && live) {
          // Server-filled fields inside object elements.
          List<JsonNode> out = new ArrayList<>();
          for (JsonNode e : n) {
            if (e.isObject()) {
              Map<String, JsonNode> m = new LinkedHashMap<>();
              e.fields().forEachRemaining(f -> m.put(f.getKey(), f.getValue()));
              m.put("filled", scalar());
              out.add(Documents.object(m));
            } else {
              out.add(e);
            }
          }
          return Documents.array(out);
        }
        if (x == 2 && n.size() > 0) {
          List<JsonNode> out = new ArrayList<>();
          n.forEach(out::add);
          out.add(0, arbitrary(1));
          return Documents.array(out);
        }
        return n;
      }
      case ATOMIC_MAP: {
        if (!n.isObject()) {
          return instance(s);
        }
        Map<String, JsonNode> m = new LinkedHashMap<>();
        n.fields().forEachRemaining(f -> m.put(f.getKey(), f.getValue()));
        if (r.nextBoolean()) {
          m.put("r" + r.nextInt(5), scalar());
        }
        return Documents.object(m);
      }
      default:
        return r.nextInt(3) == 0 ? scalar() : n;
    }
  }

  private static Map<String, JsonNode> without(Map<String, JsonNode> m, String... names) {
    Map<String, JsonNode> out = new LinkedHashMap<>(m);
    for (String nme : names) {
      out.remove(nme);
    }
    return out;
  }
}
