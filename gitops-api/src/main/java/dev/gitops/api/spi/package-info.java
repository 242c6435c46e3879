/**
 * The service-provider interfaces a user implements to plug a live system ({@link
 * dev.gitops.api.spi.Provider}), a desired-state source, a decoder or a state store into the engine.
 */
package dev.gitops.api.spi;
