package dev.gitops.api.spi;

import dev.gitops.api.Resource;
import java.util.Objects;

/**
 * The last-applied state of one key, as stored: the resource (sensitive leaves as keyed hashes),
 * the store serial at which it was written and the revision it came from.
 *
 * @param resource what was applied, with its metadata (policy, dependsOn, wave decide deletes)
 * @param serial the store serial of the write, for cache keys
 * @param revision the revision it was applied at
 */
public record StoredResource(Resource resource, long serial, String revision) {
  /** Validates. */
  public StoredResource {
    Objects.requireNonNull(resource, "resource");
    Objects.requireNonNull(revision, "revision");
  }
}
