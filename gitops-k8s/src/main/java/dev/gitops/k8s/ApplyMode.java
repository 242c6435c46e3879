package dev.gitops.k8s;

/**
 * How the provider writes an update.
 *
 * <pre>{@code
 * KubernetesProvider.builder(client).applyMode(ApplyMode.SERVER_SIDE).fieldManager("gitops").build();
 * }</pre>
 */
public enum ApplyMode {
  /**
   * The default: the engine's three-way merge computes the change and it is sent as a JSON Patch
   * with the observed {@code resourceVersion} as a precondition, and the applied configuration is
   * kept in the {@code kubectl.kubernetes.io/last-applied-configuration} annotation in the form
   * {@code kubectl apply} writes.
   */
  CLIENT_SIDE,
  /**
   * Server-side apply: the whole target is sent as an apply patch under the provider's field
   * manager, taking over fields other managers own ({@code force=true}).
   */
  SERVER_SIDE
}
