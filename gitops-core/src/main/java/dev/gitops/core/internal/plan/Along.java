package dev.gitops.core.internal.plan;

import dev.gitops.api.ResourceKey;
import java.util.Collections;
import java.util.Iterator;
import java.util.SortedMap;

/**
 * Lookups in a sorted map by keys that mostly come in its order (a plan's changes, a resync's
 * keys): a cursor walks the map along instead of searching it per key. A key behind the cursor,
 * or one the walk went past, is searched in the map as before, so any order of keys gives the
 * map's values; only the cost differs. Not thread-safe: one per pass.
 *
 * <pre>{@code
 * Along<String> fingerprints = new Along<>(plan.fingerprints(), "");
 * for (Change c : plan.changes()) {
 *   String fingerprint = fingerprints.get(c.key());
 * }
 * }</pre>
 *
 * @param <V> the map's values
 */
public final class Along<V> {
  private final SortedMap<ResourceKey, ? extends V> map;
  private final V absent;
  /** The map's keys and values, walked together (a sorted map gives both in key order, without an entry object each). */
  private final Iterator<ResourceKey> keys;
  private final Iterator<? extends V> values;
  private ResourceKey at;
  private V value;
  /** Whether the keys asked for come in strictly ascending order, so one the walk passes is not in the map. */
  private final boolean ascending;

  /** Lookups in {@code map} (never holding null values), answering {@code absent} for a key it does not hold. */
  public Along(SortedMap<ResourceKey, ? extends V> map, V absent) {
    this(map, absent, false);
  }

  private Along(SortedMap<ResourceKey, ? extends V> map, V absent, boolean ascending) {
    this.map = map;
    this.absent = absent;
    // the walk compares by the keys' natural order: a map in another order is only searched
    boolean natural = map.comparator() == null;
    this.ascending = ascending && natural;
    this.keys = natural ? map.keySet().iterator() : Collections.emptyIterator();
    this.values = natural ? map.values().iterator() : Collections.emptyIterator();
    next();
  }

  private void next() {
    if (keys.hasNext()) {
      at = keys.next();
      value = values.next();
    } else {
      at = null;
      value = null;
    }
  }

  /**
   * Lookups by keys the caller asks for in strictly ascending natural order (a sorted set's keys,
   * each once): a key the walk does not meet is absent, without searching the map.
   */
  public static <V> Along<V> ascending(SortedMap<ResourceKey, ? extends V> map, V absent) {
    return new Along<>(map, absent, true);
  }

  /** The value at {@code key}, or the absent value. */
  public V get(ResourceKey key) {
    while (at != null && at != key && at.compareTo(key) < 0) {
      next();
    }
    if (at != null && (at == key || at.equals(key))) {
      V v = value;
      next();
      return v;
    }
    if (ascending) {
      return absent;  // the walk is at the first key above it: the map does not hold it
    }
    V v = map.get(key);
    return v == null ? absent : v;
  }
}
