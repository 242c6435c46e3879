package dev.gitops.ansible.internal;

import java.util.regex.Pattern;

/**
 * Host names the provider hands to {@code ansible-playbook --limit}: refused when Ansible could
 * read them as anything but one host (an option, a pattern, a list).
 */
public final class HostNames {

  private static final Pattern BAD = Pattern.compile("^[-~@&!]|[*?\\[\\],:\\s\\p{Cntrl}]");

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
          + " (~ @ & ! at the start, or * ? [ ] , : white space or control characters)";
    }
    return null;
  }
}
