package dev.gitops.k8s.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Documents;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One normal form for Kubernetes documents, applied alike to what Git declares and to what the
 * cluster returns, so that they compare by meaning: fields the server owns are dropped ({@code
 * status} unless kept for the kind, {@code managedFields}, {@code resourceVersion}, {@code uid},
 * {@code generation}, {@code creationTimestamp}, {@code selfLink}, deletion fields), the
 * ownership marks and the {@code last-applied-configuration} annotation are dropped, Secret
 * {@code stringData} is folded into {@code data}, quantities take their canonical text and
 * container and service ports say {@code protocol: TCP} when they say nothing, a Service's "allocate
 * one" values ({@code clusterIP: ""}, {@code nodePort: 0}) are absent, base64 values are written in
 * one line, null values of ConfigMap and Secret data are absent, and so are the empty lists and
 * maps of built-in kinds, which the server never returns, and so are the {@code false}, {@code ""}
 * and {@code 0} of the plain {@code omitempty} fields of pod specs, containers, volume mounts,
 * environment variables and container ports ({@code hostNetwork: false}, {@code subPath: ""}); an
 * empty Secret or Service {@code type} is the type the server stores for it. Nothing is reordered.
 */
public final class Normalization {

  /** The annotation {@code kubectl apply} keeps its last-applied configuration in. */
  public static final String LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

  private static final List<String> SERVER_METADATA = List.of("managedFields", "resourceVersion", "uid", "generation",
      "creationTimestamp", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds");
  private static final Set<String> CONTAINER_LISTS = Set.of("containers", "initContainers", "ephemeralContainers");
  private static final Set<String> LIMIT_RANGE_FIELDS = Set.of("max", "min", "default", "defaultRequest",
      "maxLimitRequestRatio");
  /**
   * Fields that are maps ({@code map[string]...} with {@code omitempty}) in the built-in kinds: the
   * API server never returns them empty. Other empty objects ({@code emptyDir: {}}, {@code
   * resources: {}}, {@code podSelector: {}}) are structs, which it keeps, and which mean something.
   */
  private static final Set<String> OMITTED_EMPTY_MAPS = Set.of("labels", "annotations", "nodeSelector", "matchLabels",
      "data", "binaryData", "stringData", "limits", "requests", "hard");
  /**
   * Scalar fields of the built-in kinds that are plain Go values with {@code omitempty} (not
   * pointers), by what holds them: the API server stores {@code false}, {@code ""} or {@code 0}
   * there as absent, so such a value in Git is never seen live. Pointer fields ({@code
   * automountServiceAccountToken}, {@code securityContext.privileged}, {@code replicas}) keep
   * {@code false} and {@code 0}, which mean something, and are not listed.
   */
  private static final Map<String, Set<String>> OMITTED_ZERO_FIELDS = Map.of(
      "podSpec", Set.of("hostNetwork", "hostPID", "hostIPC", "nodeName", "hostname", "subdomain", "priorityClassName",
          "serviceAccountName", "serviceAccount"),
      "container", Set.of("stdin", "stdinOnce", "tty", "workingDir"),
      "volumeMounts", Set.of("readOnly", "subPath", "subPathExpr"),
      "env", Set.of("value"),
      "ports", Set.of("hostPort", "hostIP"));

  private final String markLabel;
  private final Set<String> markAnnotations;
  private final Set<String> keepStatus;

  /**
   * @param markLabel the ownership label
   * @param markAnnotations the ownership annotations
   * @param keepStatus key types whose {@code status} is part of the object (no status subresource)
   */
  public Normalization(String markLabel, Set<String> markAnnotations, Set<String> keepStatus) {
    this.markLabel = markLabel;
    this.markAnnotations = Set.copyOf(markAnnotations);
    this.keepStatus = Set.copyOf(keepStatus);
  }

  /** The normal form of {@code doc}, an object of key type {@code type}; frozen. */
  public JsonNode normalize(String type, JsonNode doc) {
    if (doc == null || !doc.isObject()) {
      return doc == null ? null : Documents.freeze(doc);
    }
    ObjectNode o = (ObjectNode) Documents.mutableCopy(doc);
    if (!keepStatus.contains(type)) {
      o.remove("status");
    }
    if (o.get("metadata") instanceof ObjectNode meta) {
      meta.remove(SERVER_METADATA);
      removeFrom(meta, "labels", Set.of(markLabel));
      Set<String> annotations = new java.util.HashSet<>(markAnnotations);
      annotations.add(LAST_APPLIED);
      removeFrom(meta, "annotations", annotations);
    }
    if (type.equals(KindTable.SECRET)) {
      if (o.path("type").isTextual() && o.get("type").textValue().isEmpty()) {
        o.put("type", "Opaque");  // what the server stores for an empty type (SetDefaults_Secret)
      }
      foldStringData(o);
      canonicalBase64(o, "data");
    } else if (type.equals("/ConfigMap")) {
      canonicalBase64(o, "binaryData");
    }
    if (type.equals(KindTable.SECRET) || type.equals("/ConfigMap")) {
      for (String field : List.of("data", "binaryData")) {
        if (o.get(field) instanceof ObjectNode map) {
          List<String> nulls = new ArrayList<>();
          map.properties().forEach(e -> {
            if (e.getValue().isNull()) {
              nulls.add(e.getKey());
            }
          });
          map.remove(nulls);  // null means absent
        }
      }
    }
    if (type.equals("/Service") && o.path("spec").path("ports") instanceof ArrayNode ports) {
      defaultProtocol(ports);
    }
    if (type.equals("/Service") && o.get("spec") instanceof ObjectNode spec) {
      unallocated(spec);
      if (spec.path("type").isTextual() && spec.get("type").textValue().isEmpty()) {
        spec.put("type", "ClusterIP");  // what the server stores for an empty type (SetDefaults_Service)
      }
    }
    // a CRD's schema holds raw JSON (default: [], enum values) that the server keeps as written
    boolean omitEmpty = KindTable.builtIn(type).isPresent() && !type.equals(KindTable.CRD);
    walk(o, type, null, omitEmpty);
    if (omitEmpty) {
      if (type.equals("/Service") && o.get("spec") instanceof ObjectNode spec && spec.path("selector").isObject()
          && spec.get("selector").isEmpty()) {
        spec.remove("selector");  // a Service's selector is a map, a workload's a struct
      }
    }
    return Documents.freeze(o);
  }



  /** Removes {@code names} from the map at {@code field}, and the map when that empties it. */
  private static void removeFrom(ObjectNode meta, String field, Set<String> names) {
    if (meta.get(field) instanceof ObjectNode map) {
      boolean had = !map.isEmpty();
      map.remove(names);
      if (had && map.isEmpty()) {
        meta.remove(field);
      }
    }
  }

  /** {@code stringData} written into {@code data} base64-encoded, as the API server does on write. */
  private static void foldStringData(ObjectNode secret) {
    JsonNode sd = secret.remove("stringData");
    if (!(sd instanceof ObjectNode strings) || strings.isEmpty()) {
      return;
    }
    ObjectNode data = secret.get("data") instanceof ObjectNode d ? d : secret.putObject("data");
    for (Map.Entry<String, JsonNode> e : strings.properties()) {
      if (e.getValue().isNull()) {
        data.remove(e.getKey());  // null means absent: never the text "null"
        continue;
      }
      String text = e.getValue().isTextual() ? e.getValue().textValue() : e.getValue().toString();
      data.put(e.getKey(), Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8)));
    }
  }

  /**
   * The bytes of base64 text as the API server reads it (Go's standard encoding, padded; line
   * breaks are skipped), or null when it is not base64.
   */
  public static byte[] base64(String text) {
    String s = text.indexOf('\n') >= 0 || text.indexOf('\r') >= 0 ? text.replace("\r", "").replace("\n", "") : text;
    if (s.length() % 4 != 0) {
      return null;
    }
    try {
      return Base64.getDecoder().decode(s);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * Base64 values written the way the server returns them (one line, padded): a value wrapped over
   * lines in Git (what {@code base64} prints) would otherwise differ from the live one forever.
   */
  private static void canonicalBase64(ObjectNode doc, String field) {
    if (doc.get(field) instanceof ObjectNode map) {
      List<String> names = new ArrayList<>();
      map.fieldNames().forEachRemaining(names::add);
      for (String n : names) {
        JsonNode v = map.get(n);
        byte[] bytes = v != null && v.isTextual() ? base64(v.textValue()) : null;
        if (bytes != null) {
          map.put(n, Base64.getEncoder().encodeToString(bytes));
        }
      }
    }
  }

  /**
   * Drops what asks the server to allocate: {@code clusterIP: ""}, {@code clusterIPs: []}, {@code
   * nodePort: 0}, {@code healthCheckNodePort: 0}. On update the server keeps what it allocated
   * for them, so Git's "allocate one" must compare equal to the allocated value, never plan a
   * change (and a cluster IP change is a replace). So is a port's {@code targetPort: 0} or {@code
   * targetPort: ""}, which the server makes the port's {@code port}: sent as written, it was an
   * update at every sync, the server defaulting it again each time.
   */
  private static void unallocated(ObjectNode spec) {
    if (spec.path("clusterIP").isTextual() && spec.get("clusterIP").textValue().isEmpty()) {
      spec.remove("clusterIP");
    }
    if (spec.path("clusterIPs").isArray() && spec.get("clusterIPs").isEmpty()) {
      spec.remove("clusterIPs");
    }
    if (spec.path("healthCheckNodePort").isNumber() && spec.get("healthCheckNodePort").asLong() == 0) {
      spec.remove("healthCheckNodePort");
    }
    for (JsonNode p : spec.path("ports")) {
      if (p instanceof ObjectNode port && port.path("nodePort").isNumber() && port.get("nodePort").asLong() == 0) {
        port.remove("nodePort");
      }
      // "use the port": the server stores the port itself there (SetDefaults_Service), on update too
      if (p instanceof ObjectNode port && (port.path("targetPort").isNumber() && port.get("targetPort").asLong() == 0
          || port.path("targetPort").isTextual() && port.get("targetPort").textValue().isEmpty())) {
        port.remove("targetPort");
      }
    }
  }

  private static void defaultProtocol(ArrayNode ports) {
    for (JsonNode p : ports) {
      if (p instanceof ObjectNode port && !port.has("protocol")) {
        port.put("protocol", "TCP");
      }
    }
  }

  /**
   * Walks the tree: container ports get their protocol, quantities their canonical text, and with
   * {@code omitEmpty} (the built-in kinds) the empty lists and empty maps the API server drops are
   * dropped: the built-in kinds are Go types whose lists and maps are {@code omitempty} (or stored
   * without telling empty from absent), so {@code tolerations: []}, {@code args: []}, {@code
   * nodeSelector: {}} or {@code annotations: {}} in Git are never seen live, and would otherwise
   * plan a change on every sync.
   */
  private static void walk(JsonNode node, String type, String parentField, boolean omitEmpty) {
    if (node instanceof ObjectNode o) {
      List<String> names = new ArrayList<>();
      o.fieldNames().forEachRemaining(names::add);
      List<String> empty = new ArrayList<>();
      for (String name : names) {
        JsonNode child = o.get(name);
        if (CONTAINER_LISTS.contains(name) && child instanceof ArrayNode containers) {
          for (JsonNode c : containers) {
            if (c.get("ports") instanceof ArrayNode ports) {
              defaultProtocol(ports);
            }
          }
        }
        if (holdsQuantities(type, parentField, name) && child instanceof ObjectNode q) {
          canonicalQuantities(q, omitEmpty);
        } else if (name.equals("sizeLimit") && child != null && child.isValueNode()) {
          canonicalQuantity(o, name, child);
        }
        walk(child, type, name, omitEmpty);
        // inner fields first, so resources: {limits: {}} becomes the resources: {} the server keeps
        if (omitEmpty && (child instanceof ArrayNode a && a.isEmpty()
            || child instanceof ObjectNode m && m.isEmpty() && OMITTED_EMPTY_MAPS.contains(name))) {
          empty.add(name);
        }
      }
      if (omitEmpty) {
        // a pod spec is the object that holds the containers (a Pod's spec, any template's spec)
        Set<String> zeros = OMITTED_ZERO_FIELDS.get(o.get("containers") instanceof ArrayNode ? "podSpec"
            : parentField != null && CONTAINER_LISTS.contains(parentField) ? "container" : String.valueOf(parentField));
        if (zeros != null) {
          for (String name : names) {
            JsonNode v = o.get(name);
            if (zeros.contains(name) && v != null && (v.isBoolean() && !v.booleanValue()
                || v.isTextual() && v.textValue().isEmpty() || v.isIntegralNumber() && v.asLong() == 0)) {
              empty.add(name);
            }
          }
        }
      }
      o.remove(empty);
    } else if (node instanceof ArrayNode a) {
      for (JsonNode e : a) {
        walk(e, type, parentField, omitEmpty);
      }
    }
  }

  /** Whether the map at {@code field} (under {@code parentField}) maps names to quantities. */
  private static boolean holdsQuantities(String type, String parentField, String field) {
    if ("resources".equals(parentField) && (field.equals("limits") || field.equals("requests"))) {
      return true;
    }
    if (field.equals("overhead") || field.equals("capacity") || field.equals("allocatable")) {
      return true;
    }
    if (type.equals("/ResourceQuota") && field.equals("hard")) {
      return true;
    }
    return type.equals("/LimitRange") && LIMIT_RANGE_FIELDS.contains(field);
  }

  /**
   * Gives the quantities of the map {@code q} their canonical text; with {@code builtIn} (a built-in
   * kind's {@code ResourceList}, Go's {@code map[ResourceName]resource.Quantity}) a null value is
   * the zero quantity {@code "0"}, as the API server decodes it ({@code Quantity.UnmarshalJSON} makes
   * JSON null the zero Quantity, which the map keeps and the server stores and returns as "0"); held
   * as null, it was absent to the merge, so {@code limits: {cpu: null}} was never sent and the server's
   * own {@code cpu: "0"} was drift at every sync.
   */
  private static void canonicalQuantities(ObjectNode q, boolean builtIn) {
    List<String> names = new ArrayList<>();
    q.fieldNames().forEachRemaining(names::add);
    for (String n : names) {
      if (builtIn && q.get(n).isNull()) {
        q.put(n, "0");
      } else {
        canonicalQuantity(q, n, q.get(n));
      }
    }
  }

  private static void canonicalQuantity(ObjectNode parent, String name, JsonNode v) {
    if (v.isNumber()) {
      parent.put(name, Quantities.canonical(v.decimalValue()));
    } else if (v.isTextual()) {
      Quantities.canonical(v.textValue()).ifPresent(c -> parent.put(name, c));
    }
  }
}
