package dev.gitops.images;

import dev.gitops.images.git.EditConflict;
import dev.gitops.images.git.ImageUpdate;
import dev.gitops.images.git.WriteResult;
import dev.gitops.images.policy.ImageChoice;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What one run of an {@link ImageUpdater} did.
 *
 * <pre>{@code
 * ImageUpdateResult r = updater.run();
 * if (r.status() == ImageUpdateResult.Status.PUSHED) {
 *   r.updates().forEach(u -> log.info("{} in {}", u.describe(), r.commit().orElseThrow()));
 * }
 * r.policyFailures().forEach((policy, why) -> log.warn("policy {} chose nothing: {}", policy, why));
 * }</pre>
 *
 * @param status how the run ended
 * @param choices each policy's choice (image, tag, digest)
 * @param policyFailures policies that chose nothing, with the reason (no fitting tag, registry error)
 * @param remoteHeads the remote branch heads the run saw ({@code refs/heads/<name>} to commit id)
 * @param write what the write to Git did, when the run got that far
 */
public record ImageUpdateResult(Status status, Map<String, ImageChoice> choices, Map<String, String> policyFailures,
    Map<String, String> remoteHeads, Optional<WriteResult> write) {

  /** How a run ended. */
  public enum Status {
    /** Neither a remote head nor any choice moved since the last run: nothing was fetched or read. */
    UNCHANGED,
    /**
     * The files were read and already hold every choice (or what differs was left out as a
     * conflict, or kept as newer than its policy allows).
     */
    UP_TO_DATE,
    /** A commit was pushed. */
    PUSHED,
    /** A preview: the updates were worked out, nothing was committed. */
    PREVIEW
  }

  /** A result. */
  public ImageUpdateResult {
    choices = Map.copyOf(choices);
    policyFailures = Map.copyOf(policyFailures);
    remoteHeads = Map.copyOf(remoteHeads);
  }

  /** The scalars changed (or, for a preview, that would change). */
  public List<ImageUpdate> updates() {
    return write.map(WriteResult::updates).orElse(List.of());
  }

  /** Marked lines someone else changed meanwhile, left alone. */
  public List<EditConflict> conflicts() {
    return write.map(WriteResult::conflicts).orElse(List.of());
  }

  /** Markers or files that could not be used, each naming file and line. */
  public List<String> problems() {
    return write.map(WriteResult::problems).orElse(List.of());
  }

  /**
   * Files under the path not read for markers, though none is known in them, each naming the file
   * and why: one that is not UTF-8 text (UTF-16, UTF-32, Latin-1). No failure: a marker in such a
   * file (its field found in its encoding) is a {@linkplain #problems() problem} instead.
   */
  public List<String> warnings() {
    return write.map(WriteResult::warnings).orElse(List.of());
  }

  /**
   * Markers naming no policy that has a choice this run ({@code file:line setter}), left as they
   * are: a policy the updater was not given (a typo, or one another run manages), or one that
   * failed ({@link #policyFailures}).
   */
  public List<String> unresolved() {
    return write.map(WriteResult::unresolved).orElse(List.of());
  }

  /**
   * The markers of {@link #unresolved()}, in the same order, with their file, line and setter
   * apart: a setter may hold spaces ({@code apps:my web}) or colons, so read it from here, not by
   * splitting the text of an {@code unresolved()} entry.
   *
   * <pre>{@code
   * ImageUpdateResult r = updater.run();
   * for (ImageMarker m : r.unresolvedMarkers()) {
   *   log.warn("{}: marker {} names no policy", m.location(), m.setter());
   * }
   * }</pre>
   */
  public List<dev.gitops.images.marker.ImageMarker> unresolvedMarkers() {
    return write.map(WriteResult::unresolvedMarkers).orElse(List.of());
  }

  /** Marked tags newer than their policy allows (and the digests beside them), left as they are: never downgraded. */
  public List<dev.gitops.images.git.RefusedDowngrade> downgradesRefused() {
    return write.map(WriteResult::downgradesRefused).orElse(List.of());
  }

  /**
   * The policies that chose a tag but that no marker under the path names, so they set nothing: a
   * marker names a policy {@code <namespace>:<name>} (a Flux ImagePolicy without {@code
   * metadata.namespace} is {@code flux-system:<name>}). Sorted; empty when Git was not read ({@link
   * Status#UNCHANGED}).
   *
   * <pre>{@code
   * ImageUpdateResult r = updater.run();
   * r.unmarkedPolicies().forEach(p -> log.warn("no marker names image policy {}", p));
   * }</pre>
   */
  public java.util.SortedSet<String> unmarkedPolicies() {
    java.util.SortedSet<String> out = new java.util.TreeSet<>();
    write.ifPresent(w -> choices.keySet().stream().filter(p -> !w.markedPolicies().contains(p)).forEach(out::add));
    return java.util.Collections.unmodifiableSortedSet(out);
  }

  /** The commit pushed, if any. */
  public Optional<String> commit() {
    return write.flatMap(WriteResult::commit);
  }
}
