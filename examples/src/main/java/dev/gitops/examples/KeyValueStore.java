package dev.gitops.examples;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Documents;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A toy live system for the custom-provider example: a thread-safe map from names to JSON
 * values, with a version counter per entry (what a real system calls a resource version or an
 * etag). Stands in for a configuration service, a feature-flag service or a database table.
 *
 * <pre>{@code
 * KeyValueStore kv = new KeyValueStore();
 * kv.put("shop/port", Documents.nodes().numberNode(8080));
 * kv.get("shop/port");   // Optional[Entry[value=8080, version=1]]
 * }</pre>
 */
public final class KeyValueStore {

  /** One stored value and the version it was written at. */
  public record Entry(JsonNode value, long version) {}

  private final Map<String, Entry> entries = new ConcurrentHashMap<>();
  private final AtomicLong versions = new AtomicLong();

  /** The entry named {@code name}, if any. */
  public Optional<Entry> get(String name) {
    return Optional.ofNullable(entries.get(name));
  }

  /** Stores {@code value} (frozen) under {@code name} and returns the new version. */
  public long put(String name, JsonNode value) {
    long v = versions.incrementAndGet();
    entries.put(name, new Entry(Documents.freeze(value), v));
    return v;
  }

  /** Removes {@code name}; returns whether it was there. */
  public boolean remove(String name) {
    return entries.remove(name) != null;
  }

  /** Every entry's value by name, sorted. */
  public SortedMap<String, JsonNode> snapshot() {
    TreeMap<String, JsonNode> m = new TreeMap<>();
    entries.forEach((k, e) -> m.put(k, e.value()));
    return m;
  }
}
