package dev.gitops.core.store;

import dev.gitops.cluster.k8s.SecretStateStore;

/** The contract again with the default chunk size: every state of the contract fits in the target's Secret. */
class SecretStateStoreInlineContractTest extends SecretStateStoreContractTest {

  @Override
  protected int chunkBytes() {
    return SecretStateStore.DEFAULT_CHUNK_BYTES;
  }
}
