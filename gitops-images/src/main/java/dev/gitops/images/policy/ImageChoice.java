package dev.gitops.images.policy;

import dev.gitops.images.registry.ImageReference;
import java.util.Objects;
import java.util.Optional;

/**
 * What a policy chose at one scan: the image, the tag and (when the policy follows digests) the
 * digest, with how many tags were candidates, skipped, and excluded.
 *
 * <p>A choice is checked when it is made, since what it holds is written into Git and read by
 * container runtimes: the image is a name alone ({@code registry.example.com/team/web}: an optional
 * registry host and port, then repository path components of lower-case letters, digits and {@code
 * . _ -}; no tag, no digest), the tag is a tag as the OCI distribution spec defines it ({@code
 * [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}}), and a digest is {@code sha256:} and 64 lower-case hex digits
 * (or {@code sha512:} and 128). Anything else is refused with an {@link IllegalArgumentException}
 * naming the field and its value.
 *
 * <pre>{@code
 * // pin a policy by hand: write a choice of your own into the marked files
 * ImageChoice web = new ImageChoice("apps:web", "registry.example.com/team/web", "v1.2.4", Optional.empty(), 1, 0, 0);
 * String ref = web.reference();   // "registry.example.com/team/web:v1.2.4"
 * WriteResult w = writeBack.write(Map.of(web.policy(), web));
 * }</pre>
 *
 * @param policy the policy's name
 * @param image the image name as written in the policy ({@code registry.example.com/team/web})
 * @param tag the chosen tag
 * @param digest the chosen tag's digest, when the policy follows digests
 * @param candidates tags the policy could take
 * @param skipped tags the filter or order left out
 * @param excluded tags the exclusion patterns dropped
 */
public record ImageChoice(String policy, String image, String tag, Optional<String> digest, int candidates,
    int skipped, int excluded) {

  /**
   * A choice.
   *
   * @throws IllegalArgumentException naming the field and value when the policy name is blank, the
   *     image is not an image name alone, the tag or the digest is not valid, or a count is negative
   */
  public ImageChoice {
    Objects.requireNonNull(policy, "policy");
    Objects.requireNonNull(image, "image");
    Objects.requireNonNull(tag, "tag");
    Objects.requireNonNull(digest, "digest");
    if (policy.isBlank()) {
      throw new IllegalArgumentException("image choice: the policy name is blank");
    }
    String of = "image choice of policy " + ImageReference.quoted(policy) + ": ";
    ImageReference name;
    try {
      name = ImageReference.parse(image);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(of + "image " + ImageReference.quoted(image) + " is not an image name: "
          + e.getMessage(), e);
    }
    if (!name.name().equals(image) || name.tag().isPresent() || name.digest().isPresent()) {
      throw new IllegalArgumentException(of + "image " + ImageReference.quoted(image) + " must be the image name alone"
          + " (registry/repository), without a tag, a digest or blanks around it: the tag and digest are fields"
          + " of their own");
    }
    if (!ImageReference.isTag(tag)) {
      throw new IllegalArgumentException(of + "tag " + ImageReference.quoted(tag) + " is not a valid tag"
          + " ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}: 1 to 128 letters, digits, _ . -, not starting with . or -)");
    }
    if (digest.isPresent() && !ImageReference.isDigest(digest.get())) {
      throw new IllegalArgumentException(of + "digest " + ImageReference.quoted(digest.get()) + " is not a digest"
          + " (sha256: and 64 lower-case hex digits, or sha512: and 128)");
    }
    if (candidates < 0 || skipped < 0 || excluded < 0) {
      throw new IllegalArgumentException(of + "counts must not be negative (candidates " + candidates + ", skipped "
          + skipped + ", excluded " + excluded + ")");
    }
  }

  /** The whole reference: {@code image:tag}, with {@code @digest} when there is one. */
  public String reference() {
    return image + ":" + tag + digest.map(d -> "@" + d).orElse("");
  }

  /** Whether {@code other} chose the same image, tag and digest (the counts may differ). */
  public boolean sameAs(ImageChoice other) {
    return other != null && image.equals(other.image) && tag.equals(other.tag) && digest.equals(other.digest);
  }
}
