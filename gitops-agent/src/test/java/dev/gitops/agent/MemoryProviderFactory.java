package dev.gitops.agent;

import dev.gitops.agent.config.ConfigNode;
import dev.gitops.agent.spi.ProviderFactory;
import dev.gitops.api.Change;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.core.decode.YamlManifestDecoder;
import dev.gitops.testkit.ForwardingProvider;
import dev.gitops.testkit.InMemoryProvider;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The {@code memory} provider type for tests of the agent (and of {@code gitops run} as a process,
 * through ServiceLoader): testkit's in-memory live system, one per target name that outlives the
 * target's restarts, reading the generic manifest format from Git. Options slow it down to show
 * the agent's scheduling and shutdown:
 *
 * <pre>
 * provider: {type: memory, observeDelay: 100ms, applyDelay: 5s, cancellable: false}
 * </pre>
 *
 * <p>{@code cancellable: false} makes both delays ignore the sync's cancellation, as a provider
 * stuck in a call would.
 */
public final class MemoryProviderFactory implements ProviderFactory {

  /** Live systems by target name. */
  final Map<String, InMemoryProvider> live = new ConcurrentHashMap<>();
  /** Observe calls by target name. */
  final Map<String, AtomicInteger> observes = new ConcurrentHashMap<>();
  /** Applies running now, by target name. */
  final Map<String, AtomicInteger> applying = new ConcurrentHashMap<>();
  /** Providers closed, by target name. */
  final Map<String, AtomicInteger> closes = new ConcurrentHashMap<>();
  /** Latches a target's provider waits for in close() (bounded), to hold a reload in the target's stop. */
  final Map<String, java.util.concurrent.CountDownLatch> closeGates = new ConcurrentHashMap<>();
  /** Targets whose provider waits at its close gate now. */
  final java.util.Set<String> closing = ConcurrentHashMap.newKeySet();
  /** Applies that saw their sync cancelled. */
  final AtomicInteger cancelledApplies = new AtomicInteger();
  /** Targets observing now (a target syncs once at a time, and may observe several times in a sync). */
  private final Map<String, Integer> observing = new java.util.HashMap<>();
  /** The most targets seen observing at once: a lower bound of the syncs in flight at once. */
  final AtomicInteger maxInFlight = new AtomicInteger();

  @Override
  public String type() {
    return "memory";
  }

  @Override
  public Setup configure(ConfigNode options, TargetContext target) {
    options.allowOnly("type", "observeDelay", "applyDelay", "cancellable");
    Duration observeDelay = options.duration("observeDelay", Duration.ofMillis(1));
    Duration applyDelay = options.duration("applyDelay", Duration.ofMillis(1));
    boolean cancellable = options.bool("cancellable", true);
    // AutoCloseable like a provider holding connections: the agent must close it when the target stops.
    class Live extends ForwardingProvider implements AutoCloseable {
      Live() {
        super(live.computeIfAbsent(target.name(), n -> InMemoryProvider.builder().id("memory")
            .decoder(YamlManifestDecoder.builder().defaultProvider("memory").build()).build()));
      }

      @Override
      public void close() {
        closes.computeIfAbsent(target.name(), x -> new AtomicInteger()).incrementAndGet();
        java.util.concurrent.CountDownLatch gate = closeGates.get(target.name());
        if (gate != null) {
          closing.add(target.name());
          try {
            gate.await(30, java.util.concurrent.TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          } finally {
            closing.remove(target.name());
          }
        }
      }

      @Override
      public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
        observes.computeIfAbsent(target.name(), n -> new AtomicInteger()).incrementAndGet();
        enter(target.name());
        try {
          pause(observeDelay, ctx, cancellable);
          return super.observe(keys, ctx);
        } finally {
          leave(target.name());
        }
      }

      @Override
      public Outcome apply(Change change, CallContext ctx) {
        AtomicInteger n = applying.computeIfAbsent(target.name(), x -> new AtomicInteger());
        n.incrementAndGet();
        try {
          if (pause(applyDelay, ctx, cancellable)) {
            cancelledApplies.incrementAndGet();
            return Outcome.unknown("cancelled: " + ctx.cancellation().reason());
          }
          return super.apply(change, ctx);
        } finally {
          n.decrementAndGet();
        }
      }
    }
    return Setup.of("memory", Live::new);
  }

  private synchronized void enter(String target) {
    observing.merge(target, 1, Integer::sum);
    maxInFlight.accumulateAndGet(observing.size(), Math::max);
  }

  private synchronized void leave(String target) {
    observing.computeIfPresent(target, (t, n) -> n == 1 ? null : n - 1);
  }

  /** Sleeps {@code d} (bounded), waking early on cancellation when {@code cancellable}; whether it was cancelled. */
  private static boolean pause(Duration d, CallContext ctx, boolean cancellable) {
    long end = System.nanoTime() + d.toNanos();
    while (System.nanoTime() < end) {
      if (cancellable && ctx.cancellation().isCancelled()) {
        return true;
      }
      try {
        Thread.sleep(Math.min(10, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return true;
      }
    }
    return cancellable && ctx.cancellation().isCancelled();
  }

  /** The live system of {@code target}. */
  InMemoryProvider live(String target) {
    return live.get(target);
  }

  int closes(String target) {
    AtomicInteger n = closes.get(target);
    return n == null ? 0 : n.get();
  }

  int observes(String target) {
    AtomicInteger n = observes.get(target);
    return n == null ? 0 : n.get();
  }
}
