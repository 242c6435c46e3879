package dev.gitops.agent.providers;

import dev.gitops.api.spi.Provider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a provider that holds something (a Kubernetes provider's client and its watches) when
 * its target stops or its session ends; a provider that holds nothing is left as it is.
 *
 * <pre>{@code
 * ProviderCloser.close(provider, "target web");
 * }</pre>
 */
public final class ProviderCloser {

  private static final Logger LOG = LoggerFactory.getLogger(ProviderCloser.class);

  private ProviderCloser() {}

  /**
   * Closes {@code provider} if it is {@link AutoCloseable}. A failure is logged with {@code owner}
   * and not thrown: only the provider's connections are left for the garbage collector, and the
   * caller still closes its store.
   */
  public static void close(Provider provider, String owner) {
    if (provider instanceof AutoCloseable c) {
      try {
        c.close();
      } catch (Exception e) {
        // See the javadoc: nothing recorded depends on it, the store closes regardless.
        LOG.warn("{}: closing the provider {} failed: {}", owner, provider.id(), e.toString());
      }
    }
  }
}
