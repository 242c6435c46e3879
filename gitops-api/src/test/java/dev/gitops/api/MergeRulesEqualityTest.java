package dev.gitops.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.MergeRules.KeyField;
import dev.gitops.api.MergeRules.NullMode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.junit.jupiter.api.Test;

/**
 * {@link MergeRules} is a value: rule sets holding the same rules are equal and hash equal
 * whatever order they were added in, and equal rule sets answer every lookup alike. Overlap of
 * patterns is decided here by brute force over short paths, independently of the class's own
 * search.
 */
class MergeRulesEqualityTest {

  private static final List<String> PATTERNS = List.of("/a", "/a/*", "/a/b", "/b/**", "/c", "/c/d", "/**/x", "/e/*/f");
  private static final List<KeySelector> SELECTORS = List.of(KeySelector.ANY, KeySelector.type("p", "t1"),
      KeySelector.of("p", "t2", "*", "n*"));
  private static final List<ResourceKey> KEYS = List.of(ResourceKey.of("p", "t1", "n1"),
      ResourceKey.of("p", "t2", "s", "n2"), ResourceKey.of("q", "t1", "m"));
  private static final List<FieldPath> PATHS = paths(3);
  /** Which pool patterns some path (of up to four segments) matches both of. */
  private static final Map<String, Boolean> OVERLAP = overlaps();

  enum Kind { ATOMIC_LIST, KEYED_LIST, ORDERED_KEYED_LIST, SET_LIST, ATOMIC_MAP, IGNORE, SENSITIVE }

  /** One builder call. */
  record Op(Kind kind, String pattern, int variant) {
    boolean isList() {
      return kind == Kind.ATOMIC_LIST || kind == Kind.KEYED_LIST || kind == Kind.ORDERED_KEYED_LIST
          || kind == Kind.SET_LIST;
    }

    void addTo(MergeRules.Builder b) {
      KeyField key = variant == 0 ? KeyField.of("name")
          : KeyField.withDefault("id", Documents.nodes().numberNode(variant));
      switch (kind) {
        case ATOMIC_LIST -> b.atomicList(pattern);
        case KEYED_LIST -> b.keyedList(pattern, key);
        case ORDERED_KEYED_LIST -> b.orderedKeyedList(pattern, key);
        case SET_LIST -> b.setList(pattern);
        case ATOMIC_MAP -> b.atomicMap(pattern);
        case IGNORE -> b.ignore(pattern, SELECTORS.get(variant % SELECTORS.size()));
        case SENSITIVE -> b.sensitive(pattern, SELECTORS.get(variant % SELECTORS.size()));
        default -> throw new IllegalStateException(kind.name());
      }
    }
  }

  @Provide
  Arbitrary<List<Op>> ops() {
    Arbitrary<Op> op = Combinators.combine(Arbitraries.of(Kind.class), Arbitraries.of(PATTERNS),
        Arbitraries.integers().between(0, 2)).as(Op::new);
    return op.list().ofMaxSize(10);
  }

  private static MergeRules build(List<Op> ops, NullMode mode) {
    MergeRules.Builder b = MergeRules.builder();
    ops.forEach(o -> o.addTo(b));
    return b.nullMode(mode).build();
  }

  @Property
  void equalRuleSetsBuiltInDifferentOrdersAreEqualAndHashEqual(@ForAll("ops") List<Op> ops, @ForAll NullMode mode,
      @ForAll Random random) {
    List<Op> reordered = reorderKeepingCompetingListRules(ops, random);
    Statistics.collect(reordered.equals(ops) ? "same order" : "reordered");
    MergeRules a = build(ops, mode);
    MergeRules b = build(reordered, mode);
    assertThat(b).isEqualTo(a);
    assertThat(b.hashCode()).isEqualTo(a.hashCode());
    assertThat(b.fingerprint()).isEqualTo(a.fingerprint());
  }

  @Property
  void equalRuleSetsAnswerEveryLookupAlike(@ForAll("ops") List<Op> ops, @ForAll NullMode mode, @ForAll Random random) {
    List<Op> shuffled = new ArrayList<>(ops);
    Collections.shuffle(shuffled, random);
    MergeRules a = build(ops, mode);
    MergeRules b = build(shuffled, mode);
    Statistics.collect(a.equals(b) ? "equal" : "not equal");
    if (!a.equals(b)) {
      return;
    }
    assertThat(b.hashCode()).isEqualTo(a.hashCode());
    assertThat(b.nullMode()).isEqualTo(a.nullMode());
    for (FieldPath p : PATHS) {
      assertThat(b.listRule(p)).as("list rule at %s", p).isEqualTo(a.listRule(p));
      assertThat(b.isAtomicMap(p)).as("atomic map at %s", p).isEqualTo(a.isAtomicMap(p));
      for (ResourceKey k : KEYS) {
        assertThat(b.isIgnored(k, p)).as("ignored %s at %s", k, p).isEqualTo(a.isIgnored(k, p));
        assertThat(b.isSensitive(k, p)).as("sensitive %s at %s", k, p).isEqualTo(a.isSensitive(k, p));
      }
    }
  }

  @Test
  void competingListRulesInAnotherOrderAreNotEqualBecauseTheyAnswerDifferently() {
    MergeRules keyedThenSet = MergeRules.builder().keyedList("/a/*", KeyField.of("name")).setList("/a/b").build();
    MergeRules setThenKeyed = MergeRules.builder().setList("/a/b").keyedList("/a/*", KeyField.of("name")).build();
    assertThat(keyedThenSet.listRule(FieldPath.of("a", "b")).kind()).isEqualTo(MergeRules.ListKind.SET);
    assertThat(setThenKeyed.listRule(FieldPath.of("a", "b")).kind()).isEqualTo(MergeRules.ListKind.KEYED);
    assertThat(keyedThenSet).isNotEqualTo(setThenKeyed);
    assertThat(keyedThenSet.fingerprint()).isNotEqualTo(setThenKeyed.fingerprint());
  }

  @Test
  void rulesThatDifferInAnyPartAreNotEqual() {
    MergeRules base = MergeRules.builder().keyedList("/items", KeyField.of("name")).ignore("/status").build();
    assertThat(base).isEqualTo(MergeRules.builder().keyedList("/items", KeyField.of("name")).ignore("/status").build());
    assertThat(base).isNotEqualTo(MergeRules.builder().keyedList("/items", KeyField.of("id")).ignore("/status").build());
    assertThat(base).isNotEqualTo(MergeRules.builder().keyedList("/items", KeyField.withDefault("name",
        Documents.nodes().textNode("x"))).ignore("/status").build());
    assertThat(base).isNotEqualTo(MergeRules.builder().orderedKeyedList("/items", KeyField.of("name")).ignore("/status")
        .build());
    assertThat(base).isNotEqualTo(base.toBuilder().nullMode(NullMode.ABSENT).build());
    assertThat(base).isNotEqualTo(base.toBuilder().ignore("/status", KeySelector.type("p", "t")).build());
    assertThat(base).isNotEqualTo(base.toBuilder().sensitive("/status", KeySelector.ANY).build());
    assertThat(base).isNotEqualTo(base.toBuilder().atomicMap("/data").build());
    assertThat(base).isNotEqualTo(null).isNotEqualTo("MergeRules");
  }

  @Test
  void repeatedRulesAndShadowedListRulesDoNotCount() {
    MergeRules once = MergeRules.builder().ignore("/status").atomicMap("/data").setList("/tags").build();
    MergeRules twice = MergeRules.builder().ignore("/status").setList("/tags").atomicMap("/data").ignore("/status")
        .keyedList("/tags", KeyField.of("name")).atomicMap("/data").setList("/tags").build();
    assertThat(twice).isEqualTo(once);
    assertThat(twice.hashCode()).isEqualTo(once.hashCode());
  }

  @Test
  void plusEqualsOneBuilderHoldingBoth() {
    MergeRules provider = MergeRules.builder().keyedList("/items", KeyField.of("name")).build();
    MergeRules user = MergeRules.builder().ignore("/status").build();
    MergeRules combined = MergeRules.builder().ignore("/status").keyedList("/items", KeyField.of("name")).build();
    assertThat(provider.plus(user)).isEqualTo(combined).hasSameHashCodeAs(combined);
    assertThat(MergeRules.defaults()).isEqualTo(MergeRules.builder().build());
  }

  @Test
  void rulesWhoseTextHashesCollideAreStillTold() {
    // "Aa" and "BB" have the same String.hashCode, so a digest of toString().hashCode() could not tell these apart
    MergeRules aa = MergeRules.builder().ignore("/Aa").build();
    MergeRules bb = MergeRules.builder().ignore("/BB").build();
    assertThat(aa.toString().hashCode()).isEqualTo(bb.toString().hashCode());
    assertThat(aa).isNotEqualTo(bb);
    assertThat(aa.fingerprint()).isNotEqualTo(bb.fingerprint());
  }

  /** A random order of {@code ops} in which every two list rules that compete keep their order. */
  private static List<Op> reorderKeepingCompetingListRules(List<Op> ops, Random random) {
    List<Op> left = new ArrayList<>(ops);
    List<Op> out = new ArrayList<>();
    while (!left.isEmpty()) {
      List<Integer> free = new ArrayList<>();
      for (int i = 0; i < left.size(); i++) {
        boolean blocked = false;
        for (int j = 0; j < i && !blocked; j++) {
          blocked = left.get(i).isList() && left.get(j).isList()
              && OVERLAP.get(left.get(j).pattern() + " " + left.get(i).pattern());
        }
        if (!blocked) {
          free.add(i);
        }
      }
      out.add(left.remove((int) free.get(random.nextInt(free.size()))));
    }
    return out;
  }

  private static Map<String, Boolean> overlaps() {
    List<FieldPath> witnesses = paths(4);
    Map<String, Boolean> out = new HashMap<>();
    for (String a : PATTERNS) {
      for (String b : PATTERNS) {
        PathPattern pa = PathPattern.of(a);
        PathPattern pb = PathPattern.of(b);
        out.put(a + " " + b, witnesses.stream().anyMatch(p -> pa.matches(p) && pb.matches(p)));
      }
    }
    return out;
  }

  private static List<FieldPath> paths(int maxLength) {
    List<String> alphabet = List.of("a", "b", "c", "d", "e", "f", "x", "z");
    List<FieldPath> out = new ArrayList<>();
    List<List<String>> level = List.of(List.of());
    for (int len = 0; len <= maxLength; len++) {
      List<List<String>> next = new ArrayList<>();
      for (List<String> segs : level) {
        out.add(FieldPath.of(segs.toArray(new String[0])));
        for (String s : alphabet) {
          List<String> longer = new ArrayList<>(segs);
          longer.add(s);
          next.add(longer);
        }
      }
      level = next;
    }
    return out;
  }

  @Test
  void theSearchForCompetingPatternsAgreesWithBruteForce() {
    for (String a : PATTERNS) {
      for (String b : PATTERNS) {
        assertThat(MergeRules.overlap(PathPattern.of(a), PathPattern.of(b))).as("%s vs %s", a, b)
            .isEqualTo(OVERLAP.get(a + " " + b));
      }
    }
    assertThat(MergeRules.overlap(PathPattern.of("/**"), PathPattern.of(""))).isTrue();
    assertThat(MergeRules.overlap(PathPattern.of("/a/**/b"), PathPattern.of("/*/c/**"))).isTrue();
    assertThat(MergeRules.overlap(PathPattern.of("/a/*"), PathPattern.of("/a"))).isFalse();
  }
}
