package dev.gitops.core.internal.plan;

import dev.gitops.api.ResourceKey;
import java.util.Collections;
import java.util.Iterator;
import java.util.SortedMap;

/**
 * Lookups in a sorted map by keys that mostly come in its order (a plan's changes, a resync's
 * keys): a cursor walks the map along instead of searching it per key. A key behind the cursor
 * starts the walk again from that key ({@link SortedMap#tailMap}), so any order of keys gives the
 * map's values; only the cost differs. A map in another order than the keys' natural one is
 * searched per key. Not thread-safe: one per pass.
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
  private Iterator<ResourceKey> keys;
  private Iterator<? extends V> values;
  private ResourceKey at;
  private V value;
  /**
   * A key below {@link #at} with no key of the map between the two: the last key the walk passed,
   * or the key it started again from ({@link #seek}); null while the walk is at the map's first key.
   */
  private ResourceKey before;
  /** Whether the walk compares by the map's own order (a map in another order is only searched). */
  private final boolean natural;
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
    this.natural = map.comparator() == null;
    this.ascending = ascending && natural;
    this.keys = natural ? map.keySet().iterator() : Collections.emptyIterator();
    this.values = natural ? map.values().iterator() : Collections.emptyIterator();
    next();
  }

  private void next() {
    before = at;
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
    if (!natural) {
      V v = map.get(key);
      return v == null ? absent : v;
    }
    if (at == key) {
      // the very instance the walk stands at (a plan's keys are its desired map's): nothing to compare
      V v = value;
      next();
      return v;
    }
    if (!ascending && before != null && before.compareTo(key) >= 0) {
      seek(key);
    }
    int c = 1;
    while (at != null && at != key && (c = at.compareTo(key)) < 0) {
      next();
    }
    // the natural order agrees with equals: the comparison that stopped the walk tells an equal key
    if (at != null && (at == key || c == 0)) {
      V v = value;
      next();
      return v;
    }
    // the walk stands between two neighbouring keys of the map (or before its first, or past its
    // last) that enclose this one: the map does not hold it, and is not searched (a sparse map, as
    // the dependencies of a few keys are, is met this way by most keys asked for)
    return absent;
  }

  /**
   * Starts the walk again at {@code key}, one behind it: at the map's first key from {@code key}
   * on, with no key of the map between {@code key} and it. A plan in dependency order asks for
   * its keys in ascending runs, one after another (a wave, a kind); each run is walked along too,
   * where searching every key of a run behind the walk would cost a binary search each.
   */
  private void seek(ResourceKey key) {
    SortedMap<ResourceKey, ? extends V> tail = map.tailMap(key);
    keys = tail.keySet().iterator();
    values = tail.values().iterator();
    next();
    before = key;
  }
}
