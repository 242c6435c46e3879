package dev.gitops.agent.spi;

import dev.gitops.agent.config.TargetConfig;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.StateStore;
import java.util.Optional;
import java.util.Set;

/**
 * Decides which of the configured targets this agent runs, when several agents share one
 * configuration (gitops-cluster's {@code ClusterPlacement} does it through etcd or Kubernetes
 * Leases). With a placement the agent starts no target by itself: it tells the placement which
 * targets are configured and starts or stops one when the placement asks through {@link Control}.
 * The placement may also give each target its store (one every member can reach) and wrap its
 * provider (to fence writes).
 *
 * <pre>{@code
 * Agent agent = Agent.builder(Path.of("agent.yaml"))
 *     .placement(ClusterPlacement.connect("etcd://127.0.0.1:2379", "m1", null))
 *     .build();
 * agent.start();
 * }</pre>
 */
public interface Placement {

  /** What a placement may ask of the agent; callable from any thread. */
  interface Control {
    /** Starts the configured target {@code name} unless it runs; whether it runs now. */
    boolean startTarget(String name);

    /**
     * Stops target {@code name} if it runs (nothing is pruned), waiting for its sync to reach a safe
     * point. A stop that fails part way (a resource that would not close, a sync that did not reach
     * a safe point within the grace period) closes what it can, is logged, named by readiness, and
     * thrown: the target may still run, so the placement keeps it from other agents and calls this
     * again, which tries again what is still open; a call that returns has stopped it.
     *
     * @throws IllegalStateException naming the target and what failed, when it may still run
     */
    void stopTarget(String name, String reason);
  }

  /** Called once when the agent starts, before {@link #configured}. */
  void start(Control control);

  /** The names of the configured targets: at the start and after every reload. */
  void configured(Set<String> targets);

  /** The store of a target about to start; empty for the agent's own file store. */
  default Optional<StateStore> openStore(TargetConfig target) {
    return Optional.empty();
  }

  /** The provider a target about to start uses, given the one its configuration makes. */
  default Provider wrapProvider(TargetConfig target, Provider provider) {
    return provider;
  }

  /**
   * Why this agent is not ready for the placement's part ({@code /readyz}): for a cluster, that it
   * cannot coordinate with the others. Empty when ready.
   */
  default Optional<String> notReady() {
    return Optional.empty();
  }

  /**
   * The targets whose failed stop (asked for through {@link Control#stopTarget}) {@link #notReady()}
   * names already, so that the agent's readiness does not name the same failure a second time in
   * its own words. Empty by default: the agent names every failed stop itself.
   *
   * <pre>{@code
   * Set<String> named = placement.failedStopsNamed();   // e.g. [web] while web cannot be stopped
   * }</pre>
   */
  default Set<String> failedStopsNamed() {
    return Set.of();
  }

  /**
   * Why this agent no longer holds {@code target} although the target still runs here (the
   * placement has not stopped it yet), or empty: for a cluster, that the member's lease is over by
   * its own clock, or that it no longer owns the target. A sync of the target that ends without
   * success meanwhile was cut off by fencing, not failed: the agent records it as cancelled in the
   * metrics and sends no notification of it, so that a member that lost a target (paused past its
   * lease, say) posts no failure, to a webhook or as a commit status, over what the target's new
   * owner reports. Asked when such a sync ends; it must answer without a round trip.
   *
   * <pre>{@code
   * Optional<String> why = placement.lost("web");   // e.g. "member m1's lease is no longer live by its own clock"
   * }</pre>
   */
  default Optional<String> lost(String target) {
    return Optional.empty();
  }

  /** Called once when the agent has stopped every target: leave (and let the others take over). */
  void close();
}
