package dev.gitops.api;

import java.util.Objects;

/**
 * The identity of one resource: which provider owns it, its type, its scope and its name.
 *
 * <p>Kubernetes: {@code k8s}, {@code apps/Deployment}, namespace, name. Terraform: {@code tf},
 * mode and type, module path, name with index. Ansible: {@code ansible}, {@code host} or {@code
 * group}, "", name. Local files: {@code files}, {@code file}, "", relative path.
 *
 * <p>The canonical string form is {@code provider:type:scope:name} with {@code %} and {@code :}
 * percent-escaped inside each part, so it parses back unambiguously:
 *
 * <pre>{@code
 * ResourceKey key = ResourceKey.of("files", "file", "", "conf/app.yaml");
 * String s = key.toString();                 // "files:file::conf/app.yaml"
 * assert ResourceKey.parse(s).equals(key);
 * }</pre>
 */
public record ResourceKey(String provider, String type, String scope, String name)
    implements Comparable<ResourceKey> {

  /** Validates the parts: provider, type and name are non-empty, scope may be empty. */
  public ResourceKey {
    Objects.requireNonNull(provider, "provider");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(scope, "scope");
    Objects.requireNonNull(name, "name");
    if (provider.isEmpty()) {
      throw new IllegalArgumentException("resource key needs a provider id (type=" + type + ", name=" + name + ")");
    }
    if (type.isEmpty()) {
      throw new IllegalArgumentException("resource key needs a type (provider=" + provider + ", name=" + name + ")");
    }
    if (name.isEmpty()) {
      throw new IllegalArgumentException("resource key needs a name (provider=" + provider + ", type=" + type + ")");
    }
    // Thousands of keys repeat a few providers, types and scopes: one string each instead of one per key.
    provider = Interner.key(provider);
    type = Interner.key(type);
    scope = Interner.key(scope);
  }

  /** Returns the key with the given parts; {@code scope} may be empty. */
  public static ResourceKey of(String provider, String type, String scope, String name) {
    return new ResourceKey(provider, type, scope, name);
  }

  /**
   * Returns an unscoped key (scope ""), for systems without namespaces: files, hosts, rows.
   *
   * <pre>{@code
   * ResourceKey.of("files", "file", "conf/app.yaml").equals(ResourceKey.of("files", "file", "", "conf/app.yaml"));  // true
   * }</pre>
   */
  public static ResourceKey of(String provider, String type, String name) {
    return new ResourceKey(provider, type, "", name);
  }

  /**
   * Parses the canonical form produced by {@link #toString()}.
   *
   * @throws IllegalArgumentException naming the text when it does not have four parts
   */
  public static ResourceKey parse(String text) {
    Objects.requireNonNull(text, "text");
    // the three separators found in place (a store's load parses every key it holds: no split's
    // array and list per key)
    int a = text.indexOf(':');
    int b = a < 0 ? -1 : text.indexOf(':', a + 1);
    int c = b < 0 ? -1 : text.indexOf(':', b + 1);
    if (c < 0 || text.indexOf(':', c + 1) >= 0) {
      throw new IllegalArgumentException(
          "not a resource key (want provider:type:scope:name): '" + text + "'");
    }
    return new ResourceKey(unescape(text.substring(0, a)), unescape(text.substring(a + 1, b)),
        unescape(text.substring(b + 1, c)), unescape(text.substring(c + 1)));
  }

  /** Returns a key with the same provider, type and scope and another name. */
  public ResourceKey withName(String newName) {
    return new ResourceKey(provider, type, scope, newName);
  }

  /** Orders by provider, type, scope, then name (written out: keys are compared in every map lookup). */
  @Override
  public int compareTo(ResourceKey other) {
    if (this == other) {
      return 0;
    }
    // the shared parts are usually the same instance (interned above): no character comparison then
    int c = provider == other.provider ? 0 : provider.compareTo(other.provider);
    if (c != 0) {
      return c;
    }
    c = type == other.type ? 0 : type.compareTo(other.type);
    if (c != 0) {
      return c;
    }
    c = scope == other.scope ? 0 : scope.compareTo(other.scope);
    return c != 0 ? c : name.compareTo(other.name);
  }

  /**
   * Equal when all four parts are equal. Written out, like {@link #compareTo}: keys are compared
   * in every hash lookup, the name differs most often, and the shared parts are usually the same
   * (interned) instance.
   */
  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    return o instanceof ResourceKey k && name.equals(k.name) && (scope == k.scope || scope.equals(k.scope))
        && (type == k.type || type.equals(k.type)) && (provider == k.provider || provider.equals(k.provider));
  }

  /** A hash of the four parts (each string caches its own). */
  @Override
  public int hashCode() {
    return ((provider.hashCode() * 31 + type.hashCode()) * 31 + scope.hashCode()) * 31 + name.hashCode();
  }

  /** The canonical form {@code provider:type:scope:name}. */
  @Override
  public String toString() {
    String p = escape(provider);
    String t = escape(type);
    String s = escape(scope);
    String n = escape(name);
    // one builder of the exact length (the plan id and fingerprints print every key)
    return new StringBuilder(p.length() + t.length() + s.length() + n.length() + 3)
        .append(p).append(':').append(t).append(':').append(s).append(':').append(n).toString();
  }

  private static String escape(String part) {
    if (part.indexOf('%') < 0 && part.indexOf(':') < 0) {
      return part;
    }
    return part.replace("%", "%25").replace(":", "%3A");
  }

  private static String unescape(String part) {
    if (part.indexOf('%') < 0) {
      return part;
    }
    return part.replace("%3A", ":").replace("%3a", ":").replace("%25", "%");
  }
}
