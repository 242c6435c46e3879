package dev.gitops.api;

import dev.gitops.api.internal.SortedArrayMap;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A reviewable list of changes with their dependency graph, computed from one revision, the
 * stored state and the live state. Its {@link #id()} is a digest of its whole content as a plan
 * file holds it (every change with its documents, patch, fields, flags and fingerprint, the
 * revision, variables, options and guard figures), so {@code reconciler.apply(plan)} can check a
 * reviewed plan against its id, recompute it, and refuse when anything differs.
 *
 * <pre>{@code
 * Plan plan = reconciler.plan();
 * plan.changes(Action.DELETE).forEach(c -> log.info("will delete {}", c.key()));
 * SyncResult result = reconciler.apply(plan);   // refused if the plan no longer holds
 * }</pre>
 *
 * @param id SHA-256 of the plan's canonical content (see {@code PlanCodec}); never of {@code toString()}
 * @param revision the revision the desired state was read at
 * @param changes every key's change, NOOPs included, in a stable order
 * @param dependencies for each key, the keys it waits for (for deletes: reversed)
 * @param variables the substitution variables used when decoding
 * @param options the options that shape the plan (prune, adoption, budgets), as text
 * @param fingerprints per key, a digest of the stored state and normalized live state used
 * @param unknown keys the providers could not observe; when non-empty the plan is incomplete
 * @param unobserved what else could not be observed, with why: a provider's search for objects
 *     carrying our mark (orphan detection), as {@code "marked objects of provider 'p'" -> reason};
 *     when non-empty the plan is incomplete
 * @param owned per provider, how many resources it owned (its inventory, less keys removed from Git
 *     whose object is already gone) when the plan was computed: what the mass-deletion guard weighs
 *     the plan's deletes and replaces against
 */
public record Plan(String id, String revision, List<Change> changes,
    SortedMap<ResourceKey, SortedSet<ResourceKey>> dependencies, SortedMap<String, String> variables,
    SortedMap<String, String> options, SortedMap<ResourceKey, String> fingerprints, SortedSet<ResourceKey> unknown,
    SortedMap<String, String> unobserved, SortedMap<String, Integer> owned) {

  /**
   * Copies everything, into unmodifiable collections; the fingerprints and dependencies of another
   * plan (immutable already) are shared, not copied, so a plan made from another costs no copy of
   * its per-key maps.
   *
   * <pre>{@code
   * Plan named = plan.withId(planId);
   * assert named.fingerprints() == plan.fingerprints();   // shared, not copied
   * }</pre>
   */
  public Plan {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(revision, "revision");
    changes = List.copyOf(Objects.requireNonNull(changes, "changes"));
    Objects.requireNonNull(dependencies, "dependencies");
    Objects.requireNonNull(variables, "variables");
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(fingerprints, "fingerprints");
    Objects.requireNonNull(unknown, "unknown");
    Objects.requireNonNull(unobserved, "unobserved");
    Objects.requireNonNull(owned, "owned");
    if (!(dependencies instanceof SortedArrayMap<?, ?>)) {
      // another plan's map (withId, withChanges) holds unmodifiable copies already: it is shared as it is
      TreeMap<ResourceKey, SortedSet<ResourceKey>> deps = new TreeMap<>();
      dependencies.forEach((k, v) -> deps.put(k, Collections.unmodifiableSortedSet(new TreeSet<>(v))));
      dependencies = SortedArrayMap.copyOf(deps);
    }
    variables = Collections.unmodifiableSortedMap(new TreeMap<>(variables));
    options = Collections.unmodifiableSortedMap(new TreeMap<>(options));
    fingerprints = keyed(fingerprints);
    unknown = Collections.unmodifiableSortedSet(new TreeSet<>(unknown));
    unobserved = Collections.unmodifiableSortedMap(new TreeMap<>(unobserved));
    owned = Collections.unmodifiableSortedMap(new TreeMap<>(owned));
  }

  /**
   * An immutable copy of {@code map} in natural key order, held in two arrays; an immutable map of
   * this kind (another plan's) is shared as it is, so a plan made from another plan, or from a
   * planner that found every fingerprint unchanged, copies nothing. A map holding a null value is
   * copied into an unmodifiable {@code TreeMap}, as before.
   */
  private static <V> SortedMap<ResourceKey, V> keyed(SortedMap<ResourceKey, V> map) {
    SortedMap<ResourceKey, V> copy = SortedArrayMap.copyOfNonNull(map);
    return copy != null ? copy : Collections.unmodifiableSortedMap(new TreeMap<>(map));
  }

  /** A plan whose only blind spots are the keys in {@code unknown}, recording no owned counts (plans built by hand). */
  public Plan(String id, String revision, List<Change> changes,
      SortedMap<ResourceKey, SortedSet<ResourceKey>> dependencies, SortedMap<String, String> variables,
      SortedMap<String, String> options, SortedMap<ResourceKey, String> fingerprints, SortedSet<ResourceKey> unknown) {
    this(id, revision, changes, dependencies, variables, options, fingerprints, unknown, new TreeMap<>(), new TreeMap<>());
  }

  /** This plan with another id (everything else kept). */
  public Plan withId(String newId) {
    return new Plan(newId, revision, changes, dependencies, variables, options, fingerprints, unknown, unobserved, owned);
  }

  /**
   * This plan with other changes, everything else kept: for copies that transform the changes
   * (redaction, for example) without dropping a component of the plan.
   *
   * <pre>{@code
   * Plan updatesOnly = plan.withChanges(plan.changes(Action.UPDATE));   // unobserved, owned, ... kept
   * }</pre>
   */
  public Plan withChanges(List<Change> newChanges) {
    return new Plan(id, revision, newChanges, dependencies, variables, options, fingerprints, unknown, unobserved, owned);
  }

  /**
   * Whether every key, and every provider's search for marked objects, could be observed. An
   * incomplete plan deletes and replaces nothing ({@link #heldBack()}), and a sync of it ends
   * {@link SyncResult.Status#INCOMPLETE}.
   */
  public boolean isComplete() {
    return unknown.isEmpty() && unobserved.isEmpty();
  }

  /**
   * The changes held back (SKIPs flagged {@link Change.Flag#HELD_BACK}): the deletes and replaces
   * the engine holds back because the plan is incomplete or their delete would take resources the
   * desired state declares with it, and every change of a planning provider's plan that it holds
   * back whole, creates included (a Terraform plan that would destroy what gitops did not create).
   */
  public List<ResourceKey> heldBack() {
    List<ResourceKey> out = new ArrayList<>();
    for (Change c : changes) {
      if (c.has(Change.Flag.HELD_BACK)) {
        out.add(c.key());
      }
    }
    return out;
  }

  /**
   * Whether the plan is complete and every change in it is a NOOP: nothing to apply, nothing
   * skipped, nothing unknown. A plan whose only changes are skipped ones has no {@link
   * #hasChanges changes} but is not quiet: what it skips is not in line with Git.
   *
   * <pre>{@code
   * if (plan.isQuiet()) {
   *   log.info("in sync at {}", plan.revision());
   * }
   * }</pre>
   */
  public boolean isQuiet() {
    if (!isComplete()) {
      return false;
    }
    for (Change c : changes) {
      if (c.action() != Action.NOOP) {
        return false;
      }
    }
    return true;
  }

  /** Whether anything would change the live system (or the inventory). */
  public boolean hasChanges() {
    for (Change c : changes) {
      if (c.action() != Action.NOOP && c.action() != Action.SKIP) {
        return true;
      }
    }
    return false;
  }

  /** The changes with {@code action}. */
  public List<Change> changes(Action action) {
    Objects.requireNonNull(action, "action");
    List<Change> out = new ArrayList<>();
    for (Change c : changes) {
      if (c.action() == action) {
        out.add(c);
      }
    }
    return out;
  }

  /** The change for {@code key}; empty when the plan does not hold the key. */
  public Optional<Change> change(ResourceKey key) {
    Objects.requireNonNull(key, "key");
    for (Change c : changes) {
      if (c.key().equals(key)) {
        return Optional.of(c);
      }
    }
    return Optional.empty();
  }

  /** Counts of changes by action, for summaries: {@code {CREATE=2, UPDATE=1}}. */
  public SortedMap<Action, Integer> counts() {
    int[] n = new int[Action.values().length];
    for (Change c : changes) {
      n[c.action().ordinal()]++;  // no map lookup and boxing per change
    }
    TreeMap<Action, Integer> m = new TreeMap<>();
    for (Action a : Action.values()) {
      if (n[a.ordinal()] > 0) {
        m.put(a, n[a.ordinal()]);
      }
    }
    return m;
  }

  /**
   * A one-line summary such as {@code 2 to create, 1 to update, 0 to replace, 0 to delete, 0
   * skipped, 3 unchanged}; a planning provider's reads and forgets are counted too where there
   * are any ({@code 1 to delete, 1 to forget, ...}).
   */
  public String summary() {
    Map<Action, Integer> c = counts();
    int read = c.getOrDefault(Action.READ, 0);
    int forget = c.getOrDefault(Action.FORGET, 0);
    return c.getOrDefault(Action.CREATE, 0) + " to create, " + c.getOrDefault(Action.UPDATE, 0) + " to update, "
        + c.getOrDefault(Action.REPLACE, 0) + " to replace, " + c.getOrDefault(Action.DELETE, 0) + " to delete, "
        + (read > 0 ? read + " to read, " : "") + (forget > 0 ? forget + " to forget, " : "")
        + c.getOrDefault(Action.SKIP, 0) + " skipped, " + c.getOrDefault(Action.NOOP, 0) + " unchanged"
        + (isComplete() ? "" : " (incomplete: " + unknown.size() + " unknown"
            + (unobserved.isEmpty() ? "" : ", without " + String.join(", ", unobserved.keySet())) + ")");
  }
}
