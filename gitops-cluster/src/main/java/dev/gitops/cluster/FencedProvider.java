package dev.gitops.cluster;

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
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A provider that checks the owner's fencing token on the coordination engine before every apply
 * and every batch: a member that lost the target (a pause past its lease, a takeover) sends
 * nothing more to the live system. A fenced change is a permanent failure naming the stale token,
 * never sent to the wrapped provider. A planning provider's planner is fenced as well (before
 * it plans; its changes are applied through the fenced batch). Observing is not fenced: it
 * changes nothing.
 *
 * <p>The check narrows the window to one batch; what closes it for the state store is that every
 * store write is itself a transaction guarded by the token ({@link
 * dev.gitops.cluster.etcd.EtcdStateStore}).
 *
 * <pre>{@code
 * Provider fenced = new FencedProvider(provider, coordinator, () -> member.ownership("payments").orElse(null));
 * }</pre>
 */
public final class FencedProvider extends DelegatingProvider {

  private static final Logger LOG = LoggerFactory.getLogger(FencedProvider.class);

  private final Coordinator coordinator;
  private final Supplier<Ownership> ownership;

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
      LOG.warn("{}: not applying {}", refusal, change.key());
      return Outcome.permanentFailure(refusal, new FencedException(refusal));
    }
    return super.apply(change, ctx);
  }

  @Override
  public Map<ResourceKey, Outcome> applyAll(List<Change> changes, CallContext ctx) {
    String refusal = refusal();
    if (refusal != null) {
      LOG.warn("{}: not applying a batch of {} changes", refusal, changes.size());
      Map<ResourceKey, Outcome> out = new LinkedHashMap<>();
      for (Change c : changes) {
        out.put(c.key(), Outcome.permanentFailure(refusal, new FencedException(refusal)));
      }
      return out;
    }
    return super.applyAll(changes, ctx);
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
        LOG.warn("{}: not planning provider {}", refusal, id());
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

  /** Why nothing may be sent now, or null when the ownership is current. */
  private String refusal() {
    Ownership o = ownership.get();
    if (o == null) {
      return "fenced: member " + coordinator.memberId() + " owns no target here";
    }
    try {
      coordinator.checkFence(o);
      return null;
    } catch (FencedException e) {
      return e.getMessage();
    } catch (RuntimeException e) {
      // the engine cannot be asked: a write that cannot prove its token is not sent
      return "fenced: the ownership of " + o.target() + " cannot be checked (" + e + ")";
    }
  }
}
