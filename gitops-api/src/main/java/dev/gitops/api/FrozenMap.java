package dev.gitops.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.Serializable;
import java.util.AbstractCollection;
import java.util.AbstractMap;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The children of a frozen object: an immutable, insertion-ordered {@code Map<String, JsonNode>}
 * that stores its values and a {@link Shape} (the key array, shared between objects
 * with the same keys in the same order). It follows the {@link Map} contract for {@code equals},
 * {@code hashCode} and iteration, and every mutator (including those of its views and iterators)
 * throws {@link UnsupportedOperationException}, whether or not it would change anything.
 * Serializable like the unmodifiable map it replaces (a deserialized map has an unpooled shape).
 *
 * <p>Up to {@link #INLINE} values are held in fields of the map itself (one object of 16 + 4n
 * bytes, rounded up to 8), more in an array beside it (40 + 4n): against roughly 56 + 44n for a
 * {@code LinkedHashMap} behind an unmodifiable wrapper. Most objects of a manifest have a handful
 * of keys, so most frozen objects cost two small objects (this map and the node).
 */
abstract class FrozenMap implements Map<String, JsonNode>, Serializable {

  private static final long serialVersionUID = 1L;
  /** Up to this many values live in fields of the map. */
  static final int INLINE = 8;

  final Shape shape;

  private FrozenMap(Shape shape) {
    this.shape = shape;
  }

  /**
   * The map of {@code shape}'s keys to {@code values} ({@code values[i]} belongs to {@code
   * shape.keys[i]}); neither array is changed later, and {@code values} is kept only when it is
   * longer than {@link #INLINE}.
   */
  static FrozenMap of(Shape shape, JsonNode[] values) {
    if (shape.keys.length != values.length) {
      throw new IllegalArgumentException(shape.keys.length + " keys for " + values.length + " values");
    }
    return switch (values.length) {
      case 0 -> new Wide(shape, values);
      case 1 -> new F1(shape, values);
      case 2 -> new F2(shape, values);
      case 3 -> new F3(shape, values);
      case 4 -> new F4(shape, values);
      case 5 -> new F5(shape, values);
      case 6 -> new F6(shape, values);
      case 7 -> new F7(shape, values);
      case 8 -> new F8(shape, values);
      default -> new Wide(shape, values);
    };
  }

  String keyAt(int i) {
    return shape.keys[i];
  }

  /** The value at position {@code i}, {@code 0 <= i < size()}. */
  final JsonNode valueAt(int i) {
    if (this instanceof Wide w) {
      return w.values[i];
    }
    return switch (i) {
      case 0 -> ((F1) this).v0;
      case 1 -> ((F2) this).v1;
      case 2 -> ((F3) this).v2;
      case 3 -> ((F4) this).v3;
      case 4 -> ((F5) this).v4;
      case 5 -> ((F6) this).v5;
      case 6 -> ((F7) this).v6;
      case 7 -> ((F8) this).v7;
      default -> throw new IndexOutOfBoundsException(i);
    };
  }

  @Override
  public int size() {
    return shape.keys.length;
  }

  @Override
  public boolean isEmpty() {
    return size() == 0;
  }

  @Override
  public boolean containsKey(Object key) {
    return key instanceof String s && shape.indexOf(s) >= 0;
  }

  @Override
  public boolean containsValue(Object value) {
    for (int i = 0, n = size(); i < n; i++) {
      if (valueAt(i).equals(value)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public JsonNode get(Object key) {
    if (!(key instanceof String s)) {
      return null;
    }
    int i = shape.indexOf(s);
    return i < 0 ? null : valueAt(i);
  }

  @Override
  public JsonNode getOrDefault(Object key, JsonNode defaultValue) {
    JsonNode v = get(key);
    return v == null ? defaultValue : v;
  }

  @Override
  public void forEach(BiConsumer<? super String, ? super JsonNode> action) {
    String[] keys = shape.keys;
    for (int i = 0; i < size(); i++) {
      action.accept(keys[i], valueAt(i));
    }
  }

  @Override
  public Set<String> keySet() {
    return new KeyView();
  }

  @Override
  public Collection<JsonNode> values() {
    return new ValueView();
  }

  @Override
  public Set<Entry<String, JsonNode>> entrySet() {
    return new EntryView();
  }

  @Override
  public boolean equals(Object o) {
    if (o == this) {
      return true;
    }
    if (!(o instanceof Map<?, ?> m) || m.size() != size()) {
      return false;
    }
    if (o instanceof FrozenMap f && f.shape == shape) {
      for (int i = 0; i < size(); i++) {
        if (!valueAt(i).equals(f.valueAt(i))) {
          return false;
        }
      }
      return true;
    }
    String[] keys = shape.keys;
    for (int i = 0; i < size(); i++) {
      if (!valueAt(i).equals(m.get(keys[i]))) {
        return false;  // values are never null, so a missing key also lands here
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    String[] keys = shape.keys;
    int h = 0;
    for (int i = 0; i < size(); i++) {
      h += keys[i].hashCode() ^ valueAt(i).hashCode();
    }
    return h;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder().append('{');
    for (int i = 0; i < size(); i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(shape.keys[i]).append('=').append(valueAt(i));
    }
    return sb.append('}').toString();
  }

  // ------------------------------------------------------------------ every mutator throws

  private static UnsupportedOperationException frozen() {
    return new UnsupportedOperationException("frozen document: make a mutable copy with Documents.mutableCopy");
  }

  @Override
  public JsonNode put(String key, JsonNode value) {
    throw frozen();
  }

  @Override
  public JsonNode remove(Object key) {
    throw frozen();
  }

  @Override
  public void putAll(Map<? extends String, ? extends JsonNode> m) {
    throw frozen();
  }

  @Override
  public void clear() {
    throw frozen();
  }

  @Override
  public void replaceAll(BiFunction<? super String, ? super JsonNode, ? extends JsonNode> function) {
    throw frozen();
  }

  @Override
  public JsonNode putIfAbsent(String key, JsonNode value) {
    throw frozen();
  }

  @Override
  public boolean remove(Object key, Object value) {
    throw frozen();
  }

  @Override
  public boolean replace(String key, JsonNode oldValue, JsonNode newValue) {
    throw frozen();
  }

  @Override
  public JsonNode replace(String key, JsonNode value) {
    throw frozen();
  }

  @Override
  public JsonNode computeIfAbsent(String key, Function<? super String, ? extends JsonNode> mappingFunction) {
    throw frozen();
  }

  @Override
  public JsonNode computeIfPresent(String key,
      BiFunction<? super String, ? super JsonNode, ? extends JsonNode> remappingFunction) {
    throw frozen();
  }

  @Override
  public JsonNode compute(String key, BiFunction<? super String, ? super JsonNode, ? extends JsonNode> remappingFunction) {
    throw frozen();
  }

  @Override
  public JsonNode merge(String key, JsonNode value,
      BiFunction<? super JsonNode, ? super JsonNode, ? extends JsonNode> remappingFunction) {
    throw frozen();
  }

  // ------------------------------------------------------------------ views

  /** Iterates positions 0..size-1; {@code remove} throws. */
  private abstract class Cursor<T> implements Iterator<T> {
    private int next;

    @Override
    public boolean hasNext() {
      return next < size();
    }

    @Override
    public T next() {
      if (next >= size()) {
        throw new NoSuchElementException();
      }
      return at(next++);
    }

    abstract T at(int i);

    @Override
    public void remove() {
      throw frozen();
    }
  }

  /** Read-only collection views: every bulk or single mutator throws. */
  private abstract static class View<T> extends AbstractCollection<T> {
    @Override
    public boolean add(T t) {
      throw frozen();
    }

    @Override
    public boolean remove(Object o) {
      throw frozen();
    }

    @Override
    public boolean addAll(Collection<? extends T> c) {
      throw frozen();
    }

    @Override
    public boolean removeAll(Collection<?> c) {
      throw frozen();
    }

    @Override
    public boolean retainAll(Collection<?> c) {
      throw frozen();
    }

    @Override
    public boolean removeIf(Predicate<? super T> filter) {
      throw frozen();
    }

    @Override
    public void clear() {
      throw frozen();
    }
  }

  /** A read-only set view; equals and hashCode per the {@link Set} contract. */
  private abstract static class SetView<T> extends View<T> implements Set<T> {
    @Override
    public boolean equals(Object o) {
      if (o == this) {
        return true;
      }
      if (!(o instanceof Set<?> s) || s.size() != size()) {
        return false;
      }
      return containsAll(s);
    }

    @Override
    public int hashCode() {
      int h = 0;
      for (T t : this) {
        h += t.hashCode();
      }
      return h;
    }
  }

  private final class KeyView extends SetView<String> {
    @Override
    public int size() {
      return FrozenMap.this.size();
    }

    @Override
    public boolean contains(Object o) {
      return containsKey(o);
    }

    @Override
    public Iterator<String> iterator() {
      return new Cursor<>() {
        @Override
        String at(int i) {
          return shape.keys[i];
        }
      };
    }
  }

  private final class ValueView extends View<JsonNode> {
    @Override
    public int size() {
      return FrozenMap.this.size();
    }

    @Override
    public boolean contains(Object o) {
      return containsValue(o);
    }

    @Override
    public Iterator<JsonNode> iterator() {
      return new Cursor<>() {
        @Override
        JsonNode at(int i) {
          return valueAt(i);
        }
      };
    }
  }

  private final class EntryView extends SetView<Entry<String, JsonNode>> {
    @Override
    public int size() {
      return FrozenMap.this.size();
    }

    @Override
    public boolean contains(Object o) {
      if (!(o instanceof Entry<?, ?> e)) {
        return false;
      }
      JsonNode v = get(e.getKey());
      return v != null && v.equals(e.getValue());
    }

    @Override
    public Iterator<Entry<String, JsonNode>> iterator() {
      return new Cursor<>() {
        @Override
        Entry<String, JsonNode> at(int i) {
          return new AbstractMap.SimpleImmutableEntry<>(shape.keys[i], valueAt(i));
        }
      };
    }
  }

  // ------------------------------------------------------------------ storage

  /** More than {@link #INLINE} values (or none): an array beside the map. */
  private static final class Wide extends FrozenMap {
    private static final long serialVersionUID = 1L;
    private final JsonNode[] values;

    Wide(Shape shape, JsonNode[] values) {
      super(shape);
      this.values = values;
    }
  }

  /** One value in a field; each larger size adds one field to the one before. */
  private static class F1 extends FrozenMap {
    private static final long serialVersionUID = 1L;
    private final JsonNode v0;

    F1(Shape shape, JsonNode[] v) {
      super(shape);
      v0 = v[0];
    }
  }

  private static class F2 extends F1 {
    private static final long serialVersionUID = 1L;
    private final JsonNode v1;

    F2(Shape shape, JsonNode[] v) {
      super(shape, v);
      v1 = v[1];
    }
  }

  private static class F3 extends F2 {
    private static final long serialVersionUID = 1L;
    private final JsonNode v2;

    F3(Shape shape, JsonNode[] v) {
      super(shape, v);
      v2 = v[2];
    }
  }

  private static class F4 extends F3 {
    private static final long serialVersionUID = 1L;
    private final JsonNode v3;

    F4(Shape shape, JsonNode[] v) {
      super(shape, v);
      v3 = v[3];
    }
  }

  private static class F5 extends F4 {
    private static final long serialVersionUID = 1L;
    private final JsonNode v4;

    F5(Shape shape, JsonNode[] v) {
      super(shape, v);
      v4 = v[4];
    }
  }

  private static class F6 extends F5 {
    private static final long serialVersionUID = 1L;
    private final JsonNode v5;

    F6(Shape shape, JsonNode[] v) {
      super(shape, v);
      v5 = v[5];
    }
  }

  private static class F7 extends F6 {
    private static final long serialVersionUID = 1L;
    private final JsonNode v6;

    F7(Shape shape, JsonNode[] v) {
      super(shape, v);
      v6 = v[6];
    }
  }

  private static final class F8 extends F7 {
    private static final long serialVersionUID = 1L;
    private final JsonNode v7;

    F8(Shape shape, JsonNode[] v) {
      super(shape, v);
      v7 = v[7];
    }
  }

  // ------------------------------------------------------------------ shapes

  /**
   * The keys of an object, in order, with a hash index once there are more than
   * {@link #LINEAR} of them. Immutable and shared by every frozen object with the same keys.
   */
  static final class Shape implements Serializable {
    private static final long serialVersionUID = 1L;
    /** Up to this many keys a linear scan beats hashing. */
    static final int LINEAR = 8;

    final String[] keys;
    /** Open addressing: slot holds key index + 1, 0 when empty; null for small shapes. */
    private final int[] index;
    private final int hash;

    /** {@code keys} must be distinct and is not copied. */
    Shape(String[] keys, int hash) {
      this.keys = keys;
      this.hash = hash;
      if (keys.length <= LINEAR) {
        this.index = null;
      } else {
        int cap = Integer.highestOneBit(keys.length * 2 - 1) << 1;
        int[] idx = new int[cap];
        int mask = cap - 1;
        for (int i = 0; i < keys.length; i++) {
          int slot = spread(keys[i].hashCode()) & mask;
          while (idx[slot] != 0) {
            slot = (slot + 1) & mask;
          }
          idx[slot] = i + 1;
        }
        this.index = idx;
      }
    }

    static int spread(int h) {
      return h ^ (h >>> 16);
    }

    /** The hash the shape cache files {@code keys} under. */
    static int hashOf(String[] keys) {
      int h = 1;
      for (String k : keys) {
        h = 31 * h + k.hashCode();
      }
      return h;
    }

    int indexOf(String key) {
      String[] ks = keys;
      if (index == null) {
        for (int i = 0; i < ks.length; i++) {
          if (ks[i].equals(key)) {
            return i;
          }
        }
        return -1;
      }
      int mask = index.length - 1;
      int slot = spread(key.hashCode()) & mask;
      int at;
      while ((at = index[slot]) != 0) {
        if (ks[at - 1].equals(key)) {
          return at - 1;
        }
        slot = (slot + 1) & mask;
      }
      return -1;
    }

    boolean sameKeys(String[] other, int otherHash) {
      return otherHash == hash && Arrays.equals(keys, other);
    }

    int hash() {
      return hash;
    }
  }
}
