package dev.gitops.core.files;

import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/** POSIX permission bits as the octal text documents carry ({@code "0644"}). */
final class Modes {
  private static final PosixFilePermission[] BITS = {
    PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
    PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
    PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ,
  };

  private Modes() {}

  /**
   * Parses three or four octal digits with permission bits only ({@code 0000}..{@code 0777});
   * setuid, setgid and sticky bits are refused because Java cannot set them portably.
   *
   * @throws IllegalArgumentException naming the text
   */
  static int parse(String text) {
    if (!octal(text)) {
      throw new IllegalArgumentException("mode must be 3 or 4 octal digits like \"0644\", got "
          + (text == null ? "null" : "\"" + text + "\""));
    }
    int bits = Integer.parseInt(text, 8);
    if (bits > 0777) {
      throw new IllegalArgumentException("mode " + text + " has setuid/setgid/sticky bits, which are not supported");
    }
    return bits;
  }

  /** Whether {@code text} is 3 or 4 octal digits (a loop, not a regex: every written file's mode is parsed). */
  private static boolean octal(String text) {
    if (text == null || text.length() < 3 || text.length() > 4) {
      return false;
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '7') {
        return false;
      }
    }
    return true;
  }

  /**
   * The canonical four-digit form; a live file's setuid, setgid and sticky bits are its first digit
   * ({@code "4755"}), so a mode set by hand with them differs from every desired one.
   */
  static String format(int bits) {
    int b = bits & 07777;
    // what String.format("%04o") gives, without a Formatter per call (every observed file's token has one)
    return new String(new char[] {(char) ('0' + (b >> 9)), (char) ('0' + ((b >> 6) & 7)),
        (char) ('0' + ((b >> 3) & 7)), (char) ('0' + (b & 7))});
  }

  /** The canonical four-digit form of {@code text}. */
  static String canonical(String text) {
    return format(parse(text));
  }

  /**
   * {@code text} with an execute bit wherever it has a read bit: the mode of a file Git marks
   * executable (mode 100755), so {@code 0644} gives {@code 0755} and {@code 0640} gives {@code 0750}.
   */
  static String executable(String text) {
    int bits = parse(text);
    return format(bits | ((bits & 0444) >> 2));
  }

  static Set<PosixFilePermission> toPermissions(int bits) {
    Set<PosixFilePermission> out = EnumSet.noneOf(PosixFilePermission.class);
    for (int i = 0; i < BITS.length; i++) {
      if ((bits & (1 << i)) != 0) {
        out.add(BITS[i]);
      }
    }
    return out;
  }

  static int fromPermissions(Set<PosixFilePermission> perms) {
    int bits = 0;
    for (int i = 0; i < BITS.length; i++) {
      if (perms.contains(BITS[i])) {
        bits |= 1 << i;
      }
    }
    return bits;
  }
}
