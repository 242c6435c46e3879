package dev.gitops.api;

/**
 * The live object changed since it was observed, so the provider refused to write over it and
 * wrote nothing (Kubernetes answers 409 Conflict to a write pinned to an older {@code
 * resourceVersion}). A provider returns {@link Outcome#conflict} or throws this from {@code apply};
 * the engine then observes the key again, plans it again and applies the new change, once per
 * sync. A second conflict leaves the key {@link Outcome.Kind#UNKNOWN} until the next sync.
 *
 * <pre>{@code
 * int status = 409;   // what the system answered the write
 * if (status == 409) {
 *   throw new ConflictException(change.key(), "the object has been modified");
 * }
 * }</pre>
 */
public final class ConflictException extends ProviderException {
  private static final long serialVersionUID = 1L;

  /** A conflict on {@code key}, with the system's {@code message}. */
  public ConflictException(ResourceKey key, String message) {
    super(key, message, false, null);
  }
}
