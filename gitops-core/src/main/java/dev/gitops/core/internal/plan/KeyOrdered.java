package dev.gitops.core.internal.plan;

import dev.gitops.api.ResourceKey;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A read-only sorted view of entries that already come in strictly ascending key order (a plan's
 * outcomes, whose order is mostly the keys'): a {@code TreeMap} or the API's result copies it in
 * one pass instead of sorting it. Its own lookups search by bisection; its sub-map views are
 * copies.
 *
 * <pre>{@code
 * Map<ResourceKey, Outcome> inPlanOrder = new LinkedHashMap<>();
 * plan.changes().forEach(c -> inPlanOrder.put(c.key(), Outcome.unchanged()));
 * SortedMap<ResourceKey, Outcome> sorted = KeyOrdered.sorted(inPlanOrder);
 * }</pre>
 *
 * @param <V> the values
 */
public final class KeyOrdered<V> extends AbstractMap<ResourceKey, V> implements SortedMap<ResourceKey, V> {

  private final ResourceKey[] keys;
  private final Object[] values;

  private KeyOrdered(ResourceKey[] keys, Object[] values) {
    this.keys = keys;
    this.values = values;
  }

  /**
   * {@code map} itself when it is sorted in the keys' natural order, a view of it when its entries
   * iterate in ascending key order, else a sorted copy. A null key or value throws.
   */
  public static <V> SortedMap<ResourceKey, V> sorted(Map<ResourceKey, V> map) {
    if (map instanceof SortedMap<ResourceKey, V> s && s.comparator() == null) {
      return s;
    }
    ResourceKey[] k = new ResourceKey[map.size()];
    Object[] v = new Object[k.length];
    int i = 0;
    for (Map.Entry<ResourceKey, V> e : map.entrySet()) {
      if (i == k.length) {
        throw new java.util.ConcurrentModificationException("the map grew while it was read");
      }
      k[i] = java.util.Objects.requireNonNull(e.getKey(), "key");
      v[i] = java.util.Objects.requireNonNull(e.getValue(), "value");
      if (i > 0 && k[i - 1].compareTo(k[i]) >= 0) {
        return new TreeMap<>(map);
      }
      i++;
    }
    if (i != k.length) {
      throw new java.util.ConcurrentModificationException("the map shrank while it was read");
    }
    return new KeyOrdered<>(k, v);
  }

  /**
   * The view of {@code keys} (strictly ascending, not null) to {@code values} (not null) at the same
   * positions, taking both arrays as they are: the caller hands them over and changes neither.
   */
  static <V> KeyOrdered<V> ofAscending(ResourceKey[] keys, V[] values) {
    if (keys.length != values.length) {
      throw new IllegalArgumentException(keys.length + " keys but " + values.length + " values");
    }
    return new KeyOrdered<>(keys, values);
  }

  @Override
  public Set<Map.Entry<ResourceKey, V>> entrySet() {
    return new AbstractSet<>() {
      @Override
      public Iterator<Map.Entry<ResourceKey, V>> iterator() {
        return new Iterator<>() {
          private int next;

          @Override
          public boolean hasNext() {
            return next < keys.length;
          }

          @Override
          public Map.Entry<ResourceKey, V> next() {
            if (next >= keys.length) {
              throw new NoSuchElementException();
            }
            Map.Entry<ResourceKey, V> e = Map.entry(keys[next], value(next));
            next++;
            return e;
          }
        };
      }

      @Override
      public int size() {
        return keys.length;
      }
    };
  }

  /** The keys in order, read from the array (no entry object each). */
  @Override
  public Set<ResourceKey> keySet() {
    return new AbstractSet<>() {
      @Override
      public Iterator<ResourceKey> iterator() {
        return Arrays.asList(keys).iterator();
      }

      @Override
      public int size() {
        return keys.length;
      }

      @Override
      public boolean contains(Object o) {
        return containsKey(o);
      }
    };
  }

  /** The values in key order, read from the array (no entry object each). */
  @Override
  public java.util.Collection<V> values() {
    return new java.util.AbstractCollection<>() {
      @Override
      public Iterator<V> iterator() {
        return new Iterator<>() {
          private int next;

          @Override
          public boolean hasNext() {
            return next < values.length;
          }

          @Override
          public V next() {
            if (next >= values.length) {
              throw new NoSuchElementException();
            }
            return value(next++);
          }
        };
      }

      @Override
      public int size() {
        return values.length;
      }
    };
  }

  @SuppressWarnings("unchecked")
  private V value(int i) {
    return (V) values[i];
  }

  @Override
  public int size() {
    return keys.length;
  }

  @Override
  public V get(Object key) {
    int i = key instanceof ResourceKey k ? Arrays.binarySearch(keys, k) : -1;
    return i < 0 ? null : value(i);
  }

  @Override
  public boolean containsKey(Object key) {
    return key instanceof ResourceKey k && Arrays.binarySearch(keys, k) >= 0;
  }

  @Override
  public Comparator<? super ResourceKey> comparator() {
    return null;
  }

  @Override
  public SortedMap<ResourceKey, V> subMap(ResourceKey fromKey, ResourceKey toKey) {
    return new TreeMap<>(this).subMap(fromKey, toKey);
  }

  @Override
  public SortedMap<ResourceKey, V> headMap(ResourceKey toKey) {
    return new TreeMap<>(this).headMap(toKey);
  }

  @Override
  public SortedMap<ResourceKey, V> tailMap(ResourceKey fromKey) {
    return new TreeMap<>(this).tailMap(fromKey);
  }

  @Override
  public ResourceKey firstKey() {
    if (keys.length == 0) {
      throw new NoSuchElementException();
    }
    return keys[0];
  }

  @Override
  public ResourceKey lastKey() {
    if (keys.length == 0) {
      throw new NoSuchElementException();
    }
    return keys[keys.length - 1];
  }
}
