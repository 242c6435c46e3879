package dev.gitops.api.spi;

import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.internal.SortedArrayMap;
import java.util.Collections;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A snapshot of a store.
 *
 * <pre>{@code
 * StoredState s = store.load();
 * s.inventory().forEach((k, r) -> log.info("{} last applied at {}", k, r.revision()));
 * s.pending().keySet().forEach(k -> log.info("{}: written before an apply, its outcome not recorded", k));
 * String applied = s.lastAppliedRevision();   // "" until a sync applied in full
 * }</pre>
 *
 * @param serial increases with every write
 * @param inventory last-applied state per owned key
 * @param pending desired documents written before an apply whose outcome is not recorded yet
 * @param lastAttemptedRevision the revision of the last sync attempt, or ""
 * @param lastAppliedRevision the revision of the last sync that applied in full, or ""
 * @param fresh whether the store did not exist before (no inventory was ever written)
 */
public record StoredState(long serial, SortedMap<ResourceKey, StoredResource> inventory,
    SortedMap<ResourceKey, Resource> pending, String lastAttemptedRevision, String lastAppliedRevision,
    boolean fresh) {

  /**
   * Copies the maps into immutable ones in key order; a map that is immutable already (another
   * state's, or a store's snapshot of an unchanged inventory) is shared as it is, so a store that
   * was not written since its last load can hand out the same maps, and a reader can tell them
   * unchanged by identity.
   *
   * <pre>{@code
   * StoredState again = new StoredState(stored.serial(), stored.inventory(), stored.pending(), "", "", false);
   * assert again.inventory() == stored.inventory();   // shared, not copied
   * }</pre>
   */
  public StoredState {
    inventory = immutable(Objects.requireNonNull(inventory, "inventory"));
    pending = immutable(Objects.requireNonNull(pending, "pending"));
    Objects.requireNonNull(lastAttemptedRevision, "lastAttemptedRevision");
    Objects.requireNonNull(lastAppliedRevision, "lastAppliedRevision");
  }

  /** {@code map} itself when it is immutable, else an immutable copy in key order. */
  private static <V> SortedMap<ResourceKey, V> immutable(SortedMap<ResourceKey, V> map) {
    SortedMap<ResourceKey, V> copy = SortedArrayMap.copyOfNonNull(map);
    // a null value, which no store writes: copied as it always was
    return copy != null ? copy : Collections.unmodifiableSortedMap(new TreeMap<>(map));
  }

  /** The state of a store that was never written. */
  public static StoredState empty() {
    return new StoredState(0, new TreeMap<>(), new TreeMap<>(), "", "", true);
  }
}
