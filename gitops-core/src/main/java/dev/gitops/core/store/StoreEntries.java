package dev.gitops.core.store;

import dev.gitops.api.Resource;
import dev.gitops.api.StoreCorruptException;
import dev.gitops.api.spi.HistoryEntry;
import dev.gitops.api.spi.StoredResource;

/**
 * The bytes of one store entry, in the JSON form {@link FileStateStore} writes into its snapshot
 * and journal (and older builds wrote to per-key files), for stores that keep entries elsewhere (gitops-cluster's etcd store keeps one etcd key
 * per entry). Reading is as strict as the file store's: anything that is not what was written is
 * a {@link StoreCorruptException} naming {@code where}.
 *
 * <pre>{@code
 * StoredResource entry = store.load().inventory().get(key);
 * byte[] written = StoreEntries.inventoryEntry(entry);
 * StoredResource back = StoreEntries.readInventoryEntry(written, "etcd key /gitops/t/inventory/...");
 * }</pre>
 */
public final class StoreEntries {

  private StoreEntries() {}

  /** An inventory entry (last-applied state, serial, revision). */
  public static byte[] inventoryEntry(StoredResource stored) {
    return StoreCodec.bytes(StoreCodec.inventoryEntry(stored));
  }

  /** A pending entry (the desired document written before an apply). */
  public static byte[] pendingEntry(Resource desired) {
    return StoreCodec.bytes(StoreCodec.pendingEntry(desired));
  }

  /** A history entry. */
  public static byte[] historyEntry(HistoryEntry entry) {
    return StoreCodec.bytes(StoreCodec.history(entry));
  }

  /** Reads what {@link #inventoryEntry} wrote; documents come back frozen. */
  public static StoredResource readInventoryEntry(byte[] bytes, String where) {
    try {
      return StoreCodec.readInventoryEntry(StoreCodec.parse(bytes));
    } catch (StoreCodec.BadContentException e) {
      throw corrupt(where, e);
    }
  }

  /** Reads what {@link #pendingEntry} wrote; documents come back frozen. */
  public static Resource readPendingEntry(byte[] bytes, String where) {
    try {
      return StoreCodec.readPendingEntry(StoreCodec.parse(bytes));
    } catch (StoreCodec.BadContentException e) {
      throw corrupt(where, e);
    }
  }

  /** Reads what {@link #historyEntry} wrote. */
  public static HistoryEntry readHistoryEntry(byte[] bytes, String where) {
    try {
      return StoreCodec.readHistory(StoreCodec.parse(bytes));
    } catch (StoreCodec.BadContentException e) {
      throw corrupt(where, e);
    }
  }

  /**
   * The entry naming a store's owner ({@link dev.gitops.api.spi.StateStore#claimOwner}), {@code
   * {"owner": "<id>"}}, as every store of this project records it.
   *
   * @throws IllegalArgumentException when {@code owner} is blank
   */
  public static byte[] ownerEntry(String owner) {
    return StoreCodec.bytes(StoreCodec.ownerEntry(requireOwner(owner)));
  }

  /**
   * Reads what {@link #ownerEntry} wrote: the owner.
   *
   * @throws StoreCorruptException naming {@code where} (and the way out) when it is not such an entry
   */
  public static String readOwnerEntry(byte[] bytes, String where) {
    try {
      return StoreCodec.owner(StoreCodec.parse(bytes));
    } catch (StoreCodec.BadContentException e) {
      throw new StoreCorruptException(where + ": not an owner entry {\"owner\": \"<id>\"} (" + e.getMessage()
          + "); fix it, or delete it while no sync runs so that the next writing sync claims the store", e);
    }
  }

  /**
   * {@code owner} itself, for implementations of {@link dev.gitops.api.spi.StateStore#claimOwner}.
   *
   * @throws NullPointerException when it is null
   * @throws IllegalArgumentException when it is blank
   */
  public static String requireOwner(String owner) {
    if (java.util.Objects.requireNonNull(owner, "owner").isBlank()) {
      throw new IllegalArgumentException("owner must not be blank");
    }
    return owner;
  }

  private static StoreCorruptException corrupt(String where, StoreCodec.BadContentException e) {
    return new StoreCorruptException(where + ": " + e.getMessage(), e);
  }
}
