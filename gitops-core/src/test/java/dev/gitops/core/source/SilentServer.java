package dev.gitops.core.source;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A server on 127.0.0.1 (a free port) that accepts every connection and never writes a byte, for
 * tests of read timeouts; {@link #close()} closes it and every connection it accepted.
 *
 * <pre>{@code
 * try (SilentServer silent = SilentServer.start()) {
 *   String url = "git://127.0.0.1:" + silent.port() + "/repo";
 * }
 * }</pre>
 */
public final class SilentServer implements AutoCloseable {

  private final ServerSocket socket;
  private final List<Socket> accepted = new CopyOnWriteArrayList<>();

  private SilentServer(ServerSocket socket) {
    this.socket = socket;
  }

  /** Starts accepting on a thread of its own, which ends when the server is closed. */
  public static SilentServer start() throws IOException {
    SilentServer s = new SilentServer(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
    Thread acceptor = new Thread(() -> {
      while (!s.socket.isClosed()) {
        try {
          s.accepted.add(s.socket.accept());
        } catch (IOException e) {
          return;  // closed
        }
      }
    }, "silent server");
    acceptor.setDaemon(true);
    acceptor.start();
    return s;
  }

  /** The port. */
  public int port() {
    return socket.getLocalPort();
  }

  /** How many connections it accepted so far. */
  public int connections() {
    return accepted.size();
  }

  @Override
  public void close() throws IOException {
    socket.close();
    for (Socket s : accepted) {
      s.close();
    }
  }
}
