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
 */
public interface Provider {

  /** The id that resource keys name in {@link ResourceKey#provider()}. */
  String id();

  /**
   * Observes {@code keys}. Returns one observation per key asked for; a key the provider cannot
   * look at is {@link Observation#unknown UNKNOWN}, never absent. Live documents are returned
   * raw; the engine normalizes them with {@link #normalize}. A provider whose live system keeps
   * on the object what was last applied to it (Kubernetes' {@code last-applied-configuration}
   * annotation) returns that document with {@link Observation#withLastApplied}: the engine merges
   * from it only when its state store has no record of its own for the key, never over one.
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
   */
  default Map<ResourceKey, LiveVersion> versions(Collection<ResourceKey> keys, CallContext ctx) {
    return Map.of();
  }

  /**
   * Applies one change: makes the live object match {@link Change#target()} (CREATE, UPDATE,
   * REPLACE) or removes it (DELETE). Must be idempotent: applying the same change twice leaves
   * the same result, and deleting a missing object succeeds. Failures are returned as outcomes;
   * an exception is taken as a PERMANENT failure (TRANSIENT for a retryable {@code
   * ProviderException}).
   */
  Outcome apply(Change change, CallContext ctx);

  /**
   * Applies several changes that are ready together and returns an outcome per key. The default
   * applies them one by one; override when the live system has a cheaper batch call.
   */
  default Map<ResourceKey, Outcome> applyAll(List<Change> changes, CallContext ctx) {
    Map<ResourceKey, Outcome> out = new LinkedHashMap<>();
    for (Change c : changes) {
      out.put(c.key(), apply(c, ctx));
    }
    return out;
  }

  /** Whether {@link #applyAll} is cheaper than one call per change. */
  default boolean prefersBatches() {
    return false;
  }

  /** The decoder that reads this provider's files from the source, if it has its own. */
  default Optional<Decoder> decoder() {
    return Optional.empty();
  }

  /**
   * Removes what the live system adds and nobody declares (status, timestamps, generated ids),
   * without reordering anything. Returns a frozen document.
   */
  default JsonNode normalize(ResourceKey key, JsonNode live) {
    return live;
  }

  /** How documents of this provider merge. */
  default MergeRules mergeRules() {
    return MergeRules.defaults();
  }

  /** Whether a change at {@code path} cannot be made in place and requires delete-and-create. */
  default boolean requiresReplace(ResourceKey key, FieldPath path) {
    return false;
  }

  /** The health of an applied object. Providers without a health check are healthy once applied. */
  default Health health(ResourceKey key, Observation observation) {
    return Health.healthy();
  }

  /**
   * Keys that {@code resource} implicitly depends on among {@code desired} (a namespace before
   * its members, a type definition before its instances). Keys outside {@code desired} may be
   * named too: a relation to a key the plan deletes orders the two (a file {@code x/y} is created
   * after the file {@code x} is deleted; a file {@code x} is created after the deletes under
   * {@code x/} emptied that directory); keys the plan does not hold are ignored.
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
   */
  default int typeOrder(ResourceKey key) {
    return 0;
  }

  /** Whether this provider writes ownership marks onto live objects and reads them back. */
  default boolean marksObjects() {
    return false;
  }

  /** Keys of live objects carrying {@code owner}'s mark, to find orphans and rebuild a lost store. */
  default Collection<ResourceKey> listMarked(String owner, CallContext ctx) {
    return List.of();
  }

  /** For planning providers (Terraform): the provider's own planner. */
  default Optional<ProviderPlanner> planner() {
    return Optional.empty();
  }
}
