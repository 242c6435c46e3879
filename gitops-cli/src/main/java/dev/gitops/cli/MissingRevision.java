package dev.gitops.cli;

import dev.gitops.api.SourceException;
import java.util.Optional;

/**
 * A recorded revision (a history entry's, a reviewed plan's) that the repository given does not
 * hold: the source refuses it naming the commit and the repository, and adds a guess, "rewritten
 * by a force push?", which is one cause among others (another repository given as {@code --repo},
 * a deleted branch). The commands that read a recorded revision say instead what is known: what
 * recorded it, the repository given, what the store or plan records of where it was read.
 *
 * <pre>{@code
 * try {
 *   reconciler.sync(entry.revision(), new Cancellation());
 * } catch (SourceException e) {
 *   throw MissingRevision.fact(e, entry.revision()).map(f -> new SourceException("... " + f, e)).orElseThrow(() -> e);
 * }
 * }</pre>
 */
final class MissingRevision {

  /** The source's guess at the cause, which it adds to its refusal of a pinned commit its repository lacks. */
  static final String GUESS = " (rewritten by a force push?)";

  private MissingRevision() {}

  /**
   * What the source found about {@code revision} ({@code <label>@sha1:<hex>}), without its guess:
   * {@code commit <hex> (...) at <repository> does not exist}, {@code ... is not on any branch or
   * tag}, {@code ... not found at <repository>: no branch or tag there holds it}; empty when {@code e}
   * is not the refusal of that commit as missing from the repository.
   */
  static Optional<String> fact(SourceException e, String revision) {
    String m = e.getMessage();
    int at = revision.lastIndexOf("@sha1:");
    if (m == null || at < 0 || !m.contains(GUESS) || !m.contains(revision.substring(at + "@sha1:".length()))) {
      return Optional.empty();
    }
    return Optional.of(m.replace(GUESS, ""));
  }
}
