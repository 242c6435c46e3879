package dev.gitops.core.store;

import dev.gitops.api.spi.StateStore;

class InMemoryStateStoreTest extends StateStoreContract {
  @Override
  protected boolean sharesUnchangedMaps() {
    return true;
  }

  @Override
  protected StateStore newStore(int historyLimit) {
    return new InMemoryStateStore(historyLimit);
  }
}
