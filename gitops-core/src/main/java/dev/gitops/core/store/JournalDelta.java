package dev.gitops.core.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.StoredResource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the journal changes on top of the snapshot (or, in a store of format 1, the per-key
 * files): per key touched, the final inventory and pending entry (or their removal). Replaying
 * records in order and folding them here is idempotent per key (every op sets or removes an
 * entry). A record a snapshot already includes is skipped by its serial, not replayed: replayed
 * over a snapshot of later writes, an older record would bring back what they changed.
 */
final class JournalDelta {

  /** The final word of the journal on one key; a side not {@code set} is left as the files have it. */
  static final class Touch {
    final ResourceKey key;
    boolean inventorySet;
    StoredResource inventory;
    boolean pendingSet;
    Resource pending;

    Touch(ResourceKey key) {
      this.key = key;
    }
  }

  private final LinkedHashMap<ResourceKey, Touch> touched = new LinkedHashMap<>();
  private long serial;

  boolean isEmpty() {
    return touched.isEmpty();
  }

  /** The highest serial the journal gave out (0 when empty). */
  long serial() {
    return serial;
  }

  Map<ResourceKey, Touch> touched() {
    return touched;
  }

  /** Records the journal's word on one key: each side either set (to a value, or null for removed) or left alone. */
  private void set(ResourceKey key, long opSerial, boolean inventorySide, StoredResource inv, Resource pend) {
    serial = Math.max(serial, opSerial);
    Touch t = touched.computeIfAbsent(key, Touch::new);
    if (inventorySide) {
      t.inventorySet = true;
      t.inventory = inv;
    }
    t.pendingSet = true;
    t.pending = pend;
  }

  void pending(Resource r, long opSerial) {
    set(r.key(), opSerial, false, null, r);
  }

  void applied(StoredResource s) {
    set(s.resource().key(), s.serial(), true, s, null);
  }

  void forget(ResourceKey key, long opSerial) {
    set(key, opSerial, true, null, null);
  }

  void clearPending(ResourceKey key, long opSerial) {
    set(key, opSerial, false, null, null);
  }

  /** Applies the final word on every touched key to maps read from the snapshot (or the per-key files of format 1). */
  void applyTo(Map<ResourceKey, StoredResource> inventory, Map<ResourceKey, Resource> pending) {
    for (Touch t : touched.values()) {
      if (t.inventorySet) {
        if (t.inventory == null) {
          inventory.remove(t.key);
        } else {
          inventory.put(t.key, t.inventory);
        }
      }
      if (t.pendingSet) {
        if (t.pending == null) {
          pending.remove(t.key);
        } else {
          pending.put(t.key, t.pending);
        }
      }
    }
  }

  // ---------------------------------------------------------------- records

  /** One op with its serial, as the store resolved it before writing. */
  record Entry(String op, ResourceKey key, long serial, Resource resource, String revision,
      StoredResource.InSync inSync) {
    /** An op without an in-sync proof. */
    Entry(String op, ResourceKey key, long serial, Resource resource, String revision) {
      this(op, key, serial, resource, revision, null);
    }
  }

  /** The payload of one record: a batch's ops, compact JSON. */
  static byte[] encode(List<Entry> entries) {
    return encode(entries, null);
  }

  /**
   * {@link #encode(List)} with the resources' text taken from (and kept in) {@code encoded}: the
   * applied op of a resource journaled as pending before reuses its text. Same bytes either way.
   */
  static byte[] encode(List<Entry> entries, EncodedResources encoded) {
    try {
      return StoreCodec.MAPPER.writeValueAsBytes(tree(entries, encoded));
    } catch (JsonProcessingException ex) {
      // only trees of plain JSON values reach here; failing to write one is a bug, not I/O
      throw new UncheckedIOException("cannot serialize a journal record", ex);
    }
  }

  /**
   * The record of {@link #encode(List, EncodedResources)}'s payload, written in place after room for
   * its header ({@link StoreJournal.RecordBuffer#framed()} fills it in; no copy to frame it).
   */
  static StoreJournal.RecordBuffer record(List<Entry> entries, EncodedResources encoded) {
    if (entries.size() >= EncodedResources.PARALLEL) {
      List<Resource> resources = new ArrayList<>(entries.size());
      for (Entry e : entries) {
        if (e.resource() != null) {
          resources.add(e.resource());
        }
      }
      encoded.encodeAll(resources);
    }
    // most records hold documents of about a kilobyte; a bigger one grows the buffer once or twice
    StoreJournal.RecordBuffer out = new StoreJournal.RecordBuffer(64 + 1536 * entries.size());
    try {
      StoreCodec.MAPPER.writeValue(out, tree(entries, encoded));
    } catch (IOException ex) {
      // an in-memory stream of plain JSON values cannot fail; if it does it is a bug, not I/O
      throw new UncheckedIOException("cannot serialize a journal record", ex);
    }
    return out;
  }

  private static ObjectNode tree(List<Entry> entries, EncodedResources encoded) {
    ObjectNode root = StoreCodec.MAPPER.createObjectNode();
    ArrayNode ops = root.putArray("ops");
    for (Entry e : entries) {
      ObjectNode n = ops.addObject();
      n.put("op", e.op());
      switch (e.op()) {
        case "pending" -> {
          n.put("serial", e.serial());
          n.set("entry", StoreCodec.pendingEntry(e.resource(), encoded, true));
        }
        case "applied" -> n.set("entry", StoreCodec.inventoryEntry(new StoredResource(e.resource(), e.serial(),
            e.revision(), e.inSync()), encoded, true));
        default -> {
          n.put("serial", e.serial());
          n.put("key", e.key().toString());
        }
      }
    }
    return root;
  }

  /**
   * Folds one record's payload in and returns its last serial; {@code after} is the serial the
   * record must exceed. A record whose serials are all at or below {@code includedThrough} (the
   * serial a snapshot includes) is already in that snapshot and is not folded again; a record
   * that straddles it is damage.
   */
  long replay(byte[] payload, long after, long includedThrough) throws StoreCodec.BadContentException {
    JsonNode root = StoreCodec.parse(payload);
    JsonNode ops = root.get("ops");
    if (ops == null || !ops.isArray() || ops.isEmpty()) {
      throw new StoreCodec.BadContentException("a journal record without ops");
    }
    List<Runnable> folds = new ArrayList<>();
    long last = after;
    long first = -1;
    for (JsonNode n : ops) {
      String op = StoreCodec.text(n, "op");
      long s;
      switch (op) {
        case "pending" -> {
          s = StoreCodec.longValue(n, "serial");
          Resource r = StoreCodec.readPendingEntry(n.get("entry"));
          long at = s;
          folds.add(() -> pending(r, at));
        }
        case "applied" -> {
          JsonNode entry = n.get("entry");
          if (entry == null || !entry.isObject()) {
            throw new StoreCodec.BadContentException("an applied op without its entry");
          }
          StoredResource stored = StoreCodec.readInventoryEntry(entry);
          s = stored.serial();
          folds.add(() -> applied(stored));
        }
        case "forget", "clear" -> {
          s = StoreCodec.longValue(n, "serial");
          ResourceKey key = StoreCodec.key(StoreCodec.text(n, "key"), "key");
          long at = s;
          folds.add("forget".equals(op) ? () -> forget(key, at) : () -> clearPending(key, at));
        }
        default -> throw new StoreCodec.BadContentException("unknown journal op '" + op + "'");
      }
      if (s <= last) {
        throw new StoreCodec.BadContentException("serial " + s + " does not follow serial " + last);
      }
      last = s;
      if (first < 0) {
        first = s;
      }
    }
    if (last <= includedThrough) {
      return last;
    }
    if (first <= includedThrough) {
      throw new StoreCodec.BadContentException("a record of serials " + first + " to " + last
          + " straddles serial " + includedThrough + ", which the snapshot includes");
    }
    // a record is folded whole or not at all: it was written as one batch
    folds.forEach(Runnable::run);
    return last;
  }
}
