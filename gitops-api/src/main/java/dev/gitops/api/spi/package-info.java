/**
 * The service-provider interfaces a user implements to plug a live system ({@link
 * dev.gitops.api.spi.Provider}), a desired-state source, a decoder or a state store into the engine.
 * The smallest is a {@link dev.gitops.api.spi.Source} over a fixed state, for tests and tools:
 *
 * <pre>{@code
 * Source fixed = Source.of(() -> State.of("v1", List.of(resource)));
 * }</pre>
 *
 * <p>{@link dev.gitops.api.spi.Provider}'s javadoc holds a complete provider in forty lines.
 */
package dev.gitops.api.spi;
