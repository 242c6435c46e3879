package dev.gitops.api;

import java.util.Collection;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The desired state at one revision: every resource by key.
 *
 * <pre>{@code
 * State desired = State.of("main@sha1:" + sha, List.of(web, db));
 * desired.get(web.key());  // Optional[web]
 * }</pre>
 *
 * @param revision the revision, for example {@code main@sha1:<40 hex>}
 * @param resources the resources by key
 * @param unchanged whether the source saw the same revision as last time (decode was skipped)
 * @param historyRewritten whether the revision does not descend from the last one (force push)
 */
public record State(String revision, SortedMap<ResourceKey, Resource> resources, boolean unchanged,
    boolean historyRewritten) {

  /** Copies the map. */
  public State {
    Objects.requireNonNull(revision, "revision");
    // immutable, in two arrays; another state's resources are shared as they are (asUnchanged copies nothing)
    resources = SortedArrayMap.copyOf(resources);
  }

  /**
   * A state of {@code resources} at {@code revision}.
   *
   * @throws DuplicateResourceException when two resources have one key, naming both origins
   */
  public static State of(String revision, Collection<Resource> resources) {
    TreeMap<ResourceKey, Resource> map = new TreeMap<>();
    for (Resource r : resources) {
      Resource prev = map.putIfAbsent(r.key(), r);
      if (prev != null) {
        throw new DuplicateResourceException(r.key(), prev.origin(), r.origin());
      }
    }
    return new State(revision, map, false, false);
  }

  /** The resource with {@code key}; empty when this state does not declare it. */
  public Optional<Resource> get(ResourceKey key) {
    return Optional.ofNullable(resources.get(Objects.requireNonNull(key, "key")));
  }

  /** This state, flagged as read from the same revision as the previous read. */
  public State asUnchanged() {
    return new State(revision, resources, true, historyRewritten);
  }

  /** This state, flagged as not descending from the previous revision. */
  public State asHistoryRewritten() {
    return new State(revision, resources, unchanged, true);
  }
}
