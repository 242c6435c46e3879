package dev.gitops.core.internal.net;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * IPv6 addresses as text: read without a name look-up, and written in their canonical text (RFC
 * 5952: lower case, no leading zeros, the longest run of two or more zero groups as {@code ::}),
 * as OpenSSH writes them in {@code known_hosts} and {@code ssh-keyscan} prints them. One address
 * has many texts ({@code 2001:0DB8:0:0::5}, {@code 2001:db8:0:0:0:0:0:5}); compared in this one,
 * it is one address.
 *
 * <pre>{@code
 * int[] groups = Ipv6Text.parse("2001:0db8:0:0::5");  // {0x2001, 0xdb8, 0, 0, 0, 0, 0, 5}
 * String text = Ipv6Text.canonical(groups);            // "2001:db8::5"
 * }</pre>
 */
public final class Ipv6Text {

  private Ipv6Text() {}

  /**
   * The eight 16-bit groups of the IPv6 address {@code text} (lower-case hex digits, at most one
   * {@code ::}, a dotted IPv4 tail allowed; no brackets, no zone), or null when it is none.
   */
  public static int[] parse(String text) {
    if (!text.matches("[0-9a-f:.]+") || !text.contains(":")) {
      return null;
    }
    int gap = text.indexOf("::");
    if (gap >= 0 && text.indexOf("::", gap + 1) >= 0) {
      return null;
    }
    List<Integer> head = groups(gap < 0 ? text : text.substring(0, gap), gap < 0);
    List<Integer> tail = gap < 0 ? List.of() : groups(text.substring(gap + 2), true);
    if (head == null || tail == null) {
      return null;
    }
    int given = head.size() + tail.size();
    if (gap < 0 ? given != 8 : given > 7) {
      return null;
    }
    int[] out = new int[8];
    for (int i = 0; i < head.size(); i++) {
      out[i] = head.get(i);
    }
    for (int i = 0; i < tail.size(); i++) {
      out[8 - tail.size() + i] = tail.get(i);
    }
    return out;
  }

  /** The eight groups of a 16-byte address ({@link java.net.Inet6Address#getAddress()}). */
  public static int[] groups(byte[] address) {
    if (address.length != 16) {
      throw new IllegalArgumentException("an IPv6 address has 16 bytes, not " + address.length);
    }
    int[] groups = new int[8];
    for (int i = 0; i < 8; i++) {
      groups[i] = ((address[2 * i] & 0xff) << 8) | (address[2 * i + 1] & 0xff);
    }
    return groups;
  }

  /** The canonical text (RFC 5952) of the address of eight 16-bit {@code groups}. */
  public static String canonical(int[] groups) {
    if (groups.length != 8) {
      throw new IllegalArgumentException("an IPv6 address has 8 groups, not " + groups.length);
    }
    // the longest run of two or more zero groups (the first of equal ones) becomes "::"
    int bestAt = -1;
    int bestLength = 1;
    for (int i = 0; i < 8; ) {
      int j = i;
      while (j < 8 && groups[j] == 0) {
        j++;
      }
      if (j - i > bestLength) {
        bestAt = i;
        bestLength = j - i;
      }
      i = j == i ? i + 1 : j;
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      if (i == bestAt) {
        sb.append("::");
        i += bestLength - 1;
        continue;
      }
      if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
        sb.append(':');
      }
      sb.append(Integer.toHexString(groups[i]));
    }
    return sb.toString();
  }

  /** The groups of one side of "::" (empty text: none); a dotted IPv4 address only last, when {@code last}. */
  private static List<Integer> groups(String text, boolean last) {
    List<Integer> out = new ArrayList<>();
    if (text.isEmpty()) {
      return out;
    }
    String[] parts = text.split(":", -1);
    for (int i = 0; i < parts.length; i++) {
      String part = parts[i];
      if (part.contains(".")) {
        if (!last || i != parts.length - 1 || !part.matches("(\\d{1,3}\\.){3}\\d{1,3}")) {
          return null;
        }
        int[] b = Arrays.stream(part.split("\\.")).mapToInt(Integer::parseInt).toArray();
        if (Arrays.stream(b).anyMatch(x -> x > 255)) {
          return null;
        }
        out.add(b[0] << 8 | b[1]);
        out.add(b[2] << 8 | b[3]);
      } else if (part.isEmpty() || part.length() > 4) {
        return null;
      } else {
        out.add(Integer.parseInt(part, 16));
      }
    }
    return out;
  }
}
