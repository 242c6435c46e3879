package dev.gitops.ansible.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Host names the provider hands to {@code ansible-playbook --limit}: refused when Ansible could
 * read them as anything but one host (an option, a pattern, a list). A colon is no such character:
 * the names go to Ansible through a limit file, one per line, whose lines are not split (only the
 * {@code --limit} argument is, at commas and colons) and are matched against the host names before
 * any pattern, so an IPv6 address ({@code 2001:db8::1}, {@code ::1} from {@code [::1]:2222}) is
 * limited as the one host it names; written back into the managed inventory it is read as the same
 * host, Ansible's {@code parse_address} taking no port from an IPv6 address without brackets.
 */
public final class HostNames {

  /**
   * White space is Unicode's (a no-break space too): Ansible strips the lines of a limit file as
   * Python's {@code str.strip()} does, so "h1" and a no-break space (U+00A0) was limited as "h1"
   * and never ran.
   */
  private static final Pattern BAD = Pattern.compile("^[-~@&!]|[*?\\[\\],\\p{IsWhite_Space}\\p{Cntrl}]");

  private HostNames() {}

  /**
   * {@code text}, a host name or an address, as one machine's address compares: lower case, and an
   * IPv6 address (with or without brackets, a zone {@code %eth0} kept) in its canonical text (RFC
   * 5952: {@code 2001:db8::5} for {@code 2001:0DB8:0:0::5} and {@code [2001:db8:0:0:0:0:0:5]}, and
   * {@code ::ffff:a00:5} for {@code ::ffff:10.0.0.5}), since one address has many texts. Parsed
   * here, never looked up (no DNS).
   *
   * <pre>{@code
   * HostNames.address("2001:0DB8:0:0::5");  // "2001:db8::5"
   * HostNames.address("Web01.example.com");  // "web01.example.com"
   * }</pre>
   */
  public static String address(String text) {
    String lower = text.strip().toLowerCase(java.util.Locale.ROOT);
    String ip = unbracketed(lower);
    int percent = ip.indexOf('%');
    String zone = percent < 0 ? "" : ip.substring(percent);
    int[] groups = ipv6(percent < 0 ? ip : ip.substring(0, percent));
    if (groups == null) {
      return lower;
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
    return sb + zone;
  }

  /** Whether {@code text} is an IPv6 address (see {@link #address}). */
  public static boolean isIpv6(String text) {
    String ip = unbracketed(text.strip().toLowerCase(java.util.Locale.ROOT));
    int percent = ip.indexOf('%');
    return ipv6(percent < 0 ? ip : ip.substring(0, percent)) != null;
  }

  private static String unbracketed(String text) {
    return text.length() > 2 && text.startsWith("[") && text.endsWith("]")
        ? text.substring(1, text.length() - 1) : text;
  }

  /** The eight 16-bit groups of an IPv6 address's text (a dotted IPv4 tail allowed), or null when it is none. */
  private static int[] ipv6(String text) {
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
        int[] b = java.util.Arrays.stream(part.split("\\.")).mapToInt(Integer::parseInt).toArray();
        if (java.util.Arrays.stream(b).anyMatch(x -> x > 255)) {
          return null;
        }
        out.add(b[0] << 8 | b[1]);
        out.add(b[2] << 8 | b[3]);
      } else if (part.isEmpty() || part.length() > 4 || part.contains(".")) {
        return null;
      } else {
        out.add(Integer.parseInt(part, 16));
      }
    }
    return out;
  }

  /** Why {@code name} is refused, or null when it is fine. */
  public static String problem(String name) {
    if (name.isEmpty()) {
      return "host name is empty";
    }
    if (name.startsWith("-")) {
      return "host name '" + name + "' starts with '-' and could be read as an option";
    }
    if (BAD.matcher(name).find()) {
      return "host name '" + name + "' holds a character that Ansible's host patterns give a meaning"
          + " (~ @ & ! at the start, or * ? [ ] , white space or control characters)";
    }
    return null;
  }
}
