/**
 * Examples of using the SDK: a custom {@link dev.gitops.api.spi.Provider} for a toy key-value
 * system ({@link dev.gitops.examples.KeyValueProvider}), with its own decoder.
 */
package dev.gitops.examples;
