package dev.gitops.core.source;

import dev.gitops.api.SourceException;

/**
 * A commit id asked for by itself (a pinned revision, a reviewed plan's, a history entry's) that no
 * branch or tag of the repository reaches: the repository does not serve it. Its message adds the
 * likeliest cause for a pinned revision, a force push; {@link #fact()} is what was found, without
 * that guess, for a caller that knows more (a rollback given another repository than the one its
 * sync read).
 *
 * <pre>{@code
 * String pinned = reconciler.history().get(0).revision();   // main@sha1:3f2a...
 * try {
 *   reconciler.sync(pinned, new Cancellation());
 * } catch (CommitNotServedException e) {
 *   log.error("{} is not served: {}", e.commit(), e.fact());   // the message itself adds a guess at why
 * }
 * }</pre>
 */
public class CommitNotServedException extends SourceException {
  private static final long serialVersionUID = 1L;

  private final String commit;
  private final String fact;

  /**
   * {@code commit} (40 hex digits) is not served: {@code fact} says how, {@code guess} (may be
   * empty) why it may be, placed after {@code fact}'s first {@code at} characters.
   */
  CommitNotServedException(String commit, String fact, int at, String guess) {
    super(fact.substring(0, at) + guess + fact.substring(at));
    this.commit = commit;
    this.fact = fact;
  }

  /** The commit id, 40 hex digits. */
  public String commit() {
    return commit;
  }

  /** What the source found, naming the commit and the repository, without a guess at the cause. */
  public String fact() {
    return fact;
  }
}
