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

  private static final String[] CONTAINERS = {"containers", "initContainers", "ephemeralContainers"};

  /** Key type → path patterns whose change needs delete-and-create. */
  private static final Map<String, List<PathPattern>> IMMUTABLE = Map.ofEntries(
      Map.entry("apps/Deployment", patterns("/spec/selector/**")),
      Map.entry("apps/ReplicaSet", patterns("/spec/selector/**")),
      Map.entry("apps/DaemonSet", patterns("/spec/selector/**")),
      Map.entry("apps/StatefulSet", patterns("/spec/selector/**", "/spec/serviceName", "/spec/volumeClaimTemplates/**",
          "/spec/podManagementPolicy")),
      Map.entry("batch/Job", patterns("/spec/template/**", "/spec/selector/**", "/spec/completionMode",
          "/spec/manualSelector")),
      Map.entry("/Service", patterns("/spec/clusterIP", "/spec/clusterIPs/**", "/spec/ipFamilies/**")),
      Map.entry("/Secret", patterns("/type")),
      Map.entry("/PersistentVolumeClaim", patterns("/spec/accessModes/**", "/spec/selector/**",
          "/spec/storageClassName", "/spec/volumeName", "/spec/volumeMode", "/spec/dataSource/**",
          "/spec/dataSourceRef/**")),
      Map.entry("/Pod", patterns("/spec/containers/*/name", "/spec/containers/*/command/**", "/spec/containers/*/args/**",
          "/spec/containers/*/env/**", "/spec/containers/*/ports/**", "/spec/containers/*/volumeMounts/**",
          "/spec/containers/*/resources/**", "/spec/volumes/**", "/spec/nodeName", "/spec/serviceAccountName",
          "/spec/restartPolicy", "/spec/nodeSelector/**", "/spec/hostNetwork", "/spec/securityContext/**")),
      Map.entry("rbac.authorization.k8s.io/RoleBinding", patterns("/roleRef/**")),
      Map.entry("rbac.authorization.k8s.io/ClusterRoleBinding", patterns("/roleRef/**")),
      Map.entry("storage.k8s.io/StorageClass", patterns("/provisioner", "/parameters/**", "/reclaimPolicy",
          "/volumeBindingMode")));

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

  /** Whether a change at {@code path} of an object of key type {@code type} needs delete-and-create. */
  public static boolean immutable(String type, FieldPath path) {
    List<PathPattern> ps = IMMUTABLE.get(type);
    if (ps == null) {
      return false;
    }
    for (PathPattern p : ps) {
      if (p.matches(path)) {
        return true;
      }
    }
    return false;
  }
}
