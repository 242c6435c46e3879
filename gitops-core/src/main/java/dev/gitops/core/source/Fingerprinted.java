package dev.gitops.core.source;

import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.spi.Source;
import java.util.Collection;
import java.util.Optional;
import java.util.Set;

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
   * {@link #fingerprint(ReadRequest)}, told the fingerprint the caller expects: the one it recorded
   * for the content it holds (null: none). The answer is the same; a source may find it with less
   * work when it is {@code expected} (a {@link GitSource} whose ref still names the commit that
   * fingerprint was made of reads no object). The default ignores {@code expected}.
   *
   * <pre>{@code
   * Source.ReadRequest head = new Source.ReadRequest(null, List.of(), new Cancellation());
   * String recorded = "9f2c...:" + "e570fe81792ffdb87298cecae8e6ca0d9f8afaf0";   // an earlier fingerprint
   * boolean unchanged = gitSource.fingerprint(head, recorded).map(r -> r.fingerprint().equals(recorded))
   *     .orElse(false);
   * }</pre>
   */
  default Optional<Resolved> fingerprint(ReadRequest request, String expected) {
    return fingerprint(request);
  }

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
   * What {@link #read} would return for {@code request}, decoding only the files that differ from
   * the content {@code before} (an earlier {@link #fingerprint}) names, given {@code records}:
   * exactly the resources that content decoded to. Only the commit may differ between the two (the
   * same path, variables, decoders and limits), and only right after {@link #fingerprint} resolved
   * {@code request}; empty whenever the source cannot promise the result (then it is read in full,
   * which reports any error). The default answers empty.
   *
   * <pre>{@code
   * Source.ReadRequest head = new Source.ReadRequest(null, List.of(), new Cancellation());
   * Optional<Fingerprinted.Resolved> now = gitSource.fingerprint(head);   // resolves the ref, decodes nothing
   * String before = "9f2c...:" + "e570fe81792ffdb87298cecae8e6ca0d9f8afaf0";   // an earlier fingerprint
   * List<Resource> records = List.of();                                     // what that content decoded to
   * Optional<Fingerprinted.Delta> d = gitSource.readSince(head, before, records);   // empty: read in full
   * }</pre>
   */
  default Optional<Delta> readSince(ReadRequest request, String before, Collection<Resource> records) {
    return Optional.empty();
  }

  /**
   * A state read by {@link #readSince}: {@code decoded} holds the keys of the resources decoded
   * now; every other resource is a record re-dated at the state's revision.
   */
  record Delta(State state, Set<ResourceKey> decoded) {}

  /**
   * A resolved revision and the fingerprint of its decoded content.
   *
   * @param revision the revision the state would carry (each resource's origin names it)
   * @param fingerprint a digest of everything the decoded state follows from
   */
  record Resolved(String revision, String fingerprint) {}
}
