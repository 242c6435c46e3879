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
import dev.gitops.core.internal.plan.LastApplied;
import dev.gitops.core.internal.redact.SensitiveValues;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The properties DESIGN.md states for the merge, over random documents and random rule sets. */
class ThreeWayMergePropertiesTest {

  @Provide
  Arbitrary<Case> cases() {
    return Arbitraries.longs().map(MergeCases::generate);
  }

  private static MergeResult merge(Case c) {
    return new ThreeWayMerge(c.rules()).merge(MergeCases.KEY, c.l(), c.d(), c.v());
  }

  private static JsonNode get(Case c, JsonNode doc, FieldPath p) {
    return Patches.get(doc, p, c.rules(), MergeCases.KEY);
  }

  private static boolean absentMode(Case c) {
    return c.rules().nullMode() == MergeRules.NullMode.ABSENT;
  }

  /** Present, and not an ABSENT-mode null field. */
  private static boolean present(Case c, JsonNode x, FieldPath p) {
    return x != null && !(absentMode(c) && x.isNull() && p.last() instanceof FieldPath.Field);
  }

  private static boolean hasIndex(FieldPath p) {
    return p.segments().stream().anyMatch(s -> s instanceof FieldPath.Index);
  }

  @Property
  void patchTurnsLiveIntoTarget(@ForAll("cases") Case c) {
    MergeResult r = merge(c);
    assertThat(Patches.apply(c.v(), r.patch())).isEqualTo(r.target());
  }

  @Property
  void desiredLeavesHoldDesiredValues(@ForAll("cases") Case c) {
    MergeResult r = merge(c);
    for (FieldPath p : Patches.leaves(c.d(), c.rules(), MergeCases.KEY)) {
      JsonNode dv = get(c, c.d(), p);
      if (dv == null || dv.isNull()) {
        continue;
      }
      JsonNode tv = get(c, r.target(), p);
      assertThat(tv).as("T at %s", p).isNotNull();
      ListRule rule = c.rules().listRule(p);
      if (dv.isObject() && dv.size() == 0 && !c.rules().isAtomicMap(p)) {
        assertThat(tv.isObject()).as("T at %s", p).isTrue();
      } else if (dv.isArray() && dv.size() == 0 && rule.kind() != ListKind.ATOMIC) {
        assertThat(tv.isArray()).as("T at %s", p).isTrue();
      } else if (dv.isArray() && rule.kind() == ListKind.ATOMIC) {
        assertThat(contains(c, dv, tv)).as("T at %s is %s, D %s", p, tv, dv).isTrue();
      } else {
        assertThat(tv).as("T at %s", p).isEqualTo(absentMode(c) ? Nodes.clean(dv) : dv);
      }
    }
  }

  /** Whether {@code t} holds every value {@code d} sets (an atomic list kept because only server fields differ). */
  private static boolean contains(Case c, JsonNode d, JsonNode t) {
    if (d.isObject()) {
      if (!t.isObject()) {
        return false;
      }
      for (var it = d.fields(); it.hasNext(); ) {
        var e = it.next();
        if (absentMode(c) && e.getValue().isNull()) {
          if (t.has(e.getKey())) {
            return false;
          }
        } else if (!t.has(e.getKey()) || !contains(c, e.getValue(), t.get(e.getKey()))) {
          return false;
        }
      }
      return true;
    }
    if (d.isArray()) {
      if (!t.isArray() || t.size() != d.size()) {
        return false;
      }
      for (int i = 0; i < d.size(); i++) {
        if (!contains(c, d.get(i), t.get(i))) {
          return false;
        }
      }
      return true;
    }
    return d.equals(t);
  }

  /**
   * Every live-only path of V keeps V's value, ignored paths included (their leaves are walked with
   * the ignore rules left out, so elements of keyed and set lists at ignored paths are checked too).
   */
  @Property
  void liveOnlyPathsSurvive(@ForAll("cases") Case c) {
    if (c.v() == null) {
      return;
    }
    MergeResult r = merge(c);
    for (FieldPath p : Patches.leaves(c.v(), withoutIgnores(c.rules()), MergeCases.KEY)) {
      if (hasIndex(p) || !liveOnly(c, p)) {
        continue;
      }
      assertThat(get(c, r.target(), p)).as("T at live-only %s", p).isEqualTo(get(c, c.v(), p));
    }
  }

  /**
   * No prefix of {@code p} is in D or L except containers that D and V both have and that merge
   * member by member (no atomic or type-changed ancestor); an ignored ancestor keeps V anyway.
   */
  private static boolean liveOnly(Case c, FieldPath p) {
    List<FieldPath.Segment> segs = p.segments();
    FieldPath q = FieldPath.root();
    for (int i = 0; i <= segs.size(); i++) {
      if (i > 0 && ignored(c, q)) {
        return true;
      }
      JsonNode dq = get(c, c.d(), q);
      JsonNode lq = c.l() == null ? null : get(c, c.l(), q);
      if (dq == null && lq == null) {
        return true;
      }
      if (i == segs.size() || !present(c, dq, q)) {
        return false;
      }
      JsonNode vq = get(c, c.v(), q);
      boolean objects = dq.isObject() && vq != null && vq.isObject() && !c.rules().isAtomicMap(q);
      boolean lists = dq.isArray() && vq != null && vq.isArray() && c.rules().listRule(q).kind() != ListKind.ATOMIC;
      if (!objects && !lists) {
        return false;
      }
      q = q.append(segs.get(i));
    }
    return false;
  }

  /**
   * At an ignored path T takes V's value: where V lacks a path D sets under an ignored prefix (and
   * the ancestors merge member by member), T lacks it too; on CREATE T takes D's value.
   */
  @Property
  void ignoredPathsTakeLiveValuesOrDesiredOnCreate(@ForAll("cases") Case c) {
    MergeResult r = merge(c);
    for (FieldPath p : Patches.leaves(c.d(), withoutIgnores(c.rules()), MergeCases.KEY)) {
      if (!underIgnored(c, p)) {
        continue;
      }
      JsonNode dv = get(c, c.d(), p);
      JsonNode tv = get(c, r.target(), p);
      if (c.v() == null) {
        if (present(c, dv, p)) {
          assertThat(tv).as("T at ignored %s on create", p).isEqualTo(absentMode(c) ? Nodes.clean(dv) : dv);
        }
      } else if (liveOnly(c, p) && get(c, c.v(), p) == null) {
        assertThat(tv).as("T at ignored %s that V lacks", p).isNull();
      }
    }
  }

  /** Ignored paths never enter last-applied nor ownership, at any depth, for any list kind. */
  @Property
  void ignoredPathsNeverEnterLastAppliedOrOwnership(@ForAll("cases") Case c) {
    MergeRules all = withoutIgnores(c.rules());
    for (JsonNode doc : java.util.Arrays.asList(c.d(), c.l())) {
      if (doc == null) {
        continue;
      }
      JsonNode stored = LastApplied.strip(MergeCases.KEY, doc, c.rules());
      for (FieldPath p : Patches.leaves(stored, all, MergeCases.KEY)) {
        assertThat(underIgnored(c, p)).as("last-applied holds ignored %s: %s", p, stored).isFalse();
      }
    }
    for (FieldPath p : merge(c).owned()) {
      assertThat(underIgnored(c, p)).as("owned ignored %s", p).isFalse();
    }
  }

  /** What last-applied holds at ignored paths changes nothing: the stored form merges the same. */
  @Property
  void ignoredPartsOfLastAppliedChangeNothing(@ForAll("cases") Case c) {
    if (c.l() == null) {
      return;
    }
    MergeResult raw = merge(c);
    JsonNode stored = LastApplied.strip(MergeCases.KEY, c.l(), c.rules());
    MergeResult r = new ThreeWayMerge(c.rules()).merge(MergeCases.KEY, stored, c.d(), c.v());
    assertThat(r.target()).as("target with stored L %s", stored).isEqualTo(raw.target());
    // Stripping may empty a container, which then is a leaf of its own; it owns no value.
    assertThat(r.owned()).containsAll(raw.owned());
    for (FieldPath p : r.owned()) {
      if (!raw.owned().contains(p)) {
        JsonNode x = get(c, stored, p);
        boolean emptied = x.size() == 0 && (x.isObject() ? !c.rules().isAtomicMap(p)
            : x.isArray() && c.rules().listRule(p).kind() != ListKind.ATOMIC);
        assertThat(emptied).as("owned only with stored L: %s = %s", p, x).isTrue();
      }
    }
  }

  /** Whether {@code p} or one of its ancestors (not the root) is ignored. */
  private static boolean underIgnored(Case c, FieldPath p) {
    FieldPath q = FieldPath.root();
    for (FieldPath.Segment s : p.segments()) {
      q = q.append(s);
      if (ignored(c, q)) {
        return true;
      }
    }
    return false;
  }

  /** Whether an ignore rule applies at {@code q}: never to a key field of a keyed element, which names the element. */
  private static boolean ignored(Case c, FieldPath q) {
    if (!c.rules().isIgnored(MergeCases.KEY, q)) {
      return false;
    }
    if (q.size() >= 2 && q.last() instanceof FieldPath.Field f
        && (q.parent().last() instanceof FieldPath.Key || q.parent().last() instanceof FieldPath.Hashed)) {
      ListRule rule = c.rules().listRule(q.parent().parent());
      return rule.kind() != ListKind.KEYED || rule.keys().stream().noneMatch(k -> k.name().equals(f.name()));
    }
    return true;
  }

  /** The same rules without their ignore rules, to walk the leaves ignore rules would hide. */
  private static MergeRules withoutIgnores(MergeRules rules) {
    return copy(rules, true, false);
  }

  /** {@code rules} again, with or without its sensitive and its ignore rules. */
  static MergeRules copy(MergeRules rules, boolean sensitive, boolean ignores) {
    MergeRules.Builder b = MergeRules.builder().nullMode(rules.nullMode());
    for (ListRule l : rules.listRules()) {
      KeyField[] keys = l.keys().toArray(KeyField[]::new);
      switch (l.kind()) {
        case KEYED -> {
          if (l.ordered()) {
            b.orderedKeyedList(l.pattern().toString(), keys);
          } else {
            b.keyedList(l.pattern().toString(), keys);
          }
        }
        case SET -> b.setList(l.pattern().toString());
        default -> b.atomicList(l.pattern().toString());
      }
    }
    rules.atomicMaps().forEach(m -> b.atomicMap(m.toString()));
    if (sensitive) {
      rules.sensitiveRules().forEach(s -> b.sensitive(s.pattern().toString(), s.selector()));
    }
    if (ignores) {
      rules.ignoreRules().forEach(i -> b.ignore(i.pattern().toString(), i.selector()));
    }
    return b.build();
  }

  /** Paths never carry values: no reported path names an element at or below a sensitive path by its key or value. */
  @Property
  void pathsNeverNameSecretElementsByValue(@ForAll("cases") Case c) {
    MergeResult r = merge(c);
    List<FieldPath> reported = new ArrayList<>(r.owned());
    r.fields().forEach(f -> reported.add(f.path()));
    reported.addAll(r.drift());
    reported.addAll(r.conflicts());
    reported.addAll(r.takeovers());
    reported.addAll(ThreeWayMerge.sensitivePaths(MergeCases.KEY, c.d(), c.rules(), java.util.Set.of(),
        SensitiveValues.processKey()));
    for (FieldPath p : reported) {
      boolean secret = false;
      FieldPath q = FieldPath.root();
      for (FieldPath.Segment s : p.segments()) {
        q = q.append(s);
        boolean here = c.rules().isSensitive(MergeCases.KEY, q);
        if (s instanceof FieldPath.Element || s instanceof FieldPath.Key) {
          boolean keySecret = s instanceof FieldPath.Key k
              && k.fields().keySet().stream().anyMatch(f -> c.rules().isSensitive(MergeCases.KEY, FieldPath.root().append(s).field(f))
                  || c.rules().isSensitive(MergeCases.KEY, qParentField(p, s, f)));
          assertThat(secret || here || keySecret).as("%s names a secret element by value", p).isFalse();
        }
        secret |= here;
      }
    }
  }

  /** The path of key field {@code f} of the element {@code s} names in {@code p}. */
  private static FieldPath qParentField(FieldPath p, FieldPath.Segment s, String f) {
    FieldPath q = FieldPath.root();
    for (FieldPath.Segment x : p.segments()) {
      q = q.append(x);
      if (x == s) {
        break;
      }
    }
    return q.field(f);
  }

  @Property
  void ownedPathsGoneFromGitAreGone(@ForAll("cases") Case c) {
    if (c.l() == null) {
      return;
    }
    MergeResult r = merge(c);
    for (FieldPath p : r.owned()) {
      if (hasIndex(p) || present(c, get(c, c.d(), p), p)) {
        continue;
      }
      JsonNode tv = get(c, r.target(), p);
      assertThat(present(c, tv, p) && !(tv.isNull() && absentMode(c))).as("T at owned %s = %s", p, tv).isFalse();
    }
  }

  @Property
  void mergingAgainWithDesiredAsLastAppliedIsANoop(@ForAll("cases") Case c) {
    MergeResult r = merge(c);
    MergeResult again = new ThreeWayMerge(c.rules()).merge(MergeCases.KEY, c.d(), c.d(), r.target());
    assertThat(again.patch()).as("second patch, T=%s", r.target()).isEmpty();
    assertThat(again.fields()).isEmpty();
  }

  /**
   * L built apart (an equal copy of D, or of L) merges exactly as the instance itself: the merge
   * reads L by position where L has D's field names and keys in D's order, and must not depend on
   * L and D being one node.
   */
  @Property
  void lastAppliedBuiltApartMergesLikeTheSameInstance(@ForAll("cases") Case c) {
    ThreeWayMerge m = new ThreeWayMerge(c.rules(), new byte[32]);
    for (JsonNode l : java.util.Arrays.asList(c.d(), c.l())) {
      if (l == null) {
        continue;
      }
      JsonNode copy = Documents.freeze(Documents.mutableCopy(l));
      MergeResult same = m.merge(MergeCases.KEY, l, c.d(), c.v());
      MergeResult apart = m.merge(MergeCases.KEY, copy, c.d(), c.v());
      assertThat(apart.target().toString()).isEqualTo(same.target().toString());
      assertThat(apart.patch()).isEqualTo(same.patch());
      assertThat(apart.fields()).isEqualTo(same.fields());
      assertThat(apart.drift()).isEqualTo(same.drift());
      assertThat(apart.conflicts()).isEqualTo(same.conflicts());
      assertThat(apart.takeovers()).isEqualTo(same.takeovers());
      assertThat(apart.owned()).isEqualTo(same.owned());
    }
  }

  @Property
  void reorderingKeyedListsGivesTheSameTargetUpToOrder(@ForAll("cases") Case c) {
    Random rnd = new Random(c.seed() ^ 0x5DEECE66DL);
    JsonNode d2 = reorder(c, c.d(), FieldPath.root(), rnd, true);
    JsonNode l2 = c.l() == null ? null : reorder(c, c.l(), FieldPath.root(), rnd, false);
    JsonNode v2 = c.v() == null ? null : reorder(c, c.v(), FieldPath.root(), rnd, false);
    MergeResult r1 = merge(c);
    MergeResult r2 = new ThreeWayMerge(c.rules()).merge(MergeCases.KEY, l2, d2, v2);
    assertThat(sortKeyed(c, r2.target(), FieldPath.root())).isEqualTo(sortKeyed(c, r1.target(), FieldPath.root()));
  }

  /**
   * Permutes keyed lists (D's ordered ones stay: D's order wins there; V's ordered ones stay too,
   * since they place V-only elements), keeping elements that share a key, or have none, in order.
   */
  private static JsonNode reorder(Case c, JsonNode n, FieldPath at, Random rnd, boolean desired) {
    if (n.isObject()) {
      Map<String, JsonNode> m = new LinkedHashMap<>();
      n.fields().forEachRemaining(e -> m.put(e.getKey(), reorder(c, e.getValue(), at.field(e.getKey()), rnd, desired)));
      return Documents.object(m);
    }
    if (!n.isArray()) {
      return n;
    }
    ListRule rule = c.rules().listRule(at);
    if (rule.kind() != ListKind.KEYED) {
      return n;
    }
    List<JsonNode> els = new ArrayList<>();
    List<Object> cls = new ArrayList<>();
    java.util.Set<List<JsonNode>> seen = new java.util.HashSet<>();
    for (int i = 0; i < n.size(); i++) {
      JsonNode e = n.get(i);
      FieldPath.Segment s = KeyedPaths.elementSegment(rule, e, i, seen);
      List<JsonNode> k = Nodes.keyOf(rule, e);
      els.add(reorder(c, e, at.append(s), rnd, desired));
      cls.add(k == null ? "keyless" : k);
    }
    if (rule.ordered() && (desired || c.v() != null)) {
      return Documents.array(els);
    }
    List<Integer> slots = new ArrayList<>();
    for (int i = 0; i < els.size(); i++) {
      slots.add(i);
    }
    Collections.shuffle(slots, rnd);
    Map<Object, List<JsonNode>> byClass = new HashMap<>();
    for (int i = 0; i < els.size(); i++) {
      byClass.computeIfAbsent(cls.get(i), x -> new ArrayList<>()).add(els.get(i));
    }
    Map<Object, Integer> taken = new HashMap<>();
    List<JsonNode> out = new ArrayList<>();
    for (int slot : slots) {
      Object k = cls.get(slot);
      int t = taken.merge(k, 1, Integer::sum) - 1;
      out.add(byClass.get(k).get(t));
    }
    return Documents.array(out);
  }

  /** Keyed lists sorted by canonical JSON, so targets compare without their order. */
  private static JsonNode sortKeyed(Case c, JsonNode n, FieldPath at) {
    if (n.isObject()) {
      Map<String, JsonNode> m = new LinkedHashMap<>();
      n.fields().forEachRemaining(e -> m.put(e.getKey(), sortKeyed(c, e.getValue(), at.field(e.getKey()))));
      return Documents.object(m);
    }
    if (!n.isArray()) {
      return n;
    }
    ListRule rule = c.rules().listRule(at);
    if (rule.kind() != ListKind.KEYED) {
      return n;
    }
    List<JsonNode> out = new ArrayList<>();
    java.util.Set<List<JsonNode>> seen = new java.util.HashSet<>();
    for (int i = 0; i < n.size(); i++) {
      out.add(sortKeyed(c, n.get(i), at.append(KeyedPaths.elementSegment(rule, n.get(i), i, seen))));
    }
    out.sort(Comparator.comparing(Documents::canonicalJson));
    return Documents.array(out);
  }
}
