package com.example.consumer;

import dev.gitops.api.spi.StateStore;
import dev.gitops.core.store.InMemoryStateStore;
import dev.gitops.testkit.StateStoreContract;

/**
 * A user's store proven against the published store contract from another package, as the README
 * says (the in-memory store stands in for the user's own).
 */
class OwnStoreContractTest extends StateStoreContract {
  @Override
  protected StateStore newStore(int historyLimit) {
    return new InMemoryStateStore(historyLimit);
  }
}
