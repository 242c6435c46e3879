package dev.gitops.cluster;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/** A coordinator over an in-memory engine shared by the members of one test. */
final class FakeCoordinator implements Coordinator {

  /** The engine: live members and ownership records, with a revision counter as the token source. */
  static final class Engine {
    final SortedSet<String> members = new TreeSet<>();
    final Map<String, Ownership> owners = new HashMap<>();
    long revision;
  }

  private final Engine engine;
  private final String id;
  /** While set, every call fails as an unreachable engine would. */
  volatile boolean unreachable;
  /** While set, a join fails with this message (another process uses the member id). */
  volatile String refuseJoin;
  /** While set, a join returns without making the member live again (a coordinator that keeps a stale lease). */
  volatile boolean joinKeepsStaleLease;
  /** Whether this member holds a live lease (its registration in {@code members} may be gone without it). */
  private volatile boolean live;
  /** While set, a release fails as a call to an engine that went away mid-round would. */
  volatile boolean releaseFails;
  /** When set, the next owners() throws it, and clears it (an Error thrown inside a round). */
  volatile Error ownersThrowsOnce;
  /** While set, an acquire is made on the engine but its answer is lost (a timeout after etcd committed it). */
  volatile boolean acquireAnswerLost;
  /** Every release asked of this member, in order, those that failed included. */
  final java.util.List<Ownership> releases = new java.util.concurrent.CopyOnWriteArrayList<>();

  FakeCoordinator(Engine engine, String id) {
    this.engine = engine;
    this.id = id;
  }

  @Override
  public String memberId() {
    return id;
  }

  @Override
  public void join() {
    if (refuseJoin != null) {
      throw new IllegalStateException(refuseJoin);
    }
    if (joinKeepsStaleLease) {
      return;
    }
    synchronized (engine) {
      engine.members.add(id);
      live = true;
    }
  }

  /** What deleting the member's key behind its back does: its lease (and what it owns) stays, the others no longer see it. */
  void dropRegistration() {
    synchronized (engine) {
      engine.members.remove(id);
    }
  }

  /** What a lease expiry does: the member and everything it owns are gone. */
  void expire() {
    synchronized (engine) {
      engine.members.remove(id);
      engine.owners.values().removeIf(o -> o.member().equals(id));
      live = false;
    }
  }

  @Override
  public boolean isMember() {
    if (unreachable) {
      throw new IllegalStateException("connection refused: 127.0.0.1:2379");
    }
    return live;
  }

  @Override
  public SortedSet<String> members() {
    synchronized (engine) {
      return new TreeSet<>(engine.members);
    }
  }

  @Override
  public Optional<Ownership> tryAcquire(String target) {
    synchronized (engine) {
      Ownership current = engine.owners.get(target);
      if (current != null) {
        return current.member().equals(id) ? Optional.of(current) : Optional.empty();
      }
      Ownership o = new Ownership(target, id, ++engine.revision, Instant.EPOCH);
      engine.owners.put(target, o);
      if (acquireAnswerLost) {
        throw new IllegalStateException("etcd did not answer within 10 s to acquire target " + target);
      }
      return Optional.of(o);
    }
  }

  @Override
  public void release(Ownership o) {
    releases.add(o);
    if (releaseFails) {
      throw new IllegalStateException("etcd did not answer within 10 s to release target " + o.target());
    }
    synchronized (engine) {
      engine.owners.remove(o.target(), o);
    }
  }

  @Override
  public boolean holds(Ownership o) {
    synchronized (engine) {
      return o.equals(engine.owners.get(o.target()));
    }
  }

  @Override
  public Map<String, Ownership> owners() {
    Error e = ownersThrowsOnce;
    if (e != null) {
      ownersThrowsOnce = null;
      throw e;
    }
    synchronized (engine) {
      return new TreeMap<>(engine.owners);
    }
  }

  @Override
  public void close() {
    expire();
  }
}
