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

  private void check(RuleCursor cur, JsonNode d) {
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
            try {
              check(cc, x);
            } catch (Misfit m) {
              throw m.under(new FieldPath.Field(k));
            }
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
        try {
          check(cc, d.get(i));
        } catch (Misfit m) {
          throw m.under(Nodes.keySegment(rule, Nodes.keyList(k)));
        }
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
            try {
              check(cc, x);
            } catch (Misfit m) {
              throw m.under(new FieldPath.Index(i));
            }
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

  /** The target at one position; {@code d} is present, {@code l} and {@code v} may be null (absent). */
  private JsonNode merge(RuleCursor cur, JsonNode l, JsonNode d, JsonNode v) {
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
      return v instanceof ObjectNode ? mergeObject(cur, l, d, v) : buildObject(cur, l, d);
    }
    if (d instanceof ArrayNode) {
      ListRule rule = cur.listRule();
      switch (rule.kind()) {
        case KEYED:
          return mergeKeyed(cur, rule, l, d, v);
        case SET:
          // ABSENT-mode null fields leave object elements as they do everywhere else, so an
          // element compares equal to the one the server keeps
          return absentNulls ? mergeSet(cur, l == null ? null : Nodes.clean(l), Nodes.clean(d), v) : mergeSet(cur, l, d, v);
        default:
          return mergeAtomicList(cur, l, d, v);
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
  private JsonNode mergeObject(RuleCursor cur, JsonNode l, JsonNode d, JsonNode v) {
    JsonNode lo = l instanceof ObjectNode && l.size() > 0 ? l : null;
    // L with D's field names in D's order (L and D the same node, or nothing left Git here):
    // L's field i is D's field i, and no field of L is missing from D.
    boolean sameNames = lo != null && (lo == d || Documents.sameFieldNames(lo, d));
    int vNext = 0;
    int lNext = 0;
    int inL = 0;
    // Changed fields, in D order then L order: the new value (null when the field goes) and V's position (-1: new).
    String[] names = null;
    JsonNode[] values = null;
    int[] vPos = null;
    int n = 0;
    for (int i = 0, dn = d.size(); i < dn; i++) {
      String k = Documents.fieldName(d, i);
      JsonNode dk = Documents.fieldValue(d, i);
      int li = fieldOfL(lo, sameNames, i, k, lNext);
      JsonNode lk = li < 0 ? null : Documents.fieldValue(lo, li);
      if (li >= 0 && !sameNames) {
        lNext = li + 1;
        inL++;
      }
      int vi = v.size() == 0 ? -1 : Nodes.indexOfField(v, k, vNext);
      JsonNode vk = null;
      if (vi >= 0) {
        vk = Documents.fieldValue(v, vi);
        vNext = vi + 1;
      }
      JsonNode tk;
      if (!isPresent(dk)) {
        if (vk == null || cur.field(k).isIgnored()) {
          continue;
        }
        tk = null;
      } else {
        RuleCursor cc = cur.field(k);
        if (cc.isIgnored()) {
          continue;
        }
        try {
          tk = merge(cc, lk, dk, vk);
        } catch (Misfit m) {
          throw m.under(new FieldPath.Field(k));
        }
        if (tk == vk) {
          continue;
        }
      }
      if (names == null) {
        int cap = dn + (lo == null || sameNames ? 0 : lo.size());
        names = new String[cap];
        values = new JsonNode[cap];
        vPos = new int[cap];
      }
      names[n] = k;
      values[n] = tk;
      vPos[n++] = vi;
    }
    if (lo != null && !sameNames && inL < lo.size()) {
      // L has fields D lacks: those still in V and not ignored leave with Git.
      for (int i = 0, ln = lo.size(); i < ln; i++) {
        String k = Documents.fieldName(lo, i);
        int vi;
        if (d.get(k) == null && v.size() > 0 && (vi = Nodes.indexOfField(v, k, 0)) >= 0 && !cur.field(k).isIgnored()) {
          if (names == null) {
            names = new String[d.size() + ln];
            values = new JsonNode[names.length];
            vPos = new int[names.length];
          }
          names[n] = k;
          values[n] = null;
          vPos[n++] = vi;
        }
      }
    }
    if (n == 0) {
      return v;
    }
    return rebuild(v, names, values, vPos, n);
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
   * merged to itself), so a new subtree is not copied node by node.
   */
  private JsonNode buildObject(RuleCursor cur, JsonNode l, JsonNode d) {
    int dn = d.size();
    if (dn == 0) {
      return d;
    }
    JsonNode lo = l instanceof ObjectNode && l.size() > 0 ? l : null;
    boolean sameNames = lo != null && (lo == d || Documents.sameFieldNames(lo, d));
    int lNext = 0;
    // The target's fields once one differs from D's (before that, D's fields 0..i-1 are the target's).
    String[] names = null;
    JsonNode[] values = null;
    int n = 0;
    for (int i = 0; i < dn; i++) {
      String k = Documents.fieldName(d, i);
      JsonNode dk = Documents.fieldValue(d, i);
      JsonNode tk = null;
      RuleCursor cc;
      if (isPresent(dk) && !(cc = cur.field(k)).isIgnored()) {
        int li = fieldOfL(lo, sameNames, i, k, lNext);
        JsonNode lk = li < 0 ? null : Documents.fieldValue(lo, li);
        if (li >= 0) {
          lNext = li + 1;
        }
        try {
          tk = merge(cc, lk, dk, null);
        } catch (Misfit m) {
          throw m.under(new FieldPath.Field(k));
        }
      }
      if (names == null && tk != dk) {
        names = new String[dn];
        values = new JsonNode[dn];
        for (; n < i; n++) {
          names[n] = Documents.fieldName(d, n);
          values[n] = Documents.fieldValue(d, n);
        }
      }
      if (names != null && tk != null) {
        names[n] = k;
        values[n++] = tk;
      }
    }
    return names == null ? d : Documents.object(names, values, n);
  }

  private JsonNode mergeAtomicList(RuleCursor cur, JsonNode l, JsonNode d, JsonNode v) {
    if (v != null && v.isArray() && v.size() == d.size()) {
      // Keep V when every element already is what merging it would give: server-filled fields
      // inside elements must not cause an update on every sync.
      boolean keep = true;
      for (int i = 0; i < d.size() && keep; i++) {
        JsonNode li = l != null && l.isArray() ? l.get(i) : null;
        JsonNode vi = v.get(i);
        int index = i;
        RuleCursor cc = cur.element(() -> new FieldPath.Index(index));
        JsonNode ti;
        try {
          ti = cc.isIgnored() ? vi : merge(cc, li, d.get(i), vi);
        } catch (Misfit m) {
          throw m.under(new FieldPath.Index(i));
        }
        keep = ti == vi || ti.equals(vi);
      }
      if (keep) {
        return v;
      }
    }
    // D replaces V: what the element-by-element merge above did not reach is checked here
    check(cur, d);
    return absentNulls ? Nodes.clean(d) : d;
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

  private JsonNode mergeKeyed(RuleCursor cur, ListRule rule, JsonNode l, JsonNode d, JsonNode v) {
    int dn = d.size();
    int[] dHashes = new int[dn];
    Object[] dKeys = desiredKeys(rule, d, dHashes);
    KeyIndex dIndex = new KeyIndex(dKeys, dHashes, true);
    JsonNode la = l instanceof ArrayNode && l.size() > 0 ? l : null;
    // L's keys: D's when L is D; for another L, indexed only when L's elements stop carrying D's
    // keys in D's order or a V element's key is not in D.
    KeyIndex lIndex = la == d ? dIndex : null;
    int lAligned = la == d ? dn : 0;
    JsonNode va = v instanceof ArrayNode ? v : null;
    int vn = va == null ? 0 : va.size();
    RuleCursor any = cur.anyElement();
    // Per V element: index into D when matched, -1 when V-only, -2 when removed (owned, gone from D;
    // never an element at an ignored path, which L may still hold from before the rule).
    int[] role = new int[vn];
    JsonNode[] vMatch = new JsonNode[dn];
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
    // The target's element for each of D's, null when there is none (an element at an ignored
    // path that V lacks): merging never gives null otherwise.
    JsonNode[] merged = new JsonNode[dn];
    boolean identical = va != null && vn == dn;
    for (int i = 0; i < dn; i++) {
      Object k = dKeys[i];
      RuleCursor cc = any != null ? any : cur.element(() -> Nodes.keySegment(rule, Nodes.keyList(k)));
      if (cc.isIgnored()) {
        merged[i] = vMatch[i];
      } else {
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
        try {
          merged[i] = merge(cc, li < 0 ? null : la.get(li), d.get(i), vMatch[i]);
        } catch (Misfit m) {
          throw m.under(Nodes.keySegment(rule, Nodes.keyList(k)));
        }
      }
      if (identical) {
        identical = merged[i] != null && role[i] == i && merged[i] == va.get(i);
      }
    }
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
