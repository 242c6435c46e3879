package dev.gitops.api;

/**
 * A provider failed on one resource; the message names the key.
 *
 * <pre>{@code
 * // in a provider's apply: the engine retries a retryable failure with backoff; any other fails the key
 * int status = 503;   // what the live system answered
 * throw new ProviderException(change.key(), "the API answered " + status, status >= 500, cause);
 * }</pre>
 */
public class ProviderException extends GitOpsException {
  private static final long serialVersionUID = 1L;
  private final ResourceKey key;
  private final boolean retryable;

  /** A failure on {@code key}; {@code retryable} says whether trying again may help. */
  public ProviderException(ResourceKey key, String message, boolean retryable, Throwable cause) {
    super((key == null ? "" : key + ": ") + message, cause);
    this.key = key;
    this.retryable = retryable;
  }

  /** The key, or null when the failure is not about one key. */
  public ResourceKey key() {
    return key;
  }

  /** Whether trying again may help. */
  public boolean isRetryable() {
    return retryable;
  }
}
