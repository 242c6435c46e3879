package dev.gitops.api;

import java.util.Objects;

/**
 * A live object's version token and ownership mark, read without its document: what a provider
 * answers from {@link dev.gitops.api.spi.Provider#versions} (for files, one stat and the claim).
 * The token must be the very one {@link Observation#version()} would carry for the object now.
 *
 * <pre>{@code
 * LiveVersion.of(key, "rv-42");                          // a provider without marks
 * LiveVersion.of(key, "rv-42", new OwnerMark("me", key)); // with the mark read from the object
 * }</pre>
 *
 * @param key the key
 * @param version the version token, never empty
 * @param mark the ownership mark read from the object, or null
 */
public record LiveVersion(ResourceKey key, String version, OwnerMark mark) {
  /** Validates. */
  public LiveVersion {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(version, "version");
    if (version.isEmpty()) {
      throw new IllegalArgumentException(key + ": a live version needs a non-empty token");
    }
  }

  /** A version without a mark. */
  public static LiveVersion of(ResourceKey key, String version) {
    return new LiveVersion(key, version, null);
  }

  /** A version with the object's mark. */
  public static LiveVersion of(ResourceKey key, String version, OwnerMark mark) {
    return new LiveVersion(key, version, mark);
  }
}
