package dev.gitops.k8s.internal;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the provider knows about kinds beyond the {@link KindTable}: the kinds that
 * CustomResourceDefinitions in the desired state define, and the apiVersion each kind was last
 * written with in a manifest (for discovery). Shared by the decoder and the provider.
 */
public final class Kinds {

  private final Map<String, KindInfo> desiredCrds = new ConcurrentHashMap<>();
  private final Map<String, String> apiVersions = new ConcurrentHashMap<>();
  /** Whether a key type is in use beyond the desired state (the provider reads it: its informer runs). */
  private final java.util.function.Predicate<String> inUse;

  /** Kinds of a decoder alone: a type the desired state no longer declares is forgotten. */
  public Kinds() {
    this(type -> false);
  }

  /**
   * Kinds shared by a decoder and its provider: a type the desired state no longer declares is
   * forgotten unless {@code inUse} holds for it (its objects are still read, at the version it was
   * written at, so an informer is not started again at another).
   */
  public Kinds(java.util.function.Predicate<String> inUse) {
    this.inUse = java.util.Objects.requireNonNull(inUse, "inUse");
  }

  /** The kind a CustomResourceDefinition document defines, if it names group, kind and plural. */
  public static Optional<KindInfo> fromCrd(JsonNode crd) {
    JsonNode spec = crd.path("spec");
    String group = spec.path("group").asText("");
    String kind = spec.path("names").path("kind").asText("");
    String plural = spec.path("names").path("plural").asText("");
    if (group.isEmpty() || kind.isEmpty() || plural.isEmpty()) {
      return Optional.empty();
    }
    String version = "";
    for (JsonNode v : spec.path("versions")) {
      if (v.path("storage").asBoolean(false) || version.isEmpty()) {
        version = v.path("name").asText("");
      }
    }
    if (version.isEmpty()) {
      version = spec.path("version").asText("");
    }
    if (version.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new KindInfo(group, version, kind, plural, !"Cluster".equals(spec.path("scope").asText("Namespaced"))));
  }

  /**
   * The versions a CustomResourceDefinition document serves ({@code spec.versions[*].name} with
   * {@code served} not false, or the older {@code spec.version}); empty when it names none.
   */
  public static java.util.List<String> servedVersions(JsonNode crd) {
    java.util.List<String> out = new java.util.ArrayList<>();
    JsonNode spec = crd.path("spec");
    for (JsonNode v : spec.path("versions")) {
      if (v.path("name").isTextual() && v.path("served").asBoolean(true)) {
        out.add(v.path("name").textValue());
      }
    }
    if (out.isEmpty() && !spec.path("versions").isArray() && spec.path("version").isTextual()) {
      out.add(spec.path("version").textValue());
    }
    return out;
  }

  /** Records a kind that a CRD of the desired state defines. */
  public void learnDesired(KindInfo info) {
    desiredCrds.put(info.type(), info);
  }

  /** The kinds the CRDs of the whole desired state define, replacing those known before. */
  public void desiredAre(java.util.Collection<KindInfo> infos) {
    Map<String, KindInfo> now = new java.util.HashMap<>();
    infos.forEach(k -> now.put(k.type(), k));
    desiredCrds.keySet().retainAll(now.keySet());
    desiredCrds.putAll(now);
  }

  /** The kind of key type {@code type} as a CRD of the desired state defines it. */
  public Optional<KindInfo> desired(String type) {
    return Optional.ofNullable(desiredCrds.get(type));
  }

  /** Records the apiVersion a manifest used for key type {@code type}. */
  public void sawApiVersion(String type, String apiVersion) {
    apiVersions.put(type, apiVersion);
  }

  /** The apiVersion a manifest last used for key type {@code type}. */
  public Optional<String> apiVersion(String type) {
    return Optional.ofNullable(apiVersions.get(type));
  }

  /**
   * The key types the whole desired state declares: the apiVersion of every other type is
   * forgotten, unless it is in use (see {@link #Kinds(java.util.function.Predicate)}). Without it
   * every kind a manifest ever named (a misspelled one, long fixed) stayed for the life of the
   * process, and each was resolved, asking discovery, at every listing of marked objects.
   */
  public void declaredAre(java.util.Set<String> types) {
    apiVersions.keySet().removeIf(type -> !types.contains(type) && !inUse.test(type));
  }

  /** Every key type a manifest of the desired state used (or of an earlier one, while in use). */
  public java.util.Set<String> typesSeen() {
    return java.util.Set.copyOf(apiVersions.keySet());
  }
}
