package dev.gitops.testkit;

import dev.gitops.api.spi.Provider;

/**
 * The testkit's name for {@link dev.gitops.api.spi.ForwardingProvider}, kept so that tests written
 * against the kit compile unchanged: extend it and override only what the wrapper changes.
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
public abstract class ForwardingProvider extends dev.gitops.api.spi.ForwardingProvider {

  /** Forwards to {@code delegate}. */
  protected ForwardingProvider(Provider delegate) {
    super(delegate);
  }
}
