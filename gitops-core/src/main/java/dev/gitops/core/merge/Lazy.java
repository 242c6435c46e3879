package dev.gitops.core.merge;

import java.util.AbstractList;
import java.util.AbstractSet;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/** Read-only collections computed once, on first access, thread-safely. */
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

  static <E> List<E> list(Supplier<List<E>> compute) {
    Lazy<List<E>> lazy = of(() -> Collections.unmodifiableList(compute.get()));
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

  static <E> Set<E> set(Supplier<Set<E>> compute) {
    Lazy<Set<E>> lazy = of(() -> Collections.unmodifiableSet(compute.get()));
    return new AbstractSet<>() {
      @Override
      public Iterator<E> iterator() {
        return lazy.get().iterator();
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
