package dev.gitops.testkit;

import dev.gitops.api.Change;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.ProviderException;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Provider;
import java.util.ArrayList;
import java.util.Collection;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Decorates any {@link Provider} with failures chosen by the test, and counts calls per key.
 *
 * <pre>{@code
 * FaultInjectingProvider faulty = FaultInjectingProvider.wrap(real)
 *     .failPermanently(brokenKey)             // every apply: PERMANENT
 *     .failTransiently(flakyKey, 2)           // first 2 applies: TRANSIENT, then the real apply
 *     .hang(stuckKey)                         // apply waits for the deadline or cancel: UNKNOWN
 *     .unobservable(hiddenKey)                // observe: UNKNOWN
 *     .failRandomly(0.1, 42L)                 // 10% of other applies TRANSIENT, seeded
 *     .build();
 * reconciler.sync();
 * assertThat(faulty.applyCalls(flakyKey)).isEqualTo(3);
 * }</pre>
 *
 * <p>Failed applies never reach the delegate. Everything else (id, decoder, normalizer, rules,
 * health, marks, planner) is the delegate's. Batches go to the delegate's {@code applyAll} minus
 * the changes failed here, so a batching delegate still sees batches.
 */
public final class FaultInjectingProvider extends ForwardingProvider {
  private final Set<ResourceKey> permanent;
  private final Map<ResourceKey, Integer> transientFirst;
  private final Set<ResourceKey> hanging;
  private final Set<ResourceKey> hungForGood;
  private final Set<ResourceKey> unobservable;
  private final double failRate;
  private final Outcome.Kind rateKind;
  private final Random random;
  private final Map<ResourceKey, AtomicInteger> applyCalls = new ConcurrentHashMap<>();
  private final Map<ResourceKey, AtomicInteger> observeCalls = new ConcurrentHashMap<>();

  private FaultInjectingProvider(Builder b) {
    super(b.delegate);
    this.permanent = Set.copyOf(b.permanent);
    this.transientFirst = Map.copyOf(b.transientFirst);
    this.hanging = Set.copyOf(b.hanging);
    this.hungForGood = Set.copyOf(b.hungForGood);
    this.unobservable = Set.copyOf(b.unobservable);
    this.failRate = b.failRate;
    this.rateKind = b.rateKind;
    this.random = new Random(b.seed);
  }

  /** A builder wrapping {@code delegate}. */
  public static Builder wrap(Provider delegate) {
    return new Builder(delegate);
  }


  /** How many times apply (directly or in a batch) was called for {@code key}, faults included. */
  public int applyCalls(ResourceKey key) {
    AtomicInteger n = applyCalls.get(key);
    return n == null ? 0 : n.get();
  }

  /** How many times {@code key} was asked for in observe. */
  public int observeCalls(ResourceKey key) {
    AtomicInteger n = observeCalls.get(key);
    return n == null ? 0 : n.get();
  }

  /** Apply calls per key, a snapshot. */
  public Map<ResourceKey, Integer> applyCallCounts() {
    Map<ResourceKey, Integer> out = new HashMap<>();
    applyCalls.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  /** Forgets every count (the transient budgets count on: they are per attempt ever made). */
  public void resetCounts() {
    applyCalls.clear();
    observeCalls.clear();
  }

  @Override
  public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
    List<ResourceKey> pass = new ArrayList<>(keys.size());
    for (ResourceKey k : keys) {
      observeCalls.computeIfAbsent(k, x -> new AtomicInteger()).incrementAndGet();
      if (!unobservable.contains(k)) {
        pass.add(k);
      }
    }
    Map<ResourceKey, Observation> real = pass.isEmpty() ? Map.of() : delegate().observe(pass, ctx);
    Map<ResourceKey, Observation> out = new LinkedHashMap<>();
    for (ResourceKey k : keys) {
      out.put(k, unobservable.contains(k) ? Observation.unknown(k, "injected fault: unobservable") : real.get(k));
    }
    return out;
  }

  @Override
  public Outcome apply(Change change, CallContext ctx) {
    Outcome fault = fault(change.key(), ctx);
    return fault != null ? fault : delegate().apply(change, ctx);
  }

  @Override
  public Map<ResourceKey, Outcome> applyAll(List<Change> changes, CallContext ctx) {
    Map<ResourceKey, Outcome> faults = new HashMap<>();
    List<Change> pass = new ArrayList<>();
    for (Change c : changes) {
      Outcome f = fault(c.key(), ctx);
      if (f != null) {
        faults.put(c.key(), f);
      } else {
        pass.add(c);
      }
    }
    Map<ResourceKey, Outcome> real = pass.isEmpty() ? Map.of() : delegate().applyAll(pass, ctx);
    Map<ResourceKey, Outcome> out = new LinkedHashMap<>();
    for (Change c : changes) {
      out.put(c.key(), faults.containsKey(c.key()) ? faults.get(c.key()) : real.get(c.key()));
    }
    return out;
  }

  /** The injected outcome for this call of {@code key}, or null to let the delegate apply it. */
  private Outcome fault(ResourceKey key, CallContext ctx) {
    int call = applyCalls.computeIfAbsent(key, x -> new AtomicInteger()).incrementAndGet();
    if (permanent.contains(key)) {
      ProviderException e = new ProviderException(key, "injected fault: permanent failure", false, null);
      return Outcome.permanentFailure(e.getMessage(), e);
    }
    Integer n = transientFirst.get(key);
    if (n != null && call <= n) {
      ProviderException e = new ProviderException(key, "injected fault: transient failure " + call + " of " + n,
          true, null);
      return Outcome.transientFailure(e.getMessage(), e);
    }
    if (hanging.contains(key)) {
      return hangUntilDone(key, ctx, ctx.remaining());
    }
    if (hungForGood.contains(key)) {
      return hangUntilDone(key, ctx, HUNG_FOR_GOOD);
    }
    if (failRate > 0 && nextDouble() < failRate) {
      ProviderException e = new ProviderException(key, "injected fault: random " + rateKind, rateKind == Outcome.Kind.TRANSIENT, null);
      return rateKind == Outcome.Kind.TRANSIENT ? Outcome.transientFailure(e.getMessage(), e)
          : Outcome.permanentFailure(e.getMessage(), e);
    }
    return null;
  }

  private double nextDouble() {
    synchronized (random) {
      return random.nextDouble();
    }
  }

  /** How long a key {@linkplain Builder#hangUntilCancelled hung for good} waits at most: a test's bound. */
  static final Duration HUNG_FOR_GOOD = Duration.ofSeconds(10);

  /** Waits for the call's cancellation, at most {@code bound}; UNKNOWN saying which ended the wait. */
  private static Outcome hangUntilDone(ResourceKey key, CallContext ctx, Duration bound) {
    CountDownLatch cancelled = new CountDownLatch(1);
    ctx.cancellation().onCancel(cancelled::countDown);
    try {
      long nanos = bound.toNanos();
      if (nanos > 0) {
        cancelled.await(nanos, TimeUnit.NANOSECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Outcome.unknown(key + ": injected hang interrupted");
    }
    String why = ctx.cancellation().isCancelled() ? "cancelled (" + ctx.cancellation().reason() + ")"
        : bound == HUNG_FOR_GOOD ? "never cancelled within " + HUNG_FOR_GOOD.toSeconds() + " s" : "deadline passed";
    return Outcome.unknown(key + ": injected hang ended: " + why);
  }

  /** Builds {@link FaultInjectingProvider}. */
  public static final class Builder {
    private final Provider delegate;
    private final Set<ResourceKey> permanent = new HashSet<>();
    private final Map<ResourceKey, Integer> transientFirst = new HashMap<>();
    private final Set<ResourceKey> hanging = new HashSet<>();
    private final Set<ResourceKey> hungForGood = new HashSet<>();
    private final Set<ResourceKey> unobservable = new HashSet<>();
    private double failRate;
    private Outcome.Kind rateKind = Outcome.Kind.TRANSIENT;
    private long seed;

    private Builder(Provider delegate) {
      this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /** Every apply of these keys fails PERMANENT. */
    public Builder failPermanently(ResourceKey... keys) {
      permanent.addAll(List.of(keys));
      return this;
    }

    /** The first {@code attempts} applies of {@code key} fail TRANSIENT; later ones reach the delegate. */
    public Builder failTransiently(ResourceKey key, int attempts) {
      if (attempts < 0) {
        throw new IllegalArgumentException("attempts must be >= 0, got " + attempts + " for " + key);
      }
      transientFirst.put(Objects.requireNonNull(key, "key"), attempts);
      return this;
    }

    /** Applies of these keys wait until the call's deadline or cancellation, then return UNKNOWN. */
    public Builder hang(ResourceKey... keys) {
      hanging.addAll(List.of(keys));
      return this;
    }

    /**
     * Applies of these keys ignore the call's deadline, as a provider hung for good does: only the
     * call's cancellation (the engine cancels a call it gave up on) ends the wait, bounded at 10 s;
     * then UNKNOWN. Unlike {@link #hang}, which returns at the deadline, the same instant the
     * engine's call timeout fires, the engine's cut-off is always what a sync reports.
     */
    public Builder hangUntilCancelled(ResourceKey... keys) {
      hungForGood.addAll(List.of(keys));
      return this;
    }

    /** Observe reports these keys UNKNOWN. */
    public Builder unobservable(ResourceKey... keys) {
      unobservable.addAll(List.of(keys));
      return this;
    }

    /** Fails a {@code rate} (0..1) share of otherwise unfaulted applies TRANSIENT, from a seeded random. */
    public Builder failRandomly(double rate, long randomSeed) {
      return failRandomly(rate, randomSeed, Outcome.Kind.TRANSIENT);
    }

    /** Like {@link #failRandomly(double, long)} with the failure kind (TRANSIENT or PERMANENT). */
    public Builder failRandomly(double rate, long randomSeed, Outcome.Kind kind) {
      if (!(rate >= 0 && rate <= 1)) {
        throw new IllegalArgumentException("rate must be within 0..1, got " + rate);
      }
      if (kind != Outcome.Kind.TRANSIENT && kind != Outcome.Kind.PERMANENT) {
        throw new IllegalArgumentException("random failures are TRANSIENT or PERMANENT, not " + kind);
      }
      this.failRate = rate;
      this.seed = randomSeed;
      this.rateKind = kind;
      return this;
    }

    /** The wrapper. */
    public FaultInjectingProvider build() {
      return new FaultInjectingProvider(this);
    }
  }
}
