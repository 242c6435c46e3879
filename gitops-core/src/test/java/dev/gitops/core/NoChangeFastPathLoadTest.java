package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Cancellation;
import dev.gitops.api.State;
import dev.gitops.api.StoreException;
import dev.gitops.api.spi.Source;
import dev.gitops.api.spi.StoredState;
import dev.gitops.core.source.Fingerprinted;
import dev.gitops.core.store.BatchedStateStore;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * {@link NoChangeFastPath#load}: with a no-change marker, the store's records are loaded on a
 * thread of their own while the caller resolves the source's fingerprint; the load is always
 * waited for, and its failure is the one thrown.
 */
class NoChangeFastPathLoadTest {

  final Source.ReadRequest request = new Source.ReadRequest(null, List.of(), new Cancellation());
  final Fingerprinted.Resolved resolved = new Fingerprinted.Resolved("main@sha1:" + "a".repeat(40), "f:1");

  final AtomicReference<Thread> loadedOn = new AtomicReference<>();
  final AtomicReference<Thread> resolvedOn = new AtomicReference<>();
  final AtomicBoolean loadEnded = new AtomicBoolean();

  /** A store whose marker is {@code marker} and whose load runs {@code load} on the thread it is called on. */
  BatchedStateStore store(Optional<String> marker, Supplier<StoredState> load) {
    return (BatchedStateStore) Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {BatchedStateStore.class}, (proxy, method, args) -> switch (method.getName()) {
          case "noChangeMarker" -> marker;
          case "load" -> {
            loadedOn.set(Thread.currentThread());
            try {
              yield load.get();
            } finally {
              loadEnded.set(true);
            }
          }
          default -> throw new UnsupportedOperationException(method.getName());
        });
  }

  /** A source whose fingerprint runs {@code resolve} on the thread it is called on. */
  Fingerprinted source(Supplier<Optional<Fingerprinted.Resolved>> resolve) {
    return new Fingerprinted() {
      @Override
      public State read(ReadRequest r) {
        throw new UnsupportedOperationException();
      }

      @Override
      public Optional<Resolved> fingerprint(ReadRequest r) {
        resolvedOn.set(Thread.currentThread());
        return resolve.get();
      }

      @Override
      public Optional<Resolved> lastRead() {
        return Optional.empty();
      }
    };
  }

  static void await(CountDownLatch latch) {
    try {
      assertThat(latch.await(10, TimeUnit.SECONDS)).as("the other side ran meanwhile").isTrue();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void withAMarkerTheRecordsAreLoadedOnAThreadOfTheirOwnWhileTheFingerprintResolves() {
    CountDownLatch loading = new CountDownLatch(1);
    CountDownLatch resolving = new CountDownLatch(1);
    StoredState stored = StoredState.empty();
    // each side waits for the other to have started: run one after the other, both would time out
    NoChangeFastPath.Loaded loaded = NoChangeFastPath.load(source(() -> {
      resolving.countDown();
      await(loading);
      return Optional.of(resolved);
    }), store(Optional.of("f:1"), () -> {
      loading.countDown();
      await(resolving);
      return stored;
    }), request);

    assertThat(loaded.stored()).isSameAs(stored);
    assertThat(loaded.resolved()).contains(resolved);
    assertThat(loaded.marker()).contains("f:1");
    assertThat(resolvedOn.get()).isSameAs(Thread.currentThread());
    assertThat(loadedOn.get()).isNotSameAs(Thread.currentThread());
    assertThat(loadedOn.get().getName()).isEqualTo("gitops-store-load");
  }

  @Test
  void withoutAMarkerOrARequestTheStoreIsLoadedAloneOnTheCallersThread() {
    NoChangeFastPath.Loaded none = NoChangeFastPath.load(source(() -> Optional.of(resolved)),
        store(Optional.empty(), StoredState::empty), request);
    assertThat(none.resolved()).as("not resolved: fromStore will not want it").isNull();
    assertThat(none.marker()).isEmpty();
    assertThat(loadedOn.get()).isSameAs(Thread.currentThread());

    NoChangeFastPath.Loaded full = NoChangeFastPath.load(source(() -> Optional.of(resolved)),
        store(Optional.of("f:1"), StoredState::empty), null);
    assertThat(full.resolved()).isNull();
    assertThat(full.marker()).as("not read: the full path was asked for").isNull();
    assertThat(resolvedOn.get()).isNull();
  }

  @Test
  void aFailedLoadIsThrownOnceTheFingerprintIsResolved() {
    AtomicBoolean resolvedFully = new AtomicBoolean();
    StoreException damage = new StoreException("store /x: snapshot.json is corrupt");
    assertThatThrownBy(() -> NoChangeFastPath.load(source(() -> {
      await(new CountDownLatch(0));
      resolvedFully.set(true);
      return Optional.of(resolved);
    }), store(Optional.of("f:1"), () -> {
      throw damage;
    }), request)).isSameAs(damage);
    assertThat(resolvedFully).isTrue();
  }

  @Test
  void aFailingFingerprintWaitsForTheLoadBeforeItIsThrown() {
    CountDownLatch loading = new CountDownLatch(1);
    IllegalStateException broken = new IllegalStateException("broken source");
    assertThatThrownBy(() -> NoChangeFastPath.load(source(() -> {
      await(loading);
      throw broken;
    }), store(Optional.of("f:1"), () -> {
      loading.countDown();
      try {
        Thread.sleep(200);  // still loading when the fingerprint fails
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
      return StoredState.empty();
    }), request)).isSameAs(broken);
    assertThat(loadEnded).as("nothing of the sync runs on after load returns").isTrue();
  }

  @Test
  void anInterruptWhileLoadingWaitsForTheLoadAndIsPassedOn() {
    CountDownLatch loading = new CountDownLatch(1);
    Thread caller = Thread.currentThread();
    StoredState stored = StoredState.empty();
    try {
      NoChangeFastPath.Loaded loaded = NoChangeFastPath.load(source(() -> {
        await(loading);
        caller.interrupt();
        return Optional.of(resolved);
      }), store(Optional.of("f:1"), () -> {
        loading.countDown();
        try {
          Thread.sleep(200);
        } catch (InterruptedException e) {
          throw new AssertionError(e);
        }
        return stored;
      }), request);
      assertThat(loaded.stored()).isSameAs(stored);
      assertThat(loadEnded).isTrue();
      assertThat(Thread.currentThread().isInterrupted()).as("the interrupt is kept for the caller").isTrue();
    } finally {
      Thread.interrupted();
    }
  }
}
