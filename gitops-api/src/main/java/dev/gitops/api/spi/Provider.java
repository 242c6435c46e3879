package dev.gitops.api.spi;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Change;
import dev.gitops.api.FieldPath;
import dev.gitops.api.Health;
import dev.gitops.api.LiveVersion;
import dev.gitops.api.MergeRules;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A live system the engine reconciles: it observes keys and applies changes. Two methods make a
 * working provider; the rest are optional capabilities with defaults.
 *
 * <pre>{@code
 * import dev.gitops.examples.KeyValueStore;  // the live system: a map with a version per entry
 *
 * // examples/src/main/java/dev/gitops/examples/KeyValueProvider.java without its decoder of *.kv files;
 * // both are samples of the repository's examples module, which is not published: copy them to try it
 * public final class KeyValueProvider implements Provider {
 *   private final KeyValueStore live;
 *
 *   public KeyValueProvider(KeyValueStore live) { this.live = live; }
 *
 *   public String id() { return "kv"; }
 *
 *   public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
 *     Map<ResourceKey, Observation> out = new LinkedHashMap<>();
 *     for (ResourceKey k : keys) {
 *       out.put(k, live.get(entryName(k))
 *           .map(e -> Observation.present(k, e.value(), Long.toString(e.version())))
 *           .orElseGet(() -> Observation.absent(k)));
 *     }
 *     return out;
 *   }
 *
 *   public Outcome apply(Change change, CallContext ctx) {
 *     String name = entryName(change.key());
 *     Action a = change.action();
 *     if (a == Action.CREATE || a == Action.UPDATE || a == Action.REPLACE) {
 *       JsonNode target = change.target() != null ? change.target() : change.desired();
 *       if (target == null) {
 *         return Outcome.permanentFailure(change.key() + ": " + a + " without a target document", null);
 *       }
 *       boolean existed = live.get(name).isPresent();
 *       live.put(name, target);
 *       return existed && a != Action.CREATE ? Outcome.configured() : Outcome.created();
 *     }
 *     if (a == Action.DELETE) {
 *       live.remove(name);
 *       return Outcome.deleted();
 *     }
 *     return Outcome.unchanged();
 *   }
 *
 *   static String entryName(ResourceKey key) {  // the store entry "scope/name"
 *     return key.scope().isEmpty() ? key.name() : key.scope() + "/" + key.name();
 *   }
 * }
 * }</pre>
 *
 * <p>The version token (the entry's version here) changes whenever the object does; {@code
 * gitops-testkit}'s {@code ProviderConformanceSuite} proves such a provider against this contract.
 *
 * <p>Implementations must be thread-safe: the engine calls {@link #apply} from several threads.
 * {@code gitops-testkit} states this contract as a JUnit conformance suite.
 *
 * <p><b>Failures.</b> Each method says what it may throw and what the engine does then. In short:
 * what {@link #observe}, {@link #versions}, {@link #listMarked}, {@link #normalize} and {@link
 * #health} throw makes the keys concerned UNKNOWN (the plan is incomplete and deletes and
 * replaces nothing); what {@link #apply} and {@link #applyAll} throw fails the keys concerned; what
 * a planning hook ({@link #decoder}, {@link #mergeRules}, {@link #requiresReplace}, {@link
 * #relations}, {@link #cascadesTo}, {@link #typeOrder}, {@link #marksObjects}, {@link #planner})
 * throws, or a null it answers, fails the whole plan or sync with a {@link
 * dev.gitops.api.ProviderException} naming the provider, the method and (where the method has
 * one) the key, with what was thrown as its cause, before anything is applied or recorded. Never
 * does a provider's raw {@code NullPointerException} or {@code IllegalStateException} leave
 * {@code Reconciler.sync()}, and nothing recorded is lost. What is said here of an unchecked
 * exception holds too for an {@code AssertionError} or a {@code LinkageError} from a planning hook,
 * and for any {@code Error} from {@link #apply}; another {@code Error} (out of memory, say) ends the
 * sync and reaches its caller as it is.
 *
 * <pre>{@code
 * try {
 *   reconciler.sync();
 * } catch (ProviderException e) {
 *   // "m:thing::a: provider 'kv' failed in requiresReplace: java.lang.IllegalStateException: ..."
 *   log.error("provider bug, nothing was applied: {}", e.getMessage(), e.getCause());
 * }
 * }</pre>
 */
public interface Provider {

  /**
   * The id that resource keys name in {@link ResourceKey#provider()}. Read once, when the provider
   * is added to a reconciler's builder, which refuses a null or malformed id naming the provider's
   * class; it must not change afterwards.
   */
  String id();

  /**
   * Observes {@code keys}. Returns one observation per key asked for; a key the provider cannot
   * look at is {@link Observation#unknown UNKNOWN}, never absent. Live documents are returned
   * raw; the engine normalizes them with {@link #normalize}. A provider whose live system keeps
   * on the object what was last applied to it (Kubernetes' {@code last-applied-configuration}
   * annotation) returns that document with {@link Observation#withLastApplied}: the engine merges
   * from it only when its state store has no record of its own for the key, never over one.
   *
   * <p><b>Throws:</b> any unchecked exception when it cannot look at all. Every key asked for is
   * then UNKNOWN with a reason naming the provider and what it threw: nothing of those keys is
   * applied, recorded or deleted, and the sync is INCOMPLETE. A null answer, a key missing from
   * the answer and an observation of another key make those keys UNKNOWN the same way. A call that
   * outlives the call timeout is abandoned and counts as a failure.
   */
  Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx);

  /**
   * The version tokens (and marks) of {@code keys} without reading their documents, where the
   * live system can tell them cheaply; optional, the default answers none. The engine asks for
   * the keys it last verified in sync (it keeps the token it saw then with the last-applied
   * record) and observes in full only the keys whose token moved or that are not answered, so a
   * sync over an unchanged live system reads no documents. Answer a key only when it is PRESENT
   * and only with the token {@link #observe} would give it now; leave out keys that are absent,
   * unknown or cannot be told (they are observed as before). Each answer names its own key: a
   * {@link LiveVersion} of another key proves nothing and that key is observed in full. A provider
   * without version tokens keeps the default.
   *
   * <pre>{@code
   * import dev.gitops.examples.KeyValueStore;
   *
   * // the KeyValueProvider above, with the entries' versions read without their values
   * class VersionedKeyValueProvider extends DelegatingProvider {
   *   private final KeyValueStore live;
   *
   *   VersionedKeyValueProvider(KeyValueStore live) {
   *     super(new KeyValueProvider(live));
   *     this.live = live;
   *   }
   *
   *   @Override
   *   public Map<ResourceKey, LiveVersion> versions(Collection<ResourceKey> keys, CallContext ctx) {
   *     Map<ResourceKey, LiveVersion> out = new HashMap<>();
   *     for (ResourceKey k : keys) {
   *       live.get(KeyValueProvider.entryName(k))
   *           .ifPresent(e -> out.put(k, LiveVersion.of(k, Long.toString(e.version()))));
   *     }
   *     return out;
   *   }
   * }
   * }</pre>
   *
   * <p>{@link DelegatingProvider} does not forward this method (a wrapper that changes what {@code
   * observe} sees must not be bypassed): a wrapper that passes observations through unchanged
   * overrides it, as here, to keep the saving.
   *
   * <p><b>Throws:</b> any unchecked exception; the engine logs a warning and observes those keys in
   * full with {@link #observe}, as if none were answered.
   */
  default Map<ResourceKey, LiveVersion> versions(Collection<ResourceKey> keys, CallContext ctx) {
    return Map.of();
  }

  /**
   * Applies one change: makes the live object match {@link Change#target()} (CREATE, UPDATE,
   * REPLACE) or removes it (DELETE). Must be idempotent: applying the same change twice leaves
   * the same result, and deleting a missing object succeeds. Failures are returned as outcomes.
   *
   * <p><b>Throws:</b> anything, even an {@code Error}; it is the key's outcome: PERMANENT, TRANSIENT
   * (retried with backoff) for a retryable {@link dev.gitops.api.ProviderException}, UNKNOWN for a
   * {@link dev.gitops.api.ConflictException} (the key is observed and planned again). The pending
   * record written before the call stays, so its fields still count as owned.
   */
  Outcome apply(Change change, CallContext ctx);

  /**
   * Applies several changes that are ready together and returns an outcome per key. The default
   * applies them one by one; override when the live system has a cheaper batch call.
   *
   * <p><b>Throws:</b> anything; every change of the batch then fails as {@link #apply}'s would. A
   * key missing from the answer fails, and an outcome of a key not asked for is never recorded.
   */
  default Map<ResourceKey, Outcome> applyAll(List<Change> changes, CallContext ctx) {
    Map<ResourceKey, Outcome> out = new LinkedHashMap<>();
    for (Change c : changes) {
      out.put(c.key(), apply(c, ctx));
    }
    return out;
  }

  /**
   * Whether {@link #applyAll} is cheaper than one call per change.
   *
   * <p><b>Throws:</b> an unchecked exception; the engine then applies this provider's changes one by
   * one (which every provider takes) and logs a warning once per sync.
   */
  default boolean prefersBatches() {
    return false;
  }

  /**
   * The most changes one {@link #applyAll} call takes, for a provider that {@linkplain
   * #prefersBatches prefers batches}. More ready changes than this are sent in parts of this size,
   * in the plan's order: each part's pending records are written while the parts before it are
   * applied, and each part's outcomes recorded while the parts after it are, so the store's work and
   * the provider's overlap. Parts of one provider may be applied at once, up to the sync's parallelism.
   * The default takes every ready change in one call: right where a batch is one run of something
   * (a playbook, a saved plan) or where the provider orders the writes of a batch itself.
   *
   * <pre>{@code
   * // a provider taking its batches in parts of 1,000: the store records one part while it writes another
   * class PartedProvider extends DelegatingProvider {
   *   PartedProvider(Provider batching) {
   *     super(batching);
   *   }
   *
   *   @Override
   *   public int batchLimit() {
   *     return 1_000;
   *   }
   * }
   * }</pre>
   *
   * <p><b>Throws:</b> an unchecked exception (or answers below 1): the engine then sends every ready
   * change in one call and logs a warning once per sync.
   */
  default int batchLimit() {
    return Integer.MAX_VALUE;
  }

  /**
   * The decoder that reads this provider's files from the source, if it has its own; never null.
   *
   * <p><b>Throws:</b> an unchecked exception (or answers null): the plan or sync fails with a {@link
   * dev.gitops.api.ProviderException} naming the provider and {@code decoder}, before anything is read.
   */
  default Optional<Decoder> decoder() {
    return Optional.empty();
  }

  /**
   * Removes what the live system adds and nobody declares (status, timestamps, generated ids),
   * without reordering anything. Returns a frozen document.
   *
   * <p><b>Throws:</b> an unchecked exception (or answers null) for an object it cannot handle: that
   * key alone is UNKNOWN, with a reason naming the provider, {@code normalize} and the key (the plan
   * is incomplete and deletes nothing; after an apply the key's outcome is UNKNOWN, not verified).
   */
  default JsonNode normalize(ResourceKey key, JsonNode live) {
    return live;
  }

  /**
   * How documents of this provider merge; never null ({@link MergeRules#defaults()} for none).
   *
   * <p><b>Throws:</b> an unchecked exception (or answers null): the plan or sync fails with a {@link
   * dev.gitops.api.ProviderException} naming the provider and {@code mergeRules}; nothing is applied.
   */
  default MergeRules mergeRules() {
    return MergeRules.defaults();
  }

  /**
   * Whether a change at {@code path} cannot be made in place and requires delete-and-create.
   *
   * <p><b>Throws:</b> an unchecked exception: the plan or sync fails with a {@link
   * dev.gitops.api.ProviderException} naming the provider, {@code requiresReplace} and {@code key};
   * nothing is applied. (After a conflict, when the key is planned again, only that key fails.)
   */
  default boolean requiresReplace(ResourceKey key, FieldPath path) {
    return false;
  }

  /**
   * The health of an applied object. Providers without a health check are healthy once applied.
   *
   * <p>Asked after an apply the engine verified (its fresh observation holds what was written),
   * and so after that apply is recorded: a key that is DEGRADED, or not HEALTHY within the health
   * timeout, fails its sync and holds its dependents, but the write stays recorded as applied, as
   * Argo CD keeps a resource Synced while it is Degraded; the next sync applies it again only if
   * Git or the live object moved.
   *
   * <p><b>Throws:</b> an unchecked exception: the health is UNKNOWN, with a reason naming the
   * provider, {@code health} and the key, and is asked again until the health timeout; the key then
   * fails as above. A null answer is UNKNOWN the same way.
   */
  default Health health(ResourceKey key, Observation observation) {
    return Health.healthy();
  }

  /**
   * Keys that {@code resource} implicitly depends on among {@code desired} (a namespace before
   * its members, a type definition before its instances). Keys outside {@code desired} may be
   * named too: a relation to a key the plan deletes orders the two (a file {@code x/y} is created
   * after the file {@code x} is deleted; a file {@code x} is created after the deletes under
   * {@code x/} emptied that directory); keys the plan does not hold are ignored.
   *
   * <p><b>Throws:</b> an unchecked exception (or answers null): the plan or sync fails with a {@link
   * dev.gitops.api.ProviderException} naming the provider, {@code relations} and the resource's key;
   * nothing is applied.
   */
  default Set<ResourceKey> relations(Resource resource, Set<ResourceKey> desired) {
    return Set.of();
  }

  /**
   * Keys among {@code desired} that the live system removes along with {@code resource} when it is
   * deleted (Kubernetes: the objects in a namespace, the custom resources of a definition); none by
   * default. The planner holds back a delete or replace of {@code resource} (a SKIP flagged {@link
   * dev.gitops.api.Change.Flag#HELD_BACK}, naming them) while the desired state still declares any
   * of them, rather than let the cascade remove what Git asks for; {@code resource} is what was
   * last applied for a delete, the desired resource for a replace.
   *
   * <p><b>Throws:</b> an unchecked exception (or answers null): the plan or sync fails with a {@link
   * dev.gitops.api.ProviderException} naming the provider, {@code cascadesTo} and the resource's
   * key; nothing is applied.
   *
   * <pre>{@code
   * // the KeyValueProvider above, where deleting a "space" entry deletes every entry scoped to it
   * class SpacesProvider extends DelegatingProvider {
   *   SpacesProvider(Provider delegate) {
   *     super(delegate);
   *   }
   *
   *   @Override
   *   public Set<ResourceKey> cascadesTo(Resource resource, Set<ResourceKey> desired) {
   *     Set<ResourceKey> inside = new HashSet<>();
   *     if (resource.key().type().equals("space")) {
   *       for (ResourceKey k : desired) {
   *         if (k.scope().equals(resource.key().name())) {
   *           inside.add(k);
   *         }
   *       }
   *     }
   *     return inside;
   *   }
   * }
   * }</pre>
   */
  default Set<ResourceKey> cascadesTo(Resource resource, Set<ResourceKey> desired) {
    return Set.of();
  }

  /**
   * A tie-break order among types (lower first; deletes come after the other changes, highest
   * first); never a barrier.
   *
   * <p><b>Throws:</b> an unchecked exception: the plan or sync fails with a {@link
   * dev.gitops.api.ProviderException} naming the provider, {@code typeOrder} and the key.
   */
  default int typeOrder(ResourceKey key) {
    return 0;
  }

  /**
   * Whether this provider writes ownership marks onto live objects and reads them back.
   *
   * <p><b>Throws:</b> an unchecked exception: {@code Reconciler.Builder.build()}, and any plan or sync
   * that asks again, fail with a {@link dev.gitops.api.ProviderException} naming the provider and
   * {@code marksObjects}.
   */
  default boolean marksObjects() {
    return false;
  }

  /**
   * Keys of live objects carrying {@code owner}'s mark, to find orphans and rebuild a lost store;
   * only keys of this provider ({@link ResourceKey#provider()} is its {@link #id()}).
   *
   * <p><b>Throws:</b> any unchecked exception: this provider's marked objects count as not listed, so
   * the plan is incomplete and deletes and replaces nothing, and the sync is INCOMPLETE; every key
   * it can observe is still synced. A null answer, a null entry or a key of another provider is a
   * listing that cannot be trusted the same way: those entries are ignored with a warning, and the
   * listing counts as incomplete.
   */
  default Collection<ResourceKey> listMarked(String owner, CallContext ctx) {
    return List.of();
  }

  /**
   * Removes {@code owner}'s mark from the live object of {@code key}, leaving the object itself as
   * it is: what {@code Reconciler.forget} calls, before it drops the key from the store, for a
   * provider that {@linkplain #marksObjects() marks its objects}; without it the mark would make
   * {@link #listMarked} find the object again (an orphan, or a key of a rebuilt store). It is
   * called as well for a provider with a {@link #planner()} of its own, which keeps its own record
   * of the objects it manages (Terraform's state): it drops the key from that record, leaving the
   * object, or its next plan would destroy the object Git no longer declares. Must be idempotent:
   * an object that is gone, or carries no mark of {@code owner}, is left alone and the call
   * succeeds. A mark of another owner is never removed. Only a provider that marks its objects or
   * has a planner needs it; the default refuses.
   *
   * <pre>{@code
   * // a provider that keeps each object's owner in a map beside the live system
   * class MarkingProvider extends DelegatingProvider {
   *   private final Map<String, String> owners = new ConcurrentHashMap<>();
   *
   *   MarkingProvider(Provider delegate) {
   *     super(delegate);
   *   }
   *
   *   @Override
   *   public boolean marksObjects() {
   *     return true;
   *   }
   *
   *   @Override
   *   public void unmark(ResourceKey key, String owner, CallContext ctx) {
   *     owners.remove(key.name(), owner);   // only owner's own mark; none left: nothing to do
   *   }
   * }
   * }</pre>
   *
   * <p><b>Throws:</b> any unchecked exception when the mark cannot be removed: that key is not
   * forgotten (it stays owned and its failure names the provider's message), the other keys go on.
   * A call that outlives the call timeout is abandoned and counts as such a failure.
   *
   * @throws UnsupportedOperationException (the default) when the provider cannot remove its marks:
   *     none of its keys is forgotten, each failing with a message saying so
   */
  default void unmark(ResourceKey key, String owner, CallContext ctx) {
    throw new UnsupportedOperationException("provider '" + id() + "' does not implement Provider.unmark");
  }

  /**
   * For planning providers (Terraform): the provider's own planner; never null.
   *
   * <p><b>Throws:</b> an unchecked exception (or answers null): the plan or sync fails with a {@link
   * dev.gitops.api.ProviderException} naming the provider and {@code planner}. What the planner's
   * own {@link ProviderPlanner#plan} throws makes its keys UNKNOWN instead (the unit runs nothing).
   */
  default Optional<ProviderPlanner> planner() {
    return Optional.empty();
  }
}
