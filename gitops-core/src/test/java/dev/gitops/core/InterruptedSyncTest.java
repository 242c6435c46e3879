package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.spi.HistoryEntry;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.Source;
import dev.gitops.core.store.FileStateStore;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Interrupting the thread that runs a sync stops it like a cancellation: what it did is still
 * recorded in the store, the caller gets the result with its interrupt flag set, and the
 * reconciler and its store go on working.
 */
@Timeout(60)
class InterruptedSyncTest {

  static final ResourceKey A = ReconcilerTest.key("a");
  static final ResourceKey B = ReconcilerTest.key("b");
  static final ResourceKey GONE = ReconcilerTest.key("gone");

  @TempDir Path tmp;

  @Test
  void anInterruptedSyncRecordsWhatItDidKeepsTheFlagAndLeavesTheStoreWritable() throws Exception {
    AtomicReference<State> desired = new AtomicReference<>(State.of("r1",
        List.of(ReconcilerTest.res("a", "{'v':1}"), ReconcilerTest.res("gone", "{'v':1}"))));
    MapProvider provider = new MapProvider("m", false);
    CountDownLatch applyingB = new CountDownLatch(1);
    CountDownLatch releaseB = new CountDownLatch(1);
    provider.beforeApply = c -> {
      if (c.key().equals(B)) {
        applyingB.countDown();
        try {
          releaseB.await(20, TimeUnit.SECONDS);  // this provider ignores interrupts
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    };
    try (Reconciler r = Reconciler.builder().source(Source.of(desired::get)).provider(provider)
        .store(FileStateStore.open(tmp.resolve("state"))).build()) {
      assertThat(r.sync().isSuccessful()).isTrue();
      provider.live.remove(GONE);  // removed behind the reconciler's back: the next sync forgets it
      desired.set(State.of("r2", List.of(ReconcilerTest.res("a", "{'v':1}"), ReconcilerTest.res("b", "{'v':1}"))));

      AtomicReference<Object> returned = new AtomicReference<>();
      AtomicBoolean flagKept = new AtomicBoolean();
      Thread syncing = new Thread(() -> {
        try {
          returned.set(r.sync());
        } catch (Throwable e) {
          returned.set(e);
        }
        flagKept.set(Thread.currentThread().isInterrupted());
      }, "syncing");
      syncing.start();
      try {
        assertThat(applyingB.await(20, TimeUnit.SECONDS)).isTrue();
        syncing.interrupt();
        syncing.join(TimeUnit.SECONDS.toMillis(20));
        assertThat(syncing.isAlive()).isFalse();
      } finally {
        releaseB.countDown();
      }

      assertThat(returned.get()).as("the interrupted sync returns its result").isInstanceOf(SyncResult.class);
      SyncResult interrupted = (SyncResult) returned.get();
      assertThat(interrupted.isSuccessful()).isFalse();
      assertThat(interrupted.outcomes().get(B).message()).contains("interrupted");
      assertThat(flagKept.get()).as("the caller's interrupt flag is kept").isTrue();
      List<HistoryEntry> history = r.history();
      assertThat(history.get(0).revision()).as("the interrupted sync is in the history").isEqualTo("r2");
      assertThat(r.store().load().inventory()).as("what it forgot stays forgotten").doesNotContainKey(GONE);

      SyncResult next = r.sync();
      assertThat(next.isSuccessful()).as("the store still takes writes: %s", next.outcomes()).isTrue();
      assertThat(r.store().load().inventory()).containsOnlyKeys(A, B);
    }
  }
}
