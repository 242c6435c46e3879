package dev.gitops.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.DecodeException;
import dev.gitops.api.Documents;
import dev.gitops.api.ManagementPolicy;
import dev.gitops.api.Origin;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.SourceFile;
import dev.gitops.core.decode.YamlManifestDecoder;
import dev.gitops.k8s.internal.KindInfo;
import dev.gitops.k8s.internal.KindTable;
import dev.gitops.k8s.internal.Kinds;
import dev.gitops.k8s.internal.KubernetesRules;
import dev.gitops.k8s.internal.Names;
import dev.gitops.k8s.internal.Normalization;
import dev.gitops.k8s.internal.Quantities;
import dev.gitops.k8s.internal.Shapes;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.BiPredicate;

/**
 * Reads Kubernetes manifests: multi-document YAML and JSON files, {@code kind: List} items
 * included, each object one resource keyed {@code k8s:<group>/<Kind>:<namespace>:<name>} ({@code
 * k8s:apps/Deployment:shop:web}, {@code k8s:/Namespace::shop}).
 *
 * <p>Whether a kind lives in a namespace comes from a built-in table of the core kinds, from
 * CustomResourceDefinitions anywhere in the desired state (a source hands this decoder all its
 * files at once, see {@link #decodesTogether()}) and, when the decoder belongs to a connected
 * {@link KubernetesProvider}, from the cluster. A namespaced object without {@code metadata.namespace} gets the default namespace; a
 * cluster-scoped one loses a namespace it names. {@code generateName}, a missing {@code
 * apiVersion}, {@code kind} or {@code metadata.name}, a name or namespace the API server would
 * refuse for the kind (a DNS subdomain for most built-in kinds, a DNS label for a Namespace and
 * every namespace, a DNS-1035 label for a Service, a DNS subdomain for a custom resource), label
 * keys and values and annotation keys the API server refuses and annotations over 256 KiB (for
 * every kind), a duplicate object and a kind whose scope cannot be told are errors naming the file
 * and line, and in a file of several documents the document ({@code "document 3: "}). The {@link
 * Annotations} give {@code dependsOn}, waves and management policies. Files are read under the untrusted-input limits of
 * {@link YamlManifestDecoder#documents}.
 *
 * <pre>{@code
 * Decoder d = KubernetesDecoder.builder().defaultNamespace("shop").build();
 * List<Resource> rs = d.decode(new SourceFile("apps/web.yaml", blobId, bytes, revision));
 * }</pre>
 */
public final class KubernetesDecoder implements Decoder {

  private final String providerId;
  private final String defaultNamespace;
  private final YamlManifestDecoder reader;
  private final Normalization normalization;
  private final Kinds kinds;
  /** Asks the cluster about a kind (key type, apiVersion); empty when not connected or unknown there. */
  private final BiFunction<String, String, Optional<KindInfo>> live;
  /** Whether the cluster serves a kind (key type, apiVersion) without a CustomResourceDefinition; null when not connected. */
  private final BiPredicate<String, String> aggregated;
  private final String fingerprint;
  /** The provider's merge, to check its keyed lists in what Git declares as the planner's merge will. */
  private final dev.gitops.core.merge.ThreeWayMerge lists;
  private final boolean together;
  /**
   * The objects of each file of the last whole-tree call, by path and blob id: a tree read again
   * after one file changed parses only that file (resolving scopes over all of them is cheap).
   */
  private volatile Map<String, List<Manifest>> parsed = Map.of();
  /**
   * Each object of the desired state as decoded (its origin names file and line in the provider's
   * errors; its document tells the provider what a change will make of a field, such as a Job's
   * parallelism), by key. The resources are the ones handed to the engine: nothing is copied.
   * Replaced by a whole-tree decode and by {@link #treeRead}; a file decoded alone replaces its
   * own entries.
   */
  private volatile Map<ResourceKey, Resource> declared = new ConcurrentHashMap<>();
  /** The keys each file declared in {@link #declared}, by path, so a file decoded again replaces its own. */
  private volatile Map<String, Set<ResourceKey>> keysOfFile = new ConcurrentHashMap<>();

  private KubernetesDecoder(Builder b) {
    this.together = b.together;
    this.providerId = b.providerId;
    this.defaultNamespace = b.defaultNamespace;
    this.reader = b.reader;
    this.normalization = b.normalization != null ? b.normalization
        : new Normalization(Annotations.MANAGED_BY, Set.of(Annotations.OWNER, Annotations.KEY), b.keepStatus);
    this.kinds = b.kinds != null ? b.kinds : new Kinds();
    this.live = b.live;
    this.aggregated = b.aggregated;
    this.lists = new dev.gitops.core.merge.ThreeWayMerge(KubernetesRules.mergeRules(providerId));
    this.fingerprint = "KubernetesDecoder(provider=" + providerId + ",namespace=" + defaultNamespace + ",keepStatus="
        + new TreeSet<>(b.keepStatus) + ",together=" + together + ",reader=" + reader.fingerprint() + ",v14)";
  }

  /** A builder: provider {@code k8s}, default namespace {@code default}. */
  public static Builder builder() {
    return new Builder();
  }

  /** The files the reader claims: {@code *.yaml}, {@code *.yml} and {@code *.json}. */
  @Override
  public boolean claims(String path) {
    return reader.claims(path);
  }

  @Override
  public String fingerprint() {
    return fingerprint;
  }

  @Override
  public String toString() {
    return fingerprint;
  }

  @Override
  public List<Resource> decode(SourceFile file) {
    return decode(List.of(file), false);
  }

  /**
   * Whether a source should hand every claimed file to one {@link #decodeTogether} call, so that
   * a CustomResourceDefinition in one file tells the scope of its objects in any other: on unless
   * {@link Builder#decodeFilesTogether(boolean)} turns it off. Off is for sources that substitute
   * variables ({@code GitSource.Builder.substitution}), which they do only for files decoded one
   * by one; custom objects then need their CRD in the same file, the cluster, or a namespace.
   */
  public boolean decodesTogether() {
    return together;
  }

  /**
   * Decodes {@code files} as one desired state: CustomResourceDefinitions in any of them tell the
   * scope of custom objects in all of them, and a duplicate across files is an error naming both.
   *
   * @throws DecodeException naming file, line and revision
   */
  public List<Resource> decodeTogether(List<SourceFile> files) {
    return decode(files, true);
  }

  /**
   * Why {@code f} may be input to a renderer rather than a manifest, when it looks so: a Helm
   * chart's {@code Chart.yaml} or {@code values.yaml}, a {@code kustomization.yaml}, or text holding
   * a template's {@code {{ }}}. Said after a decode error of the file, whose own words (a mapping
   * as a mapping key, a missing kind) would not tell.
   */
  private static Optional<String> unrendered(SourceFile f) {
    String name = f.path().substring(f.path().lastIndexOf('/') + 1);
    String what = switch (name) {
      case "Chart.yaml", "Chart.yml", "values.yaml", "values.yml" -> name + " is a Helm chart's file, not a manifest";
      case "kustomization.yaml", "kustomization.yml", "Kustomization" -> name + " is Kustomize's, not a manifest";
      default -> new String(f.content(), StandardCharsets.UTF_8).contains("{{")
          ? "the file holds a template's '{{ }}' (a Helm template not rendered?)" : null;
    };
    return Optional.ofNullable(what).map(w -> w + ": gitops applies rendered manifests; render them (helm template,"
        + " kustomize build) and commit the output, or keep such files out of the path read");
  }

  /** {@code e} with {@code hint} after its message, at the same place. */
  private static DecodeException withHint(DecodeException e, String hint) {
    String prefix = e.origin() + ": ";
    String message = e.getMessage().startsWith(prefix) ? e.getMessage().substring(prefix.length()) : e.getMessage();
    return new DecodeException(e.origin(), message + "; " + hint, e);
  }

  /** Decodes {@code files}; {@code wholeTree} when they are the whole desired state (they replace what was known of it). */
  private List<Resource> decode(List<SourceFile> files, boolean wholeTree) {
    Map<String, List<Manifest>> before = parsed;
    Map<String, List<Manifest>> now = new HashMap<>();
    List<Manifest> manifests = new ArrayList<>();
    for (SourceFile f : files) {
      String id = f.path() + "\0" + f.blobId();
      List<Manifest> ofFile = wholeTree ? before.get(id) : null;
      if (ofFile == null) {
        ofFile = new ArrayList<>();
        try {
          List<YamlManifestDecoder.Document> docs = reader.documents(f);
          // a file of several documents names the document in every error, as the reader's own errors do
          boolean several = docs.size() > 1 || docs.size() == 1 && docs.get(0).number() > 1;
          for (YamlManifestDecoder.Document d : docs) {
            flatten(d.content(), new Place(d.origin(), several && d.number() > 0 ? "document " + d.number() : "", ""),
                ofFile, d);
          }
        } catch (DecodeException e) {
          if (e.getMessage().endsWith("a document must be a mapping, got array")) {
            // kubectl refuses a top-level list too; what it reads instead is not obvious from the message
            throw withHint(e, "a list of objects is not read as manifests (kubectl refuses it too): write the objects"
                + " one after the other" + (f.path().toLowerCase(Locale.ROOT).endsWith(".json") ? "" : " (separated by"
                + " '---')") + ", or as the items of a List ({\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [...]})");
          }
          throw unrendered(f).map(hint -> withHint(e, hint)).orElse(e);
        }
        ofFile = List.copyOf(ofFile);
      } else if (!ofFile.isEmpty() && !ofFile.get(0).origin().revision().equals(f.revision())) {
        ofFile = ofFile.stream().map(m -> m.at(f.revision())).toList();
      }
      now.put(id, ofFile);
      manifests.addAll(ofFile);
    }
    if (wholeTree) {
      parsed = now;  // bounded by the tree: files no longer there are forgotten
    }
    Map<String, KindInfo> crds = new HashMap<>();
    Map<String, Manifest> crdOf = new HashMap<>();
    Map<String, Manifest> firstOfType = new HashMap<>();
    for (Manifest m : manifests) {
      Manifest first = firstOfType.putIfAbsent(m.type(), m);
      String apiVersion = m.doc().path("apiVersion").textValue();
      if (first != null && !first.doc().path("apiVersion").textValue().equals(apiVersion)) {
        // one informer per kind reads and writes its objects at one version
        throw m.place().error(m.type() + " is written as " + apiVersion + " here but as "
            + first.doc().path("apiVersion").textValue() + " at " + first.place() + ": write every " + m.type()
            + " at one version");
      }
      kinds.sawApiVersion(m.type(), apiVersion);
      if (m.type().equals(KindTable.CRD)) {
        String crdName = m.doc().path("metadata").path("name").asText();
        JsonNode scope = mapping(m, "CustomResourceDefinition " + crdName + ": spec", m.doc().path("spec")).path("scope");
        if ((scope.isMissingNode() || scope.isNull()) && !apiVersion.equals(CRD_V1BETA1)) {
          // apiextensions.k8s.io/v1 does not default it (v1beta1 made it Namespaced): the server refuses the CRD,
          // and taken for Namespaced here, its objects would get the default namespace
          throw m.place().error("CustomResourceDefinition " + crdName + ": spec.scope is required: Namespaced or"
              + " Cluster (the API server does not default it in " + apiVersion + ")");
        }
        if (!scope.isMissingNode() && !scope.isNull() && !"Namespaced".equals(scope.asText())
            && !"Cluster".equals(scope.asText())) {
          // taken for Namespaced, its objects would get the default namespace, and the server refuses the CRD
          throw m.place().error("CustomResourceDefinition " + crdName + ": spec.scope is '" + scope.asText()
              + "': it is Namespaced or Cluster, written so (as the API server checks it)");
        }
        Kinds.fromCrd(m.doc()).ifPresent(k -> {
          String name = m.doc().path("metadata").path("name").asText();
          Manifest other = crdOf.get(k.type());
          if (other != null && !other.doc().path("metadata").path("name").asText().equals(name)) {
            // the server accepts the names of the first it sees (the other is not NamesAccepted): the
            // scope and versions of the kind's objects would depend on which is created first
            throw m.place().error("CustomResourceDefinition " + name + " defines the kind " + k.type() + ", which"
                + " CustomResourceDefinition " + other.doc().path("metadata").path("name").asText() + " at "
                + other.place() + " defines too: the API server gives a kind to one of them only (the other's names"
                + " are not accepted); keep one");
          }
          crds.put(k.type(), k);
          crdOf.put(k.type(), m);
        });
      }
    }
    for (Manifest m : manifests) {
      Manifest crd = crdOf.get(m.type());
      String version = KindInfo.versionOf(m.doc().path("apiVersion").textValue());
      List<String> served = crd == null ? List.of() : Kinds.servedVersions(crd.doc());
      if (!served.isEmpty() && !served.contains(version)) {
        // the server would answer 404 for the whole kind at that version: say so where it is written
        throw m.place().error(m.type() + " " + m.doc().path("metadata").path("name").asText()
            + " is written at version " + version + ", which its CustomResourceDefinition "
            + crd.doc().path("metadata").path("name").asText() + " (" + crd.place() + ") does not serve: it serves "
            + String.join(", ", served));
      }
    }
    if (wholeTree) {
      kinds.desiredAre(crds.values());  // a CRD gone from Git no longer vouches for its kind
      kinds.declaredAre(firstOfType.keySet());  // nor is a kind gone from Git kept for good
    } else {
      crds.values().forEach(kinds::learnDesired);
    }
    List<Resource> out = new ArrayList<>();
    Map<ResourceKey, Resource> seen = new HashMap<>();
    Map<ResourceKey, Place> placeOf = new HashMap<>();
    for (Manifest m : manifests) {
      Resource r = resource(m, crds);
      placeOf.putIfAbsent(r.key(), m.place());
      Resource first = seen.putIfAbsent(r.key(), r);
      if (first != null) {
        throw m.place().error(r.key() + " is declared twice: first at " + placeOf.get(r.key()));
      }
      out.add(r);
    }
    if (wholeTree) {
      record(out);
    } else {
      // a file decoded again (changed) replaces what it declared before: a key it no longer
      // declares is no longer Git's; a file removed is forgotten at treeRead
      Map<ResourceKey, Resource> record = declared;
      Map<String, Set<ResourceKey>> byFile = keysOfFile;
      for (SourceFile f : files) {
        Set<ResourceKey> had = byFile.remove(f.path());
        if (had != null) {
          had.forEach(k -> record.computeIfPresent(k, (key, r) -> r.origin().path().equals(f.path()) ? null : r));
        }
      }
      for (Resource r : out) {
        record.put(r.key(), r);
        byFile.computeIfAbsent(r.origin().path(), p -> ConcurrentHashMap.newKeySet()).add(r.key());
      }
    }
    return out;
  }

  /**
   * Takes {@code resources} (the whole desired state read, of every decoder) as what Git declares:
   * this decoder's keys among them replace every record of earlier decodes. Decoded file by file
   * ({@link Builder#decodeFilesTogether} off), a source hands over only the files that changed and
   * never says which are gone: without this a key removed from Git stayed declared, at its old
   * file and line, in the provider's messages, and an object of ours being deleted after it left
   * Git was observed UNKNOWN ("Git declares it") rather than left to finish. Also forgets the kinds
   * that only removed files named, as a whole-tree decode does.
   */
  @Override
  public void treeRead(List<Resource> resources) {
    List<Resource> mine = new ArrayList<>();
    for (Resource r : resources) {
      if (r.key().provider().equals(providerId)) {
        mine.add(r);
      }
    }
    record(mine);
    if (!together) {
      List<KindInfo> crds = new ArrayList<>();
      java.util.Set<String> types = new java.util.HashSet<>();
      for (Resource r : mine) {
        types.add(r.key().type());
        if (r.key().type().equals(KindTable.CRD)) {
          Kinds.fromCrd(r.document()).ifPresent(crds::add);
        }
      }
      kinds.desiredAre(crds);  // a CRD gone from Git no longer vouches for its kind
      kinds.declaredAre(types);
    }
  }

  /** Replaces what {@link #declared} holds with {@code resources} (the first of a key wins). */
  private void record(List<Resource> resources) {
    Map<ResourceKey, Resource> now = new ConcurrentHashMap<>();
    Map<String, Set<ResourceKey>> files = new ConcurrentHashMap<>();
    for (Resource r : resources) {
      if (now.putIfAbsent(r.key(), r) == null) {
        files.computeIfAbsent(r.origin().path(), p -> ConcurrentHashMap.newKeySet()).add(r.key());
      }
    }
    declared = now;
    keysOfFile = files;
  }

  /** Where the last decoded desired state declares {@code key}, if it does. */
  Optional<Origin> originOf(ResourceKey key) {
    return declared(key).map(Resource::origin);
  }

  /** {@code key} as the last decoded desired state declares it, if it does. */
  Optional<Resource> declared(ResourceKey key) {
    return Optional.ofNullable(declared.get(key));
  }

  /** The namespaces the last decoded desired state names: its objects' and its Namespaces' ("" for cluster-scoped objects). */
  java.util.Set<String> declaredNamespaces() {
    java.util.Set<String> out = new java.util.HashSet<>();
    declared.keySet().forEach(k -> out.add(k.type().equals(KindTable.NAMESPACE) ? k.name() : k.scope()));
    return out;
  }

  /** The key types of the objects the last decoded desired state declares. */
  java.util.Set<String> declaredTypes() {
    java.util.Set<String> out = new java.util.HashSet<>();
    declared.keySet().forEach(k -> out.add(k.type()));
    return out;
  }

  /** One object of a file: its document (never modified), where it is, its key type. */
  private record Manifest(ObjectNode doc, Place place, String type) {
    Origin origin() {
      return place.origin();
    }

    Manifest at(String revision) {
      return new Manifest(doc, place.at(revision), type);
    }
  }

  /**
   * Where an object is: file, line and revision; the document ({@code "document 3"}) when its file
   * holds several, else ""; the item of a {@code kind: List} ({@code "items[2]: "}), else "". Every
   * decode error is made by {@link #error}, so that each names all three the same way.
   */
  private record Place(Origin origin, String document, String item) {
    /** The error {@code message} at this place: {@code "<file>:<line>@<rev>: document 3: items[2]: <message>"}. */
    DecodeException error(String message) {
      return new DecodeException(origin, prefix() + message);
    }

    /** The same with a cause. */
    DecodeException error(String message, Throwable cause) {
      return new DecodeException(origin, prefix() + message, cause);
    }

    private String prefix() {
      return (document.isEmpty() ? "" : document + ": ") + item;
    }

    /** Item {@code i} of the List here, which starts at {@code at}. */
    Place item(int i, Origin at) {
      return new Place(at, document, item + "items[" + i + "]: ");
    }

    Place at(String revision) {
      return new Place(Origin.of(origin.path(), origin.line(), revision), document, item);
    }

    /** For an error naming another place: {@code "<file>:<line>@<rev> (document 3, items[2])"}. */
    @Override
    public String toString() {
      String more = (document.isEmpty() ? "" : document) + (item.isEmpty() ? ""
          : (document.isEmpty() ? "" : ", ") + item.substring(0, item.length() - 2));
      return origin + (more.isEmpty() ? "" : " (" + more + ")");
    }
  }

  /**
   * Checks identity fields and unfolds {@code kind: List}; the items of a document's top-level
   * list take their own lines from {@code file} (null below it: nested lists keep their list's).
   */
  private void flatten(JsonNode doc, Place at, List<Manifest> out, YamlManifestDecoder.Document file) {
    if (!doc.isObject()) {
      throw at.error("an object must be a mapping, got " + doc.getNodeType().name().toLowerCase(Locale.ROOT));
    }
    String apiVersion = text(doc, "apiVersion", at);
    String kind = text(doc, "kind", at);
    if (!API_VERSION.matcher(apiVersion).matches()) {
      throw at.error("apiVersion '" + apiVersion + "' is not a version ('v1') or a group and a"
          + " version ('apps/v1'): it is part of the object's URL and key");
    }
    if (!KIND.matcher(kind).matches()) {
      throw at.error("kind '" + kind + "' is not a kind (a letter, then letters, digits and '-'):"
          + " it is part of the object's key");
    }
    // kind List, or a typed list such as ConfigMapList (what kubectl get -o yaml writes): its items
    boolean typedList = kind.endsWith("List") && doc.path("items").isArray() && !doc.path("metadata").has("name");
    if (kind.equals("List") && (doc.has("items") || !doc.path("metadata").has("name")) || typedList) {
      JsonNode items = doc.path("items");
      if (items.isMissingNode() || items.isNull()) {
        return;  // an empty List (items: with nothing after it, or none): no objects, as kubectl reads it
      }
      if (!items.isArray()) {
        throw at.error("items of a " + kind + " must be a list, got "
            + items.getNodeType().name().toLowerCase(Locale.ROOT));
      }
      for (int i = 0; i < items.size(); i++) {
        flatten(items.get(i), at.item(i, file == null ? at.origin() : file.originOf("/items/" + i)), out, null);
      }
      return;
    }
    JsonNode meta = doc.get("metadata");
    if (meta == null || meta.isNull()) {
      throw at.error(kind + " has no metadata (metadata.name is required)");
    }
    if (!meta.isObject()) {
      throw at.error(kind + ": metadata must be a mapping, got " + shape(meta) + " (metadata.name is required)");
    }
    if (meta.has("generateName") && !meta.get("generateName").isNull()) {  // null means absent, as everywhere
      throw at.error(kind + " uses metadata.generateName ('" + meta.get("generateName").asText()
          + "'): a generated name changes on every create, so it cannot be kept in line with Git; give metadata.name");
    }
    JsonNode name = meta.get("name");
    if (name == null || name.isNull() || name.isTextual() && name.textValue().isEmpty()) {
      throw at.error(kind + " has no metadata.name");
    }
    if (!name.isTextual()) {
      throw at.error(kind + ": metadata.name must be a string, got " + name
          + " (quote it: YAML reads yes, on, 1.10 and 0x1F as booleans and numbers)");
    }
    String type = KindInfo.typeOf(apiVersion, kind);
    String nameProblem = nameProblem(name.textValue());
    if (nameProblem == null) {
      nameProblem = Names.problem(type, name.textValue());
    }
    if (nameProblem != null) {
      throw at.error(kind + " '" + shown(name.textValue()) + "': metadata.name " + nameProblem);
    }
    if (KindTable.builtIn(type).isEmpty()) {
      Optional<KindInfo> cased = KindTable.builtInIgnoringCase(type);
      if (cased.isPresent()) {
        throw at.error("kind '" + kind + "' is not a kind of " + apiVersion + ": kinds are"
            + " case-sensitive, write '" + cased.get().kind() + "'");
      }
    }
    if (type.equals(KindTable.CRD)) {
      crdName(doc, name.textValue(), at);
    }
    JsonNode ns = meta.get("namespace");
    if (ns != null && ns.isNull()) {
      ns = null;  // null means absent, as everywhere (kubectl reads namespace: null as no namespace)
    }
    if (ns != null && !ns.isTextual()) {
      throw at.error(kind + " " + name.textValue() + ": metadata.namespace must be a string, got " + ns);
    }
    if (ns != null && !ns.textValue().isEmpty() && !Names.isLabel(ns.textValue())) {
      throw at.error(kind + " " + name.textValue() + ": metadata.namespace '"
          + shown(ns.textValue()) + "' is not a namespace name (lowercase letters, digits and '-', starting and ending"
          + " with a letter or digit, at most 63 characters" + (ns.textValue().length() > 63 ? "; it has "
          + ns.textValue().length() : "") + ")");
    }
    out.add(new Manifest((ObjectNode) doc, at, type));
  }

  private static final java.util.regex.Pattern API_VERSION =
      java.util.regex.Pattern.compile("([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[a-z0-9]+");
  private static final java.util.regex.Pattern KIND = java.util.regex.Pattern.compile("[A-Za-z][-A-Za-z0-9]*");

  /** {@code text} as an error shows it: cut after 80 characters (a name may be thousands long). */
  private static String shown(String text) {
    return text.length() <= 80 ? text : text.substring(0, 80) + "...";
  }

  /**
   * Refuses a CustomResourceDefinition whose name is not {@code <spec.names.plural>.<spec.group>},
   * which the API server requires (and which is how its objects are related to it).
   */
  private static void crdName(JsonNode doc, String name, Place at) {
    JsonNode group = doc.path("spec").path("group");
    JsonNode plural = doc.path("spec").path("names").path("plural");
    if (group.isTextual() && plural.isTextual() && !name.equals(plural.textValue() + "." + group.textValue())) {
      throw at.error("CustomResourceDefinition '" + name + "': metadata.name must be"
          + " spec.names.plural, a dot and spec.group ('" + plural.textValue() + "." + group.textValue()
          + "'), as the API server requires");
    }
  }

  /**
   * Why {@code name} can name no object, or null: what the API server refuses for every kind
   * (a name is a path segment of the object's URL), so that no request is ever built with a name
   * like {@code ..} or {@code a/b}, which would address another URL. The stricter rules of the
   * built-in kinds (most want a DNS subdomain) are {@code Names.problem}'s; a custom kind's are its
   * server's to apply, and it names them.
   */
  static String nameProblem(String name) {
    if (name.equals(".") || name.equals("..")) {
      return "may not be '.' or '..'";
    }
    if (name.indexOf('/') >= 0 || name.indexOf('%') >= 0) {
      return "may not contain '/' or '%'";
    }
    if (name.length() > 253) {
      return "is longer than 253 characters (" + name.length() + ")";
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c <= ' ' || c == 0x7f) {
        return "may not contain spaces or control characters";
      }
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || PATH_SEGMENT_SIGNS.indexOf(c) >= 0)) {
        return "may not contain '" + c + "': the client sends the name unescaped as a path segment of its URL, where it"
            + " would address another object or no valid URL (allowed: letters, digits and " + PATH_SEGMENT_SIGNS + ")";
      }
    }
    return null;
  }

  /** What a URL path segment holds unescaped besides letters and digits (RFC 3986 pchar). */
  private static final String PATH_SEGMENT_SIGNS = "-._~!$&'()*+,;=:@";

  private static String text(JsonNode doc, String field, Place at) {
    JsonNode v = doc.get(field);
    if (v == null || v.isNull()) {
      throw at.error("missing " + field + " (every Kubernetes object needs apiVersion, kind and metadata.name)");
    }
    if (!v.isTextual() || v.textValue().isEmpty()) {
      throw at.error(field + " must be a non-empty string, got " + v);
    }
    return v.textValue();
  }

  private Resource resource(Manifest m, Map<String, KindInfo> crds) {
    ObjectNode doc = m.doc();
    String name = doc.path("metadata").path("name").textValue();
    if (KindTable.builtIn(m.type()).isEmpty()) {
      String problem = Names.customProblem(m.type(), name);
      if (problem != null && custom(m.type(), doc.path("apiVersion").textValue(), crds)) {
        throw m.place().error(doc.path("kind").textValue() + " '" + shown(name) + "': metadata.name " + problem);
      }
    }
    JsonNode written = doc.path("metadata").path("namespace");
    String namespace = written.isTextual() ? written.textValue() : "";
    Boolean namespaced = namespaced(m.type(), doc.path("apiVersion").textValue(), crds);
    if (namespaced == null) {
      if (namespace.isEmpty()) {
        throw m.place().error("cannot tell whether " + m.type() + " " + name
            + " lives in a namespace: it is not a built-in kind, no CustomResourceDefinition "
            + (together ? "in the desired state" : "in this file (files are decoded one by one)") + " defines it"
            + (live == null ? "" : " and the cluster does not know it")
            + "; set metadata.namespace or add its CustomResourceDefinition" + KindTable.elsewhere(m.type()));
      }
      namespaced = true;
    }
    stringMaps(m, doc, name);
    shapes(m, doc, Shapes.objectMeta(), doc.path("kind").textValue() + " " + name + ": ", "");
    if (KindTable.builtIn(m.type()).isPresent()) {
      mapping(m, doc.path("kind").textValue() + " " + name + ": spec", doc.path("spec"));
      String what = doc.path("kind").textValue() + " " + name + ": ";
      Shapes.of(m.type()).ifPresent(shape -> shapes(m, doc, shape, what, ""));
      containerStrings(m, doc, doc.path("kind").textValue() + " " + name + ": ", "");
      patchDirectives(m, doc, doc.path("kind").textValue() + " " + name + ": ", "");
      if (!m.type().equals(KindTable.CRD) && !m.type().equals(CONTROLLER_REVISION)) {
        // a CRD's schema and a ControllerRevision's data hold raw JSON, whatever its fields are named
        typedValues(m, doc, doc.path("kind").textValue() + " " + name + ": ");
        nestedStringMaps(m, doc, doc.path("kind").textValue() + " " + name + ": ", "");
        selectorMatchesTemplate(m, doc, doc.path("spec"), what);  // its labels' types and rules checked first
      }
    }
    ObjectNode d = (ObjectNode) Documents.mutableCopy(doc);
    ObjectNode meta = (ObjectNode) d.get("metadata");
    nullsAsEmpty(meta, "labels");
    nullsAsEmpty(meta, "annotations");
    if (KindTable.builtIn(m.type()).isPresent() && !m.type().equals(KindTable.CRD)
        && !m.type().equals(CONTROLLER_REVISION)) {
      stringMapNulls(m.type(), d);
    }
    if (namespaced && namespace.isEmpty()) {
      namespace = defaultNamespace;
      meta.put("namespace", namespace);
    } else if (!namespaced && meta.has("namespace")) {
      // the API server ignores a namespace on a cluster-scoped object; keeping it would be a diff forever
      meta.remove("namespace");
      namespace = "";
    }
    ResourceKey key = ResourceKey.of(providerId, m.type(), namespace, name);
    JsonNode normalized = normalization.normalize(m.type(), d);
    keyedLists(m, key, normalized);
    Resource.Builder b = Resource.builder(key).origin(m.origin()).document(normalized);
    JsonNode annotations = meta.path("annotations");
    String deps = annotation(annotations, Annotations.DEPENDS_ON, m);
    if (deps != null) {
      for (String ref : deps.trim().split("[,\\s]+")) {
        if (!ref.isEmpty()) {
          b.dependsOn(reference(ref, namespace, m, crds));
        }
      }
    }
    String wave = annotation(annotations, Annotations.WAVE, m);
    if (wave != null) {
      try {
        b.wave(Integer.parseInt(wave.trim()));
      } catch (NumberFormatException e) {
        throw m.place().error(key + ": annotation " + Annotations.WAVE + " must be an integer, got '"
            + wave + "'", e);
      }
    }
    String policy = annotation(annotations, Annotations.MANAGEMENT, m);
    if (policy != null) {
      try {
        b.policy(ManagementPolicy.parse(policy));
      } catch (IllegalArgumentException e) {
        throw m.place().error(key + ": annotation " + Annotations.MANAGEMENT + ": " + e.getMessage(), e);
      }
    }
    String force = annotation(annotations, Annotations.FORCE_REPLACE, m);
    if (force != null && !force.equals("true") && !force.equals("false")) {
      throw m.place().error(key + ": annotation " + Annotations.FORCE_REPLACE
          + " must be \"true\" or \"false\", got '" + force + "'");
    }
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw m.place().error(e.getMessage(), e);
    }
  }

  /**
   * Makes a null value in the map {@code field} of {@code meta} (labels, annotations; or another
   * object's map of strings, see {@link #stringMapNulls}) the empty string, as the API server
   * stores it: it decodes an object's metadata into string maps, where
   * JSON {@code null} is {@code ""} ({@code labels: {tier: null}}, or YAML {@code tier:} without a
   * value, is the label {@code tier=""} in the cluster; {@code kubectl apply} sends it so since
   * kubernetes#129257). Held as null, it was "absent" to the merge: the label or annotation Git
   * declares was never set, and one {@code kubectl apply} had set was planned for removal.
   */
  private static void nullsAsEmpty(ObjectNode meta, String field) {
    if (meta.get(field) instanceof ObjectNode map) {
      List<String> nulls = new ArrayList<>();
      map.properties().forEach(e -> {
        if (e.getValue().isNull()) {
          nulls.add(e.getKey());
        }
      });
      nulls.forEach(k -> map.put(k, ""));
    }
  }

  /**
   * Makes a null value the empty string, as {@link #nullsAsEmpty} does for the top-level labels and
   * annotations, in the other maps of strings of the built-in kind {@code type} ({@code doc}, a
   * mutable copy): the labels and annotations of every nested {@code metadata} (pod templates, a
   * CronJob's job template and its pod template, a StatefulSet's volume claim templates), every
   * {@code matchLabels}, a pod spec's {@code nodeSelector}, a CSI volume's {@code
   * volumeAttributes}, a flex volume's {@code options}, a Service's or ReplicationController's
   * {@code spec.selector}, a RuntimeClass's {@code scheduling.nodeSelector}, a StorageClass's
   * {@code parameters}, a ConfigMap's {@code data} and a Secret's {@code stringData} (Go's {@code
   * map[string]string}, where JSON {@code null} decodes as {@code ""}), and a ConfigMap's {@code
   * binaryData} and a Secret's {@code data} ({@code map[string][]byte}: null decodes as a nil
   * slice, which etcd's protobuf encoding stores as empty bytes, so the object is read back with
   * the key and {@code ""}). Held as null, such a value was "absent" to the merge: a Service
   * selecting {@code {app: web, tier: null}} was sent selecting every {@code app=web} pod, the
   * server's own selecting only those labeled {@code tier=""}, and drift from it was never found.
   * A custom kind's maps follow its own schema, which its server applies: they are left as written.
   */
  private static void stringMapNulls(String type, ObjectNode doc) {
    switch (type) {
      case "/ConfigMap" -> List.of("data", "binaryData").forEach(f -> nullsAsEmpty(doc, f));
      case KindTable.SECRET -> List.of("data", "stringData").forEach(f -> nullsAsEmpty(doc, f));
      case "/Service", "/ReplicationController" -> {
        if (doc.get("spec") instanceof ObjectNode spec) {
          nullsAsEmpty(spec, "selector");  // a map of labels here, not a workload's LabelSelector
        }
      }
      case "node.k8s.io/RuntimeClass" -> {
        if (doc.get("scheduling") instanceof ObjectNode scheduling) {
          nullsAsEmpty(scheduling, "nodeSelector");
        }
      }
      case "storage.k8s.io/StorageClass" -> nullsAsEmpty(doc, "parameters");
      default -> { }
    }
    nestedStringMapNulls(doc);
  }

  /** The nested maps of strings of {@link #stringMapNulls}, found by their field names below {@code node}. */
  private static void nestedStringMapNulls(JsonNode node) {
    if (node instanceof ObjectNode o) {
      if (o.get("metadata") instanceof ObjectNode meta) {
        nullsAsEmpty(meta, "labels");
        nullsAsEmpty(meta, "annotations");
      }
      nullsAsEmpty(o, "matchLabels");
      nullsAsEmpty(o, "volumeAttributes");
      if (o.get("containers") instanceof ArrayNode) {
        nullsAsEmpty(o, "nodeSelector");  // a pod spec's (DRA's nodeSelector fields are structs)
      }
      if (o.get("flexVolume") instanceof ObjectNode flex) {
        nullsAsEmpty(flex, "options");
      }
    }
    for (JsonNode child : node) {
      nestedStringMapNulls(child);
    }
  }

  /**
   * Checks the lists merged by key (containers and volumes by {@code name}, container ports by
   * {@code containerPort} and {@code protocol}, env by {@code name}, ...): an element without its
   * key, or two with the same key, is refused here at its file and line, as the planner's merge
   * would refuse it for the whole plan naming no file (and the API server the object).
   */
  private void keyedLists(Manifest m, ResourceKey key, JsonNode doc) {
    try {
      lists.check(key, doc);
    } catch (dev.gitops.api.MergeException e) {
      throw m.place().error(e.getMessage(), e);
    }
  }

  /**
   * Checks the maps whose values the API server reads as strings: labels and annotations of every
   * object, a ConfigMap's {@code data} and {@code binaryData}, a Secret's {@code data} and {@code
   * stringData}. YAML reads {@code yes}, {@code on}, {@code 1.10} or {@code 0x1F} as other types,
   * which the server refuses at apply time without naming the file; base64 values must decode.
   * A Secret's values are never shown in the error.
   */
  private static void stringMaps(Manifest m, ObjectNode doc, String name) {
    String kind = doc.path("kind").textValue();
    String what = kind + " " + name + ": ";
    JsonNode meta = doc.path("metadata");
    stringMap(m, what, meta.get("labels"), "metadata.labels", false, false, false);
    long annotations = stringMap(m, what, meta.get("annotations"), "metadata.annotations", false, false, true);
    metadataKeys(m, what, meta);
    if (annotations > Names.MAX_ANNOTATIONS_BYTES) {
      // the values are not shown: a Secret's last-applied configuration would be among them
      throw m.place().error(what + "metadata.annotations hold " + annotations + " bytes (keys and values), more than the "
          + Names.MAX_ANNOTATIONS_BYTES + " the API server accepts");
    }
    if (m.type().equals("/ConfigMap")) {
      long size = stringMap(m, what, doc.get("data"), "data", false, false, true)
          + stringMap(m, what, doc.get("binaryData"), "binaryData", true, false, true);
      checkSize(m, what, "data and binaryData (keys and values)", size);
    } else if (m.type().equals(KindTable.SECRET)) {
      long size = stringMap(m, what, doc.get("data"), "data", true, true, false)
          + stringMap(m, what, doc.get("stringData"), "stringData", false, true, false);
      checkSize(m, what, "data and stringData (values)", size);
    }
  }

  private static final Set<String> CONTAINER_LISTS = Set.of("containers", "initContainers", "ephemeralContainers");

  /**
   * Refuses, in the containers of a built-in kind's pod specs (a Pod's, any template's), what YAML
   * reads as a boolean or a number where a container takes strings: an environment variable's
   * {@code value} ({@code value: 0}, {@code value: no}, {@code value: 1.10}); the elements of
   * {@code args} and {@code command} are {@link #shapes}'s, lists of strings. The API server
   * refuses them at apply time, naming no file; worse, the value {@code 0} or {@code false} of a variable, which the server stores as absent
   * when it is the string's zero, would be dropped as such, so the variable would be set empty
   * rather than the manifest refused. Named by its path ({@code
   * spec.template.spec.containers[name=app].env[name=RETRIES].value}).
   */
  private static void containerStrings(Manifest m, JsonNode node, String what, String path) {
    if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        containerStrings(m, node.get(i), what, path + "[" + i + "]");
      }
      return;
    }
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String at = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
      if (!CONTAINER_LISTS.contains(e.getKey()) || !e.getValue().isArray()) {
        containerStrings(m, e.getValue(), what, at);
        continue;
      }
      for (int i = 0; i < e.getValue().size(); i++) {
        JsonNode c = e.getValue().get(i);
        String container = at + "[" + (c.path("name").isTextual() ? "name=" + c.path("name").textValue() : i) + "]";
        JsonNode env = c.path("env");  // a list, as shapes checked (args and command: lists of strings)
        for (int j = 0; env.isArray() && j < env.size(); j++) {
          JsonNode v = env.get(j);
          notAString(m, what + container + ".env[" + (v.path("name").isTextual() ? "name=" + v.path("name").textValue()
              : j) + "].value", v.path("value"));
        }
      }
    }
  }

  /**
   * Refuses a strategic-merge-patch directive in a built-in kind ({@code $patch: delete}, {@code
   * $patch: replace}, {@code $retainKeys}, {@code $setElementOrder/...}, {@code
   * $deleteFromPrimitiveList/...}), named by its path: what a Kustomize patch or {@code kubectl
   * patch} says to a merge, not part of an object. The provider sends JSON patches, so the
   * directive would be written as a field, which the API server drops (no field of a built-in kind
   * is so named): the object would never be what Git says, planned for an update at every sync,
   * and what the directive asked (a container deleted, a map replaced) never done.
   */
  private static void patchDirectives(Manifest m, JsonNode node, String what, String path) {
    if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        patchDirectives(m, node.get(i), what, path + "[" + i + "]");
      }
      return;
    }
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String key = e.getKey();
      String at = path.isEmpty() ? key : path + "." + key;
      if (key.equals("$patch") || key.equals("$retainKeys") || key.startsWith("$setElementOrder/")
          || key.startsWith("$deleteFromPrimitiveList/")) {
        throw m.place().error(what + at + ": '" + key + "' is a strategic merge patch directive (a Kustomize patch's,"
            + " kubectl patch's), not a field of the object: gitops applies whole manifests, so write the object as it"
            + " should be (render Kustomize patches with kustomize build and commit the output)");
      }
      patchDirectives(m, e.getValue(), what, at);
    }
  }

  private static final String CONTROLLER_REVISION = "apps/ControllerRevision";

  /** The CustomResourceDefinition version that defaulted {@code spec.scope} to Namespaced (served up to 1.21). */
  private static final String CRD_V1BETA1 = "apiextensions.k8s.io/v1beta1";

  /**
   * The {@code spec} fields of built-in kinds that are 32-bit integers ({@code int32}) in every
   * version the API serves, by key type.
   */
  private static final Map<String, Set<String>> INT32_SPEC_FIELDS = Map.of(
      "apps/Deployment", Set.of("replicas", "minReadySeconds", "revisionHistoryLimit", "progressDeadlineSeconds"),
      "apps/ReplicaSet", Set.of("replicas", "minReadySeconds"),
      "apps/StatefulSet", Set.of("replicas", "minReadySeconds", "revisionHistoryLimit",
          "updateStrategy.rollingUpdate.partition", "ordinals.start"),
      "apps/DaemonSet", Set.of("minReadySeconds", "revisionHistoryLimit"),
      "/ReplicationController", Set.of("replicas", "minReadySeconds"),
      "batch/Job", Set.of("parallelism", "completions", "backoffLimit", "ttlSecondsAfterFinished",
          "backoffLimitPerIndex", "maxFailedIndexes"),
      "batch/CronJob", Set.of("successfulJobsHistoryLimit", "failedJobsHistoryLimit"),
      "autoscaling/HorizontalPodAutoscaler", Set.of("minReplicas", "maxReplicas"));

  /**
   * The {@code spec} fields of built-in kinds that are 64-bit integers ({@code int64}) in every
   * version the API serves, by key type (batch/v1 JobSpec, CronJobSpec).
   */
  private static final Map<String, Set<String>> INT64_SPEC_FIELDS = Map.of(
      "batch/Job", Set.of("activeDeadlineSeconds"),
      "batch/CronJob", Set.of("startingDeadlineSeconds"));

  /** A pod spec's integer fields (core/v1 PodSpec) and their width in bits. */
  private static final Map<String, Integer> POD_SPEC_INTEGERS = Map.of(
      "terminationGracePeriodSeconds", 64, "activeDeadlineSeconds", 64, "priority", 32);

  /** The integer fields of a pod's {@code securityContext} (core/v1 PodSecurityContext), all 64-bit. */
  private static final List<String> POD_SECURITY_INTEGERS = List.of("runAsUser", "runAsGroup", "fsGroup");

  /** The integer fields of a container's {@code securityContext} (core/v1 SecurityContext), all 64-bit. */
  private static final List<String> CONTAINER_SECURITY_INTEGERS = List.of("runAsUser", "runAsGroup");

  /** A container's probes (core/v1 Probe). */
  private static final List<String> PROBES = List.of("livenessProbe", "readinessProbe", "startupProbe");

  /** A probe's integer fields (core/v1 Probe) and their width in bits. */
  private static final Map<String, Integer> PROBE_INTEGERS = Map.of(
      "initialDelaySeconds", 32, "timeoutSeconds", 32, "periodSeconds", 32, "successThreshold", 32,
      "failureThreshold", 32, "terminationGracePeriodSeconds", 64);

  /**
   * Refuses, in a built-in kind, values the mock API server stores but a real one refuses or
   * changes, where the kind's schema is certain: a resource quantity that is not one ({@code cpu:
   * lots}, {@code memory: 1.5.5Gi}, {@code cpu: true}) in any {@code resources.limits} or {@code
   * resources.requests} (containers, pod specs, claims), a pod spec's {@code overhead}, an {@code
   * emptyDir}'s {@code sizeLimit}, a ResourceQuota's {@code spec.hard}, a LimitRange's limits, a
   * PersistentVolume's {@code spec.capacity} and a RuntimeClass's {@code overhead.podFixed};
   * a 32-bit integer field ({@code replicas}, a container's {@code containerPort} and {@code
   * hostPort}, a Service port's {@code port}, {@code nodePort} and numeric {@code targetPort}, a
   * probe's periods and thresholds, {@link #INT32_SPEC_FIELDS}) or a 64-bit one (a pod spec's {@code
   * terminationGracePeriodSeconds} and {@code activeDeadlineSeconds}, a security context's {@code
   * runAsUser}, {@code runAsGroup} and {@code fsGroup}, {@link #INT64_SPEC_FIELDS}; see {@link
   * #podSpecIntegers} and {@link #containerIntegers}) that is a string ({@code containerPort: "80"},
   * {@code runAsUser: "1000"}), not whole ({@code terminationGracePeriodSeconds: 30.5}), or out of
   * range ({@code replicas: 99999999999999999999}); a {@code containerPort} or Service {@code port}
   * outside 1 to 65535; a port the server takes as a number or a name ({@link #intOrStringPort}: a
   * probe's or lifecycle hook's, a Service's {@code targetPort}, a NetworkPolicy's), a probe's {@code
   * grpc.port}, an Ingress backend's service port (the shapes of the fields, lists and mappings,
   * are {@link #shapes}'s, checked before). Each named by its path; the server's refusal would come
   * at apply time, naming no file, and a value it silently took another way would plan a change at every sync.
   */
  private static void typedValues(Manifest m, ObjectNode doc, String what) {
    JsonNode spec = doc.path("spec");
    specIntegers(m, m.type(), spec, what + "spec.");
    if (m.type().equals("batch/CronJob")) {
      specIntegers(m, "batch/Job", spec.path("jobTemplate").path("spec"), what + "spec.jobTemplate.spec.");
    }
    if (m.type().equals("/Service")) {
      JsonNode ports = list(m, what + "spec.ports", spec.path("ports"));
      for (int i = 0; ports.isArray() && i < ports.size(); i++) {
        JsonNode p = ports.get(i);
        String at = what + "spec.ports[" + (p.path("name").isTextual() && !p.path("name").textValue().isEmpty()
            ? "name=" + p.path("name").textValue() : i) + "]";
        int32(m, at + ".port", p.path("port"), true);
        portNumber(m, at + ".nodePort", p.path("nodePort"), true);  // 0 (or none): the server allocates one
        protocol(m, at + ".protocol", p.path("protocol"));
        // 0 and "" are unset: the server makes the targetPort the port (SetDefaults_Service)
        intOrStringPort(m, at + ".targetPort", p.path("targetPort"), false, true);
        servicePortName(m, at, p.path("name"), ports, i);
      }
      int32(m, what + "spec.healthCheckNodePort", spec.path("healthCheckNodePort"), false);
    }
    if (m.type().equals("networking.k8s.io/NetworkPolicy")) {
      networkPolicyPorts(m, spec, what);
    }
    if (m.type().equals("networking.k8s.io/Ingress")) {
      ingressBackend(m, what + "spec.defaultBackend", spec.path("defaultBackend"));
      JsonNode rules = spec.path("rules");
      for (int i = 0; rules.isArray() && i < rules.size(); i++) {
        JsonNode paths = rules.get(i).path("http").path("paths");
        for (int j = 0; paths.isArray() && j < paths.size(); j++) {
          ingressBackend(m, what + "spec.rules[" + i + "].http.paths[" + j + "].backend", paths.get(j).path("backend"));
        }
      }
    }
    if (m.type().equals("/ResourceQuota")) {
      quantities(m, what + "spec.hard", spec.path("hard"));
      notNegative(m, what + "spec.hard", spec.path("hard"));
    }
    if (m.type().equals("/PersistentVolume")) {
      quantities(m, what + "spec.capacity", spec.path("capacity"));
    }
    if (m.type().equals("node.k8s.io/RuntimeClass")) {
      quantities(m, what + "overhead.podFixed", doc.path("overhead").path("podFixed"));
    }
    if (m.type().equals("/LimitRange")) {
      JsonNode limits = list(m, what + "spec.limits", spec.path("limits"));
      for (int i = 0; limits.isArray() && i < limits.size(); i++) {
        for (String field : List.of("max", "min", "default", "defaultRequest", "maxLimitRequestRatio")) {
          quantities(m, what + "spec.limits[" + i + "]." + field, limits.get(i).path(field));
        }
      }
    }
    typedValues(m, doc, what, "");
  }

  /**
   * The pod specs' and containers' integer fields, the containers' ports and every {@code
   * resources.limits} and {@code resources.requests} below {@code node}.
   */
  private static void typedValues(Manifest m, JsonNode node, String what, String path) {
    if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        typedValues(m, node.get(i), what, path + "[" + i + "]");
      }
      return;
    }
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String at = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
      JsonNode v = e.getValue();
      if (e.getKey().equals("resources") && v.isObject()) {
        quantities(m, what + at + ".limits", v.path("limits"));
        quantities(m, what + at + ".requests", v.path("requests"));
        notNegative(m, what + at + ".limits", v.path("limits"));
        notNegative(m, what + at + ".requests", v.path("requests"));
      }
      if (e.getKey().equals("overhead") && node.has("containers")) {
        quantities(m, what + at, v);  // a pod spec's overhead
      }
      if (e.getKey().equals("containers") && v.isArray()) {
        podSpecIntegers(m, node, what + path + (path.isEmpty() ? "" : "."));  // once per pod spec
        containerNamesAcrossLists(m, node, what, path + (path.isEmpty() ? "" : "."));
        // a pod's own resources (PodSpec.resources); what is no quantity there is refused as such below
        limitsNotBelowRequests(m, what + path + (path.isEmpty() ? "" : ".") + "resources", node.path("resources"));
      }
      if (e.getKey().equals("sizeLimit") && path.endsWith("emptyDir")) {
        quantity(m, what + at, v);
      }
      if (!CONTAINER_LISTS.contains(e.getKey()) || !v.isArray()) {
        typedValues(m, v, what, at);
        continue;
      }
      for (int i = 0; i < v.size(); i++) {
        JsonNode c = v.get(i);
        String container = at + "[" + (c.path("name").isTextual() ? "name=" + c.path("name").textValue() : i) + "]";
        JsonNode ports = list(m, what + container + ".ports", c.path("ports"));
        for (int j = 0; ports.isArray() && j < ports.size(); j++) {
          JsonNode p = ports.get(j);
          String port = what + container + ".ports[" + (p.path("name").isTextual() ? "name=" + p.path("name").textValue()
              : j) + "]";
          int32(m, port + ".containerPort", p.path("containerPort"), true);
          portNumber(m, port + ".hostPort", p.path("hostPort"), true);  // 0 (or none): no host port
          protocol(m, port + ".protocol", p.path("protocol"));
          if (p.path("name").isTextual() && !p.path("name").textValue().isEmpty()) {
            portName(m, port + ".name", p.path("name").textValue());  // what a probe or targetPort names
          }
        }
        containerIntegers(m, c, what + container + ".");
        typedValues(m, c, what, container);
        limitsNotBelowRequests(m, what + container + ".resources", c.path("resources"));
      }
    }
  }

  /**
   * Checks the integer fields ({@link #INT32_SPEC_FIELDS}, {@link #INT64_SPEC_FIELDS}) of {@code spec},
   * the spec of a {@code type}, at the path {@code at} (with a trailing dot).
   */
  private static void specIntegers(Manifest m, String type, JsonNode spec, String at) {
    for (String field : new TreeSet<>(INT32_SPEC_FIELDS.getOrDefault(type, Set.of()))) {
      int32(m, at + field, spec.at("/" + field.replace('.', '/')), false);
      notNegative(m, type, at + field, field, spec.at("/" + field.replace('.', '/')));
    }
    for (String field : new TreeSet<>(INT64_SPEC_FIELDS.getOrDefault(type, Set.of()))) {
      integer(m, at + field, spec.path(field), 64, false);
      notNegative(m, type, at + field, field, spec.path(field));
    }
  }

  /**
   * The fields of {@link #INT32_SPEC_FIELDS} and {@link #INT64_SPEC_FIELDS} whose negative values are
   * left to the API server (not known to be refused in every version), as {@code type:field}; every
   * other one is refused below 0 ({@code replicas: -1}), as the server refuses it ({@code
   * ValidateNonnegativeField}; an autoscaler's bounds it refuses below 1).
   */
  private static final Set<String> NEGATIVE_LEFT_TO_SERVER = Set.of("apps/StatefulSet:revisionHistoryLimit");

  /** Refuses the integer {@code value} of {@code field} of a {@code type}'s spec, at {@code where}, when it is negative. */
  private static void notNegative(Manifest m, String type, String where, String field, JsonNode value) {
    if (value.isIntegralNumber() && value.canConvertToLong() && value.longValue() < 0
        && !NEGATIVE_LEFT_TO_SERVER.contains(type + ":" + field)) {
      throw m.place().error(where + ": " + value.longValue() + " is negative: the API server refuses it (it must be"
          + " greater than or equal to 0)");
    }
  }

  /**
   * Checks the integer fields of the pod spec {@code podSpec} ({@code terminationGracePeriodSeconds},
   * {@code activeDeadlineSeconds}, {@code priority}, its {@code securityContext}'s {@code runAsUser},
   * {@code runAsGroup}, {@code fsGroup} and {@code supplementalGroups}, its tolerations' {@code
   * tolerationSeconds}); {@code at} is its path with a
   * trailing dot, or empty.
   */
  private static void podSpecIntegers(Manifest m, JsonNode podSpec, String at) {
    for (String field : new TreeSet<>(POD_SPEC_INTEGERS.keySet())) {
      integer(m, at + field, podSpec.path(field), POD_SPEC_INTEGERS.get(field), false);
    }
    JsonNode security = podSpec.path("securityContext");
    for (String field : POD_SECURITY_INTEGERS) {
      integer(m, at + "securityContext." + field, security.path(field), 64, false);
    }
    JsonNode tolerations = podSpec.path("tolerations");
    for (int i = 0; tolerations.isArray() && i < tolerations.size(); i++) {
      integer(m, at + "tolerations[" + i + "].tolerationSeconds", tolerations.get(i).path("tolerationSeconds"), 64, false);
    }
    JsonNode groups = security.path("supplementalGroups");
    if (groups.isArray()) {
      for (int i = 0; i < groups.size(); i++) {
        integer(m, at + "securityContext.supplementalGroups[" + i + "]", groups.get(i), 64, false);
      }
    }
  }

  /**
   * Checks the integer fields of the container {@code c}: its {@code securityContext}'s {@code
   * runAsUser} and {@code runAsGroup}, its probes' periods, thresholds and grace period, and the
   * {@code seconds} of a lifecycle hook's {@code sleep}; {@code at} is its path with a trailing dot.
   */
  private static void containerIntegers(Manifest m, JsonNode c, String at) {
    for (String field : CONTAINER_SECURITY_INTEGERS) {
      integer(m, at + "securityContext." + field, c.path("securityContext").path(field), 64, false);
    }
    for (String probe : PROBES) {
      for (String field : new TreeSet<>(PROBE_INTEGERS.keySet())) {
        integer(m, at + probe + "." + field, c.path(probe).path(field), PROBE_INTEGERS.get(field), false);
      }
      handlerPorts(m, at + probe + ".", c.path(probe));
      if (c.path(probe).path("grpc").isObject()) {
        JsonNode port = c.path(probe).path("grpc").path("port");
        if (port.isMissingNode() || port.isNull()) {
          throw m.place().error(at + probe + ".grpc.port is required: the port number (1 to 65535) of the gRPC service"
              + " (the API server reads it as 0 and refuses it)");
        }
        integer(m, at + probe + ".grpc.port", port, 32, true);
      }
    }
    for (String hook : List.of("postStart", "preStop")) {
      integer(m, at + "lifecycle." + hook + ".sleep.seconds", c.path("lifecycle").path(hook).path("sleep")
          .path("seconds"), 64, false);
      handlerPorts(m, at + "lifecycle." + hook + ".", c.path("lifecycle").path(hook));
    }
  }

  /**
   * Checks the ports of the handler {@code handler} (a probe, a lifecycle hook) at {@code at} (with a
   * trailing dot): an {@code httpGet}'s or {@code tcpSocket}'s {@code port}, required, a number or
   * the name of a container's port.
   */
  private static void handlerPorts(Manifest m, String at, JsonNode handler) {
    for (String action : List.of("httpGet", "tcpSocket")) {
      if (handler.path(action).isObject()) {
        intOrStringPort(m, at + action + ".port", handler.path(action).path("port"), true, false);
      }
    }
  }

  /**
   * Refuses the port {@code value} at {@code where}, an int-or-string field (a probe's {@code
   * httpGet.port}, a Service's {@code targetPort}, a NetworkPolicy's port), where the API server
   * refuses it ({@code ValidatePortNumOrName}): a number that is not a whole 32-bit integer or not 1
   * to 65535, a string that is not a port name ({@link Names#portNameProblem}: {@code "8080"} is a
   * name without a letter); when {@code required}, a missing or null one (read as the number 0); a
   * 0 or {@code ""} is let through when {@code zeroIsUnset} (a targetPort the server defaults).
   */
  private static void intOrStringPort(Manifest m, String where, JsonNode value, boolean required, boolean zeroIsUnset) {
    if (value.isMissingNode() || value.isNull()) {
      if (required) {
        throw m.place().error(where + " is required: a port number (1 to 65535) or the name of one of the container's"
            + " ports (the API server reads it as 0 and refuses it)");
      }
      return;
    }
    if (value.isTextual()) {
      if (!(zeroIsUnset && value.textValue().isEmpty())) {
        portName(m, where, value.textValue());
      }
      return;
    }
    portNumber(m, where, value, zeroIsUnset);
  }

  /** Refuses the port number {@code value} at {@code where} unless it is 1 to 65535 (or 0, when {@code zeroIsUnset}). */
  private static void portNumber(Manifest m, String where, JsonNode value, boolean zeroIsUnset) {
    if (!(zeroIsUnset && value.isIntegralNumber() && value.canConvertToInt() && value.intValue() == 0)) {
      integer(m, where, value, 32, true);
    }
  }

  /**
   * Refuses the port protocol {@code value} at {@code where} (a container's, a Service's or a
   * NetworkPolicy's port) unless it is absent, null or {@code TCP}, {@code UDP} or {@code SCTP}, as
   * written: the API server refuses {@code tcp} ("supported values"), and the merge keys ports by
   * their protocol, whose default is {@code TCP}.
   */
  private static void protocol(Manifest m, String where, JsonNode value) {
    if (value.isTextual() && !Set.of("TCP", "UDP", "SCTP").contains(value.textValue())) {
      throw m.place().error(where + ": '" + shown(value.textValue()) + "' is not a protocol: TCP, UDP or SCTP, written"
          + " so (in upper case), as the API server requires");
    }
  }

  /**
   * Refuses the name {@code name} of the Service port {@code ports[i]} (at {@code at}) where the API
   * server refuses it ({@code validateServicePort}): missing or empty when the Service has more than
   * one port, not a DNS label ({@code http_alt}, {@code HTTP}), or the name of an earlier port.
   */
  private static void servicePortName(Manifest m, String at, JsonNode name, JsonNode ports, int i) {
    String text = name.isTextual() ? name.textValue() : "";
    if (text.isEmpty()) {
      if (ports.size() > 1) {
        throw m.place().error(at + ".name is required: a Service with more than one port names each of them, as the"
            + " API server requires");
      }
      return;
    }
    if (!Names.isLabel(text)) {
      throw m.place().error(at + ".name: '" + shown(text) + "' is not a DNS label (lowercase letters, digits and '-',"
          + " starting and ending with a letter or digit, at most 63 characters), which the API server wants for a"
          + " Service port's name");
    }
    for (int j = 0; j < i; j++) {
      if (text.equals(ports.get(j).path("name").textValue())) {
        throw m.place().error(at + ".name: '" + text + "' names ports[" + j + "] too: a Service's port names are"
            + " unique, as the API server requires");
      }
    }
  }

  /**
   * Refuses a container name used twice among the containers, init containers and ephemeral
   * containers of the pod spec {@code podSpec} (of {@code what}, at {@code at}, with a trailing dot, or empty), as
   * the API server refuses it ("Duplicate value"); twice in one list is the merge's keyed-list check.
   */
  private static void containerNamesAcrossLists(Manifest m, JsonNode podSpec, String what, String at) {
    Map<String, String> listOf = new HashMap<>();
    for (String list : List.of("containers", "initContainers", "ephemeralContainers")) {
      JsonNode cs = podSpec.path(list);
      for (int i = 0; cs.isArray() && i < cs.size(); i++) {
        JsonNode name = cs.get(i).path("name");
        if (!name.isTextual()) {
          continue;
        }
        String other = listOf.putIfAbsent(name.textValue(), list);
        if (other != null && !other.equals(list)) {
          throw m.place().error(what + at + list + "[name=" + shown(name.textValue()) + "]: the name is a container's of "
              + at + other + " too: a pod's containers, init containers and ephemeral containers have unique names,"
              + " as the API server requires");
        }
      }
    }
  }

  /** The workloads whose {@code spec.selector} (a label selector) must select their own pod template. */
  private static final Set<String> SELECTING_WORKLOADS = Set.of("apps/Deployment", "apps/ReplicaSet",
      "apps/DaemonSet", "apps/StatefulSet", "/ReplicationController");

  /**
   * Refuses a workload ({@link #SELECTING_WORKLOADS}) whose selector does not select its own pod
   * template, as the API server refuses it ("selector does not match template labels"): a
   * {@code matchLabels} entry (a ReplicationController's {@code selector} map) its template's labels
   * do not carry with that value, or a {@code matchExpressions} requirement they do not meet; a
   * requirement the server refuses in itself (an operator other than {@code In}, {@code NotIn},
   * {@code Exists} and {@code DoesNotExist}, {@code values} missing for the first two or given for
   * the last two, a key or value no label's); and, at {@code apps/v1}, a selector missing or
   * selecting nothing ({@code selector: {}}), which apps/v1 requires and, unlike the beta versions
   * and a ReplicationController's, does not take from the template's labels.
   */
  private static void selectorMatchesTemplate(Manifest m, ObjectNode doc, JsonNode spec, String what) {
    if (!SELECTING_WORKLOADS.contains(m.type())) {
      return;
    }
    boolean rc = m.type().equals("/ReplicationController");
    JsonNode selector = spec.path("selector");
    JsonNode labels = spec.path("template").path("metadata").path("labels");
    JsonNode wanted = rc ? selector : selector.path("matchLabels");
    JsonNode expressions = rc ? MissingNode.getInstance() : selector.path("matchExpressions");
    if (!rc && "apps/v1".equals(doc.path("apiVersion").textValue()) && wanted.size() + expressions.size() == 0) {
      throw m.place().error(what + "spec.selector " + (selector.isObject() ? "selects nothing (no matchLabels, no"
          + " matchExpressions)" : "is missing") + ": apps/v1 requires a selector that selects the pod template"
          + " and does not take it from the template's labels, as the API server requires (write spec.selector"
          + ".matchLabels with labels of spec.template.metadata.labels)");
    }
    if (rc && !spec.path("template").isObject()) {
      return;  // a ReplicationController without a template is left to the server
    }
    for (Map.Entry<String, JsonNode> e : wanted.isObject() ? wanted.properties() : Set.<Map.Entry<String, JsonNode>>of()) {
      String value = e.getValue().isNull() ? "" : e.getValue().asText();
      JsonNode has = labels.path(e.getKey());
      if (has.isMissingNode() || !(has.isNull() ? "" : has.asText()).equals(value)) {
        throw m.place().error(what + "spec.selector" + (rc ? "" : ".matchLabels") + " asks " + e.getKey() + "=" + shown(value)
            + ", but spec.template.metadata.labels " + templateHas(labels, e.getKey()) + ": the selector must select the"
            + " pod template, as the API server requires");
      }
    }
    for (int i = 0; expressions.isArray() && i < expressions.size(); i++) {
      String at = what + "spec.selector.matchExpressions[" + i + "]";
      JsonNode e = expressions.get(i);
      String key = e.path("key").isTextual() ? e.path("key").textValue() : "";
      String problem = Names.labelKeyProblem(key);
      if (problem != null) {
        throw m.place().error(at + ".key " + (e.path("key").isTextual() ? "'" + shown(key) + "' " + problem
            : "must be a label key, got " + (e.has("key") ? e.get("key") : "none")));
      }
      String op = e.path("operator").isTextual() ? e.path("operator").textValue() : "";
      JsonNode values = e.path("values");
      boolean listed = op.equals("In") || op.equals("NotIn");
      if (!listed && !op.equals("Exists") && !op.equals("DoesNotExist")) {
        throw m.place().error(at + ".operator " + (e.path("operator").isTextual() ? "'" + shown(op) + "'"
            : e.hasNonNull("operator") ? e.get("operator").toString() : "missing: it") + " is not one of In, NotIn, Exists"
            + " and DoesNotExist, as the API server requires (written so: the case matters)");
      }
      if (listed == values.isEmpty()) {
        throw m.place().error(at + ".values " + (listed ? "are required when the operator is " + op
            : "must be empty when the operator is " + op) + ", as the API server requires");
      }
      Set<String> allowed = new java.util.HashSet<>();
      for (JsonNode v : values) {
        String text = v.isNull() ? "" : v.asText();
        problem = Names.labelValueProblem(text);
        if (problem != null) {
          throw m.place().error(at + ".values: '" + shown(text) + "' " + problem);
        }
        allowed.add(text);
      }
      JsonNode has = labels.path(key);
      boolean present = !has.isMissingNode();
      boolean selects = switch (op) {
        case "In" -> present && allowed.contains(has.isNull() ? "" : has.asText());
        case "NotIn" -> !present || !allowed.contains(has.isNull() ? "" : has.asText());
        case "Exists" -> present;
        default -> !present;
      };
      if (!selects) {
        throw m.place().error(at + " (" + shown(key) + " " + op + (listed ? " " + shown(values.toString()) : "")
            + ") does not select spec.template.metadata.labels, which " + templateHas(labels, key) + ": the selector must"
            + " select the pod template, as the API server requires");
      }
    }
  }

  /** What the template's labels {@code labels} say of {@code key}: {@code has app=web} or {@code has no app}. */
  private static String templateHas(JsonNode labels, String key) {
    JsonNode has = labels.path(key);
    return has.isMissingNode() ? "has no " + shown(key) : "has " + shown(key) + "=" + shown(has.isNull() ? "" : has.asText());
  }

  /** Refuses {@code name} at {@code where} when the API server would refuse it as a port's name. */
  private static void portName(Manifest m, String where, String name) {
    String problem = Names.portNameProblem(name);
    if (problem != null) {
      throw m.place().error(where + ": '" + shown(name) + "' is not a port name (an IANA service name: at most 15"
          + " lowercase letters, digits and '-', at least one letter, no '-' at either end or twice in a row): it "
          + problem + (name.trim().matches("\\d+") ? "; a port number is written without quotes: " + name.trim() : ""));
    }
  }

  /**
   * Checks a NetworkPolicy's {@code spec.ingress[].ports[]} and {@code spec.egress[].ports[]} as the
   * API server does: {@code port} a port number or name (absent: every port), {@code endPort} a port
   * number not below {@code port}, given only with a numeric {@code port}.
   */
  private static void networkPolicyPorts(Manifest m, JsonNode spec, String what) {
    for (String direction : List.of("ingress", "egress")) {
      JsonNode rules = spec.path(direction);
      for (int i = 0; rules.isArray() && i < rules.size(); i++) {
        JsonNode ports = rules.get(i).path("ports");
        for (int j = 0; ports.isArray() && j < ports.size(); j++) {
          JsonNode p = ports.get(j);
          String at = what + "spec." + direction + "[" + i + "].ports[" + j + "]";
          protocol(m, at + ".protocol", p.path("protocol"));
          JsonNode port = p.path("port");
          intOrStringPort(m, at + ".port", port, false, false);
          JsonNode end = p.path("endPort");
          if (end.isMissingNode() || end.isNull()) {
            continue;
          }
          if (port.isMissingNode() || port.isNull() || port.isTextual()) {
            throw m.place().error(at + ".endPort may be given only with a numeric port (" + (port.isTextual()
                ? "port is the name '" + shown(port.textValue()) + "'" : "port is not given") + "), as the API server"
                + " requires");
          }
          integer(m, at + ".endPort", end, 32, true);
          if (end.intValue() < port.intValue()) {
            throw m.place().error(at + ".endPort: " + end.intValue() + " is below port " + port.intValue()
                + " (the range is port to endPort)");
          }
        }
      }
    }
  }

  /**
   * Checks an Ingress backend's {@code service.port} as the API server does: a {@code number} (1 to
   * 65535; 0 is unset) or a {@code name} (a port name), one of them and not both.
   */
  private static void ingressBackend(Manifest m, String at, JsonNode backend) {
    JsonNode service = backend.path("service");
    if (!service.isObject()) {
      return;
    }
    JsonNode number = service.path("port").path("number");
    JsonNode name = service.path("port").path("name");
    portNumber(m, at + ".service.port.number", number, true);
    notAString(m, at + ".service.port.name", name);
    boolean hasNumber = number.isIntegralNumber() && number.intValue() != 0;
    boolean hasName = name.isTextual() && !name.textValue().isEmpty();
    if (hasName) {
      portName(m, at + ".service.port.name", name.textValue());
    }
    if (hasName == hasNumber) {
      throw m.place().error(at + ".service.port " + (hasName ? "gives both a name ('" + shown(name.textValue())
          + "') and a number (" + number.intValue() + "): give one" : "gives neither a number nor a name of the"
          + " Service's port: one is required") + ", as the API server requires");
    }
  }

  /**
   * Refuses {@code value} at {@code where}, a 32-bit integer field, when it is there, not null and
   * not an integer in range (with {@code port}, a port number: 1 to 65535).
   */
  private static void int32(Manifest m, String where, JsonNode value, boolean port) {
    integer(m, where, value, 32, port);
  }

  /**
   * Refuses {@code value} at {@code where}, an integer field of {@code bits} bits (32 or 64), when it
   * is there, not null and not an integer in range (with {@code port}, a port number: 1 to 65535). A
   * whole number written with a fraction ({@code 30.0}) is an integer here: the reader holds it as one.
   */
  private static void integer(Manifest m, String where, JsonNode value, int bits, boolean port) {
    if (value.isMissingNode() || value.isNull()) {
      return;
    }
    String why = null;
    if (value.isTextual()) {
      why = "must be an integer, not a string" + (fits(value.textValue().trim(), bits)
          ? ": write " + value.textValue().trim() + " without quotes" : "") + " (the API server refuses a string there)";
    } else if (!value.isNumber()) {
      why = "must be an integer, got a " + value.getNodeType().name().toLowerCase(Locale.ROOT);
    } else if (!value.isIntegralNumber()) {
      why = "must be a whole number without a fraction (the API server's field is an integer)";
    } else if (bits == 32 ? !value.canConvertToInt() : !value.canConvertToLong()) {
      why = "is out of range: the API server's field is a " + bits + "-bit integer ("
          + (bits == 32 ? Integer.MIN_VALUE + " to " + Integer.MAX_VALUE : Long.MIN_VALUE + " to " + Long.MAX_VALUE) + ")";
    } else if (port && (value.intValue() < 1 || value.intValue() > 65535)) {
      why = "is not a port number (1 to 65535)";
    }
    if (why != null) {
      throw m.place().error(where + ": " + shown(value.toString()) + " " + why);
    }
  }

  /** Whether {@code text} is an integer of {@code bits} bits written in decimal. */
  private static boolean fits(String text, int bits) {
    if (!text.matches("[+-]?\\d{1,19}")) {
      return false;
    }
    try {
      long v = Long.parseLong(text);
      return bits == 64 || v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE;
    } catch (NumberFormatException e) {
      return false;  // past 64 bits: no integer the field takes, so no hint to write it unquoted
    }
  }

  /** Refuses, in the map of quantities {@code map} at {@code where}, a value that is not a quantity. */
  private static void quantities(Manifest m, String where, JsonNode map) {
    if (map.isMissingNode() || map.isNull()) {
      return;
    }
    if (!map.isObject()) {
      throw m.place().error(where + " must be a mapping of resource names to quantities, got "
          + map.getNodeType().name().toLowerCase(Locale.ROOT));
    }
    for (Map.Entry<String, JsonNode> e : map.properties()) {
      quantity(m, where + "." + e.getKey(), e.getValue());
    }
  }

  /**
   * Refuses the resource requirements {@code resources} at {@code where} (a container's, a pod's)
   * when a limit is below the request of the same resource, both written (what is no quantity is
   * left to {@link #quantities}), as the API server refuses it ({@code ValidateResourceRequirements}: "must be less than
   * or equal to cpu limit"); a null limit or request is the zero quantity the server reads it as
   * ({@code limits: {cpu: null}} with a request of {@code 500m} is a limit of 0 below it). A request
   * without a limit is left alone: the server takes it, as it defaults no limit from it.
   */
  private static void limitsNotBelowRequests(Manifest m, String where, JsonNode resources) {
    JsonNode limits = resources.path("limits");
    JsonNode requests = resources.path("requests");
    if (!limits.isObject() || !requests.isObject()) {
      return;
    }
    for (Map.Entry<String, JsonNode> e : limits.properties()) {
      if (!requests.has(e.getKey())) {
        continue;
      }
      JsonNode request = requests.get(e.getKey());
      Optional<java.math.BigDecimal> limit = amount(e.getValue());
      Optional<java.math.BigDecimal> wanted = amount(request);
      if (limit.isPresent() && wanted.isPresent() && limit.get().compareTo(wanted.get()) < 0) {
        throw m.place().error(where + ": the " + e.getKey() + " limit " + written(e.getValue()) + " is below its request "
            + written(request) + ": a limit must be at least the request, as the API server requires (raise the limit,"
            + " or give no limit)");
      }
    }
  }

  /**
   * Refuses, in the map of quantities {@code map} at {@code where} (a {@code resources.limits} or
   * {@code requests}, a ResourceQuota's {@code hard}; its quantities checked), a negative amount
   * ({@code cpu: -1}, {@code memory: -1Gi}), as the API server refuses it ({@code
   * ValidateResourceQuantityValue}: "must be greater than or equal to 0").
   */
  private static void notNegative(Manifest m, String where, JsonNode map) {
    for (Map.Entry<String, JsonNode> e : map.properties()) {
      Optional<java.math.BigDecimal> amount = amount(e.getValue());
      if (amount.isPresent() && amount.get().signum() < 0) {
        throw m.place().error(where + "." + e.getKey() + ": " + written(e.getValue()) + " is negative: the API server"
            + " refuses it (a quantity there must be greater than or equal to 0)");
      }
    }
  }

  /** The amount of the quantity {@code v} (null is the zero quantity, as the server reads it), if it is one. */
  private static Optional<java.math.BigDecimal> amount(JsonNode v) {
    if (v.isNull()) {
      return Optional.of(java.math.BigDecimal.ZERO);
    }
    if (v.isNumber()) {
      return Quantities.value(Quantities.canonical(v.decimalValue()));
    }
    return v.isTextual() ? Quantities.value(v.textValue()) : Optional.empty();
  }

  /** A quantity as a message shows it: as written, null as what the server reads it as. */
  private static String written(JsonNode v) {
    return v.isNull() ? "0 (written null, which the API server reads as 0)" : shown(v.asText());
  }

  /** Refuses {@code v} at {@code where} when it is not a quantity the API server takes. */
  private static void quantity(Manifest m, String where, JsonNode v) {
    // a number is one (the reader refuses NaN and infinities); null or missing is absent
    boolean ok = v.isMissingNode() || v.isNull() || v.isNumber() || v.isTextual() && Quantities.isQuantity(v.textValue());
    if (!ok) {
      throw m.place().error(where + ": " + shown(v.toString()) + " is not a quantity (a number"
          + " with an optional suffix: 250m, 2, 0.5, 128Mi, 1Gi, 1e3), which the API server requires there");
    }
  }

  /**
   * Checks the fields of {@code node} (at {@code path}, with a trailing dot, or empty at the object)
   * against their {@code shape} in {@link Shapes}, in the order written: an object field that holds
   * a scalar or a list ({@code resources: [1]}, {@code securityContext: true}, {@code affinity: [..]}),
   * a list field that holds no list ({@code tolerations: {operator: Exists}}), an item of a list of
   * objects that is no mapping ({@code tolerations: [x]}, a Role's {@code rules: [get]}) and an item
   * of a list of strings that is no string ({@code verbs: [get, yes]}), and a string or boolean
   * field holding another type ({@code image: 5}, {@code schedule: 5}, {@code hostNetwork: "true"},
   * {@code immutable: "true"}) are refused naming the path
   * ({@code spec.template.spec.containers[name=app].resources}) through {@link #mapping} and {@link
   * #list}; null is absent, as the server reads it. The API server refuses each at apply time,
   * naming the object, not the file, and the checks of the values below would not find them.
   */
  private static void shapes(Manifest m, JsonNode node, Shapes.Field shape, String what, String path) {
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      Shapes.Field field = shape.fields().get(e.getKey());
      if (field == null) {
        continue;
      }
      String at = path + e.getKey();
      JsonNode v = e.getValue();
      if (field.kind() == Shapes.Kind.STRING) {
        notAString(m, what + at, v);
        continue;
      }
      if (field.kind() == Shapes.Kind.BOOLEAN) {
        notABoolean(m, what + at, v);
        continue;
      }
      if (field.kind() == Shapes.Kind.OBJECT) {
        if (mapping(m, what + at, v).isObject()) {
          shapes(m, v, field, what, at + ".");
        }
        continue;
      }
      list(m, what + at, v);
      for (int i = 0; v.isArray() && i < v.size(); i++) {
        JsonNode item = v.get(i);
        String itemAt = at + "[" + (item.path("name").isTextual() && !item.path("name").textValue().isEmpty()
            ? "name=" + item.path("name").textValue() : i) + "]";
        switch (field.kind()) {
          case OBJECTS -> {
            if (!item.isObject()) {
              // a null item too: the server decodes it as an empty object, which is no toleration, rule or container
              throw m.place().error(what + itemAt + " must be a mapping, got " + shape(item));
            }
            shapes(m, item, field, what, itemAt + ".");
          }
          case STRINGS -> notAString(m, what + itemAt, item);
          default -> { }
        }
      }
    }
  }

  /** Refuses {@code value} at {@code where} when it is there, not null, and not true or false. */
  private static void notABoolean(Manifest m, String where, JsonNode value) {
    if (!value.isMissingNode() && !value.isNull() && !value.isBoolean()) {
      throw m.place().error(where + " must be true or false, got " + (value.isContainerNode() ? shape(value)
          : shown(value.toString())) + (value.isTextual() ? " (write it without quotes)" : ""));
    }
  }

  /**
   * {@code value}, a list field of a built-in kind at {@code where}, refused when it is there, not
   * null and no list ({@code env: {A: b}}, {@code ports: {port: 80}}): the API server refuses it at
   * apply time naming no file (the checks of its elements would not even find them).
   */
  private static JsonNode list(Manifest m, String where, JsonNode value) {
    if (!value.isMissingNode() && !value.isNull() && !value.isArray()) {
      throw m.place().error(where + " must be a list, got " + shape(value) + " (write its elements after '- ')");
    }
    return value;
  }

  /**
   * {@code value}, an object field of a built-in kind at {@code where} (its {@code spec}, a pod
   * template's), refused when it is there, not null and no mapping ({@code spec: [replicas: 1]}): the
   * API server refuses it at apply time naming no file, and the checks below it would not find its
   * fields.
   */
  private static JsonNode mapping(Manifest m, String where, JsonNode value) {
    if (!value.isMissingNode() && !value.isNull() && !value.isObject()) {
      throw m.place().error(where + " must be a mapping, got " + shape(value));
    }
    return value;
  }

  /** What {@code value} is, for a message: "a mapping", "a list", "string", "number", ... */
  private static String shape(JsonNode value) {
    return value.isObject() ? "a mapping" : value.isArray() ? "a list" : value.getNodeType().name().toLowerCase(Locale.ROOT);
  }

  /** Refuses {@code value} at {@code where} when it is there, not null, and not a string. */
  private static void notAString(Manifest m, String where, JsonNode value) {
    if (!value.isMissingNode() && !value.isNull() && !value.isTextual()) {
      throw m.place().error(where + " must be a string, got " + (value.isContainerNode()
          ? value.getNodeType().name().toLowerCase(Locale.ROOT) : value.toString())
          + " (quote it: YAML reads yes, no, on, off, 0, 1.10 and 0x1F as booleans and numbers)");
    }
  }

  /**
   * Refuses label keys, label values and annotation keys the API server refuses (for every kind,
   * built-in or custom: its {@code ValidateObjectMeta}), naming the key; {@link #stringMap} has
   * checked that the values are strings.
   */
  private static void metadataKeys(Manifest m, String what, JsonNode meta) {
    labelKeysAndValues(m, what, meta.path("labels"), "metadata.labels");
    annotationKeys(m, what, meta.path("annotations"), "metadata.annotations");
  }

  /**
   * Refuses, in the map of labels {@code labels} at {@code field} (an object's labels, a selector's),
   * a key or a value the API server refuses ({@code ValidateLabels}); the values are strings or null.
   */
  private static void labelKeysAndValues(Manifest m, String what, JsonNode labels, String field) {
    for (Map.Entry<String, JsonNode> e : labels.properties()) {
      String problem = Names.labelKeyProblem(e.getKey());
      if (problem != null) {
        throw m.place().error(what + field + " key '" + shown(e.getKey()) + "' " + problem);
      }
      problem = e.getValue().isTextual() ? Names.labelValueProblem(e.getValue().textValue()) : null;
      if (problem != null) {
        throw m.place().error(what + field + "." + e.getKey() + ": value '" + shown(e.getValue().textValue()) + "' "
            + problem);
      }
    }
  }

  /** Refuses, in the annotations {@code annotations} at {@code field}, a key the API server refuses. */
  private static void annotationKeys(Manifest m, String what, JsonNode annotations, String field) {
    for (Map.Entry<String, JsonNode> e : annotations.properties()) {
      String problem = Names.annotationKeyProblem(e.getKey());
      if (problem != null) {
        throw m.place().error(what + field + " key '" + shown(e.getKey()) + "' " + problem);
      }
    }
  }

  /**
   * Checks the maps of strings of a built-in kind below its top-level metadata (those of {@link
   * #stringMapNulls}) as {@link #stringMaps} checks the top-level ones: a value YAML reads as another
   * type ({@code prometheus.io/port: 9090} in a pod template's annotations, {@code version: 1.10} in
   * its labels, {@code gpu: true} in a nodeSelector) is refused, since the API server refuses the
   * whole object at apply time naming no file (and {@code 1.10} would have been sent as {@code 1.1});
   * where the server checks them as labels (the labels of every template, a pod template's, a CronJob's
   * job template's, a StatefulSet's claim templates', every {@code matchLabels}, a pod spec's {@code
   * nodeSelector}, a Service's or ReplicationController's {@code spec.selector}), keys and values are
   * checked as labels, and a template's annotation keys as annotation keys.
   * {@code path} is where {@code node} is, with a trailing dot, or empty at the object.
   */
  private static void nestedStringMaps(Manifest m, JsonNode node, String what, String path) {
    if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        nestedStringMaps(m, node.get(i), what, path.substring(0, Math.max(0, path.length() - 1)) + "[" + i + "].");
      }
      return;
    }
    if (!node.isObject()) {
      return;
    }
    if (path.isEmpty() && (m.type().equals("/Service") || m.type().equals("/ReplicationController"))) {
      labels(m, what, mapping(node.path("spec"), "selector"), "spec.selector");
    }
    if (!path.isEmpty() && node.get("metadata") instanceof ObjectNode meta) {
      // every template's metadata (a pod template's, a job template's, a claim template's) is checked as an
      // object's: the server validates it so (ValidateTemplateObjectMeta), or refuses the Job or claim made from it
      String at = path + "metadata.";
      labels(m, what, mapping(meta, "labels"), at + "labels");
      stringMap(m, what, mapping(meta, "annotations"), at + "annotations", false, false, false);
      annotationKeys(m, what, meta.path("annotations"), at + "annotations");
    }
    labels(m, what, mapping(node, "matchLabels"), path + "matchLabels");
    if (node.path("containers").isArray()) {
      labels(m, what, mapping(node, "nodeSelector"), path + "nodeSelector");
    }
    stringMap(m, what, mapping(node, "volumeAttributes"), path + "volumeAttributes", false, false, false);
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      if (!e.getKey().equals("metadata") || !path.isEmpty()) {
        nestedStringMaps(m, e.getValue(), what, path + e.getKey() + ".");
      }
    }
  }

  /**
   * The mapping at {@code field} of {@code node}, or null: what is no mapping there is left to the
   * server (a label or a ConfigMap key may be named {@code matchLabels}, its value a string).
   */
  private static JsonNode mapping(JsonNode node, String field) {
    return node.get(field) instanceof ObjectNode map ? map : null;
  }

  /** Checks the map of labels {@code map} at {@code field} (when there): strings, and keys and values as labels. */
  private static void labels(Manifest m, String what, JsonNode map, String field) {
    stringMap(m, what, map, field, false, false, false);
    if (map != null) {
      labelKeysAndValues(m, what, map, field);
    }
  }

  /** The API server's limit on a ConfigMap's or Secret's data (its validation's {@code MaxSecretSize}). */
  static final long MAX_DATA_BYTES = 1024 * 1024;

  /** Refuses data the API server would refuse as too large, naming the object and the sizes. */
  private static void checkSize(Manifest m, String what, String counted, long size) {
    if (size > MAX_DATA_BYTES) {
      throw m.place().error(what + counted + " hold " + size + " bytes, more than the "
          + MAX_DATA_BYTES + " the API server accepts (split it, or mount the data another way)");
    }
  }

  /**
   * Checks one such map; returns its size as the API server counts it: the bytes of each value
   * (decoded when base64), and of each key when {@code keys}.
   */
  private static long stringMap(Manifest m, String what, JsonNode map, String field, boolean base64, boolean secret,
      boolean keys) {
    long size = 0;
    if (map == null || map.isNull()) {
      return size;
    }
    if (!map.isObject()) {
      throw m.place().error(what + field + " must be a mapping of strings, got "
          + map.getNodeType().name().toLowerCase(Locale.ROOT));
    }
    for (Map.Entry<String, JsonNode> e : map.properties()) {
      JsonNode v = e.getValue();
      if (v.isNull()) {
        // the empty string, as the API server stores it (see stringMapNulls): its key counts
        size += keys ? e.getKey().getBytes(StandardCharsets.UTF_8).length : 0;
        continue;
      }
      if (!v.isTextual()) {
        throw m.place().error(what + field + "." + e.getKey() + " must be a string, got "
            + (secret ? "a " + v.getNodeType().name().toLowerCase(Locale.ROOT) : v.toString())
            + " (quote it: YAML reads yes, on, 1.10 and 0x1F as booleans and numbers)");
      }
      byte[] decoded = base64 ? Normalization.base64(v.textValue()) : null;
      if (base64 && decoded == null) {
        throw m.place().error(what + field + "." + e.getKey() + " is not base64"
            + (secret ? " (the value is not shown; put plain text under stringData instead)" : ""));
      }
      size += (decoded != null ? decoded.length : v.textValue().getBytes(StandardCharsets.UTF_8).length)
          + (keys ? e.getKey().getBytes(StandardCharsets.UTF_8).length : 0);
    }
    return size;
  }

  /**
   * Whether objects of the kind {@code type}, which is not built in, are custom resources, whose
   * names the API server checks as DNS subdomains: when a CustomResourceDefinition of the desired
   * state defines it, and otherwise unless the connected cluster serves it without one (an
   * aggregated API such as OpenShift's, whose server has its own rules). Not connected, a kind
   * without a CustomResourceDefinition in sight is taken for what nearly every such kind is.
   */
  private boolean custom(String type, String apiVersion, Map<String, KindInfo> crds) {
    if (crds.containsKey(type) || kinds.desired(type).isPresent()) {
      return true;
    }
    return aggregated == null || !aggregated.test(type, apiVersion);
  }

  /** True, false, or null when nobody can tell. */
  private Boolean namespaced(String type, String apiVersion, Map<String, KindInfo> crds) {
    Optional<KindInfo> k = KindTable.builtIn(type);
    if (k.isEmpty()) {
      k = Optional.ofNullable(crds.get(type));
    }
    if (k.isEmpty() && live != null) {
      k = live.apply(type, apiVersion);
    }
    return k.map(KindInfo::namespaced).orElse(null);
  }

  private static String annotation(JsonNode annotations, String name, Manifest m) {
    JsonNode v = annotations.get(name);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      // the API server refuses annotation values that are not strings: say so before anything is applied
      throw m.place().error("annotation " + name + " must be a string, got " + v + " (quote it)");
    }
    return v.textValue();
  }

  private ResourceKey reference(String ref, String ownNamespace, Manifest m, Map<String, KindInfo> crds) {
    long colons = ref.chars().filter(c -> c == ':').count();
    try {
      if (colons == 3) {
        return clusterScopedWithoutNamespace(ResourceKey.parse(ref), ref, m, crds);
      }
      if (colons == 2) {
        ResourceKey k = clusterScopedWithoutNamespace(ResourceKey.parse(providerId + ":" + ref), ref, m, crds);
        if (k.scope().isEmpty() && !ownNamespace.isEmpty()) {
          Boolean ns = namespaced(k.type(), "", crds);
          if (ns == null || ns) {
            k = ResourceKey.of(k.provider(), k.type(), ownNamespace, k.name());
          }
        }
        return k;
      }
    } catch (IllegalArgumentException e) {
      throw m.place().error("annotation " + Annotations.DEPENDS_ON + ": '" + ref + "': "
          + e.getMessage(), e);
    }
    throw m.place().error("annotation " + Annotations.DEPENDS_ON + ": '" + ref
        + "' is not a key (want provider:type:scope:name, or type:namespace:name for a Kubernetes object)");
  }

  /**
   * {@code k}, refused when it is a key of this provider whose kind is known to be cluster-scoped
   * but that names a namespace ({@code /Namespace:shop:shop}): no object ever has that key (a
   * cluster-scoped object's namespace is dropped), so the dependency could never be met.
   */
  private ResourceKey clusterScopedWithoutNamespace(ResourceKey k, String ref, Manifest m, Map<String, KindInfo> crds) {
    if (k.provider().equals(providerId) && !k.scope().isEmpty()
        && Boolean.FALSE.equals(namespaced(k.type(), "", crds))) {
      throw m.place().error("annotation " + Annotations.DEPENDS_ON + ": '" + ref + "': " + k.type() + " is"
          + " cluster-scoped, so its key has no namespace: write " + (ref.startsWith(providerId + ":") ? providerId + ":"
          : "") + k.type() + "::" + k.name());
    }
    return k;
  }

  /** Builds a {@link KubernetesDecoder}. */
  public static final class Builder {
    private String providerId = "k8s";
    private String defaultNamespace = "default";
    // a key without a value (labels:, data:, resources:) is null, absent, as kubectl reads it
    private YamlManifestDecoder reader = YamlManifestDecoder.builder().emptyValuesAsNull(true).build();
    private Set<String> keepStatus = Set.of();
    private Normalization normalization;
    private Kinds kinds;
    private BiFunction<String, String, Optional<KindInfo>> live;
    private BiPredicate<String, String> aggregated;
    private boolean together = true;

    private Builder() {}

    /**
     * Whether the source hands all files to one {@link KubernetesDecoder#decodeTogether} call
     * (default on; see {@link KubernetesDecoder#decodesTogether()}): turn it off only for a
     * source that substitutes variables.
     */
    public Builder decodeFilesTogether(boolean on) {
      this.together = on;
      return this;
    }

    /** The provider id of the keys (default {@code k8s}). */
    public Builder providerId(String id) {
      Objects.requireNonNull(id, "id");
      if (id.isEmpty()) {
        throw new IllegalArgumentException("provider id must not be empty");
      }
      this.providerId = id;
      return this;
    }

    /**
     * The namespace of namespaced objects that name none (default {@code default}).
     *
     * @throws IllegalArgumentException naming the value when it is not a namespace name (a DNS label)
     */
    public Builder defaultNamespace(String namespace) {
      Objects.requireNonNull(namespace, "namespace");
      if (namespace.isEmpty()) {
        throw new IllegalArgumentException("default namespace must not be empty");
      }
      if (!Names.isLabel(namespace)) {
        // it goes into every key and URL of the objects that name no namespace
        throw new IllegalArgumentException("default namespace '" + namespace + "' is not a namespace name: lower-case"
            + " letters, digits and '-', starting and ending with a letter or digit, at most 63 characters");
      }
      this.defaultNamespace = namespace;
      return this;
    }

    /**
     * The reader whose limits apply to files (aliases, size, depth); default {@link
     * YamlManifestDecoder#builder()} with {@code emptyValuesAsNull(true)}, so that a key written
     * without a value is absent, as kubectl reads it.
     */
    public Builder reader(YamlManifestDecoder reader) {
      this.reader = Objects.requireNonNull(reader, "reader");
      return this;
    }

    /** Adds key types ({@code example.com/Widget}) whose {@code status} is declared in Git rather than reported by a controller. */
    public Builder keepStatus(Set<String> types) {
      Set<String> all = new java.util.HashSet<>(keepStatus);
      all.addAll(types);
      this.keepStatus = Set.copyOf(all);
      return this;
    }

    String providerId() {
      return providerId;
    }

    Set<String> keepStatus() {
      return keepStatus;
    }

    Builder shared(Normalization n, Kinds k, BiFunction<String, String, Optional<KindInfo>> liveKinds,
        BiPredicate<String, String> servedWithoutCrd) {
      this.normalization = n;
      this.kinds = k;
      this.live = liveKinds;
      this.aggregated = servedWithoutCrd;
      return this;
    }

    /** The decoder. */
    public KubernetesDecoder build() {
      return new KubernetesDecoder(this);
    }
  }
}
