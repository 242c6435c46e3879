package dev.gitops.core.internal.plan;

import dev.gitops.api.MergeRules;
import dev.gitops.api.Observation;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.StoredState;
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
    observations = Map.copyOf(observations);
    marked = Set.copyOf(marked);
    Objects.requireNonNull(userRules, "userRules");
    variables = Map.copyOf(variables);
    Objects.requireNonNull(secretKey, "secretKey");
    unobserved = Map.copyOf(unobserved);
  }

  /** An input where every provider's search for marked objects succeeded. */
  public PlanInput(State desired, StoredState stored, Map<String, Provider> providers,
      Map<ResourceKey, Observation> observations, Set<ResourceKey> marked, MergeRules userRules,
      Map<String, String> variables, byte[] secretKey) {
    this(desired, stored, providers, observations, marked, userRules, variables, secretKey, Map.of());
  }
}
