package dev.gitops.k8s.internal;

import com.fasterxml.jackson.databind.node.TextNode;
import dev.gitops.api.FieldPath;
import dev.gitops.api.KeySelector;
import dev.gitops.api.MergeRules;
import dev.gitops.api.MergeRules.KeyField;
import dev.gitops.api.PathPattern;
import java.util.List;
import java.util.Map;

/**
 * How Kubernetes documents merge and which changes cannot be made in place.
 *
 * <p>Lists are keyed by the Kubernetes patch merge keys (containers by {@code name}, ports by
 * {@code containerPort} or {@code port} with {@code protocol} defaulting to TCP, volume mounts by
 * {@code mountPath}, ...), every other list is atomic; the {@code data} and {@code binaryData} maps
 * (of ConfigMaps and Secrets) are atomic too, so Git's keys are the whole map and a key added by
 * hand is removed (issue 10: "everything else atomic"); other maps merge key by key. Secret {@code
 * data} and {@code stringData} values are sensitive; null means absent, as in a JSON merge patch.
 */
public final class KubernetesRules {

  /** The key type of Jobs. */
  public static final String JOB = "batch/Job";

  private static final String[] CONTAINERS = {"containers", "initContainers", "ephemeralContainers"};

  /**
   * Key type → what the API server refuses to change in place (so a change needs delete-and-create):
   * the paths that are immutable, minus those of them it does let change. A Job's fields that
   * depend on the object's state (its completions, a suspended Job's scheduling directives) are
   * decided by the provider, which sees the live object; {@code immutable} answers for the rest.
   */
  private static final Map<String, Immutable> IMMUTABLE = Map.ofEntries(
      Map.entry("apps/Deployment", immutable("/spec/selector/**")),
      Map.entry("apps/ReplicaSet", immutable("/spec/selector/**")),
      Map.entry("apps/DaemonSet", immutable("/spec/selector/**")),
      // "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy',
      // 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
      Map.entry("apps/StatefulSet", immutable("/spec/**").except("/spec/replicas", "/spec/ordinals/**",
          "/spec/template/**", "/spec/updateStrategy/**", "/spec/revisionHistoryLimit",
          "/spec/persistentVolumeClaimRetentionPolicy/**", "/spec/minReadySeconds")),
      Map.entry(JOB, immutable("/spec/template/**", "/spec/selector/**", "/spec/manualSelector", "/spec/completions",
          "/spec/completionMode", "/spec/podFailurePolicy/**", "/spec/backoffLimitPerIndex", "/spec/managedBy",
          "/spec/successPolicy/**")),
      Map.entry("/Service", immutable("/spec/clusterIP", "/spec/clusterIPs/**", "/spec/ipFamilies/**")),
      Map.entry("/Secret", immutable("/type")),
      Map.entry("/PersistentVolumeClaim", immutable("/spec/accessModes/**", "/spec/selector/**",
          "/spec/storageClassName", "/spec/volumeName", "/spec/volumeMode", "/spec/dataSource/**",
          "/spec/dataSourceRef/**")),
      // "pod updates may not change fields other than spec.containers[*].image, spec.initContainers[*].image,
      // spec.activeDeadlineSeconds, spec.tolerations (only additions to existing tolerations),
      // spec.terminationGracePeriodSeconds" (and removing scheduling gates)
      Map.entry("/Pod", immutable("/spec/**").except("/spec/containers/*/image", "/spec/initContainers/*/image",
          "/spec/activeDeadlineSeconds", "/spec/tolerations/**", "/spec/terminationGracePeriodSeconds",
          "/spec/schedulingGates/**")),
      Map.entry("rbac.authorization.k8s.io/RoleBinding", immutable("/roleRef/**")),
      Map.entry("rbac.authorization.k8s.io/ClusterRoleBinding", immutable("/roleRef/**")),
      Map.entry("storage.k8s.io/StorageClass", immutable("/provisioner", "/parameters/**", "/reclaimPolicy",
          "/volumeBindingMode")),
      Map.entry("storage.k8s.io/VolumeAttachment", immutable("/spec/**")),
      Map.entry("scheduling.k8s.io/PriorityClass", immutable("/value", "/preemptionPolicy")),
      Map.entry("networking.k8s.io/IngressClass", immutable("/spec/controller")),
      Map.entry("node.k8s.io/RuntimeClass", immutable("/handler")),
      Map.entry("discovery.k8s.io/EndpointSlice", immutable("/addressType")),
      Map.entry("/ResourceQuota", immutable("/spec/scopes/**")),
      Map.entry("apps/ControllerRevision", immutable("/data/**")),
      Map.entry("certificates.k8s.io/CertificateSigningRequest", immutable("/spec/**")));

  /**
   * The fields of a suspended Job that never started which the API server lets change inside its
   * otherwise immutable pod template (Kubernetes' mutable scheduling directives, as Kueue uses them).
   */
  private static final List<PathPattern> SUSPENDED_JOB_MUTABLE = patterns("/spec/template/metadata/labels/**",
      "/spec/template/metadata/annotations/**", "/spec/template/spec/nodeSelector/**",
      "/spec/template/spec/tolerations/**", "/spec/template/spec/schedulingGates/**",
      "/spec/template/spec/affinity/nodeAffinity/**");

  /** Immutable paths of a kind, and the paths among them the API server lets change after all. */
  private record Immutable(List<PathPattern> paths, List<PathPattern> mutable) {
    Immutable except(String... texts) {
      return new Immutable(paths, patterns(texts));
    }

    boolean matches(FieldPath path) {
      return any(paths, path) && !any(mutable, path);
    }
  }

  private static Immutable immutable(String... texts) {
    return new Immutable(patterns(texts), List.of());
  }

  private static boolean any(List<PathPattern> patterns, FieldPath path) {
    for (PathPattern p : patterns) {
      if (p.matches(path)) {
        return true;
      }
    }
    return false;
  }

  private KubernetesRules() {}

  private static List<PathPattern> patterns(String... texts) {
    return java.util.Arrays.stream(texts).map(PathPattern::of).toList();
  }

  /** The merge rules of provider {@code providerId}. */
  public static MergeRules mergeRules(String providerId) {
    TextNode tcp = TextNode.valueOf("TCP");
    MergeRules.Builder b = MergeRules.builder().nullMode(MergeRules.NullMode.ABSENT);
    for (String c : CONTAINERS) {
      b.keyedList("/**/" + c, KeyField.of("name"))
          .keyedList("/**/" + c + "/*/ports", KeyField.of("containerPort"), KeyField.withDefault("protocol", tcp))
          .keyedList("/**/" + c + "/*/env", KeyField.of("name"))
          .keyedList("/**/" + c + "/*/volumeMounts", KeyField.of("mountPath"))
          .keyedList("/**/" + c + "/*/volumeDevices", KeyField.of("devicePath"));
    }
    b.keyedList("/spec/ports", KeyField.of("port"), KeyField.withDefault("protocol", tcp))
        .keyedList("/**/volumes", KeyField.of("name"))
        .keyedList("/**/imagePullSecrets", KeyField.of("name"))
        .keyedList("/**/hostAliases", KeyField.of("ip"))
        .keyedList("/**/topologySpreadConstraints", KeyField.of("topologyKey"), KeyField.of("whenUnsatisfiable"))
        .keyedList("/metadata/ownerReferences", KeyField.of("uid"))
        .setList("/metadata/finalizers")
        .atomicList("/**/tolerations");
    // a ConfigMap's or Secret's data is one value: Git's keys replace the live ones, a key added by hand goes
    b.atomicMap("/data").atomicMap("/binaryData");
    KeySelector secrets = KeySelector.type(providerId, KindTable.SECRET);
    b.sensitive("/data/*", secrets).sensitive("/stringData/*", secrets);
    return b.build();
  }

  /**
   * Whether a change at {@code path} of an object of key type {@code type} needs delete-and-create,
   * whatever the object's state (see {@link #mutableInSuspendedJob} for what a Job's state allows).
   */
  public static boolean immutable(String type, FieldPath path) {
    Immutable i = IMMUTABLE.get(type);
    return i != null && i.matches(path);
  }

  /** Whether {@code path} is one a suspended Job that never started may change inside its pod template. */
  public static boolean mutableInSuspendedJob(FieldPath path) {
    return any(SUSPENDED_JOB_MUTABLE, path);
  }
}
