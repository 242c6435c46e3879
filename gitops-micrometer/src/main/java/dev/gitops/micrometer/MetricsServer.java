package dev.gitops.micrometer;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves an agent's health and metrics on the JDK's HTTP server: {@code GET /metrics} (the
 * registry in the Prometheus text format), {@code GET /healthz} (200 while the process runs) and
 * {@code GET /readyz} (200 when {@link Readiness} names nothing that is not ready, else 503 with
 * one line per reason).
 *
 * <p>A client gets 2 seconds to send its request and 10 seconds for the whole exchange, from its
 * first byte to the end of the reply: a client that sends its request a byte at a time, or never
 * finishes it, is cut off after 2 seconds, one that does not read the reply after 10, and while it
 * lasts it holds one of 32 threads. A request that declares a body (which nothing here reads) is
 * answered at once with an error and {@code Connection: close}, and keeps the 2 seconds in all: a
 * client that never sends the body it announced is cut off then too. So a probe waits behind
 * stalled clients only when 32 or more are connected at once, and then at most about 2 seconds
 * however many they are: the newest request waiting for a thread is served first, and the kernel
 * holds 256 connections not taken in yet (a burst does not have a probe's handshake
 * dropped and retried a second later).
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
  /** Exchanges served at once: slow clients must not hold up a scrape or a probe. */
  static final int THREADS = 32;
  /**
   * Connections the kernel holds until the server takes them in: a burst of connections beyond it
   * has the kernel drop the next ones' handshakes, and a client (a probe among them) tries again
   * only a second or more later.
   */
  static final int BACKLOG = 256;
  /** How long a client may take to send its request (a scraper or a probe sends it at once). */
  static final int REQUEST_SECONDS = 2;
  /** How long one exchange may take, reading the request included. */
  static final int DEADLINE_SECONDS = 10;
  /** The cut-off of the exchange the current thread serves, moved on once its request is read. */
  private static final ThreadLocal<Cutoff> CUTOFF = new ThreadLocal<>();

  /** What {@code /readyz} asks. */
  @FunctionalInterface
  public interface Readiness {
    /** Why the process is not ready, one reason per element; empty when it is ready. */
    List<String> notReady();
  }

  private final HttpServer server;
  private final ThreadPoolExecutor executor;
  private final ScheduledExecutorService deadlines;

  private MetricsServer(HttpServer server, ThreadPoolExecutor executor, ScheduledExecutorService deadlines) {
    this.server = server;
    this.executor = executor;
    this.deadlines = deadlines;
  }

  /**
   * Starts serving on {@code address} (port 0: any free port, see {@link #address()}).
   *
   * @throws IOException when the address cannot be bound (in use, not local)
   */
  public static MetricsServer start(InetSocketAddress address, PrometheusMeterRegistry registry, Readiness readiness)
      throws IOException {
    return start(address, registry, readiness, Duration.ofSeconds(REQUEST_SECONDS), Duration.ofSeconds(DEADLINE_SECONDS));
  }

  /** {@link #start(InetSocketAddress, PrometheusMeterRegistry, Readiness)} with other deadlines (tests). */
  static MetricsServer start(InetSocketAddress address, PrometheusMeterRegistry registry, Readiness readiness,
      Duration requestDeadline, Duration deadline) throws IOException {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(readiness, "readiness");
    HttpServer server = HttpServer.create(address, BACKLOG);
    ThreadPoolExecutor executor = new ThreadPoolExecutor(THREADS, THREADS, 60, TimeUnit.SECONDS,
        new NewestFirst(), r -> {
          Thread t = new Thread(r, "gitops-metrics-http");
          t.setDaemon(true);
          return t;
        });
    executor.allowCoreThreadTimeOut(true);
    ScheduledExecutorService deadlines = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "gitops-metrics-deadline");
      t.setDaemon(true);
      return t;
    });
    // The JDK's server reads a request on the executor's thread, in blocking mode: without a
    // deadline, a client sending a byte a minute would hold a thread for good.
    server.setExecutor(withDeadline(executor, deadlines, requestDeadline, deadline));
    server.createContext("/", exchange -> handle(exchange, registry, readiness));
    server.start();
    LOG.info("serving /metrics, /healthz and /readyz on {}", server.getAddress());
    return new MetricsServer(server, executor, deadlines);
  }

  /**
   * Runs each exchange on {@code executor}, interrupted when its request is not read within {@code
   * requestDeadline} or the whole exchange outlasts {@code deadline}: the interrupt closes the
   * connection's channel, which ends a read or write blocked on it.
   */
  private static Executor withDeadline(Executor executor, ScheduledExecutorService deadlines,
      Duration requestDeadline, Duration deadline) {
    return exchange -> executor.execute(() -> {
      Cutoff cutoff = new Cutoff(Thread.currentThread(), deadlines, System.nanoTime() + deadline.toNanos());
      cutoff.at(Math.min(requestDeadline.toNanos(), deadline.toNanos()), "its request did not come within " + requestDeadline);
      CUTOFF.set(cutoff);
      try {
        exchange.run();
      } finally {
        CUTOFF.remove();
        cutoff.done();
        Thread.interrupted();  // an interrupt meant for this exchange must not reach the next one
      }
    });
  }

  /**
   * The exchanges waiting for a thread, the newest taken first: a probe that comes after a burst of
   * stalled clients, more than there are threads, waits for one thread to be freed (the request's
   * deadline at most), not for the whole backlog ahead of it, {@link #THREADS} per deadline.
   */
  private static final class NewestFirst extends LinkedBlockingDeque<Runnable> {
    private static final long serialVersionUID = 1L;

    @Override
    public boolean offer(Runnable exchange) {
      return offerFirst(exchange);
    }
  }

  /** When the exchange a thread serves is cut off: first at the request's deadline, then at the whole exchange's. */
  private static final class Cutoff {
    private final Thread thread;
    private final ScheduledExecutorService deadlines;
    private final long endNanos;
    private ScheduledFuture<?> pending;
    private boolean done;

    Cutoff(Thread thread, ScheduledExecutorService deadlines, long endNanos) {
      this.thread = thread;
      this.deadlines = deadlines;
      this.endNanos = endNanos;
    }

    /** Cuts the exchange off {@code inNanos} from now (replacing the cut-off set before), logging {@code why}. */
    synchronized void at(long inNanos, String why) {
      if (pending != null) {
        pending.cancel(false);
      }
      pending = deadlines.schedule(() -> {
        synchronized (this) {
          if (!done) {
            LOG.debug("an HTTP exchange is cut off ({}): its connection is closed", why);
            thread.interrupt();
          }
        }
      }, Math.max(0, inNanos), TimeUnit.NANOSECONDS);
    }

    /** The request is read: the exchange has until its whole deadline. */
    void requestRead() {
      at(endNanos - System.nanoTime(), "it took longer than its deadline");
    }

    synchronized void done() {
      done = true;
      if (pending != null) {
        pending.cancel(false);
      }
    }
  }

  /** The address bound (with the port chosen when 0 was asked for). */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  private static void handle(HttpExchange exchange, PrometheusMeterRegistry registry, Readiness readiness)
      throws IOException {
    boolean body = declaresBody(exchange);
    Cutoff cutoff = CUTOFF.get();
    if (cutoff != null && !body) {
      cutoff.requestRead();  // the JDK's server calls this once the request line and headers are in
    }
    try (exchange) {
      String method = exchange.getRequestMethod();
      if (body) {
        // Closing the exchange makes the JDK's server drain the body it was told of, which blocks
        // on a client that never sends it: the request's deadline, kept, cuts that off, and the
        // connection is not kept for another request.
        exchange.getResponseHeaders().set("Connection", "close");
      }
      if (!"GET".equals(method) && !"HEAD".equals(method)) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        reply(exchange, 405, "text/plain; charset=utf-8", "method not allowed: " + method + "\n");
        return;
      }
      if (body) {
        reply(exchange, 413, "text/plain; charset=utf-8", "a request body is not accepted: send " + method
            + " without one\n");
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

  /** Whether the request says a body follows (a length other than 0, or a transfer coding): none is read. */
  private static boolean declaresBody(HttpExchange exchange) {
    String length = exchange.getRequestHeaders().getFirst("Content-Length");
    return exchange.getRequestHeaders().containsKey("Transfer-Encoding")
        || (length != null && !length.trim().equals("0"));
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
      StringBuilder body = new StringBuilder();
      for (String reason : reasons) {
        body.append(oneLine(reason)).append('\n');
      }
      reply(exchange, 503, "text/plain; charset=utf-8", body.toString());
    }
  }

  /**
   * {@code reason} on one line: each line break, with the blanks around it, becomes one space, so
   * that the body keeps one reason a line whatever a reason quotes (a multi-line error message).
   */
  private static String oneLine(String reason) {
    return String.valueOf(reason).strip().replaceAll("\\s*\\R\\s*", " ");
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
    } finally {
      deadlines.shutdownNow();
    }
  }
}
