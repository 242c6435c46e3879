package dev.gitops.api.spi;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Change;
import dev.gitops.api.FieldPath;
import dev.gitops.api.Health;
import dev.gitops.api.MergeRules;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A provider that forwards every call to another one (Guava's forwarding pattern): extend it and
 * override only what the wrapper changes. {@link Provider#versions} is the exception: it is not
 * forwarded (the default answers none, so every key is observed through {@link #observe}), since
 * a wrapper that changes observations must not be bypassed; a wrapper that passes them through
 * unchanged may override it to forward. For the same reason a wrapper that overrides {@link
 * #apply} but not {@link #applyAll} sees every change: its batches are applied one change at a
 * time through its own {@code apply} and it does not {@linkplain #prefersBatches prefer batches},
 * even when the delegate does (override {@code applyAll} too to keep the delegate's batch call).
 * Wrappers in the add-ons (fencing in gitops-cluster) and in tests (gitops-testkit's {@code
 * ForwardingProvider}, its fault injector) build on it.
 *
 * <pre>{@code
 * Provider counting = new DelegatingProvider(real) {
 *   @Override public Outcome apply(Change change, CallContext ctx) {
 *     calls.incrementAndGet();
 *     return super.apply(change, ctx);
 *   }
 * };
 * }</pre>
 */
public abstract class DelegatingProvider implements Provider {

  private final Provider delegate;
  /** Whether the subclass overrides {@link #apply} and not {@link #applyAll}: its batches then go through its apply. */
  private final boolean appliesOneByOne;

  /** Forwards to {@code delegate}. */
  protected DelegatingProvider(Provider delegate) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
    this.appliesOneByOne = overrides("apply", Change.class, CallContext.class)
        && !overrides("applyAll", List.class, CallContext.class);
  }

  /** Whether this object's class overrides the method of this class named {@code name}. */
  private boolean overrides(String name, Class<?>... parameters) {
    for (Class<?> c = getClass(); c != DelegatingProvider.class; c = c.getSuperclass()) {
      try {
        c.getDeclaredMethod(name, parameters);
        return true;
      } catch (NoSuchMethodException notHere) {
        // not declared at this level: look at the superclass
      }
    }
    return false;
  }

  /** The provider calls are forwarded to. */
  public Provider delegate() {
    return delegate;
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
    return delegate.apply(change, ctx);
  }

  /**
   * Forwards the batch; for a subclass that overrides {@link #apply} only, applies the changes one
   * by one through that {@code apply}, so the wrapper is never bypassed.
   */
  @Override
  public Map<ResourceKey, Outcome> applyAll(List<Change> changes, CallContext ctx) {
    if (appliesOneByOne) {
      return Provider.super.applyAll(changes, ctx);
    }
    return delegate.applyAll(changes, ctx);
  }

  /** The delegate's answer; false for a subclass that overrides {@link #apply} only. */
  @Override
  public boolean prefersBatches() {
    return !appliesOneByOne && delegate.prefersBatches();
  }

  /** The delegate's answer. */
  @Override
  public int batchLimit() {
    return delegate.batchLimit();
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
  public Set<ResourceKey> cascadesTo(Resource resource, Set<ResourceKey> desired) {
    return delegate.cascadesTo(resource, desired);
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
  public void unmark(ResourceKey key, String owner, CallContext ctx) {
    delegate.unmark(key, owner, ctx);
  }

  @Override
  public Optional<ProviderPlanner> planner() {
    return delegate.planner();
  }
}
