package dev.gitops.core.internal.graph;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Finds a dependency cycle to name it in an error. Used by the planner's ordering and by the
 * executor's run graph, which both must refuse a cycle before anything runs.
 */
public final class Cycles {

  private Cycles() {}

  /**
   * A cycle among {@code nodes}, following {@code dependencies}, closed (its first node repeated
   * at the end: {@code a, b, c, a} where a depends on b, b on c and c on a); empty when there is
   * none. Dependencies outside {@code nodes} are ignored. Deterministic for a given node order and
   * dependency order: Kahn's algorithm removes everything not on or behind a cycle, then a walk
   * from the first node left, always to its first dependency left, must enter a cycle.
   */
  public static <T> List<T> find(Collection<T> nodes, Function<T, ? extends Collection<T>> dependencies) {
    Map<T, Integer> pending = new LinkedHashMap<>();
    for (T n : nodes) {
      pending.put(n, 0);
    }
    Map<T, List<T>> dependents = new HashMap<>();
    for (T n : nodes) {
      for (T d : dependencies.apply(n)) {
        if (pending.containsKey(d)) {
          pending.merge(n, 1, Integer::sum);
          dependents.computeIfAbsent(d, k -> new ArrayList<>()).add(n);
        }
      }
    }
    Deque<T> free = new ArrayDeque<>();
    pending.forEach((n, p) -> {
      if (p == 0) {
        free.add(n);
      }
    });
    while (!free.isEmpty()) {
      for (T d : dependents.getOrDefault(free.poll(), List.of())) {
        if (pending.merge(d, -1, Integer::sum) == 0) {
          free.add(d);
        }
      }
    }
    T cur = null;
    for (Map.Entry<T, Integer> e : pending.entrySet()) {
      if (e.getValue() > 0) {
        cur = e.getKey();
        break;
      }
    }
    if (cur == null) {
      return List.of();
    }
    Map<T, Integer> position = new HashMap<>();
    List<T> path = new ArrayList<>();
    while (!position.containsKey(cur)) {
      position.put(cur, path.size());
      path.add(cur);
      T next = null;
      for (T d : dependencies.apply(cur)) {
        if (pending.getOrDefault(d, 0) > 0) {
          next = d;
          break;
        }
      }
      cur = next;
    }
    List<T> cycle = new ArrayList<>(path.subList(position.get(cur), path.size()));
    cycle.add(cur);
    return cycle;
  }
}
