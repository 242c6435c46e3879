package dev.gitops.micrometer;

import dev.gitops.api.Action;
import dev.gitops.api.Cancellation;
import dev.gitops.api.Change;
import dev.gitops.api.ManagementPolicy;
import dev.gitops.api.Outcome;
import dev.gitops.api.Plan;
import dev.gitops.api.PlanRefusedException;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncListener;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.Source;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records what the syncs of one target do as Micrometer meters, tagged {@code target} and {@code
 * provider}: sync duration and syncs by result, changes applied by action, resources by status,
 * drift found, the last successful sync, source fetch duration and skips, guard refusals. The
 * names and one Prometheus query for each are in the module's README.
 *
 * <pre>{@code
 * SyncMetrics metrics = SyncMetrics.builder(registry).target("web").provider("files").build();
 * Reconciler reconciler = Reconciler.builder()
 *     .source(metrics.timed(gitSource))     // fetch duration
 *     .listener(metrics)                    // everything else
 *     .provider(filesProvider)
 *     .store(store)
 *     .build();
 * // ... the target's syncs, then:
 * metrics.close();                          // the target is gone: its meters leave the registry
 * }</pre>
 *
 * <p>One registry holds one {@code SyncMetrics} per target at a time: building a second for a
 * target whose first is not closed throws {@link IllegalStateException} (whatever the provider),
 * since Micrometer would hand the second the first's meters (its gauges would go on reading the
 * first's values) and closing either would remove the meters of both. To restart a target, close
 * its {@code SyncMetrics}, then build a new one, as {@code gitops run} does.
 *
 * <p>Thread-safe: events of one sync may come from the executor's threads at once.
 */
public final class SyncMetrics implements SyncListener, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SyncMetrics.class);

  /**
   * The targets that have a {@code SyncMetrics} not closed yet, with its provider, by registry (by
   * identity, held weakly: a registry dropped takes its entry along). Guarded by itself.
   */
  private static final Map<MeterRegistry, Map<String, String>> OPEN = new WeakHashMap<>();

  /** What a sync ended as: the {@code result} tag. */
  public enum Result {
    /** Every change succeeded, and nothing Git declares was skipped. */
    SUCCEEDED,
    /**
     * Every change that ran succeeded, but the plan skipped resources Git declares ({@link
     * #notApplied}: an object another owner marked, one without a mark while adoption is off, a
     * replace that prune forbids): the live system does not match Git. Not a success.
     */
    OUT_OF_SYNC,
    /** A change failed. */
    FAILED,
    /** Some keys could not be observed: deletes were held back. */
    INCOMPLETE,
    /** Nothing applied on purpose: dry run or detect-only. */
    PLANNED,
    /** A safety guard refused the plan. */
    REFUSED,
    /** Cancelled (a new revision, a shutdown). */
    CANCELLED,
    /** Ended with any other error: the source unreadable, the store locked or damaged. */
    ERROR;

    /** The tag value: the name in lower case. */
    public String tag() {
      return name().toLowerCase(Locale.ROOT);
    }

    /**
     * What a sync that finished with {@code result} is recorded as: its status, except that a
     * sync that succeeded while skipping resources Git declares is {@link #OUT_OF_SYNC}.
     *
     * <pre>{@code
     * SyncResult result = reconciler.sync();
     * if (SyncMetrics.Result.of(result) == SyncMetrics.Result.OUT_OF_SYNC) {
     *   SyncMetrics.notApplied(result.plan()).forEach(c -> log.warn("{} skipped: {}", c.key(), c.reason()));
     * }
     * }</pre>
     */
    public static Result of(SyncResult result) {
      return switch (result.status()) {
        case SUCCEEDED -> notApplied(result.plan()).isEmpty() ? SUCCEEDED : OUT_OF_SYNC;
        case FAILED -> FAILED;
        case INCOMPLETE -> INCOMPLETE;
        case PLANNED -> PLANNED;
      };
    }
  }

  /**
   * The skipped changes of {@code plan} that leave a resource Git declares unlike Git although its
   * policy asks for the change: an object that exists but is not ours (no mark with adoption off,
   * or another owner's mark), a replace that prune or a delete policy blocks. Not counted: what its
   * policy keeps from being created or updated, what was removed from Git but is kept (prune off,
   * policy), orphans, and what an incomplete plan holds back. The same rule as {@code gitops
   * status}'s "Not applied".
   */
  public static List<Change> notApplied(Plan plan) {
    List<Change> out = new ArrayList<>();
    for (Change c : plan.changes(Action.SKIP)) {
      if (c.desired() == null || c.has(Change.Flag.HELD_BACK)) {
        continue;
      }
      ManagementPolicy policy = c.resource() == null ? ManagementPolicy.ALL : c.resource().policy();
      boolean needed = c.live() == null ? policy.allows(ManagementPolicy.Permission.CREATE)
          : !c.fields().isEmpty() && policy.allows(ManagementPolicy.Permission.UPDATE);
      if (c.conflict() || needed) {
        out.add(c);
      }
    }
    return out;
  }

  /** Where a resource stood after the last completed sync: the {@code status} tag of {@code gitops.resources}. */
  public enum ResourceStatus {
    /** Live matches Git. */
    IN_SYNC,
    /** Changed outside gitops and not corrected (detect-only, dry run, or the correction did not run). */
    DRIFTED,
    /** A change is pending that did not run (detect-only, dry run, a skip or a held-back delete). */
    OUT_OF_SYNC,
    /** Its change failed. */
    FAILED,
    /** It could not be observed, or its change ended unknown. */
    UNKNOWN;

    /** The tag value: the name in lower case. */
    public String tag() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final MeterRegistry registry;
  private final String target;
  private final Tags tags;
  private final List<Meter> meters = new ArrayList<>();
  private final Map<Result, Counter> syncs = new EnumMap<>(Result.class);
  private final Map<Result, Timer> durations = new EnumMap<>(Result.class);
  private final Map<ResourceStatus, AtomicInteger> resources = new EnumMap<>(ResourceStatus.class);
  private final AtomicLong lastSuccessMillis = new AtomicLong();
  private final Counter drift;
  private final Counter skips;
  private final Timer fetch;
  /** Set by {@link #close()}, under {@code meters}: a sync still running then registers no meter again. */
  private boolean closed;

  private SyncMetrics(Builder b) {
    this.registry = b.registry;
    this.target = b.target;
    this.tags = Tags.of(Tag.of("target", b.target), Tag.of("provider", b.provider));
    if (b.lastSuccess != null) {
      lastSuccessMillis.set(b.lastSuccess.toEpochMilli());
    }
    synchronized (OPEN) {
      Map<String, String> open = OPEN.computeIfAbsent(registry, r -> new HashMap<>());
      String first = open.putIfAbsent(target, b.provider);
      if (first != null) {
        throw new IllegalStateException("target '" + target + "' already has SyncMetrics on this registry (provider "
            + (first.isEmpty() ? "''" : first) + ") that are not closed: a second would share their meters (its"
            + " gauges would read the first's values) and closing either would remove both; close the first before"
            + " building another for target '" + target + "'");
      }
    }
    try {
      for (Result r : Result.values()) {
        Tags t = tags.and("result", r.tag());
        syncs.put(r, keep(Counter.builder("gitops.syncs").description("Syncs, by how they ended").tags(t)
            .register(registry)));
        durations.put(r, keep(Timer.builder("gitops.sync.duration").description("How long syncs took, by how they ended")
            .tags(t).register(registry)));
      }
      for (ResourceStatus s : ResourceStatus.values()) {
        AtomicInteger n = new AtomicInteger();
        resources.put(s, n);
        keep(Gauge.builder("gitops.resources", n, AtomicInteger::get)
            .description("Resources by where they stood after the last completed sync").tags(tags.and("status", s.tag()))
            .register(registry));
      }
      keep(TimeGauge.builder("gitops.sync.last.success", lastSuccessMillis, TimeUnit.MILLISECONDS, AtomicLong::get)
          .description("When the last successful sync finished, since the epoch (0: never)").tags(tags).register(registry));
      this.drift = keep(Counter.builder("gitops.drift.detected")
          .description("Resources found changed outside gitops").tags(tags).register(registry));
      this.skips = keep(Counter.builder("gitops.source.fetch.skips")
          .description("Source reads that found the commit unchanged and skipped decoding").tags(tags).register(registry));
      this.fetch = keep(Timer.builder("gitops.source.fetch.duration")
          .description("How long reading the source took (fetch and decode)").tags(tags).register(registry));
    } catch (RuntimeException e) {
      close();  // what was registered leaves the registry, and the target is free again
      throw e;
    }
  }

  /** A builder recording into {@code registry}. */
  public static Builder builder(MeterRegistry registry) {
    return new Builder(registry);
  }

  private <M extends Meter> M keep(M meter) {
    synchronized (meters) {
      meters.add(meter);
    }
    return meter;
  }

  /**
   * {@code source}, timed: the time a sync spends in it (listing refs, fetching, decoding) is
   * recorded as one {@code gitops.source.fetch.duration} sample per sync, when this listener hears
   * the sync's source read or its end, whether the read succeeded or threw; so the source must be
   * given to the same reconciler as this listener.
   *
   * <p>What is returned implements every interface {@code source} does, not only {@link Source}:
   * the reconciler still sees what else the source can do (a Git source's fingerprint, from which
   * a sync of content the store already vouches for takes the desired state from the store's
   * records without decoding; its {@link AutoCloseable#close()}, which a closed reconciler calls).
   * Such a sync, one that neither {@code read}s nor {@code readSince}s the source, counts as a
   * {@code gitops.source.fetch.skips} as a read of an unchanged commit does.
   */
  public Source timed(Source source) {
    Objects.requireNonNull(source, "source");
    Set<Class<?>> interfaces = new LinkedHashSet<>();
    for (Class<?> c = source.getClass(); c != null; c = c.getSuperclass()) {
      interfaces.addAll(List.of(c.getInterfaces()));
    }
    interfaces.add(Source.class);
    InvocationHandler timing = (proxy, method, args) -> {
      if (method.getDeclaringClass() == Object.class) {
        return switch (method.getName()) {
          case "equals" -> proxy == args[0];
          case "hashCode" -> System.identityHashCode(proxy);
          default -> "timed " + source;
        };
      }
      boolean timed = !UNTIMED.contains(method.getName()) || method.getParameterCount() > 0;
      long start = timed ? registry.config().clock().monotonicTime() : 0;
      if (timed) {
        syncStarts(start, true);
      }
      try {
        return method.invoke(source, args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      } finally {
        if (timed) {
          inSource.addAndGet(registry.config().clock().monotonicTime() - start);
          sourceCalled = true;
          if (method.getName().equals("read") || method.getName().equals("readSince")) {
            sourceDecoded = true;
          }
        }
      }
    };
    try {
      return (Source) Proxy.newProxyInstance(source.getClass().getClassLoader(), interfaces.toArray(Class<?>[]::new),
          timing);
    } catch (IllegalArgumentException e) {
      // an interface the source's class loader cannot see, or two package-private ones of different packages
      LOG.warn("target {}: timing the source {} as a plain Source, hiding its other interfaces {} from the reconciler"
          + " (a Git source's no-change fast path among them): {}", target, source.describe(), interfaces,
          e.getMessage());
      return new Source() {
        @Override
        public State read(ReadRequest request) {
          return (State) invoke(timing, this, "read", request);
        }

        @Override
        public String describe() {
          return source.describe();
        }

        @Override
        public Optional<String> historyRewrittenReason() {
          return source.historyRewrittenReason();
        }
      };
    }
  }

  /** The calls of a source that read nothing and are not timed (without parameters). */
  private static final Set<String> UNTIMED = Set.of("describe", "historyRewrittenReason", "close", "lastRead");

  private static Object invoke(InvocationHandler handler, Object proxy, String method, Source.ReadRequest request) {
    try {
      return handler.invoke(proxy, Source.class.getMethod(method, Source.ReadRequest.class), new Object[] {request});
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable e) {
      throw new IllegalStateException("source read failed: " + e, e);
    }
  }

  /** The time spent in the timed source since its time was last recorded (nanoseconds). */
  private final AtomicLong inSource = new AtomicLong();
  /** Whether the timed source was called since its time was last recorded. */
  private volatile boolean sourceCalled;
  /** Whether it was read or read since a fingerprint (decoded) since its time was last recorded. */
  private volatile boolean sourceDecoded;

  /** Records the time the sync spent in the timed source, if it called it; returns whether it decoded it. */
  private boolean sourceTimed() {
    boolean decoded = sourceDecoded;
    if (sourceCalled) {
      sourceCalled = false;
      sourceDecoded = false;
      fetch.record(inSource.getAndSet(0), TimeUnit.NANOSECONDS);
    }
    return decoded;
  }

  /** No sync heard of since the last one ended: the value of {@link #syncStart} then. */
  private static final long NONE = Long.MIN_VALUE;
  /**
   * When this listener first heard of the sync under way (monotonic nanoseconds of the registry's
   * clock): its first call into the timed source, else its first event; {@link #NONE} between
   * syncs. What the duration of a sync that ends without a result (refused, cancelled, an error)
   * is measured from, as no {@link SyncResult} carries it.
   */
  private final AtomicLong syncStart = new AtomicLong(NONE);
  /** Whether the source was read ({@link SyncEvent.SourceRead}) since {@link #syncStart}. */
  private volatile boolean readSinceStart;

  /**
   * Notes that a sync is under way at {@code now}, unless one already is. A call into the timed
   * source after the source was read starts a new one: the earlier read was a {@code plan()}'s,
   * which ends with no event.
   */
  private void syncStarts(long now, boolean sourceCall) {
    if (sourceCall && readSinceStart) {
      readSinceStart = false;
      syncStart.set(now);
    } else {
      syncStart.compareAndSet(NONE, now);
    }
  }

  /** When the sync now ending started ({@link #NONE}: unknown), and none is under way from now on. */
  private long syncEnds() {
    readSinceStart = false;
    return syncStart.getAndSet(NONE);
  }

  /**
   * Records the event. Never throws (a listener must not break a sync, and the agent calls it from
   * its own listeners): a failure is logged with the event and dropped, costing that event's
   * counts only.
   */
  @Override
  public void onEvent(SyncEvent event) {
    try {
      record(event);
    } catch (RuntimeException e) {
      LOG.warn("target {}: metrics of a sync event ({}) not recorded: {}", target, event.getClass().getSimpleName(),
          e.toString(), e);
    }
  }

  private void record(SyncEvent event) {
    if (!(event instanceof SyncEvent.Finished || event instanceof SyncEvent.Aborted)) {
      syncStarts(registry.config().clock().monotonicTime(), false);
    }
    if (event instanceof SyncEvent.SourceRead r) {
      if (readSinceStart) {
        // read twice with no end between: the first read was a plan()'s, this sync starts here at the latest
        syncStart.set(registry.config().clock().monotonicTime());
      }
      readSinceStart = true;
      boolean called = sourceCalled;
      boolean decoded = sourceTimed();
      // a timed source that was called but neither read nor read since: the records stood for it
      if (r.skipped() || (called && !decoded)) {
        skips.increment();
      }
    } else if (event instanceof SyncEvent.DriftDetected) {
      drift.increment();
    } else if (event instanceof SyncEvent.ChangeFinished f) {
      applied(f.change(), f.outcome());
    } else if (event instanceof SyncEvent.Finished f) {
      finished(f.result());
    } else if (event instanceof SyncEvent.Aborted a) {
      sourceTimed();  // a read that threw, or a sync that ended before the read was announced
      aborted(a.error());
    }
  }

  private void applied(Change change, Outcome outcome) {
    Outcome.Kind k = outcome.kind();
    if (k == Outcome.Kind.CREATED || k == Outcome.Kind.CONFIGURED || k == Outcome.Kind.DELETED
        || (k == Outcome.Kind.UNCHANGED && (change.action() == Action.READ || change.action() == Action.FORGET))) {
      // Tagged with the change's own provider: an embedded reconciler may drive several.
      increment(Counter.builder("gitops.changes.applied").description("Changes that ran and succeeded, by action")
          .tags(tags.and("provider", change.key().provider())
              .and("action", change.action().name().toLowerCase(Locale.ROOT))));
    }
  }

  private void finished(SyncResult result) {
    syncEnds();
    Result r = Result.of(result);
    syncs.get(r).increment();
    durations.get(r).record(result.duration());
    if (r == Result.SUCCEEDED || r == Result.PLANNED) {
      lastSuccessMillis.set(registry.config().clock().wallTime());
    }
    Map<ResourceStatus, Integer> counts = count(result);
    counts.forEach((s, n) -> resources.get(s).set(n));
  }

  /** The {@code guard} tag of a refusal whose exception names no guard. */
  private static final String UNNAMED_GUARD = "unnamed";

  private void aborted(RuntimeException error) {
    long start = syncEnds();
    Result r = error instanceof PlanRefusedException ? Result.REFUSED
        : error instanceof Cancellation.CancelledException ? Result.CANCELLED : Result.ERROR;
    syncs.get(r).increment();
    if (start != NONE) {
      // a sync that ended before this listener heard of it (its store locked) has no duration to give
      durations.get(r).record(Math.max(0, registry.config().clock().monotonicTime() - start), TimeUnit.NANOSECONDS);
    }
    if (error instanceof PlanRefusedException refused) {
      String guard = refused.guard() == null || refused.guard().isEmpty() ? UNNAMED_GUARD : refused.guard();
      increment(Counter.builder("gitops.guard.refusals").description("Plans a safety guard refused")
          .tags(tags.and("guard", guard)));
    }
  }

  /**
   * Registers (or finds) a meter made on the way, per action or guard, and counts one, unless the
   * target is closed: a sync that outlived its target's stop (one that reached no safe point in
   * the grace period) must not put the removed target's series back into the registry.
   */
  private void increment(Counter.Builder counter) {
    synchronized (meters) {
      if (!closed) {
        counter.register(registry).increment();
      }
    }
  }

  /** Where each key of the plan stands after {@code result}. */
  static Map<ResourceStatus, Integer> count(SyncResult result) {
    Map<ResourceStatus, Integer> counts = new EnumMap<>(ResourceStatus.class);
    for (ResourceStatus s : ResourceStatus.values()) {
      counts.put(s, 0);
    }
    Set<ResourceKey> unknown = result.plan().unknown();
    for (Change c : result.plan().changes()) {
      Outcome o = result.outcomes().get(c.key());
      Outcome.Kind k = o == null ? null : o.kind();
      ResourceStatus s;
      if (unknown.contains(c.key()) || k == Outcome.Kind.UNKNOWN) {
        s = ResourceStatus.UNKNOWN;
      } else if (k == Outcome.Kind.TRANSIENT || k == Outcome.Kind.PERMANENT) {
        s = ResourceStatus.FAILED;
      } else if (k == Outcome.Kind.DELETED || c.action() == Action.FORGET
          || (c.action() == Action.NOOP && c.live() == null)) {
        // Gone from the live system (or from the inventory; a NOOP with nothing live is a key removed
        // from Git and already absent, dropped from the inventory): no longer a resource of the target.
        continue;
      } else if (k == Outcome.Kind.CREATED || k == Outcome.Kind.CONFIGURED || k == Outcome.Kind.UNCHANGED
          || c.action() == Action.NOOP) {
        s = ResourceStatus.IN_SYNC;
      } else if (c.drift()) {
        s = ResourceStatus.DRIFTED;
      } else {
        s = ResourceStatus.OUT_OF_SYNC;
      }
      counts.merge(s, 1, Integer::sum);
    }
    return counts;
  }

  /**
   * Removes this target's meters from the registry (the target was removed from the agent); a new
   * {@code SyncMetrics} for the target can be built on the registry from then on. Closing again
   * does nothing.
   */
  @Override
  public void close() {
    synchronized (meters) {
      if (!closed) {
        synchronized (OPEN) {
          Map<String, String> open = OPEN.get(registry);
          if (open != null) {
            open.remove(target);
          }
        }
      }
      closed = true;
      meters.forEach(registry::remove);
      meters.clear();
      // The meters registered on the way (per action, per guard).
      for (String name : List.of("gitops.changes.applied", "gitops.guard.refusals")) {
        registry.find(name).tag("target", target).meters().forEach(registry::remove);
      }
    }
  }

  /** Builds {@link SyncMetrics}. */
  public static final class Builder {
    private final MeterRegistry registry;
    private String target = "default";
    private String provider = "";
    private Instant lastSuccess;

    private Builder(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
    }

    /** The {@code target} tag: which target the syncs are of (default {@code default}). */
    public Builder target(String name) {
      this.target = Objects.requireNonNull(name, "target");
      return this;
    }

    /** The {@code provider} tag of sync-level meters: the target's provider (default empty). */
    public Builder provider(String id) {
      this.provider = Objects.requireNonNull(id, "provider");
      return this;
    }

    /**
     * When the target's last successful sync ended before these meters existed (what a restarted
     * agent recorded), so that {@code gitops.sync.last.success} does not read 0 (never) until the
     * next success; null (the default): none known.
     */
    public Builder lastSuccess(Instant when) {
      this.lastSuccess = when;
      return this;
    }

    /**
     * Registers the meters and returns the listener.
     *
     * @throws IllegalStateException when a {@code SyncMetrics} of the same target on the same
     *     registry is not closed yet (whatever its provider): close it first
     */
    public SyncMetrics build() {
      return new SyncMetrics(this);
    }
  }
}
