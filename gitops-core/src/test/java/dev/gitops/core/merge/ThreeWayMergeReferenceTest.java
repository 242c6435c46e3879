package dev.gitops.core.merge;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldPath;
import dev.gitops.api.MergeRules;
import dev.gitops.api.MergeRules.KeyField;
import dev.gitops.api.MergeRules.ListKind;
import dev.gitops.api.MergeRules.ListRule;
import dev.gitops.core.merge.MergeCases.Case;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The merge against an independent model written from DESIGN.md's text ("Three-way merge"), on
 * random documents and rule sets: the model is slow and plain (no identity tricks, no position
 * hints), so a difference in the target is a defect in one of them. Keyed lists are compared
 * without their order (the order rules are checked by {@link ThreeWayMergePropertiesTest}).
 */
class ThreeWayMergeReferenceTest {

  @Provide
  Arbitrary<Case> cases() {
    return Arbitraries.longs().map(MergeCases::generate);
  }

  @Property(tries = 250)
  void targetIsTheModelsTarget(@ForAll("cases") Case c) {
    MergeRules rules = withoutSensitive(c.rules());
    JsonNode t = new ThreeWayMerge(rules).merge(MergeCases.KEY, c.l(), c.d(), c.v()).target();
    JsonNode want = new Model(rules).target(c.l(), c.d(), c.v());
    assertThat(sortKeyed(rules, t, FieldPath.root()))
        .as("%s", c)
        .isEqualTo(sortKeyed(rules, want, FieldPath.root()));
  }

  /**
   * The same, with the generator's field names a..e turned into names that JSON pointers, path
   * patterns and key-addressed paths must escape or keep apart: a slash, a tilde, a dot, the
   * empty name, a non-ASCII one.
   */
  @Property(tries = 150)
  void targetIsTheModelsTargetWithHostileFieldNames(@ForAll("cases") Case c) {
    MergeRules rules = renamedRules(withoutSensitive(c.rules()));
    JsonNode l = rename(c.l());
    JsonNode d = rename(c.d());
    JsonNode v = rename(c.v());
    MergeResult r = new ThreeWayMerge(rules).merge(MergeCases.KEY, l, d, v);
    JsonNode want = new Model(rules).target(l, d, v);
    assertThat(sortKeyed(rules, r.target(), FieldPath.root()))
        .as("%s", c)
        .isEqualTo(sortKeyed(rules, want, FieldPath.root()));
    assertThat(Patches.apply(v, r.patch())).as("patch of %s", c).isEqualTo(r.target());
  }

  private static final Map<String, String> HOSTILE = Map.of("a", "a/b", "b", "~1", "c", "x.y", "d", "", "e", "ü\u00e9 ");

  private static JsonNode rename(JsonNode n) {
    if (n == null) {
      return null;
    }
    if (n.isObject()) {
      Map<String, JsonNode> m = new LinkedHashMap<>();
      n.fields().forEachRemaining(e -> m.put(HOSTILE.getOrDefault(e.getKey(), e.getKey()), rename(e.getValue())));
      return Documents.object(m);
    }
    if (n.isArray()) {
      List<JsonNode> out = new ArrayList<>();
      n.forEach(e -> out.add(rename(e)));
      return Documents.array(out);
    }
    return n;
  }

  /** A pattern with its field parts renamed as {@link #rename} renames fields (escaped as segment texts are). */
  private static String renamed(String pattern) {
    if (pattern.isEmpty()) {
      return pattern;
    }
    StringBuilder sb = new StringBuilder();
    for (String part : pattern.substring(1).split("/", -1)) {
      String name = HOSTILE.get(part);
      sb.append('/').append(name == null ? part : new FieldPath.Field(name).text());
    }
    return sb.toString();
  }

  private static MergeRules renamedRules(MergeRules rules) {
    MergeRules.Builder b = MergeRules.builder().nullMode(rules.nullMode());
    for (ListRule l : rules.listRules()) {
      KeyField[] keys = l.keys().toArray(KeyField[]::new);
      String p = renamed(l.pattern().toString());
      switch (l.kind()) {
        case KEYED -> {
          if (l.ordered()) {
            b.orderedKeyedList(p, keys);
          } else {
            b.keyedList(p, keys);
          }
        }
        case SET -> b.setList(p);
        default -> b.atomicList(p);
      }
    }
    rules.atomicMaps().forEach(m -> b.atomicMap(renamed(m.toString())));
    rules.ignoreRules().forEach(i -> b.ignore(renamed(i.pattern().toString()), i.selector()));
    return b.build();
  }

  /** The merge as DESIGN.md states it, written for reading rather than speed. */
  static final class Model {
    private final MergeRules rules;
    private final boolean absentNulls;

    Model(MergeRules rules) {
      this.rules = rules;
      this.absentNulls = rules.nullMode() == MergeRules.NullMode.ABSENT;
    }

    JsonNode target(JsonNode l, JsonNode d, JsonNode v) {
      if (v == null) {
        // CREATE: D as it is (ignored paths take D's value), ABSENT-mode null fields dropped
        return clean(d);
      }
      return merge(FieldPath.root(), l, d, v);
    }

    /** A null object field in ABSENT mode means "ensure absent". */
    private boolean present(JsonNode x) {
      return x != null && !(absentNulls && x.isNull());
    }

    private JsonNode clean(JsonNode d) {
      return absentNulls ? Nodes.clean(d) : d;
    }

    /** Whether an ignore rule applies at {@code p}: never to a key field of a keyed element. */
    private boolean ignored(FieldPath p) {
      if (p.size() == 0 || !rules.isIgnored(MergeCases.KEY, p)) {
        return false;
      }
      if (p.size() >= 2 && p.last() instanceof FieldPath.Field f && p.parent().last() instanceof FieldPath.Key) {
        ListRule rule = rules.listRule(p.parent().parent());
        return rule.kind() != ListKind.KEYED || rule.keys().stream().noneMatch(k -> k.name().equals(f.name()));
      }
      return true;
    }

    /** T at {@code p}; D is present there, L and V may be null (absent). */
    JsonNode merge(FieldPath p, JsonNode l, JsonNode d, JsonNode v) {
      if (d.isObject()) {
        if (rules.isAtomicMap(p)) {
          return clean(d);
        }
        Map<String, JsonNode> out = new LinkedHashMap<>();
        if (v != null && v.isObject()) {
          // fields neither D nor L mention stay (server defaults, other owners); fields that
          // left Git since L go, unless ignored
          v.fields().forEachRemaining(e -> {
            String k = e.getKey();
            boolean leftGit = !d.has(k) && l != null && l.isObject() && l.has(k) && !ignored(p.field(k));
            if (!leftGit) {
              out.put(k, e.getValue());
            }
          });
        }
        d.fields().forEachRemaining(e -> {
          String k = e.getKey();
          FieldPath pk = p.field(k);
          if (ignored(pk)) {
            return; // V's value (already there, or absent)
          }
          if (!present(e.getValue())) {
            out.remove(k);
            return;
          }
          JsonNode vk = v != null && v.isObject() ? v.get(k) : null;
          JsonNode lk = l != null && l.isObject() ? l.get(k) : null;
          out.put(k, merge(pk, lk, e.getValue(), vk));
        });
        return Documents.object(out);
      }
      if (d.isArray()) {
        ListRule rule = rules.listRule(p);
        return switch (rule.kind()) {
          case KEYED -> keyed(p, rule, l, d, v);
          case SET -> set(p, l, d, v);
          default -> atomic(p, l, d, v);
        };
      }
      return d;
    }

    private JsonNode atomic(FieldPath p, JsonNode l, JsonNode d, JsonNode v) {
      if (v != null && v.isArray() && v.size() == d.size()) {
        boolean keep = true;
        for (int i = 0; i < d.size() && keep; i++) {
          FieldPath pi = p.append(new FieldPath.Index(i));
          JsonNode li = l != null && l.isArray() ? l.get(i) : null;
          JsonNode ti = ignored(pi) ? v.get(i) : merge(pi, li, d.get(i), v.get(i));
          keep = ti.equals(v.get(i));
        }
        if (keep) {
          return v;
        }
      }
      return clean(d);
    }

    private JsonNode set(FieldPath p, JsonNode l, JsonNode d, JsonNode v) {
      List<JsonNode> ds = new ArrayList<>();
      d.forEach(e -> ds.add(clean(e)));
      List<JsonNode> ls = new ArrayList<>();
      if (l != null && l.isArray()) {
        l.forEach(e -> ls.add(clean(e)));
      }
      List<JsonNode> out = new ArrayList<>();
      if (v != null && v.isArray()) {
        for (JsonNode e : v) {
          boolean removed = ls.contains(e) && !ds.contains(e) && !ignored(p.append(new FieldPath.Element(e)));
          if (!removed) {
            out.add(e);
          }
        }
      }
      for (JsonNode e : ds) {
        if (!out.contains(e) && !ignored(p.append(new FieldPath.Element(e)))) {
          out.add(e);
        }
      }
      return Documents.array(out);
    }

    private JsonNode keyed(FieldPath p, ListRule rule, JsonNode l, JsonNode d, JsonNode v) {
      List<List<JsonNode>> dKeys = new ArrayList<>();
      d.forEach(e -> dKeys.add(Nodes.keyOf(rule, e)));
      Set<List<JsonNode>> lKeys = new HashSet<>();
      if (l != null && l.isArray()) {
        l.forEach(e -> {
          List<JsonNode> k = Nodes.keyOf(rule, e);
          if (k != null) {
            lKeys.add(k);
          }
        });
      }
      List<JsonNode> out = new ArrayList<>();
      Set<List<JsonNode>> matched = new HashSet<>();
      if (v != null && v.isArray()) {
        for (JsonNode e : v) {
          List<JsonNode> k = Nodes.keyOf(rule, e);
          int di = k == null ? -1 : dKeys.indexOf(k);
          if (k == null) {
            out.add(e); // keyless: V-only
          } else if (di >= 0 && matched.add(k)) {
            FieldPath pe = p.append(Nodes.keySegment(rule, k));
            out.add(ignored(pe) ? e : merge(pe, elementOf(rule, l, k), d.get(di), e));
          } else if (di >= 0) {
            out.add(e); // a second element with a desired key: V-only
          } else if (lKeys.contains(k) && !ignored(p.append(Nodes.keySegment(rule, k)))) {
            // left Git since L: removed
          } else {
            out.add(e);
          }
        }
      }
      for (int i = 0; i < d.size(); i++) {
        List<JsonNode> k = dKeys.get(i);
        FieldPath pe = p.append(Nodes.keySegment(rule, k));
        if (!matched.contains(k) && !ignored(pe)) {
          out.add(merge(pe, elementOf(rule, l, k), d.get(i), null));
        }
      }
      return Documents.array(out);
    }

    private static JsonNode elementOf(ListRule rule, JsonNode list, List<JsonNode> key) {
      if (list == null || !list.isArray()) {
        return null;
      }
      for (JsonNode e : list) {
        if (key.equals(Nodes.keyOf(rule, e))) {
          return e;
        }
      }
      return null;
    }
  }

  /** The same rules without sensitive rules (they only change how paths are named, not the target). */
  static MergeRules withoutSensitive(MergeRules rules) {
    return ThreeWayMergePropertiesTest.copy(rules, false, true);
  }

  /** Keyed lists sorted by canonical JSON, so targets compare without their order. */
  static JsonNode sortKeyed(MergeRules rules, JsonNode n, FieldPath at) {
    if (n.isObject()) {
      Map<String, JsonNode> m = new LinkedHashMap<>();
      n.fields().forEachRemaining(e -> m.put(e.getKey(), sortKeyed(rules, e.getValue(), at.field(e.getKey()))));
      return Documents.object(m);
    }
    if (!n.isArray()) {
      return n;
    }
    ListRule rule = rules.listRule(at);
    if (rule.kind() != ListKind.KEYED) {
      return n;
    }
    List<JsonNode> out = new ArrayList<>();
    Set<List<JsonNode>> seen = new HashSet<>();
    for (int i = 0; i < n.size(); i++) {
      out.add(sortKeyed(rules, n.get(i), at.append(KeyedPaths.elementSegment(rule, n.get(i), i, seen))));
    }
    out.sort(Comparator.comparing(Documents::canonicalJson));
    return Documents.array(out);
  }
}
