package dev.gitops.micrometer;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves an agent's health and metrics on the JDK's HTTP server: {@code GET /metrics} (the
 * registry in the Prometheus text format), {@code GET /healthz} (200 while the process runs) and
 * {@code GET /readyz} (200 when {@link Readiness} names nothing that is not ready, else 503 with
 * one line per reason).
 *
 * <pre>{@code
 * PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
 * try (MetricsServer server = MetricsServer.start(new InetSocketAddress(9090), registry, agent::notReady)) {
 *   log.info("metrics at http://localhost:{}/metrics", server.address().getPort());
 *   agent.awaitTermination(Duration.ofDays(365));   // serve while the agent runs
 * }
 * }</pre>
 */
public final class MetricsServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(MetricsServer.class);
  private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  /** What {@code /readyz} asks. */
  @FunctionalInterface
  public interface Readiness {
    /** Why the process is not ready, one reason per element; empty when it is ready. */
    List<String> notReady();
  }

  private final HttpServer server;
  private final ExecutorService executor;

  private MetricsServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /**
   * Starts serving on {@code address} (port 0: any free port, see {@link #address()}).
   *
   * @throws IOException when the address cannot be bound (in use, not local)
   */
  public static MetricsServer start(InetSocketAddress address, PrometheusMeterRegistry registry, Readiness readiness)
      throws IOException {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(readiness, "readiness");
    HttpServer server = HttpServer.create(address, 16);
    ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "gitops-metrics-http");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(executor);
    server.createContext("/", exchange -> handle(exchange, registry, readiness));
    server.start();
    LOG.info("serving /metrics, /healthz and /readyz on {}", server.getAddress());
    return new MetricsServer(server, executor);
  }

  /** The address bound (with the port chosen when 0 was asked for). */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  private static void handle(HttpExchange exchange, PrometheusMeterRegistry registry, Readiness readiness)
      throws IOException {
    try (exchange) {
      String method = exchange.getRequestMethod();
      if (!"GET".equals(method) && !"HEAD".equals(method)) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        reply(exchange, 405, "text/plain; charset=utf-8", "method not allowed: " + method + "\n");
        return;
      }
      switch (exchange.getRequestURI().getPath()) {
        case "/metrics" -> reply(exchange, 200, PROMETHEUS_TEXT, registry.scrape());
        case "/healthz" -> reply(exchange, 200, "text/plain; charset=utf-8", "ok\n");
        case "/readyz" -> ready(exchange, readiness);
        default -> reply(exchange, 404, "text/plain; charset=utf-8", "not found; try /metrics, /healthz or /readyz\n");
      }
    }
  }

  private static void ready(HttpExchange exchange, Readiness readiness) throws IOException {
    List<String> reasons;
    try {
      reasons = List.copyOf(readiness.notReady());
    } catch (RuntimeException e) {
      // A readiness check that fails says "not ready" rather than taking the endpoint down.
      LOG.warn("readiness check failed: {}", e.toString());
      reasons = List.of("readiness check failed: " + e.getMessage());
    }
    if (reasons.isEmpty()) {
      reply(exchange, 200, "text/plain; charset=utf-8", "ready\n");
    } else {
      reply(exchange, 503, "text/plain; charset=utf-8", String.join("\n", reasons) + "\n");
    }
  }

  private static void reply(HttpExchange exchange, int status, String contentType, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    boolean head = "HEAD".equals(exchange.getRequestMethod());
    exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
    if (!head) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  /** Stops serving at once: scrapes are quick, and a scraper retries the next interval. */
  @Override
  public void close() {
    server.stop(0);
    executor.shutdown();
    try {
      if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
        executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      executor.shutdownNow();
    }
  }
}
