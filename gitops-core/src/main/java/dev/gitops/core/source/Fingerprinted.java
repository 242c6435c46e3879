package dev.gitops.core.source;

import dev.gitops.api.spi.Source;
import java.util.Optional;

/**
 * A {@link Source} that can name what it would decode before decoding it: after resolving the ref
 * (and fetching, and checking signatures), a fingerprint of everything the decoded {@link
 * dev.gitops.api.State} follows from. Two reads with the same fingerprint return equal states, so
 * the reconciler may take the desired state of a no-change sync from the store's records instead
 * of decoding (see {@code docs/architecture.md}, "No-change fast path"). A source that cannot
 * promise that returns empty, and is always read in full.
 *
 * <pre>{@code
 * Source.ReadRequest head = new Source.ReadRequest(null, List.of(), new Cancellation());
 * Optional<Fingerprinted.Resolved> content = gitSource.fingerprint(head);   // no file is decoded
 * }</pre>
 */
public interface Fingerprinted extends Source {

  /**
   * What {@link #read} would return for {@code request}, named without decoding: empty when the
   * source cannot say (then it is read in full). A failure (an unreachable remote, a refused
   * signature) is left to {@link #read}, which reports it.
   */
  Optional<Resolved> fingerprint(ReadRequest request);

  /**
   * The fingerprint of the content the last {@link #read} returned, or empty when there was none.
   *
   * <pre>{@code
   * State s = gitSource.read(new Source.ReadRequest(null, List.of(), new Cancellation()));
   * Optional<Fingerprinted.Resolved> same = gitSource.lastRead();   // names s's content
   * }</pre>
   */
  Optional<Resolved> lastRead();

  /**
   * A resolved revision and the fingerprint of its decoded content.
   *
   * @param revision the revision the state would carry (each resource's origin names it)
   * @param fingerprint a digest of everything the decoded state follows from
   */
  record Resolved(String revision, String fingerprint) {}
}
