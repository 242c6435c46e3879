package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.gitops.api.Cancellation;
import dev.gitops.api.PlanRefusedException;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SourceException;
import dev.gitops.api.State;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.spi.Source;
import dev.gitops.core.store.InMemoryStateStore;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** A sync that ends with an exception tells its listeners so (metrics and notifications count it). */
class AbortedSyncEventTest {

  final List<SyncEvent> events = new CopyOnWriteArrayList<>();
  final AtomicReference<State> desired = new AtomicReference<>();
  final AtomicReference<RuntimeException> sourceFailure = new AtomicReference<>();
  final MapProvider live = new MapProvider("m", false);

  Reconciler reconciler() {
    Source source = request -> {
      if (sourceFailure.get() != null) {
        throw sourceFailure.get();
      }
      return desired.get();
    };
    return Reconciler.builder().source(source).provider(live).store(new InMemoryStateStore()).listener(events::add)
        .build();
  }

  static Resource res(String name) {
    return Resource.of(ResourceKey.of("m", "thing", "", name), ReconcilerTest.json("{'n':1}"));
  }

  @Test
  void aProvidersErrorIsAnAbortedEventToo() {
    Reconciler r = reconciler();
    desired.set(State.of("r1", List.of(res("a"))));
    AssertionError bug = new AssertionError("provider assertion");
    live.beforeObserve = keys -> {
      throw bug;
    };

    Throwable thrown = catchThrowable(r::sync);

    assertThat(thrown).as("the caller gets the error itself").isSameAs(bug);
    assertThat(events).noneMatch(e -> e instanceof SyncEvent.Finished);
    SyncEvent last = events.get(events.size() - 1);
    assertThat(last).as("metrics, notifications and the agent's status hear the sync ended")
        .isInstanceOf(SyncEvent.Aborted.class);
    assertThat(((SyncEvent.Aborted) last).error()).hasCause(bug).hasMessageContaining("provider assertion");
  }

  @Test
  void aGuardRefusalIsAnAbortedEventNamingThePlannedRevisionAndNoFinishedFollows() {
    Reconciler r = reconciler();
    desired.set(State.of("r1", List.of(res("a"), res("b"))));
    r.sync();
    desired.set(State.of("r2", List.of()));
    events.clear();

    Throwable thrown = catchThrowable(r::sync);

    assertThat(thrown).isInstanceOf(PlanRefusedException.class);
    assertThat(events).noneMatch(e -> e instanceof SyncEvent.Finished);
    SyncEvent last = events.get(events.size() - 1);
    assertThat(last).isInstanceOf(SyncEvent.Aborted.class);
    assertThat(last.revision()).isEqualTo("r2");
    assertThat(((SyncEvent.Aborted) last).error()).isSameAs(thrown);
  }

  @Test
  void aSourceFailureIsAnAbortedEventWithTheRevisionAskedFor() {
    Reconciler r = reconciler();
    sourceFailure.set(new SourceException("remote unreachable"));

    Throwable unpinned = catchThrowable(r::sync);
    Throwable pinned = catchThrowable(() -> r.sync("main@sha1:" + "b".repeat(40), new Cancellation()));

    assertThat(events).hasSize(2).allMatch(e -> e instanceof SyncEvent.Aborted);
    assertThat(events.get(0).revision()).isEmpty();
    assertThat(((SyncEvent.Aborted) events.get(0)).error()).isSameAs(unpinned);
    assertThat(events.get(1).revision()).isEqualTo("main@sha1:" + "b".repeat(40));
    assertThat(((SyncEvent.Aborted) events.get(1)).error()).isSameAs(pinned);
  }

  @Test
  void aSyncThatEndsWithAResultIsNeverAborted() {
    Reconciler r = reconciler();
    desired.set(State.of("r1", List.of(res("a"))));
    r.sync();
    assertThat(events).noneMatch(e -> e instanceof SyncEvent.Aborted).anyMatch(e -> e instanceof SyncEvent.Finished);
  }
}
