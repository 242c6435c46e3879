package dev.gitops.k8s.internal;

import java.util.Objects;

/**
 * What the API server needs to address objects of one kind: group, version, kind, the plural
 * resource name in URLs, and whether objects live in a namespace.
 *
 * @param group the API group, "" for the core group
 * @param version the version objects are read and written at
 * @param kind the kind
 * @param plural the resource name in URLs
 * @param namespaced whether objects of this kind live in a namespace
 */
public record KindInfo(String group, String version, String kind, String plural, boolean namespaced) {

  /** Validates the parts. */
  public KindInfo {
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(plural, "plural");
  }

  /** The key type: {@code group/Kind}, {@code /Kind} for the core group. */
  public String type() {
    return group + "/" + kind;
  }

  /** {@code group/version}, or {@code version} for the core group. */
  public String apiVersion() {
    return group.isEmpty() ? version : group + "/" + version;
  }

  /** The group of an {@code apiVersion} ("" for {@code v1}). */
  public static String groupOf(String apiVersion) {
    int slash = apiVersion.indexOf('/');
    return slash < 0 ? "" : apiVersion.substring(0, slash);
  }

  /** The version of an {@code apiVersion}. */
  public static String versionOf(String apiVersion) {
    int slash = apiVersion.indexOf('/');
    return slash < 0 ? apiVersion : apiVersion.substring(slash + 1);
  }

  /** The key type {@code group/Kind} of an {@code apiVersion} and a kind. */
  public static String typeOf(String apiVersion, String kind) {
    return groupOf(apiVersion) + "/" + kind;
  }

  /** The group of a key type {@code group/Kind}. */
  public static String groupOfType(String type) {
    int slash = type.lastIndexOf('/');
    return slash < 0 ? "" : type.substring(0, slash);
  }

  /** The kind of a key type {@code group/Kind}. */
  public static String kindOfType(String type) {
    return type.substring(type.lastIndexOf('/') + 1);
  }
}
