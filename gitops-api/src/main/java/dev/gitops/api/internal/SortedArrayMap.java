package dev.gitops.api.internal;

import java.io.Serializable;
import java.util.AbstractCollection;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * An immutable {@link SortedMap} in natural key order, held in two arrays: 8 bytes per entry
 * against about 40 for a {@code TreeMap} entry, and lookups by binary search (as many
 * comparisons as a {@code TreeMap}). Sub-maps are views sharing the arrays. Every mutator throws
 * {@link UnsupportedOperationException}; {@code equals} and {@code hashCode} follow the {@link
 * Map} contract. {@link #copyOf} returns a map of this class as it is, so a {@code State}, {@code
 * Plan} or {@code SyncResult} made from another's maps shares them instead of copying them, and
 * copies a map whose entries already come in key order (a {@code LinkedHashMap} filled in key
 * order) in one pass, without sorting it. Internal: the API's records and the engine share it; no
 * compatibility promise.
 *
 * <pre>{@code
 * Map<ResourceKey, Outcome> inPlanOrder = new LinkedHashMap<>();
 * plan.changes().forEach(c -> inPlanOrder.put(c.key(), Outcome.unchanged()));
 * SortedMap<ResourceKey, Outcome> sorted = SortedArrayMap.copyOf(inPlanOrder);   // one pass when in key order
 * }</pre>
 *
 * @param <K> the keys, in their natural order
 * @param <V> the values
 */
public final class SortedArrayMap<K extends Comparable<? super K>, V> extends AbstractMap<K, V>
    implements SortedMap<K, V>, Serializable {

  private static final long serialVersionUID = 1L;
  private static final Object[] NONE = {};

  private final Object[] keys;
  private final Object[] values;
  private final int from;
  private final int to;

  private SortedArrayMap(Object[] keys, Object[] values, int from, int to) {
    this.keys = keys;
    this.values = values;
    this.from = from;
    this.to = to;
  }

  /**
   * The map of {@code keys} to {@code values} at the same positions, taking both arrays as they are:
   * the caller hands them over with the keys sorted, distinct and not null, and no value null.
   */
  public static <K extends Comparable<? super K>, V> SortedArrayMap<K, V> ofSorted(Object[] keys, Object[] values) {
    if (keys.length != values.length) {
      throw new IllegalArgumentException(keys.length + " keys but " + values.length + " values");
    }
    return keys.length == 0 ? new SortedArrayMap<>(NONE, NONE, 0, 0) : new SortedArrayMap<>(keys, values, 0, keys.length);
  }

  /**
   * {@code keys} as an immutable sorted set in natural order, distinct: {@code keys} itself when it
   * is the key set of a map of this class, else a copy, made in one pass when {@code keys} iterate
   * in ascending order (sorted first when not). A null key throws {@link NullPointerException}.
   * A {@code TreeSet} made from the result is built in linear time, and two such sets are compared
   * by one walk along both.
   */
  @SuppressWarnings("unchecked")
  public static <K extends Comparable<? super K>> SortedSet<K> sortedSetOf(Collection<? extends K> keys) {
    if (keys instanceof SortedArrayMap<?, ?>.Keys k) {
      return (SortedSet<K>) k;
    }
    Object[] ks = keys.toArray();
    boolean ascending = true;
    for (int i = 0; i < ks.length; i++) {
      Objects.requireNonNull(ks[i], "key");
      ascending &= i == 0 || ((K) ks[i - 1]).compareTo((K) ks[i]) < 0;
    }
    int n = ks.length;
    if (!ascending) {
      Arrays.sort(ks);
      n = 0;
      for (Object k : ks) {
        if (n == 0 || ((K) ks[n - 1]).compareTo((K) k) != 0) {
          ks[n++] = k;
        }
      }
      ks = n == ks.length ? ks : Arrays.copyOf(ks, n);
    }
    Object[] present = new Object[n];
    Arrays.fill(present, Boolean.TRUE);
    return SortedArrayMap.<K, Object>ofSorted(ks, present).keySet();
  }

  /**
   * {@code map} itself when it is a map of this class, else an immutable copy in natural key
   * order. A null key or value throws {@link NullPointerException}.
   */
  public static <K extends Comparable<? super K>, V> SortedArrayMap<K, V> copyOf(Map<K, ? extends V> map) {
    SortedArrayMap<K, V> copy = copyOfNonNull(map);
    if (copy == null) {
      throw new NullPointerException("value");
    }
    return copy;
  }

  /**
   * {@link #copyOf}, but null instead of a throw when {@code map} holds a null value (a null key
   * still throws): for the callers that keep such a map in another form.
   */
  @SuppressWarnings("unchecked")
  public static <K extends Comparable<? super K>, V> SortedArrayMap<K, V> copyOfNonNull(Map<K, ? extends V> map) {
    if (map instanceof SortedArrayMap<?, ?> s) {
      return (SortedArrayMap<K, V>) s;
    }
    Map<K, ? extends V> sorted = map;
    if (!(map instanceof SortedMap<K, ? extends V> s && s.comparator() == null)) {
      SortedArrayMap<K, V> inOrder = ifInKeyOrder(map);
      if (inOrder != UNSORTED) {
        return inOrder;
      }
      sorted = new TreeMap<>(map);
    }
    int n = sorted.size();
    if (n == 0) {
      return new SortedArrayMap<>(NONE, NONE, 0, 0);
    }
    Object[] ks = new Object[n];
    Object[] vs = new Object[n];
    int i = 0;
    // keys and values walked together: a sorted map gives both in key order, without an entry object each
    Iterator<? extends V> values = sorted.values().iterator();
    for (K k : sorted.keySet()) {
      if (i == n || !values.hasNext()) {
        throw new java.util.ConcurrentModificationException("the map changed while it was copied");
      }
      ks[i] = Objects.requireNonNull(k, "key");
      V v = values.next();
      if (v == null) {
        return null;
      }
      vs[i] = v;
      i++;
    }
    if (i != n) {
      throw new java.util.ConcurrentModificationException("the map shrank while it was copied");
    }
    return new SortedArrayMap<>(ks, vs, 0, n);
  }

  /** What {@link #ifInKeyOrder} returns for a map whose entries are not in key order (compared by identity). */
  @SuppressWarnings("rawtypes")
  private static final SortedArrayMap UNSORTED = new SortedArrayMap<>(NONE, NONE, 0, 0);

  /**
   * A copy of {@code map} made in one pass when its entries iterate in strictly ascending key order
   * (a {@code LinkedHashMap} filled in key order); null when they do and one of the values is null
   * (as {@link #copyOfNonNull}); {@link #UNSORTED} when they do not (the caller sorts). A null key
   * throws.
   */
  @SuppressWarnings("unchecked")
  private static <K extends Comparable<? super K>, V> SortedArrayMap<K, V> ifInKeyOrder(Map<K, ? extends V> map) {
    int n = map.size();
    Object[] ks = new Object[n];
    Object[] vs = new Object[n];
    boolean nullValue = false;
    int i = 0;
    for (Map.Entry<K, ? extends V> e : map.entrySet()) {
      if (i == n) {
        throw new java.util.ConcurrentModificationException("the map grew while it was copied");
      }
      K k = Objects.requireNonNull(e.getKey(), "key");
      if (i > 0 && ((K) ks[i - 1]).compareTo(k) >= 0) {
        return UNSORTED;
      }
      ks[i] = k;
      vs[i] = e.getValue();
      nullValue |= vs[i] == null;
      i++;
    }
    if (i != n) {
      throw new java.util.ConcurrentModificationException("the map shrank while it was copied");
    }
    return nullValue ? null : ofSorted(ks, vs);
  }

  @SuppressWarnings("unchecked")
  private K keyAt(int i) {
    return (K) keys[i];
  }

  @SuppressWarnings("unchecked")
  private V valueAt(int i) {
    return (V) values[i];
  }

  /** The index of {@code key} in [from, to), or {@code -(insertion point) - 1}. */
  @SuppressWarnings("unchecked")
  private int search(Object key) {
    K k = (K) Objects.requireNonNull(key, "key");
    int lo = from;
    int hi = to - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      int c = keyAt(mid).compareTo(k);
      if (c < 0) {
        lo = mid + 1;
      } else if (c > 0) {
        hi = mid - 1;
      } else {
        return mid;
      }
    }
    return -(lo + 1);
  }

  /** The first index in [from, to] whose key is not below {@code key}. */
  private int lowerBound(K key) {
    int i = search(key);
    return i >= 0 ? i : -i - 1;
  }

  @Override
  public int size() {
    return to - from;
  }

  @Override
  public boolean isEmpty() {
    return to == from;
  }

  @Override
  public boolean containsKey(Object key) {
    return search(key) >= 0;
  }

  @Override
  public V get(Object key) {
    int i = search(key);
    return i >= 0 ? valueAt(i) : null;
  }

  @Override
  public void forEach(BiConsumer<? super K, ? super V> action) {
    for (int i = from; i < to; i++) {
      action.accept(keyAt(i), valueAt(i));
    }
  }

  @Override
  public Comparator<? super K> comparator() {
    return null;
  }

  @Override
  public K firstKey() {
    if (isEmpty()) {
      throw new NoSuchElementException();
    }
    return keyAt(from);
  }

  @Override
  public K lastKey() {
    if (isEmpty()) {
      throw new NoSuchElementException();
    }
    return keyAt(to - 1);
  }

  @Override
  public SortedArrayMap<K, V> subMap(K fromKey, K toKey) {
    if (fromKey.compareTo(toKey) > 0) {
      throw new IllegalArgumentException("fromKey > toKey");
    }
    return new SortedArrayMap<>(keys, values, lowerBound(fromKey), lowerBound(toKey));
  }

  @Override
  public SortedArrayMap<K, V> headMap(K toKey) {
    return new SortedArrayMap<>(keys, values, from, lowerBound(toKey));
  }

  @Override
  public SortedArrayMap<K, V> tailMap(K fromKey) {
    return new SortedArrayMap<>(keys, values, lowerBound(fromKey), to);
  }

  /** Iterates positions from..to-1; {@code remove} throws (the default). */
  private abstract class Cursor<T> implements Iterator<T> {
    private int next = from;

    @Override
    public boolean hasNext() {
      return next < to;
    }

    @Override
    public T next() {
      if (next >= to) {
        throw new NoSuchElementException();
      }
      return at(next++);
    }

    abstract T at(int i);
  }

  /** The keys, as a sorted set (so a {@code TreeSet} made from it is built in linear time). */
  @Override
  public SortedSet<K> keySet() {
    return new Keys();
  }

  private final class Keys extends AbstractSet<K> implements SortedSet<K> {
    @Override
    public Iterator<K> iterator() {
      return new Cursor<>() {
        @Override
        K at(int i) {
          return keyAt(i);
        }
      };
    }

    @Override
    public int size() {
      return SortedArrayMap.this.size();
    }

    @Override
    public boolean contains(Object o) {
      return o != null && containsKey(o);
    }

    /** The keys in one array copy, not an iteration. */
    @Override
    public Object[] toArray() {
      return Arrays.copyOfRange(keys, from, to);
    }

    /** The keys in one array copy into {@code a} (or a new array of its type), not an iteration. */
    @Override
    @SuppressWarnings("unchecked")
    public <T> T[] toArray(T[] a) {
      int n = to - from;
      T[] out = a.length >= n ? a : (T[]) java.lang.reflect.Array.newInstance(a.getClass().getComponentType(), n);
      System.arraycopy(keys, from, out, 0, n);
      if (out.length > n) {
        out[n] = null;
      }
      return out;
    }

    @Override
    public Comparator<? super K> comparator() {
      return null;
    }

    @Override
    public SortedSet<K> subSet(K fromElement, K toElement) {
      return subMap(fromElement, toElement).keySet();
    }

    @Override
    public SortedSet<K> headSet(K toElement) {
      return headMap(toElement).keySet();
    }

    @Override
    public SortedSet<K> tailSet(K fromElement) {
      return tailMap(fromElement).keySet();
    }

    @Override
    public K first() {
      return firstKey();
    }

    @Override
    public K last() {
      return lastKey();
    }
  }

  @Override
  public Collection<V> values() {
    // in key order, as a sorted map's values are, without an entry object per value
    return new AbstractCollection<>() {
      @Override
      public Iterator<V> iterator() {
        return new Cursor<>() {
          @Override
          V at(int i) {
            return valueAt(i);
          }
        };
      }

      @Override
      public int size() {
        return SortedArrayMap.this.size();
      }
    };
  }

  @Override
  public Set<Map.Entry<K, V>> entrySet() {
    return new AbstractSet<>() {
      @Override
      public Iterator<Map.Entry<K, V>> iterator() {
        return new Cursor<>() {
          @Override
          Map.Entry<K, V> at(int i) {
            return new AbstractMap.SimpleImmutableEntry<>(keyAt(i), valueAt(i));
          }
        };
      }

      @Override
      public int size() {
        return SortedArrayMap.this.size();
      }

      @Override
      public boolean contains(Object o) {
        if (!(o instanceof Map.Entry<?, ?> e) || e.getKey() == null) {
          return false;
        }
        int i = search(e.getKey());
        return i >= 0 && valueAt(i).equals(e.getValue());
      }
    };
  }
}
