package dev.gitops.api;

/**
 * Two declarations share one key; both origins are named.
 *
 * <pre>{@code
 * try {
 *   State.of("v1", List.of(web, web.toBuilder().origin(Origin.of("apps/copy.yaml", 1, "v1")).build()));
 * } catch (DuplicateResourceException e) {
 *   log.error("{} is declared at {} and again at {}", e.key(), e.first(), e.origin());
 * }
 * }</pre>
 */
public class DuplicateResourceException extends DecodeException {
  private static final long serialVersionUID = 1L;
  private final ResourceKey key;
  private final Origin first;

  /** {@code key} is declared at {@code first} and again at {@code second}. */
  public DuplicateResourceException(ResourceKey key, Origin first, Origin second) {
    super(java.util.Objects.requireNonNull(second, "second"), "duplicate resource "
        + java.util.Objects.requireNonNull(key, "key") + ", first declared at "
        + java.util.Objects.requireNonNull(first, "first"));
    this.key = key;
    this.first = first;
  }

  /** The duplicated key. */
  public ResourceKey key() {
    return key;
  }

  /** The first declaration. */
  public Origin first() {
    return first;
  }
}
