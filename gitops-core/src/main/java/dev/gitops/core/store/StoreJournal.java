package dev.gitops.core.store;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The framing of the store's journal file: a sequence of records, each a 16-byte header (magic
 * {@code GJR1}, payload length, CRC-32C of the payload, CRC-32C of the first 12 header bytes) and
 * its payload (one batch of writes as JSON).
 *
 * <p>A scan tells a torn tail from damage. Only the end of the file can be torn: an append that a
 * crash cut short leaves a prefix of its record, and a power loss can leave the file longer than
 * the data that reached the disk (zeros). So the scan discards, after the last whole record,
 * exactly: fewer than 16 bytes; a header whose checksum holds but whose payload runs past the end
 * of the file; the last record of the file whose payload checksum fails; or nothing but zero bytes.
 * Anything else that does not check out is damage at that offset, never skipped.
 */
final class StoreJournal {

  /** The journal's file name in the store directory. */
  static final String FILE = "journal";

  static final int MAGIC = 0x474A5231;
  static final int HEADER = 16;

  private StoreJournal() {}

  /** A whole record: where it starts and its payload. */
  record Record(long offset, byte[] payload) {}

  /**
   * What a scan found: the whole records, the offset where they end, the file's size and, when
   * {@code end < size}, why the bytes after {@code end} are a torn tail.
   */
  record Scan(List<Record> records, long end, long size, String torn) {
    boolean hasTornTail() {
      return end < size;
    }
  }

  /** Damage in the journal: a record at {@code offset} that is not a torn tail. */
  static final class DamageException extends Exception {
    private static final long serialVersionUID = 1L;
    final long offset;

    DamageException(long offset, String message) {
      super("at byte offset " + offset + ": " + message);
      this.offset = offset;
    }
  }

  /** The record of {@code payload}: header and payload, ready to append. */
  static byte[] frame(byte[] payload) {
    RecordBuffer record = new RecordBuffer(payload.length);
    record.writeBytes(payload);
    return record.framed();
  }

  /**
   * A record built in place: the payload is written after room for the header, which {@link
   * #framed()} fills in, so a large batch's payload is not copied again to be framed.
   */
  static final class RecordBuffer extends ByteArrayOutputStream {
    RecordBuffer(int payloadHint) {
      super(HEADER + Math.max(0, payloadHint));
      count = HEADER;
    }

    /** Fills in the header of the payload written so far; the record is the array's first {@link #size()} bytes. */
    byte[] framed() {
      int length = count - HEADER;
      ByteBuffer b = ByteBuffer.wrap(buf);
      b.putInt(0, MAGIC).putInt(4, length).putInt(8, crc(buf, HEADER, length));
      b.putInt(12, crc(buf, 0, 12));
      return buf;
    }
  }

  /** Splits {@code bytes} (a whole journal file) into records. */
  static Scan scan(byte[] bytes) throws DamageException {
    List<Record> records = new ArrayList<>();
    ByteBuffer b = ByteBuffer.wrap(bytes);
    int at = 0;
    while (at < bytes.length) {
      int left = bytes.length - at;
      if (left < HEADER) {
        return new Scan(records, at, bytes.length, left + " bytes, less than a record header");
      }
      int magic = b.getInt(at);
      int length = b.getInt(at + 4);
      int payloadCrc = b.getInt(at + 8);
      int headerCrc = b.getInt(at + 12);
      if (headerCrc != crc(bytes, at, 12) || magic != MAGIC || length < 0) {
        if (zerosFrom(bytes, at)) {
          return new Scan(records, at, bytes.length, left + " zero bytes");
        }
        throw new DamageException(at, "not a record header (magic " + Integer.toHexString(magic)
            + ", header checksum " + (headerCrc == crc(bytes, at, 12) ? "valid" : "invalid") + "), followed by "
            + (left - HEADER) + " more bytes");
      }
      long end = (long) at + HEADER + length;
      if (end > bytes.length) {
        return new Scan(records, at, bytes.length, "a record of " + length + " bytes with only " + (left - HEADER)
            + " written");
      }
      if (payloadCrc != crc(bytes, at + HEADER, length)) {
        if (end == bytes.length) {
          return new Scan(records, at, bytes.length, "the last record's payload fails its checksum");
        }
        throw new DamageException(at, "the payload of a record of " + length + " bytes fails its checksum and "
            + (bytes.length - end) + " more bytes follow it");
      }
      byte[] payload = new byte[length];
      System.arraycopy(bytes, at + HEADER, payload, 0, length);
      records.add(new Record(at, payload));
      at = (int) end;
    }
    return new Scan(records, at, bytes.length, null);
  }

  private static boolean zerosFrom(byte[] bytes, int from) {
    for (int i = from; i < bytes.length; i++) {
      if (bytes[i] != 0) {
        return false;
      }
    }
    return true;
  }

  private static int crc(byte[] bytes, int off, int len) {
    CRC32C c = new CRC32C();
    c.update(bytes, off, len);
    return (int) c.getValue();
  }
}
