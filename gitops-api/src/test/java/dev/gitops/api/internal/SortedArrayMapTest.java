package dev.gitops.api.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Documents;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** The array-backed sorted map behind {@link State#resources()} answers every read as a TreeMap does. */
class SortedArrayMapTest {

  @Property(tries = 300)
  void readsAsATreeMapDoes(@ForAll @Size(max = 40) List<@IntRange(max = 60) Integer> keys,
      @ForAll @IntRange(max = 61) int a, @ForAll @IntRange(max = 61) int b) {
    TreeMap<Integer, String> tree = new TreeMap<>();
    keys.forEach(k -> tree.put(k, "v" + k));
    // from a HashMap (sorted on the way) and from a sorted map (copied as it iterates)
    for (SortedMap<Integer, String> map : List.of(SortedArrayMap.copyOf(new HashMap<>(tree)), SortedArrayMap.copyOf(tree))) {
      same(map, tree);
      int lo = Math.min(a, b);
      int hi = Math.max(a, b);
      same(map.subMap(lo, hi), tree.subMap(lo, hi));
      same(map.headMap(hi), tree.headMap(hi));
      same(map.tailMap(lo), tree.tailMap(lo));
      same(map.tailMap(lo).headMap(hi), tree.tailMap(lo).headMap(hi));
      java.util.SortedSet<Integer> view = (java.util.SortedSet<Integer>) map.keySet();
      assertThat(view.subSet(lo, hi)).isEqualTo(tree.navigableKeySet().subSet(lo, hi));
      assertThat(view.headSet(hi)).isEqualTo(tree.navigableKeySet().headSet(hi));
      assertThat(view.tailSet(lo)).isEqualTo(tree.navigableKeySet().tailSet(lo));
      if (!tree.isEmpty()) {
        assertThat(view.first()).isEqualTo(tree.firstKey());
        assertThat(view.last()).isEqualTo(tree.lastKey());
      }
    }
  }

  private static void same(SortedMap<Integer, String> map, SortedMap<Integer, String> tree) {
    assertThat(map).isEqualTo(tree);
    assertThat(tree).isEqualTo(map);
    assertThat(map.hashCode()).isEqualTo(tree.hashCode());
    assertThat(map.size()).isEqualTo(tree.size());
    assertThat(new ArrayList<>(map.keySet())).isEqualTo(new ArrayList<>(tree.keySet()));
    assertThat(map.keySet()).isInstanceOf(java.util.SortedSet.class).isEqualTo(tree.keySet());
    assertThat(new java.util.TreeSet<>(map.keySet())).isEqualTo(tree.keySet());
    // the key set's arrays: copied from the map's own (a sub-map's range of them)
    assertThat(map.keySet().toArray()).containsExactly(tree.keySet().toArray());
    assertThat(map.keySet().toArray(new Integer[0])).isInstanceOf(Integer[].class)
        .containsExactly(tree.keySet().toArray(new Integer[0]));
    Integer[] roomy = new Integer[tree.size() + 2];
    java.util.Arrays.fill(roomy, -7);
    assertThat(map.keySet().toArray(roomy)).isSameAs(roomy);
    assertThat(java.util.Arrays.copyOf(roomy, tree.size())).containsExactly(tree.keySet().toArray(new Integer[0]));
    assertThat(roomy[tree.size()]).as("the element after the last is nulled, as Collection.toArray says").isNull();
    assertThat(roomy[tree.size() + 1]).isEqualTo(-7);
    assertThat(new ArrayList<>(map.values())).isEqualTo(new ArrayList<>(tree.values()));
    assertThat(new ArrayList<>(map.entrySet())).isEqualTo(new ArrayList<>(tree.entrySet()));
    List<Integer> seen = new ArrayList<>();
    map.forEach((k, v) -> seen.add(k));
    assertThat(seen).isEqualTo(new ArrayList<>(tree.keySet()));
    for (int k = -1; k <= 62; k++) {
      assertThat(map.get(k)).isEqualTo(tree.get(k));
      assertThat(map.containsKey(k)).isEqualTo(tree.containsKey(k));
      assertThat(map.keySet().contains(k)).isEqualTo(tree.containsKey(k));
      assertThat(map.entrySet().contains(Map.entry(k, "v" + k))).isEqualTo(tree.containsKey(k));
    }
    if (tree.isEmpty()) {
      assertThatThrownBy(map::firstKey).isInstanceOf(NoSuchElementException.class);
      assertThatThrownBy(map::lastKey).isInstanceOf(NoSuchElementException.class);
    } else {
      assertThat(map.firstKey()).isEqualTo(tree.firstKey());
      assertThat(map.lastKey()).isEqualTo(tree.lastKey());
    }
  }

  @Test
  void everyMutatorThrowsAndAMapOfItsOwnKindIsNotCopied() {
    SortedMap<String, String> map = SortedArrayMap.copyOf(new TreeMap<>(Map.of("a", "1", "b", "2")));
    assertThatThrownBy(() -> map.put("c", "3")).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> map.remove("a")).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(map::clear).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> map.keySet().remove("a")).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> map.entrySet().iterator().next().setValue("x"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> map.replaceAll((k, v) -> v)).isInstanceOf(UnsupportedOperationException.class);
    assertThat(map).containsExactly(Map.entry("a", "1"), Map.entry("b", "2"));
    assertThat(SortedArrayMap.copyOf(map)).isSameAs(map);
  }

  @Test
  void copyOfNonNullIsCopyOfButNullForANullValue() {
    TreeMap<String, String> tree = new TreeMap<>(Map.of("b", "2", "a", "1", "c", "3"));
    SortedMap<String, String> copy = SortedArrayMap.copyOfNonNull(tree);
    assertThat(copy).isEqualTo(SortedArrayMap.copyOf(tree)).containsExactly(Map.entry("a", "1"), Map.entry("b", "2"),
        Map.entry("c", "3"));
    assertThat(SortedArrayMap.copyOfNonNull(new HashMap<>(tree))).isEqualTo(tree);
    assertThat(SortedArrayMap.copyOfNonNull(copy)).isSameAs(copy);
    tree.put("b", null);
    assertThat(SortedArrayMap.copyOfNonNull(tree)).isNull();
    assertThat(SortedArrayMap.copyOfNonNull(new TreeMap<String, String>())).isEmpty();
  }

  @Property(tries = 200)
  void aMapInKeyOrderOrNotIsCopiedAsItsTreeMap(@ForAll @Size(max = 40) List<@IntRange(max = 60) Integer> keys,
      @ForAll long seed, @ForAll @IntRange(max = 3) int swaps) {
    List<Integer> order = new ArrayList<>(new java.util.TreeSet<>(keys));
    // in key order (swaps = 0), or with a few keys out of place: then it must be sorted, not taken as it comes
    Random r = new Random(seed);
    for (int i = 0; i < swaps && !order.isEmpty(); i++) {
      Collections.swap(order, r.nextInt(order.size()), r.nextInt(order.size()));
    }
    Map<Integer, String> given = new LinkedHashMap<>();
    order.forEach(k -> given.put(k, "v" + k));
    TreeMap<Integer, String> tree = new TreeMap<>(given);
    SortedMap<Integer, String> copy = SortedArrayMap.copyOf(given);
    assertThat(new ArrayList<>(copy.entrySet())).isEqualTo(new ArrayList<>(tree.entrySet()));
    same(copy, tree);
    if (!order.isEmpty()) {
      given.put(order.get(r.nextInt(order.size())), null);
      assertThat(SortedArrayMap.copyOfNonNull(given)).isNull();
      assertThatThrownBy(() -> SortedArrayMap.copyOf(given)).isInstanceOf(NullPointerException.class);
    }
  }

  @Property(tries = 200)
  void sortedSetOfAnyCollectionIsItsTreeSet(@ForAll @Size(max = 40) List<@IntRange(max = 30) Integer> keys,
      @ForAll boolean sortedFirst) {
    // with repeats and in any order, or sorted (taken in one pass)
    List<Integer> given = sortedFirst ? new ArrayList<>(new java.util.TreeSet<>(keys)) : keys;
    java.util.SortedSet<Integer> set = SortedArrayMap.sortedSetOf(given);
    java.util.TreeSet<Integer> tree = new java.util.TreeSet<>(keys);
    assertThat(new ArrayList<>(set)).isEqualTo(new ArrayList<>(tree));
    assertThat(set).isEqualTo(tree).hasSameHashCodeAs(tree);
    assertThat(set.comparator()).isNull();
    assertThat(SortedArrayMap.sortedSetOf(set)).as("taken as it is").isSameAs(set);
    assertThatThrownBy(() -> set.add(99)).isInstanceOf(UnsupportedOperationException.class);
    List<Integer> withNull = new ArrayList<>(given);
    withNull.add(null);
    assertThatThrownBy(() -> SortedArrayMap.sortedSetOf(withNull)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void aNullKeyThrowsWhereverItComes() {
    Map<String, String> inOrder = new LinkedHashMap<>();
    inOrder.put("a", "1");
    inOrder.put(null, "2");
    assertThatThrownBy(() -> SortedArrayMap.copyOfNonNull(inOrder)).isInstanceOf(NullPointerException.class);
    Map<String, String> first = new LinkedHashMap<>();
    first.put(null, null);
    first.put("a", "1");
    assertThatThrownBy(() -> SortedArrayMap.copyOfNonNull(first)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void aStateMadeFromAnotherSharesItsResources() {
    State s = State.of("r1", List.of(Resource.of(ResourceKey.of("p", "t", "a"), Documents.emptyObject())));
    assertThat(s.asUnchanged().resources()).isSameAs(s.resources());
    assertThatThrownBy(() -> s.resources().put(ResourceKey.of("p", "t", "b"), null))
        .isInstanceOf(UnsupportedOperationException.class);
  }
}
