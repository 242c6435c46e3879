package dev.gitops.images.git;

import dev.gitops.core.render.PlanRenderer;

/**
 * A marked scalar left as it is because writing the policy's choice would downgrade it: the tag in
 * Git (say a hand-written {@code v2.0.0}) ranks above every tag the policy allows (its best is
 * {@code v1.2.4}), or the scalar is the digest beside such a tag. The write never downgrades; edit
 * the file (or widen the policy) to move it.
 *
 * <pre>{@code
 * for (RefusedDowngrade d : writeBack.write(choices, policies).downgradesRefused()) {
 *   log.warn(d.describe());   // apps/web.yaml:12 ... (apps:web): v2.0.0 kept, not changed to v1.2.4: ...
 * }
 * }</pre>
 *
 * @param file the file's path in the repository
 * @param line the 1-based line
 * @param object {@code kind/namespace/name} of the document, or ""
 * @param path the scalar's path in its document
 * @param policy the policy's name
 * @param current the scalar's value, kept
 * @param chosen the value the policy's choice would have written
 * @param reason why it was kept
 */
public record RefusedDowngrade(String file, int line, String object, String path, String policy, String current,
    String chosen, String reason) {

  /** One line for messages and logs. */
  public String describe() {
    return PlanRenderer.printableName(file) + ":" + line + (object.isEmpty() ? "" : " " + PlanRenderer.printableName(object))
        + " " + PlanRenderer.printableName(path) + " (" + policy + "): " + PlanRenderer.printableName(current)
        + " kept, not changed to " + chosen + ": " + PlanRenderer.printableName(reason);
  }
}
