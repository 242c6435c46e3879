package dev.gitops.core.store;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.StoredResource;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * The store's at-rest snapshot: every inventory and pending entry as of one serial, in one file
 * written through a temp file, fsync, rename and a directory fsync. A 28-byte header (magic
 * {@code GSN1}, version 1, the serial it includes, payload length, CRC-32C of the payload, CRC-32C
 * of the first 24 header bytes) is followed by the payload, compact JSON: {@code {"serial": S,
 * "inventory": [entries], "pending": [entries]}}, each entry as the per-key files held it.
 *
 * <p>The serial says which journal records the snapshot includes: every record whose ops all have
 * serials at or below it. A snapshot is renamed into place whole, so it has no torn tail: any
 * byte that does not check out (a flipped bit, a cut, trailing bytes) is damage at a byte offset.
 */
final class StoreSnapshot {

  /** The snapshot's file name in the store directory. */
  static final String FILE = "snapshot";

  static final int MAGIC = 0x47534E31;
  static final int VERSION = 1;
  static final int HEADER = 28;

  /** Reads one entry at a time from the payload (the rest of the payload follows it). */
  private static final ObjectReader ENTRY = StoreCodec.IN_STREAM;

  private StoreSnapshot() {}

  /** What a snapshot holds. */
  record Content(long serial, TreeMap<ResourceKey, StoredResource> inventory, TreeMap<ResourceKey, Resource> pending) {}

  /** Damage in a snapshot at {@code offset}. */
  static final class DamageException extends Exception {
    private static final long serialVersionUID = 1L;

    DamageException(long offset, String message) {
      super("at byte offset " + offset + ": " + message);
    }

    DamageException(long offset, String message, Throwable cause) {
      super("at byte offset " + offset + ": " + message, cause);
    }
  }

  /** The snapshot file's bytes: header and payload. */
  static byte[] encode(long serial, Map<ResourceKey, StoredResource> inventory, Map<ResourceKey, Resource> pending) {
    return encode(serial, inventory, pending, null);
  }

  /**
   * {@link #encode(long, Map, Map)} reusing the text of resources the journal wrote in this lock
   * ({@code encoded}, null for none; nothing is added to it). Same bytes either way.
   */
  static byte[] encode(long serial, Map<ResourceKey, StoredResource> inventory, Map<ResourceKey, Resource> pending,
      EncodedResources encoded) {
    Chunks out = new Chunks();
    try (JsonGenerator g = StoreCodec.MAPPER.createGenerator(out)) {
      g.writeStartObject();
      g.writeNumberField("serial", serial);
      g.writeArrayFieldStart("inventory");
      for (StoredResource s : inventory.values()) {
        StoreCodec.MAPPER.writeTree(g, StoreCodec.inventoryEntry(s, encoded, false));
      }
      g.writeEndArray();
      g.writeArrayFieldStart("pending");
      for (Resource r : pending.values()) {
        StoreCodec.MAPPER.writeTree(g, StoreCodec.pendingEntry(r, encoded, false));
      }
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      // an in-memory stream of plain JSON values cannot fail; if it does it is a bug, not I/O
      throw new UncheckedIOException("cannot serialize the store snapshot", e);
    }
    return framed(out.toArray(HEADER), serial);
  }

  /** {@code bytes}, a payload behind {@link #HEADER} bytes of room, with the header of {@code serial} written there. */
  static byte[] framed(byte[] bytes, long serial) {
    int length = bytes.length - HEADER;
    ByteBuffer b = ByteBuffer.wrap(bytes);
    b.putInt(0, MAGIC).putInt(4, VERSION).putLong(8, serial).putInt(16, length)
        .putInt(20, crc(bytes, HEADER, length));
    b.putInt(24, crc(bytes, 0, 24));
    return bytes;
  }

  /**
   * What {@link #encode} writes, kept in chunks and copied once into an array of the exact size
   * behind room for the header: a stream presized by a guess of the entries' size grew by doubling
   * and was copied again at the end (~85 MB allocated for a 16 MB snapshot of 10,000 entries).
   */
  static final class Chunks extends OutputStream {
    private static final int FIRST = 64 * 1024;
    private static final int LARGEST = 4 * 1024 * 1024;
    private final List<byte[]> full = new ArrayList<>();
    private byte[] current = new byte[FIRST];
    private int used;
    private long fullBytes;

    @Override
    public void write(int b) {
      if (used == current.length) {
        next();
      }
      current[used++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      while (len > 0) {
        if (used == current.length) {
          next();
        }
        int n = Math.min(len, current.length - used);
        System.arraycopy(b, off, current, used, n);
        used += n;
        off += n;
        len -= n;
      }
    }

    private void next() {
      full.add(current);
      fullBytes += current.length;
      current = new byte[Math.min(current.length * 2, LARGEST)];
      used = 0;
    }

    /** Everything written, after {@code room} zero bytes. */
    byte[] toArray(int room) {
      long size = room + fullBytes + used;
      if (size > Integer.MAX_VALUE - 8) {
        throw new IllegalStateException("the store snapshot would be " + size + " bytes, more than an array holds");
      }
      byte[] out = new byte[(int) size];
      int at = room;
      for (byte[] c : full) {
        System.arraycopy(c, 0, out, at, c.length);
        at += c.length;
      }
      System.arraycopy(current, 0, out, at, used);
      return out;
    }
  }

  /**
   * The serial a snapshot's header names, after checking the header ({@code head}, the file's
   * first bytes) against the file's size; the payload is checked by {@link #decode}.
   */
  static long headerSerial(byte[] head, long fileSize) throws DamageException {
    checkHeader(head, fileSize);
    return ByteBuffer.wrap(head).getLong(8);
  }

  private static int checkHeader(byte[] bytes, long fileSize) throws DamageException {
    if (bytes.length < HEADER) {
      throw new DamageException(0, "holds " + bytes.length + " bytes, less than the " + HEADER + "-byte header");
    }
    ByteBuffer b = ByteBuffer.wrap(bytes);
    if (b.getInt(24) != crc(bytes, 0, 24) || b.getInt(0) != MAGIC) {
      throw new DamageException(0, "not a snapshot header (magic " + Integer.toHexString(b.getInt(0))
          + ", header checksum " + (b.getInt(24) == crc(bytes, 0, 24) ? "valid" : "invalid") + ")");
    }
    if (b.getInt(4) != VERSION) {
      throw new DamageException(4, "snapshot version " + b.getInt(4) + ", this build reads " + VERSION);
    }
    int length = b.getInt(16);
    if (length < 0 || (long) HEADER + length != fileSize) {
      throw new DamageException(Math.min(fileSize, (long) HEADER + Math.max(0, length)), "the header says "
          + length + " payload bytes, the file holds " + (fileSize - HEADER) + " (cut short or extended)");
    }
    return length;
  }

  /**
   * Below this many payload bytes {@link #decode} reads on the calling thread alone; from there,
   * the second half of the inventory is read on a thread of its own ({@link SecondHalf}).
   */
  static final int PARALLEL_FROM = 1 << 20;

  /** Reads a whole snapshot file, checking every byte; a document that is an object is parsed when first read. */
  static Content decode(byte[] bytes, Path file) throws DamageException {
    return decode(bytes, file, PARALLEL_FROM);
  }

  /**
   * {@link #decode(byte[], Path)}, reading the second half of the inventory on another thread when
   * the payload holds {@code parallelFrom} bytes or more. That half starts where the text reads as
   * the start of an entry ({@code },{"key":"}) after the payload's middle, which a document could
   * hold too: it is taken only when this thread's own read, from the start, finds an entry starting
   * exactly there and that half was read in full without a fault or a key of this half; otherwise
   * this thread reads on as without it. Either way the content, or the damage and its offset, is
   * the one read in order (a no-change sync of 10,000 files waited ~60 ms for the read of its
   * 16 MB snapshot on one core while the other stood idle).
   */
  static Content decode(byte[] bytes, Path file, int parallelFrom) throws DamageException {
    int length = checkHeader(bytes, bytes.length);
    if (ByteBuffer.wrap(bytes).getInt(20) != crc(bytes, HEADER, length)) {
      throw new DamageException(HEADER, "the payload of " + length + " bytes fails its checksum");
    }
    long serial = ByteBuffer.wrap(bytes).getLong(8);
    TreeMap<ResourceKey, StoredResource> inventory = new TreeMap<>();
    TreeMap<ResourceKey, Resource> pending = new TreeMap<>();
    SecondHalf second = length >= parallelFrom ? SecondHalf.start(bytes, HEADER + length, file) : null;
    long at = HEADER;
    try (JsonParser p = StoreCodec.MAPPER.createParser(bytes, HEADER, length)) {
      expect(p, JsonToken.START_OBJECT);
      expectField(p, "serial");
      at = HEADER + p.currentTokenLocation().getByteOffset();
      if (p.nextToken() != JsonToken.VALUE_NUMBER_INT || p.getLongValue() != serial) {
        throw new DamageException(at, "the payload's serial differs from the header's " + serial);
      }
      expectField(p, "inventory");
      expect(p, JsonToken.START_ARRAY);
      while (p.nextToken() == JsonToken.START_OBJECT) {
        at = HEADER + p.currentTokenLocation().getByteOffset();
        if (second != null && at >= second.from) {
          SecondHalf.Read rest = at == second.from ? second.await() : second.cancel();
          second = null;
          if (rest != null && rest.joins(inventory)) {
            return new Content(serial, inventory, rest.pending());
          }
          // not an entry's start after all (inside a document), or a fault there: read on in order
        }
        StoredResource s = StoreCodec.readInventoryEntry(p, bytes, HEADER, file.toString());
        if (inventory.put(s.resource().key(), s) != null) {
          throw new DamageException(at, "a second inventory entry of " + s.resource().key());
        }
      }
      expectField(p, "pending");
      expect(p, JsonToken.START_ARRAY);
      while (p.nextToken() == JsonToken.START_OBJECT) {
        at = HEADER + p.currentTokenLocation().getByteOffset();
        Resource r = StoreCodec.readPendingEntry(ENTRY.readTree(p));
        if (pending.put(r.key(), r) != null) {
          throw new DamageException(at, "a second pending entry of " + r.key());
        }
      }
      if (p.nextToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
        throw new DamageException(HEADER + p.currentTokenLocation().getByteOffset(), "unexpected content");
      }
    } catch (StoreCodec.BadContentException e) {
      throw new DamageException(at, e.getMessage(), e);
    } catch (IOException e) {
      throw new DamageException(at, "not a valid payload (" + e.getMessage() + ")", e);
    }
    return new Content(serial, inventory, pending);
  }

  /**
   * The inventory from an entry's start after the payload's middle to its end, and the pending
   * entries after it, read on a thread of its own in the one form {@link #encode} writes (compact,
   * entries one after another): each entry by a parser of its own (a parser started inside the
   * array would refuse the comma between entries), so that the reader that calls {@link #await}
   * when it meets an entry at {@link #from} has what remains. Anything else, a fault included,
   * reads as no result: the caller reads on itself and finds it, at its offset.
   */
  static final class SecondHalf {
    private static final byte[] ENTRY_START = "},{\"key\":\"".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] PENDING_START = "],\"pending\":[".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** What the second half holds: its inventory entries in the order read, and the pending entries. */
    record Read(List<StoredResource> entries, TreeMap<ResourceKey, Resource> pending) {
      /** Adds the entries to {@code inventory} when none is a key it holds already (else adds nothing). */
      boolean joins(TreeMap<ResourceKey, StoredResource> inventory) {
        for (StoredResource s : entries) {
          if (inventory.containsKey(s.resource().key())) {
            return false;
          }
        }
        for (StoredResource s : entries) {
          inventory.put(s.resource().key(), s);
        }
        return true;
      }
    }

    final int from;
    private final java.util.concurrent.FutureTask<Read> task;

    private SecondHalf(int from, java.util.concurrent.FutureTask<Read> task) {
      this.from = from;
      this.task = task;
    }

    /** Starts reading from the first entry start after the middle of [{@code HEADER}, {@code end}); null when none. */
    static SecondHalf start(byte[] bytes, int end, Path file) {
      int from = indexOf(bytes, ENTRY_START, HEADER + (end - HEADER) / 2, end);
      if (from < 0) {
        return null;
      }
      int at = from + 2;  // the entry's '{'
      java.util.concurrent.FutureTask<Read> task = new java.util.concurrent.FutureTask<>(
          () -> read(bytes, at, end, file.toString()));
      Thread t = new Thread(task, "gitops-store-decode");
      t.setDaemon(true);
      t.start();
      return new SecondHalf(at, task);
    }

    /** Stops the read of a half that will not be taken (it starts inside a document); null. */
    Read cancel() {
      task.cancel(true);
      return null;
    }

    /** The half read, or null when it was not read in full (the caller reads it). */
    Read await() {
      boolean interrupted = false;
      try {
        while (true) {
          try {
            return task.get();
          } catch (InterruptedException e) {
            interrupted = true;  // a local read of bounded size: wait for it, then pass the interrupt on
          } catch (java.util.concurrent.ExecutionException e) {
            return null;  // an error read() does not catch (a stack overflow): the read in order meets it too
          }
        }
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }

    /** The entries from {@code at} on; null at anything but the form {@link #encode} writes, or a fault. */
    private static Read read(byte[] bytes, int at, int end, String where) {
      List<StoredResource> entries = new ArrayList<>();
      java.util.Set<ResourceKey> seen = new java.util.HashSet<>();
      try {
        at = entries(bytes, at, end, (e, base) -> {
          StoredResource s = StoreCodec.readInventoryEntry(e, bytes, base, where);
          return seen.add(s.resource().key()) && entries.add(s);
        });
        if (at < 0 || !startsWith(bytes, at, PENDING_START, end)) {
          return null;
        }
        TreeMap<ResourceKey, Resource> pending = new TreeMap<>();
        at += PENDING_START.length;
        if (at < end && bytes[at] == '{') {
          at = entries(bytes, at, end, (e, base) -> {
            Resource r = StoreCodec.readPendingEntry(StoreSnapshot.ENTRY.readTree(e));
            return pending.put(r.key(), r) == null;
          });
        }
        // the pending array's end and the payload's: "]}" and nothing after
        return at >= 0 && at + 2 == end && bytes[at] == ']' && bytes[at + 1] == '}' ? new Read(entries, pending) : null;
      } catch (IOException | StoreCodec.BadContentException | RuntimeException e) {
        return null;  // damage: the read in order meets it and names its offset
      }
    }

    /**
     * One entry read from a parser at its START_OBJECT, whose offsets count from {@code base} in
     * the snapshot's bytes; false when it may not be taken.
     */
    private interface EntryRead {
      boolean read(JsonParser p, int base) throws IOException, StoreCodec.BadContentException;
    }

    /**
     * Reads the entries {@code ,}-separated from {@code at}: the offset of the byte after the last
     * one's {@code '}'}, or -1 when one is not an object or {@code read} refuses it.
     */
    private static int entries(byte[] bytes, int at, int end, EntryRead read)
        throws IOException, StoreCodec.BadContentException {
      while (true) {
        if (Thread.currentThread().isInterrupted()) {
          return -1;  // cancelled: the caller reads on itself
        }
        try (JsonParser p = StoreCodec.MAPPER.createParser(bytes, at, end - at)) {
          if (p.nextToken() != JsonToken.START_OBJECT || p.currentTokenLocation().getByteOffset() != 0
              || !read.read(p, at)) {
            return -1;
          }
          at += (int) p.currentTokenLocation().getByteOffset() + 1;
        }
        if (at + 1 < end && bytes[at] == ',' && bytes[at + 1] == '{') {
          at++;
        } else {
          return at;
        }
      }
    }

    private static int indexOf(byte[] bytes, byte[] what, int from, int end) {
      for (int i = from; i + what.length <= end; i++) {
        if (startsWith(bytes, i, what, end)) {
          return i;
        }
      }
      return -1;
    }

    private static boolean startsWith(byte[] bytes, int at, byte[] what, int end) {
      if (at + what.length > end) {
        return false;
      }
      for (int i = 0; i < what.length; i++) {
        if (bytes[at + i] != what[i]) {
          return false;
        }
      }
      return true;
    }
  }

  private static void expect(JsonParser p, JsonToken want) throws IOException, DamageException {
    JsonToken t = p.nextToken();
    if (t != want) {
      throw new DamageException(HEADER + p.currentTokenLocation().getByteOffset(), "want " + want + ", found " + t);
    }
  }

  private static void expectField(JsonParser p, String name) throws IOException, DamageException {
    JsonToken t = p.currentToken() == JsonToken.FIELD_NAME ? p.currentToken() : p.nextToken();
    if (t != JsonToken.FIELD_NAME || !name.equals(p.currentName())) {
      throw new DamageException(HEADER + p.currentTokenLocation().getByteOffset(), "want field '" + name
          + "', found " + t);
    }
  }

  private static int crc(byte[] bytes, int off, int len) {
    CRC32C c = new CRC32C();
    c.update(bytes, off, len);
    return (int) c.getValue();
  }
}
