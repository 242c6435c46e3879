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
    for (long seed = 0; seed < 30; seed++) {
      List<Integer> asked = new ArrayList<>(order);
      if (seed >= 20) {
        Collections.shuffle(asked, new Random(seed));  // no order at all: the walk starts again often
      } else if (seed > 0) {
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

  @Test
  void keysInAscendingRunsAreWalkedAlongWithoutSearchingTheMap() {
    // a sparse map, as the dependencies of a few keys are: most keys asked for fall between two of
    // its keys, before its first or past its last
    int[] searched = {0};
    int[] seeks = {0};
    SortedMap<ResourceKey, Integer> map = new TreeMap<>() {
      @Override
      public Integer get(Object key) {
        searched[0]++;
        return super.get(key);
      }

      @Override
      public SortedMap<ResourceKey, Integer> tailMap(ResourceKey from) {
        seeks[0]++;
        return super.tailMap(from);
      }
    };
    for (int i = 10; i < 90; i += 20) {
      map.put(key(i), i);
    }
    Along<Integer> along = new Along<>(map, -1);
    // two ascending runs, as a plan in dependency order asks (a wave, then the next)
    for (int run = 0; run < 2; run++) {
      for (int i = 0; i < 100; i++) {
        assertThat(along.get(key(i))).as("run %d, key %d", run, i).isEqualTo(i % 20 == 10 && i < 90 ? i : -1);
      }
    }
    assertThat(searched[0]).as("keys searched").isZero();
    assertThat(seeks[0]).as("walks started again").isEqualTo(1);
    // a key behind the walk starts it again there: found or not, and the keys after it walked along
    assertThat(along.get(key(31))).isEqualTo(-1);
    assertThat(along.get(key(50))).isEqualTo(50);
    assertThat(along.get(key(30))).isEqualTo(30);
    assertThat(along.get(key(70))).isEqualTo(70);
    assertThat(searched[0]).isZero();
    assertThat(seeks[0]).isEqualTo(3);

    Along<Integer> empty = new Along<>(new TreeMap<>(), -1);
    assertThat(empty.get(key(5))).isEqualTo(-1);
    assertThat(empty.get(key(1))).isEqualTo(-1);
  }
}
