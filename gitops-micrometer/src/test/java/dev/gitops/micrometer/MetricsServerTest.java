package dev.gitops.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.core.Reconciler;
import dev.gitops.core.store.InMemoryStateStore;
import dev.gitops.testkit.InMemoryProvider;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The endpoints over real HTTP on loopback; /metrics parsed as Prometheus text. */
class MetricsServerTest {

  final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  final List<String> notReady = new CopyOnWriteArrayList<>(List.of("target web has not synced yet"));
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  MetricsServer server;

  @BeforeEach
  void start() throws IOException {
    server = MetricsServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), registry,
        () -> notReady);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(url(path)).GET());
  }

  HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
    return http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  URI url(String path) {
    return URI.create("http://127.0.0.1:" + server.address().getPort() + path);
  }

  @Test
  void metricsOfARealSyncAreScrapedInThePrometheusFormat() throws Exception {
    SyncMetrics metrics = SyncMetrics.builder(registry).target("web").provider("memory").build();
    InMemoryProvider live = InMemoryProvider.builder().id("memory").build();
    ObjectMapper json = new ObjectMapper();
    State desired = State.of("main@sha1:" + "a".repeat(40), List.of(
        Resource.of(ResourceKey.of("memory", "thing", "", "a"), json.createObjectNode().put("n", 1)),
        Resource.of(ResourceKey.of("memory", "thing", "", "b"), json.createObjectNode().put("n", 2))));
    Reconciler.builder().desiredState(desired).provider(live).store(new InMemoryStateStore()).listener(metrics).build()
        .sync();

    HttpResponse<String> r = get("/metrics");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
    PrometheusText scraped = PrometheusText.parse(r.body());
    Map<String, String> web = Map.of("target", "web", "provider", "memory");
    assertThat(scraped.type("gitops_syncs_total")).isEqualTo("counter");
    assertThat(scraped.value("gitops_syncs_total", web, Map.of("result", "succeeded"))).isEqualTo(1.0);
    assertThat(scraped.value("gitops_syncs_total", web, Map.of("result", "failed"))).isEqualTo(0.0);
    assertThat(scraped.value("gitops_changes_applied_total", web, Map.of("action", "create"))).isEqualTo(2.0);
    assertThat(scraped.value("gitops_resources", web, Map.of("status", "in_sync"))).isEqualTo(2.0);
    assertThat(scraped.value("gitops_sync_duration_seconds_count", web, Map.of("result", "succeeded"))).isEqualTo(1.0);
    assertThat(scraped.value("gitops_sync_last_success_seconds", web, Map.of()))
        .isGreaterThan(System.currentTimeMillis() / 1000.0 - 600);
    assertThat(scraped.value("gitops_drift_detected_total", web, Map.of())).isEqualTo(0.0);
    assertThat(scraped.value("gitops_source_fetch_skips_total", web, Map.of())).isEqualTo(0.0);
    assertThat(r.body().lines().filter(l -> l.startsWith("# HELP ")).toList()).as("every meter is described")
        .isNotEmpty().allMatch(l -> l.matches("# HELP \\S+ +\\S.*"));
  }

  @Test
  void healthzIsAlwaysOkAndReadyzFollowsTheReadinessCheck() throws Exception {
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
    HttpResponse<String> waiting = get("/readyz");
    assertThat(waiting.statusCode()).isEqualTo(503);
    assertThat(waiting.body()).contains("target web has not synced yet");
    notReady.clear();
    HttpResponse<String> ready = get("/readyz");
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.body()).isEqualTo("ready\n");
  }

  /**
   * Readyz gives one reason a line, so a probe's log or a person counts them: a reason that holds a
   * line break (an error message quoting a multi-line value, a failed check's message) was written
   * as it was, and read as two reasons.
   */
  @Test
  void eachReasonIsOneLineOfReadyzEvenWhenItHoldsLineBreaks() throws Exception {
    notReady.clear();
    notReady.addAll(List.of("target web: its last sync: error: bad.yaml: line one\r\n  line two\n", "target api is stuck"));
    HttpResponse<String> r = get("/readyz");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body()).isEqualTo("target web: its last sync: error: bad.yaml: line one line two\ntarget api is stuck\n");
    server.close();
    server = MetricsServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), registry, () -> {
      throw new IllegalStateException("first\nsecond");
    });
    assertThat(get("/readyz").body()).isEqualTo("readiness check failed: first second\n");
  }

  @Test
  void aFailingReadinessCheckIsNotReadyAndTheServerStaysUp() throws Exception {
    server.close();
    server = MetricsServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), registry, () -> {
      throw new IllegalStateException("agent stopping");
    });
    HttpResponse<String> r = get("/readyz");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body()).contains("agent stopping");
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
  }

  @Test
  void unknownPathsAreNotFoundAndWritesNotAllowed() throws Exception {
    assertThat(get("/").statusCode()).isEqualTo(404);
    HttpResponse<String> post = send(HttpRequest.newBuilder(url("/metrics")).POST(HttpRequest.BodyPublishers.ofString("x")));
    assertThat(post.statusCode()).isEqualTo(405);
    assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD");
  }

  /** Connections that sent one byte of a request, and nothing more. */
  List<Socket> slowClients(int n) throws IOException {
    List<Socket> slow = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Socket s = new Socket(InetAddress.getLoopbackAddress(), server.address().getPort());
      s.getOutputStream().write('G');
      s.getOutputStream().flush();
      slow.add(s);
    }
    return slow;
  }

  @Test
  void aFewClientsSendingByteByByteDoNotHoldUpAScrape() throws Exception {
    List<Socket> slow = slowClients(4);
    try {
      Thread.sleep(200);  // their exchanges have started
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(url("/healthz")).timeout(Duration.ofSeconds(3)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
    } finally {
      for (Socket s : slow) {
        s.close();
      }
    }
  }

  @Test
  void manyStalledClientsDoNotHoldUpAProbeAndAreCutOffAtTheRequestsDeadlineNotTheExchanges() throws Exception {
    // the defaults: 2 s for the request, 10 s for the exchange
    List<Socket> stalled = slowClients(MetricsServer.THREADS - 4);
    try {
      Thread.sleep(200);  // their exchanges have started
      long start = System.nanoTime();
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(url("/readyz")).timeout(Duration.ofSeconds(8)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isIn(200, 503);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).as("a thread was free for the probe")
          .isLessThan(Duration.ofSeconds(MetricsServer.REQUEST_SECONDS));
      Socket first = stalled.get(0);
      first.setSoTimeout(8_000);
      long waited = System.nanoTime();
      int read;
      try {
        read = first.getInputStream().read();
      } catch (SocketException reset) {
        read = -1;
      }
      assertThat(read).as("closed without a reply").isEqualTo(-1);
      assertThat(Duration.ofNanos(System.nanoTime() - waited)).as("at the request's deadline, not the exchange's")
          .isLessThan(Duration.ofSeconds(MetricsServer.DEADLINE_SECONDS - 3));
    } finally {
      for (Socket s : stalled) {
        s.close();
      }
    }
  }

  @Test
  void aClientThatNeverFinishesItsRequestIsCutOffAtTheDeadline() throws Exception {
    server.close();
    server = MetricsServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), registry, () -> notReady,
        Duration.ofSeconds(1), Duration.ofSeconds(1));
    // more slow clients than threads: every thread is held until the deadline frees it
    List<Socket> slow = slowClients(MetricsServer.THREADS + 2);
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(url("/healthz")).timeout(Duration.ofSeconds(8)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      Socket first = slow.get(0);
      first.setSoTimeout(5_000);
      InputStream in = first.getInputStream();
      int read;
      try {
        read = in.read();
      } catch (SocketException reset) {
        read = -1;
      }
      assertThat(read).as("the server closed the slow connection without a reply").isEqualTo(-1);
    } finally {
      for (Socket s : slow) {
        s.close();
      }
    }
  }

  @Test
  void aBurstOfClientsManyTimesTheThreadsIsTakenInAtOnceAndAProbeAfterItWaitsOneDeadlineNotTheBacklog()
      throws Exception {
    server.close();
    server = MetricsServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), registry, () -> notReady,
        Duration.ofSeconds(1), Duration.ofSeconds(1));
    List<Socket> stalled = new ArrayList<>();
    try {
      Duration slowest = Duration.ZERO;
      for (int i = 0; i < 6 * MetricsServer.THREADS; i++) {
        long start = System.nanoTime();
        stalled.add(new Socket(InetAddress.getLoopbackAddress(), server.address().getPort()));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        slowest = took.compareTo(slowest) > 0 ? took : slowest;
      }
      assertThat(slowest).as("no connect waited for the kernel to retry a handshake it dropped (a second or more)")
          .isLessThan(Duration.ofMillis(900));
      // then each sends one byte and stalls: six threads' worth, which in order would take six deadlines to clear
      for (Socket s : stalled) {
        s.getOutputStream().write('G');
        s.getOutputStream().flush();
      }
      long start = System.nanoTime();
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(url("/healthz")).timeout(Duration.ofSeconds(15)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).as("served by the first thread a deadline frees")
          .isLessThan(Duration.ofSeconds(3));
    } finally {
      for (Socket s : stalled) {
        s.close();
      }
    }
  }

  @Test
  void clientsThatDeclareABodyAndNeverSendItGetAnErrorAtOnceAndAreCutOffAtTheRequestsDeadline() throws Exception {
    // the defaults: 2 s for the request, 10 s for the exchange; every thread is taken by such a client
    List<String> requests = List.of("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    List<Socket> stalled = new ArrayList<>();
    try {
      for (int i = 0; i < MetricsServer.THREADS; i++) {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), server.address().getPort());
        s.setSoTimeout(8_000);
        s.getOutputStream().write(requests.get(i % requests.size()).getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        stalled.add(s);
      }
      Thread.sleep(300);  // their exchanges have started
      long start = System.nanoTime();
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(url("/healthz")).timeout(Duration.ofSeconds(9)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).as("the probe waited for the request's deadline at most")
          .isLessThan(Duration.ofMillis(MetricsServer.REQUEST_SECONDS * 1000L + 1500));
      for (int i = 0; i < requests.size(); i++) {
        String reply = readAll(stalled.get(i));
        assertThat(reply).as(requests.get(i)).startsWith(i == 0 ? "HTTP/1.1 405" : "HTTP/1.1 413")
            .containsIgnoringCase("connection: close");
      }
    } finally {
      for (Socket s : stalled) {
        s.close();
      }
    }
  }

  /** What {@code s} reads until the server closes it (bounded by its read timeout). */
  static String readAll(Socket s) throws IOException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    try {
      for (int n; (n = s.getInputStream().read(buf)) >= 0 && out.size() < 1 << 20; ) {
        out.write(buf, 0, n);
      }
    } catch (SocketException reset) {
      // closed by the server with the body unread: what came before is the reply
    }
    return out.toString(StandardCharsets.US_ASCII);
  }
}
