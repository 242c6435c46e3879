package dev.gitops.reliability;

import dev.gitops.api.Change;
import dev.gitops.api.Outcome;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Provider;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Wraps a provider and reports every apply call to a hook before and after it (batches are split
 * into single calls so that each change is one countable point).
 */
final class CountingProvider extends dev.gitops.testkit.ForwardingProvider {
  /** Told about an apply call: {@code after} false before the delegate runs, true after. */
  interface Hook {
    void onApply(Change change, boolean after);
  }

  private final Hook hook;

  CountingProvider(Provider delegate, Hook hook) {
    super(delegate);
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
  public Outcome apply(Change change, CallContext ctx) {
    hook.onApply(change, false);
    Outcome o = super.apply(change, ctx);
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
}
