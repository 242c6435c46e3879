package dev.gitops.core.internal.fs;

import dev.gitops.api.Documents;
import dev.gitops.api.ResourceKey;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

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
      byte[] hash = Documents.sha256().digest(text.getBytes(StandardCharsets.UTF_8));
      String cut = sb.substring(0, KEEP);
      // '~' never appears in an encoded name, so a shortened name cannot equal a full one
      return cut + "~" + HexFormat.of().formatHex(hash, 0, 10) + SUFFIX;
    }
    return sb + SUFFIX;
  }
}
