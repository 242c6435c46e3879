package dev.gitops.cluster.scenario;

import dev.gitops.agent.config.TargetConfig;
import dev.gitops.agent.spi.Placement;
import dev.gitops.api.Change;
import dev.gitops.api.Outcome;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.DelegatingProvider;
import dev.gitops.api.spi.HistoryEntry;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.StateStore;
import dev.gitops.api.spi.StoreLock;
import dev.gitops.api.spi.StoredResource;
import dev.gitops.api.spi.StoredState;
import dev.gitops.cluster.FencedException;
import dev.gitops.cluster.Ownership;
import dev.gitops.cluster.agent.ClusterPlacement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A {@link ClusterPlacement} whose targets' side effects are recorded in the scenario's {@link
 * WriteLog}: each provider call that reaches the live system (inside the fence: {@code W+}/{@code
 * W-}), and each store write and provider call as attempted (outside the fence: {@code A}, with
 * whether it was fenced). The token recorded is the one the target was started with, the one its
 * fence checks.
 */
final class RecordingPlacement implements Placement {

  private final ClusterPlacement delegate;
  private final WriteLog log;
  private final String member;
  private final long pid = ProcessHandle.current().pid();

  RecordingPlacement(ClusterPlacement delegate, WriteLog log) {
    this.delegate = delegate;
    this.log = log;
    this.member = delegate.coordinator().memberId();
  }

  @Override
  public void start(Control control) {
    delegate.start(control);
  }

  @Override
  public void configured(Set<String> targets) {
    delegate.configured(targets);
  }

  private long token(TargetConfig target) {
    Ownership o = delegate.owned().get(target.name());
    return o == null ? -1 : o.token();
  }

  @Override
  public Optional<StateStore> openStore(TargetConfig target) {
    long token = token(target);
    return delegate.openStore(target).map(s -> new AttemptedStore(s, new Attempts(target.name(), token)));
  }

  @Override
  public Provider wrapProvider(TargetConfig target, Provider provider) {
    long token = token(target);
    Provider fenced = delegate.wrapProvider(target, new LandedWrites(provider, target.name(), token));
    return new AttemptedProvider(fenced, new Attempts(target.name(), token));
  }

  @Override
  public Optional<String> lost(String target) {
    return delegate.lost(target);
  }

  @Override
  public void close() {
    delegate.close();
  }

  /** Records what one target attempts, and how each attempt ended. */
  private final class Attempts {
    private final String target;
    private final long token;

    Attempts(String target, long token) {
      this.target = target;
      this.token = token;
    }

    <T> T run(String operation, Supplier<T> call) {
      long start = WriteLog.micros();
      try {
        T result = call.get();
        String how = result instanceof Map<?, ?> outcomes && outcomes.values().stream().anyMatch(Attempts::fenced)
            || result instanceof Outcome o && fenced(o) ? "fenced" : "ok";
        log.append("A", target, member, token, WriteLog.micros(), pid, operation, how, start);
        return result;
      } catch (FencedException e) {
        log.append("A", target, member, token, WriteLog.micros(), pid, operation, "fenced", start);
        throw e;
      } catch (RuntimeException e) {
        log.append("A", target, member, token, WriteLog.micros(), pid, operation, "failed", start);
        throw e;
      }
    }

    void run(String operation, Runnable call) {
      run(operation, () -> {
        call.run();
        return null;
      });
    }

    private static boolean fenced(Object outcome) {
      return outcome instanceof Outcome o && o.cause() instanceof FencedException;
    }
  }

  /** Inside the fence: what reaches the wrapped provider is a write that lands. */
  private final class LandedWrites extends DelegatingProvider {
    private final String target;
    private final long token;

    LandedWrites(Provider delegate, String target, long token) {
      super(delegate);
      this.target = target;
      this.token = token;
    }

    private <T> T landing(Supplier<T> write) {
      log.append("W+", target, member, token, WriteLog.micros(), pid);
      try {
        return write.get();
      } finally {
        log.append("W-", target, member, token, WriteLog.micros(), pid);
      }
    }

    @Override
    public Outcome apply(Change change, CallContext ctx) {
      return landing(() -> super.apply(change, ctx));
    }

    @Override
    public Map<ResourceKey, Outcome> applyAll(List<Change> changes, CallContext ctx) {
      return changes.isEmpty() ? super.applyAll(changes, ctx) : landing(() -> super.applyAll(changes, ctx));
    }
  }

  /** Outside the fence: every provider call that would change something, attempted. */
  private static final class AttemptedProvider extends DelegatingProvider {
    private final Attempts attempts;

    AttemptedProvider(Provider delegate, Attempts attempts) {
      super(delegate);
      this.attempts = attempts;
    }

    @Override
    public Outcome apply(Change change, CallContext ctx) {
      return attempts.run("apply", () -> super.apply(change, ctx));
    }

    @Override
    public Map<ResourceKey, Outcome> applyAll(List<Change> changes, CallContext ctx) {
      return changes.isEmpty() ? super.applyAll(changes, ctx) : attempts.run("applyAll", () -> super.applyAll(changes, ctx));
    }
  }

  /** Outside the fence: every store lock and write, attempted. */
  private static final class AttemptedStore implements StateStore {
    private final StateStore store;
    private final Attempts attempts;

    AttemptedStore(StateStore store, Attempts attempts) {
      this.store = store;
      this.attempts = attempts;
    }

    @Override
    public StoreLock lock(Duration timeout) {
      return attempts.run("lock", () -> store.lock(timeout));
    }

    @Override
    public StoredState load() {
      return store.load();
    }

    @Override
    public void writePending(Resource desired) {
      attempts.run("writePending", () -> store.writePending(desired));
    }

    @Override
    public StoredResource commit(Resource lastApplied, String revision) {
      return attempts.run("commit", () -> store.commit(lastApplied, revision));
    }

    @Override
    public void clearPending(ResourceKey key) {
      attempts.run("clearPending", () -> store.clearPending(key));
    }

    @Override
    public void forget(ResourceKey key) {
      attempts.run("forget", () -> store.forget(key));
    }

    @Override
    public void recordRevisions(String attempted, String applied) {
      attempts.run("recordRevisions", () -> store.recordRevisions(attempted, applied));
    }

    @Override
    public void appendHistory(HistoryEntry entry) {
      attempts.run("appendHistory", () -> store.appendHistory(entry));
    }

    @Override
    public List<HistoryEntry> history() {
      return store.history();
    }

    @Override
    public byte[] secretKey() {
      return store.secretKey();
    }

    @Override
    public void close() {
      store.close();
    }
  }
}
