package dev.gitops.core.internal.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.ResourceKey;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class KeyOrderedTest {

  private static ResourceKey key(int i) {
    return ResourceKey.of("p", "t", String.format("k%03d", i));
  }

  @Test
  void entriesInKeyOrderOrNotReadAsTheirTreeMapDoes() {
    for (long seed = 0; seed < 10; seed++) {
      List<Integer> order = new ArrayList<>();
      for (int i = 0; i < 60; i += 3) {
        order.add(i);
      }
      if (seed > 0) {
        // a few keys out of place: the view must not be taken
        Random r = new Random(seed);
        Collections.swap(order, r.nextInt(order.size()), r.nextInt(order.size()));
      }
      Map<ResourceKey, Integer> given = new LinkedHashMap<>();
      order.forEach(i -> given.put(key(i), i));
      TreeMap<ResourceKey, Integer> tree = new TreeMap<>(given);
      SortedMap<ResourceKey, Integer> sorted = KeyOrdered.sorted(given);
      assertThat(new ArrayList<>(sorted.entrySet())).isEqualTo(new ArrayList<>(tree.entrySet()));
      assertThat(sorted).isEqualTo(tree);
      assertThat(sorted.comparator()).isNull();
      assertThat(sorted.firstKey()).isEqualTo(tree.firstKey());
      assertThat(sorted.lastKey()).isEqualTo(tree.lastKey());
      for (int i = 0; i < 62; i++) {
        assertThat(sorted.get(key(i))).isEqualTo(tree.get(key(i)));
        assertThat(sorted.containsKey(key(i))).isEqualTo(tree.containsKey(key(i)));
      }
      assertThat(sorted.subMap(key(10), key(40))).isEqualTo(tree.subMap(key(10), key(40)));
      assertThat(sorted.headMap(key(30))).isEqualTo(tree.headMap(key(30)));
      assertThat(sorted.tailMap(key(30))).isEqualTo(tree.tailMap(key(30)));
      // copied in one pass, as the result copies it
      assertThat(new TreeMap<>(sorted)).isEqualTo(tree);
    }
    TreeMap<ResourceKey, Integer> already = new TreeMap<>(Map.of(key(1), 1));
    assertThat(KeyOrdered.sorted(already)).isSameAs(already);
  }

  @Test
  void anEmptyViewHasNoFirstOrLastKey() {
    SortedMap<ResourceKey, Integer> empty = KeyOrdered.sorted(new LinkedHashMap<>());
    assertThat(empty).isEmpty();
    assertThatThrownBy(empty::firstKey).isInstanceOf(java.util.NoSuchElementException.class);
    assertThatThrownBy(empty::lastKey).isInstanceOf(java.util.NoSuchElementException.class);
  }

  @Test
  void aViewOfAscendingArraysReadsAsTheirTreeMap() {
    ResourceKey[] keys = {key(1), key(4), key(9)};
    String[] values = {"a", "b", "c"};
    SortedMap<ResourceKey, String> view = KeyOrdered.ofAscending(keys, values);
    TreeMap<ResourceKey, String> tree = new TreeMap<>(Map.of(key(1), "a", key(4), "b", key(9), "c"));
    assertThat(view).isEqualTo(tree);
    assertThat(new ArrayList<>(view.keySet())).isEqualTo(new ArrayList<>(tree.keySet()));
    assertThat(new ArrayList<>(view.values())).isEqualTo(new ArrayList<>(tree.values()));
    assertThat(view.keySet()).contains(key(4)).doesNotContain(key(5));
    assertThat(new TreeMap<>(view)).isEqualTo(tree);
    java.util.Iterator<ResourceKey> it = view.keySet().iterator();
    it.next();
    assertThatThrownBy(it::remove).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> KeyOrdered.ofAscending(keys, new String[2])).isInstanceOf(IllegalArgumentException.class);
  }
}
