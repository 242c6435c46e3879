package dev.gitops.api;

import java.util.Objects;

/**
 * The desired document breaks a merge rule, for example a keyed-list element without its key.
 *
 * <pre>{@code
 * try {
 *   new ThreeWayMerge(rules).merge(key, lastApplied, desired, live);
 * } catch (MergeException e) {
 *   log.error("fix {} in Git: {}", e.path(), e.getMessage());   // a keyed-list element without its key, say
 * }
 * }</pre>
 */
public class MergeException extends GitOpsException {
  private static final long serialVersionUID = 1L;
  private final FieldPath path;

  /** An error at {@code path} (of resource {@code key}, when known). */
  public MergeException(ResourceKey key, FieldPath path, String message) {
    super((key == null ? "" : key + ": ") + (Objects.requireNonNull(path, "path").isRoot() ? "/" : path.toString()) + ": " + message);
    this.path = path;
  }

  /** Where in the document. */
  public FieldPath path() {
    return path;
  }
}
