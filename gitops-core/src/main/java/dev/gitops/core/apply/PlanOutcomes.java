package dev.gitops.core.apply;

import dev.gitops.api.Change;
import dev.gitops.api.Outcome;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.internal.SortedArrayMap;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.SortedMap;

/**
 * Every change's outcome of one execution, by the change's place in the plan: an array write per
 * outcome instead of a hash-map entry per key. A plan whose keys come in ascending order (a
 * plan whose order crosses no key's, the common case) is looked up by binary
 * search and its outcomes handed over as a {@link SortedArrayMap} sharing the arrays, which the
 * sync's result takes as it is; any other plan gets a hash index of its keys. Confined to the
 * run's scheduling thread, like the rest of the run's state.
 */
final class PlanOutcomes {

  private final ResourceKey[] keys;
  private final Outcome[] values;
  /** The place of each key, for a plan whose keys are not in ascending order; null when they are. */
  private final Map<ResourceKey, Integer> index;

  /**
   * The outcomes of {@code changes}, none known yet.
   *
   * @throws IllegalArgumentException when two changes have one key
   */
  PlanOutcomes(List<Change> changes, SortedMap<ResourceKey, ?> fingerprints, String planId) {
    int n = changes.size();
    keys = new ResourceKey[n];
    values = new Outcome[n];
    // a planner's changes hold the very key instances of its fingerprints (in natural order), in
    // that order: two neighbours that are those keys ascend, told without comparing their text
    Object[] sorted = fingerprints.comparator() == null && fingerprints.size() == n
        ? fingerprints.keySet().toArray() : null;
    boolean ascending = true;
    for (int i = 0; i < n; i++) {
      keys[i] = changes.get(i).key();
      if (ascending && i > 0 && !(sorted != null && sorted[i - 1] == keys[i - 1] && sorted[i] == keys[i])
          && keys[i - 1].compareTo(keys[i]) >= 0) {
        ascending = false;
      }
    }
    if (ascending) {
      index = null;
    } else {
      index = new HashMap<>(n * 4 / 3 + 1);
      for (int i = 0; i < n; i++) {
        if (index.putIfAbsent(keys[i], i) != null) {
          throw twice(planId, keys[i]);
        }
      }
    }
  }

  private static IllegalArgumentException twice(String planId, ResourceKey key) {
    return new IllegalArgumentException("plan " + planId + " has two changes for " + key);
  }

  /** The place of {@code key} in the plan, or -1 when no change of the plan has it. */
  int at(ResourceKey key) {
    if (index == null) {
      int i = Arrays.binarySearch(keys, key);
      return i < 0 ? -1 : i;
    }
    Integer i = index.get(key);
    return i == null ? -1 : i;
  }

  /** The outcome of {@code key}: null when it has none yet or the plan has no change of it. */
  Outcome get(ResourceKey key) {
    int i = at(key);
    return i < 0 ? null : values[i];
  }

  /** Sets the outcome of the change at {@code at}. */
  void set(int at, Outcome outcome) {
    values[at] = outcome;
  }

  /**
   * A read-only view in plan order, in which a change without an outcome yet maps to null; at the
   * end of the run, when every change has its outcome and the keys ascend, the outcomes as a
   * {@link SortedArrayMap} on the same arrays (nothing writes them once the run is over).
   */
  Map<ResourceKey, Outcome> view(boolean runOver) {
    if (runOver && index == null) {
      for (Outcome v : values) {
        if (v == null) {
          return new View();
        }
      }
      return SortedArrayMap.ofSorted(keys, values);
    }
    return new View();
  }

  /** The outcomes by key, in plan order, read through to the arrays. */
  private final class View extends AbstractMap<ResourceKey, Outcome> {

    @Override
    public Outcome get(Object key) {
      return key instanceof ResourceKey k ? PlanOutcomes.this.get(k) : null;
    }

    @Override
    public boolean containsKey(Object key) {
      return key instanceof ResourceKey k && at(k) >= 0;
    }

    @Override
    public int size() {
      return keys.length;
    }

    @Override
    public Set<Entry<ResourceKey, Outcome>> entrySet() {
      return new AbstractSet<>() {
        @Override
        public int size() {
          return keys.length;
        }

        @Override
        public Iterator<Entry<ResourceKey, Outcome>> iterator() {
          return new Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
              return next < keys.length;
            }

            @Override
            public Entry<ResourceKey, Outcome> next() {
              if (next >= keys.length) {
                throw new NoSuchElementException();
              }
              int i = next++;
              return new SimpleImmutableEntry<>(keys[i], values[i]);
            }
          };
        }
      };
    }
  }
}
