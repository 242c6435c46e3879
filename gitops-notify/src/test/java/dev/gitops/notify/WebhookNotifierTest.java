package dev.gitops.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.api.Outcome;
import dev.gitops.api.Resource;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.core.Reconciler;
import dev.gitops.core.apply.ExecutionOptions;
import dev.gitops.core.apply.RetryPolicy;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.store.InMemoryStateStore;
import dev.gitops.testkit.FaultInjectingProvider;
import dev.gitops.testkit.InMemoryProvider;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Webhooks over real HTTP on loopback: bodies, signatures, retries, the bounded queue. */
class WebhookNotifierTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static final byte[] SECRET = "s3cret-for-hooks".getBytes(StandardCharsets.UTF_8);
  static final String REVISION = "main@sha1:" + "3f2a1b0c".repeat(5);
  static final DeliveryOptions FAST = DeliveryOptions.builder().backoff(Duration.ofMillis(10), Duration.ofMillis(50))
      .build();

  final Receiver receiver = new Receiver();

  WebhookNotifierTest() throws java.io.IOException {}

  @AfterEach
  void close() {
    receiver.close();
  }

  /** The receiver's check: HMAC-SHA256 of the raw body under the shared secret, compared in constant time. */
  static boolean signedWith(byte[] secret, Receiver.Request r) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(secret, "HmacSHA256"));
    byte[] expected = ("sha256=" + HexFormat.of().formatHex(mac.doFinal(r.body()))).getBytes(StandardCharsets.US_ASCII);
    String got = r.header(WebhookNotifier.SIGNATURE_HEADER);
    return got != null && java.security.MessageDigest.isEqual(expected, got.getBytes(StandardCharsets.US_ASCII));
  }

  @Test
  void theSignatureIsHmacSha256AsRfc4231Gives() {
    byte[] key = "Jefe".getBytes(StandardCharsets.US_ASCII);
    byte[] data = "what do ya want for nothing?".getBytes(StandardCharsets.US_ASCII);
    assertThat(WebhookNotifier.signature(key, data))
        .isEqualTo("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  }

  @Test
  void aFailedSyncIsPostedAsSignedJsonNamingTheFailedKey() throws Exception {
    InMemoryProvider memory = InMemoryProvider.builder().id("memory").build();
    Resource ok = Resource.of(memory.key("thing", "", "ok"), JSON.createObjectNode().put("n", 1));
    Resource bad = Resource.of(memory.key("thing", "", "bad"), JSON.createObjectNode().put("n", 2));
    FaultInjectingProvider live = FaultInjectingProvider.wrap(memory).failPermanently(bad.key()).build();
    try (WebhookNotifier hook = WebhookNotifier.builder(receiver.uri("/hooks/gitops")).secret(SECRET).delivery(FAST)
        .filter(NotificationFilter.all().withMinimum(Severity.WARNING)).build()) {
      SyncResult r = Reconciler.builder().desiredState(State.of(REVISION, List.of(ok, bad))).provider(live)
          .store(new InMemoryStateStore()).listener(new NotificationListener("web", "memory", hook::send))
          .options(SyncOptions.builder().execution(ExecutionOptions.defaults().withRetry(RetryPolicy.none())).build())
          .build().sync();
      assertThat(r.status()).isEqualTo(SyncResult.Status.FAILED);

      Receiver.await(() -> receiver.requests.size() == 1);
      Receiver.Request req = receiver.requests.get(0);
      assertThat(req.method()).isEqualTo("POST");
      assertThat(req.path()).isEqualTo("/hooks/gitops");
      assertThat(req.header("Content-Type")).isEqualTo("application/json");
      assertThat(req.header(WebhookNotifier.EVENT_HEADER)).isEqualTo("sync-failed");
      assertThat(signedWith(SECRET, req)).as("signature verifies").isTrue();
      assertThat(signedWith("another".getBytes(StandardCharsets.UTF_8), req)).isFalse();
      JsonNode body = JSON.readTree(req.body());
      assertThat(body.get("event").asText()).isEqualTo("sync-failed");
      assertThat(body.get("severity").asText()).isEqualTo("error");
      assertThat(body.get("target").asText()).isEqualTo("web");
      assertThat(body.get("provider").asText()).isEqualTo("memory");
      assertThat(body.get("revision").asText()).isEqualTo(REVISION);
      assertThat(body.get("commit").asText()).isEqualTo("3f2a1b0c".repeat(5));
      assertThat(body.get("message").asText()).isEqualTo("sync of main@3f2a1b0 failed: 1 of 2 changes failed");
      assertThat(body.get("resources")).hasSize(1);
      assertThat(body.get("resources").get(0).asText()).startsWith(bad.key() + ": PERMANENT");
      assertThat(body.get("counts").get("CREATED").asInt()).isEqualTo(1);
      assertThat(body.get("counts").get(Outcome.Kind.PERMANENT.name()).asInt()).isEqualTo(1);
      assertThat(java.time.Instant.parse(body.get("time").asText())).isNotNull();
    }
  }

  @Test
  void serverErrorsAreRetriedWithTheSameDeliveryIdUntilAccepted() throws Exception {
    receiver.answers.addAll(List.of(503, 500));
    try (WebhookNotifier hook = WebhookNotifier.builder(receiver.uri("/h")).secret(SECRET).delivery(FAST).build()) {
      hook.send(Notification.of(Event.GUARD_REFUSED, "web", "files", REVISION, "refused by mass-deletion guard"));
      Receiver.await(() -> hook.delivered() == 1);
      assertThat(receiver.requests).hasSize(3);
      assertThat(receiver.requests).extracting(r -> r.header(WebhookNotifier.DELIVERY_HEADER)).containsOnly(
          receiver.requests.get(0).header(WebhookNotifier.DELIVERY_HEADER));
      for (Receiver.Request r : receiver.requests) {
        assertThat(signedWith(SECRET, r)).isTrue();
      }
      assertThat(hook.dropped()).isZero();
    }
  }

  @Test
  void aWaitShorterThanTheBackoffAskedByTheAnswerDoesNotMakeTheRetriesComeAtOnce() throws Exception {
    // Retry-After: 0, and a rate limit reset already past: each retry still waits its backoff
    receiver.replies.add(new Receiver.Reply(503, java.util.Map.of("Retry-After", "0"), "{}"));
    receiver.replies.add(new Receiver.Reply(429, java.util.Map.of("x-ratelimit-remaining", "0", "x-ratelimit-reset",
        "1"), "{}"));
    DeliveryOptions slower = FAST.toBuilder().backoff(Duration.ofMillis(250), Duration.ofSeconds(1)).build();
    try (WebhookNotifier hook = WebhookNotifier.builder(receiver.uri("/h")).delivery(slower).build()) {
      hook.send(Notification.of(Event.SYNC_FAILED, "web", "files", REVISION, "boom"));
      Receiver.await(() -> hook.delivered() == 1);
      assertThat(receiver.requests).hasSize(3);
      // the backoff with its jitter: 250 ms at least 200, then 500 ms at least 400; lower bounds only
      assertThat(receiver.requests.get(1).nanos() - receiver.requests.get(0).nanos()).isGreaterThan(190_000_000L);
      assertThat(receiver.requests.get(2).nanos() - receiver.requests.get(1).nanos()).isGreaterThan(390_000_000L);
    }
  }

  @Test
  void aRateLimitResetNoInstantHoldsIsRetriedWithTheBackoffNotDropped() throws Exception {
    // past Instant.MAX and before Instant.MIN: Instant.ofEpochSecond throws DateTimeException
    receiver.replies.add(new Receiver.Reply(503, java.util.Map.of("x-ratelimit-remaining", "0", "x-ratelimit-reset",
        "99999999999999999"), "{}"));
    receiver.replies.add(new Receiver.Reply(429, java.util.Map.of("x-ratelimit-remaining", "0", "x-ratelimit-reset",
        "-99999999999999999"), "{}"));
    try (WebhookNotifier hook = WebhookNotifier.builder(receiver.uri("/h")).delivery(FAST).build()) {
      hook.send(Notification.of(Event.SYNC_FAILED, "web", "files", REVISION, "boom"));
      Receiver.await(() -> hook.delivered() + hook.dropped() == 1);
      assertThat(hook.delivered()).as("retried after the backoff, then delivered").isEqualTo(1);
      assertThat(receiver.requests).hasSize(3);
    }
  }

  @Test
  void aRedirectIsNotFollowedAndTheLogSaysWhereToShowingNoPath() throws Exception {
    receiver.replies.add(new Receiver.Reply(308, java.util.Map.of("Location",
        "https://elsewhere.example.com:8443/hooks?token=S3CRET"), ""));
    receiver.replies.add(new Receiver.Reply(301, java.util.Map.of("Location", "/moved/S3CRET"), ""));
    try (LogLines log = LogLines.of(HttpNotifier.class);
        WebhookNotifier hook = WebhookNotifier.builder(receiver.uri("/h")).secret(SECRET).delivery(FAST).build()) {
      hook.send(Notification.of(Event.SYNC_FAILED, "web", "files", REVISION, "one"));
      hook.send(Notification.of(Event.SYNC_FAILED, "web", "files", REVISION, "two"));
      Receiver.await(() -> hook.dropped() == 2);
      assertThat(receiver.requests).as("neither followed nor retried").hasSize(2);
      assertThat(log.text()).contains("HTTP 308 (a redirect to https://elsewhere.example.com:8443, not followed: "
          + "configure the URL it points to)").contains("HTTP 301 (a redirect to " + receiver.uri("").toString()
          .replaceAll("/$", "") + " (another path), not followed").doesNotContain("S3CRET");
    }
  }

  @Test
  void aClientErrorIsNotRetriedAndCountsAsDropped() throws Exception {
    receiver.answers.add(400);
    try (WebhookNotifier hook = WebhookNotifier.builder(receiver.uri("/h")).delivery(FAST).build()) {
      hook.send(Notification.of(Event.SYNC_FAILED, "web", "files", REVISION, "boom"));
      Receiver.await(() -> hook.dropped() == 1);
      assertThat(receiver.requests).hasSize(1);
      assertThat(receiver.requests.get(0).header(WebhookNotifier.SIGNATURE_HEADER)).as("no secret, no signature").isNull();
    }
  }

  @Test
  void giveUpAfterMaxAttemptsAndCountTheDrop() throws Exception {
    receiver.answers.addAll(List.of(502, 502, 502, 502));
    try (WebhookNotifier hook = WebhookNotifier.builder(receiver.uri("/h"))
        .delivery(FAST.toBuilder().maxAttempts(3).build()).build()) {
      hook.send(Notification.of(Event.SYNC_FAILED, "web", "files", REVISION, "boom"));
      Receiver.await(() -> hook.dropped() == 1);
      assertThat(receiver.requests).hasSize(3);
      assertThat(hook.delivered()).isZero();
    }
  }

  @Test
  void aFullQueueDropsAndCountsInsteadOfBlocking() throws Exception {
    receiver.hold = new CountDownLatch(1);
    try (WebhookNotifier hook = WebhookNotifier.builder(receiver.uri("/h"))
        .delivery(FAST.toBuilder().queueCapacity(2).build()).build()) {
      hook.send(Notification.of(Event.SYNC_FAILED, "web", "files", REVISION, "first"));
      Receiver.await(() -> receiver.requests.size() == 1);  // in flight, held by the receiver
      assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
        for (int i = 0; i < 9; i++) {
          hook.send(Notification.of(Event.SYNC_FAILED, "web", "files", REVISION, "more " + i));
        }
      }, "send never waits for the endpoint");
      assertThat(hook.dropped()).isEqualTo(7);
      receiver.hold.countDown();
      Receiver.await(() -> hook.delivered() == 3);
      assertThat(receiver.requests).extracting(r -> JSON.readTree(r.body()).get("message").asText())
          .containsExactly("first", "more 0", "more 1");
    }
  }

  @Test
  void aQueueAsLargeAsAnIntCanHoldIsTakenAndTakesNoMemoryUntilUsed() throws Exception {
    // "as good as unbounded": an array of that capacity is more than a JVM allocates (OutOfMemoryError at build)
    try (WebhookNotifier hook = WebhookNotifier.builder(receiver.uri("/h"))
        .delivery(FAST.toBuilder().queueCapacity(Integer.MAX_VALUE).build()).build()) {
      hook.send(Notification.of(Event.SYNC_FAILED, "web", "files", REVISION, "boom"));
      Receiver.await(() -> hook.delivered() == 1);
      assertThat(hook.dropped()).isZero();
    }
  }

  @Test
  void theNameInLogsShowsNeitherUserInfoNorThePathWhereTokensHide() {
    try (WebhookNotifier hook = WebhookNotifier.builder(
        URI.create("https://bot:hunter2@hooks.example.com:8443/services/T0/B0/XoXoSeCrEt?token=abc")).build()) {
      assertThat(hook.name()).isEqualTo("webhook https://hooks.example.com:8443");
      assertThat(hook.toString()).doesNotContain("hunter2").doesNotContain("XoXoSeCrEt").doesNotContain("abc");
    }
  }

  @Test
  void anAnswerEchoingTheUrlShowsNeitherItsPathNorItsQueryInTheLog() throws Exception {
    // an endpoint may quote the URL it was asked (Express's 404 "Cannot POST /path"), where the hook's token is
    receiver.replies.add(new Receiver.Reply(404, java.util.Map.of(), "Cannot POST /services/T0/B0/XoXoSeCrEt"));
    receiver.replies.add(new Receiver.Reply(400, java.util.Map.of(), "{\"error\":\"no hook XoXoSeCrEt, key K3yK3yK3yK3y\"}"));
    // the log keeps the first 200 characters: a token cut there is masked all the same
    receiver.replies.add(new Receiver.Reply(400, java.util.Map.of(), "x".repeat(186) + " hook XoXoSeCrEt unknown"));
    try (LogLines log = LogLines.of(HttpNotifier.class);
        WebhookNotifier hook = WebhookNotifier.builder(receiver.uri("/services/T0/B0/XoXoSeCrEt?key=K3yK3yK3yK3y"))
            .delivery(FAST).build()) {
      for (int i = 0; i < 3; i++) {
        hook.send(Notification.of(Event.SYNC_FAILED, "web", "files", REVISION, "boom " + i));
      }
      Receiver.await(() -> hook.dropped() == 3);
      assertThat(log.text()).contains("HTTP 404 Cannot POST ***").contains("no hook ***, key ***")
          .doesNotContain("XoXo").doesNotContain("K3yK3y");
    }
  }

  @Test
  void aNameGivenToTheBuilderIsTheOneLogsAndNameShow() {
    // two webhooks to one host: their default names are alike, so gitops run names each its own way
    try (LogLines log = LogLines.of(HttpNotifier.class)) {
      WebhookNotifier hook = WebhookNotifier.builder(receiver.uri("/second")).name("webhook alerts (notifications[1])")
          .build();
      hook.close();
      hook.send(Notification.of(Event.SYNC_FAILED, "web", "files", REVISION, "after close"));
      assertThat(hook.name()).isEqualTo("webhook alerts (notifications[1])");
      assertThat(log.lines()).containsExactly("WARN notifier webhook alerts (notifications[1]): closed, dropped"
          + " sync-failed for target 'web' (1 dropped so far)");
    }
    CommitStatusNotifier.Builder statuses = CommitStatusNotifier.github("acme/ops");
    assertThat(statuses.name("github acme/ops (notifications[2])").build().name())
        .isEqualTo("github acme/ops (notifications[2])");
    for (String bad : List.of("", " ", "a\nb", "x".repeat(201))) {
      assertThat(catchThrowable(() -> WebhookNotifier.builder(receiver.uri("/h")).name(bad)))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a notifier's name is 1 to 200 characters");
    }
  }

  @Test
  void aUrlWithoutAUsableHostOrPortIsRefusedShowingNeitherPathNorQuery() {
    for (String url : List.of("http://alert_receiver:18080/services/T000/B000/S3CRET", "http:///path?token=S3CRET",
        "https://hooks.example.com:99999/S3CRET", "https://hooks.example.com:0/S3CRET", "mailto:S3CRET@example.com",
        "https://user:S3CRET@hooks_example.com/x")) {
      assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> WebhookNotifier.builder(URI.create(url))))
          .as(url).isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("the webhook URL ")
          .hasMessageNotContaining("S3CRET");
    }
    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> WebhookNotifier.builder(
        URI.create("http://alert_receiver:18080/services/T000/B000/S3CRET")))).hasMessageContaining("'alert_receiver:18080'")
        .hasMessageContaining("no '_'");
    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> WebhookNotifier.builder(
        URI.create("https://hooks.example.com:99999/S3CRET")))).hasMessageContaining("port 99999");
  }

  @Test
  void anExceptionBuildingOrSendingARequestIsLoggedWithoutItsMessage() throws Exception {
    // The JDK's message repeats a header's value: "invalid header value: \"Bearer S3CRET\n\""
    try (LogLines log = LogLines.of(HttpNotifier.class);
        HttpNotifier bad = new HttpNotifier("bad", NotificationFilter.all(), FAST) {
          @Override
          protected java.util.Optional<java.net.http.HttpRequest.Builder> request(Notification n) {
            return java.util.Optional.of(java.net.http.HttpRequest.newBuilder(receiver.uri("/h"))
                .header("Authorization", "Bearer S3CRET\n").POST(java.net.http.HttpRequest.BodyPublishers.noBody()));
          }
        }) {
      bad.send(Notification.of(Event.SYNC_FAILED, "web", "files", REVISION, "boom"));
      Receiver.await(() -> bad.dropped() == 1);
      assertThat(log.text()).contains("cannot deliver sync-failed for target 'web': java.lang.IllegalArgumentException")
          .doesNotContain("S3CRET");
    }
  }

  @Test
  void whatCloseCutsOffIsCountedAndSaidInOneWarningByEvent() throws Exception {
    receiver.hold = new CountDownLatch(1);  // the endpoint stalls: close() gives up after its bound
    DeliveryOptions patient = FAST.toBuilder().requestTimeout(Duration.ofSeconds(30)).build();
    try (LogLines log = LogLines.of(HttpNotifier.class)) {
      WebhookNotifier hook = WebhookNotifier.builder(receiver.uri("/h")).delivery(patient).build();
      hook.send(Notification.of(Event.SYNC_FAILED, "web", "files", REVISION, "in flight"));
      Receiver.await(() -> receiver.requests.size() == 1);
      hook.send(Notification.of(Event.SYNC_FAILED, "web", "files", REVISION, "queued"));
      hook.send(Notification.of(Event.DRIFT_DETECTED, "web", "files", REVISION, "queued"));
      assertTimeoutPreemptively(Duration.ofSeconds(20), hook::close, "close is bounded");
      Receiver.await(() -> hook.dropped() == 3);
      Receiver.await(() -> log.lines().stream().anyMatch(l -> l.contains("closed with")));
      assertThat(log.lines()).filteredOn(l -> l.contains("closed with")).containsExactly("WARN notifier webhook "
          + "http://127.0.0.1:" + receiver.uri("/").getPort() + ": closed with 3 notifications not delivered, dropped: "
          + "1 drift-detected, 2 sync-failed");
    } finally {
      receiver.hold.countDown();
    }
  }

  @Test
  void aNotificationSentOnceCloseHasBegunIsCountedAsDroppedAndSaidWhy() throws Exception {
    // no timing: close() has returned before each send, so each send comes after it, every time
    try (LogLines log = LogLines.of(HttpNotifier.class)) {
      WebhookNotifier used = WebhookNotifier.builder(receiver.uri("/h")).delivery(FAST).build();
      used.send(Notification.of(Event.SYNC_STARTED, "web", "files", REVISION, "before close"));
      Receiver.await(() -> used.delivered() == 1);
      used.close();  // its delivery thread has ended, its queue was looked at for the last time
      used.send(Notification.of(Event.SYNC_FAILED, "web", "files", REVISION, "after close"));
      assertThat(used.dropped()).as("counted at once, by send itself").isEqualTo(1);
      assertThat(used.delivered()).isEqualTo(1);

      WebhookNotifier unused = WebhookNotifier.builder(receiver.uri("/h")).delivery(FAST).build();
      unused.close();  // before anything was sent: no delivery thread ever started
      unused.send(Notification.of(Event.DRIFT_DETECTED, "api", "files", REVISION, "after close"));
      assertThat(unused.dropped()).isEqualTo(1);
      assertThat(unused.delivered()).isZero();

      assertThat(receiver.requests).hasSize(1);
      assertThat(log.lines()).filteredOn(l -> l.contains("after close") || l.contains(": closed,")).containsExactly(
          "WARN notifier " + used.name() + ": closed, dropped sync-failed for target 'web' (1 dropped so far)",
          "WARN notifier " + unused.name() + ": closed, dropped drift-detected for target 'api' (1 dropped so far)");
    }
  }

  @Test
  void aBodyListsAtMostAHundredResourcesAndSaysHowManyItLeftOut() throws Exception {
    List<String> many = java.util.stream.IntStream.range(0, 5000).mapToObj(i -> "files:file::f" + i + ": PERMANENT")
        .toList();
    JsonNode body = JSON.readTree(WebhookNotifier.body(new Notification(Event.SYNC_FAILED, "web", "files", REVISION,
        "failed", many, new java.util.TreeMap<>(), java.time.Instant.now())));
    assertThat(body.get("resources")).hasSize(WebhookNotifier.MAX_RESOURCES);
    assertThat(body.get("resources").get(0).asText()).isEqualTo("files:file::f0: PERMANENT");
    assertThat(body.get("resourcesOmitted").asInt()).isEqualTo(4900);
    JsonNode few = JSON.readTree(WebhookNotifier.body(Notification.of(Event.SYNC_FAILED, "web", "files", REVISION, "x")));
    assertThat(few.has("resourcesOmitted")).isFalse();
  }

  @Test
  void notifiersMadeAndClosedLeaveNoClientThreadsBehind() throws Exception {
    WebhookNotifier first = WebhookNotifier.builder(receiver.uri("/h")).delivery(FAST).build();
    first.send(Notification.of(Event.SYNC_FAILED, "web", "files", REVISION, "boom"));
    Receiver.await(() -> first.delivered() == 1);
    first.close();
    long before = selectorThreads();
    for (int i = 0; i < 10; i++) {
      WebhookNotifier hook = WebhookNotifier.builder(receiver.uri("/h")).delivery(FAST).build();
      hook.send(Notification.of(Event.SYNC_FAILED, "web", "files", REVISION, "boom"));
      Receiver.await(() -> hook.delivered() == 1);
      hook.close();
    }
    assertThat(selectorThreads()).as("one client for all: no selector thread per notifier").isEqualTo(before);
  }

  static long selectorThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t.getName().startsWith("HttpClient-") && t.getName().endsWith("-SelectorManager"))
        .count();
  }

  @Test
  void anEndpointThatStallsMidAnswerTimesOutInsteadOfHoldingDeliveryForever() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 8, java.net.InetAddress.getLoopbackAddress())) {
      List<java.net.Socket> open = new java.util.concurrent.CopyOnWriteArrayList<>();
      Thread acceptor = new Thread(() -> {
        try {
          while (true) {
            java.net.Socket s = server.accept();
            open.add(s);
            s.getInputStream().read(new byte[65536]);  // the request (small: one read)
            // headers and the first byte of a body that never comes
            s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"
                .getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
          }
        } catch (java.io.IOException closed) {
          // the test is over
        }
      }, "stalling-endpoint");
      acceptor.setDaemon(true);
      acceptor.start();
      DeliveryOptions quick = FAST.toBuilder().requestTimeout(Duration.ofMillis(300)).maxAttempts(2).build();
      try (WebhookNotifier hook = WebhookNotifier.builder(URI.create("http://127.0.0.1:" + server.getLocalPort() + "/h"))
          .delivery(quick).build()) {
        hook.send(Notification.of(Event.SYNC_FAILED, "web", "files", REVISION, "sync failed"));
        Receiver.await(() -> hook.dropped() == 1);  // both attempts timed out: the notification is given up
        assertThat(open).hasSize(2);
        assertThat(hook.delivered()).isZero();
      } finally {
        for (java.net.Socket s : open) {
          s.close();
        }
      }
    }
  }

  @Test
  void anEndlessAnswerIsReadToItsFirstBytesOnlyAndItsStatusDecides() throws Exception {
    // a 500, then a 200, each with a body that never ends: the status is known with the headers
    try (ServerSocket server = new ServerSocket(0, 8, java.net.InetAddress.getLoopbackAddress())) {
      List<String> statuses = List.of("500 Internal Server Error", "200 OK");
      CountDownLatch cutOff = new CountDownLatch(2);
      Thread acceptor = new Thread(() -> {
        for (String status : statuses) {
          try (java.net.Socket s = server.accept()) {
            s.getInputStream().read(new byte[65536]);
            java.io.OutputStream out = s.getOutputStream();
            out.write(("HTTP/1.1 " + status + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            byte[] page = "<html>".repeat(10_000).getBytes(StandardCharsets.US_ASCII);
            while (true) {
              out.write(page);  // until the client closes the connection
            }
          } catch (java.io.IOException closedByTheClient) {
            cutOff.countDown();
          }
        }
      }, "endless-endpoint");
      acceptor.setDaemon(true);
      acceptor.start();
      DeliveryOptions patient = FAST.toBuilder().requestTimeout(Duration.ofSeconds(30)).build();
      try (LogLines log = LogLines.of(HttpNotifier.class);
          WebhookNotifier hook = WebhookNotifier.builder(URI.create("http://127.0.0.1:" + server.getLocalPort() + "/h"))
              .delivery(patient).build()) {
        long start = System.nanoTime();
        hook.send(Notification.of(Event.SYNC_FAILED, "web", "files", REVISION, "sync failed"));
        while (hook.delivered() == 0 && System.nanoTime() - start < 3_000_000_000L) {
          Thread.sleep(5);
        }
        assertThat(hook.delivered()).as("the 200 delivered it, long before the 30 s request timeout").isEqualTo(1);
        assertThat(cutOff.await(1, java.util.concurrent.TimeUnit.SECONDS)).as("both endless bodies cut off").isTrue();
        assertThat(log.text()).contains("attempt 1 failed (HTTP 500)");
      }
    }
  }

  @Test
  void aSyncSucceedsWhileItsWebhookIsDownOrStuck() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    receiver.hold = new CountDownLatch(1);
    try (WebhookNotifier down = WebhookNotifier.builder(URI.create("http://127.0.0.1:" + closedPort + "/h"))
        .delivery(FAST).build();
        WebhookNotifier stuck = WebhookNotifier.builder(receiver.uri("/h")).delivery(FAST).build()) {
      InMemoryProvider live = InMemoryProvider.builder().id("memory").build();
      Reconciler r = Reconciler.builder()
          .desiredState(State.of(REVISION, List.of(Resource.of(live.key("thing", "", "a"), JSON.createObjectNode()))))
          .provider(live).store(new InMemoryStateStore())
          .listener(new NotificationListener("web", "memory", down::send))
          .listener(new NotificationListener("web", "memory", stuck::send)).build();
      SyncResult result = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> r.sync());
      assertThat(result.status()).isEqualTo(SyncResult.Status.SUCCEEDED);
      Receiver.await(() -> down.dropped() == 2);  // started and succeeded, both refused by the closed port
      receiver.hold.countDown();
      Receiver.await(() -> stuck.delivered() == 2);
    }
  }
}
