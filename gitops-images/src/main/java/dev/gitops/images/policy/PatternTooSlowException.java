package dev.gitops.images.policy;

import dev.gitops.api.GitOpsException;

/**
 * A tag filter's regular expression took too long on a tag (Java's regexes backtrack; Flux's Go
 * regexes do not, so a pattern written for Flux can be catastrophic here). The message names the
 * policy, the pattern and the tag; the policy chooses nothing this run.
 *
 * <pre>{@code
 * try {
 *   TagFilter.of("(.*a){12}$", "").extract("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-");
 * } catch (PatternTooSlowException e) {
 *   log.warn("simplify {}: {}", e.pattern(), e.getMessage());
 * }
 * }</pre>
 */
public class PatternTooSlowException extends GitOpsException {
  private static final long serialVersionUID = 1L;

  private final String pattern;

  /** {@code pattern} was too slow; {@code message} says on what. */
  public PatternTooSlowException(String pattern, String message) {
    super(message);
    this.pattern = pattern;
  }

  /** The pattern as written. */
  public String pattern() {
    return pattern;
  }
}
