package dev.gitops.images.git;

import dev.gitops.core.render.PlanRenderer;

/**
 * A marked line someone else changed while this writer was pushing: this writer meant to change
 * {@code ours} from {@code expected} but the new head holds {@code found}. The other edit is kept;
 * the update is left out and reported.
 *
 * <pre>{@code
 * for (EditConflict c : writeBack.write(choices).conflicts()) {
 *   log.warn("{}:{} holds {} now, not {}: left as it is", c.file(), c.line(), c.found(), c.ours());
 * }
 * }</pre>
 *
 * @param file the file's path
 * @param line the line in the new head
 * @param policy the marker's setter as written
 * @param expected the value this writer read before
 * @param ours the value this writer wanted to write
 * @param found the value the new head holds
 */
public record EditConflict(String file, int line, String policy, String expected, String ours, String found) {

  /** One line for messages and logs. */
  public String describe() {
    return PlanRenderer.printableName(file) + ":" + line + " (" + policy + "): changed to "
        + PlanRenderer.printableName(found) + " by another commit while updating " + PlanRenderer.printableName(expected)
        + " -> " + ours + "; left as it is";
  }
}
