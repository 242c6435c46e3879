package dev.gitops.core.apply;

import dev.gitops.api.Action;
import dev.gitops.api.Cancellation;
import dev.gitops.api.Change;
import dev.gitops.api.ConflictException;
import dev.gitops.api.DependencyCycleException;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldPath;
import dev.gitops.api.Health;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.Plan;
import dev.gitops.api.ProviderException;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.StoreLockedException;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Provider;
import dev.gitops.core.internal.Durations;
import dev.gitops.core.internal.ProviderFailures;
import dev.gitops.core.internal.apply.AbandonedCalls;
import dev.gitops.core.internal.graph.Cycles;
import dev.gitops.core.redact.Redactor;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Deque;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.HashSet;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@link Executor#execute} call: a state machine driven from the calling thread. Worker
 * threads only make provider calls and post their results to a mailbox; every scheduling
 * decision, hook and event happens here, on one thread, so no state is shared.
 */
final class ExecutionRun {
  private static final Logger log = LoggerFactory.getLogger(Executor.class);

  /** Actions the executor sends to a provider; NOOP and SKIP are done without a call. */
  private static final Set<Action> EXECUTED =
      EnumSet.of(Action.CREATE, Action.UPDATE, Action.DELETE, Action.REPLACE, Action.READ, Action.FORGET);
  /** Actions that write a pending document first and wait for health after. */
  private static final Set<Action> WRITES = EnumSet.of(Action.CREATE, Action.UPDATE, Action.REPLACE);
  private static final Object WAKEUP = new Object();

  private enum State { WAITING, READY, CALLING, BACKOFF, SETTLING, DONE, FAILED }

  private enum CallKind { APPLY, OBSERVE }

  private static final class Node {
    /** The planned change, replaced once by the one {@link ExecutionHooks#resolve} returns before it is sent. */
    Change change;
    final int index;
    /** The change's place in the plan. */
    final int at;
    final List<Node> dependents = new ArrayList<>();
    final List<Node> dependencies = new ArrayList<>();
    int pendingDependencies;
    State state = State.WAITING;
    int attempt;
    Outcome last;
    Outcome applied;
    long healthDeadline;
    Health lastHealth;
    boolean recorded;
    Outcome result;
    /**
     * A NOOP or SKIP that executed changes depend on: never sent to a provider, it stands in for
     * "done and healthy" (a NOOP is observed for health, a SKIP holds its dependents at once).
     */
    final boolean gate;
    /** Set once a gate holds its dependents: what they are told. */
    String holds;
    /** A write the provider reported done, waiting for the observation that verifies it. */
    boolean verifying;
    /** Set when the store could not make this node's recorded outcome durable: what it is reported as. */
    Outcome unrecorded;
    /** The conflict the provider reported, while the key is observed again to be planned again. */
    Outcome conflict;
    /** Planned again after a conflict (at most once): the new change is resolved and recorded pending anew. */
    boolean replanned;
    /** The replanned change has not been resolved and recorded pending yet. */
    boolean fresh;

    Node(Change change, int index, int at, boolean gate) {
      this.change = change;
      this.index = index;
      this.at = at;
      this.gate = gate;
    }

    ResourceKey key() {
      return change.key();
    }

    boolean isDelete() {
      return change.action() == Action.DELETE;
    }

    boolean settled() {
      return state == State.DONE || state == State.FAILED;
    }
  }

  private static final class Call {
    final long id;
    final CallKind kind;
    final List<Node> nodes;
    final long deadline;
    final Duration timeout;
    final Cancellation token;
    /** Marked by the worker when the provider returns; what an abandonment of this call waits for. */
    final AbandonedCalls.Call tracker = new AbandonedCalls.Call();
    Workers.Handle handle;

    Call(long id, CallKind kind, List<Node> nodes, long deadline, Duration timeout, Cancellation token) {
      this.id = id;
      this.kind = kind;
      this.nodes = nodes;
      this.deadline = deadline;
      this.timeout = timeout;
      this.token = token;
    }
  }

  private record Applied(long callId, Map<ResourceKey, Outcome> outcomes, Throwable error) {}

  /**
   * What one observe said about one key: its health (or absence), and for a write being
   * verified, the normalized observation, or why it can never be had (the normalizer threw).
   */
  private record Reading(Health health, Observation normalized, String unverifiable) {
    Reading(Health health) {
      this(health, null, null);
    }
  }

  private record Observed(long callId, Map<ResourceKey, Reading> readings, Throwable error) {}

  private record Timer(long when, Node node) {}

  private static final Comparator<Node> PLAN_ORDER = Comparator.comparingInt(n -> n.index);

  private final ExecutionOptions options;
  private final Plan plan;
  private final Map<String, Provider> providers;
  private final ExecutionHooks hooks;
  private final String owner;
  private final String revision;
  private final Random random = new Random();

  /** Every change's outcome, by its place in the plan (null while an executed change has none yet). */
  private final PlanOutcomes results;
  private final List<Node> nodes = new ArrayList<>();
  private final SortedSet<Node> readyApply = new TreeSet<>(PLAN_ORDER);
  private final SortedSet<Node> readyObserve = new TreeSet<>(PLAN_ORDER);
  private final PriorityQueue<Timer> timers =
      new PriorityQueue<>(Comparator.comparingLong(Timer::when).thenComparingInt(t -> t.node().index));
  private final Map<Long, Call> inFlight = new LinkedHashMap<>();
  private final BlockingQueue<Object> mailbox = new LinkedBlockingQueue<>();
  private long nextCallId;
  /** Nodes whose outcome {@link ExecutionHooks#afterOutcome} took since the last {@link #flushOutcomes}. */
  private final List<Node> unflushed = new ArrayList<>();
  private int unsettled;
  private boolean cancelled;
  /** The keys a cancellation settled unfinished, while {@link #cancelAll} runs; null otherwise. */
  private List<ResourceKey> cutOff;
  private Workers workers;
  private AbandonedCalls abandoned;
  private final Runnable wakeup = () -> mailbox.offer(WAKEUP);
  private Cancellation runToken;
  /** Why nothing more is sent: the store refused a round's pending records as a whole; null while it records. */
  private String storeLost;
  private long syncDeadline;

  ExecutionRun(ExecutionOptions options, Plan plan, Map<String, Provider> providers, ExecutionHooks hooks,
      String owner) {
    this.options = options;
    this.plan = plan;
    this.providers = Map.copyOf(providers);
    this.hooks = hooks;
    this.owner = owner;
    this.revision = plan.revision();
    this.results = new PlanOutcomes(plan.changes(), plan.fingerprints(), plan.id());
    buildGraph();
  }

  private void buildGraph() {
    Map<ResourceKey, Node> byKey = new HashMap<>();
    int index = 0;
    List<Change> changes = plan.changes();
    for (int at = 0; at < changes.size(); at++) {
      // an array write per change (NOOP and SKIP take their outcome at once)
      Change c = changes.get(at);
      switch (c.action()) {
        case NOOP -> results.set(at, Outcome.unchanged());
        case SKIP -> results.set(at, Outcome.skipped(c));
        default -> {
          if (!EXECUTED.contains(c.action())) {
            throw new IllegalArgumentException(c.key() + ": the executor cannot run action " + c.action());
          }
          Node n = new Node(c, index++, at, false);
          nodes.add(n);
          byKey.put(c.key(), n);
        }
      }
    }
    for (Node n : List.copyOf(nodes)) {
      // Dependencies on keys outside the plan are satisfied already; a NOOP or SKIP becomes a gate.
      for (ResourceKey dep : plan.dependencies().getOrDefault(n.key(), Collections.emptySortedSet())) {
        Node d = byKey.get(dep);
        int at = d == null ? results.at(dep) : -1;
        if (at >= 0 && needsGate(changes.get(at))) {
          // not executed, so a NOOP or SKIP
          d = new Node(changes.get(at), index++, at, true);
          d.applied = results.get(dep);
          nodes.add(d);
          byKey.put(dep, d);
        }
        if (d != null && d != n) {
          d.dependents.add(n);
          n.dependencies.add(d);
          n.pendingDependencies++;
        }
      }
    }
    checkAcyclic();
    unsettled = nodes.size();
  }

  /**
   * Whether dependents of this NOOP or SKIP must wait on it: a SKIP always holds them (the object
   * is not what the plan wants, or not known); a NOOP of a present object is checked for health
   * when health waits are on (unchanged is not healthy). A NOOP of an absent object (removed from
   * Git and already gone) is done.
   */
  private boolean needsGate(Change c) {
    if (c.action() == Action.SKIP) {
      return true;
    }
    return options.waitForHealth() && c.live() != null && providers.containsKey(c.key().provider());
  }

  /** Refuses a cycle before anything runs, naming it. */
  private void checkAcyclic() {
    List<Node> cycle = Cycles.find(nodes, n -> n.dependencies);
    if (!cycle.isEmpty()) {
      throw new DependencyCycleException(cycle.stream().map(Node::key).toList());
    }
  }

  Map<ResourceKey, Outcome> run(Workers threads, AbandonedCalls abandonedCalls, Cancellation cancellation) {
    this.workers = threads;
    this.abandoned = abandonedCalls;
    this.runToken = cancellation.child();
    boolean ended = false;
    try {
      // A call of an earlier run (or another run) that returns frees a slot this run may be waiting for.
      workers.wakeOnRelease(wakeup);
      Map<ResourceKey, Outcome> outcomes = runLoop();
      ended = true;
      return outcomes;
    } finally {
      if (!ended) {
        abandonInFlight();
      }
      workers.stopWaking(wakeup);
      // The run is over: the caller's token must not keep a callback for it.
      runToken.close();
    }
  }

  private Map<ResourceKey, Outcome> runLoop() {
    this.syncDeadline = System.nanoTime() + options.syncTimeout().toNanos();
    runToken.onCancel(wakeup);
    log.debug("executing {} changes of plan {} at {}", nodes.size(), plan.id(), revision);
    for (Node n : nodes) {
      if (n.gate && n.change.action() == Action.SKIP) {
        finish(n, Outcome.permanentFailure("skipped: " + n.change.reason() + declaredAt(n.change), null), true);
      } else if (n.gate) {
        startSettling(n, n.applied, System.nanoTime());
      }
    }
    for (Node n : nodes) {
      if (n.state == State.WAITING && n.pendingDependencies == 0) {
        n.state = State.READY;
        readyApply.add(n);
      }
    }
    boolean interrupted = false;
    while (unsettled > 0) {
      long now = System.nanoTime();
      checkCancelled(now);
      fireTimers(now);
      expireCalls(now);
      dispatch(now);
      if (unsettled == 0) {
        break;
      }
      if (inFlight.isEmpty() && timers.isEmpty() && readyApply.isEmpty() && readyObserve.isEmpty()) {
        // Cannot happen with an acyclic graph; fail loudly rather than wait forever.
        throw new IllegalStateException("executor stalled with " + unsettled + " changes unsettled in plan "
            + plan.id());
      }
      // every outcome recorded so far is durable before the executor waits
      flushOutcomes();
      if (runToken.isCancelled() && !cancelled) {
        continue;
      }
      long wait = nextWakeup(now) - now;
      Object message;
      try {
        message = wait <= 0 ? mailbox.poll() : mailbox.poll(wait, TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        // The caller's thread was interrupted: stop like a cancellation, then restore the flag.
        interrupted = true;
        runToken.cancel("interrupted");
        continue;
      }
      if (message != null && message != WAKEUP) {
        checkCancelled(System.nanoTime());
        handle(message);
      }
    }
    flushOutcomes();
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    // every change is settled, and nothing writes the outcomes once the run is over: the caller
    // gets them as they are (a copy cost a hash-map write per change, most of them NOOPs)
    return results.view(true);
  }

  private long nextWakeup(long now) {
    long at = syncDeadline;
    if (!timers.isEmpty()) {
      at = Math.min(at, timers.peek().when());
    }
    for (Call c : inFlight.values()) {
      at = Math.min(at, c.deadline);
    }
    return at;
  }

  // ---- cancellation -------------------------------------------------------------------------

  private void checkCancelled(long now) {
    if (cancelled) {
      return;
    }
    if (!runToken.isCancelled() && now - syncDeadline >= 0) {
      runToken.cancel("sync timed out after " + Durations.human(options.syncTimeout()));
    }
    if (runToken.isCancelled()) {
      cancelAll(runToken.reason());
    }
  }

  private void cancelAll(String reason) {
    cancelled = true;
    cutOff = new ArrayList<>();
    for (Call call : inFlight.values()) {
      abandon(call, "cancelled: " + reason);
      for (Node n : call.nodes) {
        if (call.kind == CallKind.APPLY) {
          Outcome o = Outcome.unknown("cancelled during the provider call: " + reason);
          finish(n, record(n, o), false);
        } else {
          cancelSettling(n, reason);
        }
      }
    }
    inFlight.clear();
    timers.clear();
    readyApply.clear();
    readyObserve.clear();
    for (Node n : nodes) {
      if (n.settled()) {
        continue;
      }
      if (n.state == State.SETTLING) {
        cancelSettling(n, reason);
      } else if (n.attempt > 0) {
        // Tried before and waiting to retry: the provider reported that the last attempt did not land.
        Outcome o = new Outcome(n.last.kind(), "cancelled before attempt " + (n.attempt + 1) + ": " + reason
            + "; last attempt: " + n.last.message(), n.last.cause(), Map.of());
        finish(n, record(n, o), false);
      } else {
        settle(n, Outcome.permanentFailure("cancelled before start: " + reason, null), true);
      }
    }
    // one line for what the cancellation cut off, not one per key (a batch in flight may hold thousands)
    List<ResourceKey> keys = cutOff;
    cutOff = null;
    if (keys.isEmpty()) {
      log.info("execution of plan {} at {} cancelled: {}", plan.id(), revision, reason);
    } else {
      log.warn("execution of plan {} at {} cancelled ({}): {} change{} cut off or not started ({}{}); the next sync"
          + " observes them again", plan.id(), revision, reason, keys.size(), keys.size() == 1 ? "" : "s",
          keys.subList(0, Math.min(3, keys.size())).stream().map(ResourceKey::toString)
              .collect(java.util.stream.Collectors.joining(", ")), keys.size() > 3 ? ", ..." : "");
    }
  }

  private void cancelSettling(Node n, String reason) {
    if (n.conflict != null) {
      finish(n, record(n, again(n.conflict, "cancelled before it was planned again: " + reason)), false);
      return;
    }
    Outcome o = Outcome.unknown(verb(n) + " but cancelled while waiting for "
        + (n.isDelete() ? "it to disappear" : n.verifying ? "it to be observed again" : "health") + ": " + reason);
    finish(n, n.recorded || n.gate ? o : record(n, o), false);
  }

  // ---- timers and deadlines -----------------------------------------------------------------

  private void fireTimers(long now) {
    while (!timers.isEmpty() && timers.peek().when() - now <= 0) {
      Node n = timers.poll().node();
      if (n.state == State.BACKOFF) {
        n.state = State.READY;
        readyApply.add(n);
      } else if (n.state == State.SETTLING) {
        readyObserve.add(n);
      }
    }
  }

  private void expireCalls(long now) {
    for (Iterator<Call> it = inFlight.values().iterator(); it.hasNext(); ) {
      Call call = it.next();
      if (call.deadline - now > 0) {
        continue;
      }
      it.remove();
      String why = "timed out after " + Durations.human(call.timeout);
      abandon(call, why);
      for (Node n : call.nodes) {
        if (call.kind == CallKind.APPLY) {
          // Never retried: the call may have landed, so this is handled like a crash.
          Outcome o = Outcome.unknown(why + ": the provider call did not return by its deadline");
          finish(n, record(n, o), true);
        } else {
          observed(n, new Reading(Health.unknown("observe " + why)), now);
        }
      }
    }
  }

  /**
   * After the run ended with an exception or error (a store that failed, an error from a hook):
   * every call still in flight is abandoned, so its keys stay unknown until it returns and no later
   * run sends a second call for them meanwhile. What fails here is added to what is thrown.
   */
  private void abandonInFlight() {
    for (Call call : List.copyOf(inFlight.values())) {
      try {
        abandon(call, "the run ended abnormally");
      } catch (RuntimeException e) {
        // the run's own failure is what the caller must see; this one is logged beside it
        log.warn("abandoning call {} of plan {} failed: {}", call.id, plan.id(), e.toString());
      }
    }
    inFlight.clear();
  }

  /**
   * Gives up on a call in flight: cancels its token, interrupts its thread and, for an apply whose
   * provider has not returned, records its keys as abandoned, so no later call touches them until
   * it returns and they are observed again (an interrupt does not stop a provider that ignores it).
   */
  private void abandon(Call call, String why) {
    call.token.cancel(why);
    call.token.close();
    call.handle.stop();
    if (call.kind == CallKind.APPLY && !call.tracker.ended()) {
      for (Node n : call.nodes) {
        abandoned.abandon(call.tracker, List.of(n.key()), n.change.action().name(), why);
      }
      log.warn("abandoned the {} call for {} at {} ({}); its keys stay unknown until it returns and they are"
          + " observed again", call.nodes.get(0).change.action(),
          call.nodes.size() == 1 ? call.nodes.get(0).key() : call.nodes.size() + " keys", revision, why);
    }
  }

  // ---- dispatch -----------------------------------------------------------------------------

  private void dispatch(long now) {
    // outcomes recorded so far are durable before anything more is sent; a flush that failed
    // cancelled the run token, which the loop turns into a cancellation at its next turn
    flushOutcomes();
    if (cancelled || runToken.isCancelled()) {
      return;
    }
    // Health checks first: they are cheap and what dependents are waiting for.
    // Every call takes a slot of the executor's bounded threads; when calls abandoned earlier
    // still hold them, the rest waits until one returns (the release wakes this run) or the deadline.
    while (inFlight.size() < options.parallelism() && !readyObserve.isEmpty() && workers.tryAcquire()) {
      List<Node> group = takeGroup(readyObserve, readyObserve.first().key().provider(), Integer.MAX_VALUE);
      submitObserve(providers.get(group.get(0).key().provider()), group, now);
    }
    // The calls of this round are gathered first, so that their pending writes are one store write.
    List<List<Node>> groups = new ArrayList<>();
    List<Provider> groupProviders = new ArrayList<>();
    while (inFlight.size() + groups.size() < options.parallelism() && !readyApply.isEmpty()) {
      Node first = readyApply.first();
      String providerId = first.key().provider();
      Provider provider = providers.get(providerId);
      if (provider == null) {
        readyApply.remove(first);
        finish(first, Outcome.permanentFailure("no provider with id '" + providerId + "' for " + first.key()
            + " (known: " + new TreeSet<>(providers.keySet()) + ")", null), true);
        continue;
      }
      if (!workers.tryAcquire()) {
        break;
      }
      List<Node> group;
      // a part of a larger batch is sent at once, before the next part is taken: its pending records
      // are written while the parts before it are applied (Provider#batchLimit)
      boolean part = false;
      if (batches(provider)) {
        int limit = batchLimit(provider);
        group = takeGroup(readyApply, providerId, limit);
        part = group.size() == limit;
      } else {
        readyApply.remove(first);
        group = new ArrayList<>(List.of(first));
      }
      for (Iterator<Node> it = group.iterator(); it.hasNext(); ) {
        Node n = it.next();
        AbandonedCalls.Entry earlier = abandoned.mayStillLand(n.key()) ? abandoned.get(n.key()) : null;
        if (earlier != null) {
          // Never a second call while the first may still land: the two could land in either order.
          it.remove();
          finish(n, Outcome.unknown("not started: " + earlier.describe()), true);
        }
      }
      for (Iterator<Node> it = group.iterator(); it.hasNext(); ) {
        Node n = it.next();
        if (firstSend(n)) {
          try {
            n.change = Objects.requireNonNull(hooks.resolve(n.change, settledOutcomes()), "resolved change");
          } catch (RuntimeException e) {
            it.remove();
            log.warn("{}: cannot resolve the values it needs, not applying (revision {}): {}", n.key(), revision,
                e.getMessage());
            finish(n, Outcome.permanentFailure(e.getMessage(), e), true);
          }
        }
      }
      if (group.isEmpty()) {
        workers.giveBack();
        continue;
      }
      if (part) {
        send(List.of(group), List.of(provider), now);
        continue;
      }
      groups.add(group);
      groupProviders.add(provider);
    }
    send(groups, groupProviders, now);
  }

  /**
   * Writes the pending records of {@code groups} in one store write and submits each group to its
   * provider (the same place of {@code groupProviders}); a key whose pending write failed is not
   * applied. Each group holds a worker slot, given back when nothing of it is left to send.
   */
  private void send(List<List<Node>> groups, List<Provider> groupProviders, long now) {
    Map<ResourceKey, RuntimeException> failed = storeLost == null ? writePending(groups) : Map.of();
    if (storeLost == null) {
      for (RuntimeException e : failed.values()) {
        if (e instanceof StoreLockedException) {
          // another holder has the store now (a member fenced out): not one more write to it
          loseStore("the store refused a pending record: " + e.getMessage());
          break;
        }
      }
    }
    // one failure of the store is one exception for many keys: its trace is logged once
    Set<RuntimeException> logged = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    for (int i = 0; i < groups.size(); i++) {
      List<Node> group = groups.get(i);
      for (Iterator<Node> it = group.iterator(); it.hasNext(); ) {
        Node n = it.next();
        RuntimeException e = failed.get(n.key());
        if (e != null) {
          it.remove();
          if (logged.add(e)) {
            log.warn("{}: recording the pending state failed, not applying (revision {})", n.key(), revision, e);
          } else {
            log.debug("{}: recording the pending state failed, not applying (revision {}): {}", n.key(), revision,
                e.getMessage());
          }
          finish(n, Outcome.permanentFailure("recording the pending state failed: " + e.getMessage(), e), true);
        } else if (storeLost != null) {
          // its pending record may be written: it stays, and the next sync takes the change up again
          it.remove();
          finish(n, Outcome.permanentFailure("cancelled before start: " + storeLost, null), true);
        }
      }
      if (!group.isEmpty()) {
        submitApply(groupProviders.get(i), group, now);
      } else {
        workers.giveBack();
      }
    }
  }

  /** A write sent for the first time: its first attempt, or the first of a change planned again after a conflict. */
  private static boolean firstSend(Node n) {
    return (n.attempt == 0 || n.fresh) && WRITES.contains(n.change.action());
  }

  /**
   * The pending writes of a round's first sends (first attempts and changes planned again), in one
   * call; returns the keys whose write failed.
   */
  private Map<ResourceKey, RuntimeException> writePending(List<List<Node>> groups) {
    List<Change> writes = new ArrayList<>();
    for (List<Node> group : groups) {
      for (Node n : group) {
        if (firstSend(n)) {
          writes.add(n.change);
        }
        n.fresh = false;
      }
    }
    if (writes.isEmpty()) {
      return Map.of();
    }
    try {
      Map<ResourceKey, RuntimeException> failed = hooks.beforeApplyAll(List.copyOf(writes));
      return failed == null ? Map.of() : failed;
    } catch (RuntimeException e) {
      // the store's one write of the round failed as a whole: as when recording outcomes fails, a
      // store that cannot record must not see more writes
      loseStore("recording the pending state in the store failed: " + e.getMessage());
      Map<ResourceKey, RuntimeException> all = new HashMap<>();
      writes.forEach(c -> all.put(c.key(), e));
      return all;
    }
  }

  /**
   * Sends nothing more after the store failed as a whole: the run is cancelled with {@code reason}
   * (what is in flight is abandoned, what waits is reported cancelled), and what this dispatch round
   * still holds is not sent.
   */
  private void loseStore(String reason) {
    if (storeLost == null) {
      storeLost = reason;
      log.warn("execution of plan {} at {}: {}; sending nothing more", plan.id(), revision, reason);
      runToken.cancel(reason);
    }
  }

  /**
   * Asks the hooks to make the outcomes recorded since the last call durable. When that fails,
   * those changes are reported PERMANENT (their pending records stay, so nothing they wrote is
   * forgotten) and the execution is cancelled: a store that cannot record must not see more writes.
   */
  private void flushOutcomes() {
    if (unflushed.isEmpty()) {
      return;
    }
    List<Node> batch = List.copyOf(unflushed);
    unflushed.clear();
    try {
      hooks.flushOutcomes();
    } catch (RuntimeException e) {
      log.warn("recording the outcomes of {} changes failed (revision {}); cancelling the execution", batch.size(),
          revision, e);
      for (Node n : batch) {
        n.unrecorded = Outcome.permanentFailure(verb(n) + " but recording the outcome failed: " + e.getMessage(), e);
        if (n.settled() && n.result.isOk()) {
          n.result = n.unrecorded;
          n.state = State.FAILED;
          results.set(n.at, n.unrecorded);
        }
      }
      runToken.cancel("recording outcomes in the store failed: " + e.getMessage());
    }
  }

  /**
   * The outcomes of the keys settled so far, for {@link ExecutionHooks#resolve}: a read-only view
   * (no copy per change), in which a key not settled yet maps to null.
   */
  private Map<ResourceKey, Outcome> settledOutcomes() {
    return results.view(false);
  }

  /** Up to {@code limit} ready nodes of {@code providerId}, in the ready set's order, taken out of it. */
  private static List<Node> takeGroup(SortedSet<Node> ready, String providerId, int limit) {
    List<Node> group = new ArrayList<>();
    for (Iterator<Node> it = ready.iterator(); it.hasNext() && group.size() < limit; ) {
      Node n = it.next();
      if (n.key().provider().equals(providerId)) {
        group.add(n);
        it.remove();
      }
    }
    return group;
  }

  private Call newCall(CallKind kind, List<Node> group, long now) {
    long deadline = Math.min(now + options.callTimeout().toNanos(), syncDeadline);
    Duration timeout = Duration.ofNanos(Math.max(0, deadline - now));
    Call call = new Call(nextCallId++, kind, List.copyOf(group), deadline, timeout, runToken.child());
    inFlight.put(call.id, call);
    return call;
  }

  private CallContext context(Call call, long now) {
    return new CallContext(owner, revision, Instant.now().plusNanos(call.deadline - now), call.token);
  }

  private void submitApply(Provider provider, List<Node> group, long now) {
    Call call = newCall(CallKind.APPLY, group, now);
    CallContext ctx = context(call, now);
    List<Change> changes = new ArrayList<>();
    for (Node n : group) {
      n.attempt++;
      n.state = State.CALLING;
      changes.add(n.change);
      log.debug("{} {} (attempt {}, revision {})", n.change.action(), n.key(), n.attempt, revision);
      emit(new SyncEvent.ChangeStarted(revision, n.change, n.attempt));
    }
    boolean batch = batches(provider);
    long id = call.id;
    call.handle = workers.submit(() -> {
      try {
        Map<ResourceKey, Outcome> out;
        if (batch) {
          out = provider.applyAll(List.copyOf(changes), ctx);
        } else {
          out = new HashMap<>();
          out.put(changes.get(0).key(), provider.apply(changes.get(0), ctx));
        }
        mailbox.offer(new Applied(id, out, null));
      } catch (Throwable t) {
        // Anything the provider throws (even an Error) must reach the coordinator, or it would wait forever.
        mailbox.offer(new Applied(id, null, t));
      }
    }, () -> AbandonedCalls.ended(call.tracker));
  }

  private void submitObserve(Provider provider, List<Node> group, long now) {
    Call call = newCall(CallKind.OBSERVE, group, now);
    CallContext ctx = context(call, now);
    List<ResourceKey> keys = new ArrayList<>();
    Set<ResourceKey> deletes = new LinkedHashSet<>();
    Set<ResourceKey> verifies = new LinkedHashSet<>();
    for (Node n : group) {
      keys.add(n.key());
      if (n.conflict != null) {
        verifies.add(n.key());  // to be planned again: the normalized observation, as the planner reads it
      } else if (n.isDelete()) {
        deletes.add(n.key());
      } else if (n.verifying) {
        verifies.add(n.key());
      }
    }
    boolean healthWanted = options.waitForHealth();
    long id = call.id;
    call.handle = workers.submit(() -> {
      try {
        Map<ResourceKey, Observation> seen = provider.observe(List.copyOf(keys), ctx);
        Map<ResourceKey, Reading> out = new HashMap<>();
        for (ResourceKey k : keys) {
          Observation o = seen == null ? null : seen.get(k);
          if (o != null && !k.equals(o.key())) {
            // an observation of another object never stands for this one (as when planning): an
            // absent one must not complete this key's delete, a present one must not verify it
            o = Observation.unknown(k, "provider '" + provider.id() + "' answered with an observation of " + o.key());
          }
          if (deletes.contains(k)) {
            out.put(k, new Reading(absence(provider, k, o)));
          } else if (verifies.contains(k)) {
            Health h = healthWanted ? health(provider, k, o) : null;
            try {
              out.put(k, new Reading(h, normalized(k, o, provider), null));
            } catch (RuntimeException e) {
              // One object the normalizer cannot handle fails only its key, and asking again will not help.
              out.put(k, new Reading(h, null, "normalizing the live object failed: " + e));
            }
          } else {
            out.put(k, new Reading(health(provider, k, o)));
          }
        }
        mailbox.offer(new Observed(id, out, null));
      } catch (Throwable t) {
        // As for apply: the coordinator must hear back; the failure counts as health UNKNOWN.
        mailbox.offer(new Observed(id, null, t));
      }
    }, () -> AbandonedCalls.ended(call.tracker));
  }

  /**
   * Whether {@code provider} takes the ready changes in one {@link Provider#applyAll} call. A
   * provider whose answer throws gets one change per call, which every provider takes, rather than
   * end the run with changes in flight and outcomes not yet recorded.
   */
  private boolean batches(Provider provider) {
    try {
      return provider.prefersBatches();
    } catch (RuntimeException e) {
      if (unbatched.add(provider.id())) {
        log.warn("provider '{}' failed to say whether it prefers batches; applying its changes one by one (revision"
            + " {}): {}", provider.id(), revision, e.toString());
      }
      return false;
    }
  }

  /**
   * How many ready changes {@code provider} takes in one {@link Provider#applyAll} call ({@link
   * Provider#batchLimit}); every ready one when its answer throws or is below 1 (a batch in one call
   * is what a batching provider took before it could say), said once per run.
   */
  private int batchLimit(Provider provider) {
    try {
      int limit = provider.batchLimit();
      if (limit >= 1) {
        return limit;
      }
      if (badLimits.add(provider.id())) {
        log.warn("provider '{}' gave a batch limit of {}; sending its ready changes in one call (revision {})",
            provider.id(), limit, revision);
      }
    } catch (RuntimeException e) {
      if (badLimits.add(provider.id())) {
        log.warn("provider '{}' failed to give its batch limit; sending its ready changes in one call (revision {}):"
            + " {}", provider.id(), revision, e.toString());
      }
    }
    return Integer.MAX_VALUE;
  }

  /** The providers whose {@link Provider#batchLimit} failed in this run: said once each. */
  private final Set<String> badLimits = new HashSet<>();

  /** The providers whose {@link Provider#prefersBatches} failed in this run: said once each. */
  private final Set<String> unbatched = new HashSet<>();

  /** Runs on a worker thread. */
  private static Health health(Provider provider, ResourceKey key, Observation o) {
    if (o == null) {
      return Health.unknown("the provider returned no observation");
    }
    if (o.isUnknown()) {
      return Health.unknown("cannot observe: " + o.reason());
    }
    try {
      Health h = provider.health(key, o);
      return h == null ? Health.unknown("the provider returned no health") : h;
    } catch (RuntimeException e) {
      // A failing health check is not a verdict on the object: keep polling until the timeout.
      return Health.unknown("health check failed: " + e);
    }
  }

  /**
   * Runs on a worker thread: the observation with its live document normalized as the planner
   * saw it (an UNKNOWN one when the provider returned none). Throws what the normalizer throws.
   */
  private static Observation normalized(ResourceKey key, Observation o, Provider provider) {
    if (o == null) {
      return Observation.unknown(key, "the provider returned no observation");
    }
    if (!o.isPresent()) {
      return o;
    }
    return o.withLive(Documents.freeze(provider.normalize(key, o.live())));
  }

  /**
   * A deleted object is "healthy" once it is gone; while it is still there, what the provider says
   * of its health tells why (a Kubernetes object waiting for its finalizers). Runs on a worker thread.
   */
  private static Health absence(Provider provider, ResourceKey key, Observation o) {
    if (o == null) {
      return Health.unknown("the provider returned no observation");
    }
    return switch (o.status()) {
      case ABSENT -> Health.healthy();
      case PRESENT -> {
        Health h = health(provider, key, o);
        yield Health.progressing("still present" + (h.message().isEmpty() || h.status() == Health.Status.HEALTHY
            ? "" : ": " + h.message()));
      }
      case UNKNOWN -> Health.unknown("cannot observe: " + o.reason());
    };
  }

  // ---- results ------------------------------------------------------------------------------

  private void handle(Object message) {
    long now = System.nanoTime();
    if (message instanceof Applied a) {
      Call call = inFlight.remove(a.callId());
      if (call == null) {
        log.debug("ignoring the late result of abandoned call {} in plan {}", a.callId(), plan.id());
        return;
      }
      call.token.close();
      Map<Integer, Duration> delays = new HashMap<>();
      for (Node n : call.nodes) {
        Outcome o;
        if (a.error() != null) {
          o = fromException(n, a.error());
        } else {
          o = a.outcomes() == null ? null : a.outcomes().get(n.key());
          if (o == null) {
            o = Outcome.permanentFailure("provider '" + n.key().provider() + "' returned no outcome for " + n.key(),
                null);
          }
        }
        // a provider's error may quote the sensitive values it was given: hidden before it is logged, kept or shown
        attemptDone(n, Redactor.marking().redact(n.change, o), delays, now);
      }
    } else if (message instanceof Observed obs) {
      Call call = inFlight.remove(obs.callId());
      if (call == null) {
        log.debug("ignoring the late observation of abandoned call {} in plan {}", obs.callId(), plan.id());
        return;
      }
      call.token.close();
      for (Node n : call.nodes) {
        Reading r;
        if (obs.error() != null) {
          r = new Reading(Health.unknown("observe failed: " + ProviderFailures.describe(n.key().provider(), obs.error())));
        } else {
          r = obs.readings().get(n.key());
        }
        observed(n, r, now);
      }
    }
  }

  private static Outcome fromException(Node n, Throwable t) {
    String message = ProviderFailures.describe(n.key().provider(), t);
    if (t instanceof ConflictException) {
      return new Outcome(Outcome.Kind.UNKNOWN, message, t, Map.of());
    }
    if (t instanceof ProviderException pe && pe.isRetryable()) {
      return Outcome.transientFailure(message, t);
    }
    return Outcome.permanentFailure(message, t);
  }

  private void attemptDone(Node n, Outcome o, Map<Integer, Duration> delays, long now) {
    n.last = o;
    if (o.kind() == Outcome.Kind.TRANSIENT) {
      if (options.retry().allowsAfter(n.attempt) && !cancelled) {
        // Keys of one batch that failed together are retried together.
        Duration delay = delays.computeIfAbsent(n.attempt, a -> options.retry().delay(a, random));
        n.state = State.BACKOFF;
        timers.add(new Timer(now + delay.toNanos(), n));
        log.debug("{}: attempt {} failed ({}), retrying in {} (revision {})", n.key(), n.attempt, o.message(),
            Durations.human(delay), revision);
        emit(new SyncEvent.Retrying(revision, n.change, o, n.attempt, delay));
        return;
      }
      if (n.attempt > 1) {
        o = new Outcome(o.kind(), "gave up after " + n.attempt + " attempts: " + o.message(), o.cause(), o.outputs());
      }
    }
    if (o.isConflict() && !n.replanned && !n.gate && !cancelled) {
      // Nothing was written: observe the key again and plan it again, once, within this sync.
      n.replanned = true;
      n.conflict = o;
      n.state = State.SETTLING;
      n.healthDeadline = now + options.healthTimeout().toNanos();
      readyObserve.add(n);
      log.info("{}: {} refused as a conflict ({}); observing and planning it again (revision {})", n.key(),
          n.change.action(), o.message(), revision);
      emit(new SyncEvent.Retrying(revision, n.change, o, n.attempt, Duration.ZERO));
      return;
    }
    if (!o.isOk()) {
      finish(n, record(n, o), true);
      return;
    }
    if (n.isDelete() || WRITES.contains(n.change.action())) {
      // A delete is done only once observed absent, and a write only once observed holding its
      // target: both are observed again even when health waits are off.
      n.verifying = !n.isDelete();
      startSettling(n, o, now);
      return;
    }
    finish(n, record(n, o), true);
  }

  private void startSettling(Node n, Outcome applied, long now) {
    n.applied = applied;
    n.state = State.SETTLING;
    n.healthDeadline = now + options.healthTimeout().toNanos();
    readyObserve.add(n);
  }

  private void observed(Node n, Reading r, long now) {
    if (r == null) {
      r = new Reading(Health.unknown("the provider returned no observation"));
    }
    if (n.conflict != null) {
      replan(n, r);
    } else if (n.verifying) {
      verify(n, r, now);
    } else {
      healthReading(n, r.health(), now);
    }
  }

  /**
   * Compares a write's fresh observation with what it set out to write (through {@link
   * ExecutionHooks#verify}); only a write that landed is recorded as applied. An observation that
   * cannot be had is asked for again until the health timeout, then the outcome is UNKNOWN.
   */
  private void verify(Node n, Reading r, long now) {
    Observation seen = r.normalized();
    if (r.unverifiable() != null) {
      n.verifying = false;
      finish(n, record(n, Outcome.unknown(verb(n) + ", but it cannot be verified: " + r.unverifiable()
          + declaredAt(n.change))), true);
      return;
    }
    if (seen == null || seen.isUnknown()) {
      String why = seen != null ? seen.reason() : r.health() != null ? r.health().toString() : "no observation";
      if (now - n.healthDeadline >= 0) {
        n.verifying = false;
        finish(n, record(n, Outcome.unknown(verb(n) + ", but it could not be observed again to verify it within "
            + Durations.human(options.healthTimeout()) + ": " + why + declaredAt(n.change))), true);
      } else {
        timers.add(new Timer(now + options.healthPollInterval().toNanos(), n));
      }
      return;
    }
    n.verifying = false;
    if (seen.isAbsent()) {
      finish(n, record(n, Outcome.permanentFailure(verb(n) + ", but it is absent when observed again"
          + declaredAt(n.change), null)), true);
      return;
    }
    List<FieldPath> differ;
    try {
      differ = hooks.verify(n.change, seen);
    } catch (RuntimeException e) {
      log.warn("{}: verifying the applied object failed (revision {})", n.key(), revision, e);
      finish(n, record(n, Outcome.permanentFailure(verb(n) + ", but verifying it failed: " + e.getMessage()
          + declaredAt(n.change), e)), true);
      return;
    }
    if (!differ.isEmpty()) {
      finish(n, record(n, Outcome.permanentFailure(verb(n) + ", but the live object still differs from the target at "
          + differ + ": the provider did not apply " + (differ.size() == 1 ? "that field" : "those fields")
          + declaredAt(n.change), null)),
          true);
      return;
    }
    Outcome recorded = record(n, n.applied);
    if (!recorded.isOk() || !options.waitForHealth()) {
      finish(n, recorded, true);
      return;
    }
    healthReading(n, r.health(), now);
  }

  /**
   * The key of a change refused as a conflict, observed again: the hooks plan it against what is
   * live now and the new change is sent (it gets no second chance). A change that now would
   * destroy what the planned one kept, a SKIP, or no new plan at all leaves the conflict UNKNOWN
   * for the next sync, whose plan the guards see whole; a NOOP means the object already holds it.
   */
  private void replan(Node n, Reading r) {
    Outcome conflict = n.conflict;
    n.conflict = null;
    Observation seen = r.normalized();
    if (r.unverifiable() != null || seen == null || seen.isUnknown()) {
      String why = r.unverifiable() != null ? r.unverifiable()
          : seen != null ? seen.reason() : r.health() != null ? r.health().toString() : "no observation";
      finish(n, record(n, again(conflict, "observing it again failed: " + why)), true);
      return;
    }
    Change next;
    try {
      next = hooks.replan(n.change, seen).orElse(null);
    } catch (RuntimeException e) {
      log.warn("{}: planning it again after a conflict failed (revision {})", n.key(), revision, e);
      finish(n, record(n, Outcome.permanentFailure(conflict.message() + "; planning it again failed: " + e.getMessage(),
          e)), true);
      return;
    }
    if (next == null) {
      finish(n, record(n, conflict), true);
      return;
    }
    Action action = next.action();
    boolean runs = action.mutates() && (!action.destroys() || n.change.action().destroys());
    if (action == Action.NOOP) {
      log.info("{}: planned again after a conflict: nothing left to do (revision {})", n.key(), revision);
      finish(n, record(n, Outcome.unchanged()), true);
      return;
    }
    if (!runs) {
      finish(n, record(n, again(conflict, "planned again: " + action + " (" + next.reason() + "), left to the next sync")),
          true);
      return;
    }
    log.info("{}: planned again after a conflict: {} (revision {})", n.key(), action, revision);
    n.change = next;
    n.fresh = true;
    n.state = State.READY;
    readyApply.add(n);
  }

  /**
   * How an outcome the engine makes for {@code c} (a refusal of the plan, a verification or health
   * failure) ends, as a provider's errors do: {@code "; declared at apps/web.yaml:12"} ({@link
   * Change#declaredAt()}), or "" when no file declares the resource (built in code, or an orphan).
   */
  private static String declaredAt(Change c) {
    String at = c.declaredAt();
    return at.isEmpty() ? "" : "; " + at;
  }

  /** {@code conflict} with what came of it added to its message. */
  private static Outcome again(Outcome conflict, String what) {
    return new Outcome(conflict.kind(), conflict.message() + "; " + what, conflict.cause(), conflict.outputs());
  }

  private void healthReading(Node n, Health h, long now) {
    if (h == null) {
      h = Health.unknown("the provider returned no health");
    }
    String message = Redactor.marking().redact(n.change, h.message());  // as an apply's outcome: may quote a secret
    if (!message.equals(h.message())) {
      h = new Health(h.status(), message);
    }
    switch (h.status()) {
      case HEALTHY -> finish(n, n.recorded || n.gate ? n.applied : record(n, n.applied), true);
      case DEGRADED -> finish(n, Outcome.permanentFailure(verb(n) + " but degraded: " + h.message() + declaredAt(n.change),
          null), true);
      default -> {
        if (now - n.healthDeadline >= 0) {
          Outcome o;
          if (n.isDelete()) {
            o = record(n, Outcome.permanentFailure("deleted but still present after " + Durations.human(options.healthTimeout())
                + ": " + h + declaredAt(n.change), null));
          } else {
            o = Outcome.permanentFailure(verb(n) + " but not healthy after " + Durations.human(options.healthTimeout()) + ": "
                + h + declaredAt(n.change), null);
          }
          finish(n, o, true);
          return;
        }
        if (!h.equals(n.lastHealth)) {
          n.lastHealth = h;
          emit(new SyncEvent.WaitingForHealth(revision, n.key(), h));
        }
        timers.add(new Timer(now + options.healthPollInterval().toNanos(), n));
      }
    }
  }

  /** Calls afterOutcome once; a failing store turns the outcome into a PERMANENT failure. */
  private Outcome record(Node n, Outcome o) {
    if (n.recorded) {
      throw new IllegalStateException(n.key() + ": outcome recorded twice");
    }
    n.recorded = true;
    try {
      hooks.afterOutcome(n.change, o);
      unflushed.add(n);
      return o;
    } catch (RuntimeException e) {
      log.warn("{}: recording outcome {} failed (revision {})", n.key(), o.kind(), revision, e);
      return Outcome.permanentFailure(
          o.kind().toString().toLowerCase(java.util.Locale.ROOT) + " but recording the outcome failed: " + e.getMessage(),
          e);
    }
  }

  /**
   * Settles {@code n}; a failure blocks its waiting dependents when {@code propagate}. A gate that
   * fails keeps its own outcome (UNCHANGED, SKIPPED) and holds its dependents with the failure.
   */
  private void finish(Node n, Outcome o, boolean propagate) {
    // every final outcome of a change: a verification's or a health check's text may quote a secret too
    o = Redactor.marking().redact(n.change, o);
    Deque<Node> work = new ArrayDeque<>();
    if (n.gate && !o.isOk()) {
      n.holds = o.message();
      o = n.applied;
    }
    settle(n, o, false);
    if (o.isOk() && n.holds == null) {
      for (Node d : n.dependents) {
        if (--d.pendingDependencies == 0 && d.state == State.WAITING && !cancelled) {
          d.state = State.READY;
          readyApply.add(d);
        }
      }
      return;
    }
    if (!propagate) {
      return;
    }
    work.add(n);
    while (!work.isEmpty()) {
      Node failed = work.poll();
      for (Node d : failed.dependents) {
        if (d.state == State.WAITING) {
          String why = failed.holds != null ? failed.holds : failed.result.message();
          settle(d, Outcome.permanentFailure("blocked by " + failed.key() + ": " + why, null), true);
          work.add(d);
        }
      }
    }
  }

  /** Records the final outcome; {@code quiet} for changes never sent (blocked, cancelled), which log at debug. */
  private void settle(Node n, Outcome o, boolean quiet) {
    if (n.unrecorded != null && o.isOk()) {
      o = n.unrecorded;
    }
    n.result = o;
    n.state = o.isOk() ? State.DONE : State.FAILED;
    unsettled--;
    results.set(n.at, o);
    if (n.gate) {
      // A NOOP or SKIP was never sent: no event, like every other NOOP and SKIP of the plan.
      if (n.holds != null) {
        log.info("{} {} holds its dependents at {}: {}", n.change.action(), n.key(), revision, n.holds);
      }
      return;
    }
    if (cutOff != null && !o.isOk()) {
      // settled by a cancellation: said once for all of them at its end (cancelAll)
      cutOff.add(n.key());
      log.debug("{} {} cut off at {}: {}", n.change.action(), n.key(), revision, o.message());
    } else if (quiet) {
      log.debug("{} {} not run at {}: {}", n.change.action(), n.key(), revision, o.message());
    } else if (!o.isOk()) {
      log.warn("{} {} failed at {}: {} {}", n.change.action(), n.key(), revision, o.kind(), o.message());
    }
    emit(new SyncEvent.ChangeFinished(revision, n.change, o, n.attempt));
  }

  private void emit(SyncEvent event) {
    try {
      hooks.event(event);
    } catch (RuntimeException e) {
      // Listeners must not throw (SyncListener contract); one that does must not stop the sync.
      log.warn("sync event listener failed on {}", event.getClass().getSimpleName(), e);
    }
  }

  private static String verb(Node n) {
    return switch (n.change.action()) {
      case CREATE -> "created";
      case UPDATE -> "updated";
      case REPLACE -> "replaced";
      case DELETE -> "deleted";
      case NOOP -> "unchanged";
      default -> n.change.action().toString().toLowerCase(java.util.Locale.ROOT);
    };
  }
}
