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
 * @param target the target's name, as the agent's configuration spells it
 * @param member the holder's member id
 * @param token the fencing token
 * @param since when the holder took it
 */
public record Ownership(String target, String member, long token, Instant since) {

  /** Checks. */
  public Ownership {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(member, "member");
    Objects.requireNonNull(since, "since");
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
