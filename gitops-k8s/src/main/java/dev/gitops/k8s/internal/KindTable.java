package dev.gitops.k8s.internal;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The built-in kinds of Kubernetes that manifests commonly hold: their preferred version, plural
 * and scope, so that keys, informers and URLs need no discovery call for them.
 */
public final class KindTable {

  private static final Map<String, KindInfo> BUILT_IN = new HashMap<>();

  static {
    core("Namespace", "namespaces", false);
    core("ConfigMap", "configmaps", true);
    core("Secret", "secrets", true);
    core("Service", "services", true);
    core("ServiceAccount", "serviceaccounts", true);
    core("Pod", "pods", true);
    core("PodTemplate", "podtemplates", true);
    core("PersistentVolumeClaim", "persistentvolumeclaims", true);
    core("PersistentVolume", "persistentvolumes", false);
    core("Endpoints", "endpoints", true);
    core("LimitRange", "limitranges", true);
    core("ResourceQuota", "resourcequotas", true);
    core("ReplicationController", "replicationcontrollers", true);
    core("Node", "nodes", false);
    core("Event", "events", true);
    add("apps", "v1", "Deployment", "deployments", true);
    add("apps", "v1", "StatefulSet", "statefulsets", true);
    add("apps", "v1", "DaemonSet", "daemonsets", true);
    add("apps", "v1", "ReplicaSet", "replicasets", true);
    add("apps", "v1", "ControllerRevision", "controllerrevisions", true);
    add("batch", "v1", "Job", "jobs", true);
    add("batch", "v1", "CronJob", "cronjobs", true);
    add("networking.k8s.io", "v1", "Ingress", "ingresses", true);
    add("networking.k8s.io", "v1", "IngressClass", "ingressclasses", false);
    add("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true);
    add("rbac.authorization.k8s.io", "v1", "Role", "roles", true);
    add("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true);
    add("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false);
    add("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false);
    add("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false);
    add("apiregistration.k8s.io", "v1", "APIService", "apiservices", false);
    add("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", false);
    add("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", false);
    add("storage.k8s.io", "v1", "StorageClass", "storageclasses", false);
    add("storage.k8s.io", "v1", "CSIDriver", "csidrivers", false);
    add("storage.k8s.io", "v1", "VolumeAttachment", "volumeattachments", false);
    add("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true);
    add("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true);
    add("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", false);
    add("coordination.k8s.io", "v1", "Lease", "leases", true);
    add("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", false);
    add("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true);
    add("certificates.k8s.io", "v1", "CertificateSigningRequest", "certificatesigningrequests", false);
  }

  private KindTable() {}

  private static void core(String kind, String plural, boolean namespaced) {
    add("", "v1", kind, plural, namespaced);
  }

  private static void add(String group, String version, String kind, String plural, boolean namespaced) {
    KindInfo k = new KindInfo(group, version, kind, plural, namespaced);
    BUILT_IN.put(k.type(), k);
  }

  /** The built-in kind with key type {@code group/Kind}, if it is one. */
  public static Optional<KindInfo> builtIn(String type) {
    return Optional.ofNullable(BUILT_IN.get(type));
  }

  /**
   * The built-in kind of {@code type}'s group whose kind equals {@code type}'s but for case
   * ({@code /configmap} → ConfigMap): kinds are case-sensitive, so {@code type} is a misspelling.
   */
  public static Optional<KindInfo> builtInIgnoringCase(String type) {
    String group = KindInfo.groupOfType(type);
    String kind = KindInfo.kindOfType(type);
    return BUILT_IN.values().stream().filter(k -> k.group().equals(group) && k.kind().equalsIgnoreCase(kind)).findFirst();
  }

  /**
   * {@code "; <Kind> is <apiVersion>'s"} when {@code type} is not built in but its kind is, in
   * another group ({@code v1} Deployment: apps/v1's), else "": a hint for a message.
   */
  public static String elsewhere(String type) {
    if (BUILT_IN.containsKey(type)) {
      return "";
    }
    String kind = KindInfo.kindOfType(type);
    List<String> at = BUILT_IN.values().stream().filter(k -> k.kind().equals(kind)).map(KindInfo::apiVersion).sorted()
        .toList();
    return at.isEmpty() ? "" : "; the built-in " + kind + " is " + String.join(" or ", at) + "'s";
  }

  /**
   * Kubernetes' own API groups, served by the API server itself (no CustomResourceDefinition or
   * APIService of an add-on defines them), groups that later releases removed included
   * ({@code extensions}, {@code settings.k8s.io}): a cluster that does not serve one had it removed
   * by an upgrade, or never enabled it.
   */
  private static final java.util.Set<String> KUBERNETES_GROUPS = java.util.Set.of("", "admissionregistration.k8s.io",
      "apiextensions.k8s.io", "apiregistration.k8s.io", "apps", "auditregistration.k8s.io", "authentication.k8s.io",
      "authorization.k8s.io", "autoscaling", "batch", "certificates.k8s.io", "coordination.k8s.io", "discovery.k8s.io",
      "events.k8s.io", "extensions", "flowcontrol.apiserver.k8s.io", "internal.apiserver.k8s.io", "networking.k8s.io",
      "node.k8s.io", "policy", "rbac.authorization.k8s.io", "resource.k8s.io", "scheduling.k8s.io", "settings.k8s.io",
      "storage.k8s.io", "storagemigration.k8s.io");

  /** Whether {@code group} is one of Kubernetes' own API groups, removed ones and the core group included. */
  public static boolean isKubernetesGroup(String group) {
    return KUBERNETES_GROUPS.contains(group) || BUILT_IN.values().stream().anyMatch(k -> k.group().equals(group));
  }

  /** Every built-in kind, in no particular order. */
  public static java.util.Collection<KindInfo> all() {
    return List.copyOf(BUILT_IN.values());
  }

  /** The key type of CustomResourceDefinitions. */
  public static final String CRD = "apiextensions.k8s.io/CustomResourceDefinition";
  /** The key type of Namespaces. */
  public static final String NAMESPACE = "/Namespace";
  /** The key type of a PersistentVolumeClaim. */
  public static final String PVC = "/PersistentVolumeClaim";
  /** The key type of Secrets. */
  public static final String SECRET = "/Secret";
}
