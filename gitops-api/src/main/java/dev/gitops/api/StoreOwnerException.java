package dev.gitops.api;

import java.util.Objects;

/**
 * The state store belongs to another owner: a sync, plan, diff or rollback of one owner was
 * refused on a store another owner's sync wrote, before anything was applied or recorded. The
 * way out is to run as the store's owner, or to give this owner a store of its own.
 *
 * <pre>{@code
 * try {
 *   reconciler.sync();
 * } catch (StoreOwnerException e) {
 *   log.error("{} belongs to owner '{}', not '{}'", e.store(), e.recordedOwner(), e.requestedOwner());
 * }
 * }</pre>
 */
public class StoreOwnerException extends StoreException {
  private static final long serialVersionUID = 1L;

  private final String store;
  private final String recordedOwner;
  private final String requestedOwner;

  /**
   * A refusal naming the store, both owners and the way out.
   *
   * @param store the store as its user knows it (a directory, an etcd key prefix)
   * @param recordedOwner the owner the store records
   * @param requestedOwner the owner that asked for it
   */
  public StoreOwnerException(String store, String recordedOwner, String requestedOwner) {
    super("state store " + Objects.requireNonNull(store, "store") + " belongs to owner '"
        + Objects.requireNonNull(recordedOwner, "recordedOwner") + "', not to owner '"
        + Objects.requireNonNull(requestedOwner, "requestedOwner") + "': each owner would take the other's records"
        + " as its own and drop or delete what it does not declare; nothing was applied or recorded. Run as owner '"
        + recordedOwner + "', or give owner '" + requestedOwner + "' a state store of its own");
    this.store = store;
    this.recordedOwner = recordedOwner;
    this.requestedOwner = requestedOwner;
  }

  /** The store as its user knows it: a directory, an etcd key prefix. */
  public String store() {
    return store;
  }

  /** The owner the store records (the one whose sync first wrote it). */
  public String recordedOwner() {
    return recordedOwner;
  }

  /** The owner that was refused. */
  public String requestedOwner() {
    return requestedOwner;
  }
}
