package dev.gitops.core.store;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * The text of a store's no-change digests file: a header line, the serial and the fingerprint of
 * the marker the digests belong to, the count, one {@code <sha256 hex> <key>} line per key, and a
 * last line {@code crc32c <hex>} over every byte before it. Keys are the text of a {@code
 * ResourceKey}, which holds no line break.
 */
final class NoChangeDigests {

  private NoChangeDigests() {}

  /** Content that is not a digests file of the expected serial and fingerprint. */
  static final class BadDigestsException extends Exception {
    BadDigestsException(String message) {
      super(message);
    }
  }

  /** The file's bytes. */
  static byte[] bytes(String header, long serial, String fingerprint, Map<String, String> digests) {
    StringBuilder sb = new StringBuilder(64 + digests.size() * 112);
    sb.append(header).append('\n').append(serial).append('\n').append(fingerprint).append('\n')
        .append(digests.size()).append('\n');
    digests.forEach((key, digest) -> {
      if (key.indexOf('\n') >= 0 || digest.indexOf(' ') >= 0 || digest.indexOf('\n') >= 0) {
        throw new IllegalArgumentException("a key or digest with a line break or a blank: " + key);
      }
      sb.append(digest).append(' ').append(key).append('\n');
    });
    byte[] body = sb.toString().getBytes(StandardCharsets.UTF_8);
    byte[] tail = ("crc32c " + Long.toHexString(crc(body, body.length)) + "\n").getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[body.length + tail.length];
    System.arraycopy(body, 0, out, 0, body.length);
    System.arraycopy(tail, 0, out, body.length, tail.length);
    return out;
  }

  /** The digests by key text, when {@code bytes} are a whole file of {@code serial} and {@code fingerprint}. */
  static Map<String, String> parse(byte[] bytes, String header, long serial, String fingerprint)
      throws BadDigestsException {
    int end = bytes.length - 1;
    if (end < 0 || bytes[end] != '\n') {
      throw new BadDigestsException("cut short");
    }
    int last = end - 1;
    while (last >= 0 && bytes[last] != '\n') {
      last--;
    }
    String tail = new String(bytes, last + 1, end - last - 1, StandardCharsets.UTF_8);
    if (!tail.equals("crc32c " + Long.toHexString(crc(bytes, last + 1)))) {
      throw new BadDigestsException("checksum mismatch");
    }
    String[] lines = new String(bytes, 0, last + 1, StandardCharsets.UTF_8).split("\n", -1);
    if (lines.length < 5 || !lines[0].equals(header)) {
      throw new BadDigestsException("not a digests file of this format");
    }
    if (!lines[1].equals(Long.toString(serial)) || !lines[2].equals(fingerprint)) {
      return Map.of();  // another marker's: stale, not bad
    }
    int count;
    try {
      count = Integer.parseInt(lines[3]);
    } catch (NumberFormatException e) {
      throw new BadDigestsException("bad count " + lines[3]);
    }
    // lines: header, serial, fingerprint, count, the entries, and "" after the last line break
    if (count < 0 || lines.length != count + 5) {
      throw new BadDigestsException("count " + count + " but " + (lines.length - 5) + " entries");
    }
    Map<String, String> out = new HashMap<>(count * 4 / 3 + 1);
    for (int i = 4; i < 4 + count; i++) {
      int blank = lines[i].indexOf(' ');
      if (blank <= 0) {
        throw new BadDigestsException("bad entry on line " + (i + 1));
      }
      out.put(lines[i].substring(blank + 1), lines[i].substring(0, blank));
    }
    return out;
  }

  private static long crc(byte[] bytes, int length) {
    CRC32C c = new CRC32C();
    c.update(bytes, 0, length);
    return c.getValue();
  }
}
