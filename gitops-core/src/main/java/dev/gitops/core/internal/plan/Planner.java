package dev.gitops.core.internal.plan;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Change.Flag;
import dev.gitops.api.DecodeException;
import dev.gitops.api.DependencyCycleException;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldChange;
import dev.gitops.api.FieldPath;
import dev.gitops.api.ManagementPolicy.Permission;
import dev.gitops.api.MergeRules;
import dev.gitops.api.Observation;
import dev.gitops.api.OwnerMark;
import dev.gitops.api.Plan;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.internal.SortedArrayMap;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.StoredResource;
import dev.gitops.api.spi.StoredState;
import dev.gitops.core.merge.MergeResult;
import dev.gitops.core.internal.redact.SensitiveValues;
import dev.gitops.core.merge.ThreeWayMerge;
import dev.gitops.core.redact.Redactor;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Computes a {@link Plan} from desired, stored and live state: the per-key decision table of
 * DESIGN.md, the dependency graph, fingerprints and the plan id.
 *
 * <p>Each key's decision is remembered with an explicit record of what it was computed from
 * ({@link DecisionInputs}: desired digest and metadata, last-applied serial and digest, pending
 * digest, observed status, live version token and mark, rules, provider and store key). A key
 * whose inputs are all unchanged since the last plan skips merge and decision, so a resync costs
 * merge work only where something changed; when the desired, stored and pending resources are the
 * very instances of the last plan nothing is even digested, and a plan whose every key is served
 * so (same revision and plan-wide inputs) is the last plan again. Observation still runs every
 * time: live drift reaches the planner through the version token, and a provider without version
 * tokens is merged every time. A planner is thread-safe.
 *
 * <pre>{@code
 * Planner planner = new Planner("my-owner", PlanOptions.defaults());
 * Plan plan = planner.plan(input);
 * }</pre>
 */
public final class Planner {

  private static final Logger LOG = LoggerFactory.getLogger(Planner.class);

  private final String owner;
  /** The plan's options as text: the options, the setting and the owner. */
  private final SortedMap<String, String> optionsText;
  private final PlanOptions options;
  /**
   * Per key, the last decision and what it was computed from: one entry per key keeps it bounded.
   * While the last plan holds its {@link Instances}, those are the last decisions of its keys (the
   * next plan walks them along its own keys) and an entry here may be older (still a decision
   * checked by its inputs before use); a plan without them first puts them here.
   */
  private final Map<ResourceKey, Decided> decided = new ConcurrentHashMap<>();

  /**
   * Everything a key's decision depends on besides the planner's own owner and options (both
   * final). Documents are compared by digest, the live document by its version token (the
   * provider's promise that an unchanged token means an unchanged object), the provider by
   * identity (its hooks are part of its behaviour), the store key by a digest of it. The desired
   * resource's origin is none of them (no decision reads it): a remembered change is handed out
   * holding the resource as read now, so a new commit that leaves a document alone leaves its
   * decision alone.
   */
  private record DecisionInputs(String desired, long serial, String stored, String pending, Observation.Status status,
      String version, OwnerMark mark, MergeRules rules, Provider provider, String secretKey) {}

  /**
   * A remembered decision: the masked change and the fingerprint it contributed to the plan id,
   * and the desired, stored and pending instances it was last confirmed for. The same instances
   * (a resync of an unchanged commit, an unchanged store) prove the digests unchanged without
   * computing them; other instances are compared by {@link DecisionInputs} as before.
   */
  private record Decided(DecisionInputs inputs, Change change, String fingerprint, Resource desired,
      StoredResource stored, Resource pending) {

    /**
     * Whether this decision holds for these instances and this observation, with nothing to digest.
     * A desired resource read again at another commit counts as the same instance while it holds the
     * same document instance and differs in nothing but its origin's revision (the source keeps the
     * decoded documents of unchanged files).
     */
    boolean holdsFor(Resource d, StoredResource l, Resource p, Observation v, MergeRules rules, Provider provider,
        String secret) {
      return (d == desired || d != null && desired != null && d.document() == desired.document()
              && Changes.sameButOriginRevision(d, desired))
          && l == stored && p == pending && v.status() == inputs.status()
          && (v.isPresent() ? v.version() : "").equals(inputs.version())
          && java.util.Objects.equals(v.mark(), inputs.mark())
          && rules == inputs.rules() && provider == inputs.provider() && secret.equals(inputs.secretKey());
    }
  }

  /**
   * The last plan and the changes (before ordering) it was made of: a plan whose every key is
   * served by the memo from the same instances, with the same revision and the same plan-wide
   * inputs, is that plan again (dependencies, order and id follow from those alone).
   */
  private record Whole(Plan plan, List<Change> changes, String revision, Map<String, String> variables,
      Map<String, String> unobserved, String secret, Instances instances) {}

  /**
   * What a plan's keys were decided from, by instance, in key order: the desired map itself, and
   * per key its remembered decision (which holds the desired, stored and pending instances, the
   * observation's status, token and mark, the rules and the provider). A plan whose input has the
   * very same desired map, the same stored and pending instances at the same keys and the same
   * observations is the last plan; this proves it with one pass over sorted arrays and one
   * observation lookup per key, without hashing a key into the memo, the store's maps or a set.
   */
  private record Instances(Map<ResourceKey, Resource> desired, Map<ResourceKey, StoredResource> storedMap,
      Map<ResourceKey, Resource> pendingMap, ResourceKey[] keys, Decided[] decided, byte[] recorded, int stored,
      int pending) {

    /**
     * The instances of a plan of {@code in} whose changes (before ordering) are exactly the decisions
     * {@code used} for its keys (each holding the key's desired resource of {@code in}), else null.
     */
    static Instances of(PlanInput in, ResourceKey[] keys, List<Change> unordered, Decided[] used, byte[] recorded) {
      if (unordered.size() != keys.length || used.length != keys.length) {
        return null;
      }
      ResourceKey[] k = keys;
      Decided[] d = used;
      int stored = 0;
      int pending = 0;
      for (int i = 0; i < k.length; i++) {
        if (d[i] == null || d[i].change() != unordered.get(i)) {
          return null;
        }
        stored += d[i].stored() == null ? 0 : 1;
        pending += d[i].pending() == null ? 0 : 1;
      }
      return new Instances(in.desired().resources(), in.stored().inventory(), in.stored().pending(), k, d, recorded,
          stored, pending);
    }

    /**
     * Whether {@code in} gives every key the very instances and observation it was decided from:
     * the same desired map, each stored and pending entry the remembered instance at a key of the
     * plan (and no other), no marked key outside the plan, and per key the same observation status,
     * token and mark, rules instance, provider and store key. The store's maps are not walked when
     * they are the very maps this plan was made from: a {@link StoredState}'s maps are immutable,
     * shared between loads only while the store was not written ({@link SortedArrayMap}), else copies.
     */
    boolean holdFor(PlanInput in, String secret, Planner planner) {
      if (in.desired().resources() != desired
          || in.stored().inventory() != storedMap && !sameEntries(in.stored().inventory(), stored, true)
          || in.stored().pending() != pendingMap && !sameEntries(in.stored().pending(), pending, false)) {
        return false;
      }
      for (ResourceKey m : in.marked()) {
        if (java.util.Arrays.binarySearch(keys, m) < 0) {
          return false;
        }
      }
      Map<ResourceKey, Observation> observations = in.observations();
      String providerId = null;
      Provider provider = null;
      MergeRules rules = null;
      for (int i = 0; i < keys.length; i++) {
        ResourceKey k = keys[i];
        if (k.provider() != providerId) {
          providerId = k.provider();
          provider = in.providers().get(providerId);
          rules = planner.rulesFor(k, in.providers(), in.userRules());
        }
        Decided d = decided[i];
        Observation v = observations.get(k);
        if (v == null || provider == null || !d.holdsFor(d.desired(), d.stored(), d.pending(), v, rules, provider, secret)) {
          return false;
        }
      }
      return true;
    }

    /** A walk of this plan's decisions along keys asked for in ascending order. */
    Walk walk() {
      return new Walk();
    }

    /** Puts this plan's decisions into {@code memo}, for a plan that looks its keys up there. */
    void into(Map<ResourceKey, Decided> memo) {
      for (int i = 0; i < keys.length; i++) {
        memo.put(keys[i], decided[i]);
      }
    }

    /**
     * This plan's decisions by key, for keys asked for in strictly ascending order: a cursor walks
     * the sorted keys along (by position while the keys are the same), so a key added or removed
     * since costs a few comparisons, not a miss for every key after it. Not thread-safe: one per pass.
     */
    final class Walk {
      private int next;

      /** The decision of {@code key}, or null when this plan had none. */
      Decided get(ResourceKey key) {
        while (next < keys.length && keys[next] != key && keys[next].compareTo(key) < 0) {
          next++;
        }
        if (next < keys.length && (keys[next] == key || keys[next].equals(key))) {
          return decided[next++];
        }
        return null;
      }

      /** The record mark ({@link RecordMarks}) of the key whose decision {@link #get} last returned. */
      byte recorded() {
        return recorded[next - 1];
      }
    }

    /** Whether {@code entries} (sorted) are exactly the remembered stored (or pending) instances, at their keys. */
    private boolean sameEntries(java.util.SortedMap<ResourceKey, ?> entries, int count, boolean stored) {
      if (entries.size() != count) {
        return false;
      }
      int i = 0;
      for (Map.Entry<ResourceKey, ?> e : entries.entrySet()) {
        ResourceKey k = e.getKey();
        while (i < keys.length && keys[i] != k && keys[i].compareTo(k) < 0) {
          i++;
        }
        if (i == keys.length || keys[i] != k && !keys[i].equals(k)
            || e.getValue() != (stored ? decided[i].stored() : decided[i].pending())) {
          return false;
        }
        i++;
      }
      return true;
    }
  }

  private volatile Whole last;

  /** The desired resources of the last plan and their hash index: a same-commit resync shares the map. */
  private record Indexed(Map<ResourceKey, Resource> resources, Map<ResourceKey, Resource> index) {}

  private volatile Indexed indexed;

  /** A read-only hash index of {@code resources}, reused while the same (immutable) map comes back. */
  private Map<ResourceKey, Resource> indexOf(Map<ResourceKey, Resource> resources) {
    Indexed i = indexed;
    if (i == null || i.resources() != resources) {
      i = new Indexed(resources, java.util.Collections.unmodifiableMap(new HashMap<>(resources)));
      indexed = i;
    }
    return i.index();
  }
  /** One merger per distinct rule set, keyed by the rules' value: providers that rebuild equal rules share it. */
  private final Map<MergeRules, ThreeWayMerge> merges = new ConcurrentHashMap<>();
  /** Per provider id, its rules combined with the user's, and the two instances they came from. */
  private final Map<String, Combined> combined = new ConcurrentHashMap<>();

  private record Combined(MergeRules provider, MergeRules user, MergeRules rules) {}
  private final Digests digests = new Digests();
  private final PlanFiles.ChangeDigests changeDigests = new PlanFiles.ChangeDigests();
  private final PlanFiles.DocumentDigests contentDigests = (key, field, doc) -> digests.of(switch (field) {
    case "live" -> Digests.Role.PLAN_LIVE;
    case "desired" -> Digests.Role.PLAN_DESIRED;
    default -> Digests.Role.PLAN_TARGET;
  }, key, doc);
  /** Per key, the desired document and stored serial last found already recorded as last-applied. */
  private final Map<ResourceKey, Recorded> recorded = new ConcurrentHashMap<>();
  /** Three-way merges run to decide keys (verification not counted); see {@link #merges()}. */
  private final LongAdder merged = new LongAdder();
  /** Desired document digests handed over from the store's no-change digests. */
  private final LongAdder fromStore = new LongAdder();
  /** Desired resource digests handed over from the store's no-change digests. */
  private final LongAdder resourcesFromStore = new LongAdder();
  /** The plan id the store vouches for, offered to the next plan alone ({@link #offerQuietId}). */
  private volatile QuietId quietIdOffered;
  /** The quiet inputs and id of the last plan planned after an offer, when all its changes were plain NOOPs. */
  private volatile QuietId lastQuietId;

  /**
   * A plan id and the {@code inputs} it was computed from ({@link PlanFiles#quietInputs}: every change
   * of the plan a plain NOOP); {@code fromStore} when the id was taken from the store, not computed.
   */
  public record QuietId(String inputs, String id, boolean fromStore) {}

  /**
   * What {@link #needsRecord} found recorded for a key: the desired document and metadata, the
   * stored serial, and the rules and store key the last-applied form was made under (a change of
   * either changes that form: ignored paths are left out of it, secrets hashed under the key).
   */
  private record Recorded(JsonNode desired, Resource metadata, long serial, MergeRules rules, SecretKey secret) {}

  /** A store key, compared by identity once {@link #secretKeyOf} made it canonical. */
  private record SecretKey(byte[] bytes) {}

  /** The store key last seen: the same bytes give the same instance, so a memo compares it by identity. */
  private volatile SecretKey lastSecretKey;

  private SecretKey secretKeyOf(byte[] key) {
    SecretKey last = lastSecretKey;
    if (last != null && (last.bytes() == key || java.util.Arrays.equals(last.bytes(), key))) {
      return last;
    }
    last = new SecretKey(key.clone());
    lastSecretKey = last;
    return last;
  }

  /** A planner for the reconciler instance {@code owner}. */
  public Planner(String owner, PlanOptions options) {
    this.owner = owner;
    this.options = options;
    TreeMap<String, String> asText = new TreeMap<>(options.asMap());
    // the owner shapes the plan (marks, ownership records, what counts as ours): a plan reviewed
    // for one owner must not run as another's
    asText.put("owner", owner);
    this.optionsText = asText;
  }

  /** The options this planner plans with. */
  public PlanOptions options() {
    return options;
  }

  /**
   * Plans.
   *
   * @throws DecodeException when a resource depends on an undeclared key, or names no registered provider
   * @throws DependencyCycleException when dependencies form a cycle
   */
  public Plan plan(PlanInput in) {
    return plan(in, PlanningUnits.none());
  }

  /**
   * Plans, taking the changes of planning providers from {@code units} as they are: their keys
   * are neither merged nor observed here, each unit becomes one node of the dependency graph, and
   * output references in other resources are resolved from what the units planned (see {@link
   * OutputReferences}).
   *
   * @throws DecodeException when a resource depends on an undeclared or unplanned key, names no
   *     registered provider, or holds a bad output reference
   * @throws DependencyCycleException when dependencies form a cycle
   */
  public Plan plan(PlanInput in, PlanningUnits units) {
    QuietId vouched = quietIdOffered;
    quietIdOffered = null;  // for this plan only (a remembered plan below takes none)
    lastQuietId = null;
    Whole previous = last;
    if (previous != null && previous.instances() != null && units.isEmpty()) {
      String secret = secretDigest(in.secretKey());
      if (previous.revision().equals(in.desired().revision()) && previous.variables().equals(in.variables())
          && previous.unobserved().equals(in.unobserved()) && previous.secret().equals(secret)
          && previous.instances().holdFor(in, secret, this)) {
        LOG.debug("plan {} at {}: {} keys, the same instances as the last plan: remembered whole",
            previous.plan().id(), in.desired().revision(), previous.changes().size());
        return previous.plan();
      }
    }
    // OutputReferences resolves a planning provider's outputs into this map: then it is a fresh copy
    boolean plain = units.isEmpty();
    Lookup lookup = new Lookup(in, plain ? null : new HashMap<>(in.desired().resources()));
    SortedSet<ResourceKey> keys = planKeys(in, units);
    ResourceKey[] keyArray = keys.toArray(new ResourceKey[0]);

    // A planning provider's changes go through the same masking as every other change (provider
    // and user rules, decoder marks) before anything reads them: the plan, output references, the apply.
    units = units.completed(c -> masked(c, in, lookup));
    OutputReferences.Resolved references = OutputReferences.resolve(plain ? in.desired().resources() : lookup.desired(),
        units);
    List<Change> changes = new ArrayList<>(keys.size());
    Map<ResourceKey, String> fingerprints = new HashMap<>(keys.size() * 2);
    SortedSet<ResourceKey> unknown = new TreeSet<>();
    String secret = secretDigest(in.secretKey());
    int[] held = new int[1];
    Decided[] used = new Decided[keyArray.length];
    // each key's fingerprint by position: a remembered one is not put into a hash map per key
    String[] fingerprintAt = new String[keyArray.length];
    // each key's desired resource found recorded as last-applied, carried along with its decision
    byte[] recordedAt = new byte[keyArray.length];
    // the keys come in order: without planning units (whose outputs are resolved into the lookup's
    // copy) each key's resources are found by walking the sorted maps along, hashing nothing; the
    // last plan's decisions are taken by position while its keys are this plan's
    Along<Resource> desiredAt = Along.ascending(in.desired().resources(), null);
    Along<StoredResource> storedAt = Along.ascending(in.stored().inventory(), null);
    Along<Resource> pendingAt = Along.ascending(in.stored().pending(), null);
    Instances.Walk aligned = previous == null || previous.instances() == null ? null
        : plain ? previous.instances().walk() : null;
    if (aligned == null && previous != null && previous.instances() != null) {
      previous.instances().into(decided);  // looked up by key below: the map must hold the last decisions
    }
    for (ResourceKey key : keyArray) {
      Resource d = plain ? desiredAt.get(key) : lookup.desired().get(key);
      StoredResource l = storedAt.get(key);
      Resource pending = pendingAt.get(key);
      Change c = references.mark(remembered(key, d, l, pending, in, fingerprints, fingerprintAt, secret, held, used,
          changes.size(), aligned, recordedAt));
      if (c.action() == Action.SKIP && in.observations().get(key) != null && in.observations().get(key).isUnknown()) {
        unknown.add(key);
      }
      changes.add(c);
    }
    changes.addAll(units.changes());
    if (!units.isEmpty()) {
      for (int i = 0; i < keyArray.length; i++) {
        fingerprints.put(keyArray[i], fingerprintAt[i]);
      }
    }
    fingerprints.putAll(units.fingerprints());
    for (Change c : units.placeholders(plain ? List.of() : lookup.desired().values(), references.dependencies)) {
      changes.add(c);
      fingerprints.put(c.key(), "unplanned");
    }
    Map<String, String> unobserved = new TreeMap<>(in.unobserved());
    unobserved.putAll(units.unobserved());
    if (previous != null && held[0] == keys.size() && units.isEmpty() && unknown.isEmpty()
        && sameChanges(previous.changes(), changes) && previous.revision().equals(in.desired().revision())
        && previous.variables().equals(in.variables()) && previous.unobserved().equals(unobserved)
        && previous.secret().equals(secret)) {
      LOG.debug("plan {} at {}: {} keys, every decision and the plan remembered", previous.plan().id(),
          in.desired().revision(), keys.size());
      return previous.plan();
    }
    List<Change> unordered = List.copyOf(changes);
    if (!unknown.isEmpty() || !unobserved.isEmpty()) {
      // An incomplete picture of the live system must never be read as "absent": nothing is
      // deleted or replaced (a replace deletes first), and each such change says so.
      String why = incompleteReason(unknown, unobserved);
      List<Change> safe = new ArrayList<>(changes.size());
      for (Change c : changes) {
        safe.add(c.action().destroys()
            ? c.withAction(Action.SKIP, c.reason() + "; held back: " + why).withFlag(Flag.HELD_BACK)
            : c);
      }
      changes = safe;
    }
    changes = heldForCascades(changes, in);
    digests.retain(keys);
    changeDigests.retain(keys);
    if (recorded.size() > keys.size()) {
      recorded.keySet().retainAll(keys);
    }
    if (decided.size() > keys.size()) {
      decided.keySet().retainAll(keys);
    }
    Map<ResourceKey, SortedSet<ResourceKey>> deps = units.isEmpty() ? graph(changes, in, lookup)
        : DependencyGraph.build(changes, in, lookup.desired(), units);
    if (!units.isEmpty()) {
      references.addEdges(deps);
      Set<ResourceKey> planKeys = new TreeSet<>();
      changes.forEach(c -> planKeys.add(c.key()));
      units.join(deps, lookup.desired(), planKeys);
    }
    changes = ordered(changes, deps, in.providers(), units.isEmpty());
    // A key removed from Git whose object is already gone is only dropped from the inventory:
    // nothing of it is left to own, so it is no part of the guard's base either, or one object
    // deleted by hand would let a sync delete every other one (3 owned, 1 gone, 2 deleted: not "all").
    Set<ResourceKey> gone = new java.util.HashSet<>();
    for (Change c : changes) {
      if (c.action() == Action.NOOP && c.desired() == null && c.live() == null) {
        gone.add(c.key());
      }
    }
    TreeMap<String, Integer> owned = new TreeMap<>();
    for (ResourceKey k : in.stored().inventory().keySet()) {
      // A store shared by two owners of one target holds the other's keys too: what carries the
      // other's mark is not ours to delete, so it is no part of the guard's base ("everything",
      // a percentage), or one owner could delete all it owns and pass for deleting some.
      if (!markedByAnother(k, in) && !gone.contains(k)) {
        owned.merge(k.provider(), 1, Integer::sum);
      }
    }
    // A planning provider's own state is its inventory: what it manages counts as owned (the guard's base).
    units.owned().forEach((provider, n) -> owned.merge(provider, n, Integer::sum));
    Plan draft = new Plan("", in.desired().revision(), changes, new TreeMap<>(deps), new TreeMap<>(in.variables()),
        optionsText, units.isEmpty() ? sorted(keyArray, fingerprintAt, previous) : new TreeMap<>(fingerprints),
        unknown, new TreeMap<>(unobserved), owned);
    // The id is a digest of the plan's content as its file holds it, so a file can be checked
    // against it; unchanged changes and documents are not serialised again (remembered per key).
    String inputs = vouched == null ? null : PlanFiles.quietInputs(draft, in.secretKey(), in.desired().resources(),
        this::desiredDocumentDigest);
    boolean taken = inputs != null && inputs.equals(vouched.inputs()) && !vouched.id().isEmpty();
    String id = taken ? vouched.id() : PlanFiles.id(draft, in.secretKey(), contentDigests, changeDigests);
    lastQuietId = inputs == null ? null : new QuietId(inputs, id, taken);
    LOG.debug("plan {} at {}: {} keys, {} unknown, {} decisions remembered, {} merges by this planner so far", id,
        in.desired().revision(), keys.size(), unknown.size(), decided.size(), merged.sum());
    Plan plan = draft.withId(id);
    Instances instances = units.isEmpty() && unknown.isEmpty()
        ? Instances.of(in, keyArray, unordered, used, recordedAt) : null;
    if (instances == null) {
      // the next plan looks every key up in the memo: the decisions taken along the last plan's go there
      for (int i = 0; i < keyArray.length; i++) {
        if (used[i] != null) {
          decided.put(keyArray[i], used[i]);
        }
      }
    }
    last = new Whole(plan, unordered, in.desired().revision(), Map.copyOf(in.variables()), Map.copyOf(unobserved),
        secret, instances);
    return plan;
  }

  /** Whether {@code key}'s live object carries a mark that is not this owner's for it (the provider marks objects). */
  private boolean markedByAnother(ResourceKey key, PlanInput in) {
    Provider provider = in.providers().get(key.provider());
    if (provider == null || !provider.marksObjects()) {
      return false;
    }
    Observation v = in.observations().get(key);
    return v != null && v.isPresent() && v.mark() != null && !v.mark().isOwnedBy(owner, key);
  }

  /**
   * The fingerprints {@code values} of the ascending {@code keys}, as a sorted map: the last plan's
   * very map when it holds the same keys with the same fingerprints (the plan shares it instead of
   * copying it), else a map holding the two arrays, which the plan shares.
   */
  private static SortedMap<ResourceKey, String> sorted(ResourceKey[] keys, String[] values, Whole previous) {
    SortedMap<ResourceKey, String> was = previous == null ? null : previous.plan().fingerprints();
    if (was != null && was.size() == keys.length) {
      java.util.Iterator<ResourceKey> k = was.keySet().iterator();
      java.util.Iterator<String> v = was.values().iterator();
      boolean same = true;
      for (int i = 0; same && i < keys.length; i++) {
        ResourceKey key = k.next();
        String value = v.next();
        same = (key == keys[i] || key.equals(keys[i])) && (value == values[i] || value.equals(values[i]));
      }
      if (same) {
        return was;
      }
    }
    return SortedArrayMap.ofSorted(keys, values);
  }

  /**
   * The decision for {@code key} alone, planned from {@code in}, whose observation of it is fresh:
   * what a sync sends instead of a change the provider refused as a conflict (the object changed
   * since it was observed). Masked like every change of a plan; nothing is remembered, so the next
   * plan decides the key from its own observation.
   */
  public Change replan(PlanInput in, ResourceKey key) {
    Resource d = in.desired().resources().get(key);
    StoredResource l = in.stored().inventory().get(key);
    Resource pending = in.stored().pending().get(key);
    return masked(decide(key, d, l, pending, in, new HashMap<>()), in, d, l, pending);
  }

  /**
   * Forgets every remembered decision, so the next plan merges and decides every key again: a
   * forced resync, for a provider whose version tokens cannot be trusted to change with the object.
   */
  public void forget() {
    decided.clear();
    recorded.clear();
    last = null;
    order = null;
    graph = null;
  }

  /**
   * The last plan's dependency graph and what it was built from: the keys of its changes in order,
   * the desired resource of each, and the providers.
   */
  private record Graph(List<ResourceKey> keys, Resource[] desired, Map<String, Provider> providers,
      Map<ResourceKey, SortedSet<ResourceKey>> deps) {}

  private volatile Graph graph;

  /**
   * {@link DependencyGraph#build} for a plan without planning units, taken from the last plan when
   * nothing an edge follows from has moved: the same keys in the same order, each with a desired
   * resource (no delete, whose edges follow from other keys' actions), the same providers, and for
   * each key the same desired resource, or one with the same {@code dependsOn}, wave and provider
   * relations (asked of the provider again for the keys whose document is another instance only).
   * A new commit that edits a few documents so keeps the graph; any other change builds it anew.
   */
  private Map<ResourceKey, SortedSet<ResourceKey>> graph(List<Change> changes, PlanInput in, Lookup lookup) {
    Graph g = graph;
    Resource[] now = new Resource[changes.size()];
    boolean reusable = g != null && g.keys().size() == changes.size() && g.providers().equals(in.providers());
    // the changes come in key order (no planning units): the desired resources are walked along
    SortedMap<ResourceKey, Resource> desired = in.desired().resources();
    Along<Resource> desiredAt = new Along<>(desired, null);
    for (int i = 0; i < now.length; i++) {
      Change c = changes.get(i);
      now[i] = desiredAt.get(c.key());
      if (now[i] == null) {
        reusable = false;
      }
      if (reusable) {
        Resource was = g.desired()[i];
        reusable = g.keys().get(i).equals(c.key()) && (now[i] == was || sameEdges(now[i], was, in, desired));
      }
    }
    if (reusable) {
      graph = new Graph(g.keys(), now, g.providers(), g.deps());
      return g.deps();
    }
    Map<ResourceKey, SortedSet<ResourceKey>> deps = DependencyGraph.build(changes, in, lookup.desired());
    List<ResourceKey> keys = new ArrayList<>(changes.size());
    changes.forEach(c -> keys.add(c.key()));
    graph = Arrays.stream(now).allMatch(Objects::nonNull)
        ? new Graph(keys, now, Map.copyOf(in.providers()), deps) : null;
    return deps;
  }

  /** Whether {@code now} and {@code was}, two desired resources of one key, give it the same edges. */
  private static boolean sameEdges(Resource now, Resource was, PlanInput in, Map<ResourceKey, Resource> desired) {
    if (now.wave() != was.wave() || !now.dependsOn().equals(was.dependsOn())) {
      return false;
    }
    if (now.document() == was.document()) {
      return true;  // re-dated at a new commit: the same document, key and metadata
    }
    Provider p = in.providers().get(now.key().provider());
    return p == null || p.relations(now, desired.keySet()).equals(p.relations(was, desired.keySet()));
  }

  /**
   * The last plan's dependency order: the keys of its changes before ordering, which of them were
   * deletes (ordered in reverse), their edges, the providers that broke ties, and for each place of
   * the order the index of the change it took.
   */
  private record Order(List<ResourceKey> keys, BitSet deletes, Map<ResourceKey, SortedSet<ResourceKey>> deps,
      Map<String, Provider> providers, int[] from) {}

  private volatile Order order;

  /**
   * {@code changes} in dependency order ({@link DependencyGraph#order}); when the keys, which of
   * them are deletes, their edges and the providers are those of the last plan, that plan's order is
   * taken again instead of sorted anew (the order follows from those alone). Only {@code reusable} orders are remembered
   * (a plan with planning units joins nodes of its own).
   */
  private List<Change> ordered(List<Change> changes, Map<ResourceKey, SortedSet<ResourceKey>> deps,
      Map<String, Provider> providers, boolean reusable) {
    Order o = order;
    BitSet deletes = new BitSet(changes.size());
    for (int i = 0; i < changes.size(); i++) {
      if (DependencyGraph.isDelete(changes.get(i))) {
        deletes.set(i);
      }
    }
    if (reusable && o != null && o.from().length == changes.size() && sameKeys(o.keys(), changes)
        && o.deletes().equals(deletes) && o.providers().equals(providers) && o.deps().equals(deps)) {
      List<Change> out = new ArrayList<>(changes.size());
      for (int i : o.from()) {
        out.add(changes.get(i));
      }
      return out;
    }
    List<Change> out = DependencyGraph.order(changes, deps, providers);
    if (reusable) {
      Map<ResourceKey, Integer> at = new HashMap<>(changes.size() * 2);
      List<ResourceKey> keys = new ArrayList<>(changes.size());
      for (int i = 0; i < changes.size(); i++) {
        at.put(changes.get(i).key(), i);
        keys.add(changes.get(i).key());
      }
      int[] from = new int[out.size()];
      for (int i = 0; i < out.size(); i++) {
        from[i] = at.get(out.get(i).key());
      }
      order = new Order(keys, deletes, deps, providers, from);
    }
    return out;
  }

  private static boolean sameKeys(List<ResourceKey> keys, List<Change> changes) {
    for (int i = 0; i < keys.size(); i++) {
      ResourceKey k = changes.get(i).key();
      if (k != keys.get(i) && !k.equals(keys.get(i))) {
        return false;
      }
    }
    return true;
  }

  /** Whether {@code now} holds the very same change instances as {@code before}, in the same order. */
  private static boolean sameChanges(List<Change> before, List<Change> now) {
    if (before.size() != now.size()) {
      return false;
    }
    for (int i = 0; i < now.size(); i++) {
      if (before.get(i) != now.get(i)) {
        return false;
      }
    }
    return true;
  }

  /**
   * The masked decision for {@code key}, from the memo when none of its inputs changed since the
   * last plan: by identity of the desired, stored and pending instances when they are the same
   * (counted in {@code held}), else by their digests.
   */
  private Change remembered(ResourceKey key, Resource d, StoredResource l, Resource pending, PlanInput in,
      Map<ResourceKey, String> fingerprints, String[] fingerprintAt, String secret, int[] held, Decided[] used, int at,
      Instances.Walk aligned, byte[] recordedAt) {
    // a decision found along the last plan's keys is written nowhere per key: the plan's Instances keep it
    Decided hit = aligned == null ? null : aligned.get(key);
    boolean walked = hit != null;
    if (hit == null) {
      hit = decided.get(key);
    }
    Observation v = in.observations().get(key);
    Provider provider = in.providers().get(key.provider());
    if (hit != null && v != null && provider != null
        && hit.holdsFor(d, l, pending, v, rulesFor(key, in.providers(), in.userRules()), provider, secret)) {
      fingerprintAt[at] = hit.fingerprint();
      // the same stored and pending instances, the same document and metadata: recorded as it was
      recordedAt[at] = walked ? aligned.recorded() : 0;
      if (d == hit.desired()) {
        held[0]++;
        used[at] = hit;
        return hit.change();
      }
      // read again at a new commit: the same decision, holding the resource as read now
      Change c = Changes.withResource(hit.change(), d);
      used[at] = new Decided(hit.inputs(), c, hit.fingerprint(), d, l, pending);
      if (!walked) {
        decided.put(key, used[at]);
      }
      return c;
    }
    DecisionInputs inputs = inputsOf(key, d, l, pending, in, secret);
    if (inputs != null && hit != null && hit.inputs().equals(inputs)) {
      fingerprintAt[at] = hit.fingerprint();
      // the origin is no input of the decision: the change holds the resource as read now
      Change c = Changes.withResource(hit.change(), d);
      used[at] = new Decided(inputs, c, hit.fingerprint(), d, l, pending);
      if (!walked) {
        decided.put(key, used[at]);
      }
      return c;
    }
    Change c = masked(decide(key, d, l, pending, in, fingerprints), in, d, l, pending);
    fingerprintAt[at] = fingerprints.get(key);
    if (inputs == null) {
      decided.remove(key);
    } else {
      used[at] = new Decided(inputs, c, fingerprintAt[at], d, l, pending);
      decided.put(key, used[at]);
    }
    return c;
  }

  /**
   * What {@code key}'s decision is computed from, or null when it cannot be remembered: no
   * provider, an unknown observation, or a present object without a version token (its live
   * document would have to be compared, which costs what a merge costs).
   */
  private DecisionInputs inputsOf(ResourceKey key, Resource d, StoredResource l, Resource pending, PlanInput in,
      String secret) {
    Provider provider = in.providers().get(key.provider());
    Observation v = in.observations().get(key);
    if (provider == null || v == null || v.isUnknown() || v.isPresent() && v.version().isEmpty()) {
      return null;
    }
    return new DecisionInputs(d == null ? "-" : resourceDigest(Digests.Role.DESIRED, d),
        l == null ? -1 : l.serial(), l == null ? "-" : resourceDigest(Digests.Role.STORED, l.resource()),
        pending == null ? "-" : resourceDigest(Digests.Role.PENDING, pending), v.status(),
        v.isPresent() ? v.version() : "", v.mark(), rulesFor(key, in.providers(), in.userRules()), provider, secret);
  }

  /** A digest of the store's key: decisions hash secrets under it, and the memo keeps no copy of it. */
  private static String secretDigest(byte[] secretKey) {
    return dev.gitops.api.internal.Sha256.hex(secretKey);
  }

  /**
   * {@code changes} with each delete or replace held back (a SKIP flagged {@link Flag#HELD_BACK})
   * whose provider says the live system would remove resources the desired state still declares
   * along with it ({@link Provider#cascadesTo}: a namespace's objects, a definition's custom
   * resources); the same list when none is.
   */
  private static List<Change> heldForCascades(List<Change> changes, PlanInput in) {
    Set<ResourceKey> desired = Collections.unmodifiableSet(in.desired().resources().keySet());
    List<Change> out = null;
    for (int i = 0; i < changes.size(); i++) {
      Change c = changes.get(i);
      Provider p = c.action().destroys() && c.resource() != null ? in.providers().get(c.key().provider()) : null;
      if (p == null) {
        continue;
      }
      SortedSet<ResourceKey> declared = new TreeSet<>();
      for (ResourceKey k : p.cascadesTo(c.resource(), desired)) {
        if (!k.equals(c.key()) && desired.contains(k)) {
          declared.add(k);
        }
      }
      if (declared.isEmpty()) {
        continue;
      }
      String listed = declared.stream().limit(5).map(ResourceKey::toString).collect(Collectors.joining(", "))
          + (declared.size() > 5 ? " and " + (declared.size() - 5) + " more" : "");
      String why = "held back: " + (c.action() == Action.DELETE ? "deleting" : "replacing") + " it would also remove "
          + declared.size() + (declared.size() == 1 ? " resource" : " resources") + " Git still declares (" + listed
          + "); remove those from Git too, or keep " + c.key() + " in Git";
      LOG.warn("{}: {}", c.key(), why);
      if (out == null) {
        out = new ArrayList<>(changes);
      }
      out.set(i, c.withAction(Action.SKIP, c.reason() + "; " + why).withFlag(Flag.HELD_BACK));
    }
    return out == null ? changes : out;
  }

  private static String incompleteReason(SortedSet<ResourceKey> unknown, Map<String, String> unobserved) {
    StringBuilder sb = new StringBuilder("the plan is incomplete (");
    if (!unknown.isEmpty()) {
      sb.append(unknown.size()).append(unknown.size() == 1 ? " key" : " keys").append(" could not be observed");
    }
    if (!unobserved.isEmpty()) {
      sb.append(unknown.isEmpty() ? "" : "; ").append("without ").append(new TreeSet<>(unobserved.keySet()));
    }
    return sb.append("), so nothing is deleted or replaced").toString();
  }

  /**
   * The rules for {@code key}: the provider's plus the user's. The combination is made once per
   * provider and kept while neither input changes, so every key of a provider shares one rules
   * instance (and one merger).
   */
  public MergeRules rulesFor(ResourceKey key, Map<String, Provider> providers, MergeRules userRules) {
    Provider p = providers.get(key.provider());
    if (p == null) {
      return userRules;
    }
    MergeRules own = p.mergeRules();
    Combined c = combined.get(p.id());
    if (c == null || c.provider() != own || c.user() != userRules) {
      c = new Combined(own, userRules, own.plus(userRules));
      combined.put(p.id(), c);
    }
    return c.rules();
  }

  /**
   * One merger per distinct rule set, by value: providers that rebuild equal rules share it. It
   * names secret elements under the store's key, as {@link ThreeWayMerge#sensitivePaths} does here.
   */
  private ThreeWayMerge mergerFor(MergeRules rules, byte[] secretKey) {
    ThreeWayMerge m = merges.get(rules);
    if (m == null || !m.hashesUnder(secretKey)) {
      m = new ThreeWayMerge(rules, secretKey);
      merges.put(rules, m);
    }
    return m;
  }

  /**
   * Hash lookups for one plan (the state's sorted maps cost a string comparison chain per lookup),
   * each map built on first use: a plan that walks the sorted maps along its keys builds none.
   */
  private final class Lookup {
    private final PlanInput in;
    private Map<ResourceKey, Resource> desired;
    private Map<ResourceKey, StoredResource> inventory;
    private Map<ResourceKey, Resource> pending;

    /** Over {@code in}, with {@code desired} as its desired resources when not null (else a hash index of in's). */
    Lookup(PlanInput in, Map<ResourceKey, Resource> desired) {
      this.in = in;
      this.desired = desired;
    }

    Map<ResourceKey, Resource> desired() {
      if (desired == null) {
        desired = indexOf(in.desired().resources());
      }
      return desired;
    }

    Map<ResourceKey, StoredResource> inventory() {
      if (inventory == null) {
        inventory = new HashMap<>(in.stored().inventory());
      }
      return inventory;
    }

    Map<ResourceKey, Resource> pending() {
      if (pending == null) {
        pending = new HashMap<>(in.stored().pending());
      }
      return pending;
    }
  }

  /**
   * The keys to plan, in natural order: the desired keys, and the stored, pending and marked keys the
   * desired state does not hold, usually none; less the keys a planning unit covers. Usually the
   * desired map's own key set (a state's map, whose key set copies into an array at once).
   */
  private static SortedSet<ResourceKey> planKeys(PlanInput in, PlanningUnits units) {
    SortedMap<ResourceKey, Resource> desired = in.desired().resources();
    SortedSet<ResourceKey> others = new TreeSet<>();
    addMissing(others, desired, in.stored().inventory());
    addMissing(others, desired, in.stored().pending());
    others.addAll(notIn(in.marked(), desired.keySet(), others));
    if (others.isEmpty() && units.isEmpty()) {
      return SortedArrayMap.sortedSetOf(desired.keySet());
    }
    List<ResourceKey> all = new ArrayList<>(desired.keySet());
    all.addAll(others);
    if (!units.isEmpty()) {
      all.removeIf(units::covers);
    }
    // two ascending runs: sorted by one merge
    return SortedArrayMap.sortedSetOf(all);
  }

  /** Adds to {@code keys} each key of {@code stored} that {@code desired} does not hold (both sorted: one walk). */
  private static void addMissing(SortedSet<ResourceKey> keys, SortedMap<ResourceKey, Resource> desired,
      SortedMap<ResourceKey, ?> stored) {
    if (stored.isEmpty()) {
      return;
    }
    // stored keys in another order than the keys' own are searched
    Along<Resource> walk = stored.comparator() == null ? Along.ascending(desired, null) : new Along<>(desired, null);
    for (ResourceKey k : stored.keySet()) {
      if (walk.get(k) == null) {
        keys.add(k);
      }
    }
  }

  /**
   * The keys of {@code marked} (in natural order, as {@link PlanInput} holds them) that neither
   * {@code keys} (in natural order) nor {@code others} hold, by one walk along {@code keys}: the
   * orphan candidates, usually none.
   */
  private static List<ResourceKey> notIn(Set<ResourceKey> marked, Set<ResourceKey> keys, Set<ResourceKey> others) {
    List<ResourceKey> out = new ArrayList<>();
    Iterator<ResourceKey> walk = keys.iterator();
    ResourceKey at = walk.hasNext() ? walk.next() : null;
    for (ResourceKey m : marked) {
      while (at != null && at != m && at.compareTo(m) < 0) {
        at = walk.hasNext() ? walk.next() : null;
      }
      if ((at == null || at != m && !at.equals(m)) && !others.contains(m)) {
        out.add(m);
      }
    }
    return out;
  }

  private Change decide(ResourceKey key, Resource d, StoredResource l, Resource pending, PlanInput in,
      Map<ResourceKey, String> fingerprints) {
    Provider provider = in.providers().get(key.provider());
    if (provider == null) {
      if (d != null) {
        throw new DecodeException(d.origin(), "resource " + key + " names provider '" + key.provider()
            + "', which is not registered (registered: " + new TreeSet<>(in.providers().keySet()) + ")");
      }
      fingerprints.put(key, "no-provider");
      return Change.builder(key, Action.SKIP).lastApplied(l != null ? l.resource() : pending)
          .reason("owned, but provider '" + key.provider() + "' is not registered: left alone").build();
    }
    Observation v = in.observations().get(key);
    if (v == null) {
      v = Observation.unknown(key, "provider '" + key.provider() + "' returned no observation for it");
    }
    MergeRules rules = rulesFor(key, in.providers(), in.userRules());
    Resource lastResource = l != null ? l.resource() : pending;
    JsonNode stored = ownedDocument(l, pending);
    fingerprints.put(key, fingerprint(key, v, l, pending, rules));

    if (v.isUnknown()) {
      Change.Builder unobserved = Change.builder(key, Action.SKIP).reason("could not observe: " + v.reason());
      return (d != null ? unobserved.desired(d) : unobserved.lastApplied(lastResource)).build();
    }
    if (d == null && lastResource == null) {
      return orphan(key, v, provider);
    }
    if (d == null) {
      return decideRemoved(key, v, lastResource, provider);
    }

    Set<FieldPath> sensitive = ThreeWayMerge.sensitivePaths(key, d.document(), rules, d.sensitive(), in.secretKey());
    EnumSet<Flag> flags = EnumSet.noneOf(Flag.class);

    if (v.isAbsent()) {
      MergeResult r = merge(key, rules, last(key, stored, d, v, rules, in), d, null, in.secretKey());
      // Only a last-applied entry proves the object existed; a pending-only entry is a create a crash cut short.
      if (l != null) {
        flags.add(Flag.DRIFT);
        flags.add(Flag.DELETED_OUT_OF_BAND);
      }
      // what the provider says stands in the object's place (the files provider: an empty directory)
      String there = v.reason().isEmpty() ? "" : " (" + v.reason() + ")";
      if (!d.policy().allows(Permission.CREATE)) {
        return change(key, Action.SKIP, d, null, r, flags, "absent" + there + ", and its policy (" + d.policy()
            + ") forbids create", sensitive);
      }
      return change(key, Action.CREATE, d, null, r, flags,
          l != null ? "deleted out of band" + there + "; creating it again"
              : pending != null ? "not present" + there + " (an earlier create did not complete)"
              : "not present" + there, sensitive);
    }

    OwnerMark mark = v.mark();
    String previousOwner = null;
    if (provider.marksObjects() && mark != null && !mark.isOwnedBy(owner, key)) {
      // Another owner's mark is taken over only when asked for separately: allowing adoption of
      // unmarked objects never takes an object someone else claims.
      if (!options.adoptFromOtherOwners()) {
        flags.add(Flag.CONFLICT);
        return change(key, Action.SKIP, d, v.live(), null, flags, "live object carries the mark of " + mark.owner()
            + " for " + mark.key() + ", not ours: left alone (adopting from other owners is not allowed)", sensitive);
      }
      previousOwner = mark.owner() + " (its mark was for " + mark.key() + ")";
      flags.add(Flag.ADOPT);
    }
    if (lastResource == null && provider.marksObjects() && mark == null) {
      if (!options.adopt()) {
        flags.add(Flag.CONFLICT);
        return change(key, Action.SKIP, d, v.live(), null, flags,
            "exists but was not created by this reconciler (no mark); allow adoption to take it over", sensitive);
      }
      flags.add(Flag.ADOPT);
    }
    // ours by the store's last-applied record, but its mark was removed (by hand, by a tool that
    // rewrote its labels); a provider may keep marks apart from the object's token (a sidecar)
    boolean markGone = l != null && provider.marksObjects() && mark == null;
    if (!flags.contains(Flag.ADOPT) && !markGone && provenInSync(d, l, pending, v.version(), rules)) {
      // The store's proof: at this very token the live object was the desired document, which
      // has not changed since (nor have the rules or the record): in sync, nothing to merge.
      return Change.builder(key, Action.NOOP).desired(d).live(v.live()).target(v.live()).reason("in sync")
          .sensitive(sensitive).build();
    }
    MergeResult r = merge(key, rules, last(key, stored, d, v, rules, in), d, v.live(), in.secretKey());
    List<FieldPath> drift = r.isNoop() ? List.of() : r.drift();
    if (!drift.isEmpty() && pending != null && l != null) {
      drift = driftPastBoth(key, rules, drift, l, d, v, in);
    }
    // With an empty patch live equals the target, which holds desired at every owned path, so there
    // is no drift, conflict or takeover to look for (and those reports are the costly part).
    if (!r.isNoop()) {
      if (!drift.isEmpty()) {
        flags.add(Flag.DRIFT);
      }
      if (!r.conflicts().isEmpty()) {
        flags.add(Flag.CONFLICT);
      }
      if (!r.takeovers().isEmpty()) {
        flags.add(Flag.TAKEOVER);
      }
    }
    if (r.isNoop() && flags.contains(Flag.ADOPT)) {
      // Nothing differs, but an adopted object must carry our mark from now on, or it could
      // never be deleted (and another owner would still take it for theirs): the provider writes it.
      if (!d.policy().allows(Permission.UPDATE)) {
        return change(key, Action.SKIP, d, v.live(), r, flags, "in sync, but adopting it writes our mark, and its policy ("
            + d.policy() + ") forbids update", sensitive);
      }
      return change(key, Action.UPDATE, d, v.live(), r, flags, "in sync; " + adopting(previousOwner), sensitive);
    }
    if (r.isNoop() && markGone) {
      // The marks are no part of the compared document, so it looks in sync, yet without its mark
      // it would never be pruned when it leaves Git nor found as an orphan: it is written again.
      if (!d.policy().allows(Permission.UPDATE)) {
        return change(key, Action.SKIP, d, v.live(), r, flags, "in sync, but its mark is gone from the live object, "
            + "and its policy (" + d.policy() + ") forbids the update that writes it again", sensitive);
      }
      return change(key, Action.UPDATE, d, v.live(), r, flags, "in sync, but its mark is gone from the live object: "
          + "writing it again", sensitive);
    }
    if (r.isNoop()) {
      boolean rewrite = needsRecord(d, l, pending, rules, in.secretKey());
      return change(key, Action.NOOP, d, v.live(), r, flags, rewrite ? "in sync; last-applied state recorded" : "in sync", sensitive);
    }
    if (!d.policy().allows(Permission.UPDATE)) {
      return change(key, Action.SKIP, d, v.live(), r, flags,
          "differs (" + r.fields().size() + " fields), but its policy (" + d.policy() + ") forbids update", sensitive);
    }
    for (FieldChange f : r.fields()) {
      if (provider.requiresReplace(key, f.path())) {
        // A replace deletes the live object first: it needs everything a delete needs.
        String replace = f.path() + " cannot change in place";
        if (!options.prune()) {
          return change(key, Action.SKIP, d, v.live(), r, flags,
              replace + ", and replacing it deletes it, but prune is disabled", sensitive);
        }
        if (!d.policy().allows(Permission.DELETE)) {
          return change(key, Action.SKIP, d, v.live(), r, flags, replace + ", and replacing it deletes it, but its policy ("
              + d.policy() + ") forbids delete", sensitive);
        }
        return change(key, Action.REPLACE, d, v.live(), r, flags,
            replace + (flags.contains(Flag.ADOPT) ? "; " + adopting(previousOwner) : ""), sensitive);
      }
    }
    String reason = r.fields().size() + " field" + (r.fields().size() == 1 ? "" : "s") + " differ"
        + (r.fields().size() == 1 ? "s" : "")
        + (flags.contains(Flag.DRIFT) ? "; drift at " + drift : "")
        + (pending != null && l != null ? "; an earlier apply of it did not complete" : "")
        + (flags.contains(Flag.CONFLICT) ? "; Git wins conflict at " + r.conflicts() : "")
        + (flags.contains(Flag.ADOPT) ? "; " + adopting(previousOwner) : "");
    return change(key, Action.UPDATE, d, v.live(), r, flags, reason, sensitive);
  }

  /**
   * Of the paths {@code drift} found against the union of the last-applied record and a pending
   * one (an apply that was sent but not confirmed: it failed, or the process died), those where
   * live differs from the last-applied record too: live still as it was before that apply is our
   * own unfinished change, not a change made outside.
   */
  private List<FieldPath> driftPastBoth(ResourceKey key, MergeRules rules, List<FieldPath> drift, StoredResource l,
      Resource d, Observation v, PlanInput in) {
    MergeResult before = merge(key, rules, last(key, l.resource().document(), d, v, rules, in), d, v.live(),
        in.secretKey());
    Set<FieldPath> also = new java.util.HashSet<>(before.drift());
    List<FieldPath> out = new ArrayList<>();
    for (FieldPath p : drift) {
      if (also.contains(p)) {
        out.add(p);
      }
    }
    return out;
  }

  /**
   * The last-applied document to merge against: the stored one with its hashed sensitive values
   * revealed, or what the live system records. Asked only where a merge needs it: a key the store
   * proves in sync reads neither (a stored document is parsed when first read).
   */
  private JsonNode last(ResourceKey key, JsonNode stored, Resource d, Observation v, MergeRules rules, PlanInput in) {
    return stored != null
        ? SensitiveValues.reveal(stored, d.document(), v.isPresent() ? v.live() : null, in.secretKey())
        : liveRecord(key, v, rules);
  }

  /**
   * The last-applied document the live system records on the object (see
   * {@link Observation#lastApplied()}), without the paths ignored for {@code key}, which are never
   * owned. Only called when the store has no record of its own for the key: the store always wins.
   */
  private static JsonNode liveRecord(ResourceKey key, Observation v, MergeRules rules) {
    return v.lastApplied() == null ? null : LastApplied.strip(key, v.lastApplied(), rules);
  }

  private static String adopting(String previousOwner) {
    return previousOwner == null ? "adopting an object we did not create (it carried no mark)"
        : "adopting it from owner " + previousOwner;
  }

  private Change decideRemoved(ResourceKey key, Observation v, Resource last, Provider provider) {
    if (v.isAbsent()) {
      return Change.builder(key, Action.NOOP).lastApplied(last)
          .reason("removed from Git and already absent: dropped from the inventory").build();
    }
    Change base = Change.builder(key, Action.DELETE).lastApplied(last).live(v.live()).reason("removed from Git")
        .build();
    if (!options.prune()) {
      return base.withAction(Action.SKIP, "removed from Git, but prune is disabled");
    }
    if (!last.policy().allows(Permission.DELETE)) {
      return base.withAction(Action.SKIP, "removed from Git, but its last-applied policy (" + last.policy() + ") forbids delete");
    }
    if (provider.marksObjects()) {
      OwnerMark mark = v.mark();
      if (mark == null || !mark.isOwnedBy(owner, key)) {
        return base.withAction(Action.SKIP, "removed from Git, but the live object's mark is "
            + (mark == null ? "gone" : mark.owner() + " for " + mark.key()) + ": not deleting what may not be ours");
      }
    }
    return base;
  }

  private Change orphan(ResourceKey key, Observation v, Provider provider) {
    Change base = Change.builder(key, Action.SKIP).live(v.isPresent() ? v.live() : null).flags(EnumSet.of(Flag.ORPHAN))
        .reason("orphan: carries our mark but is not in the inventory").build();
    if (!v.isPresent() || v.mark() == null || !v.mark().isOwnedBy(owner, key)) {
      return base.withAction(Action.NOOP, "listed as marked, but no longer carries our mark");
    }
    return options.deleteOrphans() && options.prune() ? base.withAction(Action.DELETE, "orphan with our mark: deleting as asked") : base;
  }

  private MergeResult merge(ResourceKey key, MergeRules rules, JsonNode last, Resource d, JsonNode live,
      byte[] secretKey) {
    merged.increment();
    try {
      return mergerFor(rules, secretKey).merge(key, last, d.document(), live, d.sensitive());
    } catch (dev.gitops.api.MergeException e) {
      // only the desired document breaks a rule (a keyed-list element without its key, two with
      // one key): said at the file and line that declares it, as a decode error is
      throw new dev.gitops.api.DecodeException(d.origin(), e.getMessage() + "; fix it in the repository", e);
    }
  }

  /**
   * How many resources' digests ({@link #desiredResourceDigest} and the like) this planner computed
   * (remembered ones not counted).
   */
  public long resourcesHashed() {
    return digests.resourcesHashed();
  }

  /** How many documents this planner serialised and hashed for their digests (remembered ones not counted). */
  public long documentsHashed() {
    return digests.hashed();
  }

  /**
   * The digest ({@link dev.gitops.api.Documents#digest}) of desired resource {@code d}'s document,
   * remembered as the planner's own (computed when not known yet).
   */
  public String desiredDocumentDigest(Resource d) {
    return digests.of(Digests.Role.DESIRED, d.key(), d.document());
  }

  /**
   * Takes {@code digest} as the digest of desired resource {@code d}'s document without hashing
   * it, from a caller that holds it for this very document (the store's no-change digests, bound
   * to the records the desired state was taken from).
   */
  public void rememberDesiredDocumentDigest(Resource d, String digest) {
    digests.remember(Digests.Role.DESIRED, d.key(), d.document(), digest);
  }

  /**
   * The digest of desired resource {@code d} ({@link Resource#digestWith} of its document's digest:
   * document and decision metadata, not the origin), as its in-sync proof compares it.
   */
  public String desiredResourceDigest(Resource d) {
    return resourceDigest(Digests.Role.DESIRED, d);
  }

  /**
   * Takes {@code digest} as {@link #desiredResourceDigest} of {@code d} without computing it, from
   * a caller that holds it for this very resource (the store's no-change digests, as {@link
   * #rememberDesiredDocumentDigest}).
   */
  public void rememberDesiredResourceDigest(Resource d, String digest) {
    if (digests.rememberResource(Digests.Role.DESIRED, d, digest)) {
      resourcesFromStore.increment();
    }
  }

  /** How many desired resource digests this planner was handed ({@link #rememberDesiredResourceDigest}). */
  public long resourceDigestsFromStore() {
    return resourcesFromStore.sum();
  }

  /** Counts {@code n} desired document digests taken from the store ({@link #documentDigestsFromStore}). */
  public void tookDocumentDigestsFromStore(int n) {
    fromStore.add(n);
  }

  /**
   * Offers the next plan {@code vouched}, the id of a plan of the same desired resources whose
   * changes were all plain NOOPs, and the inputs it was computed from: the next plan takes that
   * id without computing it when its own changes are all plain NOOPs of equal inputs, and records
   * its inputs and id for {@link #lastQuietId} either way. {@code vouched} may be {@code new
   * QuietId("", "", true)} (no id known yet) to have the inputs recorded only. For the next plan
   * alone: a plan made without an offer records nothing (no input is digested).
   */
  public void offerQuietId(QuietId vouched) {
    lastQuietId = null;
    quietIdOffered = vouched;
  }

  /** The inputs and id of the last plan made after {@link #offerQuietId}; null when its changes were not all plain NOOPs. */
  public QuietId lastQuietId() {
    return lastQuietId;
  }

  /** How many desired document digests this planner was handed from the store rather than hashing them. */
  public long documentDigestsFromStore() {
    return fromStore.sum();
  }

  /** How many three-way merges this planner ran to decide keys (verification not counted). */
  public long merges() {
    return merged.sum();
  }


  /**
   * Whether {@code l}'s {@link StoredResource#inSync} proof holds for {@code d} at the live version
   * token {@code version}: the desired resource's digest and the rules are those the proof was
   * recorded for, the token is the one seen then, and no pending write is in between. Then the
   * normalized live object is {@code d}'s document (the provider's promise that an unchanged token
   * is an unchanged object), so the key is in sync without reading or merging it.
   */
  public boolean provenInSync(Resource d, StoredResource l, Resource pending, String version, MergeRules rules) {
    StoredResource.InSync proof = l == null ? null : l.inSync();
    return proof != null && d != null && pending == null && !version.isEmpty() && proof.version().equals(version)
        && proof.rules().equals(rules.fingerprint()) && proof.desired().equals(resourceDigest(Digests.Role.DESIRED, d));
  }

  /**
   * Whether {@code l}'s proof was recorded for {@code d} under {@code rules} (whatever the live
   * token is now): the keys whose live version is worth asking for before observing them in full.
   */
  public boolean provesDesired(Resource d, StoredResource l, Resource pending, MergeRules rules) {
    StoredResource.InSync proof = l == null ? null : l.inSync();
    return proof != null && d != null && pending == null && proof.rules().equals(rules.fingerprint())
        && proof.desired().equals(resourceDigest(Digests.Role.DESIRED, d));
  }

  /**
   * The proof to record for {@code d} when its normalized live object, at version token {@code
   * version}, was just found equal to {@code d}'s document under {@code rules}, or null when the
   * token is empty (nothing could prove the object unchanged later).
   */
  public StoredResource.InSync inSync(Resource d, MergeRules rules, String version) {
    return version.isEmpty() ? null
        : new StoredResource.InSync(resourceDigest(Digests.Role.DESIRED, d), rules.fingerprint(), version);
  }

  private static Change change(ResourceKey key, Action action, Resource d, JsonNode live, MergeResult r,
      Set<Flag> flags, String reason, Set<FieldPath> sensitive) {
    return Change.builder(key, action).desired(d).live(live).target(r == null ? null : r.target())
        .patch(r == null ? List.of() : r.patch()).fields(r == null ? List.of() : markSensitive(r.fields(), sensitive))
        .flags(flags).reason(reason).sensitive(sensitive).build();
  }

  /** Field entries at or below a sensitive path are flagged, whether the provider's rules or the decoder marked it. */
  private static List<FieldChange> markSensitive(List<FieldChange> fields, Set<FieldPath> sensitive) {
    return Redactor.flag(fields, sensitive);
  }

  /**
   * {@code c} with its sensitive mask covering every document it holds, whatever the action: the
   * provider's and user's rules and the patterns the decoder marked on the desired, last-applied
   * and pending resource (Git may have dropped a mark together with the field it marked).
   */
  private Change masked(Change c, PlanInput in, Lookup lookup) {
    return masked(c, in, lookup.desired().get(c.key()), lookup.inventory().get(c.key()), lookup.pending().get(c.key()));
  }

  /** {@link #masked(Change, PlanInput, Lookup)} with the key's desired, stored and pending resources at hand. */
  private Change masked(Change c, PlanInput in, Resource d, StoredResource l, Resource pending) {
    Change m = Redactor.complete(c, rulesFor(c.key(), in.providers(), in.userRules()),
        Redactor.marks(d, l == null ? null : l.resource(), pending), in.secretKey());
    if (m.action() != Action.SKIP) {
      return m;
    }
    // A skip's reason may quote the provider ("could not observe: " + its error text, which can hold
    // the value it was given): the change's sensitive values are hidden there as in an apply's outcome.
    String reason = Redactor.marking().redact(m, m.reason());
    return reason.equals(m.reason()) ? m : m.toBuilder().reason(reason).build();
  }

  /** The owned document: last-applied, with what a crashed apply left pending laid over it. */
  static JsonNode ownedDocument(StoredResource l, Resource pending) {
    if (pending == null) {
      return l == null ? null : l.resource().document();
    }
    if (l == null) {
      return pending.document();
    }
    return union(l.resource().document(), pending.document());
  }

  private static JsonNode union(JsonNode a, JsonNode b) {
    if (a == null || !a.isObject() || !b.isObject()) {
      return b;
    }
    Map<String, JsonNode> out = new LinkedHashMap<>();
    a.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue()));
    b.fields().forEachRemaining(e -> out.merge(e.getKey(), e.getValue(), Planner::union));
    return Documents.object(out);
  }

  /**
   * A digest of what the key's decision was made from. Every part is written with its length in
   * front, in a fixed order and sets in sorted order, so two different inputs never read the same
   * (and no set's or map's {@code toString} is involved).
   */
  private String fingerprint(ResourceKey key, Observation v, StoredResource l, Resource pending, MergeRules rules) {
    StringBuilder sb = new StringBuilder(200);
    part(sb, v.status().name());
    if (v.isPresent()) {
      part(sb, digests.of(Digests.Role.LIVE, key, v.live(), rules, live -> LastApplied.strip(key, live, rules)));
      part(sb, v.lastApplied() == null ? "-" : digests.of(Digests.Role.LIVE_RECORD, key, v.lastApplied(), rules,
          rec -> LastApplied.strip(key, rec, rules)));
      part(sb, v.mark() == null ? "-" : "mark");
      if (v.mark() != null) {
        part(sb, v.mark().owner());
        part(sb, v.mark().key().toString());
      }
    }
    resourceDigest(sb, Digests.Role.STORED, l == null ? null : l.resource());
    resourceDigest(sb, Digests.Role.PENDING, pending);
    MessageDigest md = FINGERPRINT_SHA256.get();  // digest() leaves it reset for the next key
    md.update(sb.toString().getBytes(StandardCharsets.UTF_8));
    return HexFormat.of().formatHex(md.digest(), 0, 16);
  }

  /** The thread's SHA-256 for {@link #fingerprint}: one per thread, not one per key and plan. */
  private static final ThreadLocal<MessageDigest> FINGERPRINT_SHA256 = ThreadLocal.withInitial(Documents::sha256);

  private static void part(StringBuilder sb, String s) {
    sb.append(s.length()).append(':').append(s);
  }

  /**
   * {@link Resource#digest()} (document and the metadata that shapes decisions, not the origin),
   * with the document's digest remembered by {@link Digests}.
   */
  private String resourceDigest(Digests.Role role, Resource r) {
    return digests.resource(role, r);
  }

  private void resourceDigest(StringBuilder sb, Digests.Role role, Resource r) {
    part(sb, r == null ? "-" : digests.resource(role, r));
  }

  /**
   * Verifies an apply: the key-addressed paths where {@code live} (observed after applying {@code
   * d}, normalized) still differs from the target, found by merging the same stored state and
   * desired document again against it; empty when the apply landed. A field removed from Git that
   * the provider kept is found here (last-applied still owns it), not left to pass as live-only.
   */
  public List<FieldPath> verify(Resource d, StoredResource l, Resource pending, JsonNode live, MergeRules rules,
      byte[] secretKey) {
    JsonNode stored = ownedDocument(l, pending);
    JsonNode last = stored == null ? null : SensitiveValues.reveal(stored, d.document(), live, secretKey);
    MergeResult r = mergerFor(rules, secretKey).merge(d.key(), last, d.document(), live, d.sensitive());
    if (r.isNoop()) {
      return List.of();
    }
    List<FieldPath> paths = new ArrayList<>(r.fields().size());
    r.fields().forEach(f -> paths.add(f.path()));
    // A patch without changed leaves (an order only) still means the live object is not the target.
    return paths.isEmpty() ? List.of(FieldPath.root()) : paths;
  }

  /**
   * Remembers that {@code d} was just recorded as last-applied at {@code serial} (by the caller's
   * store write), in its form under {@code rules} and {@code secretKey}.
   */
  public void markRecorded(Resource d, long serial, MergeRules rules, byte[] secretKey) {
    recorded.put(d.key(), new Recorded(d.document(), d, serial, rules, secretKeyOf(secretKey)));
  }

  /**
   * Whether {@code d} must be recorded as last-applied although nothing is applied: the stored
   * entry is missing, pending, or records another document or other metadata, or the form under
   * other rules or another store key. Remembered per key by the identity of the desired document,
   * the stored serial, the rules and the store key, so an unchanged resync does not recompute the
   * last-applied form of every resource.
   */
  public boolean needsRecord(Resource d, StoredResource l, Resource pending, MergeRules rules, byte[] secretKey) {
    if (l == null || pending != null) {
      return true;
    }
    Recorded memo = recorded.get(d.key());
    SecretKey secret = secretKeyOf(secretKey);
    if (memo != null && memo.desired() == d.document() && memo.serial() == l.serial()
        && (memo.rules() == rules || memo.rules().equals(rules)) && memo.secret() == secret
        && LastApplied.sameMetadata(memo.metadata(), d)) {
      return false;
    }
    boolean needed = !LastApplied.sameDesired(l.resource(), LastApplied.of(d, rules, secretKey));
    if (!needed) {
      recorded.put(d.key(), new Recorded(d.document(), d, l.serial(), rules, secret));
    }
    return needed;
  }

  /**
   * Per change of {@code plan}, by its place, whether {@link #needsRecord} was found false for its key
   * since the plan its decision was taken in, from the very stored and pending instances and a desired
   * resource that differs in its origin's revision at most: then it is false now, without the memo's
   * hash lookup per key (a resync at 100,000 keys asks for every one). Null when {@code plan} is not
   * the last plan, or its keys' decisions are not kept by place (planning units, unknown keys).
   *
   * <pre>{@code
   * Planner planner = new Planner("my-app", PlanOptions.defaults());
   * Plan planned = planner.plan(input);
   * Planner.RecordMarks marks = planner.recordMarks(planned);
   * for (int i = 0; i < planned.changes().size(); i++) {
   *   Change c = planned.changes().get(i);
   *   Resource d = input.desired().resources().get(c.key());
   *   if (c.action() != Action.NOOP || d == null || marks != null && marks.current(i, c)) {
   *     continue;  // a marked NOOP is recorded already
   *   }
   *   StoredResource l = input.stored().inventory().get(c.key());
   *   if (!planner.needsRecord(d, l, input.stored().pending().get(c.key()), rules, input.secretKey())
   *       && marks != null) {
   *     marks.markCurrent(i, c);
   *   }
   * }
   * }</pre>
   */
  public RecordMarks recordMarks(Plan plan) {
    Whole w = last;
    return w == null || w.plan() != plan || w.instances() == null ? null : new RecordMarks(w.changes(), w.instances());
  }

  /**
   * What {@link #recordMarks} gives: for the changes a plan holds at their decisions' places (a plan
   * ordered as its keys), marks kept with the decisions, which the next plan carries along for every
   * decision that holds. Used by the syncing thread that planned, between plans.
   */
  public static final class RecordMarks {
    private final List<Change> decided;
    private final byte[] recorded;

    private RecordMarks(List<Change> decided, Instances instances) {
      this.decided = decided;
      this.recorded = instances.recorded();
    }

    /** Whether {@code change}, the plan's change at {@code at}, is marked as recorded. */
    public boolean current(int at, Change change) {
      return at < recorded.length && decided.get(at) == change && recorded[at] != 0;
    }

    /** Marks {@code change}, the plan's change at {@code at}, as recorded: {@link #needsRecord} was false for it. */
    public void markCurrent(int at, Change change) {
      if (at < recorded.length && decided.get(at) == change) {
        recorded[at] = 1;
      }
    }
  }
}
