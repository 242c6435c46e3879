package dev.gitops.k8s;

/**
 * The annotations and label the Kubernetes provider reads from manifests and writes onto live
 * objects. The module README describes each one with an example.
 *
 * <pre class="language-yaml">{@code
 * metadata:
 *   annotations:
 *     gitops.dev/depends-on: "apps/Deployment:db:postgres, k8s:/Secret:db:credentials"
 *     gitops.dev/wave: "1"
 *     gitops.dev/management: no-prune
 *     gitops.dev/force-replace: "true"
 * }</pre>
 */
public final class Annotations {

  private Annotations() {}

  /**
   * Keys this object depends on, separated by commas or white space: a canonical key of any
   * provider ({@code k8s:apps/Deployment:db:postgres}, {@code files:file::app.conf}), or a
   * Kubernetes key without the provider ({@code apps/Deployment:db:postgres}); an empty namespace
   * in the short form means this object's own namespace when the kind is namespaced.
   */
  public static final String DEPENDS_ON = "gitops.dev/depends-on";

  /** The ordering wave, an integer: every object of a lower wave goes first. */
  public static final String WAVE = "gitops.dev/wave";

  /**
   * The management policy: {@code all}, {@code paused} (observe only), {@code no-prune}, {@code
   * create-only}, or a list such as {@code observe,create,update}.
   */
  public static final String MANAGEMENT = "gitops.dev/management";

  /** {@code "true"}: every change to this object is made by deleting and creating it. */
  public static final String FORCE_REPLACE = "gitops.dev/force-replace";

  /** The label on every applied object, with the value {@value #MANAGED_BY_VALUE}; orphans are found by it. */
  public static final String MANAGED_BY = "app.kubernetes.io/managed-by";

  /** The value of {@link #MANAGED_BY}. */
  public static final String MANAGED_BY_VALUE = "gitops";

  /** The owner id of the reconciler that applied the object. */
  public static final String OWNER = "gitops.dev/owner";

  /** The canonical key the object was applied for, so a mark copied onto another object is not taken as ours. */
  public static final String KEY = "gitops.dev/key";

  /** The annotation {@code kubectl apply} keeps the last-applied configuration in; written in the same form. */
  public static final String LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
}
