package dev.gitops.images.registry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A scripted HTTP server on 127.0.0.1 standing in for a registry where the real one cannot show a
 * behaviour (tag pagination, 429/5xx, basic auth, missing digest headers). Every request is recorded.
 */
public final class RegistryStub implements AutoCloseable {

  /** One request as received. */
  public record Seen(String method, String uri, Map<String, List<String>> headers, long nanos) {
    /** The first value of {@code header}, or null. */
    public String header(String name) {
      return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
          .findFirst().map(e -> e.getValue().get(0)).orElse(null);
    }
  }

  /** Answers one request. */
  @FunctionalInterface
  public interface Handler {
    void handle(HttpExchange ex) throws IOException;
  }

  private final HttpServer server;
  private final ExecutorService executor = Executors.newFixedThreadPool(4);
  private final List<Seen> seen = new CopyOnWriteArrayList<>();

  private RegistryStub(Handler handler) throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.setExecutor(executor);
    server.createContext("/", ex -> {
      try (ex) {
        seen.add(new Seen(ex.getRequestMethod(), ex.getRequestURI().toString(), Map.copyOf(ex.getRequestHeaders()),
            System.nanoTime()));
        handler.handle(ex);
      }
    });
    server.start();
  }

  /** Starts a stub answering with {@code handler}. */
  public static RegistryStub start(Handler handler) throws IOException {
    return new RegistryStub(handler);
  }

  /** host:port. */
  public String host() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  /** The requests so far. */
  public List<Seen> seen() {
    return List.copyOf(seen);
  }

  /** Sends {@code status} with a JSON {@code body} (null: none) and extra headers (name, value, ...). */
  public static void reply(HttpExchange ex, int status, String body, String... headers) throws IOException {
    for (int i = 0; i + 1 < headers.length; i += 2) {
      ex.getResponseHeaders().add(headers[i], headers[i + 1]);
    }
    byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    if (body != null) {
      ex.getResponseHeaders().add("Content-Type", "application/json");
    }
    boolean head = ex.getRequestMethod().equals("HEAD");
    ex.sendResponseHeaders(status, head || bytes.length == 0 ? -1 : bytes.length);
    if (!head && bytes.length > 0) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
