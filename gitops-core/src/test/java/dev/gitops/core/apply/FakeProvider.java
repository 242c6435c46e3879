package dev.gitops.core.apply;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Health;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Provider;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

/** A map-backed provider for executor tests, with scripted outcomes, health and slow deletes. */
class FakeProvider implements Provider {
  private final String id;
  private final boolean batches;
  final Map<ResourceKey, JsonNode> live = new ConcurrentHashMap<>();
  /** What happened, in order: "start:name", "end:name", "health:name:STATUS", "observe:name:STATUS". */
  final List<String> log = Collections.synchronizedList(new ArrayList<>());
  final Map<ResourceKey, AtomicInteger> attempts = new ConcurrentHashMap<>();
  final List<List<String>> batchesSeen = Collections.synchronizedList(new ArrayList<>());
  final List<CallContext> contexts = Collections.synchronizedList(new ArrayList<>());
  final AtomicInteger running = new AtomicInteger();
  final AtomicInteger maxRunning = new AtomicInteger();
  final AtomicInteger singleApplies = new AtomicInteger();
  private final Map<ResourceKey, Deque<BiFunction<Change, CallContext, Outcome>>> scripts = new ConcurrentHashMap<>();
  private final Map<ResourceKey, Deque<Health>> healthScripts = new ConcurrentHashMap<>();
  private final Map<ResourceKey, AtomicInteger> lingering = new ConcurrentHashMap<>();
  private volatile CountDownLatch gate;

  FakeProvider(String id, boolean batches) {
    this.id = id;
    this.batches = batches;
  }

  FakeProvider(String id) {
    this(id, false);
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public boolean prefersBatches() {
    return batches;
  }

  /** The next apply calls of {@code key} behave like {@code steps}, one per attempt; then default. */
  @SafeVarargs
  final FakeProvider script(ResourceKey key, BiFunction<Change, CallContext, Outcome>... steps) {
    scripts.computeIfAbsent(key, k -> new ArrayDeque<>()).addAll(List.of(steps));
    return this;
  }

  /** Successive health checks of {@code key} return these; the last one repeats. */
  FakeProvider health(ResourceKey key, Health... states) {
    healthScripts.put(key, new ArrayDeque<>(List.of(states)));
    return this;
  }

  /** After deletion {@code key} is still observed PRESENT this many times (a finalizer). */
  FakeProvider lingerAfterDelete(ResourceKey key, int observes) {
    lingering.put(key, new AtomicInteger(observes));
    return this;
  }

  /** Apply calls wait (up to a second) until {@code n} calls run at once. */
  FakeProvider waitForConcurrency(int n) {
    gate = new CountDownLatch(n);
    return this;
  }

  @Override
  public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
    enter();
    try {
      Map<ResourceKey, Observation> out = new LinkedHashMap<>();
      for (ResourceKey k : keys) {
        AtomicInteger linger = lingering.get(k);
        Observation o;
        if (linger != null && !live.containsKey(k) && linger.getAndDecrement() > 0) {
          o = Observation.present(k, dev.gitops.api.Documents.object(Map.of("finalizers", dev.gitops.api.Documents.nodes().textNode("x"))), "v");
        } else {
          JsonNode doc = live.get(k);
          o = doc == null ? Observation.absent(k) : Observation.present(k, doc, "v");
        }
        log.add("observe:" + k.name() + ":" + o.status());
        out.put(k, o);
      }
      return out;
    } finally {
      running.decrementAndGet();
    }
  }

  @Override
  public Health health(ResourceKey key, Observation observation) {
    Deque<Health> q = healthScripts.get(key);
    Health h = Health.healthy();
    if (q != null) {
      synchronized (q) {
        h = q.size() > 1 ? q.poll() : q.peek();
      }
    }
    log.add("health:" + key.name() + ":" + h.status());
    return h;
  }

  @Override
  public Outcome apply(Change change, CallContext ctx) {
    singleApplies.incrementAndGet();
    enter();
    try {
      return applyOne(change, ctx);
    } finally {
      running.decrementAndGet();
    }
  }

  @Override
  public Map<ResourceKey, Outcome> applyAll(List<Change> changes, CallContext ctx) {
    enter();
    try {
      batchesSeen.add(changes.stream().map(c -> c.key().name()).toList());
      Map<ResourceKey, Outcome> out = new LinkedHashMap<>();
      for (Change c : changes) {
        out.put(c.key(), applyOne(c, ctx));
      }
      return out;
    } finally {
      running.decrementAndGet();
    }
  }

  private void enter() {
    int now = running.incrementAndGet();
    maxRunning.accumulateAndGet(now, Math::max);
    CountDownLatch g = gate;
    if (g != null) {
      g.countDown();
      try {
        g.await(1, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private Outcome applyOne(Change change, CallContext ctx) {
    ResourceKey key = change.key();
    contexts.add(ctx);
    attempts.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
    log.add("start:" + key.name());
    try {
      Deque<BiFunction<Change, CallContext, Outcome>> q = scripts.get(key);
      BiFunction<Change, CallContext, Outcome> step = null;
      if (q != null) {
        synchronized (q) {
          step = q.poll();
        }
      }
      return step != null ? step.apply(change, ctx) : perform(change);
    } finally {
      log.add("end:" + key.name());
    }
  }

  /** What a well-behaved provider does. */
  Outcome perform(Change change) {
    switch (change.action()) {
      case CREATE, UPDATE, REPLACE -> {
        boolean existed = live.put(change.key(), change.target()) != null;
        return change.action() == Action.CREATE && !existed ? Outcome.created() : Outcome.configured();
      }
      case DELETE -> {
        live.remove(change.key());
        return Outcome.deleted();
      }
      default -> {
        return Outcome.unchanged();
      }
    }
  }

  int attemptsOf(ResourceKey key) {
    AtomicInteger a = attempts.get(key);
    return a == null ? 0 : a.get();
  }

  /** Index of {@code entry} in the log, or -1. */
  int indexOf(String entry) {
    synchronized (log) {
      return log.indexOf(entry);
    }
  }

  /** Blocks until the call's token is cancelled or its thread interrupted (at most 5 s), then returns CONFIGURED. */
  static Outcome hang(Change change, CallContext ctx) {
    CountDownLatch done = new CountDownLatch(1);
    ctx.cancellation().onCancel(done::countDown);
    try {
      done.await(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return Outcome.configured();
  }
}
