package dev.gitops.core.internal.fs;

import dev.gitops.api.ResourceKey;
import dev.gitops.api.internal.Sha256;
import java.nio.charset.StandardCharsets;

/**
 * File names for resource keys (and other text such as relative paths): the canonical key with
 * every byte outside {@code [a-z0-9._-]} percent-encoded (so upper case stays distinct on case-insensitive file systems and no name
 * starts with a dot), cut short with a hash of the key when too long. The key stored inside the
 * file is authoritative; the name only has to be unique and deterministic.
 */
public final class KeyFileNames {

  /** The suffix of every name. */
  public static final String SUFFIX = ".json";
  private static final int MAX = 180;
  private static final int KEEP = 140;

  private KeyFileNames() {}

  /** The file name (with suffix) of {@code key}. */
  public static String of(ResourceKey key) {
    return of(key.toString());
  }

  /** The file name (with suffix) of any {@code text}, by the same encoding. */
  public static String of(String text) {
    StringBuilder sb = new StringBuilder(text.length() + 16);
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
          || (c == '.' && sb.length() > 0)) {
        sb.append((char) c);
      } else {
        sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    if (sb.length() > MAX) {
      String cut = sb.substring(0, KEEP);
      // '~' never appears in an encoded name, so a shortened name cannot equal a full one
      return cut + "~" + Sha256.hex(text).substring(0, 20) + SUFFIX;
    }
    return sb + SUFFIX;
  }

  /**
   * The text {@code name} is the whole encoding of, or null when it is a shortened name (the text
   * is then only in the file) or not a name {@link #of(String)} gives.
   *
   * <pre>{@code
   * String path = KeyFileNames.textOf("conf%2Fa.conf.json");  // "conf/a.conf"
   * }</pre>
   */
  public static String textOf(String name) {
    if (!name.endsWith(SUFFIX) || name.indexOf('~') >= 0) {
      return null;
    }
    int end = name.length() - SUFFIX.length();
    byte[] bytes = new byte[end];
    int n = 0;
    for (int i = 0; i < end; i++) {
      char c = name.charAt(i);
      if (c == '%') {
        if (i + 2 >= end) {
          return null;
        }
        int hi = Character.digit(name.charAt(i + 1), 16);
        int lo = Character.digit(name.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          return null;
        }
        bytes[n++] = (byte) (hi << 4 | lo);
        i += 2;
      } else if (c < 0x80) {
        bytes[n++] = (byte) c;
      } else {
        return null;
      }
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes, 0, n)).toString();
    } catch (java.nio.charset.CharacterCodingException e) {
      return null;  // not UTF-8: no text encodes to it
    }
    // one name per text: anything of() would have written otherwise (lower-case hex, a character
    // left unencoded, a leading dot) is not its name
    return of(text).equals(name) ? text : null;
  }
}
