/**
 * How provider modules plug into the agent: a {@link dev.gitops.agent.spi.ProviderFactory} per
 * provider type, found with {@link java.util.ServiceLoader} or given to the agent's builder.
 */
package dev.gitops.agent.spi;
