package dev.gitops.git.ssh;

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
import org.apache.sshd.client.config.hosts.KnownHostEntry;
import org.apache.sshd.common.config.keys.AuthorizedKeyEntry;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.eclipse.jgit.transport.CredentialsProvider;
import org.eclipse.jgit.transport.sshd.ServerKeyDatabase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks SSH host keys against one OpenSSH {@code known_hosts} file (plain or hashed host names,
 * {@code [host]:port} entries, {@code @revoked} markers), never the user's {@code ~/.ssh}. The file
 * is never written.
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

  /** A host key entry of the file and the key it holds. */
  private record Known(KnownHostEntry entry, PublicKey key) {
    boolean revoked() {
      return "revoked".equalsIgnoreCase(entry.getMarker());
    }
  }

  @Override
  public List<PublicKey> lookup(String address, InetSocketAddress remoteAddress, Configuration config) {
    String connectAddress = asOpenSshWritesIt(address);
    try {
      return matching(connectAddress).stream().filter(k -> !k.revoked()).map(Known::key).toList();
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
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
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      return reject("cannot read the known_hosts file " + file + " to check the host key of " + host
          + " port " + port + ": " + e.getMessage());
    }
    for (Known k : known) {
      if (KeyUtils.compareKeys(k.key(), serverKey)) {
        if (k.revoked()) {
          return reject("the host key of " + host + " port " + port + " (" + fingerprint
              + ") is marked @revoked in the known_hosts file " + file);
        }
        LOG.debug("host key of {} port {} ({}) is known", host, port, fingerprint);
        rejection = null;
        return true;
      }
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

  private List<Known> matching(String connectAddress) throws IOException, GeneralSecurityException {
    if (file == null || !Files.exists(file)) {
      return List.of();
    }
    String host = hostOf(connectAddress);
    int port = portOf(connectAddress);
    // an IPv6 address is matched as OpenSSH writes it (::1) and, as JGit gave it, in full
    String expanded = host.contains(":") ? fullIpv6(host) : null;
    List<Known> result = new ArrayList<>();
    for (KnownHostEntry e : KnownHostEntry.readKnownHostEntries(file)) {
      if (e.getMarker() != null && !"revoked".equalsIgnoreCase(e.getMarker())) {
        continue;  // @cert-authority: host certificates are not supported, so such lines vouch for nothing
      }
      if (!e.isHostMatch(host, port) && !(expanded != null && e.isHostMatch(expanded, port))) {
        continue;
      }
      AuthorizedKeyEntry keyEntry = e.getKeyEntry();
      PublicKey key = keyEntry == null ? null : keyEntry.resolvePublicKey(null, PublicKeyEntryResolver.IGNORING);
      if (key != null) {
        result.add(new Known(e, key));
      }
    }
    return result;
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
    int[] groups = new int[8];
    for (int i = 0; i < 8; i++) {
      groups[i] = ((bytes[2 * i] & 0xff) << 8) | (bytes[2 * i + 1] & 0xff);
    }
    int bestStart = -1;
    int bestLength = 1;  // a single zero group is written as 0, not ::
    for (int i = 0; i < 8; ) {
      int j = i;
      while (j < 8 && groups[j] == 0) {
        j++;
      }
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = j == i ? i + 1 : j;
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        sb.append("::");
        i += bestLength - 1;
        continue;
      }
      if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
        sb.append(':');
      }
      sb.append(Integer.toHexString(groups[i]));
    }
    int port = portOf(connectAddress);
    return port == 22 ? sb.toString() : "[" + sb + "]:" + port;
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
