package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Cancellation;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A long-lived token handed to many syncs keeps no callback of a sync that ended. */
class CancellationLifetimeTest {

  @Test
  void manySyncsOnOneTokenLeaveNoCallbacksOnIt() {
    MapProvider provider = new MapProvider("m", false);
    AtomicInteger revision = new AtomicInteger();
    Reconciler rec = Reconciler.builder()
        .source(dev.gitops.api.spi.Source.of(() -> State.of("r" + revision.incrementAndGet(), List.of(Resource.of(
            ResourceKey.of("m", "thing", "", "a"), ReconcilerTest.json("{'n':" + revision.get() + "}"))))))
        .provider(provider).inMemoryStore().build();
    Cancellation shutdown = new Cancellation();
    // Like a provider that hooks an abort onto the token of every call, observe and apply alike.
    AtomicInteger ran = new AtomicInteger();
    AtomicInteger hooked = new AtomicInteger();
    provider.onCall = ctx -> {
      ctx.cancellation().onCancel(ran::incrementAndGet);
      hooked.incrementAndGet();
    };

    for (int i = 0; i < 200; i++) {
      SyncResult r = rec.sync(null, shutdown);
      assertThat(r.isSuccessful()).isTrue();
    }

    assertThat(hooked.get()).as("observe and apply calls").isGreaterThanOrEqualTo(400);
    assertThat(shutdown.registeredCallbacks()).as("callbacks left on the token by ended syncs").isZero();
    shutdown.cancel("shutting down");
    assertThat(ran.get()).as("no callback of an ended sync runs").isZero();
  }
}
