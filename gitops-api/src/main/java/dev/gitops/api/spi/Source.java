package dev.gitops.api.spi;

import dev.gitops.api.Cancellation;
import dev.gitops.api.SourceException;
import dev.gitops.api.State;
import java.util.List;
import java.util.Objects;
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

  /** A source that returns whatever {@code supplier} gives. */
  static Source of(Supplier<State> supplier) {
    Objects.requireNonNull(supplier, "supplier");
    return request -> supplier.get();
  }

  /**
   * What the engine asks of a source.
   *
   * @param pinnedRevision read this revision instead of the ref's head (rollback), or null
   * @param decoders the decoders of the providers, first claim wins
   * @param cancellation cancelled when the sync is
   */
  record ReadRequest(String pinnedRevision, List<Decoder> decoders, Cancellation cancellation) {
    /** Copies. */
    public ReadRequest {
      decoders = List.copyOf(decoders);
      Objects.requireNonNull(cancellation, "cancellation");
    }
  }
}
