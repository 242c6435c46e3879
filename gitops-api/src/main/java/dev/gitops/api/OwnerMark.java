package dev.gitops.api;

import java.util.Objects;

/**
 * The ownership mark a provider stores on a live object: which reconciler instance owns it, and
 * the key of the object it was written for (so a mark copied onto another object is not ours).
 *
 * <pre>{@code
 * // a provider hands over the mark it read on the object (an annotation, a record) with what it saw
 * OwnerMark mark = new OwnerMark("gitops", key);
 * Observation seen = Observation.present(key, live, "rv-42", mark);
 * boolean ours = mark.isOwnedBy(ctx.owner(), key);   // false for another owner, or a mark copied from another key
 * }</pre>
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
