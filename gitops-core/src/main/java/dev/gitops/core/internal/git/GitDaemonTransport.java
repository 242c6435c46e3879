package dev.gitops.core.internal.git;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import org.eclipse.jgit.errors.TransportException;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.transport.BasePackFetchConnection;
import org.eclipse.jgit.transport.BasePackPushConnection;
import org.eclipse.jgit.transport.FetchConnection;
import org.eclipse.jgit.transport.GitProtocolConstants;
import org.eclipse.jgit.transport.PackTransport;
import org.eclipse.jgit.transport.PushConnection;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.TcpTransport;
import org.eclipse.jgit.transport.Transport;
import org.eclipse.jgit.transport.TransportProtocol;
import org.eclipse.jgit.transport.URIish;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code git://} transport of the engine's Git calls (the Git source, the image write-back):
 * JGit's own, except that the socket's reads time out. JGit bounds a {@code git://} read by
 * interrupting the reading thread once the timeout passes, which a thread blocked in a socket read
 * does not notice (JDK 13 and later), so a daemon that accepts the connection and never answers
 * held a read forever. Here the socket itself has the
 * timeout ({@code SO_TIMEOUT}), so such a read fails with "Read timed out" after it.
 *
 * <p>JGit picks a transport by asking each registered protocol in turn; this one is registered once
 * and answers only for a call made inside {@link #around} on the same thread, so other users of JGit
 * in the process keep JGit's transport.
 *
 * <pre>{@code
 * import dev.gitops.core.internal.git.GitDaemonTransport;
 * import org.eclipse.jgit.api.Git;
 * import org.eclipse.jgit.lib.Ref;
 *
 * Map<String, Ref> refs = GitDaemonTransport.around(() -> Git.lsRemoteRepository()
 *     .setRemote("git://127.0.0.1/repo").setTimeout(30).callAsMap());
 * }</pre>
 */
public final class GitDaemonTransport extends TcpTransport implements PackTransport {

  private static final Logger LOG = LoggerFactory.getLogger(GitDaemonTransport.class);
  /** git-daemon's port when the URL names none. */
  private static final int GIT_PORT = 9418;
  /** Set while an engine call on this thread ({@link #around}) may open a transport. */
  private static final ThreadLocal<Boolean> ACTIVE = new ThreadLocal<>();
  /** Held strongly: JGit keeps registered protocols by weak reference. */
  private static final TransportProtocol PROTOCOL = new TransportProtocol() {
    @Override
    public String getName() {
      return "git:// with socket read timeouts";
    }

    @Override
    public Set<String> getSchemes() {
      return Set.of("git");
    }

    @Override
    public Set<URIishField> getRequiredFields() {
      return Set.of(URIishField.HOST, URIishField.PATH);
    }

    @Override
    public Set<URIishField> getOptionalFields() {
      return Set.of(URIishField.PORT);
    }

    @Override
    public int getDefaultPort() {
      return GIT_PORT;
    }

    @Override
    public boolean canHandle(URIish uri, Repository local, String remoteName) {
      return Boolean.TRUE.equals(ACTIVE.get()) && "git".equals(uri.getScheme()) && uri.getHost() != null
          && uri.getPath() != null;
    }

    @Override
    public Transport open(URIish uri, Repository local, String remoteName) {
      return local == null ? new GitDaemonTransport(uri) : new GitDaemonTransport(local, uri);
    }

    @Override
    public Transport open(URIish uri) {
      return new GitDaemonTransport(uri);  // a listing without a repository (ls-remote)
    }
  };

  static {
    Transport.register(PROTOCOL);
  }

  private GitDaemonTransport(Repository local, URIish uri) {
    super(local, uri);
  }

  private GitDaemonTransport(URIish uri) {
    super(uri);
  }

  /** A call that may open transports. */
  @FunctionalInterface
  public interface Call<T, E extends Exception> {
    T call() throws E;
  }

  /** Runs {@code call}, in which JGit opens {@code git://} URLs with this transport. */
  public static <T, E extends Exception> T around(Call<T, E> call) throws E {
    Boolean outer = ACTIVE.get();
    ACTIVE.set(Boolean.TRUE);
    try {
      return call.call();
    } finally {
      if (outer == null) {
        ACTIVE.remove();
      }
    }
  }

  @Override
  public FetchConnection openFetch() throws TransportException {
    return new Connection(List.of());
  }

  @Override
  public FetchConnection openFetch(Collection<RefSpec> refSpecs, String... additionalPatterns)
      throws TransportException {
    return new Connection(refSpecs, additionalPatterns);
  }

  @Override
  public PushConnection openPush() throws TransportException {
    return new Push();
  }

  @Override
  public void close() {
    // nothing held between connections
  }

  /** Whether the repository's {@code protocol.version} leaves protocol v2 on (JGit's default for git://). */
  private boolean protocolV2() {
    String v = local == null ? null : local.getConfig().getString("protocol", null, "version");
    return v == null || !(v.trim().equals("0") || v.trim().equals("1"));
  }

  /** A socket connected to the daemon, whose connect and reads time out after the transport's timeout. */
  private Socket connect() throws TransportException {
    int ms = (int) Math.min(Integer.MAX_VALUE, Math.max(0, getTimeout() * 1000L));
    int port = uri.getPort() > 0 ? uri.getPort() : GIT_PORT;
    Socket s = new Socket();
    try {
      s.connect(new InetSocketAddress(InetAddress.getByName(uri.getHost()), port), ms);
      s.setSoTimeout(ms);
      return s;
    } catch (IOException e) {
      try {
        s.close();
      } catch (IOException closing) {
        e.addSuppressed(closing);
      }
      if (e instanceof UnknownHostException) {
        throw new TransportException(uri, "unknown host", e);
      }
      throw new TransportException(uri, String.valueOf(e.getMessage()), e);
    }
  }

  /**
   * git-daemon's request for {@code service}: the service and path, the host, and with {@code v2}
   * the protocol version asked for.
   */
  private String request(String service, boolean v2) {
    StringBuilder request = new StringBuilder(service).append(' ').append(uri.getPath())
        .append('\0').append("host=").append(uri.getHost());
    if (uri.getPort() > 0 && uri.getPort() != GIT_PORT) {
      request.append(':').append(uri.getPort());
    }
    request.append('\0');
    if (v2) {
      request.append('\0').append(GitProtocolConstants.VERSION_2_REQUEST).append('\0');
    }
    return request.toString();
  }

  private TransportException hungUp(IOException e) {
    return new TransportException(uri, "the remote end hung up unexpectedly: " + e.getMessage(), e);
  }

  private void close(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // the connection is done with either way: nothing is left unsent that the close could lose
      LOG.debug("closing the connection to {}: {}", GitUrls.display(uri), e.toString());
    }
  }

  /** A fetch over one daemon connection. */
  private final class Connection extends BasePackFetchConnection {
    private final Socket socket;

    Connection(Collection<RefSpec> refSpecs, String... additionalPatterns) throws TransportException {
      super(GitDaemonTransport.this);
      socket = connect();
      try {
        init(new BufferedInputStream(socket.getInputStream()), new BufferedOutputStream(socket.getOutputStream()));
        pckOut.writeString(request("git-upload-pack", protocolV2()));
        pckOut.flush();
      } catch (IOException e) {
        close();
        throw hungUp(e);
      }
      if (!readAdvertisedRefs()) {
        String format = getCapability("object-format");
        if (format != null && !format.equals("sha1")) {
          // ls-refs would only meet the daemon hanging up ("mismatched object format": a connection reset)
          close();
          throw new TransportException("the repository uses the " + format + " object format, which is not"
              + " supported (JGit reads sha1 repositories only)");
        }
        lsRefs(refSpecs, additionalPatterns);
      }
    }

    @Override
    public void close() {
      super.close();
      GitDaemonTransport.this.close(socket);
    }
  }

  /** A push over one daemon connection (protocol v0, as JGit's). */
  private final class Push extends BasePackPushConnection {
    private final Socket socket;

    Push() throws TransportException {
      super(GitDaemonTransport.this);
      socket = connect();
      try {
        init(new BufferedInputStream(socket.getInputStream()), new BufferedOutputStream(socket.getOutputStream()));
        pckOut.writeString(request("git-receive-pack", false));
        pckOut.flush();
      } catch (IOException e) {
        close();
        throw hungUp(e);
      }
      readAdvertisedRefs();
    }

    @Override
    public void close() {
      super.close();
      GitDaemonTransport.this.close(socket);
    }
  }
}
