package dev.gitops.cluster;

import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.concurrent.atomic.AtomicInteger;

/** A coordinator as a member sees it, counting its {@code owners()} calls: one per round that gets that far. */
public final class CountingCoordinator implements Coordinator {

  private final Coordinator inner;
  /** The completed {@code owners()} calls. */
  public final AtomicInteger ownersCalls = new AtomicInteger();

  public CountingCoordinator(Coordinator inner) {
    this.inner = inner;
  }

  @Override
  public String memberId() {
    return inner.memberId();
  }

  @Override
  public void join() {
    inner.join();
  }

  @Override
  public boolean isMember() {
    return inner.isMember();
  }

  @Override
  public SortedSet<String> members() {
    return inner.members();
  }

  @Override
  public Optional<Ownership> tryAcquire(String target) {
    return inner.tryAcquire(target);
  }

  @Override
  public void release(Ownership ownership) {
    inner.release(ownership);
  }

  @Override
  public boolean holds(Ownership ownership) {
    return inner.holds(ownership);
  }

  @Override
  public Map<String, Ownership> owners() {
    Map<String, Ownership> out = inner.owners();
    ownersCalls.incrementAndGet();
    return out;
  }

  @Override
  public void close() {
    inner.close();
  }
}
