package dev.gitops.images.marker;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;

/**
 * What one pass over a file's bytes tells before it is parsed: the encoding its first bytes name
 * (as YAML 1.2 reads them: a byte order mark, else where the zero bytes of an ASCII first character
 * are), whether the file mentions {@value MarkedYaml#MARKER_FIELD} in that encoding, and whether
 * it is UTF-8 text, the only encoding markers are read in. A UTF-16 or UTF-32 file (with a byte
 * order mark or without) is no UTF-8 text, so its markers are never half-read: it is named as one,
 * whether it holds a marker ({@link #mentionsMarkers()}: an unusable file) or not ({@link
 * #notUtf8()}: a file no marker is read in).
 *
 * <pre>{@code
 * MarkerScan scan = MarkerScan.of(bytes);
 * if (scan.mentionsMarkers()) {
 *   MarkedYaml yaml = MarkedYaml.parse("apps/web.yaml", bytes);  // a MarkerException naming the encoding when not UTF-8
 * } else {
 *   scan.notUtf8().ifPresent(why -> log.warn("apps/web.yaml: {}; no marker is read in it", why));
 * }
 * }</pre>
 *
 * <p>The bytes are read once, in chunks, never held whole ({@link #of(InputStream)}).
 */
public final class MarkerScan {

  private static final Charset UTF_32BE = Charset.forName("UTF-32BE");
  private static final Charset UTF_32LE = Charset.forName("UTF-32LE");
  private static final int CHUNK = 64 * 1024;

  private final Charset encoding;
  private final boolean bom;
  private final boolean mentionsMarkers;
  private final String notUtf8;

  private MarkerScan(Charset encoding, boolean bom, boolean mentionsMarkers, String notUtf8) {
    this.encoding = encoding;
    this.bom = bom;
    this.mentionsMarkers = mentionsMarkers;
    this.notUtf8 = notUtf8;
  }

  /** Scans {@code content}. */
  public static MarkerScan of(byte[] content) {
    Objects.requireNonNull(content, "content");
    Scanner s = new Scanner(content, content.length);
    s.feed(content, 0, content.length);
    return s.finish();
  }

  /** Scans {@code in} to its end in chunks (a file too large to hold); the stream is not closed. */
  public static MarkerScan of(InputStream in) throws IOException {
    byte[] buf = new byte[CHUNK];
    int n = in.readNBytes(buf, 0, buf.length);  // a full first chunk: the encoding is read from its first bytes
    Scanner s = new Scanner(buf, n);
    while (n > 0) {
      s.feed(buf, 0, n);
      n = in.readNBytes(buf, 0, buf.length);
    }
    return s.finish();
  }

  /** The encoding the file's first bytes name: UTF-8 unless a byte order mark or zero bytes name UTF-16 or UTF-32. */
  public Charset encoding() {
    return encoding;
  }

  /** Whether the file starts with a byte order mark (of UTF-8, UTF-16 or UTF-32). */
  public boolean byteOrderMark() {
    return bom;
  }

  /** Whether the file mentions {@value MarkedYaml#MARKER_FIELD} in its {@linkplain #encoding() encoding}. */
  public boolean mentionsMarkers() {
    return mentionsMarkers;
  }

  /**
   * Why the file is no UTF-8 text markers can be read in ({@code UTF-16LE text (it starts with a
   * byte order mark), not UTF-8 …}, {@code not UTF-8 text: byte 0xe9 on line 3 (offset 40) is no
   * UTF-8 sequence …}), or empty when it is UTF-8 (with or without a byte order mark).
   */
  public Optional<String> notUtf8() {
    return Optional.ofNullable(notUtf8);
  }

  /** An encoding read from a stream's first bytes, and the length of its byte order mark (0 when none). */
  private record Detected(Charset encoding, int bomLength) {}

  /** The encoding YAML 1.2 (5.2) reads from a stream's first bytes. */
  private static Detected detect(byte[] b, int n) {
    int b0 = n > 0 ? b[0] & 0xff : -1;
    int b1 = n > 1 ? b[1] & 0xff : -1;
    int b2 = n > 2 ? b[2] & 0xff : -1;
    int b3 = n > 3 ? b[3] & 0xff : -1;
    if (b0 == 0 && b1 == 0 && b2 == 0xfe && b3 == 0xff) {
      return new Detected(UTF_32BE, 4);
    }
    if (b0 == 0 && b1 == 0 && b2 == 0 && b3 > 0) {
      return new Detected(UTF_32BE, 0);
    }
    if (b0 == 0xff && b1 == 0xfe && b2 == 0 && b3 == 0) {
      return new Detected(UTF_32LE, 4);
    }
    if (b0 > 0 && b1 == 0 && b2 == 0 && b3 == 0) {
      return new Detected(UTF_32LE, 0);
    }
    if (b0 == 0xfe && b1 == 0xff) {
      return new Detected(StandardCharsets.UTF_16BE, 2);
    }
    if (b0 == 0 && b1 > 0) {
      return new Detected(StandardCharsets.UTF_16BE, 0);
    }
    if (b0 == 0xff && b1 == 0xfe) {
      return new Detected(StandardCharsets.UTF_16LE, 2);
    }
    if (b0 > 0 && b1 == 0) {
      return new Detected(StandardCharsets.UTF_16LE, 0);
    }
    if (b0 == 0xef && b1 == 0xbb && b2 == 0xbf) {
      return new Detected(StandardCharsets.UTF_8, 3);
    }
    return new Detected(StandardCharsets.UTF_8, 0);
  }

  /** One pass: the marker field in the file's encoding (a KMP automaton) and, for UTF-8, a strict validation. */
  private static final class Scanner {
    private final Charset encoding;
    private final int bomLength;
    private final byte[] needle;
    private final int[] fail;
    private int matched;
    private boolean found;
    // UTF-8 validation: continuation bytes still needed, and the range the next one must be in
    private int need;
    private int lo = 0x80;
    private int hi = 0xbf;
    private long offset;
    private long line = 1;
    private String invalid;

    Scanner(byte[] head, int n) {
      Detected d = detect(head, n);
      encoding = d.encoding();
      bomLength = d.bomLength();
      needle = MarkedYaml.MARKER_FIELD.getBytes(encoding);
      fail = new int[needle.length];
      for (int i = 1, k = 0; i < needle.length; i++) {
        while (k > 0 && needle[i] != needle[k]) {
          k = fail[k - 1];
        }
        if (needle[i] == needle[k]) {
          k++;
        }
        fail[i] = k;
      }
    }

    void feed(byte[] b, int off, int len) {
      boolean utf8 = encoding == StandardCharsets.UTF_8;
      for (int i = off; i < off + len; i++) {
        byte x = b[i];
        if (!found) {
          while (matched > 0 && x != needle[matched]) {
            matched = fail[matched - 1];
          }
          if (x == needle[matched] && ++matched == needle.length) {
            found = true;
          }
        }
        if (utf8 && invalid == null) {
          validate(x & 0xff);
        }
        if (found && (!utf8 || invalid != null)) {
          return;  // nothing more to learn
        }
        offset++;
      }
    }

    private void validate(int c) {
      if (need == 0) {
        if (c == '\n') {
          line++;
        }
        if (c < 0x80) {
          return;
        }
        if (c >= 0xc2 && c <= 0xdf) {
          need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
          need = 2;
          lo = c == 0xe0 ? 0xa0 : 0x80;
          hi = c == 0xed ? 0x9f : 0xbf;  // no surrogates
        } else if (c >= 0xf0 && c <= 0xf4) {
          need = 3;
          lo = c == 0xf0 ? 0x90 : 0x80;
          hi = c == 0xf4 ? 0x8f : 0xbf;  // nothing above U+10FFFF
        } else {
          invalid = bad(c);
        }
        return;
      }
      if (c < lo || c > hi) {
        invalid = bad(c);
        return;
      }
      need--;
      lo = 0x80;
      hi = 0xbf;
    }

    private String bad(int c) {
      return String.format("not UTF-8 text: byte 0x%02x on line %d (offset %d) is no UTF-8 sequence (Latin-1, or"
          + " another 8-bit encoding?)", c, line, offset);
    }

    MarkerScan finish() {
      String why;
      if (encoding != StandardCharsets.UTF_8) {
        why = encoding.name() + " text (" + (bomLength > 0 ? "it starts with a byte order mark" : "no byte order"
            + " mark, but its first character's other bytes are NUL") + "), not UTF-8 (iconv -f " + encoding.name()
            + " -t UTF-8 converts it)";
      } else if (invalid != null) {
        why = invalid;
      } else if (need > 0) {
        why = "not UTF-8 text: it ends inside a UTF-8 sequence (line " + line + ")";
      } else {
        why = null;
      }
      return new MarkerScan(encoding, bomLength > 0, found, why);
    }
  }
}
