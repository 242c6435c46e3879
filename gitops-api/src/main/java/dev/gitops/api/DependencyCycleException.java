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
    this(cycle, List.of());
  }

  /**
   * The cycle, first key repeated at the end, and why each key waits for the next one ({@code
   * "a (apps/a.yaml:3@r1) dependsOn b"}, {@code "b is in wave 1, after wave 0 of a"}), in the
   * cycle's order: a cycle made of a {@code dependsOn} and waves names no {@code dependsOn} back.
   */
  public DependencyCycleException(List<ResourceKey> cycle, List<String> why) {
    super("dependency cycle: " + String.join(" -> ", Objects.requireNonNull(cycle, "cycle").stream().map(ResourceKey::toString).toList())
        + (Objects.requireNonNull(why, "why").isEmpty() ? "" : " (" + String.join("; ", why) + ")"));
    this.cycle = List.copyOf(cycle);
  }

  /** The keys of the cycle. */
  public List<ResourceKey> cycle() {
    return cycle;
  }
}
