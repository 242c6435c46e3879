package dev.gitops.core.store;

import dev.gitops.api.StoreCorruptException;
import dev.gitops.api.spi.StateStore;
import dev.gitops.api.spi.StoredResource;
import java.util.List;

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
}
