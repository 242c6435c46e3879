package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Outcome;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.StoreLockedException;
import dev.gitops.api.spi.StoredResource;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.StateStore;
import dev.gitops.core.apply.ExecutionOptions;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.core.store.InMemoryStateStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store that stops taking pending records in the middle of a sync (a cluster member fenced out:
 * its store is another member's now; a disk that failed) sees no more writes: the execution is
 * cancelled at the first refusal, nothing more is sent to the provider, and what was not sent is
 * reported, not tried key after key against a store that refuses each.
 */
class StoreLostMidSyncTest {

  @TempDir Path tmp;

  static final int KEYS = 60;

  static List<Resource> things() {
    List<Resource> out = new ArrayList<>();
    for (int i = 0; i < KEYS; i++) {
      out.add(Resource.of(ResourceKey.of("m", "thing", "", String.format("t%02d", i)),
          ReconcilerTest.json("{'n':" + i + "}")));
    }
    return out;
  }

  static SyncOptions oneAtATime() {
    return SyncOptions.builder().execution(ExecutionOptions.defaults().withParallelism(2)).build();
  }

  @Test
  void aStoreThatSaysItIsHeldByAnotherIsWrittenNoMoreAndNothingMoreIsApplied() {
    AtomicInteger pendingWrites = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    StateStore fencedAfterFour = new ForwardingStateStore(new InMemoryStateStore()) {
      @Override
      public void writePending(Resource desired) {
        if (pendingWrites.incrementAndGet() > 4) {
          refused.incrementAndGet();
          throw new StoreLockedException("fenced: member m1 no longer owns target t (its token 7 is stale)");
        }
        super.writePending(desired);
      }
    };
    MapProvider p = new MapProvider("m", false);
    SyncResult r;
    try (Reconciler rec = Reconciler.builder().desiredState(State.of("r1", things())).provider(p).store(fencedAfterFour)
        .options(oneAtATime()).build()) {
      r = rec.sync();
    }
    assertThat(refused).as("refused once, then never asked again").hasValue(1);
    // a call in flight at the refusal is abandoned (UNKNOWN, its pending record kept), as at any cancellation
    assertThat(p.applied.size()).as("only what was recorded pending before the refusal").isBetween(3, 4);
    assertThat(r.status()).isEqualTo(SyncResult.Status.FAILED);
    assertThat(r.count(Outcome.Kind.CREATED)).isBetween(2, p.applied.size());
    assertThat(r.outcomes().values().stream().filter(o -> !o.isOk()))
        .hasSize(KEYS - r.count(Outcome.Kind.CREATED))
        .allSatisfy(o -> assertThat(o.message()).contains("fenced: member m1 no longer owns target t"))
        .anySatisfy(o -> assertThat(o.message()).startsWith("recording the pending state failed: fenced"));
  }

  @Test
  void aStoreWhoseBatchOfPendingRecordsFailsIsWrittenNoMore() throws Exception {
    AtomicInteger pendingBatches = new AtomicInteger();
    AtomicInteger failedBatches = new AtomicInteger();
    FileStateStore file = FileStateStore.open(tmp.resolve("store"));
    class DiskFillsUp extends ForwardingStateStore implements dev.gitops.core.store.BatchedStateStore {
      DiskFillsUp() {
        super(file);
      }

      @Override
      public List<StoredResource> writeBatch(dev.gitops.core.store.StoreBatch batch) {
        boolean pending = batch.ops().stream().anyMatch(op -> op instanceof dev.gitops.core.store.StoreBatch.Pending);
        if (pending && pendingBatches.incrementAndGet() > 1) {
          // the first round's records went to disk; the disk is full for every later one
          failedBatches.incrementAndGet();
          throw new dev.gitops.api.StoreException("cannot append to the journal: No space left on device");
        }
        return file.writeBatch(batch);
      }
    }
    MapProvider p = new MapProvider("m", false);
    SyncResult r;
    try (Reconciler rec = Reconciler.builder().desiredState(State.of("r1", things())).provider(p)
        .store(new DiskFillsUp()).options(oneAtATime()).build()) {
      r = rec.sync();
    }
    assertThat(failedBatches).as("one failed batch of pending records, then no other").hasValue(1);
    assertThat(p.applied.size()).as("the first round only").isBetween(1, 2);
    assertThat(r.status()).isEqualTo(SyncResult.Status.FAILED);
    assertThat(r.outcomes().values().stream().filter(o -> !o.isOk()).map(Outcome::message))
        .hasSize(KEYS - r.count(Outcome.Kind.CREATED)).allSatisfy(m -> assertThat(m).contains("No space left on device"));
  }
}
