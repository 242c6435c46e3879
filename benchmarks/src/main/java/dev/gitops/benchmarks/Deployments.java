package dev.gitops.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.gitops.api.Documents;
import dev.gitops.api.MergeRules;
import dev.gitops.api.MergeRules.KeyField;
import dev.gitops.api.ResourceKey;
import java.util.Locale;

/**
 * Kubernetes-shaped Deployments (about 3 KB of JSON: two containers with ports, env, mounts,
 * probes and resources, three volumes, labels and annotations), the edits of {@link Edit} and
 * Kubernetes-like {@link MergeRules}. Everything is deterministic.
 *
 * <pre>{@code
 * Deployments.Case c = Deployments.of(Deployments.Edit.IMAGE_BUMP);
 * MergeResult r = new ThreeWayMerge(Deployments.rules()).merge(Deployments.KEY, c.lastApplied(), c.desired(), c.live());
 * }</pre>
 */
public final class Deployments {

  /** The key every generated Deployment is merged under. */
  public static final ResourceKey KEY = ResourceKey.of("k8s", "apps/Deployment", "default", "web");

  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private Deployments() {}

  /** A realistic change between last-applied/desired (Git) and live. */
  public enum Edit {
    /** The app container's image tag moves on. */
    IMAGE_BUMP,
    /** {@code spec.replicas} 3 to 5. */
    REPLICAS,
    /** An env var inserted in the middle of the app container's twelve. */
    ENV_INSERT_MIDDLE,
    /** A new container inserted before the others. */
    CONTAINER_FRONT,
    /** Git removes the app container's livenessProbe (present in last-applied and live). */
    FIELD_REMOVED,
    /** Git unchanged; live carries only server-defaulted fields beyond it (the no-op resync). */
    LIVE_DEFAULTS_ONLY;

    /** The JMH parameter name, e.g. {@code imageBump}. */
    public String param() {
      String[] parts = name().toLowerCase(Locale.ROOT).split("_");
      StringBuilder sb = new StringBuilder(parts[0]);
      for (int i = 1; i < parts.length; i++) {
        sb.append(Character.toUpperCase(parts[i].charAt(0))).append(parts[i].substring(1));
      }
      return sb.toString();
    }

    /** The edit whose {@link #param()} is {@code p}. */
    public static Edit ofParam(String p) {
      for (Edit e : values()) {
        if (e.param().equals(p)) {
          return e;
        }
      }
      throw new IllegalArgumentException("no edit named " + p);
    }
  }

  /**
   * One merge input: last-applied, desired and live, all frozen.
   *
   * @param edit what differs
   * @param lastApplied L
   * @param desired D
   * @param live V: last-applied as the server returns it, with defaulted fields and status
   */
  public record Case(Edit edit, JsonNode lastApplied, JsonNode desired, JsonNode live) {}

  /** Kubernetes-like rules: containers, env and volumes keyed by name; ports by containerPort + protocol (default TCP). */
  public static MergeRules rules() {
    String pod = "/spec/template/spec";
    return MergeRules.builder()
        .keyedList(pod + "/containers", KeyField.of("name"))
        .keyedList(pod + "/initContainers", KeyField.of("name"))
        .keyedList(pod + "/containers/*/env", KeyField.of("name"))
        .keyedList(pod + "/containers/*/volumeMounts", KeyField.of("mountPath"))
        .keyedList(pod + "/containers/*/ports", KeyField.of("containerPort"),
            KeyField.withDefault("protocol", TextNode.valueOf("TCP")))
        .keyedList(pod + "/volumes", KeyField.of("name"))
        .nullMode(MergeRules.NullMode.ABSENT)
        .build();
  }

  /** The merge input for {@code edit}. */
  public static Case of(Edit edit) {
    ObjectNode base = base();
    ObjectNode desired = base.deepCopy();
    ObjectNode app = (ObjectNode) desired.at("/spec/template/spec/containers/0");
    switch (edit) {
      case IMAGE_BUMP -> app.put("image", "registry.example.com/shop/web:1.43.0");
      case REPLICAS -> ((ObjectNode) desired.get("spec")).put("replicas", 5);
      case ENV_INSERT_MIDDLE -> ((ArrayNode) app.get("env")).insert(6, env("FEATURE_CHECKOUT_V2", "true"));
      case CONTAINER_FRONT -> ((ArrayNode) desired.at("/spec/template/spec/containers")).insert(0,
          container("istio-proxy", "docker.io/istio/proxyv2:1.22.1", 15090, 3, 1));
      case FIELD_REMOVED -> app.remove("livenessProbe");
      case LIVE_DEFAULTS_ONLY -> { }
      default -> throw new IllegalStateException(edit.name());
    }
    return new Case(edit, Documents.freeze(base), Documents.freeze(desired), Documents.freeze(defaulted(base)));
  }

  /** The Deployment as Git declares it (mutable). */
  public static ObjectNode base() {
    ObjectNode d = F.objectNode();
    d.put("apiVersion", "apps/v1");
    d.put("kind", "Deployment");
    ObjectNode md = d.putObject("metadata");
    md.put("name", "web");
    md.put("namespace", "shop");
    ObjectNode labels = md.putObject("labels");
    labels.put("app.kubernetes.io/name", "web");
    labels.put("app.kubernetes.io/instance", "web-prod");
    labels.put("app.kubernetes.io/version", "1.42.0");
    labels.put("app.kubernetes.io/component", "frontend");
    labels.put("app.kubernetes.io/part-of", "shop");
    labels.put("app.kubernetes.io/managed-by", "gitops");
    ObjectNode ann = md.putObject("annotations");
    ann.put("team", "storefront");
    ann.put("oncall", "storefront-primary");
    ann.put("docs", "https://wiki.example.com/shop/web");
    ObjectNode spec = d.putObject("spec");
    spec.put("replicas", 3);
    spec.putObject("selector").putObject("matchLabels").put("app.kubernetes.io/name", "web")
        .put("app.kubernetes.io/instance", "web-prod");
    ObjectNode tmpl = spec.putObject("template");
    ObjectNode tl = tmpl.putObject("metadata").putObject("labels");
    tl.put("app.kubernetes.io/name", "web");
    tl.put("app.kubernetes.io/instance", "web-prod");
    tl.put("app.kubernetes.io/version", "1.42.0");
    ObjectNode pod = tmpl.putObject("spec");
    pod.put("serviceAccountName", "web");
    ArrayNode containers = pod.putArray("containers");
    containers.add(container("web", "registry.example.com/shop/web:1.42.0", 8080, 12, 3));
    containers.add(container("log-shipper", "docker.io/fluent/fluent-bit:3.0.4", 2020, 4, 1));
    ArrayNode vols = pod.putArray("volumes");
    vols.addObject().put("name", "config").putObject("configMap").put("name", "web-config");
    vols.addObject().put("name", "cache").putObject("emptyDir").put("sizeLimit", "512Mi");
    vols.addObject().put("name", "tls").putObject("secret").put("secretName", "web-tls");
    return d;
  }

  private static ObjectNode container(String name, String image, int port, int envCount, int mounts) {
    ObjectNode c = F.objectNode();
    c.put("name", name);
    c.put("image", image);
    ArrayNode ports = c.putArray("ports");
    ports.addObject().put("name", "http").put("containerPort", port);
    if (envCount > 4) {
      ports.addObject().put("name", "metrics").put("containerPort", port + 1010);
    }
    ArrayNode env = c.putArray("env");
    for (int i = 0; i < envCount; i++) {
      env.add(env(name.toUpperCase(Locale.ROOT).replace('-', '_') + "_SETTING_" + i, "value-" + i + "-" + name));
    }
    ObjectNode res = c.putObject("resources");
    res.putObject("requests").put("cpu", "250m").put("memory", "256Mi");
    res.putObject("limits").put("cpu", "1").put("memory", "512Mi");
    ArrayNode vm = c.putArray("volumeMounts");
    String[] vols = {"config", "cache", "tls"};
    for (int i = 0; i < mounts; i++) {
      vm.addObject().put("name", vols[i]).put("mountPath", "/etc/" + name + "/" + vols[i]).put("readOnly", i != 1);
    }
    if (envCount > 4) {
      ObjectNode probe = c.putObject("livenessProbe");
      probe.putObject("httpGet").put("path", "/healthz").put("port", port);
      probe.put("initialDelaySeconds", 10).put("periodSeconds", 15);
      ObjectNode ready = c.putObject("readinessProbe");
      ready.putObject("httpGet").put("path", "/ready").put("port", port);
      ready.put("periodSeconds", 5);
    }
    return c;
  }

  private static ObjectNode env(String name, String value) {
    return F.objectNode().put("name", name).put("value", value);
  }

  /** {@code d} as an API server returns it: identity metadata, defaulted fields and a status. */
  public static ObjectNode defaulted(JsonNode declared) {
    ObjectNode d = (ObjectNode) Documents.mutableCopy(declared);
    ObjectNode md = (ObjectNode) d.get("metadata");
    md.put("uid", "6f1c2e9a-1b7d-4f5e-9c3a-2d8e4b6a0f11");
    md.put("resourceVersion", "48213377");
    md.put("generation", 7);
    md.put("creationTimestamp", "2024-05-02T09:14:11Z");
    ObjectNode spec = (ObjectNode) d.get("spec");
    spec.put("progressDeadlineSeconds", 600);
    spec.put("revisionHistoryLimit", 10);
    ObjectNode strategy = spec.putObject("strategy");
    strategy.put("type", "RollingUpdate");
    strategy.putObject("rollingUpdate").put("maxSurge", "25%").put("maxUnavailable", "25%");
    ObjectNode pod = (ObjectNode) spec.at("/template/spec");
    pod.put("restartPolicy", "Always");
    pod.put("dnsPolicy", "ClusterFirst");
    pod.put("schedulerName", "default-scheduler");
    pod.put("terminationGracePeriodSeconds", 30);
    pod.putObject("securityContext");
    for (JsonNode c : pod.get("containers")) {
      ObjectNode co = (ObjectNode) c;
      co.put("imagePullPolicy", "IfNotPresent");
      co.put("terminationMessagePath", "/dev/termination-log");
      co.put("terminationMessagePolicy", "File");
      for (JsonNode p : co.get("ports")) {
        ((ObjectNode) p).put("protocol", "TCP");
      }
      JsonNode probe = co.get("livenessProbe");
      if (probe != null) {
        ((ObjectNode) probe).put("timeoutSeconds", 1).put("successThreshold", 1).put("failureThreshold", 3);
        ((ObjectNode) probe.get("httpGet")).put("scheme", "HTTP");
      }
    }
    for (JsonNode v : pod.get("volumes")) {
      JsonNode cm = v.get("configMap");
      if (cm != null) {
        ((ObjectNode) cm).put("defaultMode", 420);
      }
      JsonNode s = v.get("secret");
      if (s != null) {
        ((ObjectNode) s).put("defaultMode", 420);
      }
    }
    ObjectNode status = d.putObject("status");
    status.put("observedGeneration", 7).put("replicas", 3).put("updatedReplicas", 3).put("readyReplicas", 3)
        .put("availableReplicas", 3);
    ArrayNode conds = status.putArray("conditions");
    conds.addObject().put("type", "Available").put("status", "True").put("reason", "MinimumReplicasAvailable")
        .put("lastTransitionTime", "2024-05-02T09:15:02Z");
    conds.addObject().put("type", "Progressing").put("status", "True").put("reason", "NewReplicaSetAvailable")
        .put("lastTransitionTime", "2024-05-02T09:14:11Z");
    return d;
  }
}
