package dev.gitops.ansible.internal;

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
