package dev.gitops.api.spi;

import dev.gitops.api.Change;
import dev.gitops.api.Resource;
import java.util.List;

/**
 * The planner of a planning provider (Terraform): it computes its own changes from the desired
 * resources, keeps its own state as its inventory, and its changes run as one unit.
 */
public interface ProviderPlanner {

  /** Plans the provider's changes for {@code desired}. */
  List<Change> plan(List<Resource> desired, CallContext ctx);

  /** An opaque concurrency token of the provider's own state (lineage and serial). */
  String stateToken(CallContext ctx);
}
