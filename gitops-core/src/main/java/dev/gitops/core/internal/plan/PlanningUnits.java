package dev.gitops.core.internal.plan;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Plan;
import dev.gitops.api.PlanRefusedException;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.ProviderPlanner;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/**
 * The {@link PlanningUnit}s of one plan: for each provider with its own {@link
 * Provider#planner() planner}, the changes it planned. The {@link Planner} plans every other key
 * itself and takes these as they are; here is what makes each unit one node of the dependency
 * graph ({@link #join}), counts what it owns for the deletion guard ({@link #owned}), and refuses a
 * unit that would destroy while prune is disabled ({@link #checkPrune}).
 *
 * <pre>{@code
 * Planner planner = new Planner("gitops", PlanOptions.defaults());
 * PlanningUnits units = PlanningUnits.plan(input.providers(), input.desired(), ctx);   // runs terraform plan
 * Plan planned = planner.plan(input, units);
 * units.checkPrune(planned, false);   // before a sync applies it: with prune off, a unit that destroys is refused
 * }</pre>
 */
public final class PlanningUnits {

  private static final PlanningUnits NONE = new PlanningUnits(Map.of());

  private final SortedMap<String, PlanningUnit> units;

  private PlanningUnits(Map<String, PlanningUnit> units) {
    this.units = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(units));
  }

  /** No planning providers. */
  public static PlanningUnits none() {
    return NONE;
  }

  /** These units. */
  public static PlanningUnits of(Collection<PlanningUnit> units) {
    Map<String, PlanningUnit> m = new HashMap<>();
    for (PlanningUnit u : units) {
      if (m.putIfAbsent(u.provider(), u) != null) {
        throw new IllegalArgumentException("two planning units for provider '" + u.provider() + "'");
      }
    }
    return new PlanningUnits(m);
  }

  /**
   * Plans every provider of {@code providers} that has a planner, with its resources of {@code
   * desired}. A provider whose planner fails gives a failed unit (see {@link PlanningUnit#plan}).
   */
  public static PlanningUnits plan(Map<String, Provider> providers, State desired, CallContext ctx) {
    Map<String, PlanningUnit> out = new HashMap<>();
    for (Provider p : providers.values()) {
      Optional<ProviderPlanner> planner = p.planner();
      if (planner.isEmpty()) {
        continue;
      }
      List<Resource> mine = new ArrayList<>();
      for (Resource r : desired.resources().values()) {
        if (r.key().provider().equals(p.id())) {
          mine.add(r);
        }
      }
      out.put(p.id(), PlanningUnit.plan(p.id(), planner.get(), mine, ctx));
    }
    return out.isEmpty() ? NONE : new PlanningUnits(out);
  }

  /** These units with every change's mask completed by {@code complete} (see {@link PlanningUnit#completed}). */
  PlanningUnits completed(UnaryOperator<Change> complete) {
    if (units.isEmpty()) {
      return this;
    }
    Map<String, PlanningUnit> out = new HashMap<>();
    units.forEach((id, u) -> out.put(id, u.completed(complete)));
    return new PlanningUnits(out);
  }

  /** Whether there are no units. */
  public boolean isEmpty() {
    return units.isEmpty();
  }

  /** The units by provider id. */
  public SortedMap<String, PlanningUnit> units() {
    return units;
  }

  /** Whether {@code key} belongs to a planning provider: the engine neither observes nor merges it. */
  public boolean covers(ResourceKey key) {
    return units.containsKey(key.provider());
  }

  /** The unit of {@code key}'s provider, if it is a planning provider. */
  public Optional<PlanningUnit> unitOf(ResourceKey key) {
    return Optional.ofNullable(units.get(key.provider()));
  }

  /** Every unit's changes. */
  List<Change> changes() {
    List<Change> out = new ArrayList<>();
    units.values().forEach(u -> out.addAll(u.changes()));
    return out;
  }

  /** Per planned key, its fingerprint: the provider's state token and the change's content. */
  Map<ResourceKey, String> fingerprints() {
    Map<ResourceKey, String> out = new HashMap<>();
    for (PlanningUnit u : units.values()) {
      u.changes().forEach(c -> out.put(c.key(), u.fingerprint(c)));
    }
    return out;
  }

  /**
   * What the units could not plan, as the plan's {@code unobserved} entries: {@code "plan of
   * provider 'tf'" -> why}. Any entry makes the plan incomplete.
   */
  public SortedMap<String, String> unobserved() {
    SortedMap<String, String> out = new TreeMap<>();
    units.values().forEach(u -> u.incomplete().ifPresent(why -> out.put("plan of provider '" + u.provider() + "'", why)));
    return out;
  }

  /** Per planning provider, how many objects it manages: its own state is its inventory. */
  public SortedMap<String, Integer> owned() {
    SortedMap<String, Integer> out = new TreeMap<>();
    units.values().forEach(u -> out.put(u.provider(), u.owned()));
    return out;
  }

  /**
   * SKIP changes for the keys of failed units that {@code dependents} depend on, so those
   * dependents are held ("blocked by ...: skipped: could not plan") instead of running against
   * something unknown. Keys a unit that did plan does not know are left to the dependency graph,
   * which names them as undeclared.
   */
  List<Change> placeholders(Collection<Resource> dependents, Map<ResourceKey, Set<ResourceKey>> references) {
    if (units.isEmpty()) {
      return List.of();  // only a failed unit stands in for keys
    }
    SortedMap<ResourceKey, Change> out = new TreeMap<>();
    List<Map.Entry<ResourceKey, Set<ResourceKey>>> wants = new ArrayList<>();
    for (Resource r : dependents) {
      if (!covers(r.key())) {
        wants.add(Map.entry(r.key(), r.dependsOn()));
      }
    }
    wants.addAll(references.entrySet());
    for (Map.Entry<ResourceKey, Set<ResourceKey>> w : wants) {
      for (ResourceKey dep : w.getValue()) {
        PlanningUnit u = units.get(dep.provider());
        if (u != null && u.failure().isPresent() && !u.declared().containsKey(dep)) {
          out.putIfAbsent(dep, Change.builder(dep, Action.SKIP).reason("planning provider '" + u.provider() + "' "
              + u.failure().get()).build());
        }
      }
    }
    return new ArrayList<>(out.values());
  }

  /**
   * Whether {@code dep} is a key a resource may depend on although it is not declared: a key a
   * planning unit planned (or stands in for, when it failed).
   */
  boolean planned(ResourceKey dep, Set<ResourceKey> planKeys) {
    return covers(dep) && planKeys.contains(dep);
  }

  /**
   * Makes each unit one node of {@code deps}: every change of a unit waits for everything any of
   * them (or any of the unit's declared resources) waits for outside the unit, and whatever waits
   * for any key of a unit (a planned key or a declared one) waits for all its changes. So the unit
   * becomes ready at once and runs in one call, and nothing starts before all of it is done.
   */
  void join(Map<ResourceKey, SortedSet<ResourceKey>> deps, Map<ResourceKey, Resource> desired,
      Set<ResourceKey> planKeys) {
    Map<String, Set<ResourceKey>> members = new HashMap<>();
    Map<String, Set<ResourceKey>> inside = new HashMap<>();
    for (PlanningUnit u : units.values()) {
      Set<ResourceKey> m = new TreeSet<>();
      for (ResourceKey k : planKeys) {
        if (k.provider().equals(u.provider())) {
          m.add(k);
        }
      }
      Set<ResourceKey> all = new TreeSet<>(m);
      all.addAll(u.declared().keySet());
      members.put(u.provider(), m);
      inside.put(u.provider(), all);
    }
    for (PlanningUnit u : units.values()) {
      SortedSet<ResourceKey> external = new TreeSet<>();
      for (ResourceKey m : members.get(u.provider())) {
        external.addAll(deps.getOrDefault(m, new TreeSet<>()));
      }
      for (Resource r : u.declared().values()) {
        for (ResourceKey dep : r.dependsOn()) {
          if (!desired.containsKey(dep) && !planned(dep, planKeys)) {
            throw DependencyGraph.undeclared(r, dep, false);
          }
          external.add(dep);
        }
      }
      external.removeAll(inside.get(u.provider()));
      for (ResourceKey m : members.get(u.provider())) {
        if (external.isEmpty()) {
          deps.remove(m);
        } else {
          deps.put(m, new TreeSet<>(external));
        }
      }
    }
    for (Map.Entry<ResourceKey, SortedSet<ResourceKey>> e : deps.entrySet()) {
      for (PlanningUnit u : units.values()) {
        Set<ResourceKey> in = inside.get(u.provider());
        if (in.contains(e.getKey())) {
          continue;
        }
        SortedSet<ResourceKey> ds = e.getValue();
        if (ds.removeAll(in)) {
          ds.addAll(members.get(u.provider()));
        }
      }
    }
    deps.values().removeIf(Set::isEmpty);
  }

  /**
   * Refuses to run a unit that deletes or replaces anything while prune is disabled: a planning
   * provider's plan runs whole, so its deletes cannot be skipped one by one. {@code plan} shows
   * them; a sync (or dry run) checks here.
   *
   * @throws PlanRefusedException naming the provider and the keys it would destroy
   */
  public void checkPrune(Plan plan, boolean prune) {
    if (prune) {
      return;
    }
    Map<String, List<ResourceKey>> destroyed = new TreeMap<>();
    for (Change c : plan.changes()) {
      if (covers(c.key()) && c.action().destroys()) {
        destroyed.computeIfAbsent(c.key().provider(), p -> new ArrayList<>()).add(c.key());
      }
    }
    for (Map.Entry<String, List<ResourceKey>> e : destroyed.entrySet()) {
      throw new PlanRefusedException("prune", e.getKey(), "prune is disabled, but the plan of planning provider '"
          + e.getKey() + "' deletes or replaces " + e.getValue().size() + " (" + e.getValue() + "); its plan runs"
          + " whole, so none of it is applied. Change the configuration, or enable prune.");
    }
  }
}
