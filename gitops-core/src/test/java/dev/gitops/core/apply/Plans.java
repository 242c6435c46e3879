package dev.gitops.core.apply;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.Plan;
import dev.gitops.api.ResourceKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/** Builds small plans for executor tests: {@code Plans.of("p").create("a").create("b", "a").build()}. */
final class Plans {
  private final String provider;
  private final List<Change> changes = new ArrayList<>();
  private final SortedMap<ResourceKey, SortedSet<ResourceKey>> deps = new TreeMap<>();

  private Plans(String provider) {
    this.provider = provider;
  }

  static Plans of(String provider) {
    return new Plans(provider);
  }

  static ResourceKey key(String provider, String name) {
    return ResourceKey.of(provider, "thing", "", name);
  }

  ResourceKey key(String name) {
    return key(provider, name);
  }

  static Change change(ResourceKey key, Action action) {
    var doc = action == Action.DELETE ? null : Documents.object(Map.of("name", Documents.nodes().textNode(key.name())));
    var target = action == Action.DELETE || action == Action.SKIP || action == Action.NOOP ? null : doc;
    return Change.builder(key, action).desiredDocument(doc).target(target).reason(action + " " + key.name()).build();
  }

  Plans add(Action action, String name, String... dependsOn) {
    return add(key(name), action, dependsOn);
  }

  Plans add(ResourceKey key, Action action, String... dependsOn) {
    changes.add(change(key, action));
    for (String d : dependsOn) {
      deps.computeIfAbsent(key, k -> new TreeSet<>()).add(d.contains(":") ? ResourceKey.parse(d) : key(d));
    }
    return this;
  }

  /** A NOOP of an object that is present (its live document is the desired one). */
  Plans unchanged(String name) {
    Change c = change(key(name), Action.NOOP);
    changes.add(c.toBuilder().live(c.desired()).reason("in sync").build());
    return this;
  }

  Plans create(String name, String... dependsOn) {
    return add(Action.CREATE, name, dependsOn);
  }

  /** A SKIP of a key Git no longer has, whose prune is refused ("removed from Git, but prune is disabled"). */
  Plans removed(String name) {
    changes.add(Change.builder(key(name), Action.SKIP).reason("removed from Git, but prune is disabled").build());
    return this;
  }

  /**
   * Declares the last change's resource at {@code path:line} of revision {@code r1}: in Git when
   * the change has a desired document, otherwise as last applied (Git no longer has the key).
   */
  Plans at(String path, int line) {
    Change c = changes.remove(changes.size() - 1);
    var doc = c.desired() != null ? c.desired()
        : Documents.object(Map.of("name", Documents.nodes().textNode(c.key().name())));
    dev.gitops.api.Resource r = dev.gitops.api.Resource.builder(c.key())
        .origin(dev.gitops.api.Origin.of(path, line, "r1")).document(doc).build();
    changes.add(c.desired() != null ? c.toBuilder().desired(r).build() : c.toBuilder().lastApplied(r).build());
    return this;
  }

  Plan build() {
    return new Plan("plan-1", "main@sha1:abc", changes, deps, new TreeMap<>(), new TreeMap<>(), new TreeMap<>(),
        new TreeSet<>());
  }
}
