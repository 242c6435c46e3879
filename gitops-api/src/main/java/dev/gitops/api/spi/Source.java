package dev.gitops.api.spi;

import dev.gitops.api.Cancellation;
import dev.gitops.api.SourceException;
import dev.gitops.api.State;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Where the desired state comes from: a Git repository ({@code GitSource}) or code.
 *
 * <pre>{@code
 * Source fixed = Source.of(() -> State.of("v1", List.of(resource)));
 * }</pre>
 */
public interface Source {

  /**
   * Reads the desired state.
   *
   * @throws SourceException naming the source when it cannot be read
   */
  State read(ReadRequest request);

  /** A short description for logs and errors, for example the URL and ref. */
  default String describe() {
    return getClass().getSimpleName();
  }

  /**
   * Why the state this source returned last is flagged {@linkplain State#historyRewritten() history
   * rewritten}, in the words of the warning the source logged itself (a rollback, a force push, ...);
   * empty when it is not flagged, or when the source has no words of its own, in which case the
   * engine warns in its own. A source that wraps another forwards it, as {@link #describe()}.
   *
   * <pre>{@code
   * Optional<String> why = gitSource.historyRewrittenReason();   // "... moved back to an older commit ..."
   * }</pre>
   */
  default Optional<String> historyRewrittenReason() {
    return Optional.empty();
  }

  /** A source that returns whatever {@code supplier} gives. */
  static Source of(Supplier<State> supplier) {
    Objects.requireNonNull(supplier, "supplier");
    return request -> supplier.get();
  }

  /**
   * What the engine asks of a source.
   *
   * <pre>{@code
   * List<Decoder> decoders = List.of(provider.decoder().orElseThrow());
   * Source.ReadRequest head = new Source.ReadRequest(null, decoders, new Cancellation())
   *     .withPreviousRevision(store.load().lastAppliedRevision());   // "main@sha1:<40 hex>", or ""
   * }</pre>
   *
   * @param pinnedRevision read this revision instead of the ref's head (rollback), or null
   * @param decoders the decoders of the providers, first claim wins
   * @param cancellation cancelled when the sync is
   * @param previousRevision the revision the state store last recorded as applied for this target,
   *     or {@code ""} when it recorded none (null is read as {@code ""}): a source that can tell
   *     whether its new revision descends from it flags a rewritten history ({@link
   *     State#historyRewritten()}) even in a process that never read that revision itself
   */
  record ReadRequest(String pinnedRevision, List<Decoder> decoders, Cancellation cancellation,
      String previousRevision) {
    /** Copies. */
    public ReadRequest {
      decoders = List.copyOf(decoders);
      Objects.requireNonNull(cancellation, "cancellation");
      previousRevision = previousRevision == null ? "" : previousRevision;
    }

    /**
     * A request with no previous revision ({@code ""}): the source compares the new revision only
     * with what it read itself, if anything.
     *
     * <pre>{@code
     * State s = gitSource.read(new Source.ReadRequest(null, List.of(provider.decoder().orElseThrow()),
   *     new Cancellation()));
     * }</pre>
     */
    public ReadRequest(String pinnedRevision, List<Decoder> decoders, Cancellation cancellation) {
      this(pinnedRevision, decoders, cancellation, "");
    }

    /** This request with {@code previousRevision} ({@code null} or {@code ""}: none). */
    public ReadRequest withPreviousRevision(String previousRevision) {
      return new ReadRequest(pinnedRevision, decoders, cancellation, previousRevision);
    }
  }
}
