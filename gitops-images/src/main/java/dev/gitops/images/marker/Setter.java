package dev.gitops.images.marker;

import dev.gitops.images.policy.ImageChoice;
import dev.gitops.images.registry.ImageReference;
import java.util.Optional;
import java.util.Set;

/**
 * What a marker sets: a policy and which part of the image reference. {@code apps:web} sets the
 * whole reference ({@code name:tag}, with {@code @digest} when the policy follows digests); {@code
 * apps:web:name} the name, {@code apps:web:tag} the tag, {@code apps:web:digest} the digest.
 *
 * <pre>{@code
 * Setter s = Setter.resolve("apps:web:tag", Set.of("apps:web")).orElseThrow();
 * s.valueFor(choice);    // "v1.2.4"
 * }</pre>
 *
 * @param policy the policy's name
 * @param part which part of the reference the marked scalar holds
 */
public record Setter(String policy, Part part) {

  /** The part of an image reference a marked scalar holds. */
  public enum Part {
    /** The whole reference: {@code name:tag[@digest]}. */
    IMAGE,
    /** The name: {@code registry.example.com/team/web}. */
    NAME,
    /** The tag: {@code v1.2.4}. */
    TAG,
    /** The digest: {@code sha256:…}. */
    DIGEST
  }

  /**
   * Reads a marker's value against the known policy names: the whole value when it names a
   * policy, else a {@code :tag}, {@code :name} or {@code :digest} suffix after a policy's name;
   * empty when it names no known policy.
   */
  public static Optional<Setter> resolve(String setter, Set<String> policies) {
    if (policies.contains(setter)) {
      return Optional.of(new Setter(setter, Part.IMAGE));
    }
    int colon = setter.lastIndexOf(':');
    if (colon > 0) {
      String head = setter.substring(0, colon);
      Part part = switch (setter.substring(colon + 1)) {
        case "tag" -> Part.TAG;
        case "name" -> Part.NAME;
        case "digest" -> Part.DIGEST;
        default -> null;
      };
      if (part != null && policies.contains(head)) {
        return Optional.of(new Setter(head, part));
      }
    }
    return Optional.empty();
  }

  /**
   * The value the scalar should hold for {@code choice}, or empty for a {@code :digest} marker
   * when the policy does not follow digests.
   */
  public Optional<String> valueFor(ImageChoice choice) {
    return switch (part) {
      case IMAGE -> Optional.of(choice.reference());
      case NAME -> Optional.of(choice.image());
      case TAG -> Optional.of(choice.tag());
      case DIGEST -> choice.digest();
    };
  }

  /** The tag a scalar of this part holds ({@code null} when none can be read). */
  public String tagIn(String value) {
    return switch (part) {
      case TAG -> value;
      case IMAGE -> reference(value).flatMap(ImageReference::tag).orElse(null);
      default -> null;
    };
  }

  /** The digest a scalar of this part holds ({@code null} when none can be read). */
  public String digestIn(String value) {
    return switch (part) {
      case DIGEST -> value;
      case IMAGE -> reference(value).flatMap(ImageReference::digest).orElse(null);
      default -> null;
    };
  }

  private static Optional<ImageReference> reference(String value) {
    try {
      return Optional.of(ImageReference.parse(value));
    } catch (IllegalArgumentException notAReference) {
      return Optional.empty();  // a hand-written value that is no reference: nothing to report as old tag
    }
  }
}
