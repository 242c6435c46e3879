package dev.gitops.git.ssh;

import dev.gitops.core.internal.net.Ipv6Text;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.eclipse.jgit.transport.CredentialsProvider;
import org.eclipse.jgit.transport.sshd.ServerKeyDatabase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks SSH host keys against one OpenSSH {@code known_hosts} file (plain or hashed host names,
 * {@code [host]:port} entries, {@code *}, {@code ?} and {@code !} patterns, {@code @revoked}
 * markers; lines matched as OpenSSH matches them), never the user's {@code ~/.ssh}. The file is
 * never written, and is read again at every check.
 *
 * <ul>
 *   <li>a key listed for the host is accepted;
 *   <li>a host listed with other keys only (a changed key) is always refused;
 *   <li>a key marked {@code @revoked} is always refused;
 *   <li>an unlisted host is refused when strict, else accepted with a warning naming the host and
 *       the key's fingerprint.
 * </ul>
 *
 * <p>Why the last key was refused is kept for the error message ({@link #takeRejection()}). An
 * accepted unknown host is warned about once per host and key for the life of the instance.
 */
final class KnownHostsDatabase implements ServerKeyDatabase {

  private static final Logger LOG = LoggerFactory.getLogger(KnownHostsDatabase.class);

  private final Path file;
  private final boolean strict;
  private volatile String rejection;
  private final Set<String> warned = ConcurrentHashMap.newKeySet();

  /**
   * @param file the known_hosts file, or null for none (every host unknown)
   * @param strict whether unknown hosts are refused
   */
  KnownHostsDatabase(Path file, boolean strict) {
    this.file = file;
    this.strict = strict;
  }

  /** Why the last host key was refused, or null; clears it. */
  String takeRejection() {
    String r = rejection;
    rejection = null;
    return r;
  }

  /** A key the file lists for the host, and whether its line is marked {@code @revoked}. */
  private record Known(PublicKey key, boolean revoked) {}

  @Override
  public List<PublicKey> lookup(String address, InetSocketAddress remoteAddress, Configuration config) {
    String connectAddress = asOpenSshWritesIt(address);
    try {
      return matching(connectAddress).stream().filter(k -> !k.revoked()).map(Known::key).toList();
    } catch (IOException | RuntimeException e) {
      // only orders the host key algorithms offered; accept() reports the unreadable file
      LOG.debug("cannot read known_hosts file {}: {}", file, e.toString());
      return List.of();
    }
  }

  @Override
  public boolean accept(String address, InetSocketAddress remoteAddress, PublicKey serverKey,
      Configuration config, CredentialsProvider provider) {
    String connectAddress = asOpenSshWritesIt(address);
    String host = hostOf(connectAddress);
    int port = portOf(connectAddress);
    String fingerprint = KeyUtils.getFingerPrint(serverKey);
    List<Known> known;
    try {
      known = matching(connectAddress);
    } catch (IOException | RuntimeException e) {
      return reject("cannot read the known_hosts file " + file + " to check the host key of " + host
          + " port " + port + ": " + e.getMessage());
    }
    // a revoked key is refused wherever else the file lists it, as OpenSSH refuses it: so every
    // line is looked at before one that lists the key can accept it
    if (known.stream().anyMatch(k -> k.revoked() && KeyUtils.compareKeys(k.key(), serverKey))) {
      return reject("the host key of " + host + " port " + port + " (" + fingerprint
          + ") is marked @revoked in the known_hosts file " + file);
    }
    if (known.stream().anyMatch(k -> KeyUtils.compareKeys(k.key(), serverKey))) {
      LOG.debug("host key of {} port {} ({}) is known", host, port, fingerprint);
      rejection = null;
      return true;
    }
    List<Known> listed = known.stream().filter(k -> !k.revoked()).toList();
    if (!listed.isEmpty()) {
      return reject("the host key of " + host + " port " + port + " has CHANGED: the server presented "
          + KeyUtils.getKeyType(serverKey) + " " + fingerprint + " but the known_hosts file " + file + " lists "
          + listed.stream().map(k -> KeyUtils.getKeyType(k.key()) + " " + KeyUtils.getFingerPrint(k.key()))
              .collect(Collectors.joining(", "))
          + " (entry " + connectAddress + "); refusing to connect whatever the strict host key setting");
    }
    if (strict) {
      String where = file == null ? "no known_hosts file is configured"
          : Files.exists(file) ? "it is not in the known_hosts file " + file
          : "the known_hosts file " + file + " does not exist";
      return reject("unknown SSH host " + host + " port " + port + ": its host key " + KeyUtils.getKeyType(serverKey)
          + " " + fingerprint + " is refused because " + where + " (add a line for " + connectAddress
          + ", e.g. from ssh-keyscan" + (port == 22 ? "" : " -p " + port) + " " + host
          + ", after checking the fingerprint)");
    }
    if (warned.add(connectAddress + " " + fingerprint)) {
      LOG.warn("accepting the unknown host key {} {} of {} port {}: strict host key checking is off and {}",
          KeyUtils.getKeyType(serverKey), fingerprint, host, port,
          file == null ? "no known_hosts file is configured" : "it is not in the known_hosts file " + file);
    } else {
      LOG.debug("accepting the unknown host key {} of {} port {} again", fingerprint, host, port);
    }
    rejection = null;
    return true;
  }

  private boolean reject(String why) {
    rejection = why;
    LOG.debug("{}", why);
    return false;
  }

  /**
   * The keys of the file's lines for {@code connectAddress}, matched as OpenSSH matches them: each
   * line's comma-separated patterns ({@code *} and {@code ?} wildcards, {@code !} negating the
   * whole line), or its hashed name ({@code |1|salt|hash}), against the host as OpenSSH names it:
   * {@code host} for port 22, {@code [host]:port} for another, so {@code @revoked * KEY} revokes a
   * key on every port. {@code @cert-authority} lines vouch for nothing (host certificates are not
   * supported), and a line that cannot be read is skipped, as OpenSSH skips it, with a warning naming
   * it once.
   */
  private List<Known> matching(String connectAddress) throws IOException {
    if (file == null || !Files.exists(file)) {
      return List.of();
    }
    String host = hostOf(connectAddress);
    int port = portOf(connectAddress);
    // an IPv6 address is matched as OpenSSH writes it (::1) and, as JGit gave it, in full
    String expanded = host.contains(":") ? fullIpv6(host) : null;
    List<String> names = new ArrayList<>();
    for (String h : expanded == null ? List.of(host) : List.of(host, expanded)) {
      names.add(port == 22 ? h : "[" + h + "]:" + port);
      if (port == 22) {
        names.add("[" + h + "]:22");  // never written by OpenSSH, but meaning the same host
      }
    }
    List<Known> result = new ArrayList<>();
    if (!Files.isRegularFile(file)) {
      // a directory fails the read; a FIFO or a device would block it, or never end it
      throw new IOException(file + " is not a regular file");
    }
    // bytes that are no UTF-8 (a Latin-1 comment) are replaced, not an error: OpenSSH reads bytes,
    // and one such line must not make every host unknown
    List<String> lines = new String(Files.readAllBytes(file), java.nio.charset.StandardCharsets.UTF_8).lines().toList();
    for (int n = 0; n < lines.size(); n++) {
      String line = lines.get(n).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      boolean revoked = false;
      if (line.startsWith("@")) {
        String[] marked = line.split("\\s+", 2);
        if (!marked[0].equalsIgnoreCase("@revoked")) {
          continue;  // @cert-authority, or a marker OpenSSH does not know either
        }
        revoked = true;
        line = marked.length < 2 ? "" : marked[1];
      }
      String[] fields = line.split("\\s+", 3);  // host patterns, key type, key (and comment)
      if (fields.length < 3) {
        skipped(n + 1, "it has no key");
        continue;
      }
      if (!names.stream().anyMatch(name -> hostMatches(fields[0], name))) {
        continue;
      }
      PublicKey key;
      try {
        key = PublicKeyEntry.parsePublicKeyEntry(fields[1] + " " + fields[2])
            .resolvePublicKey(null, java.util.Map.of(), PublicKeyEntryResolver.IGNORING);
      } catch (IOException | GeneralSecurityException | RuntimeException e) {
        skipped(n + 1, "its key cannot be read: " + e.getMessage());
        continue;
      }
      if (key == null) {
        skipped(n + 1, "its key type " + fields[1] + " is not supported");
        continue;
      }
      result.add(new Known(key, revoked));
    }
    return result;
  }

  private void skipped(int line, String why) {
    if (warned.add("line " + line + " " + why)) {
      LOG.warn("skipping line {} of the known_hosts file {}: {}", line, file, why);
    }
  }

  /**
   * Whether the host field of a known_hosts line ({@code name,!other,*.example.com} or a hashed
   * {@code |1|salt|hash}) matches {@code name}, as OpenSSH's {@code match_hostname} decides it:
   * case-insensitive, a matching negated pattern excludes the line whatever else matches.
   */
  static boolean hostMatches(String field, String name) {
    if (field.startsWith("|1|")) {
      String[] parts = field.split("\\|");
      if (parts.length != 4) {
        return false;
      }
      try {
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA1");
        mac.init(new javax.crypto.spec.SecretKeySpec(java.util.Base64.getDecoder().decode(parts[2]), "HmacSHA1"));
        byte[] hash = mac.doFinal(name.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return java.security.MessageDigest.isEqual(hash, java.util.Base64.getDecoder().decode(parts[3]));
      } catch (GeneralSecurityException | IllegalArgumentException e) {
        return false;  // not a hash OpenSSH wrote: it matches no host for OpenSSH either
      }
    }
    String lower = name.toLowerCase(java.util.Locale.ROOT);
    boolean matched = false;
    for (String pattern : field.split(",")) {
      boolean negated = pattern.startsWith("!");
      String p = (negated ? pattern.substring(1) : pattern).toLowerCase(java.util.Locale.ROOT);
      if (glob(p, 0, lower, 0)) {
        if (negated) {
          return false;
        }
        matched = true;
      }
    }
    return matched;
  }

  /** Whether {@code text} from {@code t} matches {@code pattern} from {@code p} ({@code *}, {@code ?}). */
  private static boolean glob(String pattern, int p, String text, int t) {
    while (p < pattern.length()) {
      char c = pattern.charAt(p);
      if (c == '*') {
        for (int k = t; k <= text.length(); k++) {
          if (glob(pattern, p + 1, text, k)) {
            return true;
          }
        }
        return false;
      }
      if (t >= text.length() || (c != '?' && c != text.charAt(t))) {
        return false;
      }
      p++;
      t++;
    }
    return t == text.length();
  }

  /**
   * {@code connectAddress} ({@code host} or {@code [host]:port}) with an IPv6 address written as
   * OpenSSH writes it in known_hosts and ssh-keyscan prints it ({@code ::1}, {@code [fd00::2]:2222}:
   * RFC 5952, the longest run of zero groups as {@code ::}): JGit gives it in full ({@code
   * [0:0:0:0:0:0:0:1]:2222}), which no line OpenSSH wrote matches. Anything else is returned as it is.
   */
  static String asOpenSshWritesIt(String connectAddress) {
    String host = hostOf(connectAddress);
    if (!host.contains(":") || host.contains("%")) {
      return connectAddress;  // not an IPv6 address, or one with a zone, which OpenSSH keeps as given
    }
    byte[] bytes;
    try {
      bytes = java.net.InetAddress.getByName(host).getAddress();  // a literal: no name is looked up
    } catch (java.net.UnknownHostException e) {
      return connectAddress;
    }
    if (bytes.length != 16) {
      return connectAddress;
    }
    String text = Ipv6Text.canonical(Ipv6Text.groups(bytes));
    int port = portOf(connectAddress);
    return port == 22 ? text : "[" + text + "]:" + port;
  }

  /** The IPv6 address {@code host} in full ({@code 0:0:0:0:0:0:0:1}), or null when it is none. */
  private static String fullIpv6(String host) {
    try {
      java.net.InetAddress a = java.net.InetAddress.getByName(host);
      return a instanceof java.net.Inet6Address ? a.getHostAddress() : null;
    } catch (java.net.UnknownHostException e) {
      return null;  // not a literal after all: matched as written only
    }
  }

  /** The host of {@code host} or {@code [host]:port}. */
  static String hostOf(String connectAddress) {
    if (connectAddress.startsWith("[")) {
      int end = connectAddress.indexOf(']');
      return end > 0 ? connectAddress.substring(1, end) : connectAddress;
    }
    return connectAddress;
  }

  /** The port of {@code [host]:port}, 22 for a bare host. */
  static int portOf(String connectAddress) {
    int end = connectAddress.indexOf("]:");
    if (connectAddress.startsWith("[") && end > 0) {
      try {
        return Integer.parseInt(connectAddress.substring(end + 2));
      } catch (NumberFormatException e) {
        return 22;  // not a port: the pattern is matched as a whole host name
      }
    }
    return 22;
  }
}
