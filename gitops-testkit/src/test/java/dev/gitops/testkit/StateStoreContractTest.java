package dev.gitops.testkit;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.HistoryEntry;
import dev.gitops.api.spi.StateStore;
import dev.gitops.api.spi.StoreLock;
import dev.gitops.api.spi.StoredResource;
import dev.gitops.api.spi.StoredState;
import dev.gitops.core.store.InMemoryStateStore;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The store contract must fail stores that break it, as an outside author writes them: a store
 * that loses a field of its history entries, one that takes damaged data for an empty store, and
 * one whose check says it can be written while it refuses every write.
 */
class StateStoreContractTest {

  /** A store over the in-memory one, as an outside author might wrap a map; the flags make it wrong. */
  static final class OwnStore implements StateStore {
    final InMemoryStateStore inner;
    final boolean dropsHistoryOwners;
    final boolean rebuildsDamagedEmpty;
    final boolean passesTheCheckDamaged;
    final AtomicBoolean damaged;

    OwnStore(InMemoryStateStore inner, boolean dropsHistoryOwners, boolean rebuildsDamagedEmpty,
        boolean passesTheCheckDamaged, AtomicBoolean damaged) {
      this.inner = inner;
      this.dropsHistoryOwners = dropsHistoryOwners;
      this.rebuildsDamagedEmpty = rebuildsDamagedEmpty;
      this.passesTheCheckDamaged = passesTheCheckDamaged;
      this.damaged = damaged;
    }

    /** Checks ahead: refuses once damaged, unless it is the store that says it can be written regardless. */
    @Override
    public void checkWritable() {
      if (!passesTheCheckDamaged) {
        check();
      }
    }

    private void check() {
      if (damaged.get() && !rebuildsDamagedEmpty) {
        throw new dev.gitops.api.StoreCorruptException("own store: entry 'a' is not valid JSON", null);
      }
    }

    @Override
    public StoreLock lock(Duration timeout) {
      return inner.lock(timeout);
    }

    @Override
    public StoredState load() {
      check();
      return damaged.get() ? new StoredState(0, new java.util.TreeMap<>(), new java.util.TreeMap<>(), "", "", true)
          : inner.load();
    }

    @Override
    public void writePending(Resource desired) {
      check();
      inner.writePending(desired);
    }

    @Override
    public StoredResource commit(Resource lastApplied, String revision) {
      check();
      return inner.commit(lastApplied, revision);
    }

    @Override
    public void clearPending(ResourceKey key) {
      check();
      inner.clearPending(key);
    }

    @Override
    public void forget(ResourceKey key) {
      check();
      inner.forget(key);
    }

    @Override
    public void recordRevisions(String attempted, String applied) {
      check();
      inner.recordRevisions(attempted, applied);
    }

    @Override
    public void appendHistory(HistoryEntry e) {
      check();
      inner.appendHistory(dropsHistoryOwners
          ? new HistoryEntry(e.id(), e.time(), e.revision(), e.planId(), e.status(), e.counts(), e.message()) : e);
    }

    @Override
    public List<HistoryEntry> history() {
      return inner.history();
    }

    @Override
    public Optional<String> owner() {
      return inner.owner();
    }

    @Override
    public void claimOwner(String owner) {
      inner.claimOwner(owner);
    }

    @Override
    public byte[] secretKey() {
      return inner.secretKey();
    }

    @Override
    public void close() {
      inner.close();
    }
  }

  static final class OwnStoreContract extends StateStoreContract {
    final boolean dropsHistoryOwners;
    final boolean rebuildsDamagedEmpty;
    final boolean passesTheCheckDamaged;

    OwnStoreContract(boolean dropsHistoryOwners, boolean rebuildsDamagedEmpty, boolean passesTheCheckDamaged) {
      this.dropsHistoryOwners = dropsHistoryOwners;
      this.rebuildsDamagedEmpty = rebuildsDamagedEmpty;
      this.passesTheCheckDamaged = passesTheCheckDamaged;
    }

    @Override
    protected StateStore newStore(int historyLimit) {
      return new OwnStore(new InMemoryStateStore(historyLimit), dropsHistoryOwners, rebuildsDamagedEmpty,
          passesTheCheckDamaged, new AtomicBoolean());
    }

    @Override
    protected StateStore sameStore(StateStore s) {
      OwnStore o = (OwnStore) s;
      return new OwnStore(o.inner, dropsHistoryOwners, rebuildsDamagedEmpty, passesTheCheckDamaged, o.damaged);
    }

    @Override
    protected boolean corrupt(StateStore s) {
      ((OwnStore) s).damaged.set(true);
      return true;
    }
  }

  private static void run(StateStoreContract c, org.assertj.core.api.ThrowableAssert.ThrowingCallable rule) {
    try {
      assertThatCode(rule).doesNotThrowAnyException();
    } finally {
      c.releaseAll();
    }
  }

  @Test
  void aCorrectStorePassesTheRulesOnHistoryAndDamage() {
    OwnStoreContract c = new OwnStoreContract(false, false, false);
    run(c, c::historyIsReadAgainWholeByAnotherObjectOnTheStore);
    run(c, c::aDamagedStoreRefusesToLoadAndToWrite);
    run(c, c::aDamagedStoreRefusesAWriteBeforeAnyLoad);
    run(c, c::aStoreWhoseCheckPassesCanBeWritten);
    run(c, c::aStoreFoundDamagedFailsTheCheckBeforeAnyWrite);
  }

  @Test
  void aStoreWhoseCheckPassesThoughItRefusesEveryWriteFails() {
    OwnStoreContract c = new OwnStoreContract(false, false, true);
    try {
      assertThatThrownBy(c::aStoreFoundDamagedFailsTheCheckBeforeAnyWrite).isInstanceOf(AssertionError.class)
          .hasMessageContaining("checkWritable() of a store a load found damaged");
    } finally {
      c.releaseAll();
    }
  }

  @Test
  void aStoreThatDropsTheOwnerOfItsHistoryEntriesFails() {
    OwnStoreContract c = new OwnStoreContract(true, false, false);
    try {
      assertThatThrownBy(c::historyIsReadAgainWholeByAnotherObjectOnTheStore).isInstanceOf(AssertionError.class)
          .hasMessageContaining("the owner of history entry sync-7");
    } finally {
      c.releaseAll();
    }
  }

  @Test
  void aStoreThatTakesDamagedDataForAnEmptyStoreFails() {
    OwnStoreContract c = new OwnStoreContract(false, true, false);
    try {
      assertThatThrownBy(c::aDamagedStoreRefusesToLoadAndToWrite).isInstanceOf(AssertionError.class)
          .hasMessageContaining("load() of a damaged store");
    } finally {
      c.releaseAll();
    }
  }
}
