package dev.gitops.core.source;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code git daemon} serving every repository under a base directory on 127.0.0.1 (a free
 * port), for tests. Repositories are addressed as {@code git://127.0.0.1:<port>/<name>}; non-bare
 * repositories work too. The daemon's output goes to a temporary log file, readable through {@link
 * #log()} while it runs and deleted by {@link #close()}.
 *
 * <pre>{@code
 * try (GitDaemonServer daemon = GitDaemonServer.start(baseDir)) {
 *   String url = daemon.url("repo");
 * }
 * }</pre>
 */
public final class GitDaemonServer implements AutoCloseable {

  private final Process process;
  private final int port;
  private final Path log;

  private GitDaemonServer(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /** Starts a daemon exporting every repository under {@code basePath}; waits until it listens. */
  public static GitDaemonServer start(Path basePath) throws IOException, InterruptedException {
    return start(basePath, false);
  }

  /**
   * {@link #start(Path)}; with {@code pushes}, anonymous pushes are taken too ({@code receive-pack}
   * enabled for every repository).
   */
  public static GitDaemonServer start(Path basePath, boolean pushes) throws IOException, InterruptedException {
    Path base = basePath.toAbsolutePath();
    Path log = Files.createTempFile("git-daemon-", ".log");
    try {
      return launch(base, log, pushes);
    } catch (IOException | InterruptedException | RuntimeException e) {
      // no server is returned to delete the log on close; a start failure already carries its text
      Files.deleteIfExists(log);
      throw e;
    }
  }

  /** Starts the daemon with its output appended to {@code log}, trying up to three ports. */
  private static GitDaemonServer launch(Path base, Path log, boolean pushes) throws IOException, InterruptedException {
    IOException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      int port = freePort();
      List<String> command = new ArrayList<>(List.of("git", "daemon", "--export-all", "--base-path=" + base,
          "--reuseaddr", "--listen=127.0.0.1", "--port=" + port, "--enable=upload-pack", "--informative-errors"));
      if (pushes) {
        command.add("--enable=receive-pack");
      }
      command.add(base.toString());
      ProcessBuilder pb = new ProcessBuilder(command);
      pb.environment().put("GIT_CONFIG_NOSYSTEM", "1");
      pb.environment().put("HOME", base.toString());
      pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      Process p = pb.start();
      for (int i = 0; i < 100 && p.isAlive(); i++) {  // bounded: at most ~10 s
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
          return new GitDaemonServer(p, port, log);
        } catch (IOException e) {
          last = e;
          Thread.sleep(100);
        }
      }
      stop(p);
    }
    throw new IOException("git daemon did not start; log: " + Files.readString(log), last);
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** The port. */
  public int port() {
    return port;
  }

  /** The URL of repository {@code name} (a directory under the base path). */
  public String url(String name) {
    return "git://127.0.0.1:" + port + "/" + name;
  }

  /** The daemon's output so far, for diagnosing a failing test. */
  public String log() throws IOException {
    return Files.readString(log);
  }

  /** Stops the daemon and deletes its log (read {@link #log()} before, to report it). */
  @Override
  public void close() throws InterruptedException {
    try {
      stop(process);
    } finally {
      try {
        Files.deleteIfExists(log);
      } catch (IOException e) {
        // a log left in the temporary directory fails no test
      }
    }
  }

  private static void stop(Process p) throws InterruptedException {
    p.descendants().forEach(ProcessHandle::destroy);  // upload-pack children of this daemon only
    p.destroy();
    if (!p.waitFor(5, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      p.waitFor(5, TimeUnit.SECONDS);
    }
  }
}
