package dev.gitops.core.store;

import dev.gitops.api.StoreCorruptException;
import dev.gitops.api.spi.StateStore;
import dev.gitops.api.spi.StoredResource;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A {@link StateStore} that makes a {@link StoreBatch} durable in one write (group commit): the
 * engine hands it the pending records of every change it is about to send together, and the
 * applied records of every outcome it learned together.
 *
 * <pre>{@code
 * BatchedStateStore batched = FileStateStore.open(storeDir);   // under the store's lock, as the engine writes
 * List<StoredResource> stored = batched.writeBatch(StoreBatch.builder().applied(web, revision).build());
 * }</pre>
 */
public interface BatchedStateStore extends StateStore {

  /**
   * Writes every op of {@code batch} in order, atomically (after a crash either all of them or
   * none are there) and durably before returning. Serials are given per op, as the single calls
   * would. Returns the stored form of each {@link StoreBatch.Applied} op, in order.
   *
   * @throws StoreCorruptException when the store is damaged (and then nothing is written)
   */
  List<StoredResource> writeBatch(StoreBatch batch);

  /**
   * Whether {@link StoreBatch.Applied#inSync} proofs are kept (written with the entry and loaded
   * back in {@link StoredResource#inSync}). The engine then records, once, the proof of each key
   * it finds in sync without one, so that a new process skips reading and merging such keys; the
   * default is false, and such a store's keys are merged at every sync as before.
   *
   * <pre>{@code
   * boolean skipsUnchanged = FileStateStore.open(storeDir).keepsInSync();  // true with the journal on
   * }</pre>
   */
  default boolean keepsInSync() {
    return false;
  }

  /**
   * The no-change marker recorded at this store's current serial: the fingerprint of the source
   * content whose desired state equals the store's last-applied records (see {@code
   * docs/architecture.md}). Empty when none was recorded, or when the store was written since (any
   * write raises the serial, so a marker never outlives the records it vouches for). Read under the
   * store's lock; the default keeps no marker.
   *
   * <pre>{@code
   * Optional<String> marker = FileStateStore.open(storeDir).noChangeMarker();
   * }</pre>
   */
  default Optional<String> noChangeMarker() {
    return Optional.empty();
  }

  /**
   * Records {@code fingerprint} as the no-change marker at the current serial, replacing any
   * earlier one, under the store's lock. It does not raise the serial; the next write of any
   * other kind makes it stale. The default keeps nothing.
   *
   * <pre>{@code
   * FileStateStore.open(storeDir).recordNoChangeMarker("ac0d9df7e8957569");   // under the store's lock
   * }</pre>
   */
  default void recordNoChangeMarker(String fingerprint) {
  }
  /**
   * The digests of each record by key text (the engine records the digest, {@code
   * Documents.digest}, of its document, a colon, and that of the resource), recorded with
   * {@link #recordNoChangeDigests} while the store's marker named {@code fingerprint} at its
   * current serial; empty when none were, or they are stale or unreadable. A sync that takes its
   * desired state from the records uses them instead of digesting every document again. The
   * default keeps none.
   *
   * <pre>{@code
   * Map<String, String> digests = FileStateStore.open(storeDir).noChangeDigests("ac0d9df7e8957569");
   * }</pre>
   */
  default Map<String, String> noChangeDigests(String fingerprint) {
    return Map.of();
  }

  /**
   * Records {@code digests} (key text to its record's digests, a text without blank or line
   * break) for the marker {@code fingerprint} at the current serial, under the store's lock. It
   * does not raise the serial; like the marker, any later write makes them stale. The default
   * keeps nothing.
   *
   * <pre>{@code
   * FileStateStore.open(storeDir).recordNoChangeDigests("ac0d9df7e8957569",
   *     Map.of(key.toString(), Documents.digest(document)));   // under the store's lock
   * }</pre>
   */
  default void recordNoChangeDigests(String fingerprint, Map<String, String> digests) {
  }

  /**
   * A plan id and the digest of the inputs it was computed from, recorded for a no-change marker
   * ({@link #recordNoChangePlanId}).
   */
  record NoChangePlanId(String inputs, String id) {}

  /**
   * The plan id and inputs recorded with {@link #recordNoChangePlanId} while the store's marker
   * named {@code fingerprint} at its current serial; empty when none were, or they are stale or
   * unreadable. A sync that takes its desired state from the records, and whose changes are all
   * plain NOOPs of equal inputs, takes this id instead of computing it. The default keeps none.
   *
   * <pre>{@code
   * Optional<NoChangePlanId> id = FileStateStore.open(storeDir).noChangePlanId("ac0d9df7e8957569");
   * }</pre>
   */
  default Optional<NoChangePlanId> noChangePlanId(String fingerprint) {
    return Optional.empty();
  }

  /**
   * Records {@code planId}, computed from {@code inputs}, for the marker {@code fingerprint} at the
   * current serial, under the store's lock. Like the marker it does not raise the serial, and any
   * later write makes it stale. The default keeps nothing.
   *
   * <pre>{@code
   * String inputs = "9f2c41d07be3a5e8";   // digest of what plan.id() was computed from
   * FileStateStore.open(storeDir).recordNoChangePlanId("ac0d9df7e8957569", inputs, plan.id());
   * }</pre>
   */
  default void recordNoChangePlanId(String fingerprint, String inputs, String planId) {
  }
}
