package dev.gitops.api.spi;

import dev.gitops.api.Change;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import java.util.List;

/**
 * The planner of a planning provider (Terraform): it computes its own changes from the desired
 * resources, keeps its own state as its inventory, and its changes run as one unit.
 *
 * <p>The engine calls {@link #plan} once per plan with every desired resource of the provider
 * (for Terraform: the configuration files) and uses the changes it returns instead of its own
 * three-way merge for that provider. Those changes form one unit of the dependency graph: a
 * {@code dependsOn} on any key of the provider waits for the whole unit, and the unit is applied
 * in one {@link Provider#applyAll} call, so a planning provider should {@link
 * Provider#prefersBatches() prefer batches}. The changes carry their own masks: every value under
 * {@link Change#sensitive()} is hidden wherever the plan is shown, and values under {@link
 * Change#unknown()} are known only after apply. The engine hides masked values in the changes it
 * shows and in those it hands back to {@code applyAll}, so the provider applies from its own saved
 * plan, never from those documents. A change the provider holds back (a SKIP flagged
 * {@link Change.Flag#HELD_BACK}, for example because its own plan is incomplete) makes the whole
 * plan incomplete.
 *
 * <pre>{@code
 * // A provider returns it from planner(): return Optional.of(new StatePlanner());
 * class StatePlanner implements ProviderPlanner {
 *   private final Map<ResourceKey, JsonNode> state = new TreeMap<>();   // its own state, its inventory
 *   private long serial;
 *
 *   public List<Change> plan(List<Resource> desired, CallContext ctx) {
 *     List<Change> changes = new ArrayList<>();
 *     for (Resource r : desired) {
 *       JsonNode live = state.get(r.key());
 *       changes.add(live == null ? Change.create(r, "planned by the provider")
 *           : Change.noop(r, live, "planned by the provider"));
 *     }
 *     return changes;
 *   }
 *
 *   public String stateToken(CallContext ctx) {
 *     return "lineage-1/" + serial;
 *   }
 * }
 * }</pre>
 */
public interface ProviderPlanner {

  /**
   * Plans the provider's changes for {@code desired} (empty when everything of the provider was
   * removed from the desired state). A failure is thrown; the engine then treats the provider's
   * keys as unknown: nothing of it is applied and the plan is incomplete.
   */
  List<Change> plan(List<Resource> desired, CallContext ctx);

  /**
   * An opaque concurrency token of the provider's own state (lineage and serial). It is part of
   * every planned key's fingerprint, so a reviewed plan no longer matches once the state moved.
   */
  String stateToken(CallContext ctx);

  /**
   * Whether {@code key} names an object the provider manages, which the mass-deletion guard counts
   * as owned, rather than something it only reads or reports (a data source, an output).
   */
  default boolean manages(ResourceKey key) {
    return true;
  }
}
