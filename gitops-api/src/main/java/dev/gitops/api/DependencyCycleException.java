package dev.gitops.api;

import java.util.List;
import java.util.Objects;

/**
 * Resources depend on each other in a cycle; the message names it.
 *
 * <pre>{@code
 * try {
 *   reconciler.plan();
 * } catch (DependencyCycleException e) {
 *   List<ResourceKey> cycle = e.cycle();   // [a, b, a]: a waits for b, which waits for a
 * }
 * }</pre>
 */
public class DependencyCycleException extends GitOpsException {
  private static final long serialVersionUID = 1L;
  private final List<ResourceKey> cycle;

  /** The cycle, first key repeated at the end. */
  public DependencyCycleException(List<ResourceKey> cycle) {
    super("dependency cycle: " + String.join(" -> ", Objects.requireNonNull(cycle, "cycle").stream().map(ResourceKey::toString).toList()));
    this.cycle = List.copyOf(cycle);
  }

  /** The keys of the cycle. */
  public List<ResourceKey> cycle() {
    return cycle;
  }
}
