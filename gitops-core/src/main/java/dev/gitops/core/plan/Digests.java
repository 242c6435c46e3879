package dev.gitops.core.plan;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Documents;
import dev.gitops.api.ResourceKey;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Canonical digests of documents, remembered per key and role by node identity: frozen documents
 * never change, and the decode and merge caches hand the same instances back on every resync,
 * so an unchanged resource is not serialised again. One entry per key and role keeps it bounded.
 */
final class Digests {

  /** What a digested document is to its key. */
  enum Role {
    DESIRED, TARGET, LIVE, STORED, PENDING
  }

  private record Memo(JsonNode node, String digest) {}

  private final Map<Role, Map<ResourceKey, Memo>> memos = new ConcurrentHashMap<>();

  /** The digest of {@code doc}, the document of {@code key} in {@code role}. */
  String of(Role role, ResourceKey key, JsonNode doc) {
    return of(role, key, doc, java.util.function.UnaryOperator.identity());
  }

  /** The digest of {@code view.apply(doc)}, remembered by the identity of {@code doc}. */
  String of(Role role, ResourceKey key, JsonNode doc, java.util.function.UnaryOperator<JsonNode> view) {
    if (doc == null) {
      return "-";
    }
    Map<ResourceKey, Memo> m = memos.computeIfAbsent(role, r -> new ConcurrentHashMap<>());
    Memo memo = m.get(key);
    if (memo != null && memo.node() == doc) {
      return memo.digest();
    }
    String digest = Documents.digest(view.apply(doc));
    if (Documents.isFrozen(doc)) {
      m.put(key, new Memo(doc, digest));
    }
    return digest;
  }

  /** Forgets keys that are gone, so the memo does not outgrow the state. */
  void retain(java.util.Set<ResourceKey> keys) {
    for (Map<ResourceKey, Memo> m : memos.values()) {
      if (m.size() > keys.size()) {
        m.keySet().retainAll(keys);
      }
    }
  }
}
