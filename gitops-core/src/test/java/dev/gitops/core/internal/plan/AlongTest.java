package dev.gitops.core.internal.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.ResourceKey;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class AlongTest {

  private static ResourceKey key(int i) {
    return ResourceKey.of("p", "t", String.format("k%03d", i));
  }

  /** Every other key of 0..99, valued by its number; a fresh key instance per lookup (equal, not the same). */
  private static SortedMap<ResourceKey, Integer> evens(Comparator<ResourceKey> order) {
    SortedMap<ResourceKey, Integer> map = new TreeMap<>(order);
    for (int i = 0; i < 100; i += 2) {
      map.put(key(i), i);
    }
    return map;
  }

  @Test
  void keysInAnyOrderGetTheMapsValuesAndTheAbsentOneForOthers() {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      order.add(i);
    }
    for (long seed = 0; seed < 20; seed++) {
      List<Integer> asked = new ArrayList<>(order);
      if (seed > 0) {
        // mostly in order, with some keys swapped, asked twice or left out
        Random r = new Random(seed);
        for (int n = 0; n < seed; n++) {
          Collections.swap(asked, r.nextInt(asked.size()), r.nextInt(asked.size()));
          asked.set(r.nextInt(asked.size()), asked.get(r.nextInt(asked.size())));
        }
      }
      for (Comparator<ResourceKey> c : List.<Comparator<ResourceKey>>of(Comparator.naturalOrder(), Comparator.reverseOrder())) {
        SortedMap<ResourceKey, Integer> map = evens(c);
        Along<Integer> along = new Along<>(map, -1);
        for (int i : asked) {
          assertThat(along.get(key(i))).as("key %d, seed %d", i, seed).isEqualTo(i % 2 == 0 ? i : -1);
        }
      }
    }
  }

  @Test
  void ascendingKeysFindWhatTheMapHoldsWithoutSearchingIt() {
    SortedMap<ResourceKey, Integer> map = evens(null);
    Along<Integer> along = Along.ascending(map, -1);
    for (int i = 0; i < 110; i++) {
      assertThat(along.get(key(i))).isEqualTo(i % 2 == 0 && i < 100 ? i : -1);
    }
    // a map in another order is searched: ascending natural keys still get its values
    Along<Integer> reversed = Along.ascending(evens(Comparator.reverseOrder()), -1);
    for (int i = 0; i < 100; i++) {
      assertThat(reversed.get(key(i))).isEqualTo(i % 2 == 0 ? i : -1);
    }
  }

  @Test
  void aKeyAskedAfterAHigherOneIsStillFoundWhereverTheWalkIs() {
    SortedMap<ResourceKey, Integer> map = evens(null);
    for (int first = 0; first < 100; first += 7) {
      Along<Integer> along = new Along<>(map, -1);
      along.get(key(first));
      for (int i = 0; i < 100; i++) {
        assertThat(along.get(key(i))).as("first %d, then %d", first, i).isEqualTo(i % 2 == 0 ? i : -1);
      }
    }
  }
}
