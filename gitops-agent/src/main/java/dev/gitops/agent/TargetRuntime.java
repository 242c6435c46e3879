package dev.gitops.agent;

import dev.gitops.agent.config.TargetConfig;
import dev.gitops.agent.providers.ProviderCloser;
import dev.gitops.agent.spi.Placement;
import dev.gitops.api.StoreException;
import dev.gitops.api.StoreOwnerException;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.StateStore;
import dev.gitops.core.ReconcileLoop;
import dev.gitops.core.Reconciler;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.internal.Durations;
import dev.gitops.core.source.GitSource;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.micrometer.SyncMetrics;
import dev.gitops.notify.NotificationListener;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One running target: its source, provider, store, reconciler and loop, and how they stop. */
final class TargetRuntime {

  private static final Logger LOG = LoggerFactory.getLogger(TargetRuntime.class);

  private final TargetConfig config;
  /** What stop() closes, in that order: loop, store, source, provider, metrics; each leaves once closed. */
  private final List<Closing> resources;
  private final TargetState state;
  private final ReconcileLoop loop;
  private final SyncSlots slots;
  /** See {@link #beforeClose(Consumer)}. */
  private volatile Consumer<String> beforeClose = what -> {};

  private TargetRuntime(TargetConfig config, List<Closing> resources, TargetState state, ReconcileLoop loop,
      SyncSlots slots) {
    this.config = config;
    this.resources = resources;
    this.state = state;
    this.loop = loop;
    this.slots = slots;
  }

  /** What every target of an agent shares. */
  record Shared(SyncSlots slots, Notifications notifications, MeterRegistry registry, Path stateDir, Clock clock,
      LongSupplier ticker, Duration stuckAfter, Map<String, String> environment, Placement placement) {}

  /**
   * Builds the target and starts its loop (the first sync waits for a slot). When any step fails,
   * what was created so far (provider, source, store, metrics, loop) is closed before the failure
   * is thrown, each even when closing another failed; those failures are suppressed in it.
   */
  static TargetRuntime start(TargetConfig c, Shared shared) {
    ownerOnlyDirectory(c.store());
    GitSource.Builder git = GitSource.builder().url(c.url()).cacheDir(c.store().resolve("git-cache"))
        .timeout(c.gitTimeout()).maxFileSize(c.maxFileSize());
    if (c.ref() != null) {
      git.ref(c.ref());
    }
    if (c.path() != null) {
      git.path(c.path());
    }
    if (c.credentials() != null) {
      git.credentials(c.credentials().resolve(shared.environment()));
    }
    if (c.knownHosts() != null) {
      git.knownHosts(c.knownHosts());
    }
    if (c.acceptUnknownHosts()) {
      git.strictHostKeyChecking(false);
    }
    if (c.verify() != null) {
      git.requireSignedBy(c.verify().keyRing(), c.verify().mode());
    }
    String providerId = c.provider().providerId();
    // Each resource is listed as it is created, in the order stop() closes them (the reverse).
    List<Closing> created = new ArrayList<>();
    try {
      Provider made = c.provider().create();  // closed by us; what the engine calls may wrap it
      created.add(0, new Closing("its provider", () -> ProviderCloser.close(made, "target " + c.name())));
      GitSource source = git.build();
      created.add(0, new Closing("its Git source " + source.describe(), source::close));
      Provider provider = made;
      StateStore store = null;
      Placement placement = shared.placement();
      if (placement != null) {
        provider = placement.wrapProvider(c, provider);
        store = placement.openStore(c).orElse(null);
      }
      String storeShown = store == null ? c.store().toString() : store.toString();  // in the advice of a missing store
      if (store == null) {
        store = FileStateStore.open(c.store());
      }
      created.add(0, new Closing("its state store " + store, store::close));
      Duration stuck = max(shared.stuckAfter(), c.interval().multipliedBy(3));
      TargetState state = new TargetState(c.name(), providerId, shared.stateDir(), shared.clock(), shared.ticker(),
          stuck);
      if (placement != null) {
        // a sync that fails after this agent lost the target (its writes fenced) is no failure to announce
        state.lostWhen(() -> placement.lost(c.name()).orElse(null));
      }
      // the last success the status file recorded, not 0 (never), until this run succeeds
      SyncMetrics metrics = shared.registry() == null ? null : SyncMetrics.builder(shared.registry())
          .target(c.name()).provider(providerId).lastSuccess(state.lastSuccess()).build();
      if (metrics != null) {
        created.add(new Closing("its metrics", metrics::close));  // last, as stop() closes them
      }
      Reconciler.Builder b = Reconciler.builder()
          .source(metrics == null ? source : metrics.timed(source))
          .provider(provider)
          .store(store)
          .owner(c.owner())
          .options(options(c))
          // the notifications say a refusal of another owner's store, or of a missing one, as the status and
          // readiness do
          .listener(state.cancelledAs(TargetStoreOwnerException.inAgentTerms(c.name(),
              TargetStoreMissingException.inAgentTerms(c.name(), storeShown,
                  new NotificationListener(c.name(), providerId, shared.notifications()::send)))));
      if (metrics != null) {
        b.listener(state.cancelledAs(metrics));
      }
      // Last: once the status says a sync finished, its metrics and notifications are recorded too.
      b.listener(TargetStoreMissingException.inAgentTerms(c.name(), storeShown, state));
      Reconciler reconciler = b.build();
      // closed with its loop: a reconciler only dropped would be closed by the garbage collector's cleaner,
      // with a warning that it was not closed (store and source close again below: each close is idempotent)
      created.add(0, new Closing("its reconciler", reconciler::close));
      ReconcileLoop loop = ReconcileLoop.builder(reconciler).interval(c.interval()).jitter(c.jitter())
          .maxBackoff(c.maxBackoff()).gate(named(c.name(), storeShown, shared.slots().gate(c.name()))).build();
      // in place of the reconciler's, which it closes
      created.set(0, new Closing("its reconcile loop", () -> closeLoop(c.name(), loop, reconciler, shared.slots())));
      loop.start();
      // the source's description, not the URL as configured: that may hold a password
      LOG.info("target {} started: {} -> {} every {}", c.name(), source.describe(), c.providerType(), c.interval());
      return new TargetRuntime(c, new ArrayList<>(created), state, loop, shared.slots());
    } catch (RuntimeException e) {
      List<RuntimeException> failures = closeAll(c.name(), created, what -> {});
      failures.forEach(e::addSuppressed);
      throw e;
    }
  }

  /**
   * Closes {@code target}'s loop, then its reconciler. Both wait for the sync in flight (the loop
   * for its thread, up to 10 s more; the reconciler until the sync ends): one that did not reach a
   * safe point within the grace period (a source read or a provider call that does not return) is
   * waited for on a thread of its own, so that a stop takes the grace period, not 10 s more, and the
   * target's other resources still close now. The loop is closed there too, which interrupts the
   * sync's thread at once. Its store and source are closed by their own entries as well, which
   * report their failures.
   */
  private static void closeLoop(String target, ReconcileLoop loop, Reconciler reconciler, SyncSlots slots) {
    if (!slots.isRunning(target)) {
      try {
        loop.close();
      } finally {
        reconciler.close();
      }
      return;
    }
    Thread t = new Thread(() -> {
      try {
        loop.close();
      } catch (RuntimeException e) {
        // the stop has returned: this thread is the only one left to say it
        LOG.error("target {}: closing its reconcile loop failed: {}", target, e.toString(), e);
      }
      try {
        reconciler.close();
      } catch (RuntimeException e) {
        LOG.debug("target {}: closing its reconciler after its last sync failed (its store and source say why): {}",
            target, e.toString());
      }
    }, "gitops-close-" + target);
    t.setDaemon(true);
    t.start();
  }

  /** One resource of a target and how it closes, named as log lines and failures say it. */
  private record Closing(String what, Runnable close) {}

  /**
   * Closes every one of {@code resources} of {@code target} in order, each even when closing
   * another failed: each failure is logged naming the target and what failed, and returned.
   * {@code beforeClose} hears each one first (tests make a close fail through it).
   */
  private static List<RuntimeException> closeAll(String target, List<Closing> resources,
      Consumer<String> beforeClose) {
    List<RuntimeException> failures = new ArrayList<>();
    for (java.util.Iterator<Closing> it = resources.iterator(); it.hasNext(); ) {
      Closing r = it.next();
      try {
        beforeClose.accept(r.what());
        r.close().run();
        it.remove();  // closed: a stop tried again closes only what is still open
      } catch (RuntimeException e) {
        LOG.error("target {}: closing {} failed; the target's other resources are closed regardless: {}", target,
            r.what(), e.toString(), e);
        failures.add(new IllegalStateException("closing " + r.what() + " failed: " + e, e));
      }
    }
    return failures;
  }

  /**
   * {@code gate}, naming the thread each sync runs on after the target ({@code target web}), so
   * that every log line of the target's work says whose it is (the engine's own lines name a
   * revision or a resource, not the target). The thread is the loop's own, one per target, so the
   * name stays, and covers the loop's line about a failed sync written after the gate returns.
   */
  static ReconcileLoop.Gate named(String target, String store, ReconcileLoop.Gate gate) {
    String name = threadName(target);
    return (cancellation, sync) -> {
      Thread.currentThread().setName(name);
      try {
        return gate.run(cancellation, sync);
      } catch (StoreOwnerException e) {
        // the loop logs what the gate throws: in the agent's terms (the target's owner: and store: keys)
        throw (StoreOwnerException) TargetStoreOwnerException.of(target, e);
      } catch (StoreException e) {
        throw (StoreException) TargetStoreMissingException.of(target, store, e);  // the agent's advice, not the CLI's
      }
    };
  }

  /** The name of the thread a target's syncs run on. */
  static String threadName(String target) {
    return "target " + target;
  }

  /** The sync options a target's policies give. */
  static SyncOptions options(TargetConfig c) {
    SyncOptions o = SyncOptions.builder().prune(c.prune()).detectOnly(c.detectOnly()).adopt(c.adopt())
        .budget(SyncOptions.defaults().budget().withAllowEmpty(c.allowEmpty()))
        .execution(SyncOptions.defaults().execution().withCallTimeout(c.callTimeout()).withSyncTimeout(c.syncTimeout()))
        .build();
    if (c.maxDeletions() >= 0) {
      o = o.toBuilder().budget(o.budget().withMaxCount(c.maxDeletions())).build();
    }
    if (c.maxDeletionPercent() >= 0) {
      o = o.toBuilder().budget(o.budget().withMaxPercent(c.maxDeletionPercent())).build();
    }
    return o;
  }

  TargetConfig config() {
    return config;
  }

  TargetState state() {
    return state;
  }

  /** Asks for a sync now (as a webhook from Git would). */
  void trigger() {
    loop.trigger();
  }

  /**
   * Stops the target without pruning anything: no new sync, the one in flight cancelled at its
   * next safe point and waited for up to {@code grace}; then the loop, store, source, provider and
   * metrics close. Each of them is closed even when closing another failed; each failure is logged
   * naming the target and what failed, and thrown once all were attempted.
   *
   * @return whether the sync in flight (if any) ended within {@code grace}
   * @throws IllegalStateException naming the target and the first resource that failed to close,
   *     with the other failures suppressed in it
   */
  boolean stop(String reason, Duration grace) {
    state.cancelling(reason);  // first: the sync in flight ends as cancelled, not failed
    slots.stop(config.name(), reason);
    boolean idle;
    try {
      idle = slots.awaitIdle(config.name(), grace);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      idle = false;
    }
    if (!idle) {
      LOG.warn("target {}: its sync did not reach a safe point within {}; stopping it anyway", config.name(),
          Durations.human(grace));
    }
    state.stopped();  // a sync still running records no status and no metrics from now on
    List<RuntimeException> failures;
    synchronized (resources) {
      failures = closeAll(config.name(), resources, beforeClose);
    }
    if (!failures.isEmpty()) {
      IllegalStateException first = new IllegalStateException("target " + config.name() + " stopped (" + reason
          + ") but closing " + failures.size() + " of its resources failed, first: " + failures.get(0).getMessage()
          + "; see the log", failures.get(0));
      failures.subList(1, failures.size()).forEach(first::addSuppressed);
      throw first;
    }
    LOG.info("target {} stopped ({})", config.name(), reason);
    return idle;
  }

  /**
   * Tests only: called with what is about to close ({@code "its reconcile loop"}, {@code "its state
   * store ..."}, ...) before each close in {@link #stop}; throwing from it makes that close fail.
   */
  void beforeClose(Consumer<String> hook) {
    this.beforeClose = Objects.requireNonNull(hook, "hook");
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  /** The store holds hashes of secret values: its directory is the owner's alone. */
  private static void ownerOnlyDirectory(Path dir) {
    if (Files.isDirectory(dir)) {
      return;
    }
    try {
      Files.createDirectories(dir.toAbsolutePath().getParent());
      try {
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } catch (UnsupportedOperationException e) {
        // Not a POSIX file system: the store applies what protection it can itself.
        Files.createDirectories(dir);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the store directory " + dir + ": " + e.getMessage(), e);
    }
  }
}
