package dev.gitops.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Change;
import dev.gitops.api.FieldPath;
import dev.gitops.api.Health;
import dev.gitops.api.MergeRules;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.ProviderPlanner;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Wraps a provider and reports every apply call to a hook before and after it (batches are split
 * into single calls so that each change is one countable point).
 */
final class CountingProvider implements Provider {
  /** Told about an apply call: {@code after} false before the delegate runs, true after. */
  interface Hook {
    void onApply(Change change, boolean after);
  }

  private final Provider delegate;
  private final Hook hook;

  CountingProvider(Provider delegate, Hook hook) {
    this.delegate = delegate;
    this.hook = hook;
  }

  static CountingProvider journaling(Provider delegate, Consumer<Change> beforeApply, Hook hook) {
    return new CountingProvider(delegate, (c, after) -> {
      if (!after) {
        beforeApply.accept(c);
      }
      hook.onApply(c, after);
    });
  }

  @Override
  public String id() {
    return delegate.id();
  }

  @Override
  public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
    return delegate.observe(keys, ctx);
  }

  @Override
  public Outcome apply(Change change, CallContext ctx) {
    hook.onApply(change, false);
    Outcome o = delegate.apply(change, ctx);
    hook.onApply(change, true);
    return o;
  }

  @Override
  public Map<ResourceKey, Outcome> applyAll(List<Change> changes, CallContext ctx) {
    Map<ResourceKey, Outcome> out = new java.util.LinkedHashMap<>();
    for (Change c : changes) {
      out.put(c.key(), apply(c, ctx));
    }
    return out;
  }

  @Override
  public boolean prefersBatches() {
    return false;
  }

  @Override
  public Optional<Decoder> decoder() {
    return delegate.decoder();
  }

  @Override
  public JsonNode normalize(ResourceKey key, JsonNode live) {
    return delegate.normalize(key, live);
  }

  @Override
  public MergeRules mergeRules() {
    return delegate.mergeRules();
  }

  @Override
  public boolean requiresReplace(ResourceKey key, FieldPath path) {
    return delegate.requiresReplace(key, path);
  }

  @Override
  public Health health(ResourceKey key, Observation observation) {
    return delegate.health(key, observation);
  }

  @Override
  public Set<ResourceKey> relations(Resource resource, Set<ResourceKey> desired) {
    return delegate.relations(resource, desired);
  }

  @Override
  public int typeOrder(ResourceKey key) {
    return delegate.typeOrder(key);
  }

  @Override
  public boolean marksObjects() {
    return delegate.marksObjects();
  }

  @Override
  public Collection<ResourceKey> listMarked(String owner, CallContext ctx) {
    return delegate.listMarked(owner, ctx);
  }

  @Override
  public Optional<ProviderPlanner> planner() {
    return delegate.planner();
  }
}
