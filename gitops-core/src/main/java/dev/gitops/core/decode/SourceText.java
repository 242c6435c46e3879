package dev.gitops.core.decode;

/**
 * Line numbers and encodings of a file's text, the way errors name them: a line ends at LF, at
 * CRLF (one line end) or at a lone CR, as an editor shows the file and as SnakeYAML counts.
 */
final class SourceText {

  private SourceText() {}

  /** Whether the character at {@code k} ends a line: LF, or a CR not followed by LF. */
  static boolean endsLine(CharSequence text, int k) {
    char c = text.charAt(k);
    return c == '\n' || (c == '\r' && (k + 1 == text.length() || text.charAt(k + 1) != '\n'));
  }

  /** The 1-based line of the character at {@code index} of {@code text}. */
  static int lineAt(CharSequence text, int index) {
    int line = 1;
    for (int k = 0; k < index && k < text.length(); k++) {
      if (endsLine(text, k)) {
        line++;
      }
    }
    return line;
  }

  /** The 1-based line of the byte at {@code offset} of {@code bytes} (an ASCII-compatible encoding). */
  static int lineAt(byte[] bytes, int offset) {
    int line = 1;
    for (int k = 0; k < offset && k < bytes.length; k++) {
      if (bytes[k] == '\n' || (bytes[k] == '\r' && (k + 1 == bytes.length || bytes[k + 1] != '\n'))) {
        line++;
      }
    }
    return line;
  }

  /**
   * What a file that is UTF-16 (or UTF-32) looks like, or null when it does not look like one: a
   * byte order mark, or text whose first characters are ASCII each with a NUL byte beside it. Such
   * a file is not UTF-8 (or, without a mark, is UTF-8 full of NUL characters), and an editor shows
   * it as ordinary text: the error says what it is.
   */
  static String utf16(byte[] b) {
    if (startsWith(b, 0x00, 0x00, 0xFE, 0xFF)) {
      return "UTF-32BE (it starts with a byte order mark)";
    }
    if (startsWith(b, 0xFF, 0xFE, 0x00, 0x00)) {
      return "UTF-32LE (it starts with a byte order mark)";
    }
    if (startsWith(b, 0xFE, 0xFF)) {
      return "UTF-16BE (it starts with a byte order mark)";
    }
    if (startsWith(b, 0xFF, 0xFE)) {
      return "UTF-16LE (it starts with a byte order mark)";
    }
    int n = Math.min(b.length, 64) & ~1;
    if (n < 2) {
      return null;
    }
    boolean le = true;
    boolean be = true;
    for (int k = 0; k < n; k += 2) {
      le &= b[k] != 0 && b[k + 1] == 0;
      be &= b[k] == 0 && b[k + 1] != 0;
    }
    return le ? "UTF-16LE (every other byte is NUL)" : be ? "UTF-16BE (every other byte is NUL)" : null;
  }

  /** The message for a file {@link #utf16} recognizes. */
  static String utf16Message(String what) {
    String encoding = what.substring(0, what.indexOf(' '));
    return "the file is " + what + ", not UTF-8: save it as UTF-8 (in most editors 'Save with Encoding', or"
        + " iconv -f " + encoding + " -t UTF-8)";
  }

  private static boolean startsWith(byte[] b, int... prefix) {
    if (b.length < prefix.length) {
      return false;
    }
    for (int k = 0; k < prefix.length; k++) {
      if ((b[k] & 0xFF) != prefix[k]) {
        return false;
      }
    }
    return true;
  }
}
