package dev.gitops.cluster;

import dev.gitops.api.Cancellation;
import dev.gitops.api.Change;
import dev.gitops.api.Outcome;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.DelegatingProvider;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.ProviderPlanner;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A provider that checks the owner's fencing token on the coordination engine before every apply
 * and every batch: a member that lost the target (a pause past its lease, a takeover) sends
 * nothing more to the live system. A fenced change is a permanent failure naming the stale token,
 * never sent to the wrapped provider. A planning provider's planner is fenced as well (before
 * it plans; its changes are applied through the fenced batch), and so is {@link #unmark} (a
 * forget). Observing is not fenced: it changes nothing.
 *
 * <p>The check narrows the window to one call; inside a call, the context the wrapped provider
 * gets is cancelled as soon as this member's lease is no longer live by its own clock ({@link
 * Coordinator#isMember()}: no round trip, looked at every 20 ms while a call
 * runs), so a provider that checks {@link CallContext#isDone()} between changes (the {@code
 * files} provider does, per file) stops at its next change when its member was paused past its
 * lease or cut off from the engine. What closes the window for the state store is that every
 * store write is itself a transaction guarded by the token ({@link
 * dev.gitops.cluster.etcd.EtcdStateStore}).
 *
 * <pre>{@code
 * Provider fenced = new FencedProvider(provider, coordinator, () -> member.ownership("payments").orElse(null));
 * }</pre>
 */
public final class FencedProvider extends DelegatingProvider {

  private static final Logger LOG = LoggerFactory.getLogger(FencedProvider.class);
  /** How often a running call's lease is looked at (locally). */
  static final long WATCH_MILLIS = 20;
  /** One thread for every fenced call of the process: each look is a local, synchronized read. */
  private static final ScheduledExecutorService WATCH = watcher();

  private final Coordinator coordinator;
  private final Supplier<Ownership> ownership;
  /** An ownership found stale, and why: it never becomes current again, so it is not asked about again. */
  private volatile Ownership staleOwnership;
  private volatile String staleReason;
  /** The sync (its cancellation token) whose refusal was logged at WARN: once per sync, the rest at DEBUG. */
  private volatile Cancellation warnedSync;

  private static ScheduledExecutorService watcher() {
    ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "gitops-fence-watch");
      t.setDaemon(true);
      return t;
    });
    e.setRemoveOnCancelPolicy(true);  // a call's watch goes with the call: short calls leave nothing queued
    return e;
  }

  /**
   * Fences {@code delegate} with the ownership {@code ownership} gives at each call (null when
   * this member holds none: every change is then refused).
   */
  public FencedProvider(Provider delegate, Coordinator coordinator, Supplier<Ownership> ownership) {
    super(delegate);
    this.coordinator = Objects.requireNonNull(coordinator, "coordinator");
    this.ownership = Objects.requireNonNull(ownership, "ownership");
  }

  /** Fences {@code delegate} with one fixed ownership. */
  public FencedProvider(Provider delegate, Coordinator coordinator, Ownership ownership) {
    this(delegate, coordinator, () -> ownership);
  }

  @Override
  public Outcome apply(Change change, CallContext ctx) {
    String refusal = refusal();
    if (refusal != null) {
      log(ctx, refusal + ": not applying " + change.key());
      return Outcome.permanentFailure(refusal, new FencedException(refusal));
    }
    return whileLive(ctx, c -> super.apply(change, c));
  }

  @Override
  public Map<ResourceKey, Outcome> applyAll(List<Change> changes, CallContext ctx) {
    String refusal = refusal();
    if (refusal != null) {
      log(ctx, refusal + ": not applying a batch of " + changes.size() + " changes");
      Map<ResourceKey, Outcome> out = new LinkedHashMap<>();
      for (Change c : changes) {
        out.put(c.key(), Outcome.permanentFailure(refusal, new FencedException(refusal)));
      }
      return out;
    }
    return whileLive(ctx, c -> super.applyAll(changes, c));
  }

  /**
   * Removes this owner's mark from the live object only while the ownership is current: a stale
   * member's forget changes nothing live (its store write is refused by the token as well).
   *
   * @throws FencedException when the ownership is stale or none is held
   */
  @Override
  public void unmark(ResourceKey key, String owner, CallContext ctx) {
    String refusal = refusal();
    if (refusal != null) {
      log(ctx, refusal + ": not removing the mark of " + key);
      throw new FencedException(refusal);
    }
    whileLive(ctx, c -> {
      super.unmark(key, owner, c);
      return null;
    });
  }

  /**
   * Runs {@code call} with a context that is cancelled once this member's lease is no longer live
   * by the local clock: after a pause past the lease (a long GC, SIGSTOP), the provider's next
   * {@link CallContext#isDone()} says so, with no round trip to the engine.
   */
  private <T> T whileLive(CallContext ctx, Function<CallContext, T> call) {
    Cancellation token = ctx.cancellation().child();
    ScheduledFuture<?> watch = WATCH.scheduleWithFixedDelay(() -> {
      if (!live()) {
        token.cancel("member " + coordinator.memberId() + "'s lease is no longer live by its own clock (no renewal"
            + " within its TTL): it may have been taken over, so nothing more is sent");
      }
    }, 0, WATCH_MILLIS, TimeUnit.MILLISECONDS);
    try {
      return call.apply(new CallContext(ctx.owner(), ctx.revision(), ctx.deadline(), token));
    } finally {
      watch.cancel(false);
      token.close();
    }
  }

  private boolean live() {
    try {
      return coordinator.isMember();
    } catch (RuntimeException e) {
      return false;  // cannot tell: a writer that cannot prove its lease stops
    }
  }

  /**
   * A planning provider's planner (Terraform), fenced too: its {@code plan} runs only while the
   * ownership is current, so a stale member neither takes the provider's own state lock nor leaves
   * a saved plan behind; a refusal is thrown as a {@link FencedException}, which makes the
   * provider's keys unknown and the sync incomplete. The planned changes are then applied through
   * {@link #applyAll}, checked again before the batch.
   */
  @Override
  public Optional<ProviderPlanner> planner() {
    return super.planner().map(FencedPlanner::new);
  }

  private final class FencedPlanner implements ProviderPlanner {
    private final ProviderPlanner planner;

    FencedPlanner(ProviderPlanner planner) {
      this.planner = planner;
    }

    @Override
    public List<Change> plan(List<Resource> desired, CallContext ctx) {
      String refusal = refusal();
      if (refusal != null) {
        log(ctx, refusal + ": not planning provider " + id());
        throw new FencedException(refusal);
      }
      return planner.plan(desired, ctx);
    }

    @Override
    public String stateToken(CallContext ctx) {
      return planner.stateToken(ctx);
    }

    @Override
    public boolean manages(ResourceKey key) {
      return planner.manages(key);
    }
  }

  /**
   * Logs a refusal at WARN once per sync (the calls of one sync share its cancellation token), the
   * rest at DEBUG: a fenced sync may try every one of thousands of changes.
   */
  private void log(CallContext ctx, String message) {
    if (warnedSync != ctx.cancellation()) {
      warnedSync = ctx.cancellation();
      LOG.warn("{} (further refusals of this sync at DEBUG)", message);
    } else {
      LOG.debug(message);
    }
  }

  /** Why nothing may be sent now, or null when the ownership is current. */
  private String refusal() {
    Ownership o = ownership.get();
    if (o == null) {
      return "fenced: member " + coordinator.memberId() + " owns no target here";
    }
    if (o.equals(staleOwnership)) {
      return staleReason;  // a stale token stays stale: no round trip per change
    }
    try {
      coordinator.checkFence(o);
      return null;
    } catch (FencedException e) {
      staleReason = e.getMessage();
      staleOwnership = o;
      return e.getMessage();
    } catch (RuntimeException e) {
      // the engine cannot be asked: a write that cannot prove its token is not sent
      return "fenced: the ownership of " + o.target() + " cannot be checked (" + e + ")";
    }
  }
}
