package dev.gitops.images.regex;

/**
 * A pattern that is not RE2 syntax (Go's, which Flux reads), or uses what RE2 refuses
 * (backreferences, lookaround, possessive quantifiers, counts above 1000). The message names the
 * pattern, the construct and its offset; callers add the file and line it came from.
 *
 * <pre>{@code
 * try {
 *   GoRegex.compile("^(a)\\1$");
 * } catch (GoRegexException e) {
 *   log.warn("{} (at offset {})", e.problem(), e.offset());   // backreference `\1` is not RE2 syntax ...
 * }
 * }</pre>
 */
public class GoRegexException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final String pattern;
  private final String problem;
  private final int offset;

  /** {@code pattern} is refused for {@code problem}, found at {@code offset} (chars). */
  public GoRegexException(String pattern, String problem, int offset) {
    super("'" + pattern + "' is not a valid RE2 regular expression (Go's syntax, which Flux uses): " + problem
        + " at offset " + offset);
    this.pattern = pattern;
    this.problem = problem;
    this.offset = offset;
  }

  /** The pattern as written. */
  public String pattern() {
    return pattern;
  }

  /** What is wrong, without the pattern. */
  public String problem() {
    return problem;
  }

  /** Where, in chars from the start of the pattern. */
  public int offset() {
    return offset;
  }
}
