package dev.gitops.core.merge;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldPath;
import dev.gitops.api.MergeException;
import dev.gitops.api.MergeRules.ListRule;
import dev.gitops.api.ResourceKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Computes the target of one three-way merge. Subtrees are returned by identity whenever the
 * target equals the live value there, so that the diff afterwards skips them by reference.
 */
final class Merger {

  private final ResourceKey key;
  private final boolean absentNulls;

  Merger(ResourceKey key, boolean absentNulls) {
    this.key = key;
    this.absentNulls = absentNulls;
  }

  /** Throws when D breaks a keyed-list rule anywhere the rules reach; used on CREATE. */
  void validate(Trail at, RuleCursor cur, JsonNode d) {
    if (cur.isEmpty() || cur.isIgnored()) {
      return;
    }
    if (d.isObject()) {
      if (cur.isAtomicMap()) {
        return;
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = d.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        FieldPath.Segment s = new FieldPath.Field(e.getKey());
        validate(at.then(s), cur.step(s), e.getValue());
      }
    } else if (d.isArray() && cur.listRule().kind() == dev.gitops.api.MergeRules.ListKind.KEYED) {
      ListRule rule = cur.listRule();
      List<List<JsonNode>> keys = desiredKeys(at, rule, d);
      for (int i = 0; i < d.size(); i++) {
        FieldPath.Segment s = Nodes.keySegment(rule, keys.get(i));
        validate(at.then(s), cur.step(s), d.get(i));
      }
    }
  }

  /** The target at one position; {@code d} is present, {@code l} and {@code v} may be null (absent). */
  JsonNode merge(Trail at, RuleCursor cur, JsonNode l, JsonNode d, JsonNode v) {
    if (cur.isEmpty() && v != null && d.equals(v)) {
      // Nothing below is rule-governed, so equal D and V merge to V (ABSENT nulls aside).
      if (!absentNulls) {
        return v;
      }
      return Nodes.clean(d) == d ? v : Nodes.clean(d);
    }
    if (d.isObject()) {
      if (cur.isAtomicMap()) {
        return same(absentNulls ? Nodes.clean(d) : d, v);
      }
      if (cur.isEmpty() && (v == null || !v.isObject())) {
        return absentNulls ? Nodes.clean(d) : d;
      }
      return mergeObject(at, cur, l, d, v);
    }
    if (d.isArray()) {
      ListRule rule = cur.listRule();
      switch (rule.kind()) {
        case KEYED:
          return mergeKeyed(at, cur, rule, l, d, v);
        case SET:
          return mergeSet(l, d, v);
        default:
          return mergeAtomicList(at, cur, l, d, v);
      }
    }
    return same(d, v);
  }

  private static JsonNode same(JsonNode t, JsonNode v) {
    return v != null && t.equals(v) ? v : t;
  }

  private boolean isPresent(JsonNode d) {
    return d != null && !(absentNulls && d.isNull());
  }

  private JsonNode mergeObject(Trail at, RuleCursor cur, JsonNode l, JsonNode d, JsonNode v) {
    JsonNode lo = l != null && l.isObject() ? l : null;
    JsonNode vo = v != null && v.isObject() ? v : null;
    // The output map is only built once a field differs from V; until then V is the answer.
    Map<String, JsonNode> out = vo == null ? newMap(d, null) : null;
    if (vo != null) {
      int i = 0;
      for (Iterator<Map.Entry<String, JsonNode>> it = vo.fields(); it.hasNext(); i++) {
        Map.Entry<String, JsonNode> e = it.next();
        String k = e.getKey();
        JsonNode vk = e.getValue();
        FieldPath.Segment seg = cur.isEmpty() || !cur.needsSegment() ? null : new FieldPath.Field(k);
        RuleCursor cc = cur.isEmpty() ? cur : cur.step(seg);
        JsonNode tk;
        if (cc.isIgnored()) {
          tk = vk;
        } else {
          JsonNode dk = d.get(k);
          if (isPresent(dk)) {
            tk = merge(cc.isEmpty() ? null : at.then(seg == null ? new FieldPath.Field(k) : seg), cc,
                lo == null ? null : lo.get(k), dk, vk);
          } else if (dk != null || (lo != null && lo.has(k))) {
            tk = null;
          } else {
            tk = vk;
          }
        }
        if (tk != vk && out == null) {
          out = newMap(d, vo);
          int j = 0;
          for (Iterator<Map.Entry<String, JsonNode>> it2 = vo.fields(); j < i; j++) {
            Map.Entry<String, JsonNode> e2 = it2.next();
            out.put(e2.getKey(), e2.getValue());
          }
        }
        if (out != null && tk != null) {
          out.put(k, tk);
        }
      }
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = d.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String k = e.getKey();
      if (vo != null && vo.has(k)) {
        continue;
      }
      JsonNode dk = e.getValue();
      if (!isPresent(dk)) {
        continue;
      }
      FieldPath.Segment seg = new FieldPath.Field(k);
      RuleCursor cc = cur.isEmpty() ? cur : cur.step(seg);
      if (cc.isIgnored()) {
        continue;
      }
      JsonNode tk = merge(cc.isEmpty() ? null : at.then(seg), cc, lo == null ? null : lo.get(k), dk, null);
      if (out == null) {
        out = newMap(d, vo);
        out.putAll(mapOf(vo));
      }
      out.put(k, tk);
    }
    return out != null ? Documents.object(out) : vo;
  }

  private static Map<String, JsonNode> newMap(JsonNode d, JsonNode vo) {
    return new LinkedHashMap<>(Math.max(8, (d.size() + (vo == null ? 0 : vo.size())) * 4 / 3 + 1));
  }

  private static Map<String, JsonNode> mapOf(JsonNode o) {
    Map<String, JsonNode> m = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      m.put(e.getKey(), e.getValue());
    }
    return m;
  }

  private JsonNode mergeAtomicList(Trail at, RuleCursor cur, JsonNode l, JsonNode d, JsonNode v) {
    if (v != null && v.isArray() && v.size() == d.size()) {
      // Keep V when every element already is what merging it would give: server-filled fields
      // inside elements must not cause an update on every sync.
      boolean keep = true;
      for (int i = 0; i < d.size() && keep; i++) {
        JsonNode li = l != null && l.isArray() ? l.get(i) : null;
        JsonNode vi = v.get(i);
        FieldPath.Segment seg = cur.isEmpty() ? null : new FieldPath.Index(i);
        RuleCursor cc = seg == null ? cur : cur.step(seg);
        JsonNode ti = cc.isIgnored() ? vi : merge(cc.isEmpty() ? null : at.then(seg), cc, li, d.get(i), vi);
        keep = ti == vi || ti.equals(vi);
      }
      if (keep) {
        return v;
      }
    }
    return absentNulls ? Nodes.clean(d) : d;
  }

  private static JsonNode mergeSet(JsonNode l, JsonNode d, JsonNode v) {
    Set<JsonNode> ds = new HashSet<>();
    d.forEach(ds::add);
    Set<JsonNode> removed = new HashSet<>();
    if (l != null && l.isArray()) {
      for (JsonNode e : l) {
        if (!ds.contains(e)) {
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
      if (have.add(e)) {
        out.add(e);
        changed = true;
      }
    }
    return changed ? Documents.array(out) : v;
  }

  /** The keys of D's elements; throws naming the path when one lacks its key or repeats one. */
  private List<List<JsonNode>> desiredKeys(Trail at, ListRule rule, JsonNode d) {
    return desiredKeys(at, rule, d, new HashMap<>(d.size() * 2));
  }

  /** As {@link #desiredKeys(Trail, ListRule, JsonNode)}, filling {@code seen} with key to index. */
  private List<List<JsonNode>> desiredKeys(Trail at, ListRule rule, JsonNode d, Map<List<JsonNode>, Integer> seen) {
    List<List<JsonNode>> keys = new ArrayList<>(d.size());
    for (int i = 0; i < d.size(); i++) {
      List<JsonNode> k = Nodes.keyOf(rule, d.get(i));
      if (k == null) {
        List<String> names = new ArrayList<>();
        rule.keys().forEach(f -> names.add(f.name()));
        throw new MergeException(key, at.toPath(),
            "element " + i + " of the keyed list has no key " + names + (d.get(i).isObject() ? "" : " (it is not an object)"));
      }
      Integer prev = seen.putIfAbsent(k, i);
      if (prev != null) {
        throw new MergeException(key, at.toPath(),
            "elements " + prev + " and " + i + " of the keyed list have the same key " + Nodes.keySegment(rule, k).text());
      }
      keys.add(k);
    }
    return keys;
  }

  private JsonNode mergeKeyed(Trail at, RuleCursor cur, ListRule rule, JsonNode l, JsonNode d, JsonNode v) {
    Map<List<JsonNode>, Integer> dIndex = new HashMap<>(d.size() * 2);
    List<List<JsonNode>> dKeys = desiredKeys(at, rule, d, dIndex);
    Map<List<JsonNode>, JsonNode> lByKey = new HashMap<>();
    if (l != null && l.isArray()) {
      for (JsonNode e : l) {
        List<JsonNode> k = Nodes.keyOf(rule, e);
        if (k != null) {
          lByKey.putIfAbsent(k, e);
        }
      }
    }
    JsonNode va = v != null && v.isArray() ? v : null;
    int vn = va == null ? 0 : va.size();
    // Per V element: index into D when matched, -1 when V-only, -2 when removed (owned, gone from D).
    int[] role = new int[vn];
    JsonNode[] vMatch = new JsonNode[d.size()];
    for (int j = 0; j < vn; j++) {
      JsonNode e = va.get(j);
      List<JsonNode> k = Nodes.keyOf(rule, e);
      Integer di = k == null ? null : dIndex.get(k);
      if (di != null && vMatch[di] == null) {
        vMatch[di] = e;
        role[j] = di;
      } else if (k != null && di == null && lByKey.containsKey(k)) {
        role[j] = -2;
      } else {
        role[j] = -1;
      }
    }
    JsonNode[] merged = new JsonNode[d.size()];
    boolean[] skip = new boolean[d.size()];
    for (int i = 0; i < d.size(); i++) {
      List<JsonNode> k = dKeys.get(i);
      RuleCursor cc = cur.step(cur.needsSegment() ? Nodes.keySegment(rule, k) : null);
      if (cc.isIgnored()) {
        merged[i] = vMatch[i];
        skip[i] = vMatch[i] == null;
      } else {
        merged[i] = merge(at.thenKey(rule, k), cc, lByKey.get(k), d.get(i), vMatch[i]);
      }
    }
    List<JsonNode> out = new ArrayList<>(vn + d.size());
    if (rule.ordered()) {
      List<JsonNode> front = new ArrayList<>();
      List<List<JsonNode>> after = new ArrayList<>(d.size());
      for (int i = 0; i < d.size(); i++) {
        after.add(null);
      }
      int anchor = -1;
      for (int j = 0; j < vn; j++) {
        int r = role[j];
        if (r >= 0) {
          anchor = r;
        } else if (r == -1) {
          JsonNode e = va.get(j);
          List<JsonNode> k = Nodes.keyOf(rule, e);
          Integer dup = k == null ? null : dIndex.get(k);
          // A duplicate of a desired key stays behind the element it duplicates, so the first
          // occurrence, which is the one that merges, stays first.
          int to = dup != null ? dup : anchor;
          if (to < 0) {
            front.add(e);
          } else {
            if (after.get(to) == null) {
              after.set(to, new ArrayList<>());
            }
            after.get(to).add(e);
          }
        }
      }
      out.addAll(front);
      for (int i = 0; i < d.size(); i++) {
        if (!skip[i]) {
          out.add(merged[i]);
        }
        if (after.get(i) != null) {
          out.addAll(after.get(i));
        }
      }
    } else {
      // V's order is kept; an element new in D goes right after its predecessor in D.
      int[] posOfD = new int[d.size()];
      java.util.Arrays.fill(posOfD, -1);
      List<Integer> dOf = new ArrayList<>(vn + d.size());
      for (int j = 0; j < vn; j++) {
        int r = role[j];
        if (r >= 0) {
          if (!skip[r]) {
            out.add(merged[r]);
            dOf.add(r);
          }
        } else if (r == -1) {
          out.add(va.get(j));
          dOf.add(-1);
        }
      }
      boolean anyNew = false;
      for (int i = 0; i < d.size(); i++) {
        if (vMatch[i] == null && !skip[i]) {
          anyNew = true;
          break;
        }
      }
      if (anyNew) {
        for (int i = 0; i < d.size(); i++) {
          if (vMatch[i] != null || skip[i]) {
            continue;
          }
          int pos = -1;
          for (int p = i - 1; p >= 0 && pos < 0; p--) {
            pos = dOf.indexOf(p);
          }
          int at2;
          if (pos >= 0) {
            at2 = pos + 1;
          } else {
            int firstD = -1;
            for (int q = 0; q < dOf.size() && firstD < 0; q++) {
              if (dOf.get(q) >= 0) {
                firstD = q;
              }
            }
            at2 = firstD >= 0 ? firstD : out.size();
          }
          out.add(at2, merged[i]);
          dOf.add(at2, i);
        }
      }
    }
    if (va != null && out.size() == vn) {
      boolean same = true;
      for (int j = 0; j < vn && same; j++) {
        same = out.get(j) == va.get(j);
      }
      if (same) {
        return va;
      }
    }
    return Documents.array(out);
  }
}
