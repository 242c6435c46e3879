package dev.gitops.core.merge;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.FieldChange;
import dev.gitops.api.FieldPath;
import dev.gitops.api.MergeRules.ListKind;
import dev.gitops.api.MergeRules.ListRule;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Ownership, drift, conflicts, takeovers and field changes of one merge, computed on first use. */
final class Reports {

  private final RuleCursor root;
  private final boolean absentNulls;
  private final JsonNode l;
  private final JsonNode d;
  private final JsonNode v;
  private final JsonNode t;
  private final Merger merger;
  /** The leaves of L (ignored paths excluded), computed once for every report that needs them. */
  final Lazy<Set<FieldPath>> owned = Lazy.of(this::ownedPaths);

  Reports(RuleCursor root, boolean absentNulls, JsonNode l, JsonNode d, JsonNode v, JsonNode t) {
    this.root = root;
    this.absentNulls = absentNulls;
    this.l = l;
    this.d = d;
    this.v = v;
    this.t = t;
    this.merger = new Merger(null, absentNulls);
  }

  static Set<FieldPath> leafPaths(JsonNode doc, RuleCursor root) {
    Set<FieldPath> out = new LinkedHashSet<>();
    if (doc != null) {
      KeyedPaths.leaves(doc, root, Trail.ROOT, (at, val) -> out.add(at.toPath()));
    }
    return out;
  }

  private Set<FieldPath> ownedPaths() {
    return leafPaths(l, root);
  }

  List<FieldPath> drift() {
    Set<FieldPath> owned = this.owned.get();
    List<FieldPath> out = new ArrayList<>();
    if (v == null) {
      return out;
    }
    for (FieldPath p : owned) {
      RuleCursor c = cursorAt(p);
      JsonNode vp = at(v, p, c);
      if (!holds(c, vp, at(l, p, c)) && !holds(c, vp, at(d, p, c))) {
        out.add(p);
      }
    }
    return out;
  }

  List<FieldPath> conflicts() {
    Set<FieldPath> owned = this.owned.get();
    List<FieldPath> out = new ArrayList<>();
    if (v == null) {
      return out;
    }
    for (FieldPath p : owned) {
      RuleCursor c = cursorAt(p);
      JsonNode vp = at(v, p, c);
      JsonNode lp = at(l, p, c);
      JsonNode dp = at(d, p, c);
      if (!same(c, dp, lp) && !holds(c, vp, lp) && !holds(c, vp, dp)) {
        out.add(p);
      }
    }
    return out;
  }

  List<FieldPath> takeovers() {
    Set<FieldPath> owned = this.owned.get();
    List<FieldPath> out = new ArrayList<>();
    if (v == null) {
      return out;
    }
    for (FieldPath p : leafPaths(d, root)) {
      if (owned.contains(p)) {
        continue;
      }
      RuleCursor c = cursorAt(p);
      JsonNode vp = at(v, p, c);
      if (vp != null && !holds(c, vp, at(d, p, c))) {
        out.add(p);
      }
    }
    return out;
  }

  List<FieldChange> fields() {
    List<FieldChange> out = new ArrayList<>();
    if (v == null) {
      KeyedPaths.leaves(t, root, Trail.ROOT, (at, val) -> out.add(new FieldChange(at.toPath(), null, val, sensitive(at, val))));
      return out;
    }
    changes(v, t, root, Trail.ROOT, false, out);
    return out;
  }

  private RuleCursor cursorAt(FieldPath p) {
    RuleCursor c = root;
    for (FieldPath.Segment s : p.segments()) {
      c = c.step(s);
    }
    return c;
  }

  /** The value at {@code p}, null when absent (an ABSENT-mode null field counts as absent). */
  private JsonNode at(JsonNode doc, FieldPath p, RuleCursor c) {
    if (doc == null) {
      return null;
    }
    JsonNode x = KeyedPaths.resolve(doc, p, root);
    if (x != null && absentNulls && x.isNull() && p.last() instanceof FieldPath.Field) {
      return null;
    }
    return x;
  }

  /** Leaf equality: a leaf that is an empty mergeable container matches any container of its kind. */
  private boolean same(RuleCursor c, JsonNode a, JsonNode b) {
    if (a == null || b == null) {
      return a == b;
    }
    if (a.equals(b)) {
      return true;
    }
    if (a.isObject() && b.isObject() && !c.isAtomicMap() && (a.size() == 0 || b.size() == 0)) {
      return true;
    }
    if (a.isArray() && b.isArray() && c.listRule().kind() != ListKind.ATOMIC && (a.size() == 0 || b.size() == 0)) {
      return true;
    }
    return absentNulls && Nodes.clean(a).equals(Nodes.clean(b));
  }

  /**
   * Whether live leaf {@code v} holds {@code x}: {@link #same}, or an atomic list whose elements
   * already are what merging {@code x}'s gives (server-filled fields, ignored paths inside them),
   * which the merge keeps as it is and so must not be drift, a conflict or a takeover either.
   */
  private boolean holds(RuleCursor c, JsonNode v, JsonNode x) {
    if (same(c, v, x)) {
      return true;
    }
    return v != null && x != null && v.isArray() && x.isArray() && v.size() == x.size()
        && c.listRule().kind() == ListKind.ATOMIC && merger.holds(c, x, v);
  }

  private enum Kind { OBJECT, KEYED, SET, LEAF }

  private static Kind kind(JsonNode n, RuleCursor c) {
    if (n.isObject()) {
      return c.isAtomicMap() ? Kind.LEAF : Kind.OBJECT;
    }
    if (n.isArray()) {
      ListKind k = c.listRule().kind();
      return k == ListKind.KEYED ? Kind.KEYED : k == ListKind.SET ? Kind.SET : Kind.LEAF;
    }
    return Kind.LEAF;
  }

  private void changes(JsonNode a, JsonNode b, RuleCursor c, Trail at, boolean secret, List<FieldChange> out) {
    if (a == b || (a != null && a.equals(b)) || c.isIgnored()) {
      return;
    }
    boolean sec = secret || c.isSensitive();
    Kind ka = a == null ? null : kind(a, c);
    Kind kb = b == null ? null : kind(b, c);
    if (ka != null && ka == kb && ka != Kind.LEAF) {
      switch (ka) {
        case OBJECT -> {
          for (Iterator<Map.Entry<String, JsonNode>> it = a.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            FieldPath.Segment s = new FieldPath.Field(e.getKey());
            changes(e.getValue(), b.get(e.getKey()), c.step(s), at.then(s), sec, out);
          }
          for (Iterator<Map.Entry<String, JsonNode>> it = b.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!a.has(e.getKey())) {
              FieldPath.Segment s = new FieldPath.Field(e.getKey());
              changes(null, e.getValue(), c.step(s), at.then(s), sec, out);
            }
          }
        }
        case SET -> {
          Set<JsonNode> as = new HashSet<>();
          a.forEach(as::add);
          Set<JsonNode> bs = new HashSet<>();
          b.forEach(bs::add);
          for (JsonNode e : as) {
            if (!bs.contains(e)) {
              setElement(c, at, sec, e, e, null, out);
            }
          }
          for (JsonNode e : bs) {
            if (!as.contains(e)) {
              setElement(c, at, sec, e, null, e, out);
            }
          }
        }
        default -> {
          ListRule rule = c.listRule();
          Map<FieldPath.Segment, JsonNode> am = elements(c, sec, rule, a);
          Map<FieldPath.Segment, JsonNode> bm = elements(c, sec, rule, b);
          for (Map.Entry<FieldPath.Segment, JsonNode> e : am.entrySet()) {
            changes(e.getValue(), bm.get(e.getKey()), c.step(e.getKey()), at.then(e.getKey()), sec, out);
          }
          for (Map.Entry<FieldPath.Segment, JsonNode> e : bm.entrySet()) {
            if (!am.containsKey(e.getKey())) {
              changes(null, e.getValue(), c.step(e.getKey()), at.then(e.getKey()), sec, out);
            }
          }
        }
      }
      return;
    }
    if ((a == null || ka == Kind.LEAF) && (b == null || kb == Kind.LEAF)) {
      add(at, a, b, sec || containsSecret(a, c, at) || containsSecret(b, c, at), out);
      return;
    }
    // A container replaced by something of another kind: every leaf on each side changes.
    Map<FieldPath, JsonNode[]> both = new LinkedHashMap<>();
    Map<FieldPath, Trail> trails = new HashMap<>();
    if (a != null) {
      KeyedPaths.leaves(a, c, at, sec, (p, val) -> {
        FieldPath fp = p.toPath();
        both.computeIfAbsent(fp, x -> new JsonNode[2])[0] = val;
        trails.put(fp, p);
      });
    }
    if (b != null) {
      KeyedPaths.leaves(b, c, at, sec, (p, val) -> {
        FieldPath fp = p.toPath();
        both.computeIfAbsent(fp, x -> new JsonNode[2])[1] = val;
        trails.put(fp, p);
      });
    }
    for (Map.Entry<FieldPath, JsonNode[]> e : both.entrySet()) {
      JsonNode[] ab = e.getValue();
      if (ab[0] == null || !ab[0].equals(ab[1])) {
        Trail tr = trails.get(e.getKey());
        out.add(new FieldChange(e.getKey(), ab[0], ab[1], sec || sensitive(tr, ab[0]) || sensitive(tr, ab[1])));
      }
    }
  }

  private static void add(Trail at, JsonNode before, JsonNode after, boolean sensitive, List<FieldChange> out) {
    out.add(new FieldChange(at.toPath(), before, after, sensitive));
  }

  /** A set element {@code e} added or removed: one change, unless its path is ignored. */
  private static void setElement(RuleCursor c, Trail at, boolean sec, JsonNode e, JsonNode before, JsonNode after,
      List<FieldChange> out) {
    FieldPath.Segment s = new FieldPath.Element(e);
    RuleCursor ec = c.step(s);
    if (!ec.isIgnored()) {
      add(at.then(KeyedPaths.name(s, ec, sec, ListRule.ATOMIC)), before, after, sec || ec.isSensitive(), out);
    }
  }

  /**
   * Elements of a keyed list by segment: key, or position for keyless elements and repeats; a key
   * that would show a secret is hashed ({@link KeyedPaths#name}).
   */
  private static Map<FieldPath.Segment, JsonNode> elements(RuleCursor c, boolean sec, ListRule rule, JsonNode list) {
    Map<FieldPath.Segment, JsonNode> m = new LinkedHashMap<>();
    Set<List<JsonNode>> seen = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      FieldPath.Segment s = KeyedPaths.elementSegment(rule, list.get(i), i, seen);
      m.put(KeyedPaths.name(s, c.step(s), sec, rule), list.get(i));
    }
    return m;
  }

  /** Whether the leaf at {@code at} or anything inside it is sensitive. */
  private boolean sensitive(Trail at, JsonNode value) {
    if (value == null) {
      return false;
    }
    RuleCursor c = cursorAt(at.toPath());
    return containsSecret(value, c, at) || ancestorSensitive(at.toPath());
  }

  private boolean ancestorSensitive(FieldPath p) {
    RuleCursor c = root;
    if (c.isSensitive()) {
      return true;
    }
    for (FieldPath.Segment s : p.segments()) {
      c = c.step(s);
      if (c.isSensitive()) {
        return true;
      }
    }
    return false;
  }

  private static boolean containsSecret(JsonNode value, RuleCursor c, Trail at) {
    if (value == null || c.isEmpty()) {
      return false;
    }
    return !SensitivePaths.find(value, c, at).isEmpty();
  }
}
