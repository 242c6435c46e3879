package dev.gitops.core.internal.plan;

import dev.gitops.api.MergeRules;
import dev.gitops.api.Observation;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.internal.SortedArrayMap;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.StoredState;
import java.util.AbstractMap;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Everything a plan is computed from.
 *
 * @param desired the desired state (from Git)
 * @param stored the stored state (last-applied, pending)
 * @param providers the providers by id
 * @param observations the normalized observation of every key of desired, stored and marked
 * @param marked keys of live objects carrying our mark (orphan candidates)
 * @param userRules merge rules the user adds to every provider's (ignore rules, mostly)
 * @param variables the substitution variables the source used
 * @param secretKey the store's key for hashing sensitive values
 * @param unobserved what could not be observed beyond single keys (a provider whose search for
 *     marked objects failed), with the reason; makes the plan incomplete
 */
public record PlanInput(State desired, StoredState stored, Map<String, Provider> providers,
    Map<ResourceKey, Observation> observations, Set<ResourceKey> marked, MergeRules userRules,
    Map<String, String> variables, byte[] secretKey, Map<String, String> unobserved) {

  /** Validates. */
  public PlanInput {
    Objects.requireNonNull(desired, "desired");
    Objects.requireNonNull(stored, "stored");
    providers = Map.copyOf(providers);
    observations = observations instanceof HandedOver ? observations : Map.copyOf(observations);
    // sorted (linear when given sorted): the planner finds the orphan candidates by one walk along the keys
    marked = SortedArrayMap.sortedSetOf(marked);
    Objects.requireNonNull(userRules, "userRules");
    variables = Map.copyOf(variables);
    Objects.requireNonNull(secretKey, "secretKey");
    unobserved = Map.copyOf(unobserved);
  }

  /**
   * {@code observations} handed over to one plan input: the caller built the map (no null key or
   * value) for that input and changes it no more, so the input keeps a read-only view of it
   * instead of a copy (the copy of every key's observation was 13% of a same-commit resync's CPU
   * at 10,000 keys). The input copies any other map.
   */
  public static Map<ResourceKey, Observation> handedOver(Map<ResourceKey, Observation> observations) {
    return new HandedOver(Collections.unmodifiableMap(observations));
  }

  /** A read-only view of a map its builder handed over ({@link #handedOver}). */
  private static final class HandedOver extends AbstractMap<ResourceKey, Observation> {
    private final Map<ResourceKey, Observation> view;

    HandedOver(Map<ResourceKey, Observation> view) {
      this.view = view;
    }

    @Override
    public Observation get(Object key) {
      return view.get(key);
    }

    @Override
    public boolean containsKey(Object key) {
      return view.containsKey(key);
    }

    @Override
    public int size() {
      return view.size();
    }

    @Override
    public Set<Map.Entry<ResourceKey, Observation>> entrySet() {
      return view.entrySet();
    }
  }

  /** An input where every provider's search for marked objects succeeded. */
  public PlanInput(State desired, StoredState stored, Map<String, Provider> providers,
      Map<ResourceKey, Observation> observations, Set<ResourceKey> marked, MergeRules userRules,
      Map<String, String> variables, byte[] secretKey) {
    this(desired, stored, providers, observations, marked, userRules, variables, secretKey, Map.of());
  }
}
