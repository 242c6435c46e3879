package dev.gitops.cluster.k8s;

/** The contract again with the smallest chunk (1 KiB): the larger states of the contract go into chunk Secrets. */
class ChunkedSecretStateStoreContractTest extends SecretStateStoreContractTest {

  @Override
  protected int chunkBytes() {
    return 1024;
  }
}
