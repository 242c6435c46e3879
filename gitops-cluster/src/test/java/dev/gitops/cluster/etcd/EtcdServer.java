package dev.gitops.cluster.etcd;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A real etcd (Debian's etcd-server) on loopback, with its own data directory and free ports,
 * started once per test JVM and stopped when the JVM exits.
 */
public final class EtcdServer {

  private static EtcdServer shared;

  private final Process process;
  private final Path dir;
  private final int clientPort;

  private EtcdServer(Process process, Path dir, int clientPort) {
    this.process = process;
    this.dir = dir;
    this.clientPort = clientPort;
  }

  /** The JVM's etcd, started on first use. */
  public static synchronized EtcdServer shared() {
    if (shared == null) {
      shared = start();
      EtcdServer s = shared;
      Runtime.getRuntime().addShutdownHook(new Thread(s::stop, "etcd-stop"));
    }
    return shared;
  }

  /** An etcd of the caller's own, which it stops ({@link #stop()}): for tests that take etcd away. */
  static EtcdServer startPrivate() {
    return start();
  }

  /** The client URL, {@code http://127.0.0.1:<port>}. */
  public String endpoint() {
    return "http://127.0.0.1:" + clientPort;
  }

  /**
   * Starts etcd on two ports found free; a port taken by another process between the search and
   * etcd's bind ("address already in use") is retried on new ports, up to three times.
   */
  private static EtcdServer start() {
    for (int attempt = 1; ; attempt++) {
      try {
        return startOnce();
      } catch (IllegalStateException e) {
        if (attempt == 3 || e.getMessage() == null || !e.getMessage().contains("address already in use")) {
          throw e;
        }
      }
    }
  }

  private static EtcdServer startOnce() {
    try {
      Path dir = Files.createTempDirectory("etcd-test");
      int client = freePort();
      int peer = freePort();
      String peerUrl = "http://127.0.0.1:" + peer;
      String clientUrl = "http://127.0.0.1:" + client;
      Process p = new ProcessBuilder(List.of("etcd", "--name", "test", "--data-dir", dir.resolve("data").toString(),
          "--listen-client-urls", clientUrl, "--advertise-client-urls", clientUrl,
          "--listen-peer-urls", peerUrl, "--initial-advertise-peer-urls", peerUrl,
          "--initial-cluster", "test=" + peerUrl, "--log-level", "warn"))
          .redirectErrorStream(true).redirectOutput(dir.resolve("etcd.log").toFile()).start();
      EtcdServer s = new EtcdServer(p, dir, client);
      Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
      while (!s.accepts()) {
        if (!p.isAlive() || Instant.now().isAfter(deadline)) {
          String log = Files.readString(dir.resolve("etcd.log"));
          s.stop();
          throw new IllegalStateException("etcd did not start on " + clientUrl + ":\n" + log);
        }
        Thread.sleep(50);
      }
      return s;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start etcd (is Debian's etcd-server installed?)", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private boolean accepts() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), clientPort), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  void stop() {
    process.destroy();
    try {
      if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    try (Stream<Path> all = Files.walk(dir)) {
      all.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      // a leftover temp directory is harmless; the next run uses a new one
    }
  }
}
