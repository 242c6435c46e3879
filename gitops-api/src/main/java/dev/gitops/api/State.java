package dev.gitops.api;

import dev.gitops.api.internal.SortedArrayMap;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
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
    resources = SortedArrayMap.copyOf(Objects.requireNonNull(resources, "resources"));
  }

  /**
   * A state of {@code resources} at {@code revision}.
   *
   * @throws DuplicateResourceException when two resources have one key, naming both origins
   */
  public static State of(String revision, Collection<Resource> resources) {
    Resource[] sorted = Objects.requireNonNull(resources, "resources").toArray(new Resource[0]);
    // a stable merge sort: resources that come (mostly) in key order, as a source's walk gives
    // them, are sorted in about one pass, and equal keys end up next to each other
    Arrays.sort(sorted, BY_KEY);
    Object[] keys = new Object[sorted.length];
    for (int i = 0; i < sorted.length; i++) {
      keys[i] = sorted[i].key();
      if (i > 0 && keys[i].equals(keys[i - 1])) {
        return withDuplicates(revision, resources);
      }
    }
    return new State(revision, SortedArrayMap.ofSorted(keys, sorted), false, false);
  }

  private static final Comparator<Resource> BY_KEY = (a, b) -> a.key().compareTo(b.key());

  /** {@link #of} for resources two of which share a key: throws naming the first such pair in their order. */
  private static State withDuplicates(String revision, Collection<Resource> resources) {
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
