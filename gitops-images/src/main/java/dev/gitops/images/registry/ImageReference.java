package dev.gitops.images.registry;

import dev.gitops.core.render.PlanRenderer;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A container image reference as written in manifests ({@code ghcr.io/org/app:1.2.3},
 * {@code nginx}, {@code localhost:5000/team/web@sha256:…}), split into the registry host, the
 * repository path, an optional tag and an optional digest.
 *
 * <p>Names without a registry host are Docker Hub's, as Docker reads them: {@code nginx} is
 * repository {@code library/nginx} on {@code docker.io}, and so is {@code docker.io/nginx}. A first component is a host when it holds
 * a dot or a colon or is {@code localhost}. {@link #name()} keeps the name as written, so what is
 * written back into Git keeps the user's spelling.
 *
 * <pre>{@code
 * ImageReference ref = ImageReference.parse("127.0.0.1:5000/team/web:v1.2.3");
 * ref.registry();    // "127.0.0.1:5000"
 * ref.repository();  // "team/web"
 * ref.tag();         // Optional[v1.2.3]
 * }</pre>
 */
public final class ImageReference {

  /** Docker Hub's name in image references. */
  public static final String DOCKER_HUB = "docker.io";

  private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
  /** A tag, as the OCI distribution spec defines it. */
  private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  /** A digest of an algorithm the OCI image spec registers, in its one valid spelling (lower-case hex, full length). */
  private static final Pattern CANONICAL_DIGEST = Pattern.compile("sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}");
  /** A registry host as Docker's reference grammar reads it: DNS labels or a bracketed IPv6 address, and a port. */
  private static final Pattern HOST = Pattern.compile(
      "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[a-fA-F0-9:]+])"
          + "(?::[0-9]{1,5})?");
  private static final Pattern DIGEST = Pattern.compile("[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}");

  private final String name;
  private final String registry;
  private final String repository;
  private final String tag;
  private final String digest;

  private ImageReference(String name, String registry, String repository, String tag, String digest) {
    this.name = name;
    this.registry = registry;
    this.repository = repository;
    this.tag = tag;
    this.digest = digest;
  }

  /**
   * Parses {@code text}.
   *
   * @throws IllegalArgumentException naming the text and what is wrong with it
   */
  public static ImageReference parse(String text) {
    Objects.requireNonNull(text, "image reference");
    String rest = text.trim();
    if (rest.isEmpty()) {
      throw new IllegalArgumentException("image reference is empty");
    }
    String digest = null;
    int at = rest.indexOf('@');
    if (at >= 0) {
      digest = rest.substring(at + 1);
      rest = rest.substring(0, at);
      if (!DIGEST.matcher(digest).matches()) {
        throw new IllegalArgumentException("image reference '" + text + "': '" + digest + "' is not a digest (algorithm:hex)");
      }
    }
    String tag = null;
    int slash = rest.lastIndexOf('/');
    int colon = rest.lastIndexOf(':');
    if (colon > slash) {
      tag = rest.substring(colon + 1);
      rest = rest.substring(0, colon);
      if (!TAG.matcher(tag).matches()) {
        throw new IllegalArgumentException("image reference '" + text + "': '" + tag + "' is not a valid tag");
      }
    }
    String name = rest;
    String registry;
    String repository;
    int first = rest.indexOf('/');
    String head = first < 0 ? "" : rest.substring(0, first);
    if (first >= 0 && (head.contains(".") || head.contains(":") || head.equals("localhost"))) {
      registry = head;
      repository = rest.substring(first + 1);
    } else {
      registry = DOCKER_HUB;
      repository = first < 0 ? "library/" + rest : rest;
    }
    if (!HOST.matcher(registry).matches()) {
      // a host no URL can hold (a space, an '@', a '?'): refused here, not deep in the HTTP client
      throw new IllegalArgumentException("image reference '" + text + "': '" + registry + "' is not a registry host"
          + " (DNS name or [IPv6 address], optional :port)");
    }
    if (registry.equals("index.docker.io") || registry.equals("registry-1.docker.io")) {
      registry = DOCKER_HUB;
    }
    if (registry.equals(DOCKER_HUB) && !repository.contains("/")) {
      repository = "library/" + repository;  // docker.io/nginx is Docker Hub's library/nginx, as Docker reads it
    }
    for (String component : repository.split("/", -1)) {
      if (!COMPONENT.matcher(component).matches()) {
        throw new IllegalArgumentException("image reference '" + text + "': repository path '" + repository
            + "' has an invalid component '" + component + "' (lower-case letters, digits and . _ - only)");
      }
    }
    return new ImageReference(name, registry, repository, tag, digest);
  }

  /**
   * Whether {@code tag} is a tag as the OCI distribution spec defines it: {@code
   * [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}} ({@code v1.2.3}, {@code main-3f2a1c0}; not {@code v1.2.3+build},
   * not {@code .hidden}).
   *
   * <pre>{@code
   * ImageReference.isTag("v1.2.4");     // true
   * ImageReference.isTag("v1.2.4+b7");  // false
   * }</pre>
   */
  public static boolean isTag(String tag) {
    return tag != null && TAG.matcher(tag).matches();
  }

  /**
   * Whether {@code digest} is a content digest of an algorithm the OCI image spec registers, as a
   * registry serves it and a reference may pin it: {@code sha256:} and 64 lower-case hex digits, or
   * {@code sha512:} and 128.
   *
   * <pre>{@code
   * ImageReference.isDigest("sha256:" + "0".repeat(64));   // true
   * ImageReference.isDigest("sha256:ABC");                 // false
   * }</pre>
   */
  public static boolean isDigest(String digest) {
    return digest != null && CANONICAL_DIGEST.matcher(digest).matches();
  }

  /**
   * {@code text} for a message: in quotes, cut to 100 characters, control and format characters
   * escaped, so that a value from a registry or a caller cannot forge a line of a log.
   */
  public static String quoted(String text) {
    boolean cut = text.codePointCount(0, text.length()) > 100;
    return "'" + PlanRenderer.printable(cut ? text.substring(0, text.offsetByCodePoints(0, 100)) : text)
        + (cut ? "…'" : "'");
  }

  /** The name as written, without tag and digest ({@code nginx}, {@code ghcr.io/org/app}). */
  public String name() {
    return name;
  }

  /** The registry host, with port when given ({@code docker.io} for Docker Hub). */
  public String registry() {
    return registry;
  }

  /** The repository path within the registry ({@code library/nginx}). */
  public String repository() {
    return repository;
  }

  /** The tag, if the reference has one. */
  public Optional<String> tag() {
    return Optional.ofNullable(tag);
  }

  /** The digest ({@code sha256:…}), if the reference has one. */
  public Optional<String> digest() {
    return Optional.ofNullable(digest);
  }

  /** This name with {@code tag} and no digest. */
  public ImageReference withTag(String newTag) {
    return new ImageReference(name, registry, repository, Objects.requireNonNull(newTag, "tag"), null);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ImageReference r && r.name.equals(name) && Objects.equals(r.tag, tag)
        && Objects.equals(r.digest, digest);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, tag, digest);
  }

  /** The reference as written: {@code name[:tag][@digest]}. */
  @Override
  public String toString() {
    return name + (tag == null ? "" : ":" + tag) + (digest == null ? "" : "@" + digest);
  }
}
