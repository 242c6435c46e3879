package dev.gitops.testkit;

import dev.gitops.api.spi.StateStore;
import dev.gitops.core.store.InMemoryStateStore;

/** The {@link StateStoreContract} on gitops-core's in-memory store. */
class InMemoryStateStoreContractTest extends StateStoreContract {
  @Override
  protected boolean sharesUnchangedMaps() {
    return true;
  }

  @Override
  protected StateStore newStore(int historyLimit) {
    return new InMemoryStateStore(historyLimit);
  }
}
