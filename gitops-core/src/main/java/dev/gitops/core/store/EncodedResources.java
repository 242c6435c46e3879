package dev.gitops.core.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.util.RawValue;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

/**
 * The compact JSON of the resources a store object journaled while it holds the lock, one per key,
 * so that a sync serializes each document once: the engine commits the very resource object it
 * wrote as pending, and the applied record, then the snapshot a compaction writes, reuse the
 * pending record's text instead of walking the document again. The bytes written are the same as
 * serializing {@link StoreCodec#resource} in place (the same mapper, compact), so the journal's
 * and the snapshot's formats do not change.
 *
 * <p>A resource is recognised by identity, never by value: resources are immutable, and an equal
 * but distinct object is simply serialized again. The store {@linkplain #clear() clears} it when
 * its lock is released. Thread-safe.
 */
final class EncodedResources {

  private record Encoded(Resource resource, RawValue json) {}

  private final Map<ResourceKey, Encoded> byKey = new HashMap<>();

  /**
   * The JSON of {@code r} as {@link StoreCodec#resource} writes it, reused when this very object
   * was serialized before; with {@code remember}, kept for the next call.
   */
  synchronized RawValue of(Resource r, boolean remember) {
    Encoded e = byKey.get(r.key());
    if (e != null && e.resource() == r) {
      return e.json();
    }
    RawValue json;
    try {
      json = new RawValue(new SerializedString(StoreCodec.MAPPER.writeValueAsString(StoreCodec.resource(r))));
    } catch (JsonProcessingException ex) {
      // only trees of plain JSON values reach here; failing to write one is a bug, not I/O
      throw new UncheckedIOException("cannot serialize the resource " + r.key(), ex);
    }
    if (remember) {
      byKey.put(r.key(), new Encoded(r, json));
    }
    return json;
  }

  /** How many resources are kept. */
  synchronized int size() {
    return byKey.size();
  }

  /** Forgets every kept text. */
  synchronized void clear() {
    byKey.clear();
  }
}
