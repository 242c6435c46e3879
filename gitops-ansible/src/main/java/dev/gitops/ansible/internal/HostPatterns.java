package dev.gitops.ansible.internal;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Ansible's host patterns of inventory files: {@code host:port}, {@code [v6::addr]:port} and
 * ranges such as {@code web[01:10].example.com}, {@code db-[a:c]} and {@code n[1:9:2]}, ported
 * from {@code ansible.parsing.utils.addresses} and {@code expand_hostname_range} so that the same
 * pattern expands to the same names in the same order.
 */
public final class HostPatterns {

  private static final String NUMERIC_RANGE = "\\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\\]";
  private static final String HEX_RANGE = "\\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\\]";
  private static final String ALNUM_RANGE = "\\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\\]";
  private static final String V6 = "(?:[0-9a-f]{1,4}|" + HEX_RANGE + ")";
  private static final String V4 = "(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|" + NUMERIC_RANGE + ")";
  private static final String LABEL = "(?:[\\w]|" + ALNUM_RANGE + ")(?:[\\w_-]|" + ALNUM_RANGE + ")*(?<![_-])";

  private static final Pattern BRACKETED_HOSTPORT = Pattern.compile("^\\[(.+)\\]:([0-9]+)$");
  private static final Pattern HOSTPORT = Pattern.compile("^((?:[^:\\[\\]]|\\[[^\\]]*\\])*):([0-9]+)$");
  private static final Pattern IPV4 = Pattern.compile("^(?:" + V4 + "\\.){3}" + V4 + "$", Pattern.CASE_INSENSITIVE);
  // As in Ansible, ^ binds the first alternative and $ the last only; the matcher looks at the start.
  private static final Pattern IPV6 = Pattern.compile(String.join("|",
      "^(?:" + V6 + ":){7}" + V6,
      "(?:" + V6 + ":){1,6}:",
      "(?:" + V6 + ":)(?::" + V6 + "){1,6}",
      "(?:" + V6 + ":){2}(?::" + V6 + "){1,5}",
      "(?:" + V6 + ":){3}(?::" + V6 + "){1,4}",
      "(?:" + V6 + ":){4}(?::" + V6 + "){1,3}",
      "(?:" + V6 + ":){5}(?::" + V6 + "){1,2}",
      "(?:" + V6 + ":){6}(?::" + V6 + ")",
      ":(?::" + V6 + "){1,6}",
      V6 + "?::",
      "(?:0:){6}(?:" + V6 + "\\.){3}" + V6,
      "::(?:ffff:)?(?:" + V6 + "\\.){3}" + V6,
      "(?:0:){5}ffff:(?:" + V6 + "\\.){3}" + V6 + "$"), Pattern.CASE_INSENSITIVE);
  private static final Pattern HOSTNAME = Pattern.compile("^" + LABEL + "(?:\\." + LABEL + ")*$",
      Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.UNICODE_CHARACTER_CLASS);

  /** The most names one host pattern expands to, its ranges nested or not. */
  private static final int MAX_HOSTS = 1_000_000;

  private static final String ASCII_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

  /** Hosts a pattern stands for, and the port it gave them (null for none). */
  public record Expanded(List<String> hosts, BigInteger port) {}

  private HostPatterns() {}

  /**
   * Expands {@code pattern} as {@code BaseInventoryPlugin._expand_hostpattern} does.
   *
   * @throws IllegalArgumentException with Ansible's message for a malformed range
   */
  public static Expanded expand(String pattern) {
    String host = pattern;
    BigInteger port = null;
    String[] parsed = parseAddress(pattern);
    if (parsed != null) {
      host = parsed[0];
      port = parsed[1] == null ? null : new BigInteger(parsed[1]);
    }
    List<String> hosts = new ArrayList<>();
    if (host.indexOf('[') >= 0) {
      expandRange(host, hosts);
    } else {
      hosts.add(host);
    }
    return new Expanded(hosts, port);
  }

  /** {@code parse_address(address, allow_ranges=True)}: {host, port} or null when not an address. */
  static String[] parseAddress(String address) {
    String port = null;
    Matcher m = BRACKETED_HOSTPORT.matcher(address);
    if (m.lookingAt()) {
      address = m.group(1);
      port = m.group(2);
    }
    m = HOSTPORT.matcher(address);
    if (m.lookingAt()) {
      address = m.group(1);
      port = m.group(2);
    }
    if (IPV4.matcher(address).lookingAt() || IPV6.matcher(address).lookingAt()
        || HOSTNAME.matcher(address).lookingAt()) {
      return new String[] {address, port};
    }
    return null;
  }

  /**
   * {@code expand_hostname_range}, appending to {@code out}: at most {@link #MAX_HOSTS} names in all,
   * however the ranges nest.
   */
  private static void expandRange(String line, List<String> out) {
    String replaced = line.replaceFirst("\\[", "|").replaceFirst("\\]", "|");
    String[] parts = replaced.split("\\|", -1);
    if (parts.length != 3) {
      throw new IllegalArgumentException("host pattern '" + line + "' has unbalanced or repeated brackets");
    }
    String head = parts[0];
    String tail = parts[2];
    String[] bounds = parts[1].split(":", -1);
    if (bounds.length != 2 && bounds.length != 3) {
      throw new IllegalArgumentException("host range must be begin:end or begin:end:step");
    }
    String beg = bounds[0].isEmpty() ? "0" : bounds[0];
    String end = bounds[1];
    String step = bounds.length == 3 ? bounds[2] : "1";
    if (end.isEmpty()) {
      throw new IllegalArgumentException("host range must specify end value");
    }
    int width = 0;
    if (beg.charAt(0) == '0' && beg.length() > 1) {
      width = beg.length();
      if (width != end.length()) {
        throw new IllegalArgumentException("host range must specify equal-length begin and end formats");
      }
    }
    List<String> seq = new ArrayList<>();
    int iBeg = ASCII_LETTERS.indexOf(beg);
    int iEnd = ASCII_LETTERS.indexOf(end);
    boolean alpha = iBeg >= 0 && iEnd >= 0;
    if (alpha) {
      if (iBeg > iEnd) {
        throw new IllegalArgumentException("host range must have begin <= end");
      }
      BigInteger st;
      try {
        st = PyText.parseInt(step);
      } catch (NumberFormatException e) {
        st = null;
      }
      if (st == null || st.signum() == 0) {
        alpha = false;  // Python falls back to a numeric range, which then fails on the letters
      } else if (st.signum() > 0) {
        int s = st.min(BigInteger.valueOf(Integer.MAX_VALUE)).intValue();
        for (int k = iBeg; k <= iEnd; k += s) {
          seq.add(String.valueOf(ASCII_LETTERS.charAt(k)));
          if ((long) k + s > Integer.MAX_VALUE) {
            break;
          }
        }
      }
    }
    if (!alpha) {
      BigInteger b;
      BigInteger e;
      BigInteger s;
      try {
        b = PyText.parseInt(beg);
        e = PyText.parseInt(end);
        s = PyText.parseInt(step);
      } catch (NumberFormatException ex) {
        throw new IllegalArgumentException("host range '" + parts[1] + "' is neither numeric nor alphabetic: "
            + ex.getMessage());
      }
      if (s.signum() == 0) {
        throw new IllegalArgumentException("host range step must not be zero");
      }
      BigInteger stop = e.add(BigInteger.ONE);
      for (BigInteger x = b; s.signum() > 0 ? x.compareTo(stop) < 0 : x.compareTo(stop) > 0; x = x.add(s)) {
        seq.add(width > 0 ? PyText.zfill(x.toString(), width) : x.toString());
        if (seq.size() > MAX_HOSTS) {
          throw new IllegalArgumentException("host range '" + parts[1] + "' expands to more than 1,000,000 hosts");
        }
      }
    }
    for (String r : seq) {
      String name = head + r + tail;
      if (name.indexOf('[') >= 0) {
        expandRange(name, out);
      } else if (out.size() >= MAX_HOSTS) {
        // each range within the bound, and nested, they multiply: h[0:999][0:999][0:999] is a billion
        throw new IllegalArgumentException("its nested host ranges expand to more than 1,000,000 hosts");
      } else {
        out.add(name);
      }
    }
  }
}
