package dev.gitops.images.registry;

import java.time.Duration;
import java.util.Objects;

/**
 * A tag listing did not end within its timeout ({@link RegistryClient.Builder#listTimeout}, or the
 * one given to {@link RegistryClient#listTags(ImageReference, java.util.List, Duration)}): its pages,
 * their retries and the token fetch together took longer; or a digest read did not end within the
 * one given to {@link RegistryClient#digest(ImageReference, String, Duration)} (its {@code HEAD} and
 * {@code GET}, their retries and the token fetch together). The message names the registry, the
 * repository, the timeout (and the tag of a digest read) and what was still pending. Only that read
 * failed; the client reads other repositories as before.
 *
 * <pre>{@code
 * ImageReference web = ImageReference.parse("registry.example.com/team/web");
 * try {
 *   registryClient.listTags(web, RegistryClient.DEFAULT_EXCLUSIONS, Duration.ofSeconds(60));
 * } catch (RegistryTimeoutException e) {
 *   Duration allowed = e.timeout();   // PT1M
 * }
 * }</pre>
 */
public class RegistryTimeoutException extends RegistryException {
  private static final long serialVersionUID = 1L;

  private final Duration timeout;

  /** A read of {@code repository} at {@code registry} (its tag listing, a digest) took longer than {@code timeout}. */
  public RegistryTimeoutException(String registry, String repository, Duration timeout, String message,
      Throwable cause) {
    super(registry, repository, -1, message, cause);
    this.timeout = Objects.requireNonNull(timeout, "timeout");
  }

  /** The timeout the read exceeded. */
  public Duration timeout() {
    return timeout;
  }
}
