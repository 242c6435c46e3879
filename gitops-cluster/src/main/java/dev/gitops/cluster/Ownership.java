package dev.gitops.cluster;

import java.time.Instant;
import java.util.Objects;

/**
 * A member's hold on one target, as the coordination engine granted it. The {@code token} is the
 * fencing token: it grows with every new holder of the target (etcd: the create revision of the
 * ownership key; Kubernetes: the per-target Lease's transition count), so a write carrying an
 * older one is recognised as stale and rejected.
 *
 * <pre>{@code
 * Ownership o = coordinator.tryAcquire("payments").orElseThrow();
 * String trailer = o.trailer();   // "Reconciled-By: m1@1234"
 * }</pre>
 *
 * <p>The token alone does not tell two grants apart: a Kubernetes target Lease made anew or
 * restored by hand may count to the same number again, for the same member too. A grant is the
 * member, the token and the grant time together ({@link #sameGrant}), which is how {@link
 * Coordinator#holds} and the Secret store compare them; etcd's create revision is new at every
 * grant, so there the token alone tells them apart.
 *
 * @param target the target's name, as the agent's configuration spells it
 * @param member the holder's member id
 * @param token the fencing token
 * @param since when the holder took it: the grant time the engine records (a Kubernetes target
 *     Lease's {@code acquireTime}, the time in an etcd ownership key's value), read back as written
 */
public record Ownership(String target, String member, long token, Instant since) {

  /** Checks. */
  public Ownership {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(member, "member");
    Objects.requireNonNull(since, "since");
  }

  /**
   * Whether {@code other} is the same grant as this one: the same target, member, token and grant
   * time ({@link #since}). A member compares what it runs under with the engine's record so: one
   * of its own at the same token but granted at another time is another grant, under which what it
   * runs now writes nothing.
   *
   * <pre>{@code
   * Ownership running = member.ownership("payments").orElseThrow();
   * boolean stillThatGrant = running.sameGrant(coordinator.owners().get("payments"));
   * }</pre>
   *
   * @param other the grant to compare with; null (nobody holds the target) is no grant of this one
   */
  public boolean sameGrant(Ownership other) {
    return other != null && target.equals(other.target) && member.equals(other.member) && token == other.token
        && since.equals(other.since);
  }

  /** The commit trailer that says who made a change under which token. */
  public String trailer() {
    return "Reconciled-By: " + member + "@" + token;
  }

  @Override
  public String toString() {
    return target + " owned by " + member + " (token " + token + ", since " + since + ")";
  }
}
