package dev.gitops.core.source;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy on 127.0.0.1 (a free port) in front of a server on another port, that can cut each new
 * connection after the server sent a number of bytes, as a server that dies or a network that drops
 * in the middle of a fetch does; {@link #close()} closes it and every connection it holds.
 *
 * <pre>{@code
 * try (CuttingProxy proxy = CuttingProxy.start(daemon.port())) {
 *   String url = "git://127.0.0.1:" + proxy.port() + "/repo";
 *   proxy.cutAfter(4096);  // connections opened from now on end after 4 KiB from the server
 * }
 * }</pre>
 */
public final class CuttingProxy implements AutoCloseable {

  private final ServerSocket socket;
  private final int upstream;
  private final List<Socket> open = new CopyOnWriteArrayList<>();
  private volatile long cutAfter = Long.MAX_VALUE;

  private CuttingProxy(ServerSocket socket, int upstream) {
    this.socket = socket;
    this.upstream = upstream;
  }

  /** Starts forwarding to {@code upstreamPort} on 127.0.0.1, on threads of its own. */
  public static CuttingProxy start(int upstreamPort) throws IOException {
    CuttingProxy p = new CuttingProxy(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), upstreamPort);
    Thread acceptor = new Thread(p::accept, "cutting proxy");
    acceptor.setDaemon(true);
    acceptor.start();
    return p;
  }

  /** The port to connect to. */
  public int port() {
    return socket.getLocalPort();
  }

  /** Connections opened from now on are closed once the server sent {@code bytes} bytes through them. */
  public void cutAfter(long bytes) {
    cutAfter = bytes;
  }

  /** Connections opened from now on are forwarded whole. */
  public void forwardWhole() {
    cutAfter = Long.MAX_VALUE;
  }

  private void accept() {
    while (!socket.isClosed()) {
      try {
        Socket client = socket.accept();
        Socket server = new Socket(InetAddress.getLoopbackAddress(), upstream);
        open.add(client);
        open.add(server);
        long limit = cutAfter;
        pump(client, server, Long.MAX_VALUE);
        pump(server, client, limit);
      } catch (IOException e) {
        return;  // closed
      }
    }
  }

  /** Copies {@code from} to {@code to} until either ends or {@code limit} bytes went, then closes both. */
  private static void pump(Socket from, Socket to, long limit) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[4096];
      long sent = 0;
      try (Socket a = from; Socket b = to) {
        InputStream in = a.getInputStream();
        OutputStream out = b.getOutputStream();
        for (int n; sent < limit && (n = in.read(buf)) > 0; ) {
          int part = (int) Math.min(n, limit - sent);
          out.write(buf, 0, part);
          out.flush();
          sent += part;
        }
      } catch (IOException e) {
        // the other direction closed both sockets: this one ends too
      }
    }, "cutting proxy pump");
    t.setDaemon(true);
    t.start();
  }

  @Override
  public void close() throws IOException {
    socket.close();
    for (Socket s : open) {
      s.close();
    }
  }
}
