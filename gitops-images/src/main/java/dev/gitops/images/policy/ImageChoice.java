package dev.gitops.images.policy;

import java.util.Objects;
import java.util.Optional;

/**
 * What a policy chose at one scan: the image, the tag and (when the policy follows digests) the
 * digest, with how many tags were candidates, skipped, and excluded.
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

  /** A choice. */
  public ImageChoice {
    Objects.requireNonNull(policy, "policy");
    Objects.requireNonNull(image, "image");
    Objects.requireNonNull(tag, "tag");
    Objects.requireNonNull(digest, "digest");
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
