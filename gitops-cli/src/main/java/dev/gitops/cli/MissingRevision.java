package dev.gitops.cli;

import dev.gitops.api.SourceException;
import dev.gitops.core.source.CommitNotServedException;
import java.util.Optional;

/**
 * A recorded revision (a history entry's, a reviewed plan's) that the repository given does not
 * hold: the source refuses it ({@link CommitNotServedException}) naming the commit and the
 * repository, and adds a guess, "rewritten by a force push?", which is one cause among others
 * (another repository given as {@code --repo}, a deleted branch). The commands that read a recorded
 * revision say instead what is known: what recorded it, the repository given, what the store or
 * plan records of where it was read.
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

  private MissingRevision() {}

  /**
   * What the source found about {@code revision} ({@code <label>@sha1:<hex>}), without its guess
   * ({@link CommitNotServedException#fact}); empty when {@code e} is not the refusal of that commit
   * as not served by the repository.
   */
  static Optional<String> fact(SourceException e, String revision) {
    int at = revision.lastIndexOf("@sha1:");
    for (Throwable c = e; c != null && at >= 0; c = c.getCause()) {
      if (c instanceof CommitNotServedException n && n.commit().equalsIgnoreCase(revision.substring(at + 6))) {
        return Optional.of(n.fact());
      }
    }
    return Optional.empty();
  }
}
