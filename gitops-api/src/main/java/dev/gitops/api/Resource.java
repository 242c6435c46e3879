package dev.gitops.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Collection;
import java.util.Collections;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * One desired (or last-applied) resource: its key, its frozen document and its metadata.
 *
 * <pre>{@code
 * Resource web = Resource.builder(ResourceKey.of("files", "file", "", "web.conf"))
 *     .document(document)                   // frozen on build
 *     .dependsOn(ResourceKey.of("files", "file", "", "base.conf"))
 *     .wave(1)
 *     .policy(ManagementPolicy.NO_PRUNE)
 *     .build();
 * }</pre>
 *
 * @param key the identity
 * @param document the desired document, frozen (see {@link Documents})
 * @param origin where it was declared
 * @param dependsOn keys that must be applied and healthy first, in any provider
 * @param wave ordering wave: every resource of a lower wave goes first
 * @param policy what the engine may do
 * @param sensitive paths (patterns) whose values the decoder marked sensitive
 */
public record Resource(ResourceKey key, JsonNode document, Origin origin, SortedSet<ResourceKey> dependsOn,
    int wave, ManagementPolicy policy, Set<PathPattern> sensitive) {

  /**
   * Freezes the document and copies the collections.
   *
   * @throws IllegalArgumentException when the document nests deeper than {@link Documents#MAX_DEPTH}
   *     levels (naming the key, the origin and the path where the limit is passed), or the resource
   *     depends on itself
   */
  public Resource {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(origin, "origin");
    JsonNode frozen = Documents.freeze(Objects.requireNonNull(document, "document"), Documents.MAX_DEPTH);
    if (frozen == null) {
      // no walker of the engine is handed a document deeper than this (they recurse)
      throw new IllegalArgumentException("resource " + key + (origin.equals(Origin.NONE) ? "" : " (" + origin + ")")
          + ": its document " + Documents.tooDeep(document));
    }
    document = frozen;
    // Most resources depend on nothing: they share one empty set (a TreeSet costs ~90 bytes each).
    dependsOn = Objects.requireNonNull(dependsOn, "dependsOn").isEmpty() ? Collections.emptySortedSet()
        : Collections.unmodifiableSortedSet(new TreeSet<>(dependsOn));
    Objects.requireNonNull(policy, "policy");
    sensitive = Set.copyOf(Objects.requireNonNull(sensitive, "sensitive"));
    if (dependsOn.contains(key)) {
      throw new IllegalArgumentException(key + " (" + origin + ") depends on itself");
    }
  }

  /**
   * Whether {@code o} is a resource with equal components (as a record's equals; written out,
   * as the generated one is linked through invokedynamic at its first call, ~10 ms of a one-shot
   * command).
   */
  @Override
  public boolean equals(Object o) {
    return o instanceof Resource r && key.equals(r.key) && wave == r.wave && policy.equals(r.policy)
        && document.equals(r.document) && origin.equals(r.origin) && dependsOn.equals(r.dependsOn)
        && sensitive.equals(r.sensitive);
  }

  /** A hash of the components, agreeing with {@link #equals}. */
  @Override
  public int hashCode() {
    int h = key.hashCode();
    h = h * 31 + document.hashCode();
    h = h * 31 + origin.hashCode();
    h = h * 31 + dependsOn.hashCode();
    h = h * 31 + wave;
    h = h * 31 + policy.hashCode();
    return h * 31 + sensitive.hashCode();
  }

  /** A resource with default metadata: no dependencies, wave 0, every action allowed. */
  public static Resource of(ResourceKey key, JsonNode document) {
    return new Resource(key, document, Origin.NONE, new TreeSet<>(), 0, ManagementPolicy.ALL, Set.of());
  }

  /** A builder for {@code key}. */
  public static Builder builder(ResourceKey key) {
    return new Builder(key);
  }

  /** A builder initialised from this resource. */
  public Builder toBuilder() {
    Builder b = new Builder(key);
    b.document = document;
    b.origin = origin;
    b.dependsOn.addAll(dependsOn);
    b.wave = wave;
    b.policy = policy;
    b.sensitive = sensitive;
    return b;
  }

  /** The same resource with another document. */
  public Resource withDocument(JsonNode newDocument) {
    return new Resource(key, newDocument, origin, dependsOn, wave, policy, sensitive);
  }

  /**
   * A digest over the document and the metadata that shapes decisions (not the origin): equal
   * digests, equal desired state.
   *
   * <pre>{@code
   * boolean unchanged = resource.digest().equals(desiredResource.digest());
   * }</pre>
   */
  public String digest() {
    return digestWith(Documents.digest(document));
  }

  /**
   * {@link #digest()} given the digest of this resource's document already computed ({@link
   * Documents#digest}), for a caller that remembers document digests (the planner does, so an
   * unchanged document is not serialised on every resync). Every part is written with its length,
   * so no two different resources can run together into the same text.
   */
  public String digestWith(String documentDigest) {
    Objects.requireNonNull(documentDigest, "documentDigest");
    StringBuilder sb = new StringBuilder(128);
    part(sb, documentDigest);
    sb.append(dependsOn.size()).append('[');
    for (ResourceKey k : dependsOn) {
      part(sb, k.toString());
    }
    part(sb, Integer.toString(wave));
    part(sb, policy.toString());
    sb.append(sensitive.size()).append('[');
    if (!sensitive.isEmpty()) {
      // the texts in order, each once (most resources have none: no set is built for them)
      new TreeSet<>(sensitive.stream().map(Object::toString).toList()).forEach(p -> part(sb, p));
    }
    // the UTF-8 bytes of the text, hashed through this thread's digest without copying them
    return Documents.sha256Hex(sb);
  }

  private static void part(StringBuilder sb, String s) {
    sb.append(s.length()).append(':').append(s);
  }

  /**
   * Key, origin and metadata; the document only as a digest. The generated record text printed
   * the document whole, so a secret in it reached any log line or message that named the resource.
   */
  @Override
  public String toString() {
    return "Resource[key=" + key + ", origin=" + origin + ", document=sha256:" + digest().substring(0, 12)
        + ", dependsOn=" + dependsOn + ", wave=" + wave + ", policy=" + policy + ", sensitive=" + sensitive + "]";
  }

  /** Builds {@link Resource}. */
  public static final class Builder {
    private final ResourceKey key;
    private JsonNode document = Documents.emptyObject();
    private Origin origin = Origin.NONE;
    private final SortedSet<ResourceKey> dependsOn = new TreeSet<>();
    private int wave;
    private ManagementPolicy policy = ManagementPolicy.ALL;
    private Set<PathPattern> sensitive = Set.of();

    private Builder(ResourceKey key) {
      this.key = Objects.requireNonNull(key, "key");
    }

    /** The document; frozen when built. */
    public Builder document(JsonNode document) {
      this.document = Objects.requireNonNull(document, "document");
      return this;
    }

    /** Where it was declared. */
    public Builder origin(Origin origin) {
      this.origin = Objects.requireNonNull(origin, "origin");
      return this;
    }

    /** Adds dependencies. */
    public Builder dependsOn(ResourceKey... keys) {
      for (ResourceKey k : keys) {
        dependsOn.add(Objects.requireNonNull(k, "dependsOn key"));
      }
      return this;
    }

    /** Adds dependencies. */
    public Builder dependsOn(Collection<ResourceKey> keys) {
      keys.forEach(k -> dependsOn.add(Objects.requireNonNull(k, "dependsOn key")));
      return this;
    }

    /** The wave. */
    public Builder wave(int wave) {
      this.wave = wave;
      return this;
    }

    /** The management policy. */
    public Builder policy(ManagementPolicy policy) {
      this.policy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** Paths whose values are sensitive. */
    public Builder sensitive(Set<PathPattern> patterns) {
      this.sensitive = Set.copyOf(patterns);
      return this;
    }

    /** The resource. */
    public Resource build() {
      return new Resource(key, document, origin, dependsOn, wave, policy, sensitive);
    }
  }
}
