package dev.gitops.images.git;

import dev.gitops.images.marker.ImageMarker;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What one write did: the commit pushed (if any) and what it changed, the head it was based on,
 * concurrent edits left alone, markers that could not be used, and how many pushes it took.
 *
 * <pre>{@code
 * WriteResult w = writeBack.write(choices);
 * if (w.pushed()) {
 *   log.info("{} updates pushed to {} in {}", w.updates().size(), w.branch(), w.commit().orElseThrow());
 * }
 * w.problems().forEach(p -> log.warn("unusable marker: {}", p));
 * }</pre>
 *
 * @param branch the branch pushed to
 * @param base the commit the edits were made on (the head of the branch read), or empty for an empty repository
 * @param commit the commit pushed, or empty when nothing changed or every change was left out
 * @param updates the scalars the commit changed
 * @param conflicts marked lines someone else changed meanwhile (left alone)
 * @param problems markers or files that could not be used, each naming file and line
 * @param unresolved markers naming policies this writer does not know ({@code file:line setter}), left alone
 * @param pushAttempts how many pushes were tried (0 when nothing was pushed)
 * @param downgradesRefused marked scalars left as they are because the policy's choice ranks below
 *     what they hold (never downgraded; only when the write was given the policies)
 * @param markedPolicies the policies of the choices that at least one marker under the path names
 *     (a choice's policy missing here set nothing: no marker names it)
 * @param warnings files under the path that were not read for markers though no marker in them is
 *     known, each naming the file and why: one that is not UTF-8 text (UTF-16, UTF-32, Latin-1), which
 *     no marker is read in (one that mentions the marker field is a {@linkplain #problems problem})
 * @param unresolvedMarkers the markers of {@code unresolved}, in the same order, each with its file,
 *     line and setter apart: a setter may hold spaces ({@code apps:my web}), so the text of an
 *     {@code unresolved} entry cannot be split back into them (empty when the result was made
 *     without them)
 */
public record WriteResult(String branch, Optional<String> base, Optional<String> commit, List<ImageUpdate> updates,
    List<EditConflict> conflicts, List<String> problems, List<String> unresolved, int pushAttempts,
    List<RefusedDowngrade> downgradesRefused, Set<String> markedPolicies, List<String> warnings,
    List<ImageMarker> unresolvedMarkers) {

  /** A result. */
  public WriteResult {
    updates = List.copyOf(updates);
    conflicts = List.copyOf(conflicts);
    problems = List.copyOf(problems);
    unresolved = List.copyOf(unresolved);
    downgradesRefused = List.copyOf(downgradesRefused);
    markedPolicies = Set.copyOf(markedPolicies);
    warnings = List.copyOf(warnings);
    unresolvedMarkers = List.copyOf(unresolvedMarkers);
  }

  /** A result without the {@linkplain #unresolvedMarkers unresolved markers} apart from their text. */
  public WriteResult(String branch, Optional<String> base, Optional<String> commit, List<ImageUpdate> updates,
      List<EditConflict> conflicts, List<String> problems, List<String> unresolved, int pushAttempts,
      List<RefusedDowngrade> downgradesRefused, Set<String> markedPolicies, List<String> warnings) {
    this(branch, base, commit, updates, conflicts, problems, unresolved, pushAttempts, downgradesRefused,
        markedPolicies, warnings, List.of());
  }

  /** A result without warnings. */
  public WriteResult(String branch, Optional<String> base, Optional<String> commit, List<ImageUpdate> updates,
      List<EditConflict> conflicts, List<String> problems, List<String> unresolved, int pushAttempts,
      List<RefusedDowngrade> downgradesRefused, Set<String> markedPolicies) {
    this(branch, base, commit, updates, conflicts, problems, unresolved, pushAttempts, downgradesRefused,
        markedPolicies, List.of());
  }

  /** A result that does not say which policies markers name (an empty {@link #markedPolicies}). */
  public WriteResult(String branch, Optional<String> base, Optional<String> commit, List<ImageUpdate> updates,
      List<EditConflict> conflicts, List<String> problems, List<String> unresolved, int pushAttempts,
      List<RefusedDowngrade> downgradesRefused) {
    this(branch, base, commit, updates, conflicts, problems, unresolved, pushAttempts, downgradesRefused, Set.of());
  }

  /** Whether a commit was pushed. */
  public boolean pushed() {
    return commit.isPresent();
  }
}
