package dev.gitops.core.source;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Smart HTTP for tests: {@code git http-backend} run as a CGI behind the JDK's HTTP server on
 * 127.0.0.1, serving every repository under a project root, optionally behind HTTP basic auth.
 * Repositories are addressed as {@code http://127.0.0.1:<port>/git/<name>}. What http-backend
 * writes to stderr goes to a temporary log file, readable through {@link #log()} while the server
 * runs and deleted by {@link #close()}.
 *
 * <pre>{@code
 * try (GitHttpServer http = GitHttpServer.start(root, "alice", "s3cret")) {
 *   String url = http.url("repo");
 *   int fetches = http.uploadPackRequests();
 * }
 * }</pre>
 */
public final class GitHttpServer implements AutoCloseable {

  private static final String PREFIX = "/git";

  private final HttpServer server;
  private final ExecutorService executor;
  private final Path root;
  private final String expectedAuth;
  private final Path log;
  private final AtomicInteger requests = new AtomicInteger();
  private final AtomicInteger uploadPacks = new AtomicInteger();
  private final AtomicInteger fetches = new AtomicInteger();
  private final AtomicInteger refused = new AtomicInteger();
  private final AtomicInteger withAuthorization = new AtomicInteger();
  private final java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
  private volatile int stallAfter = -1;

  private GitHttpServer(Path root, String user, String password) throws IOException {
    this.root = root.toAbsolutePath();
    this.expectedAuth = user == null ? null
        : "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    this.log = Files.createTempFile("git-http-backend-", ".log");
    try {
      this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    } catch (IOException | RuntimeException e) {
      // no server is returned to delete the log on close
      Files.deleteIfExists(log);
      throw e;
    }
    this.executor = Executors.newFixedThreadPool(4);
    server.setExecutor(executor);
    server.createContext(PREFIX + "/", this::handle);
    server.start();
  }

  /** Serves every repository under {@code projectRoot} without authentication. */
  public static GitHttpServer start(Path projectRoot) throws IOException {
    return new GitHttpServer(projectRoot, null, null);
  }

  /** Serves every repository under {@code projectRoot} to {@code user} with {@code password} only. */
  public static GitHttpServer start(Path projectRoot, String user, String password) throws IOException {
    return new GitHttpServer(projectRoot, user, password);
  }

  /** The URL of repository {@code name}. */
  public String url(String name) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + PREFIX + "/" + name;
  }

  /** Every request served, including refused ones. */
  public int requests() {
    return requests.get();
  }

  /** Requests that ran {@code git-upload-pack} (a fetch's pack negotiation), not ref listings. */
  public int uploadPackRequests() {
    return uploadPacks.get();
  }

  /**
   * Upload-pack requests that negotiate a pack (protocol v2 {@code command=fetch} or v0 {@code
   * want} lines): fetches on the wire. Protocol v2 ref listings ({@code command=ls-refs}) are not
   * counted.
   */
  public int fetchRequests() {
    return fetches.get();
  }

  /** Requests refused with 401. */
  public int refusedRequests() {
    return refused.get();
  }

  /**
   * From now on, answers each fetch (see {@link #fetchRequests}) with its first {@code bytes} bytes
   * only, then sends nothing more and keeps the connection open until {@link #close}: a stalled server.
   */
  public GitHttpServer stallFetchesAfter(int bytes) {
    this.stallAfter = bytes;
    return this;
  }

  /** Requests that carried an {@code Authorization} header, right or wrong. */
  public int requestsWithAuthorization() {
    return withAuthorization.get();
  }

  /** What http-backend wrote to stderr. */
  public String log() throws IOException {
    return Files.readString(log);
  }

  private void handle(HttpExchange ex) throws IOException {
    requests.incrementAndGet();
    if (ex.getRequestHeaders().getFirst("Authorization") != null) {
      withAuthorization.incrementAndGet();
    }
    try (ex) {
      if (expectedAuth != null && !expectedAuth.equals(ex.getRequestHeaders().getFirst("Authorization"))) {
        refused.incrementAndGet();
        ex.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"git\"");
        ex.sendResponseHeaders(401, -1);
        return;
      }
      String pathInfo = ex.getRequestURI().getRawPath().substring(PREFIX.length());
      int stalled = -1;
      byte[] body = ex.getRequestBody().readAllBytes();
      if (ex.getRequestMethod().equals("POST") && pathInfo.endsWith("/git-upload-pack")) {
        uploadPacks.incrementAndGet();
        byte[] plain = body;
        if ("gzip".equalsIgnoreCase(ex.getRequestHeaders().getFirst("Content-Encoding"))) {
          try (InputStream gz = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(body))) {
            plain = gz.readAllBytes();
          }
        }
        String text = new String(plain, StandardCharsets.ISO_8859_1);
        if (text.contains("command=fetch") || (!text.contains("command=") && text.contains("want "))) {
          fetches.incrementAndGet();
          stalled = stallAfter;
        }
      }
      ProcessBuilder pb = new ProcessBuilder("git", "http-backend");
      Map<String, String> env = pb.environment();
      env.put("GIT_PROJECT_ROOT", root.toString());
      env.put("GIT_HTTP_EXPORT_ALL", "1");
      env.put("GIT_CONFIG_NOSYSTEM", "1");
      env.put("HOME", root.toString());
      env.put("GATEWAY_INTERFACE", "CGI/1.1");
      env.put("SERVER_PROTOCOL", "HTTP/1.1");
      env.put("REQUEST_METHOD", ex.getRequestMethod());
      env.put("PATH_INFO", pathInfo);
      env.put("QUERY_STRING", ex.getRequestURI().getRawQuery() == null ? "" : ex.getRequestURI().getRawQuery());
      env.put("REMOTE_ADDR", "127.0.0.1");
      env.put("REMOTE_USER", expectedAuth == null ? "" : "user");
      putHeader(ex, env, "Content-Type", "CONTENT_TYPE");
      putHeader(ex, env, "Content-Length", "CONTENT_LENGTH");
      putHeader(ex, env, "Content-Encoding", "HTTP_CONTENT_ENCODING");
      putHeader(ex, env, "Git-Protocol", "GIT_PROTOCOL");
      pb.redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
      Process p = pb.start();
      Thread feeder = new Thread(() -> {
        try (OutputStream out = p.getOutputStream()) {
          out.write(body);
        } catch (IOException e) {
          // the backend stopped reading (it answered early); its response still goes back
        }
      }, "git-http-backend-stdin");
      feeder.start();
      try (InputStream out = p.getInputStream()) {
        int status = 200;
        for (String line : readHeaders(out)) {
          int colon = line.indexOf(':');
          if (colon < 0) {
            continue;
          }
          String name = line.substring(0, colon).trim();
          String value = line.substring(colon + 1).trim();
          if (name.equalsIgnoreCase("Status")) {
            status = Integer.parseInt(value.split(" ")[0]);
          } else {
            ex.getResponseHeaders().add(name, value);
          }
        }
        ex.sendResponseHeaders(status, 0);
        try (OutputStream response = ex.getResponseBody()) {
          if (stalled >= 0) {
            response.write(out.readNBytes(stalled));
            response.flush();
            closed.await(60, TimeUnit.SECONDS);
            p.destroyForcibly();
            return;
          }
          out.transferTo(response);
        }
      }
      feeder.join(TimeUnit.SECONDS.toMillis(10));
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void putHeader(HttpExchange ex, Map<String, String> env, String header, String variable) {
    String v = ex.getRequestHeaders().getFirst(header);
    if (v != null) {
      env.put(variable, v);
    }
  }

  /** Reads CGI header lines up to the blank line. */
  private static java.util.List<String> readHeaders(InputStream in) throws IOException {
    java.util.List<String> lines = new java.util.ArrayList<>();
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0) {
      if (b == '\n') {
        String s = line.toString(StandardCharsets.ISO_8859_1);
        if (s.endsWith("\r")) {
          s = s.substring(0, s.length() - 1);
        }
        if (s.isEmpty()) {
          break;
        }
        lines.add(s);
        line.reset();
      } else {
        line.write(b);
      }
    }
    return lines;
  }

  /** Stops the server and deletes the http-backend log (read {@link #log()} before, to report it). */
  @Override
  public void close() throws InterruptedException {
    try {
      closed.countDown();
      server.stop(0);
      executor.shutdownNow();
      executor.awaitTermination(10, TimeUnit.SECONDS);
    } finally {
      try {
        Files.deleteIfExists(log);
      } catch (IOException e) {
        // a log left in the temporary directory fails no test
      }
    }
  }
}
