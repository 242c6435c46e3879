package dev.gitops.core.store;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * The text of a store's no-change digests file: a header line, the serial and the fingerprint of
 * the marker the digests belong to, the count, one {@code <sha256 hex> <key>} line per key, and a
 * last line {@code crc32c <hex>} over every byte before it. Keys are the text of a {@code
 * ResourceKey}, written with a backslash as {@code \\} and a line break as {@code \n} (a
 * file's name may hold one, and so its key). A file written before keys were escaped reads the
 * same unless a key held {@code \\} or {@code \n} as text: that key's digest is then missed,
 * and the sync digests its document itself, as for any key the file does not hold.
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
      if (digest.isEmpty() || digest.indexOf(' ') >= 0 || digest.indexOf('\n') >= 0) {
        throw new IllegalArgumentException("a digest that is empty or holds a line break or a blank, of key "
            + escaped(key));
      }
      sb.append(digest).append(' ').append(escaped(key)).append('\n');
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
    // the lines are read where they lie, without one String of the whole file and one per line
    int[] at = {0};
    String head = line(bytes, at, last + 1);
    String serialLine = line(bytes, at, last + 1);
    String fingerprintLine = line(bytes, at, last + 1);
    String countLine = line(bytes, at, last + 1);
    if (countLine == null || !head.equals(header)) {
      throw new BadDigestsException("not a digests file of this format");
    }
    if (!serialLine.equals(Long.toString(serial)) || !fingerprintLine.equals(fingerprint)) {
      return Map.of();  // another marker's: stale, not bad
    }
    int count;
    try {
      count = Integer.parseInt(countLine);
    } catch (NumberFormatException e) {
      throw new BadDigestsException("bad count " + countLine);
    }
    if (count < 0) {
      throw new BadDigestsException("bad count " + countLine);
    }
    Map<String, String> out = new HashMap<>(count * 4 / 3 + 1);
    for (int i = 0; i < count; i++) {
      int from = at[0];
      int blank = from;
      while (blank <= last && bytes[blank] != ' ' && bytes[blank] != '\n') {
        blank++;
      }
      int eol = blank;
      while (eol <= last && bytes[eol] != '\n') {
        eol++;
      }
      if (blank == from || blank > last || bytes[blank] != ' ' || eol > last) {
        throw new BadDigestsException("bad entry " + (i + 1) + " of " + count);
      }
      out.put(unescaped(new String(bytes, blank + 1, eol - blank - 1, StandardCharsets.UTF_8)),
          new String(bytes, from, blank - from, StandardCharsets.ISO_8859_1));
      at[0] = eol + 1;
    }
    if (at[0] != last + 1) {
      throw new BadDigestsException("count " + count + " but more entries");
    }
    return out;
  }

  /** {@code key} on one line: a backslash doubled, a line break as backslash and {@code n}. */
  static String escaped(String key) {
    if (key.indexOf('\\') < 0 && key.indexOf('\n') < 0) {
      return key;
    }
    return key.replace("\\", "\\\\").replace("\n", "\\n");
  }

  /** The key {@link #escaped} wrote; a backslash before another character stays as it is. */
  static String unescaped(String text) {
    if (text.indexOf('\\') < 0) {
      return text;
    }
    StringBuilder sb = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\\' && i + 1 < text.length() && (text.charAt(i + 1) == '\\' || text.charAt(i + 1) == 'n')) {
        sb.append(text.charAt(++i) == 'n' ? '\n' : '\\');
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  /** The line from {@code at[0]} up to its line break (before {@code end}), moving {@code at[0]} past it; null at the end. */
  private static String line(byte[] bytes, int[] at, int end) {
    int from = at[0];
    int eol = from;
    while (eol < end && bytes[eol] != '\n') {
      eol++;
    }
    if (eol >= end) {
      return null;
    }
    at[0] = eol + 1;
    return new String(bytes, from, eol - from, StandardCharsets.UTF_8);
  }

  private static long crc(byte[] bytes, int length) {
    CRC32C c = new CRC32C();
    c.update(bytes, 0, length);
    return c.getValue();
  }
}
