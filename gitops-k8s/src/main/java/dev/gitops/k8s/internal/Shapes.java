package dev.gitops.k8s.internal;

import java.util.Map;
import java.util.Optional;

/**
 * Where the API of a built-in kind has an object, a list of objects, a list of strings or a list:
 * the fields whose shape the decoder checks at file and line ({@code resources: [1]}, {@code
 * tolerations: [x]}, {@code verbs: get}), since the API server refuses such an object at apply
 * time naming the object, not the file. A table of the fields only: what is not in it is left to
 * the server, and a field's values (its quantities, ports, integers) are checked elsewhere.
 *
 * <pre>{@code
 * Shapes.of("apps/Deployment").get().fields().get("spec").kind();  // OBJECT
 * }</pre>
 */
public final class Shapes {

  private Shapes() {}

  /** What a field holds. */
  public enum Kind {
    /** A mapping (a Go struct or map): {@code resources}, {@code securityContext}, {@code affinity}. */
    OBJECT,
    /** A list whose items are mappings: {@code tolerations}, {@code containers}, a Role's {@code rules}. */
    OBJECTS,
    /** A list of strings: {@code args}, a rule's {@code verbs}, a webhook's {@code admissionReviewVersions}. */
    STRINGS,
    /** A list of anything else (integers): {@code supplementalGroups}. */
    LIST,
    /** A string: a container's {@code name} and {@code image}, a CronJob's {@code schedule}, a Secret's {@code type}. */
    STRING,
    /** A boolean: {@code hostNetwork}, {@code privileged}, a ConfigMap's {@code immutable}, a CronJob's {@code suspend}. */
    BOOLEAN
  }

  /**
   * A field's shape: what it holds, and for {@link Kind#OBJECT} its fields, for {@link Kind#OBJECTS}
   * its items' fields (empty: nothing below is checked).
   *
   * @param kind what the field holds
   * @param fields the shapes of the fields of the object, or of every item, by name
   */
  public record Field(Kind kind, Map<String, Field> fields) {
    /** Validates the parts. */
    public Field {
      fields = Map.copyOf(fields);
    }
  }

  private static Field object(Map<String, Field> fields) {
    return new Field(Kind.OBJECT, fields);
  }

  private static Field objects(Map<String, Field> fields) {
    return new Field(Kind.OBJECTS, fields);
  }

  private static final Field OBJECT = object(Map.of());
  private static final Field OBJECTS = objects(Map.of());
  private static final Field STRINGS = new Field(Kind.STRINGS, Map.of());
  private static final Field LIST = new Field(Kind.LIST, Map.of());
  private static final Field STRING = new Field(Kind.STRING, Map.of());
  private static final Field BOOLEAN = new Field(Kind.BOOLEAN, Map.of());

  /** meta/v1 ObjectMeta's lists, the same for every kind (custom ones too); labels and annotations are checked apart. */
  private static final Field OBJECT_META = object(Map.of("metadata", object(Map.of("finalizers", STRINGS,
      "ownerReferences", objects(Map.of("apiVersion", STRING, "kind", STRING, "name", STRING, "uid", STRING,
          "controller", BOOLEAN, "blockOwnerDeletion", BOOLEAN))))));

  /** A container's or a Service's port (core/v1 ContainerPort, ServicePort): its name and protocol are strings. */
  private static final Field PORTS = objects(Map.of("name", STRING, "protocol", STRING, "hostIP", STRING,
      "appProtocol", STRING));

  /** meta/v1 LabelSelector. */
  private static final Field SELECTOR = object(Map.of("matchLabels", OBJECT,
      "matchExpressions", objects(Map.of("values", STRINGS))));

  /** core/v1 ResourceRequirements (a container's, a pod's, a claim's). */
  private static final Field RESOURCES = object(Map.of("limits", OBJECT, "requests", OBJECT, "claims", OBJECTS));

  private static final Field EXEC = object(Map.of("command", STRINGS));
  private static final Field HTTP_GET = object(Map.of("httpHeaders", OBJECTS));

  /** core/v1 Probe. */
  private static final Field PROBE = object(Map.of("exec", EXEC, "httpGet", HTTP_GET, "tcpSocket", OBJECT,
      "grpc", OBJECT));

  /** core/v1 LifecycleHandler. */
  private static final Field HANDLER = object(Map.of("exec", EXEC, "httpGet", HTTP_GET, "tcpSocket", OBJECT,
      "sleep", OBJECT));

  private static final Field SECURITY_CONTEXT = object(Map.of(
      "capabilities", object(Map.of("add", STRINGS, "drop", STRINGS)), "seLinuxOptions", OBJECT,
      "windowsOptions", OBJECT, "seccompProfile", OBJECT, "appArmorProfile", OBJECT, "privileged", BOOLEAN,
      "runAsNonRoot", BOOLEAN, "readOnlyRootFilesystem", BOOLEAN, "allowPrivilegeEscalation", BOOLEAN));

  /** core/v1 Container (and EphemeralContainer). */
  private static final Field CONTAINERS = objects(Map.ofEntries(
      Map.entry("name", STRING), Map.entry("image", STRING), Map.entry("imagePullPolicy", STRING),
      Map.entry("workingDir", STRING), Map.entry("stdin", BOOLEAN), Map.entry("tty", BOOLEAN),
      Map.entry("command", STRINGS), Map.entry("args", STRINGS), Map.entry("ports", PORTS),
      Map.entry("envFrom", objects(Map.of("configMapRef", OBJECT, "secretRef", OBJECT))),
      Map.entry("env", objects(Map.of("name", STRING, "valueFrom", object(Map.of("fieldRef", OBJECT, "resourceFieldRef", OBJECT,
          "configMapKeyRef", OBJECT, "secretKeyRef", OBJECT))))),
      Map.entry("resources", RESOURCES), Map.entry("resizePolicy", OBJECTS), Map.entry("volumeMounts", objects(Map.of("name", STRING, "mountPath", STRING, "readOnly", BOOLEAN))),
      Map.entry("volumeDevices", OBJECTS), Map.entry("livenessProbe", PROBE), Map.entry("readinessProbe", PROBE),
      Map.entry("startupProbe", PROBE), Map.entry("lifecycle", object(Map.of("postStart", HANDLER, "preStop", HANDLER))),
      Map.entry("securityContext", SECURITY_CONTEXT)));

  /** core/v1 PodAffinityTerm. */
  private static final Field POD_AFFINITY_TERM = object(Map.of("labelSelector", SELECTOR, "namespaces", STRINGS,
      "namespaceSelector", SELECTOR, "matchLabelKeys", STRINGS, "mismatchLabelKeys", STRINGS));

  private static final Field POD_AFFINITY = object(Map.of(
      "requiredDuringSchedulingIgnoredDuringExecution", objects(POD_AFFINITY_TERM.fields()),
      "preferredDuringSchedulingIgnoredDuringExecution", objects(Map.of("podAffinityTerm", POD_AFFINITY_TERM))));

  /** core/v1 NodeSelectorTerm. */
  private static final Field NODE_SELECTOR_TERM = object(Map.of(
      "matchExpressions", objects(Map.of("values", STRINGS)), "matchFields", objects(Map.of("values", STRINGS))));

  private static final Field AFFINITY = object(Map.of(
      "nodeAffinity", object(Map.of(
          "requiredDuringSchedulingIgnoredDuringExecution", object(Map.of("nodeSelectorTerms",
              objects(NODE_SELECTOR_TERM.fields()))),
          "preferredDuringSchedulingIgnoredDuringExecution", objects(Map.of("preference", NODE_SELECTOR_TERM)))),
      "podAffinity", POD_AFFINITY, "podAntiAffinity", POD_AFFINITY));

  /** core/v1 PersistentVolumeClaimSpec. */
  private static final Field CLAIM_SPEC = object(Map.of("accessModes", STRINGS, "selector", SELECTOR,
      "resources", RESOURCES, "dataSource", OBJECT, "dataSourceRef", OBJECT));

  private static final Field KEY_ITEMS = object(Map.of("items", OBJECTS));

  /** core/v1 Volume. */
  private static final Field VOLUMES = objects(Map.ofEntries(Map.entry("name", STRING),
      Map.entry("configMap", KEY_ITEMS), Map.entry("secret", KEY_ITEMS),
      Map.entry("downwardAPI", object(Map.of("items", objects(Map.of("fieldRef", OBJECT, "resourceFieldRef", OBJECT))))),
      Map.entry("projected", object(Map.of("sources", objects(Map.of("configMap", KEY_ITEMS, "secret", KEY_ITEMS,
          "downwardAPI", KEY_ITEMS, "serviceAccountToken", OBJECT, "clusterTrustBundle", OBJECT))))),
      Map.entry("emptyDir", OBJECT), Map.entry("hostPath", OBJECT), Map.entry("persistentVolumeClaim", OBJECT),
      Map.entry("nfs", OBJECT), Map.entry("csi", object(Map.of("volumeAttributes", OBJECT, "nodePublishSecretRef",
          OBJECT))),
      Map.entry("ephemeral", object(Map.of("volumeClaimTemplate", object(Map.of("metadata", OBJECT,
          "spec", CLAIM_SPEC))))),
      Map.entry("image", OBJECT)));

  /** core/v1 PodSpec. */
  private static final Field POD_SPEC = object(Map.ofEntries(
      Map.entry("containers", CONTAINERS), Map.entry("initContainers", CONTAINERS),
      Map.entry("ephemeralContainers", CONTAINERS), Map.entry("volumes", VOLUMES),
      Map.entry("nodeSelector", OBJECT), Map.entry("affinity", AFFINITY), Map.entry("tolerations", OBJECTS),
      Map.entry("securityContext", object(Map.of("seLinuxOptions", OBJECT, "windowsOptions", OBJECT,
          "seccompProfile", OBJECT, "appArmorProfile", OBJECT, "supplementalGroups", LIST, "sysctls", OBJECTS))),
      Map.entry("imagePullSecrets", OBJECTS), Map.entry("hostAliases", objects(Map.of("hostnames", STRINGS))),
      Map.entry("dnsConfig", object(Map.of("nameservers", STRINGS, "searches", STRINGS, "options", OBJECTS))),
      Map.entry("readinessGates", OBJECTS), Map.entry("overhead", OBJECT),
      Map.entry("topologySpreadConstraints", objects(Map.of("labelSelector", SELECTOR, "matchLabelKeys", STRINGS))),
      Map.entry("os", OBJECT), Map.entry("schedulingGates", OBJECTS), Map.entry("resourceClaims", OBJECTS),
      Map.entry("resources", RESOURCES), Map.entry("restartPolicy", STRING), Map.entry("serviceAccountName", STRING),
      Map.entry("nodeName", STRING), Map.entry("priorityClassName", STRING), Map.entry("schedulerName", STRING),
      Map.entry("dnsPolicy", STRING), Map.entry("hostNetwork", BOOLEAN), Map.entry("hostPID", BOOLEAN),
      Map.entry("hostIPC", BOOLEAN), Map.entry("automountServiceAccountToken", BOOLEAN),
      Map.entry("enableServiceLinks", BOOLEAN), Map.entry("shareProcessNamespace", BOOLEAN)));

  private static final Field METADATA = object(Map.of("labels", OBJECT, "annotations", OBJECT));

  /** core/v1 PodTemplateSpec. */
  private static final Field POD_TEMPLATE = object(Map.of("metadata", METADATA, "spec", POD_SPEC));

  /** batch/v1 JobSpec. */
  private static final Field JOB_SPEC = object(Map.of("selector", SELECTOR, "template", POD_TEMPLATE,
      "suspend", BOOLEAN, "manualSelector", BOOLEAN, "completionMode", STRING,
      "podFailurePolicy", object(Map.of("rules", objects(Map.of("onExitCodes", object(Map.of("values", LIST)),
          "onPodConditions", OBJECTS)))),
      "successPolicy", object(Map.of("rules", OBJECTS))));

  /** networking/v1 NetworkPolicyPeer. */
  private static final Field PEERS = objects(Map.of("podSelector", SELECTOR, "namespaceSelector", SELECTOR,
      "ipBlock", object(Map.of("except", STRINGS))));

  /** networking/v1 IngressBackend. */
  private static final Field BACKEND = object(Map.of("service", object(Map.of("port", OBJECT)), "resource", OBJECT));

  /** rbac/v1 PolicyRule. */
  private static final Field RULES = objects(Map.of("verbs", STRINGS, "apiGroups", STRINGS, "resources", STRINGS,
      "resourceNames", STRINGS, "nonResourceURLs", STRINGS));

  private static final Field BINDING_SUBJECTS = OBJECTS;

  /** admissionregistration/v1 ValidatingWebhook and MutatingWebhook. */
  private static final Field WEBHOOKS = objects(Map.of(
      "clientConfig", object(Map.of("service", OBJECT)),
      "rules", objects(Map.of("apiGroups", STRINGS, "apiVersions", STRINGS, "operations", STRINGS,
          "resources", STRINGS)),
      "namespaceSelector", SELECTOR, "objectSelector", SELECTOR, "admissionReviewVersions", STRINGS,
      "matchConditions", OBJECTS));

  /** The top-level fields checked of each built-in kind, by key type. */
  private static final Map<String, Field> KINDS = Map.ofEntries(
      Map.entry("/Pod", object(Map.of("spec", POD_SPEC))),
      Map.entry("/PodTemplate", object(Map.of("template", POD_TEMPLATE))),
      Map.entry("/ReplicationController", object(Map.of("spec", object(Map.of("selector", OBJECT,
          "template", POD_TEMPLATE))))),
      Map.entry("apps/Deployment", object(Map.of("spec", object(Map.of("selector", SELECTOR,
          "strategy", object(Map.of("rollingUpdate", OBJECT)), "template", POD_TEMPLATE, "paused", BOOLEAN))))),
      Map.entry("apps/ReplicaSet", object(Map.of("spec", object(Map.of("selector", SELECTOR,
          "template", POD_TEMPLATE))))),
      Map.entry("apps/DaemonSet", object(Map.of("spec", object(Map.of("selector", SELECTOR,
          "updateStrategy", object(Map.of("rollingUpdate", OBJECT)), "template", POD_TEMPLATE))))),
      Map.entry("apps/StatefulSet", object(Map.of("spec", object(Map.of("selector", SELECTOR,
          "updateStrategy", object(Map.of("rollingUpdate", OBJECT)), "template", POD_TEMPLATE,
          "volumeClaimTemplates", objects(Map.of("metadata", METADATA, "spec", CLAIM_SPEC)),
          "persistentVolumeClaimRetentionPolicy", OBJECT, "ordinals", OBJECT))))),
      Map.entry("batch/Job", object(Map.of("spec", JOB_SPEC))),
      Map.entry("batch/CronJob", object(Map.of("spec", object(Map.of("jobTemplate", object(Map.of(
          "metadata", METADATA, "spec", JOB_SPEC)), "schedule", STRING, "timeZone", STRING, "suspend", BOOLEAN,
          "concurrencyPolicy", STRING))))),
      Map.entry("/ConfigMap", object(Map.of("immutable", BOOLEAN))),
      Map.entry("/Secret", object(Map.of("immutable", BOOLEAN, "type", STRING))),
      Map.entry("/PersistentVolumeClaim", object(Map.of("spec", CLAIM_SPEC))),
      Map.entry("apiextensions.k8s.io/CustomResourceDefinition", object(Map.of("spec", object(Map.of("group", STRING,
          "scope", STRING, "names", object(Map.of("plural", STRING, "singular", STRING, "kind", STRING,
              "listKind", STRING, "shortNames", STRINGS, "categories", STRINGS)),
          "versions", objects(Map.of("name", STRING, "served", BOOLEAN, "storage", BOOLEAN, "schema", OBJECT,
              "subresources", OBJECT, "additionalPrinterColumns", OBJECTS))))))),
      Map.entry("/Service", object(Map.of("spec", object(Map.ofEntries(Map.entry("ports", PORTS),
          Map.entry("selector", OBJECT), Map.entry("type", STRING), Map.entry("clusterIP", STRING),
          Map.entry("externalName", STRING), Map.entry("publishNotReadyAddresses", BOOLEAN),
          Map.entry("externalIPs", STRINGS), Map.entry("clusterIPs", STRINGS), Map.entry("ipFamilies", STRINGS),
          Map.entry("loadBalancerSourceRanges", STRINGS),
          Map.entry("sessionAffinityConfig", object(Map.of("clientIP", OBJECT)))))))),
      Map.entry("/ServiceAccount", object(Map.of("secrets", OBJECTS, "imagePullSecrets", OBJECTS))),
      Map.entry("/LimitRange", object(Map.of("spec", object(Map.of("limits", OBJECTS))))),
      Map.entry("/Endpoints", object(Map.of("subsets", objects(Map.of(
          "addresses", objects(Map.of("targetRef", OBJECT)), "notReadyAddresses", objects(Map.of("targetRef", OBJECT)),
          "ports", OBJECTS))))),
      Map.entry("discovery.k8s.io/EndpointSlice", object(Map.of(
          "endpoints", objects(Map.of("addresses", STRINGS, "conditions", OBJECT, "targetRef", OBJECT,
              "hints", object(Map.of("forZones", OBJECTS, "forNodes", OBJECTS)), "deprecatedTopology", OBJECT)),
          "ports", OBJECTS))),
      Map.entry("networking.k8s.io/NetworkPolicy", object(Map.of("spec", object(Map.of("podSelector", SELECTOR,
          "policyTypes", STRINGS, "ingress", objects(Map.of("from", PEERS, "ports", PORTS)),
          "egress", objects(Map.of("to", PEERS, "ports", PORTS))))))),
      Map.entry("networking.k8s.io/Ingress", object(Map.of("spec", object(Map.of("defaultBackend", BACKEND,
          "ingressClassName", STRING, "tls", objects(Map.of("hosts", STRINGS, "secretName", STRING)),
          "rules", objects(Map.of("host", STRING, "http", object(Map.of("paths", objects(Map.of("backend", BACKEND,
              "path", STRING, "pathType", STRING))))))))))),
      Map.entry("rbac.authorization.k8s.io/Role", object(Map.of("rules", RULES))),
      Map.entry("rbac.authorization.k8s.io/ClusterRole", object(Map.of("rules", RULES,
          "aggregationRule", object(Map.of("clusterRoleSelectors", objects(SELECTOR.fields())))))),
      Map.entry("rbac.authorization.k8s.io/RoleBinding", object(Map.of("subjects", BINDING_SUBJECTS,
          "roleRef", OBJECT))),
      Map.entry("rbac.authorization.k8s.io/ClusterRoleBinding", object(Map.of("subjects", BINDING_SUBJECTS,
          "roleRef", OBJECT))),
      Map.entry("admissionregistration.k8s.io/ValidatingWebhookConfiguration", object(Map.of("webhooks", WEBHOOKS))),
      Map.entry("admissionregistration.k8s.io/MutatingWebhookConfiguration", object(Map.of("webhooks", WEBHOOKS))),
      Map.entry("policy/PodDisruptionBudget", object(Map.of("spec", object(Map.of("selector", SELECTOR))))),
      Map.entry("autoscaling/HorizontalPodAutoscaler", object(Map.of("spec", object(Map.of("scaleTargetRef", OBJECT,
          "metrics", OBJECTS, "behavior", object(Map.of(
              "scaleUp", object(Map.of("policies", OBJECTS)), "scaleDown", object(Map.of("policies", OBJECTS))))))))));

  /** The shape of the object of the built-in kind {@code type} (its top-level fields), if the table has it. */
  public static Optional<Field> of(String type) {
    return Optional.ofNullable(KINDS.get(type));
  }

  /**
   * The shape of every object's {@code metadata} lists ({@code finalizers}, {@code ownerReferences}),
   * built-in kind or custom: the API server decodes every kind's metadata as meta/v1 ObjectMeta.
   */
  public static Field objectMeta() {
    return OBJECT_META;
  }
}
