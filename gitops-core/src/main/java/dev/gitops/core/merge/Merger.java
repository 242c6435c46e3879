package dev.gitops.core.merge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ContainerNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldPath;
import dev.gitops.api.MergeException;
import dev.gitops.api.MergeRules.ListRule;
import dev.gitops.api.ResourceKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Computes the target of one three-way merge. Subtrees are returned by identity whenever the
 * target equals the live value there, so that the diff afterwards skips them by reference; where
 * live has nothing to merge with, D's own subtree is returned while merging changes nothing in it.
 *
 * <p>The walk keeps its own stack of the objects and lists it is inside ({@link Frame}) rather than
 * recursing, so a document nested to {@link Documents#MAX_DEPTH} needs no more of the thread's stack
 * than a flat one (the recursive walk took some 600 KiB there: more than a small executor thread or
 * a virtual thread may have). Children are merged in the order the recursion took them, so the
 * results and the first error found are the same.
 */
final class Merger {

  /** Up to this many elements, keyed lists are matched by linear scans rather than hash maps. */
  private static final int SHORT_LIST = 16;

  private final ResourceKey key;
  private final boolean absentNulls;

  Merger(ResourceKey key, boolean absentNulls) {
    this.key = key;
    this.absentNulls = absentNulls;
  }

  /** Throws when D breaks a keyed-list rule anywhere the rules reach; used on CREATE. */
  void validate(RuleCursor root, JsonNode d) {
    try {
      check(root, d);
    } catch (Misfit m) {
      throw m.toException(key);
    }
  }

  /**
   * The target of merging the whole documents (see {@link #merge(RuleCursor, JsonNode, JsonNode,
   * JsonNode)}); throws naming the path when D breaks a keyed-list rule.
   */
  JsonNode mergeRoot(RuleCursor root, JsonNode l, JsonNode d, JsonNode v) {
    try {
      return merge(root, l, d, v);
    } catch (Misfit m) {
      throw m.toException(key);
    }
  }

  /**
   * D breaking a keyed-list rule: thrown where it is found, each level adding its segment on the
   * way out, so that the walk builds no path while nothing is wrong. No stack trace is taken.
   */
  private static final class Misfit extends RuntimeException {
    private static final long serialVersionUID = 1L;
    /** Deepest first. */
    private final transient List<FieldPath.Segment> below = new ArrayList<>();

    Misfit(String message) {
      super(message, null, false, false);
    }

    Misfit under(FieldPath.Segment segment) {
      below.add(segment);
      return this;
    }

    MergeException toException(ResourceKey key) {
      FieldPath p = FieldPath.root();
      for (int i = below.size() - 1; i >= 0; i--) {
        p = p.append(below.get(i));
      }
      return new MergeException(key, p, getMessage());
    }
  }

  /**
   * One value {@link #check} still has to look at: {@code d} under {@code cur}, below {@code parent}
   * by the segment {@code name} gives (a field name, an index, or a keyed element's key under {@code
   * rule}), made only when a misfit needs the path.
   */
  private record Checked(RuleCursor cur, JsonNode d, Checked parent, Object name, ListRule rule) {
    FieldPath.Segment segment() {
      if (rule != null) {
        return Nodes.keySegment(rule, Nodes.keyList(name));
      }
      return name instanceof String s ? new FieldPath.Field(s) : new FieldPath.Index((Integer) name);
    }
  }

  /**
   * Throws a {@link Misfit} naming the path below {@code cur} when {@code d} breaks a keyed-list rule;
   * values are looked at depth first in document order, as a recursive walk would, from a stack of
   * its own, so that the first misfit found is the same.
   */
  private void check(RuleCursor cur, JsonNode d) {
    if (cur.isEmpty() || cur.isIgnored() || !(d instanceof ContainerNode)) {
      return;
    }
    java.util.ArrayDeque<Checked> todo = new java.util.ArrayDeque<>();
    List<Checked> kids = new ArrayList<>();
    todo.push(new Checked(cur, d, null, null, null));
    while (!todo.isEmpty()) {
      Checked c = todo.pop();
      try {
        checkOne(c, kids);
      } catch (Misfit m) {
        for (Checked p = c; p.parent() != null; p = p.parent()) {
          m.under(p.segment());
        }
        throw m;
      }
      for (int i = kids.size() - 1; i >= 0; i--) {
        todo.push(kids.get(i));
      }
      kids.clear();
    }
  }

  /** Checks one level of {@code at}: throws when a keyed list there breaks its rule, else adds what to look at below, in order. */
  private void checkOne(Checked at, List<Checked> kids) {
    RuleCursor cur = at.cur();
    JsonNode d = at.d();
    if (cur.isEmpty() || cur.isIgnored()) {
      return;
    }
    if (d instanceof ObjectNode) {
      if (cur.isAtomicMap()) {
        return;
      }
      for (int i = 0, n = d.size(); i < n; i++) {
        JsonNode x = Documents.fieldValue(d, i);
        if (x instanceof ContainerNode) {
          String k = Documents.fieldName(d, i);
          RuleCursor cc = cur.field(k);
          if (!cc.isEmpty()) {
            kids.add(new Checked(cc, x, at, k, null));
          }
        }
      }
    } else if (d instanceof ArrayNode && cur.listRule().kind() == dev.gitops.api.MergeRules.ListKind.KEYED) {
      ListRule rule = cur.listRule();
      Object[] keys = desiredKeys(rule, d, null);
      RuleCursor any = cur.anyElement();
      if (any != null && (any.isEmpty() || any.isIgnored())) {
        return;
      }
      for (int i = 0; i < keys.length; i++) {
        Object k = keys[i];
        RuleCursor cc = any != null ? any : cur.element(() -> Nodes.keySegment(rule, Nodes.keyList(k)));
        kids.add(new Checked(cc, d.get(i), at, k, rule));
      }
    } else if (d instanceof ArrayNode && cur.listRule().kind() == dev.gitops.api.MergeRules.ListKind.ATOMIC) {
      // an atomic list's elements still obey the rules below them, whether D's list replaces V's
      // or is merged with it element by element
      for (int i = 0, n = d.size(); i < n; i++) {
        JsonNode x = d.get(i);
        if (x instanceof ContainerNode) {
          int index = i;
          RuleCursor cc = cur.element(() -> new FieldPath.Index(index));
          if (!cc.isEmpty()) {
            kids.add(new Checked(cc, x, at, i, null));
          }
        }
      }
    }
  }

  /**
   * Whether live value {@code v} already holds {@code x}: merging {@code x} (as last-applied and
   * desired) into it keeps {@code v}, so fields {@code x} does not mention (server defaults) and
   * ignored paths may differ. False when {@code x} breaks a keyed-list rule.
   */
  boolean holds(RuleCursor cur, JsonNode x, JsonNode v) {
    try {
      JsonNode t = merge(cur, x, x, v);
      return t == v || t.equals(v);
    } catch (Misfit m) {
      return false;
    }
  }

  /**
   * An object or list being merged: the state of one level of the walk between the merges of its
   * children. {@link #advance} takes the target of the child asked for last and either asks for the
   * next one ({@link #cc}, {@link #cl}, {@link #cd}, {@link #cv}; true) or finishes ({@link
   * #result}; false).
   */
  private abstract static class Frame {
    RuleCursor cc;
    JsonNode cl;
    JsonNode cd;
    JsonNode cv;
    JsonNode result;

    /** {@code child}: the target of the child asked for last (null on the first call). */
    abstract boolean advance(JsonNode child);

    /** The segment of the child asked for last, for the path of a misfit below it. */
    abstract FieldPath.Segment segment();

    final boolean ask(RuleCursor cur, JsonNode l, JsonNode d, JsonNode v) {
      cc = cur;
      cl = l;
      cd = d;
      cv = v;
      return true;
    }

    final boolean finish(JsonNode target) {
      result = target;
      cc = null;
      cl = null;
      cd = null;
      cv = null;
      return false;
    }
  }

  /**
   * The target at one position; {@code d} is present, {@code l} and {@code v} may be null (absent).
   * The objects and lists on the way down wait on a stack of {@link Frame}s, not the thread's.
   */
  private JsonNode merge(RuleCursor cur, JsonNode l, JsonNode d, JsonNode v) {
    Object first = start(cur, l, d, v);
    if (!(first instanceof Frame)) {
      return (JsonNode) first;
    }
    // the frames above f, innermost first
    java.util.ArrayDeque<Frame> above = new java.util.ArrayDeque<>();
    Frame f = (Frame) first;
    JsonNode child = null;
    while (true) {
      boolean more;
      try {
        more = f.advance(child);
      } catch (Misfit m) {
        throw under(m, null, above);
      }
      if (more) {
        Object c;
        try {
          c = start(f.cc, f.cl, f.cd, f.cv);
        } catch (Misfit m) {
          throw under(m, f, above);
        }
        if (c instanceof Frame cf) {
          above.push(f);
          f = cf;
          child = null;
        } else {
          child = (JsonNode) c;
        }
      } else {
        child = f.result;
        if (above.isEmpty()) {
          return child;
        }
        f = above.pop();
      }
    }
  }

  /** {@code m} with the segments of the children {@code f} (unless null) and {@code above} were merging, innermost first. */
  private static Misfit under(Misfit m, Frame f, java.util.ArrayDeque<Frame> above) {
    if (f != null) {
      m.under(f.segment());
    }
    for (Frame p : above) {
      m.under(p.segment());
    }
    return m;
  }

  /**
   * The target at one position, when no child is to be merged for it; else the {@link Frame} that
   * merges its children.
   */
  private Object start(RuleCursor cur, JsonNode l, JsonNode d, JsonNode v) {
    if (v != null && Nodes.equalWithoutNulls(d, v, absentNulls)) {
      // Equal D and V merge to V under every rule (ignored paths take V's value, which is D's);
      // D must still obey the keyed-list rules. With ABSENT nulls, a D holding nulls takes the
      // walk below, which drops them.
      if (!cur.isEmpty()) {
        check(cur, d);
      }
      return v;
    }
    if (d instanceof ObjectNode) {
      if (cur.isAtomicMap()) {
        return same(absentNulls ? Nodes.clean(d) : d, v);
      }
      if (cur.isEmpty() && !(v instanceof ObjectNode)) {
        return absentNulls ? Nodes.clean(d) : d;
      }
      if (v instanceof ObjectNode) {
        return new ObjectMerge(cur, l, d, v);
      }
      return d.size() == 0 ? d : new ObjectBuild(cur, l, d);
    }
    if (d instanceof ArrayNode) {
      ListRule rule = cur.listRule();
      switch (rule.kind()) {
        case KEYED:
          return new KeyedMerge(cur, rule, l, d, v);
        case SET:
          // ABSENT-mode null fields leave object elements as they do everywhere else, so an
          // element compares equal to the one the server keeps
          return absentNulls ? mergeSet(cur, l == null ? null : Nodes.clean(l), Nodes.clean(d), v) : mergeSet(cur, l, d, v);
        default:
          return new AtomicListMerge(cur, l, d, v);
      }
    }
    return same(d, v);
  }

  private static JsonNode same(JsonNode t, JsonNode v) {
    return v != null && t.equals(v) ? v : t;
  }

  private boolean isPresent(JsonNode d) {
    return d != null && !(absentNulls && Nodes.isNull(d));
  }

  /**
   * Merges objects D and V. Walks D (and L's fields missing from D), not V: live objects carry
   * server-only fields the merge keeps as they are, so when nothing changes V is returned without
   * looking at those; only a change rebuilds the object in V's field order. V and L mostly list
   * D's fields in D's order, so their fields are looked up from just after the last hit.
   */
  private final class ObjectMerge extends Frame {
    private final RuleCursor cur;
    private final JsonNode d;
    private final JsonNode v;
    private final JsonNode lo;
    // L with D's field names in D's order (L and D the same node, or nothing left Git here):
    // L's field i is D's field i, and no field of L is missing from D.
    private final boolean sameNames;
    private int vNext;
    private int lNext;
    private int inL;
    // Changed fields, in D order then L order: the new value (null when the field goes) and V's position (-1: new).
    private String[] names;
    private JsonNode[] values;
    private int[] vPos;
    private int n;
    /** D's field being merged, its name, V's value there and its position in V. */
    private int i;
    private String k;
    private JsonNode vk;
    private int vi;
    private boolean waiting;

    ObjectMerge(RuleCursor cur, JsonNode l, JsonNode d, JsonNode v) {
      this.cur = cur;
      this.d = d;
      this.v = v;
      this.lo = l instanceof ObjectNode && l.size() > 0 ? l : null;
      this.sameNames = lo != null && (lo == d || Documents.sameFieldNames(lo, d));
    }

    @Override
    FieldPath.Segment segment() {
      return new FieldPath.Field(k);
    }

    @Override
    boolean advance(JsonNode child) {
      int dn = d.size();
      if (waiting) {
        waiting = false;
        if (child != vk) {
          change(k, child, vi, dn);
        }
        i++;
      }
      for (; i < dn; i++) {
        k = Documents.fieldName(d, i);
        JsonNode dk = Documents.fieldValue(d, i);
        int li = fieldOfL(lo, sameNames, i, k, lNext);
        JsonNode lk = li < 0 ? null : Documents.fieldValue(lo, li);
        if (li >= 0 && !sameNames) {
          lNext = li + 1;
          inL++;
        }
        vi = v.size() == 0 ? -1 : Nodes.indexOfField(v, k, vNext);
        vk = null;
        if (vi >= 0) {
          vk = Documents.fieldValue(v, vi);
          vNext = vi + 1;
        }
        if (!isPresent(dk)) {
          if (vk != null && !cur.field(k).isIgnored()) {
            change(k, null, vi, dn);
          }
          continue;
        }
        RuleCursor cc = cur.field(k);
        if (cc.isIgnored()) {
          continue;
        }
        waiting = true;
        return ask(cc, lk, dk, vk);
      }
      vk = null;
      if (lo != null && !sameNames && inL < lo.size()) {
        // L has fields D lacks: those still in V and not ignored leave with Git.
        for (int x = 0, ln = lo.size(); x < ln; x++) {
          String name = Documents.fieldName(lo, x);
          int at;
          if (d.get(name) == null && v.size() > 0 && (at = Nodes.indexOfField(v, name, 0)) >= 0 && !cur.field(name).isIgnored()) {
            if (names == null) {
              names = new String[dn + ln];
              values = new JsonNode[names.length];
              vPos = new int[names.length];
            }
            names[n] = name;
            values[n] = null;
            vPos[n++] = at;
          }
        }
      }
      return finish(n == 0 ? v : rebuild(v, names, values, vPos, n));
    }

    private void change(String name, JsonNode value, int at, int dn) {
      if (names == null) {
        int cap = dn + (lo == null || sameNames ? 0 : lo.size());
        names = new String[cap];
        values = new JsonNode[cap];
        vPos = new int[cap];
      }
      names[n] = name;
      values[n] = value;
      vPos[n++] = at;
    }
  }

  /**
   * The position in L's object {@code lo} (null: none) of D's field {@code i}, named {@code k}:
   * {@code i} itself when L has D's field names in D's order, else looked up from {@code from}.
   */
  private static int fieldOfL(JsonNode lo, boolean sameNames, int i, String k, int from) {
    return lo == null ? -1 : sameNames ? i : Nodes.indexOfField(lo, k, from);
  }

  /**
   * V with the {@code n} changes applied: {@code values[i]} replaces V's field at {@code vPos[i]}
   * (null removes it) or, at -1, is appended under {@code names[i]}.
   */
  private static JsonNode rebuild(JsonNode v, String[] names, JsonNode[] values, int[] vPos, int n) {
    boolean sameNames = true;
    for (int c = 0; c < n && sameNames; c++) {
      sameNames = vPos[c] >= 0 && values[c] != null;
    }
    if (sameNames) {
      // Only values change: V's field names and order stay, so V's key order is shared.
      return Documents.withFieldValues(v, vPos, values, n);
    }
    int vn = v.size();
    String[] outNames = new String[vn + n];
    JsonNode[] outValues = new JsonNode[vn + n];
    for (int i = 0; i < vn; i++) {
      outNames[i] = Documents.fieldName(v, i);
      outValues[i] = Documents.fieldValue(v, i);
    }
    int size = vn;
    for (int c = 0; c < n; c++) {
      if (vPos[c] >= 0) {
        outValues[vPos[c]] = values[c];
      } else if (values[c] != null) {
        outNames[size] = names[c];
        outValues[size++] = values[c];
      }
    }
    int w = 0;
    for (int r = 0; r < size; r++) {
      if (outValues[r] != null) {
        outNames[w] = outNames[r];
        outValues[w++] = outValues[r];
      }
    }
    return Documents.object(outNames, outValues, w);
  }

  /**
   * The target object where V has no object: D's present, not ignored fields, merged against
   * nothing. D itself when that changes no field (no null dropped, nothing ignored, every value
   * merged to itself), so a new subtree is not copied node by node. D is not empty.
   */
  private final class ObjectBuild extends Frame {
    private final RuleCursor cur;
    private final JsonNode d;
    private final JsonNode lo;
    private final boolean sameNames;
    private int lNext;
    // The target's fields once one differs from D's (before that, D's fields 0..i-1 are the target's).
    private String[] names;
    private JsonNode[] values;
    private int n;
    private int i;
    private boolean waiting;

    ObjectBuild(RuleCursor cur, JsonNode l, JsonNode d) {
      this.cur = cur;
      this.d = d;
      this.lo = l instanceof ObjectNode && l.size() > 0 ? l : null;
      this.sameNames = lo != null && (lo == d || Documents.sameFieldNames(lo, d));
    }

    @Override
    FieldPath.Segment segment() {
      return new FieldPath.Field(Documents.fieldName(d, i));
    }

    @Override
    boolean advance(JsonNode child) {
      int dn = d.size();
      if (waiting) {
        waiting = false;
        take(child, dn);
        i++;
      }
      for (; i < dn; i++) {
        String k = Documents.fieldName(d, i);
        JsonNode dk = Documents.fieldValue(d, i);
        RuleCursor cc;
        if (isPresent(dk) && !(cc = cur.field(k)).isIgnored()) {
          int li = fieldOfL(lo, sameNames, i, k, lNext);
          JsonNode lk = li < 0 ? null : Documents.fieldValue(lo, li);
          if (li >= 0) {
            lNext = li + 1;
          }
          waiting = true;
          return ask(cc, lk, dk, null);
        }
        take(null, dn);
      }
      return finish(names == null ? d : Documents.object(names, values, n));
    }

    /** D's field {@code i} merged to {@code tk} (null: left out). */
    private void take(JsonNode tk, int dn) {
      if (names == null && tk != Documents.fieldValue(d, i)) {
        names = new String[dn];
        values = new JsonNode[dn];
        for (; n < i; n++) {
          names[n] = Documents.fieldName(d, n);
          values[n] = Documents.fieldValue(d, n);
        }
      }
      if (names != null && tk != null) {
        names[n] = Documents.fieldName(d, i);
        values[n++] = tk;
      }
    }
  }

  /**
   * An atomic list: V kept when every element already is what merging it would give (server-filled
   * fields inside elements must not cause an update on every sync), else D's list.
   */
  private final class AtomicListMerge extends Frame {
    private final RuleCursor cur;
    private final JsonNode l;
    private final JsonNode d;
    private final JsonNode v;
    private int i;
    private boolean waiting;

    AtomicListMerge(RuleCursor cur, JsonNode l, JsonNode d, JsonNode v) {
      this.cur = cur;
      this.l = l;
      this.d = d;
      this.v = v;
    }

    @Override
    FieldPath.Segment segment() {
      return new FieldPath.Index(i);
    }

    @Override
    boolean advance(JsonNode child) {
      if (v != null && v.isArray() && v.size() == d.size()) {
        boolean keep = true;
        if (waiting) {
          waiting = false;
          JsonNode vi = v.get(i);
          keep = child == vi || child.equals(vi);
          i++;
        }
        for (; i < d.size() && keep; i++) {
          JsonNode li = l != null && l.isArray() ? l.get(i) : null;
          JsonNode vi = v.get(i);
          int index = i;
          RuleCursor cc = cur.element(() -> new FieldPath.Index(index));
          if (!cc.isIgnored()) {
            waiting = true;
            return ask(cc, li, d.get(i), vi);
          }
        }
        if (keep) {
          return finish(v);
        }
      }
      // D replaces V: what the element-by-element merge above did not reach is checked here
      check(cur, d);
      return finish(absentNulls ? Nodes.clean(d) : d);
    }
  }

  /**
   * Union by value: V's elements stay unless L has them and D not, D's are added. An element at an
   * ignored path keeps V's state: D cannot add it, and L (which may predate the rule) cannot remove it.
   */
  private static JsonNode mergeSet(RuleCursor cur, JsonNode l, JsonNode d, JsonNode v) {
    RuleCursor any = cur.anyElement();
    if (any != null && any.isIgnored()) {
      return v != null && v.isArray() ? v : Documents.array(List.of());
    }
    boolean perElement = any == null;
    Set<JsonNode> ds = new HashSet<>();
    for (JsonNode e : d) {
      if (!perElement || !isIgnoredElement(cur, e)) {
        ds.add(e);
      }
    }
    Set<JsonNode> removed = new HashSet<>();
    if (l != null && l.isArray()) {
      for (JsonNode e : l) {
        if (!ds.contains(e) && (!perElement || !isIgnoredElement(cur, e))) {
          removed.add(e);
        }
      }
    }
    List<JsonNode> out = new ArrayList<>();
    Set<JsonNode> have = new HashSet<>();
    boolean changed = v == null || !v.isArray();
    if (!changed) {
      for (JsonNode e : v) {
        if (removed.contains(e)) {
          changed = true;
        } else {
          out.add(e);
          have.add(e);
        }
      }
    }
    for (JsonNode e : d) {
      if (ds.contains(e) && have.add(e)) {
        out.add(e);
        changed = true;
      }
    }
    return changed ? Documents.array(out) : v;
  }

  private static boolean isIgnoredElement(RuleCursor cur, JsonNode e) {
    return cur.element(() -> new FieldPath.Element(e)).isIgnored();
  }

  /**
   * The keys of D's elements (see {@link Nodes#key}), their hashes into {@code hashes} unless it is
   * null; throws naming the path when one lacks its key or repeats one.
   */
  private static Object[] desiredKeys(ListRule rule, JsonNode d, int[] hashes) {
    int n = d.size();
    Object[] keys = new Object[n];
    Map<Object, Integer> seen = n > SHORT_LIST ? new HashMap<>(n * 2) : null;
    for (int i = 0; i < n; i++) {
      Object k = Nodes.key(rule, d.get(i));
      if (k == null) {
        List<String> names = new ArrayList<>();
        rule.keys().forEach(f -> names.add(f.name()));
        throw new Misfit(
            "element " + i + " of the keyed list has no key " + names + (d.get(i).isObject() ? "" : " (it is not an object)"));
      }
      int h = k.hashCode();
      int prev;
      if (seen == null) {
        prev = KeyIndex.scan(keys, hashes, i, k, h);
      } else {
        Integer p = seen.putIfAbsent(k, i);
        prev = p == null ? -1 : p;
      }
      if (prev >= 0) {
        throw new Misfit(
            "elements " + prev + " and " + i + " of the keyed list have the same key " + Nodes.keySegment(rule, Nodes.keyList(k)).text());
      }
      keys[i] = k;
      if (hashes != null) {
        hashes[i] = h;
      }
    }
    return keys;
  }

  /** The keys of the elements of {@code list} (null for a keyless one), repeats allowed. */
  private static KeyIndex keysOf(ListRule rule, JsonNode list) {
    int n = list.size();
    Object[] keys = new Object[n];
    int[] hashes = new int[n];
    for (int i = 0; i < n; i++) {
      Object k = Nodes.key(rule, list.get(i));
      keys[i] = k;
      hashes[i] = k == null ? 0 : k.hashCode();
    }
    return new KeyIndex(keys, hashes, false);
  }

  /**
   * First-occurrence lookup of keys: the hinted position first (lists mostly keep their order),
   * then a linear scan comparing cached hashes before values for short lists, or a hash map built
   * on the first miss for long ones.
   */
  private static final class KeyIndex {
    final Object[] keys;
    private final int[] hashes;
    private final int n;
    private final boolean unique;
    private Map<Object, Integer> map;

    /** {@code unique}: no key repeats, so a hit at the hint is the first occurrence. */
    KeyIndex(Object[] keys, int[] hashes, boolean unique) {
      this.keys = keys;
      this.hashes = hashes;
      this.n = keys.length;
      this.unique = unique;
    }

    /**
     * The first of {@code keys[0..n)} equal to {@code k} (whose hash is {@code h}), or -1; {@code
     * hashes} holds the keys' hashes (0 for a null key), or is null to ask the keys.
     */
    static int scan(Object[] keys, int[] hashes, int n, Object k, int h) {
      for (int i = 0; i < n; i++) {
        Object x = keys[i];
        if (x == k || x != null && (hashes != null ? hashes[i] : x.hashCode()) == h && x.equals(k)) {
          return i;
        }
      }
      return -1;
    }

    int indexOf(Object k, int hint) {
      if (unique && hint >= 0 && hint < n) {
        Object x = keys[hint];
        if (x == k || x.equals(k)) {
          return hint;
        }
      }
      if (n <= SHORT_LIST) {
        return scan(keys, hashes, n, k, k.hashCode());
      }
      if (map == null) {
        map = new HashMap<>(n * 2);
        for (int i = 0; i < n; i++) {
          if (keys[i] != null) {
            map.putIfAbsent(keys[i], i);
          }
        }
      }
      Integer i = map.get(k);
      return i == null ? -1 : i;
    }
  }

  /**
   * A keyed list: V's elements matched to D's by key, each of D's merged with its match (and L's
   * element of its key), then laid out as the rule's ordering says.
   */
  private final class KeyedMerge extends Frame {
    private final RuleCursor cur;
    private final ListRule rule;
    private final JsonNode d;
    private final int dn;
    private final Object[] dKeys;
    private final KeyIndex dIndex;
    private final JsonNode la;
    private KeyIndex lIndex;
    private int lAligned;
    private final JsonNode va;
    private final int vn;
    private final RuleCursor any;
    // Per V element: index into D when matched, -1 when V-only, -2 when removed (owned, gone from D;
    // never an element at an ignored path, which L may still hold from before the rule).
    private final int[] role;
    private final JsonNode[] vMatch;
    // The target's element for each of D's, null when there is none (an element at an ignored
    // path that V lacks): merging never gives null otherwise.
    private final JsonNode[] merged;
    private boolean identical;
    private int i;
    private boolean waiting;

    KeyedMerge(RuleCursor cur, ListRule rule, JsonNode l, JsonNode d, JsonNode v) {
      this.cur = cur;
      this.rule = rule;
      this.d = d;
      dn = d.size();
      int[] dHashes = new int[dn];
      dKeys = desiredKeys(rule, d, dHashes);
      dIndex = new KeyIndex(dKeys, dHashes, true);
      la = l instanceof ArrayNode && l.size() > 0 ? l : null;
      // L's keys: D's when L is D; for another L, indexed only when L's elements stop carrying D's
      // keys in D's order or a V element's key is not in D.
      lIndex = la == d ? dIndex : null;
      lAligned = la == d ? dn : 0;
      va = v instanceof ArrayNode ? v : null;
      vn = va == null ? 0 : va.size();
      any = cur.anyElement();
      role = new int[vn];
      vMatch = new JsonNode[dn];
      // V's elements mostly follow D's order: each is looked for just after the last one matched.
      int hint = 0;
      for (int j = 0; j < vn; j++) {
        JsonNode e = va.get(j);
        // At the hint, what the index would answer (D's keys are distinct), without V's key built.
        boolean atHint = hint < dn && Nodes.hasKey(rule, e, dKeys[hint]);
        Object k = atHint ? null : Nodes.key(rule, e);
        int di = atHint ? hint : k == null ? -1 : dIndex.indexOf(k, hint);
        if (di >= 0 && vMatch[di] == null) {
          vMatch[di] = e;
          role[j] = di;
          hint = di + 1;
        } else if (k != null && di < 0 && la != null && (lIndex != null ? lIndex : (lIndex = keysOf(rule, la))).indexOf(k, -1) >= 0
            && !(any != null ? any : cur.element(() -> Nodes.keySegment(rule, Nodes.keyList(k)))).isIgnored()) {
          role[j] = -2;
        } else {
          role[j] = -1;
        }
      }
      merged = new JsonNode[dn];
      identical = va != null && vn == dn;
    }

    @Override
    FieldPath.Segment segment() {
      return Nodes.keySegment(rule, Nodes.keyList(dKeys[i]));
    }

    @Override
    boolean advance(JsonNode child) {
      if (waiting) {
        waiting = false;
        done(child);
        i++;
      }
      for (; i < dn; i++) {
        Object k = dKeys[i];
        RuleCursor cc = any != null ? any : cur.element(() -> Nodes.keySegment(rule, Nodes.keyList(k)));
        if (cc.isIgnored()) {
          done(vMatch[i]);
          continue;
        }
        int li;
        if (la == null) {
          li = -1;
        } else if (i < lAligned) {
          li = i;
        } else if (lAligned == i && i < la.size() && Nodes.hasKey(rule, la.get(i), k)) {
          // L's elements 0..i carry D's keys 0..i, which are distinct: element i is the first with k.
          li = i;
          lAligned++;
        } else {
          lAligned = -1;
          if (lIndex == null) {
            lIndex = keysOf(rule, la);
          }
          li = lIndex.indexOf(k, -1);
        }
        waiting = true;
        return ask(cc, li < 0 ? null : la.get(li), d.get(i), vMatch[i]);
      }
      return finish(layOut());
    }

    /** D's element {@code i} merged to {@code target}. */
    private void done(JsonNode target) {
      merged[i] = target;
      if (identical) {
        identical = target != null && role[i] == i && target == va.get(i);
      }
    }

    private JsonNode layOut() {
      if (identical) {
        // Every element matched in place and merged to itself: V's order is kept under both orderings.
        return va;
      }
      JsonNode[] out = new JsonNode[vn + dn];
      int size;
      if (rule.ordered()) {
        size = ordered(rule, dIndex, va, vn, role, merged, out);
      } else {
        size = unordered(va, vn, role, vMatch, merged, out);
      }
      if (va != null && size == vn && sameElements(va, out, size)) {
        return va;
      }
      if (size == dn && sameElements(d, out, size)) {
        // D's elements merged to themselves in D's order (a new list, or V's elements all replaced)
        return d;
      }
      return Documents.array(out, size);
    }
  }

  /** Whether the first {@code n} of {@code out} are {@code list}'s elements, by identity, and all of them. */
  private static boolean sameElements(JsonNode list, JsonNode[] out, int n) {
    if (list.size() != n) {
      return false;
    }
    for (int j = 0; j < n; j++) {
      if (out[j] != list.get(j)) {
        return false;
      }
    }
    return true;
  }

  /**
   * The elements of an ordered keyed list into {@code out}, their number returned: D's order,
   * each V-only element behind the desired element it followed in V (or duplicates), those before
   * every desired one in front.
   */
  private static int ordered(ListRule rule, KeyIndex dIndex, JsonNode va, int vn, int[] role, JsonNode[] merged,
      JsonNode[] out) {
    int dn = merged.length;
    // V-only elements by where they go: behindOf[j] is the D index (-1: in front), in V order.
    int[] behindOf = new int[vn];
    int anchor = -1;
    for (int j = 0; j < vn; j++) {
      int r = role[j];
      if (r >= 0) {
        anchor = r;
      } else if (r == -1) {
        Object k = Nodes.key(rule, va.get(j));
        int dup = k == null ? -1 : dIndex.indexOf(k, -1);
        // A duplicate of a desired key stays behind the element it duplicates, so the first
        // occurrence, which is the one that merges, stays first.
        behindOf[j] = dup >= 0 ? dup : anchor;
      }
    }
    // Per bucket (0: in front, i + 1: behind D's element i) a chain of V positions, in V order.
    int[] head = new int[dn + 1];
    int[] tail = new int[dn + 1];
    int[] link = new int[vn];
    Arrays.fill(head, -1);
    for (int j = 0; j < vn; j++) {
      if (role[j] == -1) {
        int b = behindOf[j] + 1;
        link[j] = -1;
        if (head[b] < 0) {
          head[b] = j;
        } else {
          link[tail[b]] = j;
        }
        tail[b] = j;
      }
    }
    int size = 0;
    for (int j = head[0]; j >= 0; j = link[j]) {
      out[size++] = va.get(j);
    }
    for (int i = 0; i < dn; i++) {
      if (merged[i] != null) {
        out[size++] = merged[i];
      }
      for (int j = head[i + 1]; j >= 0; j = link[j]) {
        out[size++] = va.get(j);
      }
    }
    return size;
  }

  /**
   * The elements of an unordered keyed list into {@code out}, their number returned: V's order
   * (removed elements dropped), an element new in D right after its nearest predecessor in D that
   * is there, or before the first desired element when none is, or last when the list holds none.
   */
  private static int unordered(JsonNode va, int vn, int[] role, JsonNode[] vMatch, JsonNode[] merged, JsonNode[] out) {
    int dn = merged.length;
    // dOf[q]: the D index of out[q], -1 for a V-only element.
    int[] dOf = new int[out.length];
    int size = 0;
    for (int j = 0; j < vn; j++) {
      int r = role[j];
      if (r >= 0) {
        if (merged[r] != null) {
          out[size] = merged[r];
          dOf[size++] = r;
        }
      } else if (r == -1) {
        out[size] = va.get(j);
        dOf[size++] = -1;
      }
    }
    for (int i = 0; i < dn; i++) {
      if (vMatch[i] != null || merged[i] == null) {
        continue;
      }
      int pos = -1;
      for (int p = i - 1; p >= 0 && pos < 0; p--) {
        pos = indexOf(dOf, size, p);
      }
      int to;
      if (pos >= 0) {
        to = pos + 1;
      } else {
        int firstD = -1;
        for (int q = 0; q < size && firstD < 0; q++) {
          if (dOf[q] >= 0) {
            firstD = q;
          }
        }
        to = firstD >= 0 ? firstD : size;
      }
      System.arraycopy(out, to, out, to + 1, size - to);
      System.arraycopy(dOf, to, dOf, to + 1, size - to);
      out[to] = merged[i];
      dOf[to] = i;
      size++;
    }
    return size;
  }

  private static int indexOf(int[] a, int n, int x) {
    for (int i = 0; i < n; i++) {
      if (a[i] == x) {
        return i;
      }
    }
    return -1;
  }
}
