package dev.gitops.core.merge;

import java.util.AbstractList;
import java.util.AbstractSet;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A value computed once, on first access, thread-safely; and read-only collection views over such
 * values. A merge returns five of these views and most callers read none of them, so each view
 * is one object beside its supplier.
 */
final class Lazy<T> implements Supplier<T> {

  private final Supplier<T> compute;
  private volatile T value;

  private Lazy(Supplier<T> compute) {
    this.compute = compute;
  }

  static <T> Lazy<T> of(Supplier<T> compute) {
    return new Lazy<>(compute);
  }

  @Override
  public T get() {
    T v = value;
    if (v == null) {
      synchronized (this) {
        v = value;
        if (v == null) {
          v = compute.get();
          value = v;
        }
      }
    }
    return v;
  }

  /** A read-only list computed on first use ({@link AbstractList} refuses every mutator). */
  static <E> List<E> list(Supplier<List<E>> compute) {
    Lazy<List<E>> lazy = of(compute);
    return new AbstractList<>() {
      @Override
      public E get(int index) {
        return lazy.get().get(index);
      }

      @Override
      public int size() {
        return lazy.get().size();
      }
    };
  }

  /** A read-only view of the set {@code lazy} computes. */
  static <E> Set<E> set(Lazy<Set<E>> lazy) {
    return new AbstractSet<>() {
      @Override
      public Iterator<E> iterator() {
        return Collections.unmodifiableSet(lazy.get()).iterator();
      }

      @Override
      public int size() {
        return lazy.get().size();
      }

      @Override
      public boolean contains(Object o) {
        return lazy.get().contains(o);
      }
    };
  }
}
