package dev.gitops.core.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.FieldPath;
import dev.gitops.api.Health;
import dev.gitops.api.LiveVersion;
import dev.gitops.api.MergeRules;
import dev.gitops.api.Observation;
import dev.gitops.api.ProviderException;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.DelegatingProvider;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.ProviderPlanner;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A provider as the engine calls it: every planning-side hook ({@link Provider#normalize}, {@link
 * Provider#mergeRules}, {@link Provider#requiresReplace}, {@link Provider#health}, {@link
 * Provider#relations}, {@link Provider#cascadesTo}, {@link Provider#typeOrder}, {@link
 * Provider#marksObjects}, {@link Provider#prefersBatches}, {@link Provider#batchLimit}, {@link
 * Provider#decoder}, {@link Provider#planner}) that throws comes out as a {@link ProviderException} naming the provider, the
 * method and the key ({@link ProviderFailures#call}), never as the provider's raw {@code
 * NullPointerException}. The calls whose failures the engine handles per key already ({@link
 * Provider#observe}, {@link Provider#versions}, {@link Provider#listMarked}, {@link
 * Provider#apply}, {@link Provider#applyAll}, {@link Provider#unmark}) pass through as they are ({@link DelegatingProvider},
 * with {@link Provider#versions} forwarded too). The id is read once.
 *
 * <pre>{@code
 * Map<String, Provider> providers = GuardedProvider.guardAll(Map.of("m", provider));
 * // a provider whose requiresReplace throws: ProviderException "...provider 'm' failed in requiresReplace..."
 * providers.get("m").requiresReplace(key, FieldPath.of("spec"));
 * }</pre>
 */
public final class GuardedProvider extends DelegatingProvider {

  private final String id;

  private GuardedProvider(Provider delegate, String id) {
    super(delegate);
    this.id = id;
  }

  /** {@code provider}, guarded (a guarded one as it is). */
  public static Provider guard(Provider provider) {
    Objects.requireNonNull(provider, "provider");
    return provider instanceof GuardedProvider ? provider : new GuardedProvider(provider, provider.id());
  }

  /**
   * Each of {@code providers} guarded, in the same order, unmodifiable; each answers the id it is
   * filed under (read when it was added), whatever its own {@code id()} says later.
   */
  public static Map<String, Provider> guardAll(Map<String, Provider> providers) {
    Map<String, Provider> out = new LinkedHashMap<>();
    providers.forEach((id, p) -> out.put(id, p instanceof GuardedProvider ? p : new GuardedProvider(p, id)));
    return java.util.Collections.unmodifiableMap(out);
  }

  @Override
  public String id() {
    return id;
  }

  /** Forwarded: the guard changes no observation (DelegatingProvider leaves this to its subclasses). */
  @Override
  public Map<ResourceKey, LiveVersion> versions(Collection<ResourceKey> keys, CallContext ctx) {
    // an optional shortcut: whatever it throws, the engine observes those keys in full (its javadoc)
    return ProviderFailures.call(id, "versions", null, () -> delegate().versions(keys, ctx));
  }

  @Override
  public boolean prefersBatches() {
    try {
      return delegate().prefersBatches();
    } catch (RuntimeException | LinkageError | AssertionError e) {
      throw ProviderFailures.wrapped(id, "prefersBatches", null, e);
    }
  }

  @Override
  public int batchLimit() {
    try {
      return delegate().batchLimit();
    } catch (RuntimeException | LinkageError | AssertionError e) {
      throw ProviderFailures.wrapped(id, "batchLimit", null, e);
    }
  }

  @Override
  public Optional<Decoder> decoder() {
    return answer("decoder", null, delegate()::decoder);
  }

  @Override
  public JsonNode normalize(ResourceKey key, JsonNode live) {
    // a null answer is the engine's to name, per key, where it reads it
    return ProviderFailures.call(id, "normalize", key, () -> delegate().normalize(key, live));
  }

  @Override
  public MergeRules mergeRules() {
    return answer("mergeRules", null, delegate()::mergeRules);
  }

  @Override
  public boolean requiresReplace(ResourceKey key, FieldPath path) {
    try {
      return delegate().requiresReplace(key, path);
    } catch (RuntimeException | LinkageError | AssertionError e) {
      throw ProviderFailures.wrapped(id, "requiresReplace", key, e);
    }
  }

  @Override
  public Health health(ResourceKey key, Observation observation) {
    return ProviderFailures.call(id, "health", key, () -> delegate().health(key, observation));
  }

  @Override
  public Set<ResourceKey> relations(Resource resource, Set<ResourceKey> desired) {
    return answer("relations", resource.key(), () -> delegate().relations(resource, desired));
  }

  @Override
  public Set<ResourceKey> cascadesTo(Resource resource, Set<ResourceKey> desired) {
    return answer("cascadesTo", resource.key(), () -> delegate().cascadesTo(resource, desired));
  }

  @Override
  public int typeOrder(ResourceKey key) {
    try {
      return delegate().typeOrder(key);  // once per comparison of the plan's sort: no lambda, no boxing
    } catch (RuntimeException | LinkageError | AssertionError e) {
      throw ProviderFailures.wrapped(id, "typeOrder", key, e);
    }
  }

  @Override
  public boolean marksObjects() {
    try {
      return delegate().marksObjects();
    } catch (RuntimeException | LinkageError | AssertionError e) {
      throw ProviderFailures.wrapped(id, "marksObjects", null, e);
    }
  }

  @Override
  public Optional<ProviderPlanner> planner() {
    return answer("planner", null, delegate()::planner);
  }

  /** What {@code call} answers, or a {@link ProviderException} when it throws or answers null. */
  private <T> T answer(String method, ResourceKey key, java.util.function.Supplier<T> call) {
    T answer = ProviderFailures.call(id, method, key, call);
    if (answer == null) {
      throw new ProviderException(key, "provider '" + id + "' answered null from " + method
          + " (an empty answer is Optional.empty(), Set.of() or MergeRules.defaults(), never null)", false, null);
    }
    return answer;
  }

  @Override
  public String toString() {
    return delegate().toString();
  }
}
