package dev.gitops.agent;

import dev.gitops.agent.config.AgentConfig;
import dev.gitops.agent.config.ConfigException;
import dev.gitops.agent.config.NotifierConfig;
import dev.gitops.agent.config.TargetConfig;
import dev.gitops.agent.providers.AnsibleProviderFactory;
import dev.gitops.agent.providers.FilesProviderFactory;
import dev.gitops.agent.providers.KubernetesProviderFactory;
import dev.gitops.agent.providers.TerraformProviderFactory;
import dev.gitops.agent.spi.Placement;
import dev.gitops.agent.spi.ProviderFactory;
import dev.gitops.api.Documents;
import dev.gitops.core.internal.Durations;
import dev.gitops.notify.Notifier;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A long-lived agent: reconciles every target of a configuration file, each on its own {@link
 * dev.gitops.core.ReconcileLoop}, with at most {@code maxConcurrentSyncs} syncs in flight across
 * targets, served first come, first served. It reloads the file on {@link #reload()} (what SIGHUP
 * and a change of the file do): added targets start, removed ones stop (nothing is pruned on their
 * way out), changed ones restart, and an invalid file is rejected whole while the running
 * configuration stays (the agent is not ready then, until a reload succeeds). {@link #shutdown()}
 * starts no new sync, cancels those in flight at a safe point, waits up to the grace period and
 * closes every store.
 *
 * <pre>{@code
 * PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
 * Agent agent = Agent.builder(Path.of("agent.yaml")).meterRegistry(registry).build();
 * agent.start();                                  // throws ConfigException naming file and line
 * MetricsServer metrics = MetricsServer.start(new InetSocketAddress(9090), registry, agent::notReady);
 * // ... then, as signals come:
 * agent.reload();                                 // on SIGHUP
 * agent.shutdown();                               // on SIGTERM
 * agent.awaitTermination(Duration.ofMinutes(1));
 * metrics.close();
 * }</pre>
 */
public final class Agent implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Agent.class);

  /** What a reload did, by target name. */
  public record ReloadResult(List<String> started, List<String> stopped, List<String> restarted,
      List<String> unchanged, boolean notificationsChanged) {
    /** Copies. */
    public ReloadResult {
      started = List.copyOf(started);
      stopped = List.copyOf(stopped);
      restarted = List.copyOf(restarted);
      unchanged = List.copyOf(unchanged);
    }

    /** Whether anything changed. */
    public boolean changedAnything() {
      return !started.isEmpty() || !stopped.isEmpty() || !restarted.isEmpty() || notificationsChanged;
    }

    @Override
    public String toString() {
      return "started " + started + ", stopped " + stopped + ", restarted " + restarted + ", unchanged " + unchanged
          + (notificationsChanged ? ", notifiers replaced" : "");
    }
  }

  /** Hears what the agent does on its own (a reload after the file changed); called on the agent's thread. */
  public interface Listener {
    /** The configuration was reloaded. */
    default void reloaded(ReloadResult result) {}

    /** A reload was refused: the file is invalid; the running configuration stays. */
    default void reloadFailed(ConfigException error) {}
  }

  private final Path configFile;
  private final Map<String, ProviderFactory> factories;
  private final Map<String, String> environment;
  private final MeterRegistry registry;
  private final Clock clock;
  private final LongSupplier ticker;
  private final Duration watchInterval;
  private final Listener listener;
  /** Decides which targets run here when agents share a configuration; null: every target runs here. */
  private final Placement placement;
  /** The last failure of each target that could not start (guarded by {@code lifecycle}). */
  private final Map<String, String> startFailures = new HashMap<>();
  /**
   * Targets a reload or the placement stopped but could not stop cleanly, not started since (what
   * they still hold is unknown; the next reload, or the placement, starts them again), each with
   * what readiness says of it.
   */
  private final Map<String, String> stopFailures = new java.util.concurrent.ConcurrentHashMap<>();
  /**
   * Targets the placement asked to stop whose stop failed (a resource that would not close, a sync
   * that did not reach a safe point): kept so that the placement's next {@link
   * Placement.Control#stopTarget} tries again what is still open, and so that the agent's shutdown
   * stops them too (guarded by {@code lifecycle}).
   */
  private final Map<String, TargetRuntime> unstopped = new LinkedHashMap<>();
  private final ReentrantLock lifecycle = new ReentrantLock();
  /** The running targets; changed only under {@code lifecycle}. */
  private final Map<String, TargetRuntime> targets = new LinkedHashMap<>();
  /**
   * What readers see of {@code targets}, replaced after every change: /readyz and /metrics must
   * answer while a reload waits out a target's grace period.
   */
  private volatile List<TargetRuntime> running = List.of();
  /**
   * Targets a reload is stopping, while it waits for them (up to the grace period, all at once), with why:
   * readiness must say a target restarts, not that it could not start, and a removed target is
   * no longer counted although the running configuration still lists it until the reload ends.
   * No reason: removed.
   */
  private final Map<String, Optional<String>> reloading = new java.util.concurrent.ConcurrentHashMap<>();
  private final CountDownLatch terminated = new CountDownLatch(1);
  private final ScheduledExecutorService control;
  private Notifications notifications;
  private SyncSlots slots;
  private volatile AgentConfig config;
  /**
   * Why the last reload was refused (the file as it stood then, or that it could not be read),
   * until a reload succeeds or the file is again the one running: readiness says it. Null when
   * the running configuration is the file's.
   */
  private volatile String refusedReload;
  /** The digest of the file the running configuration was read from. */
  private byte[] runningDigest;
  private byte[] seenDigest;
  /** A changed content seen at the last look, reloaded if the next look sees it unchanged. */
  private byte[] unsettledDigest;
  /** Why the file could not be read at the last look (it was deleted, say), reported once; null when it could. */
  private String unreadable;
  /** The looks at the file while {@code watchConfig} is on; null while it is off (changed under {@code lifecycle}). */
  private ScheduledFuture<?> watching;
  private volatile boolean started;
  private volatile boolean stopping;
  /** This agent's hold on its state directory; null with a placement (members may share one). */
  private StateDirectoryLock stateLock;

  private Agent(Builder b) {
    this.configFile = b.configFile;
    this.factories = Map.copyOf(b.factories);
    this.environment = Map.copyOf(b.environment);
    this.registry = b.registry;
    this.clock = b.clock;
    this.ticker = b.ticker;
    this.watchInterval = b.watchInterval;
    this.listener = b.listener;
    this.placement = b.placement;
    this.control = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "gitops-agent");
      t.setDaemon(true);
      return t;
    });
  }

  /** A builder for an agent of the configuration in {@code configFile}. */
  public static Builder builder(Path configFile) {
    return new Builder(configFile);
  }

  /** Reads {@code file} as this agent would, without starting anything (secrets are not read). */
  public static AgentConfig readConfig(Path file) {
    return AgentConfig.load(file, discoveredFactories(), Map.of(), false);
  }

  private static Map<String, ProviderFactory> discoveredFactories() {
    Map<String, ProviderFactory> found = new HashMap<>();
    for (ProviderFactory f : List.of(new FilesProviderFactory(), new KubernetesProviderFactory(),
        new AnsibleProviderFactory(), new TerraformProviderFactory())) {
      found.put(f.type(), f);
    }
    for (ProviderFactory f : ServiceLoader.load(ProviderFactory.class)) {
      found.putIfAbsent(f.type(), f);
    }
    return found;
  }

  /**
   * Loads the configuration and starts every target.
   *
   * @throws ConfigException naming the file, line and field when the configuration is invalid
   *     (nothing is started)
   * @throws StateDirectoryInUseException when another agent runs on the state directory (without
   *     a placement; members of a cluster may share one)
   */
  public void start() {
    lifecycle.lock();
    try {
      if (started) {
        throw new IllegalStateException("the agent is already started");
      }
      byte[] bytes = AgentConfig.read(configFile);
      AgentConfig c = load(bytes);
      if (placement == null) {
        stateLock = StateDirectoryLock.acquire(c.stateDir());
      }
      seenDigest = digest(bytes);
      runningDigest = seenDigest;
      slots = new SyncSlots(c.maxConcurrentSyncs());
      notifications = new Notifications(registry);
      try {
        notifications.retire(notifications.replace(c.notifiers(), environment));  // none: the first
      } catch (RuntimeException e) {
        if (stateLock != null) {
          stateLock.close();
          stateLock = null;
        }
        throw e;
      }
      config = c;
      started = true;
      if (placement == null) {
        for (TargetConfig t : c.targets()) {
          startTarget(t, c);
        }
      } else {
        placement.start(new PlacementControl());
        placement.configured(names(c));
      }
      LOG.info("agent started with {} targets from {} ({} syncs at a time)", c.targets().size(), configFile,
          c.maxConcurrentSyncs());
      watch(c.watchConfig());
    } finally {
      lifecycle.unlock();
    }
  }

  /**
   * Reads the configuration again and applies the difference: added targets start, removed ones
   * stop without pruning, changed ones restart; notifiers and the bound on syncs follow the file.
   *
   * @throws ConfigException naming the file, line and field when the file is invalid; nothing
   *     changes then, but the agent is not ready ({@link #notReady}) until a reload succeeds
   * @throws IllegalStateException naming a target that did not stop cleanly, after the rest of the
   *     reload was applied (that target is not restarted; the next reload starts it)
   */
  public ReloadResult reload() {
    lifecycle.lock();
    try {
      if (!started || stopping) {
        throw new IllegalStateException(stopping ? "the agent is stopping" : "the agent is not started");
      }
      byte[] bytes;
      AgentConfig next;
      StateDirectoryLock moved = null;
      try {
        bytes = AgentConfig.read(configFile);
        try {
          next = load(bytes);
          moved = lockMovedStateDir(next);
        } finally {
          seenDigest = digest(bytes);  // an invalid file is reported once, not at every look
        }
      } catch (ConfigException e) {
        refused(e);
        throw e;
      }
      try {
        return apply(next, digest(bytes));
      } finally {
        if (moved != null) {  // even after a failure part way: targets may have started there
          stateLock.close();
          stateLock = moved;
        }
      }
    } finally {
      lifecycle.unlock();
    }
  }

  /**
   * The agent runs on a configuration its file no longer gives: not ready until a reload succeeds.
   * Said in one line, as {@code /readyz} gives one reason a line.
   */
  private void refused(ConfigException e) {
    refusedReload = e.getMessage().replaceAll("\\s*\\R\\s*", " ");
  }

  /**
   * The lock of the state directory {@code next} moves to, taken before anything moves there;
   * null when it stays. One another agent holds refuses the reload like an invalid file.
   */
  private StateDirectoryLock lockMovedStateDir(AgentConfig next) {
    if (stateLock == null || next.stateDir().equals(stateLock.directory())) {
      return null;
    }
    try {
      return StateDirectoryLock.acquire(next.stateDir());
    } catch (StateDirectoryInUseException e) {
      throw new ConfigException(configFile, 0, "agent.stateDir: " + e.getMessage(), e);
    }
  }

  /**
   * Reloads on the agent's own thread (what a signal handler calls, which never reads the future):
   * the future gives the result or the failure. A {@link ConfigException} goes to the listener;
   * any other failure (a reload racing a shutdown, a target that fails to stop) is logged at
   * error, so that a reload asked for by a signal never fails without a trace.
   */
  public Future<ReloadResult> reloadLater() {
    return control.submit(() -> {
      try {
        ReloadResult r = reload();
        listener.reloaded(r);
        return r;
      } catch (ConfigException e) {
        listener.reloadFailed(e);
        throw e;
      } catch (RuntimeException e) {
        LOG.error("reloading {} failed, the running configuration stays as far as it got: {}", configFile,
            e.toString(), e);
        throw e;
      }
    });
  }

  private ReloadResult apply(AgentConfig next, byte[] nextDigest) {
    List<String> started = new ArrayList<>();
    List<String> stopped = new ArrayList<>();
    List<String> restarted = new ArrayList<>();
    List<String> unchanged = new ArrayList<>();
    // a target runtime keeps the state directory (status files) and stuckAfter it started with:
    // when they change, every target restarts, also one whose explicit store did not move
    boolean sharedChanged = !next.stateDir().equals(config.stateDir()) || !next.stuckAfter().equals(config.stuckAfter());
    Map<String, String> leaving = new LinkedHashMap<>();  // removed or changed: stopped, with why
    for (Map.Entry<String, TargetRuntime> e : targets.entrySet()) {
      TargetConfig t = next.target(e.getKey());
      if (t == null) {
        leaving.put(e.getKey(), "removed from the configuration");
      } else if (sharedChanged || !e.getValue().config().sameAs(t)) {
        TargetConfig was = e.getValue().config();
        leaving.put(e.getKey(), was.sameAs(t) ? "agent.stateDir or agent.stuckAfter changed"
            : !was.definition().equals(t.definition()) || !was.store().equals(t.store()) ? "its configuration changed"
            : !was.sameSecretsAs(t) ? "a secret of its source.credentials changed"
            : "the content of its key ring " + t.verify().keyRing() + " (source.verify) changed");
      }
    }
    Map<String, TargetRuntime> stopping = new LinkedHashMap<>();
    leaving.forEach((name, why) -> {
      reloading.put(name, next.target(name) == null ? Optional.empty() : Optional.of(why));
      stopping.put(name, targets.remove(name));
    });
    IllegalStateException stopFailed;
    List<Notifier> retired = List.of();
    try {
      published();
      Map<String, IllegalStateException> failed = stopAll(stopping, leaving, config.gracePeriod());
      // before the reload forgets they were stopping: readiness never says they could not start
      failed.forEach((name, e) -> stopFailures.put(name, "target " + name + " is not running: it did not stop cleanly"
          + " in a reload and was not restarted (see the log); the next reload starts it again"));
      stopFailed = failed.isEmpty() ? null : failed.values().iterator().next();
      if (stopFailed != null) {
        failed.values().stream().skip(1).forEach(stopFailed::addSuppressed);
      }
      slots.setMax(next.maxConcurrentSyncs());
      boolean notificationsChanged = !next.notifications().equals(config.notifications());
      if (!notificationsChanged) {
        // the same entries: a secret read anew from its file (rotated) that changed replaces them all the same
        List<String> names = NotifierConfig.names(next.notifiers());
        List<String> rotated = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
          if (!next.notifiers().get(i).sameSecretAs(config.notifiers().get(i))) {
            rotated.add(names.get(i));
          }
        }
        if (!rotated.isEmpty()) {
          LOG.info("the secret of notifier(s) {} changed: the notifiers are replaced", rotated);
          notificationsChanged = true;
        }
      }
      if (notificationsChanged) {
        // the new notifiers take over at once; the old ones close after the targets restarted, on
        // threads of their own (each may wait seconds on a stalled endpoint)
        retired = notifications.replace(next.notifiers(), environment);
      }
      for (TargetConfig t : next.targets()) {
        if (failed.containsKey(t.name())) {
          // its stop failed part way: what it still holds (its store, say) is unknown, so it is not restarted
          LOG.error("target {} is not restarted with its new configuration: it did not stop cleanly; the next reload"
              + " starts it again", t.name());
        } else if (stopping.containsKey(t.name())) {
          startTarget(t, next);
          restarted.add(t.name());
        } else if (!targets.containsKey(t.name())) {
          if (placement == null) {
            startTarget(t, next);
            started.add(t.name());
          }
        } else {
          unchanged.add(t.name());
        }
      }
      stopping.keySet().stream().filter(name -> next.target(name) == null).forEach(stopped::add);
      stopFailures.keySet().removeIf(name -> next.target(name) == null);  // a removed one no longer counts
      config = next;
      published();  // in the order of the file now running
      runningDigest = nextDigest;
      refusedReload = null;  // the file is the one running again
      watch(next.watchConfig());
      if (placement != null) {
        placement.configured(names(next));  // it starts the added targets it places here
      }
      ReloadResult r = new ReloadResult(started, stopped, restarted, unchanged, notificationsChanged);
      if (stopFailed != null) {
        // the rest of the reload is applied: thrown to the caller (reloadLater logs it), saying what it did
        throw new IllegalStateException(stopFailed.getMessage() + "; it is not restarted (the next reload starts it"
            + " again); the rest of the reload was applied: " + r, stopFailed);
      }
      LOG.info("configuration {} reloaded: {}", configFile, r);
      return r;
    } finally {
      leaving.keySet().forEach(reloading::remove);
      notifications.retire(retired);
    }
  }

  /**
   * Stops {@code runtimes} (each for the reason {@code why} gives) all at once, each waiting up to
   * {@code grace} for its sync in flight as {@link TargetRuntime#stop} does alone, so that a reload
   * stopping N hung targets takes one grace period, not N; returns when every one has stopped.
   *
   * @return the targets whose stop failed (each closed what it could), in the order given, each
   *     with a failure naming it; empty when all stopped cleanly
   */
  private static Map<String, IllegalStateException> stopAll(Map<String, TargetRuntime> runtimes,
      Map<String, String> why, Duration grace) {
    List<Thread> stoppers = new ArrayList<>();
    Map<String, IllegalStateException> failures = new java.util.concurrent.ConcurrentHashMap<>();
    runtimes.forEach((name, r) -> {
      Thread t = new Thread(() -> {
        try {
          r.stop(why.get(name), grace);
        } catch (RuntimeException e) {
          // returned to the reload, which applies the rest and then throws it (reloadLater logs it)
          failures.put(name, new IllegalStateException("target " + name + " did not stop cleanly (" + why.get(name)
              + "): " + e.getMessage(), e));
        }
      }, "gitops-stop-" + name);
      t.setDaemon(true);
      t.start();
      stoppers.add(t);
    });
    boolean interrupted = false;
    for (Thread t : stoppers) {
      while (t.isAlive()) {
        try {
          t.join();
        } catch (InterruptedException e) {
          // Asked to give up waiting (a shutdown): the stops end their waits for a safe point at
          // once, as a stop on this thread would, and still close what they hold before this returns.
          interrupted = true;
          stoppers.forEach(Thread::interrupt);
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    Map<String, IllegalStateException> inOrder = new LinkedHashMap<>();
    runtimes.keySet().stream().filter(failures::containsKey).forEach(name -> inOrder.put(name, failures.get(name)));
    return inOrder;
  }

  private void startTarget(TargetConfig t, AgentConfig of) {
    try {
      targets.put(t.name(), TargetRuntime.start(t, new TargetRuntime.Shared(slots, notifications, registry,
          of.stateDir(), clock, ticker, of.stuckAfter(), environment, placement)));
      startFailures.remove(t.name());
      stopFailures.remove(t.name());
      published();
    } catch (RuntimeException e) {
      // One target that cannot start (its store is locked or damaged) must not keep the others down;
      // readiness says it is missing, and the next reload tries again. A placement retries by itself:
      // the same failure again is not logged at every attempt.
      stopFailures.remove(t.name());  // it was tried again: what readiness says now is that it could not start
      String was = startFailures.put(t.name(), e.toString());
      if (placement != null && e.toString().equals(was)) {
        LOG.debug("target {} still cannot start: {}", t.name(), e.toString());
      } else {
        LOG.error("target {} cannot start: {}", t.name(), e.toString());
      }
    }
  }

  private static Set<String> names(AgentConfig c) {
    Set<String> out = new java.util.LinkedHashSet<>();
    c.targets().forEach(t -> out.add(t.name()));
    return out;
  }

  /** How the placement starts and stops targets: under the lifecycle lock, like a reload. */
  private final class PlacementControl implements Placement.Control {
    @Override
    public boolean startTarget(String name) {
      lifecycle.lock();
      try {
        TargetConfig t = stopping ? null : config.target(name);
        if (t == null) {
          return false;
        }
        if (unstopped.containsKey(name)) {
          try {
            stopTarget(name, "it starts again here");  // its earlier stop failed: it must not run twice
          } catch (RuntimeException e) {
            return false;  // logged and named by readiness; the placement tries again later
          }
        }
        if (!targets.containsKey(name)) {
          Agent.this.startTarget(t, config);
        }
        return targets.containsKey(name);
      } finally {
        lifecycle.unlock();
      }
    }

    /**
     * Stops {@code name}. A stop that fails part way (a resource that would not close, a sync that
     * did not reach a safe point within the grace period) is logged, named by readiness, and thrown:
     * the target may still run or hold what it did, so the placement must not let another agent
     * start it; the runtime is kept, and the next call tries again what is still open.
     */
    @Override
    public void stopTarget(String name, String reason) {
      lifecycle.lock();
      try {
        TargetRuntime r = targets.remove(name);
        if (r == null) {
          r = unstopped.remove(name);  // an earlier stop failed: tried again
        }
        if (r == null) {
          return;
        }
        published();
        boolean idle;
        try {
          idle = r.stop(reason, config.gracePeriod());
        } catch (RuntimeException e) {
          // the stop closed what it could and logged each failure: readiness keeps it in sight
          unstopped.put(name, r);
          Throwable first = e.getCause() == null ? e : e.getCause();
          String more = e.getSuppressed().length == 0 ? "" : " (and " + e.getSuppressed().length + " more)";
          stopFailures.put(name, "target " + name + " did not stop cleanly (" + reason + "): " + first.getMessage()
              + more + "; what it still holds is unknown (see the log) until a stop of it succeeds");
          LOG.error("target {} did not stop cleanly ({}); the other targets go on: {}", name, reason,
              e.getMessage());
          throw new IllegalStateException("target " + name + " did not stop (" + reason + "): " + first.getMessage()
              + more, e);
        }
        if (!idle) {
          unstopped.put(name, r);
          String why = "target " + name + " did not stop (" + reason + "): its sync did not reach a safe point within"
              + " the grace period " + Durations.human(config.gracePeriod()) + " and may still be running";
          stopFailures.put(name, why);
          throw new IllegalStateException(why);
        }
        stopFailures.remove(name);
      } finally {
        lifecycle.unlock();
      }
    }
  }

  /**
   * Starts or stops looking at the file, as {@code watchConfig} now says (under {@code lifecycle}):
   * a reload that turns it on starts the looks, one that turns it off stops them.
   */
  private void watch(boolean on) {
    if (on == (watching != null)) {
      return;
    }
    if (!on) {
      watching.cancel(false);  // a look in flight (the one reloading now, say) ends; no other starts
      watching = null;
      LOG.info("watchConfig is off: {} is reloaded only when asked (SIGHUP)", configFile);
      return;
    }
    unsettledDigest = null;
    unreadable = null;
    try {
      watching = control.scheduleWithFixedDelay(this::watch, watchInterval.toMillis(), watchInterval.toMillis(),
          TimeUnit.MILLISECONDS);
      LOG.info("watchConfig is on: {} is reloaded when it changes", configFile);
    } catch (RejectedExecutionException e) {
      // the agent is shutting down: nothing is to be watched any more
    }
  }

  private void watch() {
    if (stopping) {
      return;
    }
    byte[] bytes;
    try {
      bytes = AgentConfig.read(configFile);
    } catch (ConfigException e) {
      // a deleted or unreadable file stays so for many looks: said once, and again when the reason changes
      if (!e.getMessage().equals(unreadable)) {
        unreadable = e.getMessage();
        refused(e);
        LOG.error("configuration not reloaded, the running one stays: {}", e.getMessage());
        listener.reloadFailed(e);
      }
      return;
    }
    unreadable = null;
    try {
      byte[] digest = digest(bytes);
      if (Arrays.equals(digest, seenDigest)) {
        unsettledDigest = null;
        if (refusedReload != null && Arrays.equals(digest, runningDigest)) {
          // put back as it runs (after it was deleted, say): nothing to reload, and the agent is ready again
          refusedReload = null;
          LOG.info("configuration {} is again the one running", configFile);
        }
        return;
      }
      if (!Arrays.equals(digest, unsettledDigest)) {
        // An editor or a test may be half-way through writing: a truncated file can be valid YAML
        // with fewer targets. Reload only content that stayed the same for one whole interval.
        unsettledDigest = digest;
        return;
      }
      unsettledDigest = null;
      LOG.info("configuration {} changed: reloading", configFile);
      listener.reloaded(reload());
    } catch (ConfigException e) {
      LOG.error("configuration not reloaded, the running one stays: {}", e.getMessage());
      listener.reloadFailed(e);
    } catch (RuntimeException e) {
      // The watcher must survive anything (a reload racing a shutdown); the next look tries again.
      LOG.warn("watching {} failed: {}", configFile, e.toString());
    }
  }

  private AgentConfig load(byte[] bytes) {
    return AgentConfig.parse(configFile, bytes, factories, environment, true);
  }

  private static byte[] digest(byte[] bytes) {
    return Documents.sha256().digest(bytes);
  }

  /** The configuration running now. */
  public AgentConfig config() {
    return config;
  }

  /**
   * The status of every running target, in configuration order: that of its last sync since the
   * target (re)started, or, until one ends, the one its status file recorded before, marked
   * {@linkplain TargetStatus#carriedOver() carried over} (after the agent or a reload restarted it),
   * so that a restart does not hide where a target stood. A target is left out only while it has
   * neither: it never finished a sync, or its status file could not be read (logged at WARN naming
   * the file). A carried-over status counts for neither readiness nor stuck detection ({@link
   * #notReady}): those are of the target's current run.
   */
  public List<TargetStatus> status() {
    List<TargetStatus> out = new ArrayList<>();
    for (TargetRuntime t : runtimes()) {
      Optional.ofNullable(t.state().last()).ifPresent(out::add);
    }
    return out;
  }

  /** Asks every target (or the one named) to sync now; returns how many were asked. */
  public int trigger(String targetOrNull) {
    int n = 0;
    for (TargetRuntime t : runtimes()) {
      if (targetOrNull == null || t.config().name().equals(targetOrNull)) {
        t.trigger();
        n++;
      }
    }
    return n;
  }

  /** Syncs in flight now, across targets. */
  public int syncsInFlight() {
    SyncSlots s = slots;
    return s == null ? 0 : s.inFlight();
  }

  /**
   * Why the agent is not ready ({@code /readyz}): it is stopping, its last reload was refused (it
   * runs on the configuration before, until a reload succeeds), a cluster member cannot
   * coordinate with the others, a configured target is not running (it could not start, or did
   * not stop cleanly in a reload or when the placement stopped it), is restarting in a reload, has
   * not finished a successful sync since it (re)started (with its last sync's error, if one of
   * them had one; a status {@linkplain TargetStatus#carriedOver() carried over} from before does
   * not count), or is stuck (no sync finished for {@code stuckAfter}, counted from when the target
   * started until one does). Empty when ready. While a reload runs, a target it removes no longer
   * counts.
   */
  public List<String> notReady() {
    if (!started) {
      return List.of("the agent has not started");
    }
    if (stopping) {
      return List.of("the agent is stopping");
    }
    List<String> reasons = new ArrayList<>();
    String refused = refusedReload;
    if (refused != null) {
      reasons.add("the configuration was not reloaded, the agent runs on the one before: " + refused);
    }
    if (placement != null) {
      placement.notReady().ifPresent(reasons::add);
    }
    // a failed stop the placement names itself (a cluster member does) is not named twice
    Set<String> namedByPlacement = placement == null ? Set.of()
        : Objects.requireNonNullElse(placement.failedStopsNamed(), Set.of());  // a placement's null names none
    Map<String, TargetRuntime> byName = new HashMap<>();
    runtimes().forEach(t -> byName.put(t.config().name(), t));
    for (TargetConfig t : config().targets()) {
      TargetRuntime r = byName.get(t.name());
      Optional<String> reload = reloading.get(t.name());
      String stopFailure = stopFailures.get(t.name());
      if (r == null && stopFailure != null) {
        if (!namedByPlacement.contains(t.name())) {
          reasons.add(stopFailure);
        }
      } else if (r == null && reload != null) {
        // a reload is stopping it: a removed one no longer counts, a changed one starts again next
        reload.ifPresent(why -> reasons.add("target " + t.name() + " is restarting (" + why + ")"));
      } else if (r == null) {
        if (placement == null) {  // with a placement, another agent may run it
          reasons.add("target " + t.name() + " is not running (it could not start; see the log)");
        }
      } else {
        r.state().notReady().ifPresent(reasons::add);
      }
    }
    return reasons;
  }

  private List<TargetRuntime> runtimes() {
    return running;
  }

  /** The running target {@code name}, or null (tests). */
  TargetRuntime runtime(String name) {
    return runtimes().stream().filter(t -> t.config().name().equals(name)).findFirst().orElse(null);
  }

  /**
   * Publishes the running targets to readers, in configuration order (a target a reload restarted
   * or added is put back in its place), called under {@code lifecycle} after each change.
   */
  private void published() {
    AgentConfig c = config;
    List<TargetRuntime> now = new ArrayList<>(targets.values());
    if (c != null) {
      Map<String, Integer> order = new HashMap<>();
      c.targets().forEach(t -> order.putIfAbsent(t.name(), order.size()));
      // stable: one the configuration does not name (yet) keeps its place after the others
      now.sort(java.util.Comparator.comparingInt(t -> order.getOrDefault(t.config().name(), Integer.MAX_VALUE)));
    }
    running = List.copyOf(now);
  }

  /**
   * Starts a graceful shutdown and returns: no new sync starts, syncs in flight are cancelled at
   * their next safe point and waited for up to the grace period, then every target's store and
   * source close and the notifiers deliver what they hold. {@link #awaitTermination} waits for it.
   */
  public void shutdown() {
    synchronized (this) {
      if (stopping) {
        return;
      }
      stopping = true;
    }
    Thread t = new Thread(this::stopEverything, "gitops-agent-shutdown");
    t.setDaemon(true);
    t.start();
  }

  private void stopEverything() {
    try {
      control.shutdownNow();
      for (TargetRuntime r : runtimes()) {
        r.state().cancelling("the agent is shutting down");  // before the cancel: their syncs end as cancelled
      }
      SyncSlots s = slots;
      if (s != null) {
        s.close("the agent is shutting down");
      }
      lifecycle.lock();
      try {
        Duration grace = config == null ? Duration.ZERO : config.gracePeriod();
        List<Thread> stoppers = new ArrayList<>();
        List<TargetRuntime> all = new ArrayList<>(targets.values());
        all.addAll(unstopped.values());  // a placement's stop that failed: tried once more
        unstopped.clear();
        for (TargetRuntime r : all) {
          // In parallel: the grace period is the agent's, not each target's.
          Thread t = new Thread(() -> {
            try {
              r.stop("the agent is shutting down", grace);
            } catch (RuntimeException e) {
              // each resource that failed to close is logged already by the stop; the others are closed
              LOG.error("{}", e.getMessage());
            }
          }, "gitops-stop-" + r.config().name());
          t.setDaemon(true);
          t.start();
          stoppers.add(t);
        }
        for (Thread t : stoppers) {
          t.join(grace.plusSeconds(15).toMillis());
        }
        targets.clear();
        published();
        if (notifications != null) {
          notifications.close();
        }
        if (stateLock != null) {
          stateLock.close();  // after every target stopped: a successor must not start beside one
          stateLock = null;
        }
      } finally {
        lifecycle.unlock();
      }
      if (placement != null) {
        // after every target stopped and outside the lock (its own thread may be waiting for it)
        placement.close();
      }
      LOG.info("agent stopped");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      terminated.countDown();
    }
  }

  /** Waits up to {@code timeout} for a shutdown to finish; whether it did. */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    return terminated.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Whether {@link #shutdown()} was called. */
  public boolean isStopping() {
    return stopping;
  }

  /** Shuts down and waits for it (the grace period, and a little more for stores to close). */
  @Override
  public void close() {
    shutdown();
    try {
      Duration grace = config == null ? Duration.ZERO : config.gracePeriod();
      if (!awaitTermination(grace.plusSeconds(30))) {
        LOG.warn("the agent did not stop within its grace period");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Builds an {@link Agent}. */
  public static final class Builder {
    private final Path configFile;
    private final Map<String, ProviderFactory> factories = discoveredFactories();
    private Map<String, String> environment = System.getenv();
    private MeterRegistry registry;
    private Clock clock = Clock.systemUTC();
    private LongSupplier ticker = System::nanoTime;
    private Duration watchInterval = Duration.ofSeconds(2);
    private Listener listener = new Listener() {};
    private Placement placement;

    private Builder(Path configFile) {
      this.configFile = Objects.requireNonNull(configFile, "configFile");
    }

    /**
     * Adds (or replaces) the factory of its provider type; {@code files}, {@code kubernetes},
     * {@code ansible}, {@code terraform} and ServiceLoader's are there already.
     */
    public Builder providerFactory(ProviderFactory factory) {
      factories.put(factory.type(), factory);
      return this;
    }

    /** Where {@code {env: NAME}} secrets are read (default: the process's environment). */
    public Builder environment(Map<String, String> env) {
      this.environment = Objects.requireNonNull(env, "environment");
      return this;
    }

    /** Records every target's metrics here (default: none). */
    public Builder meterRegistry(MeterRegistry r) {
      this.registry = Objects.requireNonNull(r, "registry");
      return this;
    }

    /**
     * The clock of the times shown and written in status files (default: UTC system clock). How
     * long a target has gone without a finished sync is measured on the {@linkplain #ticker ticker}.
     */
    public Builder clock(Clock c) {
      this.clock = Objects.requireNonNull(c, "clock");
      return this;
    }

    /**
     * The monotonic time source, in nanoseconds, that stuck detection measures durations with
     * (default {@code System::nanoTime}), so that a step of the wall clock neither marks every
     * running target stuck nor hides a stuck one. Tests give their own to make time pass:
     *
     * <pre>{@code
     * AtomicLong nanos = new AtomicLong();
     * Agent agent = Agent.builder(Path.of("agent.yaml")).ticker(nanos::get).build();
     * nanos.addAndGet(Duration.ofHours(1).toNanos());   // an hour passes for readiness
     * }</pre>
     */
    public Builder ticker(LongSupplier nanoTime) {
      this.ticker = Objects.requireNonNull(nanoTime, "ticker");
      return this;
    }

    /** How often the file is looked at when {@code watchConfig} is on (default 2 s). */
    public Builder watchInterval(Duration d) {
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("watch interval must be positive, got " + d);
      }
      this.watchInterval = d;
      return this;
    }

    /** Hears reloads the agent does on its own. */
    public Builder listener(Listener l) {
      this.listener = Objects.requireNonNull(l, "listener");
      return this;
    }

    /**
     * Shares the configuration's targets with other agents: the placement decides which run here
     * (default: all of them).
     */
    public Builder placement(Placement p) {
      this.placement = Objects.requireNonNull(p, "placement");
      return this;
    }

    /** The agent (not started). */
    public Agent build() {
      return new Agent(this);
    }
  }
}
