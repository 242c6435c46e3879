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
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

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
 * <p>Thread-safe: events of one sync may come from the executor's threads at once.
 */
public final class SyncMetrics implements SyncListener, AutoCloseable {

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
    for (Result r : Result.values()) {
      Tags t = tags.and("result", r.tag());
      syncs.put(r, keep(Counter.builder("gitops.syncs").description("Syncs, by how they ended").tags(t)
          .register(registry)));
      durations.put(r, keep(Timer.builder("gitops.sync.duration").description("How long syncs took that ran to a result")
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
   * {@code source}, timed: each read is recorded as {@code gitops.source.fetch.duration}, whether
   * it succeeds or throws.
   */
  public Source timed(Source source) {
    Objects.requireNonNull(source, "source");
    return new Source() {
      @Override
      public State read(ReadRequest request) {
        Timer.Sample sample = Timer.start(registry);
        try {
          return source.read(request);
        } finally {
          sample.stop(fetch);
        }
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

  @Override
  public void onEvent(SyncEvent event) {
    if (event instanceof SyncEvent.SourceRead r) {
      if (r.skipped()) {
        skips.increment();
      }
    } else if (event instanceof SyncEvent.DriftDetected) {
      drift.increment();
    } else if (event instanceof SyncEvent.ChangeFinished f) {
      applied(f.change(), f.outcome());
    } else if (event instanceof SyncEvent.Finished f) {
      finished(f.result());
    } else if (event instanceof SyncEvent.Aborted a) {
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
    Result r = Result.of(result);
    syncs.get(r).increment();
    durations.get(r).record(result.duration());
    if (r == Result.SUCCEEDED || r == Result.PLANNED) {
      lastSuccessMillis.set(registry.config().clock().wallTime());
    }
    Map<ResourceStatus, Integer> counts = count(result);
    counts.forEach((s, n) -> resources.get(s).set(n));
  }

  private void aborted(RuntimeException error) {
    if (error instanceof PlanRefusedException refused) {
      syncs.get(Result.REFUSED).increment();
      increment(Counter.builder("gitops.guard.refusals").description("Plans a safety guard refused")
          .tags(tags.and("guard", refused.guard())));
    } else if (error instanceof Cancellation.CancelledException) {
      syncs.get(Result.CANCELLED).increment();
    } else {
      syncs.get(Result.ERROR).increment();
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

  /** Removes this target's meters from the registry (the target was removed from the agent). */
  @Override
  public void close() {
    synchronized (meters) {
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

    /** Registers the meters and returns the listener. */
    public SyncMetrics build() {
      return new SyncMetrics(this);
    }
  }
}
