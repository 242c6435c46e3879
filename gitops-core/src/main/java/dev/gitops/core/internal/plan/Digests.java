package dev.gitops.core.internal.plan;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Documents;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.UnaryOperator;

/**
 * Canonical digests of documents, remembered per key by node identity: frozen documents never
 * change, and the decode and merge caches hand the same instances back on every resync (the live
 * document a provider returns is often the very target the engine applied), so an unchanged
 * resource is not serialised again. One slot per key and role keeps it bounded.
 */
final class Digests {

  /** What a digested document is to its key. */
  enum Role {
    DESIRED, LIVE, STORED, PENDING,
    /** The last-applied record the live system keeps on the object ({@code Observation.lastApplied}). */
    LIVE_RECORD,
    /** The documents of a change as its plan file holds them (sensitive values hashed). */
    PLAN_LIVE, PLAN_DESIRED, PLAN_TARGET
  }

  private static final int ROLES = Role.values().length;

  /**
   * {@code node} is the document as given; {@code viewed} the one digested (the same unless a view
   * applies), and {@code viewKey} what that view was made from (null: none).
   */
  private record Memo(JsonNode node, Object viewKey, JsonNode viewed, String digest) {}

  private final Map<ResourceKey, Memo[]> memos = new ConcurrentHashMap<>();
  /** Documents serialised and hashed (a memo hit, or a digest {@link #remember}ed, is not counted). */
  private final LongAdder hashed = new LongAdder();

  /** How many documents were serialised and hashed. */
  long hashed() {
    return hashed.sum();
  }

  /**
   * Takes {@code digest} as the digest of the frozen {@code doc}, the document of {@code key} in
   * {@code role}, from a caller that knows it (the store's no-change digests), unless this key and
   * role already hold a digest for that very document. A document that is not frozen is not
   * remembered (its value could change).
   */
  void remember(Role role, ResourceKey key, JsonNode doc, String digest) {
    if (!Documents.isFrozen(doc)) {
      return;
    }
    Memo[] slots = memos.computeIfAbsent(key, k -> new Memo[ROLES]);
    Memo own = slots[role.ordinal()];
    if (own == null || own.node() != doc) {
      slots[role.ordinal()] = new Memo(doc, null, doc, digest);
    }
  }

  /** The digest of {@code doc}, the document of {@code key} in {@code role}. */
  String of(Role role, ResourceKey key, JsonNode doc) {
    return of(role, key, doc, null, UnaryOperator.identity());
  }

  /**
   * The digest of {@code view.apply(doc)}, remembered by the identity of {@code doc} and of {@code
   * viewKey}, what the view is made from (the merge rules that strip a live document): one document
   * instance seen again under other rules (a live object unchanged, in an informer's cache, at a
   * commit whose .gitops.yaml ignores another field) is viewed and digested again, not given the
   * digest of its old view.
   */
  String of(Role role, ResourceKey key, JsonNode doc, Object viewKey, UnaryOperator<JsonNode> view) {
    if (doc == null) {
      return "-";
    }
    Memo[] slots = memos.computeIfAbsent(key, k -> new Memo[ROLES]);
    Memo own = slots[role.ordinal()];
    // the view key by identity: the planner keeps one rules instance while its inputs are unchanged, and
    // a miss costs a view, whose result the loop below still finds digested when the view changed nothing
    if (own != null && own.node() == doc && own.viewKey() == viewKey) {
      return own.digest();
    }
    JsonNode viewed = view.apply(doc);
    String digest = null;
    for (Memo m : slots) {
      if (m != null && m.viewed() == viewed) {
        digest = m.digest();
        break;
      }
    }
    if (digest == null && Documents.isFrozen(viewed)) {
      // Another role's document of the same value (a last-applied record equal to the desired
      // document, as every in-sync key has): frozen equality compares cached hashes before
      // values, so this costs far less than serialising and hashing again.
      for (Memo m : slots) {
        if (m != null && Documents.isFrozen(m.viewed()) && m.viewed().equals(viewed)) {
          digest = m.digest();
          break;
        }
      }
    }
    if (digest == null) {
      digest = Documents.digest(viewed);
      hashed.increment();
    }
    if (Documents.isFrozen(doc) && Documents.isFrozen(viewed)) {
      slots[role.ordinal()] = new Memo(doc, viewKey, viewed, digest);
    }
    return digest;
  }

  /** {@code resource}'s {@link Resource#digestWith} digest and the instance it was computed for. */
  private record ResourceMemo(Resource resource, String digest) {}

  private final Map<ResourceKey, ResourceMemo[]> resources = new ConcurrentHashMap<>();

  /**
   * {@link Resource#digest()} of {@code r} in {@code role}, its document digested through {@link
   * #of}, remembered by the identity of {@code r} (resources are immutable): a plan asks for the
   * same resource's digest several times (the in-sync proof, the memo's inputs, the fingerprint).
   * A resource that differs from one remembered in another role only in its origin, which the
   * digest does not cover (a record re-dated at a new commit, as the no-change fast path's desired
   * resources are), takes that one's digest.
   */
  String resource(Role role, Resource r) {
    ResourceMemo[] slots = resources.computeIfAbsent(r.key(), k -> new ResourceMemo[ROLES]);
    ResourceMemo own = slots[role.ordinal()];
    if (own != null && own.resource() == r) {
      return own.digest();
    }
    String digest = null;
    for (ResourceMemo m : slots) {
      // the same instance in another role (a desired resource that is its own record), or one
      // re-dated from it: a resource's digest depends neither on the role nor on the origin
      if (m != null && (m.resource() == r || sameButOrigin(m.resource(), r))) {
        digest = m.digest();
        break;
      }
    }
    if (digest == null) {
      digest = r.digestWith(of(role, r.key(), r.document()));
      resourcesHashed.increment();
    }
    slots[role.ordinal()] = new ResourceMemo(r, digest);
    return digest;
  }

  /**
   * Takes {@code digest} as {@code r}'s {@link #resource} digest in {@code role} without computing
   * it, from a caller that holds it for this very resource (a record's, re-dated or not: the digest
   * leaves the origin out). Nothing for a resource whose document is not frozen (it could change).
   *
   * @return whether it is remembered
   */
  boolean rememberResource(Role role, Resource r, String digest) {
    if (!Documents.isFrozen(r.document())) {
      return false;
    }
    ResourceMemo[] slots = resources.computeIfAbsent(r.key(), k -> new ResourceMemo[ROLES]);
    ResourceMemo own = slots[role.ordinal()];
    if (own == null || own.resource() != r) {
      slots[role.ordinal()] = new ResourceMemo(r, digest);
    }
    return true;
  }

  /** How many resources' {@link Resource#digestWith} digests were computed (memo hits not counted). */
  long resourcesHashed() {
    return resourcesHashed.sum();
  }

  private final LongAdder resourcesHashed = new LongAdder();

  /**
   * Whether {@code a} and {@code b} differ at most in their origin: the same frozen document
   * instance and equal dependencies, wave, policy and sensitive patterns (every part {@link
   * Resource#digestWith} covers besides the document).
   */
  private static boolean sameButOrigin(Resource a, Resource b) {
    return a.document() == b.document() && Documents.isFrozen(a.document()) && a.wave() == b.wave()
        && a.policy().equals(b.policy()) && a.dependsOn().equals(b.dependsOn()) && a.sensitive().equals(b.sensitive());
  }

  /** Forgets keys that are gone, so the memo does not outgrow the state. */
  void retain(Set<ResourceKey> keys) {
    if (memos.size() > keys.size()) {
      memos.keySet().retainAll(keys);
    }
    if (resources.size() > keys.size()) {
      resources.keySet().retainAll(keys);
    }
  }
}
