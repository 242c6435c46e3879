package dev.gitops.images.git;

import dev.gitops.core.render.PlanRenderer;
import dev.gitops.images.marker.Setter;

/**
 * One marked scalar set to a policy's choice: where (file, line, object, path), by which policy
 * and part, and the value, tag and digest before and after. Tags and digests are null where the
 * scalar does not hold them (a {@code :name} marker holds neither).
 *
 * <pre>{@code
 * for (ImageUpdate u : updater.preview().updates()) {   // what a run would write
 *   log.info(u.describe());                             // file:line object path: old -> new (policy)
 * }
 * }</pre>
 *
 * @param file the file's path in the repository
 * @param line the 1-based line
 * @param object {@code kind/namespace/name} of the document, or ""
 * @param path the scalar's path in its document
 * @param policy the policy's name
 * @param part which part of the reference the scalar holds
 * @param image the image name the policy watches
 * @param oldValue the scalar's value before
 * @param newValue the scalar's value after
 * @param oldTag the tag before, or null
 * @param newTag the tag after, or null
 * @param oldDigest the digest before, or null
 * @param newDigest the digest after, or null
 */
public record ImageUpdate(String file, int line, String object, String path, String policy, Setter.Part part,
    String image, String oldValue, String newValue, String oldTag, String newTag, String oldDigest, String newDigest) {

  /**
   * {@code file:line object path: old -> new (policy)}, one line for messages and logs; with a
   * note when a digest pinned in the reference is {@linkplain #digestDropped() dropped}.
   */
  public String describe() {
    // what the repository holds (a key or a double-quoted value may hold "\n"): escaped, so one line stays one
    return PlanRenderer.printableName(file) + ":" + line + (object.isEmpty() ? "" : " " + PlanRenderer.printableName(object))
        + " " + PlanRenderer.printableName(path) + ": " + PlanRenderer.printableName(oldValue) + " -> " + newValue
        + " (" + policy + ")" + (digestDropped() ? "; the digest " + oldDigest + " pinned there is dropped: the policy"
        + " does not follow digests (digestReflectionPolicy Never)" : "");
  }

  /**
   * Whether a whole reference pinned to a digest ({@code name:tag@sha256:…}) is written without one,
   * because the policy does not follow digests: what ran is then no longer pinned.
   */
  public boolean digestDropped() {
    return part == Setter.Part.IMAGE && oldDigest != null && newDigest == null;
  }
}
