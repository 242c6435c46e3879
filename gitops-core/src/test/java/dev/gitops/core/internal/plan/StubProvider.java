package dev.gitops.core.internal.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.api.Change;
import dev.gitops.api.FieldPath;
import dev.gitops.api.MergeRules;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.StoredResource;
import dev.gitops.api.spi.StoredState;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiFunction;
import java.util.function.BiPredicate;
import java.util.function.ToIntFunction;

/**
 * A provider for planner tests: the planner never calls observe or apply (observations come in
 * the {@link PlanInput}), so only the planning hooks are configurable.
 */
final class StubProvider implements Provider {
  static final ObjectMapper JSON = new ObjectMapper();

  final String id;
  volatile MergeRules rules = MergeRules.defaults();
  volatile BiPredicate<ResourceKey, FieldPath> replace = (k, p) -> false;
  volatile ToIntFunction<ResourceKey> typeOrder = k -> 0;
  volatile BiFunction<Resource, Set<ResourceKey>, Set<ResourceKey>> relations = (r, d) -> Set.of();
  volatile BiFunction<Resource, Set<ResourceKey>, Set<ResourceKey>> cascades = (r, d) -> Set.of();
  volatile boolean marks;

  StubProvider(String id) {
    this.id = id;
  }

  static JsonNode json(String s) {
    try {
      return JSON.readTree(s.replace('\'', '"'));
    } catch (Exception e) {
      throw new IllegalArgumentException(s, e);
    }
  }

  /** A plan input with no stored state, marks or user rules. */
  static PlanInput input(Map<String, Provider> providers, State desired, StoredState stored,
      Map<ResourceKey, Observation> observations) {
    return new PlanInput(desired, stored, providers, observations, Set.of(), MergeRules.defaults(), Map.of(),
        new byte[32]);
  }

  /** A store holding {@code resources} as last-applied at serial 1. */
  static StoredState stored(List<Resource> resources) {
    TreeMap<ResourceKey, StoredResource> inv = new TreeMap<>();
    for (Resource r : resources) {
      inv.put(r.key(), new StoredResource(r, 1, "r0"));
    }
    return new StoredState(1, inv, new TreeMap<>(), "r0", "r0", false);
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
    throw new UnsupportedOperationException("the planner does not observe");
  }

  @Override
  public Outcome apply(Change change, CallContext ctx) {
    throw new UnsupportedOperationException("the planner does not apply");
  }

  @Override
  public boolean marksObjects() {
    return marks;
  }

  @Override
  public MergeRules mergeRules() {
    return rules;
  }

  @Override
  public boolean requiresReplace(ResourceKey key, FieldPath path) {
    return replace.test(key, path);
  }

  @Override
  public int typeOrder(ResourceKey key) {
    return typeOrder.applyAsInt(key);
  }

  @Override
  public Set<ResourceKey> relations(Resource resource, Set<ResourceKey> desired) {
    return relations.apply(resource, desired);
  }

  @Override
  public Set<ResourceKey> cascadesTo(Resource resource, Set<ResourceKey> desired) {
    return cascades.apply(resource, desired);
  }
}
