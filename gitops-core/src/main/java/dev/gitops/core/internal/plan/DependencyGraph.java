package dev.gitops.core.internal.plan;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.DecodeException;
import dev.gitops.api.DependencyCycleException;
import dev.gitops.api.GitOpsException;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.Provider;
import dev.gitops.core.internal.graph.Cycles;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The dependency graph of a plan: edges only for real relations ({@code dependsOn} across any
 * keys and providers, waves, provider relations such as a namespace before its members). Deletes
 * run in reverse, decided from the last-applied metadata. Kind order is only a tie-break.
 */
final class DependencyGraph {

  private DependencyGraph() {}

  /** For each key of {@code changes}, the keys it waits for. */
  static Map<ResourceKey, SortedSet<ResourceKey>> build(List<Change> changes, PlanInput in,
      Map<ResourceKey, Resource> desired) {
    return build(changes, in, desired, PlanningUnits.none());
  }

  /**
   * For each key of {@code changes}, the keys it waits for; a resource may also depend on a key
   * that a planning unit planned (the unit itself is made one node afterwards, by {@link
   * PlanningUnits#join}).
   */
  static Map<ResourceKey, SortedSet<ResourceKey>> build(List<Change> changes, PlanInput in,
      Map<ResourceKey, Resource> desired, PlanningUnits units) {
    Map<ResourceKey, SortedSet<ResourceKey>> deps = new HashMap<>();
    Map<ResourceKey, Change> byKey = new HashMap<>();
    for (Change c : changes) {
      byKey.put(c.key(), c);
    }
    Set<ResourceKey> desiredKeys = desired.keySet();
    TreeMap<Integer, List<ResourceKey>> waves = new TreeMap<>();
    TreeMap<Integer, List<ResourceKey>> deleteWaves = new TreeMap<>();

    for (Change c : changes) {
      Resource d = desired.get(c.key());
      if (d != null) {
        for (ResourceKey dep : d.dependsOn()) {
          if (!desiredKeys.contains(dep) && !units.planned(dep, byKey.keySet())) {
            throw units.covers(dep) ? new DecodeException(d.origin(), d.key() + " depends on " + dep
                + ", which planning provider '" + dep.provider() + "' did not plan")
                : undeclared(d, dep, byKey.containsKey(dep));
          }
          add(deps, c.key(), dep);
        }
        Provider p = in.providers().get(c.key().provider());
        if (p != null) {
          for (ResourceKey rel : p.relations(d, desiredKeys)) {
            if (byKey.containsKey(rel) && !rel.equals(c.key())) {
              add(deps, c.key(), rel);
            }
          }
        }
        waves.computeIfAbsent(d.wave(), w -> new ArrayList<>()).add(c.key());
      } else if ((c.action() == Action.DELETE || c.action() == Action.SKIP) && c.resource() != null) {
        Resource last = c.resource();
        // Reverse: whatever the deleted resource depended on is deleted after it. A removed
        // resource that stays (its delete SKIPped) holds the deletes of what it depends on.
        for (ResourceKey dep : last.dependsOn()) {
          Change dc = byKey.get(dep);
          if (dc != null && dc.action() == Action.DELETE) {
            add(deps, dep, c.key());
          }
        }
        Provider p = in.providers().get(c.key().provider());
        if (p != null) {
          for (ResourceKey rel : p.relations(last, byKey.keySet())) {
            Change rc = byKey.get(rel);
            // A relation deleted, or created (again) where the deleted resource stood, waits for
            // this delete: a namespace goes after its members, a file replaces its emptied directory.
            if (rc != null && !rel.equals(c.key()) && (rc.action() == Action.DELETE || rc.action() == Action.CREATE
                || rc.action() == Action.REPLACE)) {
              add(deps, rel, c.key());
            }
          }
        }
        if (c.action() == Action.DELETE) {
          deleteWaves.computeIfAbsent(last.wave(), w -> new ArrayList<>()).add(c.key());
        }
      }
    }
    linkWaves(deps, new ArrayList<>(waves.values()));
    List<List<ResourceKey>> reversed = new ArrayList<>(deleteWaves.values());
    Collections.reverse(reversed);
    linkWaves(deps, reversed);
    return deps;
  }

  /** Each key of a wave waits for every key of the previous non-empty wave. */
  private static void linkWaves(Map<ResourceKey, SortedSet<ResourceKey>> deps, List<List<ResourceKey>> ordered) {
    for (int i = 1; i < ordered.size(); i++) {
      for (ResourceKey k : ordered.get(i)) {
        for (ResourceKey prev : ordered.get(i - 1)) {
          add(deps, k, prev);
        }
      }
    }
  }

  private static void add(Map<ResourceKey, SortedSet<ResourceKey>> deps, ResourceKey from, ResourceKey to) {
    deps.computeIfAbsent(from, k -> new TreeSet<>()).add(to);
  }

  /**
   * {@code changes} in a topological order of {@code deps}, ties broken by provider type order
   * then key, deletes last and in reverse ({@link #tieBreak}).
   *
   * @throws DependencyCycleException naming a cycle
   */
  static List<Change> order(List<Change> changes, Map<ResourceKey, SortedSet<ResourceKey>> deps,
      Map<String, Provider> providers) {
    if (noEdges(deps)) {
      // nothing depends on anything: the topological order is the tie-break order itself, one
      // sort (n - 1 comparisons when the changes come in that order already, as a plan's usually
      // do) instead of a priority queue and three maps over every key
      List<Change> out = new ArrayList<>(changes);
      out.sort(tieBreak(providers));
      return out;
    }
    Map<ResourceKey, Change> byKey = new HashMap<>();
    Map<ResourceKey, Integer> indegree = new HashMap<>();
    Map<ResourceKey, List<ResourceKey>> dependents = new HashMap<>();
    for (Change c : changes) {
      byKey.put(c.key(), c);
      indegree.put(c.key(), 0);
    }
    for (Map.Entry<ResourceKey, SortedSet<ResourceKey>> e : deps.entrySet()) {
      for (ResourceKey dep : e.getValue()) {
        indegree.merge(e.getKey(), 1, Integer::sum);
        dependents.computeIfAbsent(dep, k -> new ArrayList<>()).add(e.getKey());
      }
    }
    PriorityQueue<Change> ready = new PriorityQueue<>(tieBreak(providers));
    for (Change c : changes) {
      if (indegree.get(c.key()) == 0) {
        ready.add(c);
      }
    }
    List<Change> out = new ArrayList<>(changes.size());
    while (!ready.isEmpty()) {
      Change c = ready.poll();
      out.add(c);
      for (ResourceKey d : dependents.getOrDefault(c.key(), List.of())) {
        if (indegree.merge(d, -1, Integer::sum) == 0) {
          ready.add(byKey.get(d));
        }
      }
    }
    if (out.size() != changes.size()) {
      List<ResourceKey> keys = changes.stream().map(Change::key).sorted().toList();
      List<ResourceKey> cycle = Cycles.find(keys, k -> deps.getOrDefault(k, Collections.emptySortedSet()));
      List<String> why = new ArrayList<>();
      for (int i = 0; i + 1 < cycle.size(); i++) {
        why.add(why(byKey.get(cycle.get(i)), byKey.get(cycle.get(i + 1))));
      }
      throw new DependencyCycleException(cycle, why);
    }
    return out;
  }

  /**
   * Why {@code x} waits for {@code y}, for a cycle's message: a {@code dependsOn} (with where it is
   * declared), a delete run in reverse of one, their waves, or else their provider's relations.
   */
  private static String why(Change x, Change y) {
    Resource rx = x.resource();
    Resource ry = y.resource();
    if (rx != null && !isDelete(x) && rx.dependsOn().contains(y.key())) {
      return x.key() + (rx.origin().equals(dev.gitops.api.Origin.NONE) ? "" : " (" + rx.origin() + ")") + " dependsOn " + y.key();
    }
    if (ry != null && isDelete(x) && isDelete(y) && ry.dependsOn().contains(x.key())) {
      return "deleting " + x.key() + " waits for deleting " + y.key() + ", which depended on it";
    }
    if (rx != null && ry != null && isDelete(x) == isDelete(y) && rx.wave() != ry.wave()) {
      return x.key() + " is in wave " + rx.wave() + ", " + (isDelete(x) ? "deleted after" : "after") + " wave "
          + ry.wave() + " of " + y.key();
    }
    return "provider '" + x.key().provider() + "' relates " + x.key() + " to " + y.key() + " (it waits for it)";
  }

  private static boolean noEdges(Map<ResourceKey, SortedSet<ResourceKey>> deps) {
    for (SortedSet<ResourceKey> d : deps.values()) {
      if (!d.isEmpty()) {
        return false;
      }
    }
    return true;
  }

  /**
   * Plan-order comparator used for ties: provider type order, then key; deletes after everything
   * else and in the reverse of that order (a workload before the ConfigMap, account and role it
   * uses, as kubectl, Helm and Argo CD prune), since what goes in last depends on what went first.
   */
  static Comparator<Change> tieBreak(Map<String, Provider> providers) {
    Comparator<Change> applyOrder = Comparator.<Change>comparingInt(c -> {
      Provider p = providers.get(c.key().provider());
      return p == null ? 0 : p.typeOrder(c.key());
    }).thenComparing(Change::key);
    return Comparator.<Change>comparingInt(c -> isDelete(c) ? 1 : 0)
        .thenComparing((a, b) -> isDelete(a) ? applyOrder.compare(b, a) : applyOrder.compare(a, b));
  }

  /** Whether {@code c} is a delete, which the tie-break orders in reverse. */
  static boolean isDelete(Change c) {
    return c.action() == Action.DELETE;
  }

  /** The error for a resource depending on a key that is not (or no longer) declared. */
  static GitOpsException undeclared(Resource r, ResourceKey dep, boolean removed) {
    return new DecodeException(r.origin(), r.key() + " depends on " + dep
        + (removed ? ", which was removed from the desired state" : ", which is not declared"));
  }
}
