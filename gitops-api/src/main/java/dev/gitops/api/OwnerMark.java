package dev.gitops.api;

import java.util.Objects;

/**
 * The ownership mark a provider stores on a live object: which reconciler instance owns it, and
 * the key of the object it was written for (so a mark copied onto another object is not ours).
 *
 * @param owner the owner id of the reconciler instance
 * @param key the key the mark was written for
 */
public record OwnerMark(String owner, ResourceKey key) {
  /** Validates the parts. */
  public OwnerMark {
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(key, "key");
  }

  /** Whether this mark says that {@code owner} owns the object at {@code objectKey}. */
  public boolean isOwnedBy(String ownerId, ResourceKey objectKey) {
    return owner.equals(ownerId) && key.equals(objectKey);
  }
}
