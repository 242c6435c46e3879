package dev.gitops.api;

/** Two declarations share one key; both origins are named. */
public class DuplicateResourceException extends DecodeException {
  private static final long serialVersionUID = 1L;
  private final ResourceKey key;
  private final Origin first;

  /** {@code key} is declared at {@code first} and again at {@code second}. */
  public DuplicateResourceException(ResourceKey key, Origin first, Origin second) {
    super(second, "duplicate resource " + key + ", first declared at " + first);
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
