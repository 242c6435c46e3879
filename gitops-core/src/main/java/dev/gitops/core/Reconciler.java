package dev.gitops.core;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Action;
import dev.gitops.api.Cancellation;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldPath;
import dev.gitops.api.GitOpsException;
import dev.gitops.api.LiveVersion;
import dev.gitops.api.MergeRules;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.Plan;
import dev.gitops.api.PlanMismatchException;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SourceException;
import dev.gitops.api.State;
import dev.gitops.api.StoreException;
import dev.gitops.api.StoreOwnerException;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncListener;
import dev.gitops.api.SyncResult;
import dev.gitops.api.internal.SortedArrayMap;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.HistoryEntry;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.Source;
import dev.gitops.api.spi.StateStore;
import dev.gitops.api.spi.StoreLock;
import dev.gitops.api.spi.StoredResource;
import dev.gitops.api.spi.StoredState;
import dev.gitops.core.apply.ExecutionHooks;
import dev.gitops.core.apply.Executor;
import dev.gitops.core.plan.DeletionBudget;
import dev.gitops.core.decode.GlobDecoder;
import dev.gitops.core.decode.VariableSubstitution;
import dev.gitops.core.files.LocalFilesProvider;
import dev.gitops.core.internal.GuardedProvider;
import dev.gitops.core.internal.ProviderFailures;
import dev.gitops.core.internal.apply.AbandonedCalls;
import dev.gitops.core.internal.fs.RealPaths;
import dev.gitops.core.internal.plan.Along;
import dev.gitops.core.internal.plan.DeletionGuard;
import dev.gitops.core.internal.plan.LastApplied;
import dev.gitops.core.internal.plan.OutputReferences;
import dev.gitops.core.plan.PlanCodec;
import dev.gitops.core.internal.plan.PlanInput;
import dev.gitops.core.internal.plan.PlanOptions;
import dev.gitops.core.internal.plan.Planner;
import dev.gitops.core.internal.plan.PlanningUnits;
import dev.gitops.core.redact.Redactor;
import dev.gitops.core.source.Fingerprinted;
import dev.gitops.core.store.BatchedStateStore;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.core.store.InMemoryStateStore;
import dev.gitops.core.store.StoreBatch;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's front door: reads the desired state, observes the live state, plans with a
 * three-way merge against what it applied last time, applies in dependency order, and records
 * what it owns.
 *
 * <pre>{@code
 * try (Reconciler reconciler = Reconciler.builder()
 *     .source(GitSource.builder().url("https://example.com/config.git").ref("main").build())
 *     .provider(LocalFilesProvider.builder(Path.of("/srv/config")).build())
 *     .store(FileStateStore.open(Path.of("/var/lib/gitops")))
 *     .build()) {
 *   Plan plan = reconciler.plan();       // review it
 *   SyncResult result = reconciler.sync();
 * }
 * }</pre>
 *
 * <p>A reconciler is thread-safe; it runs one sync at a time (a second thread's call waits for
 * the first), and the store's lock keeps other processes off the same target. A listener must
 * not call {@link #plan}, {@link #sync}, {@link #apply}, {@link #destroy}, {@link #forget} or {@link #close()} of
 * the reconciler whose sync it hears: on the syncing thread that is an {@link
 * IllegalStateException}. Interrupting the syncing thread stops the sync like a cancellation; what
 * it did is still recorded, and the thread's interrupt flag is set when the call returns.
 *
 * <p><b>Ownership.</b> The reconciler owns the {@linkplain Builder#source source} and the
 * {@linkplain Builder#store store} handed to its builder: {@link #close()} closes both (a {@code
 * GitSource} without a cache directory deletes its temporary clone then), or, when the same
 * instance was handed to several reconcilers, the last of them to close does. Providers and listeners
 * stay the caller's: a provider may serve several reconcilers, so closing one never closes them.
 * A store belongs to the {@linkplain Builder#owner owner} whose sync first wrote it ({@link
 * StateStore#owner()}): {@link #plan}, {@link #sync}, {@link #apply}, {@link #destroy} and {@link #forget} of
 * another owner throw {@link StoreOwnerException} before anything is read, applied or recorded,
 * unless every provider of this reconciler {@linkplain Provider#marksObjects() marks its objects}
 * (owners then tell their objects apart by the marks and may share a store). For a store that
 * records no owner, a store instance an open reconciler of another owner holds is refused by
 * {@link Builder#build()} unless every provider of both marks its objects, since each would
 * delete what the other recorded. A listener that throws is logged once per sync (its further failures at debug) and
 * misses that event; the sync goes on.
 * Provider calls run on worker threads the reconciler keeps between syncs (an idle one ends after
 * 30 seconds); {@link #close()} ends them, a call it abandoned when its provider returns.
 *
 * <p><b>Events.</b> {@link #plan()} and {@link #sync()} each compute a plan and report it to the
 * listeners ({@link SyncEvent.Planned}, then a {@link SyncEvent.DriftDetected} per drifted key):
 * a {@code plan()} followed by a {@code sync()} reports the same drift twice. Every drift event
 * carries the {@linkplain Plan#id() id} of the plan that found it, so a listener that wants each
 * drift once keeps the {@code (planId, key)} pairs it has seen: when nothing moved between the
 * two calls, both plans have the same id; when something did, the second report is news.
 */
public final class Reconciler implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Reconciler.class);

  /** What {@link #destroy} does with owned objects. */
  public enum DeletionPolicy {
    /** Delete every owned object (in reverse dependency order, with the same guards). */
    DELETE,
    /** Leave the objects, forget them from the inventory. */
    ORPHAN
  }

  private final Source source;
  private final Map<String, Provider> providers;
  private final StateStore store;
  private final String owner;
  private final SyncOptions options;
  private final List<SyncListener> listeners;
  private final Map<String, String> variables;
  /** Decoders given for path globs; the source tries them before the providers' decoders. */
  private final List<Decoder> globDecoders;
  private final Planner planner;
  /** One for the reconciler's life: it remembers calls it abandoned that may still land. */
  private final Executor executor;
  /** The planning calls' bounds; it remembers planning calls it abandoned that have not returned. */
  private final ProviderCalls calls;
  private final ReentrantLock syncLock = new ReentrantLock();
  /** Run once this reconciler is closed (a loop around it stops); guarded by itself. */
  private final List<Runnable> closeHooks = new ArrayList<>();
  /**
   * What the {@link #CLEANER} releases when this reconciler becomes unreachable without {@link
   * #close()}; null until {@link Builder#build()} registered it.
   */
  private Unclosed unclosed;
  private java.lang.ref.Cleaner.Cleanable cleanable;
  /** Whether the sync holding {@link #syncLock} was interrupted: its thread's flag is set again at its end. */
  private boolean reinterrupt;
  private volatile boolean closed;

  private Reconciler(Builder b) {
    this.source = b.source;
    // every hook the engine calls fails as a ProviderException naming provider, method and key
    this.providers = GuardedProvider.guardAll(b.providers);
    this.store = b.store;
    this.owner = b.owner;
    this.options = b.options;
    this.listeners = new CopyOnWriteArrayList<>(b.listeners);
    this.variables = Map.copyOf(b.variables);
    this.globDecoders = List.copyOf(b.globDecoders);
    this.planner = new Planner(owner, options.planOptions());
    this.executor = new Executor(options.execution());
    this.calls = new ProviderCalls(options.execution().callTimeout());
  }

  /**
   * The open reconcilers of each store instance, weakly both ways (a reconciler dropped without
   * {@link #close()}, and then its store, are collected as before). A store that records no owner
   * (see {@link #checkStoreOwner}) is read by every owner as if every record in it were its own.
   * Owners whose providers all mark objects tell each other's objects apart by the marks and may
   * share one store; without marks the second owner would plan every key the first recorded as
   * removed from its Git and delete it, so {@link Builder#build()} refuses that.
   */
  private static final Map<StateStore, List<Holder>> OPEN_BY_STORE = new java.util.WeakHashMap<>();

  /** An open reconciler of a store: its owner and the first of its providers that marks nothing (null: all mark). */
  private record Holder(java.lang.ref.WeakReference<Reconciler> reconciler, String owner, String unmarked) {}

  /** Registers this reconciler on its store, refusing another owner's open reconciler there unless all mark. */
  private void register() {
    String unmarked = unmarkedProvider();
    synchronized (OPEN_BY_STORE) {
      List<Holder> open = OPEN_BY_STORE.computeIfAbsent(store, s -> new ArrayList<>());
      open.removeIf(h -> h.reconciler().get() == null);
      for (Holder other : open) {
        if (!other.owner().equals(owner) && (unmarked != null || other.unmarked() != null)) {
          String provider = unmarked != null ? unmarked : other.unmarked();
          String providerOwner = unmarked != null ? owner : other.owner();
          throw new IllegalStateException("reconciler '" + owner + "': its store (" + store.getClass().getName()
              + ") is held by the open reconciler of owner '" + other.owner() + "', and provider '" + provider
              + "' of owner '" + providerOwner + "' does not mark its objects: each owner would take the other's"
              + " records as its own and delete what it does not declare. Give each owner a store of its own, or"
              + " close the other reconciler first");
        }
      }
      Holder me = new Holder(new java.lang.ref.WeakReference<>(this), owner, unmarked);
      open.add(me);
      OPEN_BY_SOURCE.computeIfAbsent(source, s -> new ArrayList<>()).add(me);
      unclosed = new Unclosed(owner, storeName(), source, store, executor, me);
      cleanable = CLEANER.register(this, unclosed);
    }
  }

  /** Runs what reconcilers dropped without {@link #close()} leave behind; one daemon thread. */
  private static final java.lang.ref.Cleaner CLEANER = java.lang.ref.Cleaner.create();

  /**
   * Releases what a reconciler dropped without {@link #close()} held: its place among the holders
   * of its store and source (closing each when it was the last holder, as {@link #close()} would),
   * and its worker threads. It references what the reconciler held, never the reconciler itself
   * (which could then never become unreachable); {@link #close()} marks it done.
   */
  private static final class Unclosed implements Runnable {
    private final String owner;
    private final String storeName;
    private final Source source;
    private final StateStore store;
    private final Executor executor;
    private final Holder holder;
    private volatile boolean closed;

    Unclosed(String owner, String storeName, Source source, StateStore store, Executor executor, Holder holder) {
      this.owner = owner;
      this.storeName = storeName;
      this.source = source;
      this.store = store;
      this.executor = executor;
      this.holder = holder;
    }

    @Override
    public void run() {
      if (closed) {
        return;  // closed as it should be: deregistered from the cleaner
      }
      boolean lastOfStore = release(OPEN_BY_STORE, store, holder);
      boolean lastOfSource = release(OPEN_BY_SOURCE, source, holder);
      LOG.warn("reconciler '{}' of store {} was dropped without close(): releasing what it held now ({}, {}); close"
          + " a reconciler when done with it (try-with-resources)", owner, storeName,
          lastOfStore ? "the store is closed" : "the store stays open for another reconciler",
          lastOfSource ? "the source " + source.describe() + " is closed"
              : "the source stays open for another reconciler");
      try {
        RuntimeException failure = closeHeld(source, lastOfSource, store, lastOfStore);
        if (failure != null) {
          LOG.warn("reconciler '{}' was dropped without close(), and closing what it held failed: {}", owner,
              failure.toString(), failure);
        }
      } finally {
        executor.close();
      }
    }
  }

  /**
   * Closes {@code source} (when it is {@link AutoCloseable}) if {@code lastOfSource}, then {@code
   * store} if {@code lastOfStore}, the store even when the source failed; returns the failure (the
   * source's first, the store's suppressed in it), or null. For {@link #close()} and the cleaner.
   */
  private static RuntimeException closeHeld(Source source, boolean lastOfSource, StateStore store,
      boolean lastOfStore) {
    RuntimeException failure = null;
    try {
      if (lastOfSource && source instanceof AutoCloseable c) {
        c.close();
      }
    } catch (Exception e) {
      failure = e instanceof RuntimeException r ? r
          : new IllegalStateException("closing the source " + source.describe() + " failed: " + e.getMessage(), e);
    }
    try {
      if (lastOfStore) {
        store.close();
      }
    } catch (RuntimeException s) {
      if (failure == null) {
        failure = s;
      } else {
        failure.addSuppressed(s);
      }
    }
    return failure;
  }

  /**
   * Runs {@code hook} once this reconciler is closed, on the thread that closed it, after
   * everything it owns was closed; at once when it is closed already. Returns what removes the
   * hook again. For {@link ReconcileLoop}: a loop stops when its reconciler is closed.
   */
  Runnable onClose(Runnable hook) {
    Objects.requireNonNull(hook, "hook");
    synchronized (closeHooks) {
      if (!closed) {
        closeHooks.add(hook);
        return () -> {
          synchronized (closeHooks) {
            closeHooks.remove(hook);
          }
        };
      }
    }
    hook.run();
    return () -> { };
  }

  /**
   * Whether {@link #close()} was called: every later {@link #plan}, {@link #sync}, {@link #apply},
   * {@link #destroy} and {@link #history} throws {@link IllegalStateException}.
   *
   * <pre>{@code
   * if (!reconciler.isClosed()) {
   *   reconciler.sync();
   * }
   * }</pre>
   */
  public boolean isClosed() {
    return closed;
  }

  /**
   * The open reconcilers of each source instance, as {@link #OPEN_BY_STORE} for stores: a source
   * handed to several builders is closed by the last of them to close.
   */
  private static final Map<Source, List<Holder>> OPEN_BY_SOURCE = new java.util.WeakHashMap<>();

  /**
   * Drops this reconciler from the open reconcilers of {@code held} (its store or its source) in
   * {@code registry}; returns whether no other open reconciler holds it, so that this one closes it.
   */
  private static <K> boolean release(Map<K, List<Holder>> registry, K held, Holder me) {
    synchronized (OPEN_BY_STORE) {
      List<Holder> open = registry.get(held);
      if (open == null) {
        return true;
      }
      open.removeIf(h -> h == me || h.reconciler().get() == null);
      if (open.isEmpty()) {
        registry.remove(held);
        return true;
      }
      return false;
    }
  }

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** The planner, for tests in this package (merge counts). */
  Planner planner() {
    return planner;
  }

  /** The owner id this reconciler writes into marks. */
  public String owner() {
    return owner;
  }

  /** The options. */
  public SyncOptions options() {
    return options;
  }

  /** The store. */
  public StateStore store() {
    return store;
  }

  /** Computes the plan for the head of the source without applying or recording anything. */
  public Plan plan() {
    return plan(null);
  }

  /** Computes the plan for {@code pinnedRevision} (null: the head) without applying or recording anything. */
  public Plan plan(String pinnedRevision) {
    requireNotInSync("plan");
    return locked(() -> {
      checkStoreOwner();
      return prepare(pinnedRevision, new Cancellation(), null, planner).plan;
    });
  }

  /** Reads, plans, guards, applies and records the head of the source. */
  public SyncResult sync() {
    return sync(null, new Cancellation());
  }

  /**
   * Syncs {@code pinnedRevision} (null: the head of the source), stopping when {@code
   * cancellation} is cancelled.
   */
  public SyncResult sync(String pinnedRevision, Cancellation cancellation) {
    Objects.requireNonNull(cancellation, "cancellation");
    requireNotInSync("sync");
    AtomicReference<String> planned = new AtomicReference<>(pinnedRevision);
    return reported(planned, () -> writingLocked(() -> {
      // The caller's token may outlive many syncs: what providers register on this sync's child
      // is dropped when the sync ends.
      try (Cancellation run = cancellation.child()) {
        Instant start = Instant.now();
        checkStoreOwner();
        Prepared p = prepare(pinnedRevision, run, null, planner);
        planned.set(p.plan.revision());
        return execute(p, run, start, false);
      }
    }));
  }

  /**
   * Runs a reviewed plan (one from {@link #plan()}, or read back with {@code PlanCodec.fromJson}):
   * checks it against its own id, recomputes it from its revision and the current store and live
   * state, and runs only if the plan computed now equals it change for change — so what runs is
   * exactly what was reviewed, and an edited plan file runs nothing.
   *
   * <pre>{@code
   * reconciler.apply(PlanCodec.fromJson(Files.readString(Path.of("plan.json"))));
   * }</pre>
   *
   * @throws PlanMismatchException naming the first differing key and field, when the plan was
   *     edited or no longer holds; nothing is applied then
   */
  public SyncResult apply(Plan reviewed) {
    Objects.requireNonNull(reviewed, "plan");
    requireNotInSync("apply");
    AtomicReference<String> planned = new AtomicReference<>(reviewed.revision());
    return reported(planned, () -> writingLocked(() -> {
      Instant start = Instant.now();
      Cancellation cancellation = new Cancellation();
      checkStoreOwner();
      Prepared p = prepare(reviewed.revision(), cancellation, null, planner);
      planned.set(p.plan.revision());
      PlanCodec.checkReviewed(reviewed, p.plan, p.secretKey);
      return execute(p, cancellation, start, false);
    }));
  }

  /**
   * Removes everything this reconciler owns, honouring {@code policy}, with the same ordering and guards.
   * Recorded in {@link #history()} at the revision {@code destroy}, as an entry of {@link
   * HistoryEntry.Operation#DESTROY} or {@link HistoryEntry.Operation#DESTROY_ORPHAN} (no rollback target).
   *
   * <pre>{@code
   * SyncResult gone = reconciler.destroy(Reconciler.DeletionPolicy.ORPHAN);  // forget, leave the objects
   * }</pre>
   *
   * @throws NullPointerException naming {@code policy} when it is null, before anything is read or deleted
   */
  public SyncResult destroy(DeletionPolicy policy) {
    Objects.requireNonNull(policy, "policy");
    requireNotInSync("destroy");
    return reported(new AtomicReference<>(), () -> writingLocked(() -> {
      Instant start = Instant.now();
      Cancellation cancellation = new Cancellation();
      Planner teardown = new Planner(owner, new PlanOptions(true, false, false, false, options.budget().withAllowEmpty(true)));
      State nothing = new State("destroy", new TreeMap<>(), false, false);
      checkStoreOwner();
      Prepared p = prepare(null, cancellation, nothing, teardown);
      if (policy == DeletionPolicy.ORPHAN) {
        if (options.dryRun()) {
          // as a dry run of a sync: planned, nothing written (no history entry of a forget that did not happen)
          SyncResult r = new SyncResult(p.plan.revision(), p.plan, SyncResult.Status.PLANNED, new TreeMap<>(),
              Duration.between(start, Instant.now()), "");
          emit(new SyncEvent.Finished(p.plan.revision(), r));
          return r;
        }
        claimStore();
        StoreBatch.Builder forgotten = StoreBatch.builder();
        p.stored.inventory().keySet().forEach(forgotten::forget);
        p.stored.pending().keySet().stream().filter(k -> !p.stored.inventory().containsKey(k))
            .forEach(forgotten::forget);
        forgotten.build().writeTo(store);
        Map<ResourceKey, Outcome> outcomes = new TreeMap<>();
        p.stored.inventory().keySet().forEach(k -> outcomes.put(k, Outcome.skipped("orphaned: left in place, forgotten")));
        return finish(p, outcomes, start, HistoryEntry.Operation.DESTROY_ORPHAN, "orphaned everything; ");
      }
      return execute(p, cancellation, start, true);
    }));
  }

  /**
   * Stops owning {@code keys} without touching their live objects, like {@code terraform state rm}:
   * for each key a provider that {@linkplain Provider#marksObjects() marks its objects} first
   * removes this owner's mark ({@link Provider#unmark}), so no later sync finds the object again as
   * an orphan or rebuilds it into a lost store; then every key whose mark is gone (or whose provider
   * marks nothing) is dropped from the store's inventory and pending records in one batch. The next
   * sync neither deletes nor recreates a forgotten object. Unlike {@link #destroy
   * destroy(DeletionPolicy.ORPHAN)} it forgets only the keys named, and removes their marks.
   *
   * <pre>{@code
   * // app.yaml was removed from Git; keep the live file, stop owning it
   * SyncResult r = reconciler.forget(List.of(ResourceKey.parse("files:file::app.yaml")));
   * r.failures().forEach((k, o) -> log.warn("still owned: {}: {}", k, o.message()));
   * }</pre>
   *
   * <p>Each key gets an outcome: UNCHANGED when it was forgotten (its change in the result's plan is
   * a {@link Action#FORGET}), PERMANENT with the provider's message when its mark could not be
   * removed (the key stays owned: run the forget again; the other keys go on), or when its provider
   * marks objects, or plans with a {@linkplain Provider#planner() planner} and its own record of
   * them, but does not implement {@link Provider#unmark}. The forget is recorded in {@link
   * #history()} at the head's revision, as an entry of {@link HistoryEntry.Operation#FORGET} (no
   * rollback target), and the store's last applied revision stays.
   * With {@link SyncOptions#dryRun()} the keys are checked and the plan returned ({@link
   * SyncResult.Status#PLANNED}): no mark is removed and nothing is written.
   *
   * @throws IllegalArgumentException before anything is written or unmarked, naming the keys: when
   *     {@code keys} is empty, when a key is not in the store's inventory or pending records, when the
   *     source at its head still declares a key (the next sync would adopt or create it again: remove
   *     it from Git first), or when a key's provider is not one of this reconciler's
   * @throws StoreOwnerException when the store belongs to another owner, as {@link #sync()} does
   * @throws StoreException when the store cannot be written ({@link StateStore#checkWritable}: a file
   *     store opened read-only or whose directory refuses writes), unless it is a dry run
   */
  public SyncResult forget(Collection<ResourceKey> keys) {
    Objects.requireNonNull(keys, "keys");
    SortedSet<ResourceKey> asked = new TreeSet<>();
    for (ResourceKey k : keys) {
      asked.add(Objects.requireNonNull(k, "keys holds a null key"));
    }
    if (asked.isEmpty()) {
      throw new IllegalArgumentException("reconciler '" + owner + "': forget() was given no keys: name the keys to"
          + " stop owning");
    }
    requireNotInSync("forget");
    AtomicReference<String> planned = new AtomicReference<>();
    return reported(planned, () -> writingLocked(() -> {
      Instant start = Instant.now();
      Cancellation cancellation = new Cancellation();
      checkStoreOwner();
      NoChangeFastPath.Loaded loaded = NoChangeFastPath.load(source, store, null);
      StoredState stored = loaded.stored();
      java.util.function.Predicate<ResourceKey> unrecorded = k -> !stored.inventory().containsKey(k)
          && !stored.pending().containsKey(k);
      refuse(asked, unrecorded.and(this::plannedByItsProvider), "an object its provider's own planner manages and"
          + " records (Terraform's state), not the store: it is not forgotten here; stop managing it there (for"
          + " Terraform: a removed block with destroy = false, or 'terraform state rm' in its working directory)");
      refuse(asked, unrecorded,
          "not owned by '" + owner + "' (not in the store's inventory or pending records), so there is nothing to"
          + " forget; see the keys 'gitops plan' or 'gitops status' print");
      refuse(asked, k -> !providers.containsKey(k.provider()), "of a provider this reconciler does not have (it has "
          + providers.keySet() + "): its mark could not be removed; add the provider, or use destroy(ORPHAN)");
      // the source in full (not the store's records): whether Git declares a key is the question
      Source.ReadRequest request = readRequest(null, cancellation).withPreviousRevision(stored.lastAppliedRevision());
      State desired = readSource(request, loaded, false).state();
      planned.set(desired.revision());
      refuse(asked, desired.resources()::containsKey, "still declared in Git at " + desired.revision()
          + ": the next sync would adopt or create it again; remove it from Git first, then forget it");
      Plan plan = forgetPlan(desired.revision(), asked, stored);
      emit(new SyncEvent.Planned(plan.revision(), plan));
      Prepared p = new Prepared(desired, stored, plan, null, null, Map.of(), Set.of(), null);
      if (options.dryRun()) {
        SyncResult r = new SyncResult(plan.revision(), plan, SyncResult.Status.PLANNED, new TreeMap<>(), Duration
            .between(start, Instant.now()), "");
        emit(new SyncEvent.Finished(plan.revision(), r));
        return r;
      }
      claimStore();
      Map<ResourceKey, Outcome> outcomes = unmarkAll(asked, context(desired.revision(), cancellation));
      StoreBatch.Builder forgotten = StoreBatch.builder();
      outcomes.forEach((k, o) -> {
        if (o.isOk()) {
          forgotten.forget(k);
        }
      });
      StoreBatch batch = forgotten.build();
      if (!batch.ops().isEmpty()) {
        batch.writeTo(store);
        quiet = null;  // the store moved: nothing remembered of an earlier plan stands
      }
      LOG.info("reconciler '{}' forgot {} of {} keys at {}", owner, batch.ops().size(), asked.size(),
          desired.revision());
      return finish(p, outcomes, start, HistoryEntry.Operation.FORGET, "forgot " + batch.ops().size() + " of "
          + asked.size() + "; ");
    }));
  }

  /**
   * Whether {@code key} is of a provider of this reconciler whose own planner manages it (a
   * Terraform resource, which Terraform's state records and the store does not); false when the
   * provider cannot say.
   */
  private boolean plannedByItsProvider(ResourceKey key) {
    Provider p = providers.get(key.provider());
    try {
      return p != null && p.planner().map(planner -> planner.manages(key)).orElse(false);
    } catch (RuntimeException e) {
      LOG.debug("provider '{}' cannot say whether its planner manages {}: {}", key.provider(), key, e.toString());
      return false;  // then refused as not owned, which it is not in the store either
    }
  }

  /**
   * Whether forgetting a key of {@code p} needs {@link Provider#unmark}: when it marks its objects
   * (its mark would bring the key back), or plans with a planner of its own (Terraform: its own
   * state records the object, and its next plan would destroy what is no longer declared).
   */
  private static boolean keepsOwnRecord(Provider p) {
    return p.marksObjects() || p.planner().isPresent();
  }

  /** Throws an {@link IllegalArgumentException} naming each key of {@code keys} that {@code bad} holds for. */
  private void refuse(SortedSet<ResourceKey> keys, java.util.function.Predicate<ResourceKey> bad, String why) {
    List<ResourceKey> refused = keys.stream().filter(bad).toList();
    if (!refused.isEmpty()) {
      throw new IllegalArgumentException("reconciler '" + owner + "': nothing was forgotten: "
          + (refused.size() == 1 ? "key " + refused.get(0) + " is " : refused.size() + " keys are ") + why
          + (refused.size() == 1 ? "" : " (" + refused + ")"));
    }
  }

  /** The plan of a forget: a FORGET of each key, its last-applied document as the store holds it. */
  private Plan forgetPlan(String revision, SortedSet<ResourceKey> keys, StoredState stored) {
    List<Change> changes = new ArrayList<>();
    for (ResourceKey k : keys) {
      StoredResource applied = stored.inventory().get(k);
      Change.Builder c = Change.builder(k, Action.FORGET).reason("forgotten: its live object is left as it is and no"
          + " longer owned");
      if (applied != null) {
        c.lastApplied(applied.resource());
      }
      changes.add(c.build());
    }
    TreeMap<String, String> opts = new TreeMap<>();
    opts.put("operation", "forget");
    opts.put("owner", owner);
    Plan plan = new Plan("", revision, changes, new TreeMap<>(), new TreeMap<>(variables), opts, new TreeMap<>(),
        new TreeSet<>());
    return plan.withId(PlanCodec.id(plan, store.secretKey()));
  }

  /**
   * Removes this owner's mark from each key's object where its provider marks objects, and returns
   * each key's outcome: UNCHANGED when its mark is gone (or it has none), a failure naming the
   * provider's message when not. A provider that cannot unmark is asked once; the rest of its keys
   * fail as its first did.
   */
  private Map<ResourceKey, Outcome> unmarkAll(SortedSet<ResourceKey> keys, CallContext ctx) {
    Map<ResourceKey, Outcome> outcomes = new TreeMap<>();
    Map<String, Outcome> cannot = new HashMap<>();
    boolean stopped = false;
    for (ResourceKey k : keys) {
      Provider p = providers.get(k.provider());
      Outcome refused = cannot.get(p.id());
      if (refused == null) {
        try {
          if (!keepsOwnRecord(p)) {
            outcomes.put(k, Outcome.unchanged());
            continue;
          }
        } catch (RuntimeException e) {
          refused = Outcome.permanentFailure("not forgotten: provider '" + p.id() + "' cannot say whether it marks"
              + " its objects or plans with its own record of them: " + e.getMessage(), e);
          cannot.put(p.id(), refused);
        }
      }
      if (refused != null) {
        outcomes.put(k, refused);
        continue;
      }
      if (stopped || Thread.interrupted()) {
        // the flag is set again once the store's lock is released: the store is still written first
        stopped = true;
        reinterrupt = true;
        outcomes.put(k, Outcome.unknown(k + ": not forgotten: the forget was interrupted before its mark was removed"));
        continue;
      }
      try {
        calls.bounded(p, "unmark", ctx, c -> {
          p.unmark(k, owner, c);
          return null;
        });
        outcomes.put(k, Outcome.unchanged());
        LOG.debug("{}: provider '{}' removed the mark of owner '{}'", k, p.id(), owner);
      } catch (UnsupportedOperationException e) {
        Outcome o = Outcome.permanentFailure("not forgotten: provider '" + p.id() + "' " + (p.marksObjects()
            ? "marks its objects but cannot remove its mark (Provider.unmark: " + e.getMessage() + "), which would"
            + " bring the key back as an orphan"
            : "plans with its own record of the objects it manages but cannot drop the key from it (Provider.unmark: "
            + e.getMessage() + "), so its next plan would destroy the object") + "; remove the object from Git to"
            + " delete it, or from the provider's own record by its own means to keep it", e);
        cannot.put(p.id(), o);
        outcomes.put(k, o);
      } catch (Cancellation.CancelledException e) {
        // its unmark may still land: the key stays owned, and a forget again finishes it
        outcomes.put(k, Outcome.unknown(k + ": not forgotten: interrupted while its mark was being removed"));
        stopped = true;
        reinterrupt |= Thread.interrupted();
      } catch (RuntimeException | LinkageError | AssertionError e) {
        LOG.warn("{}: provider '{}' could not remove the mark of owner '{}': {}", k, p.id(), owner, e.toString());
        outcomes.put(k, Outcome.permanentFailure(k + ": not forgotten: provider '" + p.id()
            + "' could not remove its mark: " + e.getMessage(), e));
      }
    }
    return outcomes;
  }

  /** Past syncs, newest first. */
  public List<HistoryEntry> history() {
    requireOpen();
    return store.history();
  }

  /**
   * Closes what this reconciler owns: its source (when it is {@link AutoCloseable}) and its store,
   * after the sync in flight, if any, has returned. A source or store instance handed to several
   * reconcilers' builders is closed by the last of them to close, so the others keep working.
   * Later calls of {@link #plan}, {@link #sync}, {@link #apply}, {@link #destroy} and {@link
   * #history} throw {@link IllegalStateException} naming the reconciler; closing again does
   * nothing. Providers and listeners are not closed (see the class comment).
   *
   * <pre>{@code
   * Reconciler a = Reconciler.builder().source(gitSource).provider(provider).store(store).owner("a").build();
   * Reconciler b = Reconciler.builder().source(gitSource).provider(provider).store(store).owner("a").build();
   * a.close();   // store and source stay open: b holds them
   * b.sync();
   * b.close();   // closes them
   * }</pre>
   *
   * @throws IllegalStateException when called by a listener on the thread of this reconciler's
   *     sync in flight (it would wait for itself): close it once the sync has returned
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    requireNotInSync("close");
    syncLock.lock();
    try {
      if (closed) {
        return;
      }
      synchronized (closeHooks) {
        closed = true;  // under the hooks' lock: a hook added from now on runs at once
      }
      if (unclosed != null) {
        unclosed.closed = true;
        cleanable.clean();  // closed as it should be: nothing left for the cleaner
      }
      // a store or source another open reconciler holds stays open for it: the last to close closes it
      Holder me = unclosed == null ? null : unclosed.holder;
      boolean lastOfStore = release(OPEN_BY_STORE, store, me);
      boolean lastOfSource = release(OPEN_BY_SOURCE, source, me);
      // the store is closed even when the source's close fails; that failure is reported after it
      RuntimeException failure = closeHeld(source, lastOfSource, store, lastOfStore);
      if (failure != null) {
        throw failure;
      }
      LOG.debug("reconciler '{}' closed; its source {} {} and its store {}", owner, source.describe(),
          lastOfSource ? "is closed" : "stays open for another reconciler",
          lastOfStore ? "is closed" : "stays open for another reconciler");
    } finally {
      // its worker threads end (a call it abandoned keeps its thread until the provider returns)
      executor.close();
      syncLock.unlock();
      runCloseHooks();
    }
  }

  /** Runs the hooks {@link #onClose} added, once; one that throws is logged and the others still run. */
  private void runCloseHooks() {
    List<Runnable> hooks;
    synchronized (closeHooks) {
      hooks = List.copyOf(closeHooks);
      closeHooks.clear();
    }
    for (Runnable hook : hooks) {
      try {
        hook.run();
      } catch (RuntimeException e) {
        LOG.warn("reconciler '{}': a hook run at its close failed: {}", owner, e.toString(), e);
      }
    }
  }

  /**
   * Refuses a call a listener (or anything else on the syncing thread) makes into the sync in
   * flight: the sync lock would let it in, and it would find the store locked by its own sync, or
   * close the store under it.
   */
  private void requireNotInSync(String call) {
    if (syncLock.isHeldByCurrentThread()) {
      throw new IllegalStateException("reconciler '" + owner + "': " + call + "() was called from within one of its"
          + " own syncs, on the thread running it (from a listener?); call it once that sync has returned");
    }
  }

  /**
   * {@link #locked} for a call that writes records: the store is checked writable first ({@link
   * StateStore#checkWritable}, unless it is a dry run), before it is locked, read or planned
   * against. Every key would otherwise fail its pending record one by one, or a change already
   * applied would find no place to be recorded. Inside {@link #reported}, so that listeners see
   * the refusal as the sync's {@link SyncEvent.Aborted}.
   */
  private SyncResult writingLocked(Work<SyncResult> work) {
    requireOpen();  // a closed reconciler says so itself, not through the store it closed
    if (!options.dryRun()) {
      store.checkWritable();
    }
    return locked(work);
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("reconciler '" + owner + "' is closed");
    }
  }

  /** Adds a listener. */
  public void addListener(SyncListener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  // ---------------------------------------------------------------------------------------------

  private interface Work<T> {
    T run();
  }

  /**
   * Runs a sync; when it throws, listeners hear {@link SyncEvent.Aborted} before the caller gets the
   * exception. An {@link Error} (a provider's assertion, a class it cannot load, its stack overflow)
   * reaches them wrapped in a {@link GitOpsException}, and the caller gets the error itself.
   */
  private SyncResult reported(AtomicReference<String> planned, Work<SyncResult> work) {
    try {
      return work.run();
    } catch (RuntimeException e) {
      String revision = planned.get();
      emit(new SyncEvent.Aborted(revision == null ? "" : revision, e));
      throw e;
    } catch (Error e) {
      String revision = planned.get();
      try {
        emit(new SyncEvent.Aborted(revision == null ? "" : revision,
            new GitOpsException("the sync ended with an error: " + e, e)));
      } catch (Throwable t) {
        // out of memory again, say: the caller must still get the error that ended the sync
        e.addSuppressed(t);
      }
      throw e;
    }
  }

  private <T> T locked(Work<T> work) {
    syncLock.lock();
    synchronized (listenerFailures) {
      listenerFailures.clear();  // a listener's failures are said once per sync
    }
    try {
      try (StoreLock ignored = lockStore()) {
        return work.run();
      }
    } finally {
      if (reinterrupt) {
        reinterrupt = false;
        Thread.currentThread().interrupt();
      }
      syncLock.unlock();
    }
  }

  /**
   * Under the store's lock, before anything is read from the store or written to it: refuses a
   * store another owner's sync wrote (its records would read as this owner's, and what this owner
   * does not declare would be dropped or deleted), unless every provider marks its objects, so
   * that owners tell their objects apart by the marks and may share a store (the files provider's
   * default store, shared by every owner of a target). Notes whether the store records no owner
   * yet, for {@link #claimStore()}.
   *
   * @throws StoreOwnerException naming the store and both owners
   */
  private void checkStoreOwner() {
    Optional<String> recorded = store.owner();
    unclaimed = recorded.isEmpty();
    if (recorded.isPresent() && !recorded.get().equals(owner)) {
      String unmarked = unmarkedProvider();
      if (unmarked == null) {
        LOG.debug("reconciler '{}': store {} belongs to owner '{}'; shared, since every provider marks its objects",
            owner, storeName(), recorded.get());
        return;
      }
      // the exception says it all to the caller; this only says which provider kept the store from being shared
      LOG.debug("reconciler '{}': refused store {} of owner '{}' (provider '{}' does not mark its objects)", owner,
          storeName(), recorded.get(), unmarked);
      throw new StoreOwnerException(storeName(), recorded.get(), owner);
    }
  }

  /**
   * Claims a store that records no owner ({@link #checkStoreOwner()} found none under this lock)
   * for this owner: called by a sync, apply or destroy once it is about to write the store, after
   * its plan was made, checked against a reviewed one and let through by the guards. A sync that
   * fails or is refused before then (an unreadable source, a guard, a stale reviewed plan) writes
   * no record and so claims nothing: the store stays free for the owner whose records it holds.
   */
  private void claimStore() {
    if (unclaimed) {
      store.claimOwner(owner);
      unclaimed = false;
    }
  }

  /** Whether the store recorded no owner when this sync checked it (under the sync lock and the store's). */
  private boolean unclaimed;

  /** The first provider (by id) that does not mark its objects; null when all do. */
  private String unmarkedProvider() {
    return providers.values().stream().filter(p -> !p.marksObjects()).map(Provider::id).sorted()
        .findFirst().orElse(null);
  }

  /** The store as its user knows it: a file store by its directory. */
  private String storeName() {
    return store instanceof FileStateStore f ? f.directory().toString() : store.toString();
  }

  /** The store's lock, once this reconciler is known to be open (checked under the sync lock). */
  private StoreLock lockStore() {
    requireOpen();
    if (Thread.currentThread().isInterrupted()) {
      // an interrupt stops a sync like a cancellation (the class javadoc); here, before anything was done
      throw new Cancellation.CancelledException("the calling thread is interrupted: nothing was read or done");
    }
    try {
      return store.lock(options.lockTimeout());
    } catch (StoreException e) {
      if (e.getCause() instanceof InterruptedException && Thread.currentThread().isInterrupted()) {
        throw new Cancellation.CancelledException("interrupted while waiting for the store's lock: nothing was done");
      }
      throw e;
    }
  }

  /**
   * Everything computed before anything is applied. {@code desired} holds the resources as planned
   * (output references known at plan time already resolved); {@code units} what planning
   * providers planned for themselves; {@code proven} the keys observed as their desired document
   * because their version token is the one of their in-sync proof (that proof stands as it is).
   */
  private record Prepared(State desired, StoredState stored, Plan plan, byte[] secretKey, PlanningUnits units,
      Map<ResourceKey, Observation> observations, Set<ResourceKey> proven, NoChangeFastPath.Read read) {}

  private Prepared prepare(String pinned, Cancellation cancellation, State override, Planner planWith) {
    return prepare(pinned, cancellation, override, planWith, true);
  }

  /** {@code fast}: whether the desired state may come from the store's records ({@link NoChangeFastPath}). */
  private Prepared prepare(String pinned, Cancellation cancellation, State override, Planner planWith, boolean fast) {
    Source.ReadRequest request = override != null ? null : readRequest(pinned, cancellation);
    NoChangeFastPath.Loaded loaded = NoChangeFastPath.load(source, store, fast ? request : null);
    StoredState stored = loaded.stored();
    if (request != null) {
      // what the store last applied: the source flags a new head that does not descend from it (a
      // force push) even in a new process, which never read that revision itself
      request = request.withPreviousRevision(stored.lastAppliedRevision());
    }
    NoChangeFastPath.Read read = override != null ? new NoChangeFastPath.Read(override, null, false)
        : readSource(request, loaded, fast);
    NoChangeFastPath.rememberDigests(store, read, planWith);
    State desired = read.state();
    cancellation.throwIfCancelled();
    CallContext ctx = context(desired.revision(), cancellation);

    Map<String, Set<ResourceKey>> keysByProvider = keysByProvider(desired.resources());
    for (ResourceKey k : storedNotDesired(desired.resources(), stored)) {
      addKey(keysByProvider, k);
    }

    List<ResourceKey> markedKeys = new ArrayList<>();
    Map<String, String> unobserved = new TreeMap<>();
    for (Provider p : providers.values()) {
      if (!p.marksObjects()) {
        continue;
      }
      Collection<ResourceKey> mine;
      try {
        mine = markedKeys(p, calls.bounded(p, "listMarked", ctx, c -> p.listMarked(owner, c)), desired.revision(),
            unobserved);
      } catch (Cancellation.CancelledException e) {
        throw e;
      } catch (RuntimeException e) {
        // Orphan detection for this provider is UNKNOWN: the plan is incomplete (nothing is
        // deleted or replaced) and says why; every key it can observe is still synced.
        LOG.warn("provider '{}' failed to list objects marked by '{}' at {}: {}", p.id(), owner, desired.revision(),
            e.toString());
        unobserved.put("marked objects of provider '" + p.id() + "'", "listMarked failed: " + e.getMessage());
        continue;
      }
      if (stored.fresh() && !mine.isEmpty() && !options.rebuildStore()) {
        throw new StoreException("the state store is missing or empty (" + storeName() + "), but " + mine.size() + (mine.size() == 1 ? " live object" : " live objects") + " of provider '"
            + p.id() + (mine.size() == 1 ? "' carries" : "' carry") + " the mark of owner '" + owner + "' (for example " + mine.iterator().next()
            + "); refusing to act without the inventory. Restore the store, or rebuild it explicitly"
            + " (SyncOptions.rebuildStore; the CLI's --rebuild-store).");
      }
      markedKeys.addAll(mine);
    }
    // sorted once (a provider lists in key order, usually): each set below is built by a walk, not a search per key
    SortedSet<ResourceKey> marked = SortedArrayMap.sortedSetOf(markedKeys);
    addMissing(keysByProvider, desired.resources(), marked, true);

    // Planning providers (Terraform) plan for themselves: their keys are not observed here.
    // Their own deadline, from now: not what the listMarked calls above left of the planning context's.
    PlanningUnits units = PlanningUnits.plan(providers, desired, context(desired.revision(), cancellation));
    // Taken before observing: only a call that had returned by then is seen landed by the observations below.
    Map<ResourceKey, AbandonedCalls.Entry> abandoned = executor.abandoned().snapshot();
    int observed = 0;
    for (Set<ResourceKey> keys : keysByProvider.values()) {
      observed += keys.size();
    }
    Map<ResourceKey, Observation> observations = new HashMap<>(observed * 4 / 3 + 1);
    Set<ResourceKey> proven = new HashSet<>();
    for (Map.Entry<String, Set<ResourceKey>> e : keysByProvider.entrySet()) {
      Provider p = providers.get(e.getKey());
      if (p == null || units.units().containsKey(p.id())) {
        continue;
      }
      observe(p, e.getValue(), ctx, desired, stored, observations, proven);
    }
    for (AbandonedCalls.Entry a : abandoned.values()) {
      Observation o = observations.get(a.key());
      if (o == null) {
        continue;  // not part of this plan; kept until its key is observed
      }
      if (!a.ended()) {
        // The call may land after this observation (or landed during it): what was seen proves nothing.
        observations.put(a.key(), Observation.unknown(a.key(), a.describe()));
        proven.remove(a.key());
      } else if (!o.isUnknown()) {
        executor.abandoned().observedAgain(a);
      }
    }
    byte[] secret = store.secretKey();
    // handed over: nothing below changes the map (the plan input keeps it as it is, no copy)
    Plan plan = planWith.plan(new PlanInput(desired, stored, providers, PlanInput.handedOver(observations), marked, options.rules(), variables,
        secret, unobserved), units);
    if (read.fromRecords()) {
      if (!NoChangeFastPath.stands(plan, read)) {
        // Something moved: the full path, decode and all, plans it (what a decode refuses, and what
        // a decoder keeps for the apply, come from the decode). Nothing was reported or written yet.
        LOG.info("the plan from the store's records at {} changes a key taken from a record ({}): reading the source"
            + " in full",
            plan.revision(), plan.summary());
        return prepare(pinned, cancellation, null, planWith, false);
      }
      announce(desired);
    }
    emit(new SyncEvent.Planned(plan.revision(), plan));
    // each pass over every change of a large plan costs a load per change: none for nobody to tell
    if (!listeners.isEmpty()) {
      for (Change c : plan.changes()) {
        if (c.drift()) {
          List<dev.gitops.api.FieldPath> paths = new ArrayList<>();
          c.fields().forEach(f -> paths.add(f.path()));
          emit(new SyncEvent.DriftDetected(plan.revision(), plan.id(), c.key(), paths));
        }
      }
    }
    if (LOG.isInfoEnabled()) {
      LOG.info("planned {} at {}: {}", plan.id(), plan.revision(), plan.summary());
    }
    return new Prepared(units.isEmpty() ? desired : asPlanned(desired, plan), stored, plan, secret, units,
        observations, proven, read);
  }

  /**
   * The keys of {@code listed}, what provider {@code p}'s {@link Provider#listMarked} answered, that
   * can be its own: a null answer, a null entry or a key of another provider is a provider bug that
   * makes no key of that listing trustworthy as complete. Those are left out with a warning and the
   * listing counts as incomplete in {@code unobserved}, so that the plan deletes and replaces
   * nothing on its strength; the keys that are the provider's are still reported as marked.
   */
  private List<ResourceKey> markedKeys(Provider p, Collection<ResourceKey> listed, String revision,
      Map<String, String> unobserved) {
    if (listed == null) {
      LOG.warn("provider '{}' answered null from listMarked at {}: its marked objects count as not listed", p.id(),
          revision);
      unobserved.put("marked objects of provider '" + p.id() + "'", "listMarked answered null");
      return List.of();
    }
    List<ResourceKey> mine = new ArrayList<>(listed.size());
    int nulls = 0;
    List<ResourceKey> foreign = new ArrayList<>();
    for (ResourceKey k : listed) {
      if (k == null) {
        nulls++;
      } else if (!k.provider().equals(p.id())) {
        foreign.add(k);
      } else {
        mine.add(k);
      }
    }
    if (nulls > 0 || !foreign.isEmpty()) {
      String why = "listMarked answered " + (foreign.isEmpty() ? "" : foreign.size() + " keys of other providers (such as "
          + foreign.get(0) + ")") + (nulls > 0 && !foreign.isEmpty() ? " and " : "")
          + (nulls > 0 ? nulls + " null entries" : "") + ": ignored, and the listing is incomplete";
      LOG.warn("provider '{}' at {}: {}; nothing is deleted or replaced on its strength", p.id(), revision, why);
      unobserved.put("marked objects of provider '" + p.id() + "'", why);
    }
    return mine;
  }

  /**
   * The desired keys by provider, each provider's in a sorted set: a view of its range of the
   * desired map's keys (a key orders by its provider first, so one provider's keys are a contiguous
   * range; a state's map is immutable), which {@link #addMissing} copies into a set of its own only
   * to add a key to it. When the first and the last key have one provider, every key has it: no
   * key is looked at.
   */
  private static Map<String, Set<ResourceKey>> keysByProvider(SortedMap<ResourceKey, Resource> desired) {
    Map<String, Set<ResourceKey>> out = new TreeMap<>();
    if (desired.comparator() != null) {
      desired.keySet().forEach(k -> out.computeIfAbsent(k.provider(), p -> new TreeSet<>()).add(k));
      return out;
    }
    if (desired.isEmpty()) {
      return out;
    }
    if (desired.firstKey().provider().equals(desired.lastKey().provider())) {
      out.put(desired.firstKey().provider(), desired.keySet());
      return out;
    }
    ResourceKey first = null;
    for (ResourceKey k : desired.keySet()) {
      if (first != null && !first.provider().equals(k.provider())) {
        out.put(first.provider(), desired.subMap(first, k).keySet());
        first = null;
      }
      if (first == null) {
        first = k;
      }
    }
    if (first != null) {
      out.put(first.provider(), desired.tailMap(first).keySet());
    }
    return out;
  }

  /** Adds {@code key} to its provider's set of {@code byProvider}, copying a view of the desired keys first. */
  private static void addKey(Map<String, Set<ResourceKey>> byProvider, ResourceKey key) {
    Set<ResourceKey> keys = byProvider.get(key.provider());
    if (!(keys instanceof TreeSet<ResourceKey>)) {
      // a view of the desired map's keys, which come sorted: copied in linear time
      keys = keys == null ? new TreeSet<>() : new TreeSet<>(keys);
      byProvider.put(key.provider(), keys);
    }
    keys.add(key);
  }

  /**
   * The keys of {@code stored}'s inventory and pending entries that {@code desired} does not hold
   * (each key the store owns is observed, whether Git still declares it or not). The answer of the
   * last call again when the three maps are the very maps it was found in, all immutable ({@link
   * SortedArrayMap}: a state's resources, a store's maps while it was not written): a resync at the
   * same commit of an unchanged store walks none of them.
   */
  private List<ResourceKey> storedNotDesired(SortedMap<ResourceKey, Resource> desired, StoredState stored) {
    StoredKeys last = storedKeys;
    if (last != null && last.desired() == desired && last.inventory() == stored.inventory()
        && last.pending() == stored.pending()) {
      return last.keys();
    }
    List<ResourceKey> out = new ArrayList<>();
    missing(desired, stored.inventory().keySet(), stored.inventory().comparator() == null, out::add);
    missing(desired, stored.pending().keySet(), stored.pending().comparator() == null, out::add);
    if (desired instanceof SortedArrayMap<?, ?> && stored.inventory() instanceof SortedArrayMap<?, ?>
        && stored.pending() instanceof SortedArrayMap<?, ?>) {
      storedKeys = new StoredKeys(desired, stored.inventory(), stored.pending(), List.copyOf(out));
    }
    return out;
  }

  /** What {@link #storedNotDesired} found last, and the maps it found it in. */
  private record StoredKeys(SortedMap<ResourceKey, Resource> desired, SortedMap<ResourceKey, StoredResource> inventory,
      SortedMap<ResourceKey, Resource> pending, List<ResourceKey> keys) {}

  private volatile StoredKeys storedKeys;

  /** Adds to {@code byProvider} each key of {@code keys} (in natural order when {@code natural}) that {@code desired} does not hold. */
  private static void addMissing(Map<String, Set<ResourceKey>> byProvider, SortedMap<ResourceKey, Resource> desired,
      Collection<ResourceKey> keys, boolean natural) {
    missing(desired, keys, natural, k -> addKey(byProvider, k));
  }

  /**
   * Hands {@code sink} each key of {@code keys} that {@code desired} does not hold: for two maps in
   * natural key order by one walk over both, else by a lookup per key.
   */
  private static void missing(SortedMap<ResourceKey, Resource> desired, Collection<ResourceKey> keys, boolean natural,
      java.util.function.Consumer<ResourceKey> sink) {
    if (keys.isEmpty()) {
      return;
    }
    if (desired.comparator() != null || !natural) {
      for (ResourceKey k : keys) {
        if (!desired.containsKey(k)) {
          sink.accept(k);
        }
      }
      return;
    }
    Iterator<ResourceKey> walk = desired.keySet().iterator();
    ResourceKey at = walk.hasNext() ? walk.next() : null;
    for (ResourceKey k : keys) {
      while (at != null && at != k && at.compareTo(k) < 0) {
        at = walk.hasNext() ? walk.next() : null;
      }
      if (at == null || at != k && !at.equals(k)) {
        sink.accept(k);
      }
    }
  }

  /**
   * {@code desired} with each resource as its change holds it: output references the plan could
   * resolve are resolved there, and that is what is recorded as applied.
   */
  private static State asPlanned(State desired, Plan plan) {
    TreeMap<ResourceKey, Resource> resources = new TreeMap<>(desired.resources());
    for (Change c : plan.changes()) {
      Resource r = c.resource();
      if (r != null && c.desired() != null && resources.get(c.key()) != null && resources.get(c.key()) != r) {
        resources.put(c.key(), r);
      }
    }
    return new State(desired.revision(), resources, desired.unchanged(), desired.historyRewritten());
  }

  /**
   * The desired state: from the store's records when its no-change marker vouches for the source
   * content ({@link NoChangeFastPath}), else read and decoded.
   */
  private NoChangeFastPath.Read readSource(Source.ReadRequest request, NoChangeFastPath.Loaded loaded, boolean fast) {
    NoChangeFastPath.Read read = fast ? NoChangeFastPath.fromStore(source, store, request, loaded) : null;
    if (read != null) {
      return read;  // announced once its plan is known to change nothing
    }
    State decoded = source.read(request);
    if (decoded == null) {
      // a custom source's bug: named here, not as a NullPointerException from deep in the planner
      throw new SourceException("source " + source.describe() + " returned no desired state (null) for "
          + (request.pinnedRevision() == null ? "the head" : "revision " + request.pinnedRevision())
          + ": Source.read must return a State or throw a SourceException");
    }
    announce(decoded);
    return new NoChangeFastPath.Read(decoded, source instanceof Fingerprinted f ? f.lastRead().orElse(null) : null,
        false);
  }

  /** The read of {@code pinned} (null: the head), with every decoder: the reconciler's, then each provider's by id. */
  private Source.ReadRequest readRequest(String pinned, Cancellation cancellation) {
    List<Decoder> decoders = new ArrayList<>(globDecoders);
    providers.values().stream().sorted((a, b) -> a.id().compareTo(b.id()))
        .forEach(p -> p.decoder().ifPresent(decoders::add));
    return new Source.ReadRequest(pinned, decoders, cancellation);
  }

  /** Reports a desired state read. */
  private void announce(State s) {
    emit(new SyncEvent.SourceRead(s.revision(), s.unchanged(), s.historyRewritten(), s.resources().size()));
    if (s.historyRewritten()) {
      // a source that warned already, in the words of what happened (a Git source: a rollback, a
      // force push, a semver range falling, a tag shadowing a branch): not a second, vaguer warning
      Optional<String> said = source.historyRewrittenReason();
      if (said.isEmpty()) {
        LOG.warn("history was rewritten at {}: the new commit does not descend from the last one read", s.revision());
      } else {
        LOG.debug("history was rewritten at {}: {}", s.revision(), said.get());
      }
    }
  }

  /**
   * Observes {@code keys}: first the version tokens of the keys the store holds an in-sync proof
   * for, where the provider can give them without reading (asked for while this thread checks
   * which of those proofs were recorded for the desired resource and rules of now); a key whose
   * proof holds and whose token is the proof's is observed as its desired document (the proof says
   * the normalized live object was exactly that at this token), and added to {@code provenKeys}.
   * Every other key is observed in full.
   */
  private void observe(Provider p, Set<ResourceKey> keys, CallContext ctx, State desired, StoredState stored,
      Map<ResourceKey, Observation> out, Set<ResourceKey> provenKeys) {
    Map<ResourceKey, Observation> proven = new HashMap<>();
    if (stored.inventory().values().stream().anyMatch(l -> l.inSync() != null)) {
      // the desired keys with a proof on record, whose tokens are asked for at once: the provider
      // reads them while this thread checks which proofs were recorded for the desired resources
      // (a digest of each), and the tokens of keys whose proof does not hold are not used
      List<ResourceKey> recorded = new ArrayList<>();
      List<Resource> recordedDesired = new ArrayList<>();
      List<StoredResource> recordedStored = new ArrayList<>();
      // the keys come sorted (a provider's set): the maps are walked along them, not searched per key
      Along<Resource> desiredAlong = new Along<>(desired.resources(), null);
      Along<StoredResource> storedAlong = new Along<>(stored.inventory(), null);
      for (ResourceKey k : keys) {
        Resource d = desiredAlong.get(k);
        StoredResource l = d == null ? null : storedAlong.get(k);
        if (l != null && l.inSync() != null) {
          recorded.add(k);
          recordedDesired.add(d);
          recordedStored.add(l);
        }
      }
      ProviderCalls.Call<Map<ResourceKey, LiveVersion>> asked = recorded.isEmpty() ? null
          : startVersions(p, recorded, ctx);
      List<ResourceKey> candidates = new ArrayList<>();
      List<Resource> candidatesDesired = new ArrayList<>();
      List<StoredResource> candidatesStored = new ArrayList<>();
      Along<Resource> pendingAlong = new Along<>(stored.pending(), null);
      try {
        for (int i = 0; i < recorded.size(); i++) {
          ResourceKey k = recorded.get(i);
          if (planner.provesDesired(recordedDesired.get(i), recordedStored.get(i), pendingAlong.get(k),
              planner.rulesFor(k, providers, options.rules()))) {
            candidates.add(k);
            candidatesDesired.add(recordedDesired.get(i));
            candidatesStored.add(recordedStored.get(i));
          }
        }
      } catch (RuntimeException | Error e) {
        if (asked != null) {
          asked.cancel();
        }
        throw e;
      }
      Map<ResourceKey, LiveVersion> versions = asked == null ? Map.of() : awaitVersions(p, asked, recorded.size());
      for (int i = 0; i < candidates.size(); i++) {
        ResourceKey k = candidates.get(i);
        LiveVersion lv = versions.get(k);
        if (lv != null && !k.equals(lv.key())) {
          // a version of another object proves nothing about this one (as an observation of another key): read in full
          LOG.warn("provider '{}' answered the version of {} with that of {}; observing it in full", p.id(), k,
              lv.key());
          lv = null;
        }
        if (lv != null && lv.version().equals(candidatesStored.get(i).inSync().version())) {
          proven.put(k, new Observation(k, Observation.Status.PRESENT, candidatesDesired.get(i).document(),
              lv.version(), lv.mark(), ""));
        }
      }
    }
    if (proven.isEmpty()) {
      observe(p, keys, ctx, out);
      return;
    }
    LOG.debug("provider '{}': {} of {} keys proven in sync by their version tokens, {} observed in full", p.id(),
        proven.size(), keys.size(), keys.size() - proven.size());
    // the few keys not proven, in the keys' order (not all of them copied, then the proven removed one by one)
    Set<ResourceKey> rest = new TreeSet<>();
    for (ResourceKey k : keys) {
      if (!proven.containsKey(k)) {
        rest.add(k);
      }
    }
    if (!rest.isEmpty()) {
      observe(p, rest, ctx, out);
    }
    out.putAll(proven);
    provenKeys.addAll(proven.keySet());
  }

  /**
   * {@link Provider#versions} started ({@link ProviderCalls#start}); null when it cannot start (those
   * keys are then observed in full).
   */
  private ProviderCalls.Call<Map<ResourceKey, LiveVersion>> startVersions(Provider p, List<ResourceKey> keys,
      CallContext ctx) {
    try {
      return calls.start(p, "versions", ctx, c -> p.versions(keys, c));
    } catch (Cancellation.CancelledException e) {
      throw e;
    } catch (RuntimeException e) {
      LOG.warn("provider '{}' failed to give the version tokens of {} keys; observing them in full: {}", p.id(),
          keys.size(), e.toString());
      return null;
    }
  }

  /** What {@code asked} (the version tokens of {@code count} keys) answered; none when it fails. */
  private static Map<ResourceKey, LiveVersion> awaitVersions(Provider p, ProviderCalls.Call<Map<ResourceKey,
      LiveVersion>> asked, int count) {
    try {
      Map<ResourceKey, LiveVersion> v = asked.await();
      return v == null ? Map.of() : v;
    } catch (Cancellation.CancelledException e) {
      throw e;
    } catch (RuntimeException e) {
      LOG.warn("provider '{}' failed to give the version tokens of {} keys; observing them in full: {}", p.id(),
          count, e.toString());
      return Map.of();
    }
  }

  /** Observes {@code keys} through {@code p}, normalized, into {@code out}. */
  private void observe(Provider p, Set<ResourceKey> keys, CallContext ctx, Map<ResourceKey, Observation> out) {
    Map<ResourceKey, Observation> raw;
    try {
      raw = calls.bounded(p, "observe", ctx, c -> p.observe(keys, c));
    } catch (Cancellation.CancelledException e) {
      throw e;
    } catch (RuntimeException e) {
      // An observe failure is reported per key as UNKNOWN: the plan becomes incomplete and prunes nothing.
      // An Error (an assertion, a missing class) ends the sync and reaches the caller, as
      // AbortedSyncEventTest says: a bug, not an unobservable key.
      // Its message may quote what the provider read (a Secret's data): the log names its type only,
      // and the message reaches each key's reason, where the planner hides the key's sensitive values.
      LOG.warn("provider '{}' failed to observe {} keys ({}); each key's reason in the plan says why", p.id(),
          keys.size(), e.getClass().getName());
      for (ResourceKey k : keys) {
        out.put(k, Observation.unknown(k, "observe failed: " + ProviderFailures.describe(p.id(), e)));
      }
      return;
    }
    if (raw == null) {
      LOG.warn("provider '{}' returned no observations (null) for {} keys", p.id(), keys.size());
      raw = Map.of();
    }
    for (ResourceKey k : keys) {
      Observation o = raw.get(k);
      if (o == null) {
        o = Observation.unknown(k, "provider '" + p.id() + "' returned no observation");
      } else if (!k.equals(o.key())) {
        // an observation of another object must never stand for this one (it would be planned,
        // recorded and owned as if it were this key's)
        o = Observation.unknown(k, "provider '" + p.id() + "' answered with an observation of " + o.key());
      } else if (o.isPresent()) {
        try {
          JsonNode n = p.normalize(k, o.live());
          if (n == null) {
            throw new IllegalStateException("provider '" + p.id() + "' normalized it to null");
          }
          JsonNode normalized = Documents.freeze(n);
          o = normalized == o.live() ? o : o.withLive(normalized);
        } catch (RuntimeException e) {
          // One object the normalizer cannot handle is one UNKNOWN key, not a failed sync.
          LOG.warn("provider '{}' failed to normalize {} ({}); its reason in the plan says why", p.id(), k,
              e.getClass().getName());
          o = Observation.unknown(k, "normalizing the live object failed: " + e.getMessage());
        }
      }
      out.put(k, o);
    }
  }

  private SyncResult execute(Prepared p, Cancellation cancellation, Instant start, boolean teardown) {
    Plan plan = p.plan;
    DeletionBudget budget = teardown ? options.budget().withAllowEmpty(true) : options.budget();
    if (options.dryRun() && !options.detectOnly()) {
      // A dry run answers "what would the sync do", and the sync would be refused.
      p.units.checkPrune(plan, options.prune() || teardown);
      DeletionGuard.check(plan, budget);
    }
    if (options.dryRun() || options.detectOnly()) {
      Map<ResourceKey, Outcome> none = new TreeMap<>();
      SyncResult r = new SyncResult(plan.revision(), plan, SyncResult.Status.PLANNED, new TreeMap<>(none),
          Duration.between(start, Instant.now()), "");
      emit(new SyncEvent.Finished(plan.revision(), r));
      return r;
    }
    Quiet q = quiet;
    boolean remembered = q != null && q.plan() == plan && !teardown;
    if (!remembered) {
      // a remembered quiet plan applies nothing, so it deletes and replaces nothing: no guard to ask
      p.units.checkPrune(plan, options.prune() || teardown);
      DeletionGuard.check(plan, budget);
    }
    // planned, reviewed and let through by the guards: this sync is about to write, so it claims the store
    claimStore();
    if (remembered) {
      // The planner remembered the whole plan (every key from the same desired, stored and pending
      // instances): it has nothing to apply, and its quiet changes recorded nothing last time, so
      // they record nothing now (what they record follows from those instances alone).
      return marked(p, finish(p, q.outcomes(), start, HistoryEntry.Operation.SYNC, null), teardown);
    }
    boolean anyMutation = plan.changes().stream()
        .anyMatch(c -> c.action().mutates() || c.action() == Action.FORGET || c.action() == Action.READ);
    // in plan order (read-only when the executor's): the result sorts them, in one pass while the
    // plan's order is the keys' order, instead of a tree map sorting them here
    Map<ResourceKey, Outcome> outcomes = anyMutation
        ? executor.execute(plan, providers, new StoreHooks(p), cancellation, owner) : new LinkedHashMap<>();
    if (Thread.interrupted()) {
      // An interrupt stopped the run like a cancellation, and the executor set the flag again: what
      // the run did must still be recorded, and a file store's writes fail on an interrupted thread
      // (leaving it refusing writes). The flag is set again once the store lock is released.
      reinterrupt = true;
    }
    // the executor gave every change of the plan its outcome (a NOOP's UNCHANGED, a SKIP's SKIPPED)
    boolean recorded = recordQuietChanges(p, outcomes, anyMutation);
    quiet = null;
    SyncResult r = finish(p, outcomes, start, teardown ? HistoryEntry.Operation.DESTROY : HistoryEntry.Operation.SYNC,
        null);
    if (!anyMutation && !recorded && !teardown) {
      quiet = new Quiet(plan, r.outcomes());  // immutable: the next result shares it
    }
    return marked(p, r, teardown);
  }

  /**
   * {@code r}, after recording the store's no-change marker when the sync succeeded in full from
   * content the source can fingerprint ({@link NoChangeFastPath#record}). A failure to record it
   * costs the next sync its short cut only: logged, and the sync's result stands.
   */
  private SyncResult marked(Prepared p, SyncResult r, boolean teardown) {
    if (teardown || r.status() != SyncResult.Status.SUCCEEDED || !p.units.isEmpty()) {
      return r;
    }
    try {
      // the process's first marker also records the document digests for the next new process
      if (NoChangeFastPath.record(store, p.read, planner, p.plan, firstMarker.get())) {
        firstMarker.set(false);
      }
    } catch (RuntimeException e) {
      LOG.warn("sync of {} succeeded, but recording the store's no-change marker failed (the next sync decodes its"
          + " source in full): {}", r.revision(), e.toString());
    }
    return r;
  }

  /** Whether no sync of this reconciler has recorded the store's no-change marker yet. */
  private final AtomicBoolean firstMarker = new AtomicBoolean(true);

  /** A plan that applied nothing and whose quiet changes recorded nothing, and the outcomes it gave. */
  private record Quiet(Plan plan, SortedMap<ResourceKey, Outcome> outcomes) {}

  private volatile Quiet quiet;

  /**
   * NOOPs still record: a changed desired document is rewritten as last-applied; an absent removed
   * key is forgotten. Returns whether anything was recorded or forgotten. Unless {@code
   * outcomesComplete}, gives each NOOP and SKIP its outcome in {@code outcomes}.
   */
  private boolean recordQuietChanges(Prepared p, Map<ResourceKey, Outcome> outcomes, boolean outcomesComplete) {
    // the plan's changes mostly come in key order: the sorted maps are walked along, not copied into hash maps
    Along<Resource> desired = new Along<>(p.desired.resources(), null);
    Along<StoredResource> inventory = new Along<>(p.stored.inventory(), null);
    // one store batch for all of them (one durable write in a file store)
    StoreBatch.Builder batch = StoreBatch.builder();
    List<Resource> rewritten = new ArrayList<>();
    boolean proofs = store instanceof BatchedStateStore b && b.keepsInSync();
    // the keys found recorded already, by their changes' places: no memo lookup per key
    Planner.RecordMarks marks = planner.recordMarks(p.plan);
    List<Change> changes = p.plan.changes();
    for (int at = 0; at < changes.size(); at++) {
      Change c = changes.get(at);
      if (c.action() == Action.NOOP) {
        Resource d = desired.get(c.key());
        StoredResource l = inventory.get(c.key());
        if (d == null && (l != null || p.stored.pending().containsKey(c.key()))) {
          batch.forget(c.key());
        } else if (d != null) {
          MergeRules rules = planner.rulesFor(d.key(), providers, options.rules());
          // a key proven by its token has its proof recorded already: the one computed would equal it
          StoredResource.InSync proof = !proofs ? null
              : l != null && p.proven.contains(c.key()) ? l.inSync() : inSyncProof(c, d, rules, p);
          boolean known = marks != null && marks.current(at, c);
          if (!known && planner.needsRecord(d, l, p.stored.pending().get(c.key()), rules, p.secretKey)) {
            batch.applied(LastApplied.of(d, rules, p.secretKey), p.plan.revision(), proof);
            rewritten.add(d);
          } else {
            if (!known && marks != null) {
              marks.markCurrent(at, c);
            }
            if (proof != null && !proof.equals(l.inSync())) {
              // in sync and recorded, but not yet proven so: the proof alone, once, so that a new
              // process neither reads nor merges this key while nothing moves
              batch.applied(l.resource(), l.revision(), proof);
              rewritten.add(d);
            }
          }
        }
        if (!outcomesComplete) {
          outcomes.putIfAbsent(c.key(), Outcome.unchanged());
        }
      } else if (c.action() == Action.SKIP && !outcomesComplete) {
        outcomes.putIfAbsent(c.key(), Outcome.skipped(c));
      }
    }
    StoreBatch built = batch.build();
    List<StoredResource> stored = built.writeTo(store);
    for (int i = 0; i < rewritten.size(); i++) {
      markRecorded(rewritten.get(i), stored.get(i).serial(), p);
    }
    return !built.ops().isEmpty();
  }

  /**
   * The in-sync proof of a NOOP: the key was observed PRESENT with a version token, and its
   * normalized live document is the desired one (where a live system adds defaults the proof
   * could not stand for the live document, and the key is merged as before). Null otherwise.
   */
  private StoredResource.InSync inSyncProof(Change c, Resource d, MergeRules rules, Prepared p) {
    Observation v = p.observations.get(c.key());
    if (v == null || !v.isPresent() || v.version().isEmpty() || c.live() == null
        || !Documents.equal(c.live(), d.document())) {
      return null;
    }
    return planner.inSync(d, rules, v.version());
  }

  /**
   * Records how a sync ended and reports it: {@code operation} is the history entry's, {@code
   * note} (null for a sync) starts its message and makes it an entry of its own; the store's last
   * attempted and applied revisions become this plan's unless it is a forget, which applies no
   * revision, and whose entry counts its forgotten keys as {@code FORGOTTEN}, not UNCHANGED.
   */
  private SyncResult finish(Prepared p, Map<ResourceKey, Outcome> outcomes, Instant start,
      HistoryEntry.Operation operation, String note) {
    boolean orphaned = note != null;
    boolean revisions = operation != HistoryEntry.Operation.FORGET;
    Plan plan = p.plan;
    // one pass over the outcomes (a resync's are every key's): any failure, the counts by kind, any change
    boolean failed = false;
    boolean changed = false;
    int[] byKind = new int[Outcome.Kind.values().length];
    for (Outcome o : outcomes.values()) {
      failed |= !o.isOk();
      changed |= o.kind() == Outcome.Kind.CREATED || o.kind() == Outcome.Kind.CONFIGURED || o.kind() == Outcome.Kind.DELETED;
      byKind[o.kind().ordinal()]++;
    }
    // An incomplete plan held back its deletes and replaces: never reported as a success.
    SyncResult.Status status = failed ? SyncResult.Status.FAILED
        : !plan.isComplete() ? SyncResult.Status.INCOMPLETE : SyncResult.Status.SUCCEEDED;
    Map<String, Integer> counts = new TreeMap<>();
    for (Outcome.Kind kind : Outcome.Kind.values()) {
      if (byKind[kind.ordinal()] > 0) {
        counts.put(!revisions && kind == Outcome.Kind.UNCHANGED ? "FORGOTTEN" : kind.name(), byKind[kind.ordinal()]);
      }
    }
    String historyId = Instant.now().toEpochMilli() + "-" + plan.id().substring(0, Math.min(8, plan.id().length()));
    String appliedRevision = failed || !plan.isComplete() ? null : plan.revision();
    if (revisions && !plan.revision().equals(p.stored.lastAttemptedRevision())
        || revisions && (appliedRevision != null && !appliedRevision.equals(p.stored.lastAppliedRevision()))) {
      // a resync of the revisions the store already holds writes nothing here
      store.recordRevisions(plan.revision(), appliedRevision);
    }
    boolean quiet = !failed && !orphaned && !changed;
    // this owner's newest entry: owners that mark their objects may share a store, and its history
    HistoryEntry latest = quiet ? store.history().stream().filter(h -> h.owner().equals(owner)).findFirst()
        .orElse(null) : null;
    if (latest != null && latest.operation() == operation && latest.status() == status
        && latest.revision().equals(plan.revision())) {
      // A periodic resync that changed nothing would otherwise push real syncs (rollback targets) out of
      // the bounded history; this owner's latest entry already says this revision is applied (or, for as
      // long as a key stays unobservable, that it is incomplete). Never another owner's entry: its id is
      // not this sync's; nor a forget's at the same head: that is no sync of it, and no rollback target.
      historyId = latest.id();
    } else {
      store.appendHistory(new HistoryEntry(historyId, Instant.now(), plan.revision(), plan.id(), status, counts,
          (orphaned ? note : "") + plan.summary(), owner, operation));
    }
    // outcomes come in plan order, mostly the keys': copied in one pass when in key order, which SyncResult shares
    SyncResult r = new SyncResult(plan.revision(), plan, status, SortedArrayMap.copyOf(outcomes),
        Duration.between(start, Instant.now()), historyId);
    if (failed) {
      LOG.warn("sync of {} failed for {} of {} keys", plan.revision(), r.failures().size(), outcomes.size());
    } else if (status == SyncResult.Status.INCOMPLETE) {
      LOG.warn("sync of {} is incomplete: could not observe {}{}; held back {}", plan.revision(), plan.unknown(),
          plan.unobserved().isEmpty() ? "" : " and " + plan.unobserved(), plan.heldBack());
    } else {
      LOG.info("synced {}: {}", plan.revision(), counts);
    }
    emit(new SyncEvent.Finished(plan.revision(), r));
    return r;
  }

  private Resource lastApplied(Resource d, Prepared p) {
    MergeRules rules = planner.rulesFor(d.key(), providers, options.rules());
    return LastApplied.of(d, rules, p.secretKey);
  }

  /** Tells the planner {@code d} was just recorded at {@code serial}, in its form of {@link #lastApplied}. */
  private void markRecorded(Resource d, long serial, Prepared p) {
    planner.markRecorded(d, serial, planner.rulesFor(d.key(), providers, options.rules()), p.secretKey);
  }

  /** Writes pending before each create or update and records the outcome after it. */
  private final class StoreHooks implements ExecutionHooks {
    private final Prepared p;
    /** The last-applied form written as pending, reused for the commit after the outcome. */
    private final Map<ResourceKey, Resource> forms = new java.util.concurrent.ConcurrentHashMap<>();
    /** For a batched store: the outcomes taken since the last flush, and the desired resources they commit. */
    private StoreBatch.Builder outcomes = StoreBatch.builder();
    private final List<Resource> recorded = new ArrayList<>();

    StoreHooks(Prepared p) {
      this.p = p;
    }

    /** Resources whose output references were resolved just before they were applied. */
    private final Map<ResourceKey, Resource> resolved = new java.util.concurrent.ConcurrentHashMap<>();
    /** In-sync proofs of applies that verified as their desired document, taken by their commit. */
    private final Map<ResourceKey, StoredResource.InSync> proofs = new java.util.concurrent.ConcurrentHashMap<>();

    private Resource form(Resource d) {
      return forms.computeIfAbsent(d.key(), k -> lastApplied(d, p));
    }

    /** The desired resource of {@code key} as it is applied: resolved if it had to be. */
    private Optional<Resource> desired(ResourceKey key) {
      Resource r = resolved.get(key);
      return r != null ? Optional.of(r) : p.desired.get(key);
    }

    @Override
    public Change resolve(Change change, Map<ResourceKey, Outcome> outcomes) {
      if (change.unknown().isEmpty() || !OutputReferences.refers(change.resource())) {
        return change;
      }
      Resource r = OutputReferences.resolveAtApply(change.resource(), outcomes::get);
      MergeRules rules = planner.rulesFor(r.key(), providers, options.rules());
      Change c = OutputReferences.remerge(change, r, p.stored.inventory().get(r.key()), p.stored.pending().get(r.key()),
          rules, p.secretKey);
      resolved.put(r.key(), r);
      LOG.debug("{}: output references resolved before applying it at {}", r.key(), p.plan.revision());
      return c;
    }

    @Override
    public void beforeApply(Change change) {
      if (change.resource() != null) {
        desired(change.key()).ifPresent(d -> store.writePending(form(d)));
      }
    }

    /** A store that takes batches gets a round's pending records in one durable write. */
    @Override
    public Map<ResourceKey, RuntimeException> beforeApplyAll(List<Change> changes) {
      if (!(store instanceof BatchedStateStore)) {
        return ExecutionHooks.super.beforeApplyAll(changes);
      }
      StoreBatch.Builder batch = StoreBatch.builder();
      for (Change change : changes) {
        if (change.resource() != null) {
          desired(change.key()).ifPresent(d -> batch.pending(form(d)));
        }
      }
      batch.build().writeTo(store);
      return Map.of();
    }

    @Override
    public List<FieldPath> verify(Change change, Observation live) {
      Optional<Resource> declared = desired(change.key());
      if (declared.isEmpty()) {
        return List.of();
      }
      Resource d = declared.get();
      MergeRules rules = planner.rulesFor(d.key(), providers, options.rules());
      List<FieldPath> off = planner.verify(d, p.stored.inventory().get(d.key()), p.stored.pending().get(d.key()),
          live.live(), rules, p.secretKey);
      if (off.isEmpty() && live.isPresent() && Documents.equal(live.live(), d.document())) {
        // landed as the very desired document: committed with the proof, so the next process skips it
        StoredResource.InSync proof = planner.inSync(d, rules, live.version());
        if (proof != null) {
          proofs.put(d.key(), proof);
        }
      }
      return off;
    }

    @Override
    public Optional<Change> replan(Change change, Observation live) {
      if (p.units.covers(change.key())) {
        return Optional.empty();  // a planning provider's unit is planned whole, by the provider
      }
      State desired = p.desired;
      Resource r = resolved.get(change.key());
      if (r != null) {
        // its output references were resolved just before it was sent: planned again as sent
        TreeMap<ResourceKey, Resource> resources = new TreeMap<>(desired.resources());
        resources.put(r.key(), r);
        desired = State.of(desired.revision(), resources.values());
      }
      Change again = planner.replan(new PlanInput(desired, p.stored, providers, Map.of(change.key(), live), Set.of(),
          options.rules(), p.plan.variables(), p.secretKey), change.key());
      LOG.debug("{}: planned again after a conflict at {}: {} ({})", change.key(), p.plan.revision(), again.action(),
          again.reason());
      return Optional.of(again);
    }

    @Override
    public void afterOutcome(Change change, Outcome outcome) {
      if (!outcome.isOk()) {
        // Failed or unknown: the pending entry stays, so its fields still count as owned next time.
        return;
      }
      switch (change.action()) {
        case CREATE, UPDATE, REPLACE -> {
          desired(change.key()).ifPresent(d -> {
            if (store instanceof BatchedStateStore) {
              outcomes.applied(form(d), p.plan.revision(), proofs.remove(d.key()));
              recorded.add(d);
              return;
            }
            StoredResource stored = store.commit(form(d), p.plan.revision());
            forms.remove(d.key());
            markRecorded(d, stored.serial(), p);
          });
        }
        case DELETE, FORGET -> {
          if (store instanceof BatchedStateStore) {
            outcomes.forget(change.key());
          } else {
            store.forget(change.key());
          }
        }
        default -> { }
      }
    }

    /** The applied records collected since the last flush, in one durable write. */
    @Override
    public void flushOutcomes() {
      if (outcomes.size() == 0) {
        return;
      }
      StoreBatch batch = outcomes.build();
      List<Resource> marks = List.copyOf(recorded);
      outcomes = StoreBatch.builder();
      recorded.clear();
      List<StoredResource> stored = batch.writeTo(store);
      for (int i = 0; i < marks.size(); i++) {
        forms.remove(marks.get(i).key());
        markRecorded(marks.get(i), stored.get(i).serial(), p);
      }
    }

    @Override
    public void event(SyncEvent event) {
      emit(event);
    }
  }

  private CallContext context(String revision, Cancellation cancellation) {
    return new CallContext(owner, revision, Instant.now().plus(options.execution().callTimeout()), cancellation);
  }

  private void emit(SyncEvent raw) {
    if (listeners.isEmpty()) {
      return;
    }
    // Listeners render and forward events (progress lines, notifications): they get them redacted.
    SyncEvent e = Redactor.marking().redact(raw);
    for (SyncListener l : listeners) {
      try {
        l.onEvent(e);
      } catch (RuntimeException | Error ex) {
        if (ex instanceof VirtualMachineError vm) {
          throw vm;  // out of memory or stack: nothing here can go on
        }
        // A listener must not break a sync (an assertion of a test's listener, a class it cannot
        // load): its failure is logged and otherwise ignored, while provider calls may be running.
        listenerFailed(l, e, ex);
      }
    }
  }

  /**
   * How often each listener failed in the current sync (or plan), reset when the next one takes
   * the sync lock: a listener that throws on every event is said once at WARN, with its stack,
   * not once per event of a sync of thousands of keys.
   */
  private final Map<SyncListener, Integer> listenerFailures = new java.util.IdentityHashMap<>();

  private void listenerFailed(SyncListener l, SyncEvent e, Throwable ex) {
    int failures;
    synchronized (listenerFailures) {
      failures = listenerFailures.merge(l, 1, Integer::sum);
    }
    if (failures == 1) {
      LOG.warn("sync listener {} failed on {} (the event is dropped for it; its further failures in this sync are"
          + " logged at debug): {}", l, e.getClass().getSimpleName(), ex.toString(), ex);
    } else {
      LOG.debug("sync listener {} failed again, on {} (failure {} in this sync): {}", l, e.getClass().getSimpleName(),
          failures, ex.toString());
    }
  }

  /** What a provider's id may be. */
  private static final java.util.regex.Pattern PROVIDER_ID =
      java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

  /**
   * Builds a {@link Reconciler}. A source (or a fixed desired state), at least one provider and a
   * store are required: {@link #build()} names the first one missing. Nothing defaults silently:
   * a reconciler that keeps its state in memory only says so with {@link #inMemoryStore()}.
   */
  public static final class Builder {
    private Source source;
    private final Map<String, Provider> providers = new LinkedHashMap<>();
    private StateStore store;
    private boolean inMemory;
    private String owner = "gitops";
    private SyncOptions options = SyncOptions.defaults();
    private final List<SyncListener> listeners = new ArrayList<>();
    private final Map<String, String> variables = new TreeMap<>();
    private final List<Decoder> globDecoders = new ArrayList<>();

    private Builder() {}

    /**
     * Reads the files {@code glob} matches (relative to the source's path) with {@code decoder},
     * without writing a provider decoder. The source tries its own glob decoders first, then these
     * in the order given, then the providers' decoders (by provider id); the first that claims a
     * file reads it. See {@code docs/manifests.md}.
     *
     * <pre>{@code
     * Reconciler.Builder builder = Reconciler.builder()
     *     .decoder("settings/**}{@code /*.yaml", YamlManifestDecoder.builder().map(settingsMapping).build());
     * }</pre>
     *
     * @throws IllegalArgumentException naming the glob when it is malformed
     */
    public Builder decoder(String glob, Decoder decoder) {
      Objects.requireNonNull(glob, "glob");
      Objects.requireNonNull(decoder, "decoder");
      globDecoders.add(GlobDecoder.of(glob, decoder));
      return this;
    }

    /**
     * Where the desired state comes from; the reconciler owns it from here on and closes it (when
     * it is {@link AutoCloseable}) on {@link Reconciler#close()}.
     */
    public Builder source(Source source) {
      this.source = Objects.requireNonNull(source, "source");
      return this;
    }

    /** A fixed desired state (instead of a source). */
    public Builder desiredState(State state) {
      Objects.requireNonNull(state, "state");
      this.source = Source.of(() -> state);
      return this;
    }

    /** Adds a provider; ids must be unique. */
    public Builder provider(Provider provider) {
      Objects.requireNonNull(provider, "provider");
      String id = ProviderFailures.call(provider.getClass().getName(), "id", null, provider::id);
      if (id == null || !PROVIDER_ID.matcher(id).matches()) {
        throw new IllegalArgumentException("provider " + provider.getClass().getName() + " has id "
            + (id == null ? "null" : "'" + id + "'") + ": an id is letters, digits, '.', '_' and '-', starting with a"
            + " letter or digit (it is the first part of every key it manages, as in files:file::a.txt)");
      }
      if (providers.putIfAbsent(id, provider) != null) {
        throw new IllegalArgumentException("two providers with id '" + provider.id() + "'");
      }
      return this;
    }

    /**
     * Where the reconciler records what it applied and owns (required, or {@link #inMemoryStore()});
     * the reconciler owns it from here on and closes it on {@link Reconciler#close()}.
     */
    public Builder store(StateStore store) {
      this.store = Objects.requireNonNull(store, "store");
      this.inMemory = false;
      return this;
    }

    /**
     * Keeps the state in memory: nothing the reconciler applied or owns survives a restart, so
     * after one it no longer knows what to prune. Meant for tests and one-shot runs; {@link
     * #build()} logs a warning saying so.
     */
    public Builder inMemoryStore() {
      this.store = new InMemoryStateStore();
      this.inMemory = true;
      return this;
    }

    /** The owner id written into marks (default {@code gitops}); one per reconciler instance and target. */
    public Builder owner(String owner) {
      Objects.requireNonNull(owner, "owner");
      if (owner.isBlank()) {
        throw new IllegalArgumentException("owner id must not be blank");
      }
      if (owner.codePoints().anyMatch(dev.gitops.core.render.PlanRenderer::isHidden)) {
        // it is printed (history, status, refusals) and written into marks: an escape sequence there would run
        throw new IllegalArgumentException("owner id must not hold control or format characters: '"
            + dev.gitops.core.render.PlanRenderer.printable(owner) + "'");
      }
      this.owner = owner;
      return this;
    }

    /** The options. */
    public Builder options(SyncOptions options) {
      this.options = Objects.requireNonNull(options, "options");
      return this;
    }

    /** Adds a listener. */
    public Builder listener(SyncListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /**
     * Records the variables the source substitutes, so they are part of the plan id; added to those
     * given before, a name given again takes the new value.
     *
     * <pre>{@code
     * Reconciler.Builder builder = Reconciler.builder().variables(Map.of("ENV", "prod"));
     * }</pre>
     *
     * @throws NullPointerException naming {@code vars}, or the variable whose name or value is null;
     *     nothing of {@code vars} is recorded then
     */
    public Builder variables(Map<String, String> vars) {
      variables.putAll(VariableSubstitution.checked(vars, "vars"));
      return this;
    }

    /**
     * The reconciler.
     *
     * @throws IllegalStateException naming what is missing: the {@code source} ({@link #source} or
     *     {@link #desiredState}), a {@code provider} ({@link #provider}) or the {@code store}
     *     ({@link #store} or {@link #inMemoryStore}); or naming both owners when the store instance is
     *     held by an open reconciler of another owner and a provider of either does not {@linkplain
     *     Provider#marksObjects() mark its objects} (each would prune the other's)
     */
    /**
     * Refuses a file store in the target of a files provider, outside every directory the provider
     * excludes: Git's files would be written over the store's (a repository holding a
     * {@code journal} or {@code meta.json} corrupts it) and a prune could delete them. By real path,
     * so a link to either is seen through.
     */
    private void refuseAStoreInAFilesTarget() {
      if (!(store instanceof FileStateStore f)) {
        return;
      }
      Path dir = realOrNormal(f.directory());
      for (Provider p : providers.values()) {
        if (p instanceof LocalFilesProvider files) {
          Path target = realOrNormal(files.target());
          if (dir.startsWith(target) && files.excluded().stream().map(Builder::realOrNormal).noneMatch(dir::startsWith)) {
            throw new IllegalStateException("the state store " + f.directory() + (dir.equals(target) ? " is" : " is inside")
                + " the target " + files.target() + " of files provider '" + files.id() + "': Git's files would be"
                + " written over the store's; keep the store in " + files.target().resolve(LocalFilesProvider.DEFAULT_STORE_DIR)
                + " or outside the target, or exclude its directory (LocalFilesProvider.Builder.exclude)");
          }
        }
      }
    }

    private static Path realOrNormal(Path p) {
      try {
        return RealPaths.of(p.toAbsolutePath().normalize());
      } catch (IOException e) {
        return p.toAbsolutePath().normalize();  // not there yet: compared as written
      }
    }

    public Reconciler build() {
      if (source == null) {
        throw new IllegalStateException("Reconciler needs a source: call .source(...) or .desiredState(...)");
      }
      if (providers.isEmpty()) {
        throw new IllegalStateException("Reconciler needs a provider: call .provider(...)");
      }
      if (store == null) {
        throw new IllegalStateException("Reconciler needs a store: call .store(FileStateStore.open(dir)), or"
            + " .inMemoryStore() to keep nothing across restarts");
      }
      refuseAStoreInAFilesTarget();
      if (inMemory) {
        LOG.warn("reconciler '{}' keeps its state in memory: nothing it applied or owns survives a restart, so after"
            + " one it cannot prune what it created; give it .store(FileStateStore.open(dir)) to keep it", owner);
      }
      Reconciler r = new Reconciler(this);
      try {
        r.register();
      } catch (RuntimeException e) {
        r.executor.close();  // it started no thread yet; nothing of the refused reconciler stays behind
        throw e;
      }
      return r;
    }
  }
}
