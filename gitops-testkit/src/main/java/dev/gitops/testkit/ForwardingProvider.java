package dev.gitops.testkit;

import dev.gitops.api.spi.DelegatingProvider;
import dev.gitops.api.spi.Provider;

/**
 * A provider that forwards every call to another one (Guava's forwarding pattern): extend it and
 * override only what the wrapper changes. It is gitops-api's {@link DelegatingProvider} under the
 * testkit's name.
 *
 * <pre>{@code
 * Provider counting = new ForwardingProvider(real) {
 *   @Override public Outcome apply(Change change, CallContext ctx) {
 *     calls.incrementAndGet();
 *     return super.apply(change, ctx);
 *   }
 * };
 * }</pre>
 */
public abstract class ForwardingProvider extends DelegatingProvider {

  /** Forwards to {@code delegate}. */
  protected ForwardingProvider(Provider delegate) {
    super(delegate);
  }
}
