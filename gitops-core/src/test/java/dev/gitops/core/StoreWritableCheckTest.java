package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.StoreException;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.spi.Source;
import dev.gitops.core.store.InMemoryStateStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The engine asks every store, through {@link dev.gitops.api.spi.StateStore#checkWritable}, whether
 * it can be written before a sync, apply, destroy or forget reads, plans or applies anything: not
 * only the file store, which it once recognised by its type. One check per call; a refusal is the
 * sync's {@link SyncEvent.Aborted} for its listeners.
 */
class StoreWritableCheckTest {

  private static final ResourceKey A = ResourceKey.of("m", "thing", "", "a");

  /** A store that counts its checks and refuses them while {@link #refuse} is set. */
  static final class CheckedStore extends ForwardingStateStore {
    final AtomicInteger checks = new AtomicInteger();
    volatile String refuse;

    CheckedStore() {
      super(new InMemoryStateStore());
    }

    @Override
    public void checkWritable() {
      checks.incrementAndGet();
      if (refuse != null) {
        throw new StoreException("own store: " + refuse);
      }
    }
  }

  private final MapProvider provider = new MapProvider("m", false);
  private final CheckedStore store = new CheckedStore();
  private final List<SyncEvent> events = new ArrayList<>();

  private Reconciler reconciler(SyncOptions options, int n) {
    State want = State.of("r" + n, List.of(Resource.of(A, ReconcilerTest.json("{'n':" + n + "}"))));
    return Reconciler.builder().source(Source.of(() -> want)).provider(provider).store(store).options(options)
        .listener(events::add).build();
  }

  @Test
  void aStoreThatSaysItCannotBeWrittenIsRefusedBeforeAnythingIsReadOrApplied() {
    store.refuse = "the disk is read-only";
    try (Reconciler rec = reconciler(SyncOptions.defaults(), 1)) {
      assertThatThrownBy(rec::sync).isInstanceOf(StoreException.class).hasMessage("own store: the disk is read-only");
      assertThatThrownBy(() -> rec.forget(List.of(A))).isInstanceOf(StoreException.class);
      assertThatThrownBy(() -> rec.destroy(Reconciler.DeletionPolicy.ORPHAN)).isInstanceOf(StoreException.class);
      assertThat(events).as("the listeners hear of each refused call as an aborted sync")
          .filteredOn(e -> e instanceof SyncEvent.Aborted a && a.error().getMessage().contains("read-only"))
          .hasSize(3);
      assertThat(events).noneMatch(e -> e instanceof SyncEvent.SourceRead);
    }
    assertThat(provider.applied).isEmpty();
    assertThat(store.delegate.load().fresh()).isTrue();
  }

  @Test
  void eachWritingCallChecksTheStoreOnceAndADryRunNotAtAll() {
    try (Reconciler rec = reconciler(SyncOptions.defaults(), 1)) {
      rec.sync();
      assertThat(store.checks).hasValue(1);
      rec.sync();
      assertThat(store.checks).as("checked again at each sync: the store may have changed since").hasValue(2);
      rec.plan();
      assertThat(store.checks).as("a plan writes nothing").hasValue(2);
    }
    try (Reconciler dry = reconciler(SyncOptions.builder().dryRun(true).build(), 2)) {
      dry.sync();
      assertThat(store.checks).as("a dry run writes nothing").hasValue(2);
    }
  }
}
