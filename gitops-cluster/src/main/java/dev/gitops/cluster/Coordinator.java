package dev.gitops.cluster;

import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;

/**
 * The coordination engine as the cluster needs it: membership held by a lease, and per-target
 * ownership that at most one member holds at a time, with a fencing token. Backends: {@link
 * dev.gitops.cluster.etcd.EtcdCoordinator} and {@link dev.gitops.cluster.k8s.LeaseCoordinator}.
 * Who <em>should</em> own a target is not the coordinator's business: {@link ClusterMember}
 * computes it with {@link Rendezvous} hashing and asks the coordinator to acquire and release.
 *
 * <pre>{@code
 * try (Coordinator c = EtcdCoordinator.builder(etcdClient, "m1").ttl(Duration.ofSeconds(10)).build()) {
 *   c.join();
 *   Optional<Ownership> o = c.tryAcquire("payments");   // empty while another member holds it
 *   // ... reconcile it while o is held
 *   c.release(o.get());
 * }                                                    // close() revokes the lease: its targets move at once
 * }</pre>
 */
public interface Coordinator extends AutoCloseable {

  /** This member's id. */
  String memberId();

  /**
   * Takes this member's lease and keeps it alive until {@link #close()}; a member whose lease was
   * lost joins again with a new one. A member whose lease is live but whose registration is gone
   * from the engine (deleted behind its back, so that {@link #members()} lacks it) registers again,
   * or gives its lease up as lost when it cannot.
   *
   * @throws IllegalStateException when another live member already uses this member's id
   */
  void join();

  /** Whether this member's lease is known to be live (false before joining and after a loss). */
  boolean isMember();

  /**
   * The ids of the live members, this one included when it is a member. A backend may serve it
   * from a watched view: another member's join or leave may show a moment late (the watch's
   * delivery time), this member's own never; a view whose watch is down is not served.
   */
  SortedSet<String> members();

  /**
   * Takes {@code target} if no member holds it (a create-if-absent on the engine), or returns the
   * ownership this member already holds; empty while another member holds it.
   */
  Optional<Ownership> tryAcquire(String target);

  /** Gives {@code ownership} up, if it is still the current one; a stale one releases nothing. */
  void release(Ownership ownership);

  /** Whether {@code ownership} is still current on the engine (a round trip): the fence check. */
  boolean holds(Ownership ownership);

  /**
   * Throws when {@code ownership} is not current: what a writer calls before a side effect. An
   * ownership of this member whose lease is not live ({@link #isMember()}) is refused without a round
   * trip, saying that the membership lapsed rather than that another member took the target.
   *
   * @throws FencedException naming the target, the member and the token
   */
  default void checkFence(Ownership ownership) {
    if (ownership.member().equals(memberId()) && !isMember()) {
      // nobody may have taken the target: this member cannot prove its lease (etcd did not answer its renewals,
      // or it was paused), and a lease past its TTL by its own clock is given up for good
      throw new FencedException("fenced: the membership of member " + ownership.member() + " lapsed (its lease is"
          + " not live by its own clock), so its ownership of target " + ownership.target() + " (token "
          + ownership.token() + ") is given up; nothing more is written under it, and the target starts again once"
          + " the member has joined again");
    }
    if (!holds(ownership)) {
      throw new FencedException("fenced: member " + ownership.member() + " no longer owns target "
          + ownership.target() + " (its token " + ownership.token() + " is stale)");
    }
  }

  /**
   * Who owns which target now, by target. A backend may serve it from a watched view, as {@link
   * #members()}: another member's change may show a moment late, which only delays a handover
   * (every write is fenced by its ownership's token), this member's own acquires and releases never.
   */
  Map<String, Ownership> owners();

  /** Leaves: stops renewing and revokes the lease, so that this member's targets move at once. */
  @Override
  void close();
}
