package dev.gitops.images.registry;

import dev.gitops.api.GitOpsException;

/**
 * A registry could not be read: unreachable, refused the credentials, answered with an error, or
 * sent something that is not a valid answer. The message names the registry, the repository and,
 * when there was one, the HTTP status and the registry's own error text; never a secret.
 *
 * <pre>{@code
 * try {
 *   registryClient.listTags(ImageReference.parse("registry.example.com/team/web"));
 * } catch (RegistryException e) {
 *   boolean refused = e.status() == 401 || e.status() == 403;   // -1: no answer at all
 * }
 * }</pre>
 */
public class RegistryException extends GitOpsException {
  private static final long serialVersionUID = 1L;

  private final String registry;
  private final String repository;
  private final int status;

  /** An error for {@code repository} at {@code registry}; {@code status} is the HTTP status, or -1. */
  public RegistryException(String registry, String repository, int status, String message, Throwable cause) {
    super(message, cause);
    this.registry = registry;
    this.repository = repository;
    this.status = status;
  }

  /** An error for {@code repository} at {@code registry}; {@code status} is the HTTP status, or -1. */
  public RegistryException(String registry, String repository, int status, String message) {
    this(registry, repository, status, message, null);
  }

  /** The registry host (with port when it has one). */
  public String registry() {
    return registry;
  }

  /** The repository path within the registry. */
  public String repository() {
    return repository;
  }

  /** The HTTP status of the failed answer, or -1 when there was none (a network error). */
  public int status() {
    return status;
  }
}
