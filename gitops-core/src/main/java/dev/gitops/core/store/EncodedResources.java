package dev.gitops.core.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.util.RawValue;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
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
   * was serialized before; with {@code remember}, kept for the next call. The serialization runs
   * outside the lock (two threads given one resource write the same bytes; the last one is kept).
   */
  RawValue of(Resource r, boolean remember) {
    synchronized (this) {
      Encoded e = byKey.get(r.key());
      if (e != null && e.resource() == r) {
        return e.json();
      }
    }
    RawValue json;
    try {
      json = new RawValue(new Utf8Json(StoreCodec.MAPPER.writeValueAsBytes(StoreCodec.resource(r))));
    } catch (JsonProcessingException ex) {
      // only trees of plain JSON values reach here; failing to write one is a bug, not I/O
      throw new UncheckedIOException("cannot serialize the resource " + r.key(), ex);
    }
    if (remember) {
      synchronized (this) {
        byKey.put(r.key(), new Encoded(r, json));
      }
    }
    return json;
  }

  /** Below this many resources, {@link #encodeAll} leaves them to be serialized as they are written. */
  static final int PARALLEL = 256;

  /**
   * Serializes and keeps each of {@code resources} not kept yet, in parallel on the common pool
   * when there are many: a first sync's pending record holds every document, serialized one by one
   * on the syncing thread while the other core idled. Each resource's bytes are what {@link #of}
   * would write; the record is then written from the kept texts.
   */
  void encodeAll(List<Resource> resources) {
    if (resources.size() >= PARALLEL) {
      resources.parallelStream().forEach(r -> of(r, true));
    }
  }

  /** How many resources are kept. */
  synchronized int size() {
    return byKey.size();
  }

  /** Forgets every kept text. */
  synchronized void clear() {
    byKey.clear();
  }

  /**
   * JSON text kept as the UTF-8 bytes a byte generator writes as they are (a raw value copies
   * them into its buffer; nothing is decoded to chars and encoded again). The quoted forms and a
   * char generator's go through the text as a {@link SerializedString}, made when first asked.
   */
  static final class Utf8Json implements SerializableString {
    private final byte[] utf8;
    private SerializedString text;

    Utf8Json(byte[] utf8) {
      this.utf8 = utf8;
    }

    private SerializedString text() {
      SerializedString t = text;
      if (t == null) {
        t = new SerializedString(new String(utf8, StandardCharsets.UTF_8));
        text = t;
      }
      return t;
    }

    @Override
    public String getValue() {
      return text().getValue();
    }

    @Override
    public int charLength() {
      return text().charLength();
    }

    @Override
    public char[] asQuotedChars() {
      return text().asQuotedChars();
    }

    /** The bytes themselves (generators only read them). */
    @Override
    public byte[] asUnquotedUTF8() {
      return utf8;
    }

    @Override
    public byte[] asQuotedUTF8() {
      return text().asQuotedUTF8();
    }

    @Override
    public int appendQuotedUTF8(byte[] buffer, int offset) {
      return text().appendQuotedUTF8(buffer, offset);
    }

    @Override
    public int appendQuoted(char[] buffer, int offset) {
      return text().appendQuoted(buffer, offset);
    }

    @Override
    public int appendUnquotedUTF8(byte[] buffer, int offset) {
      if (utf8.length > buffer.length - offset) {
        return -1;
      }
      System.arraycopy(utf8, 0, buffer, offset, utf8.length);
      return utf8.length;
    }

    @Override
    public int appendUnquoted(char[] buffer, int offset) {
      return text().appendUnquoted(buffer, offset);
    }

    @Override
    public int writeQuotedUTF8(OutputStream out) throws IOException {
      return text().writeQuotedUTF8(out);
    }

    @Override
    public int writeUnquotedUTF8(OutputStream out) throws IOException {
      out.write(utf8);
      return utf8.length;
    }

    @Override
    public int putQuotedUTF8(ByteBuffer buffer) throws IOException {
      return text().putQuotedUTF8(buffer);
    }

    @Override
    public int putUnquotedUTF8(ByteBuffer buffer) {
      if (utf8.length > buffer.remaining()) {
        return -1;
      }
      buffer.put(utf8);
      return utf8.length;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Utf8Json other && Arrays.equals(utf8, other.utf8);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(utf8);
    }

    @Override
    public String toString() {
      return getValue();
    }
  }
}
