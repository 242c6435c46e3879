package dev.gitops.ansible.internal;

import dev.gitops.core.internal.net.Ipv6Text;
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
    int[] groups = Ipv6Text.parse(percent < 0 ? ip : ip.substring(0, percent));
    return groups == null ? lower : Ipv6Text.canonical(groups) + zone;
  }

  /** Whether {@code text} is an IPv6 address (see {@link #address}). */
  public static boolean isIpv6(String text) {
    String ip = unbracketed(text.strip().toLowerCase(java.util.Locale.ROOT));
    int percent = ip.indexOf('%');
    return Ipv6Text.parse(percent < 0 ? ip : ip.substring(0, percent)) != null;
  }

  private static String unbracketed(String text) {
    return text.length() > 2 && text.startsWith("[") && text.endsWith("]")
        ? text.substring(1, text.length() - 1) : text;
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
