package dev.gitops.api.internal;

import dev.gitops.api.Documents;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Internal, no compatibility promise: the SHA-256 of some bytes or of a text's UTF-8 bytes, as 64
 * lower-case hex digits, for the modules that name or check something by its digest (a cache
 * directory, a Lease, a Secret's digest annotation, a variable file's content), in place of a copy
 * of the digest look-up and hex formatting in each. For example, {@code Sha256.hex("abc")} is
 * {@code "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}; a shorter name takes
 * a prefix of it ({@code Sha256.hex(url).substring(0, 24)}).
 */
public final class Sha256 {
  private Sha256() {}

  /** The SHA-256 of {@code bytes}, as 64 lower-case hex digits. */
  public static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(Documents.sha256().digest(bytes));
  }

  /**
   * The SHA-256 of what {@code in} holds from where it is to its end, read in blocks (a key file, a
   * key ring), as 64 lower-case hex digits; {@code in} is not closed.
   *
   * @throws IOException when {@code in} cannot be read
   */
  public static String hex(InputStream in) throws IOException {
    MessageDigest sha256 = Documents.sha256();
    byte[] buffer = new byte[8192];
    for (int n; (n = in.read(buffer)) > 0; ) {
      sha256.update(buffer, 0, n);
    }
    return HexFormat.of().formatHex(sha256.digest());
  }

  /** The SHA-256 of the UTF-8 bytes of {@code text}, as 64 lower-case hex digits. */
  public static String hex(String text) {
    return hex(text.getBytes(StandardCharsets.UTF_8));
  }
}
