package dev.gitops.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.api.Resource;
import dev.gitops.api.State;
import dev.gitops.core.Reconciler;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.apply.ExecutionOptions;
import dev.gitops.core.apply.RetryPolicy;
import dev.gitops.core.store.InMemoryStateStore;
import dev.gitops.testkit.FaultInjectingProvider;
import dev.gitops.testkit.InMemoryProvider;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Commit statuses against local stubs of the GitHub and GitLab status APIs, driven by real syncs. */
class CommitStatusNotifierTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static final String SHA = "0123456789abcdef0123456789abcdef01234567";
  static final String REVISION = "main@sha1:" + SHA;
  static final DeliveryOptions FAST = DeliveryOptions.builder().backoff(Duration.ofMillis(10), Duration.ofMillis(50))
      .build();

  final Receiver api = new Receiver();
  final InMemoryProvider memory = InMemoryProvider.builder().id("memory").build();

  CommitStatusNotifierTest() throws java.io.IOException {}

  @AfterEach
  void close() {
    api.close();
  }

  Reconciler reconciler(dev.gitops.api.spi.Provider live, Notifier notifier, Resource... resources) {
    return Reconciler.builder().desiredState(State.of(REVISION, List.of(resources))).provider(live)
        .store(new InMemoryStateStore()).listener(new NotificationListener("web", "memory", notifier::send))
        .options(SyncOptions.builder().execution(ExecutionOptions.defaults().withRetry(RetryPolicy.none())).build())
        .build();
  }

  Resource res(String name) {
    return Resource.of(memory.key("thing", "", name), JSON.createObjectNode().put("name", name));
  }

  @Test
  void gitHubGetsPendingThenSuccessForTheCommitWithTheTargetAsContext() throws Exception {
    try (CommitStatusNotifier github = CommitStatusNotifier.github("acme/ops").apiUrl(api.uri("/api/v3"))
        .token("ghp-test-token").delivery(FAST).build()) {
      reconciler(memory, github, res("a")).sync();
      Receiver.await(() -> github.delivered() == 2);

      assertThat(api.requests).hasSize(2);
      for (Receiver.Request r : api.requests) {
        assertThat(r.method()).isEqualTo("POST");
        assertThat(r.path()).isEqualTo("/api/v3/repos/acme/ops/statuses/" + SHA);
        assertThat(r.header("Authorization")).isEqualTo("Bearer ghp-test-token");
        assertThat(r.header("Accept")).isEqualTo("application/vnd.github+json");
        assertThat(r.header("Content-Type")).isEqualTo("application/json");
      }
      JsonNode pending = JSON.readTree(api.requests.get(0).body());
      JsonNode success = JSON.readTree(api.requests.get(1).body());
      assertThat(pending.get("state").asText()).isEqualTo("pending");
      assertThat(pending.get("context").asText()).isEqualTo("gitops/web");
      assertThat(pending.get("description").asText()).isEqualTo("syncing main@0123456");
      assertThat(success.get("state").asText()).isEqualTo("success");
      assertThat(success.get("context").asText()).isEqualTo("gitops/web");
      assertThat(success.get("description").asText()).isEqualTo("synced main@0123456: 1 created");
    }
  }

  @Test
  void aDetectOnlySyncThatFindsChangesPendingPostsFailureNotSuccess() throws Exception {
    try (CommitStatusNotifier github = CommitStatusNotifier.github("acme/ops").apiUrl(api.uri("")).delivery(FAST)
        .build()) {
      Reconciler detect = Reconciler.builder().desiredState(State.of(REVISION, List.of(res("a")))).provider(memory)
          .store(new InMemoryStateStore()).listener(new NotificationListener("web", "memory", github::send))
          .options(SyncOptions.builder().detectOnly(true).build()).build();
      detect.sync();
      Receiver.await(() -> github.delivered() == 2);
      assertThat(api.requests).extracting(r -> JSON.readTree(r.body()).get("state").asText())
          .containsExactly("pending", "failure");
      assertThat(JSON.readTree(api.requests.get(1).body()).get("description").asText())
          .isEqualTo("out of sync with main@0123456: 1 change pending (not applied: detect-only or dry run)");
      assertThat(memory.get(res("a").key())).as("nothing applied").isEmpty();
    }
  }

  @Test
  void gitLabGetsFailedForAFailedSyncOnTheEncodedProject() throws Exception {
    Resource bad = res("bad");
    FaultInjectingProvider live = FaultInjectingProvider.wrap(memory).failPermanently(bad.key()).build();
    try (CommitStatusNotifier gitlab = CommitStatusNotifier.gitlab("acme/platform/ops").apiUrl(api.uri("/"))
        .token("glpat-test").delivery(FAST).build()) {
      reconciler(live, gitlab, bad).sync();
      Receiver.await(() -> gitlab.delivered() == 2);

      for (Receiver.Request r : api.requests) {
        assertThat(r.path()).isEqualTo("/api/v4/projects/acme%2Fplatform%2Fops/statuses/" + SHA);
        assertThat(r.header("PRIVATE-TOKEN")).isEqualTo("glpat-test");
        assertThat(r.header("Authorization")).isNull();
      }
      assertThat(api.requests).extracting(r -> JSON.readTree(r.body()).get("state").asText())
          .containsExactly("pending", "failed");
      JsonNode failed = JSON.readTree(api.requests.get(1).body());
      assertThat(failed.get("name").asText()).isEqualTo("gitops/web");
      assertThat(failed.get("description").asText()).isEqualTo("sync of main@0123456 failed: 1 of 1 changes failed");
    }
  }

  @Test
  void theSameStateIsNotPostedTwiceAndRevisionsWithoutACommitPostNothing() throws Exception {
    try (CommitStatusNotifier github = CommitStatusNotifier.github("acme/ops").apiUrl(api.uri("")).delivery(FAST)
        .build()) {
      github.send(Notification.of(Event.SYNC_SUCCEEDED, "web", "memory", REVISION, "synced"));
      github.send(Notification.of(Event.SYNC_SUCCEEDED, "web", "memory", REVISION, "synced"));
      github.send(Notification.of(Event.DRIFT_DETECTED, "web", "memory", REVISION, "drift"));
      github.send(Notification.of(Event.SYNC_SUCCEEDED, "web", "memory", "r1", "no commit in this revision"));
      github.send(Notification.of(Event.SYNC_SUCCEEDED, "api", "memory", REVISION, "another target, another context"));
      Receiver.await(() -> github.delivered() == 2);
      Thread.sleep(100);  // anything else queued would have been sent by now
      assertThat(api.requests).extracting(r -> JSON.readTree(r.body()).get("context").asText())
          .containsExactly("gitops/web", "gitops/api");
      assertThat(api.requests.get(0).header("Authorization")).as("no token, no header").isNull();
    }
  }

  @Test
  void aStatusThatFailedToDeliverDoesNotHoldBackTheNextAndANewDescriptionIsPosted() throws Exception {
    api.answers.addAll(List.of(502, 502));
    try (CommitStatusNotifier github = CommitStatusNotifier.github("acme/ops").apiUrl(api.uri(""))
        .delivery(FAST.toBuilder().maxAttempts(2).build()).build()) {
      github.send(Notification.of(Event.SYNC_FAILED, "web", "memory", REVISION, "1 of 4 changes failed"));
      Receiver.await(() -> github.dropped() == 1);
      github.send(Notification.of(Event.SYNC_FAILED, "web", "memory", REVISION, "1 of 4 changes failed"));
      Receiver.await(() -> github.delivered() == 1);
      github.send(Notification.of(Event.SYNC_FAILED, "web", "memory", REVISION, "1 of 4 changes failed"));
      github.send(Notification.of(Event.SYNC_FAILED, "web", "memory", REVISION, "2 of 4 changes failed"));
      Receiver.await(() -> github.delivered() == 2);
      Thread.sleep(100);  // anything else queued would have been sent by now
      assertThat(api.requests).extracting(r -> JSON.readTree(r.body()).get("description").asText()).containsExactly(
          "1 of 4 changes failed", "1 of 4 changes failed", "1 of 4 changes failed", "2 of 4 changes failed");
      assertThat(github.delivered()).isEqualTo(2);
    }
  }

  @Test
  void aRateLimitIsRetriedWhenTheAnswerSaysAndAPlain403IsNot() throws Exception {
    // absolute times first, each later than the waits before it can end
    long reset = java.time.Instant.now().getEpochSecond() + 2;
    String inFiveSeconds = java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME.format(
        java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC).plusSeconds(5));
    api.replies.addAll(List.of(
        new Receiver.Reply(403, java.util.Map.of("x-ratelimit-remaining", "0", "x-ratelimit-reset", Long.toString(reset)),
            "{\"message\":\"API rate limit exceeded\"}"),
        new Receiver.Reply(200, java.util.Map.of(), "{}"),
        new Receiver.Reply(429, java.util.Map.of("Retry-After", inFiveSeconds), "{}"),
        new Receiver.Reply(200, java.util.Map.of(), "{}"),
        new Receiver.Reply(403, java.util.Map.of("Retry-After", "1"), "{\"message\":\"secondary rate limit\"}"),
        new Receiver.Reply(200, java.util.Map.of(), "{}"),
        new Receiver.Reply(403, java.util.Map.of(), "{\"message\":\"Resource not accessible by integration\"}")));
    DeliveryOptions patient = FAST.toBuilder().backoff(Duration.ofMillis(10), Duration.ofSeconds(5)).build();
    try (CommitStatusNotifier github = CommitStatusNotifier.github("acme/ops").apiUrl(api.uri("")).delivery(patient)
        .build()) {
      github.send(Notification.of(Event.SYNC_STARTED, "web", "memory", REVISION, "one"));
      github.send(Notification.of(Event.SYNC_FAILED, "web", "memory", REVISION, "two"));
      github.send(Notification.of(Event.SYNC_SUCCEEDED, "web", "memory", REVISION, "three"));
      github.send(Notification.of(Event.SYNC_FAILED, "web", "memory", REVISION, "four"));
      Receiver.await(() -> github.delivered() == 3 && github.dropped() == 1);
      assertThat(api.requests).hasSize(7);
      // each retry waited (about) as long as asked, far past the 10 ms backoff; lower bounds only
      assertThat(api.requests.get(1).nanos() - api.requests.get(0).nanos()).isGreaterThan(500_000_000L);
      assertThat(api.requests.get(3).nanos() - api.requests.get(2).nanos()).isGreaterThan(500_000_000L);
      assertThat(api.requests.get(5).nanos() - api.requests.get(4).nanos()).isGreaterThan(800_000_000L);
    }
  }

  @Test
  void twoAgentsWithTheirOwnContextsDoNotOverwriteEachOthersStatuses() throws Exception {
    try (CommitStatusNotifier staging = CommitStatusNotifier.github("acme/ops").apiUrl(api.uri(""))
        .context("gitops-staging/{target}").delivery(FAST).build();
        CommitStatusNotifier gitlab = CommitStatusNotifier.gitlab("acme/ops").apiUrl(api.uri("")).context("prod: {target}")
            .delivery(FAST).build()) {
      staging.send(Notification.of(Event.SYNC_SUCCEEDED, "web", "memory", REVISION, "synced"));
      Receiver.await(() -> staging.delivered() == 1);
      gitlab.send(Notification.of(Event.SYNC_SUCCEEDED, "web", "memory", REVISION, "synced"));
      Receiver.await(() -> gitlab.delivered() == 1);
      assertThat(JSON.readTree(api.requests.get(0).body()).get("context").asText()).isEqualTo("gitops-staging/web");
      assertThat(JSON.readTree(api.requests.get(1).body()).get("name").asText()).isEqualTo("prod: web");
    }
    assertThatThrownBy(() -> CommitStatusNotifier.github("acme/ops").context(" ")).hasMessageContaining("1 to 255");
    assertThatThrownBy(() -> CommitStatusNotifier.github("acme/ops").context("a\nb")).hasMessageContaining("'a?b'");
  }

  @Test
  void aContextATargetsNameMakesTooLongIsNotPostedButDroppedNamingTheNotifierAndTarget() throws Exception {
    String template = "x".repeat(240) + "/{target}";  // 249 characters: the builder takes it
    String longName = "a-target-whose-name-is-30-char";
    CommitStatusNotifier.Builder builder = CommitStatusNotifier.gitlab("acme/ops").apiUrl(api.uri("")).context(template)
        .delivery(FAST);
    assertThat(builder.contextFor(longName)).hasSize(271);
    try (LogLines log = LogLines.of(HttpNotifier.class); CommitStatusNotifier gitlab = builder.build()) {
      gitlab.send(Notification.of(Event.SYNC_STARTED, longName, "memory", REVISION, "syncing"));
      gitlab.send(Notification.of(Event.SYNC_STARTED, "web", "memory", REVISION, "syncing"));
      Receiver.await(() -> gitlab.delivered() == 1);  // one thread, in order: the first was dealt with before

      assertThat(gitlab.dropped()).isEqualTo(1);
      assertThat(api.requests).hasSize(1);
      assertThat(JSON.readTree(api.requests.get(0).body()).get("name").asText()).isEqualTo("x".repeat(240) + "/web")
          .hasSize(244);
      assertThat(log.lines()).filteredOn(l -> l.startsWith("WARN")).containsExactly("WARN notifier gitlab acme/ops:"
          + " not sending sync-started for target '" + longName + "': its status context would be 271 characters ('"
          + "x".repeat(57) + "...'), more than the 255 a forge keeps: shorten the context template '" + "x".repeat(57)
          + "...' or the target's name");
    }
  }

  @Test
  void aLongMessageIsCutToGitHubsLimit() throws Exception {
    try (CommitStatusNotifier github = CommitStatusNotifier.github("acme/ops").apiUrl(api.uri("")).delivery(FAST)
        .build()) {
      github.send(Notification.of(Event.SYNC_FAILED, "web", "memory", REVISION, "x".repeat(500)));
      Receiver.await(() -> github.delivered() == 1);
      String description = JSON.readTree(api.requests.get(0).body()).get("description").asText();
      assertThat(description).hasSize(140).endsWith("...");
    }
  }

  @Test
  void aLongMessageIsCutOnACodePointBoundary() throws Exception {
    String emoji = "\uD83D\uDE80";  // U+1F680, two UTF-16 chars
    try (CommitStatusNotifier github = CommitStatusNotifier.github("acme/ops").apiUrl(api.uri("")).delivery(FAST)
        .build()) {
      github.send(Notification.of(Event.SYNC_FAILED, "web", "memory", REVISION, "x".repeat(136) + emoji.repeat(10)));
      Receiver.await(() -> github.delivered() == 1);
      String description = JSON.readTree(api.requests.get(0).body()).get("description").asText();
      assertThat(description).as("the pair cut at char 137 is left out whole").isEqualTo("x".repeat(136) + "...");
    }
    assertThat(CommitStatusNotifier.description("x".repeat(135) + emoji.repeat(10)))
        .as("a pair that fits is kept").isEqualTo("x".repeat(135) + emoji + "...").hasSize(140);
    assertThat(CommitStatusNotifier.description("x".repeat(130) + emoji.repeat(5))).as("140 chars fit")
        .isEqualTo("x".repeat(130) + emoji.repeat(5));
  }

  @Test
  void aTokenWithALineBreakIsRefusedWithoutRepeatingIt() {
    for (String token : List.of("ghp_S3CRET\n", "glpat-S3CRET\r", "ghp_S3\u0000CRET")) {
      assertThatThrownBy(() -> CommitStatusNotifier.github("acme/ops").token(token))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("the token holds a control character")
          .hasMessageNotContaining("S3CRET").hasMessageNotContaining("S3");
    }
    assertThatThrownBy(() -> CommitStatusNotifier.gitlab("acme/ops").token("glpat-S3CRET\r\n"))
        .hasMessageContaining("a carriage return").hasMessageNotContaining("S3CRET");
  }

  @Test
  void aTokenWithACharacterAHeaderCannotCarryIsRefusedNotDroppedAtEveryDelivery() {
    // the JDK refuses such a header value when each request is built: every status was dropped
    assertThatThrownBy(() -> CommitStatusNotifier.github("acme/ops").token("\uFEFFghp_S3CRET"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the token holds a character that is not ASCII (U+FEFF, a byte order mark) at character 1 of 11:"
            + " a header cannot carry it");
    assertThatThrownBy(() -> CommitStatusNotifier.gitlab("acme/ops").token("glpat-S3\u200BCRET"))
        .hasMessageContaining("(U+200B, a zero-width space) at character 9 of 13").hasMessageNotContaining("S3");
    assertThatThrownBy(() -> CommitStatusNotifier.github("acme/ops").token("ghp_S3CR\u00c9T"))
        .hasMessageContaining("(U+00C9) at character 9 of 10").hasMessageNotContaining("S3");
  }

  @Test
  void aRefusalThatEchoesTheTokenIsLoggedWithTheTokenMasked() throws Exception {
    api.replies.add(new Receiver.Reply(401, java.util.Map.of(), "bad credentials for Bearer ghp_S3CRET\u001b[2J"));
    try (LogLines log = LogLines.of(HttpNotifier.class);
        CommitStatusNotifier github = CommitStatusNotifier.github("acme/ops").apiUrl(api.uri("")).token("ghp_S3CRET")
            .delivery(FAST).build()) {
      github.send(Notification.of(Event.SYNC_FAILED, "web", "memory", REVISION, "failed"));
      Receiver.await(() -> github.dropped() == 1);
      assertThat(log.text()).contains("HTTP 401 bad credentials for Bearer ***\\u001b[2J")
          .doesNotContain("S3CRET").doesNotContain("\u001b");
    }
  }

  @Test
  void gitLabsRefusalToRepeatTheStateACommitHasIsDeliveredNotDroppedOrRetried() throws Exception {
    String samePending = "{\"message\":\"Cannot transition status via :enqueue from :pending (Reason(s): Status"
        + " cannot transition via \\\"enqueue\\\")\"}";
    api.replies.addAll(List.of(
        new Receiver.Reply(400, java.util.Map.of(), samePending),
        new Receiver.Reply(400, java.util.Map.of(), "{\"message\":\"Cannot transition status via :enqueue from :running\"}"),
        // a 400 that says something else, and the same words for a state the commit does not have: refusals
        new Receiver.Reply(400, java.util.Map.of(), "{\"message\":{\"state\":[\"is invalid\"]}}"),
        new Receiver.Reply(400, java.util.Map.of(), "{\"message\":\"Cannot transition status via :success from :canceled\"}"),
        // GitHub never means this by a 400
        new Receiver.Reply(400, java.util.Map.of(), samePending)));
    try (LogLines log = LogLines.of(HttpNotifier.class);
        CommitStatusNotifier gitlab = CommitStatusNotifier.gitlab("acme/ops").apiUrl(api.uri("")).delivery(FAST).build();
        CommitStatusNotifier github = CommitStatusNotifier.github("acme/ops").apiUrl(api.uri("")).delivery(FAST).build()) {
      gitlab.send(Notification.of(Event.SYNC_STARTED, "web", "memory", REVISION, "syncing"));
      gitlab.send(Notification.of(Event.SYNC_STARTED, "web", "memory", REVISION, "syncing"));  // held: not posted again
      gitlab.send(Notification.of(Event.SYNC_STARTED, "api", "memory", REVISION, "syncing"));
      gitlab.send(Notification.of(Event.SYNC_FAILED, "web", "memory", REVISION, "failed"));
      gitlab.send(Notification.of(Event.SYNC_SUCCEEDED, "api", "memory", REVISION, "synced"));
      Receiver.await(() -> gitlab.delivered() + gitlab.dropped() == 4);
      github.send(Notification.of(Event.SYNC_STARTED, "web", "memory", REVISION, "syncing"));
      Receiver.await(() -> github.dropped() == 1);

      assertThat(gitlab.delivered()).isEqualTo(2);
      assertThat(gitlab.dropped()).isEqualTo(2);
      assertThat(api.requests).as("one request each: nothing retried, the held status not posted again").hasSize(5);
      assertThat(log.lines()).filteredOn(l -> l.startsWith("WARN")).hasSize(3).allMatch(l -> l.contains("HTTP 400"));
      assertThat(log.lines()).filteredOn(l -> l.contains("already holds")).containsExactly(
          "DEBUG notifier gitlab acme/ops: 127.0.0.1 already holds sync-started for target 'web' (HTTP 400 " + samePending
              + "): counted as delivered",
          "DEBUG notifier gitlab acme/ops: 127.0.0.1 already holds sync-started for target 'api' (HTTP 400 {\"message\":"
              + "\"Cannot transition status via :enqueue from :running\"}): counted as delivered");
    }
  }

  @Test
  void aGitLabUrlGivenWithItsApiPathPostsToTheApiOnce() throws Exception {
    try (CommitStatusNotifier gitlab = CommitStatusNotifier.gitlab("acme/ops").apiUrl(api.uri("/gitlab/api/v4/"))
        .token("glpat-test").delivery(FAST).build()) {
      gitlab.send(Notification.of(Event.SYNC_STARTED, "web", "memory", REVISION, "syncing"));
      Receiver.await(() -> gitlab.delivered() == 1);
      assertThat(api.requests.get(0).path()).isEqualTo("/gitlab/api/v4/projects/acme%2Fops/statuses/" + SHA);
    }
  }

  @Test
  void badRepositoryNamesAreRejectedNamingThem() {
    assertThatThrownBy(() -> CommitStatusNotifier.github("just-a-name")).hasMessageContaining("'just-a-name'");
    assertThatThrownBy(() -> CommitStatusNotifier.gitlab("/leading")).hasMessageContaining("'/leading'");
    // each would post to another path ('..' climbs out of /repos/), or be refused at every delivery
    for (String bad : List.of("../..", "acme/..", "./ops")) {
      assertThatThrownBy(() -> CommitStatusNotifier.github(bad)).as(bad).hasMessageContaining("'" + bad + "'")
          .hasMessageContaining("neither part '.' or '..'");
    }
    for (String bad : List.of("group//project", "group/../project", "acme/my project", "acme/ops?x", "just-a-name",
        "acme/ops\n")) {
      assertThatThrownBy(() -> CommitStatusNotifier.gitlab(bad)).as(bad)
          .hasMessageStartingWith("a GitLab project is 'group/name'").hasMessageNotContaining("\n");
    }
    assertThat(CommitStatusNotifier.gitlab("group/sub/project.v2").build().name()).isEqualTo("gitlab group/sub/project.v2");
    assertThat(CommitStatusNotifier.gitlab("4711").build().name()).isEqualTo("gitlab 4711");
    for (String url : List.of("https://ghe.example.com/api/v3?token=S3CRET", "https://ghe.example.com/api/v3#S3CRET")) {
      assertThatThrownBy(() -> CommitStatusNotifier.github("a/b").apiUrl(java.net.URI.create(url))).as(url)
          .hasMessageContaining("give the base URL alone (https://ghe.example.com/...").hasMessageNotContaining("S3CRET");
    }
    assertThatThrownBy(() -> CommitStatusNotifier.github("a/b").apiUrl(java.net.URI.create("ftp://x")))
        .hasMessageContaining("ftp://x");
    assertThatThrownBy(() -> CommitStatusNotifier.github("a/b").apiUrl(java.net.URI.create("https://git_hub.example/api/v3")))
        .hasMessageContaining("the API URL has no host").hasMessageContaining("'git_hub.example'");
  }

  @Test
  void aTokenForAPlainHttpApiOffThisMachineIsWarnedOfNamingTheHostNeverTheToken() {
    try (LogLines log = LogLines.of(CommitStatusNotifier.class)) {
      CommitStatusNotifier.github("acme/ops").apiUrl(java.net.URI.create("http://ghe.example.com/api/v3")).token("ghp_S3CRET")
          .build().close();
      assertThat(log.text()).contains("WARN").contains("plain HTTP").contains("ghe.example.com")
          .doesNotContain("S3CRET");
    }
    try (LogLines log = LogLines.of(CommitStatusNotifier.class)) {
      CommitStatusNotifier.gitlab("acme/ops").apiUrl(java.net.URI.create("http://127.0.0.1:8080")).token("t").build().close();
      CommitStatusNotifier.gitlab("acme/ops").apiUrl(java.net.URI.create("https://gitlab.example.com")).token("t").build()
          .close();
      CommitStatusNotifier.gitlab("acme/ops").apiUrl(java.net.URI.create("http://gitlab.example.com")).build().close();
      assertThat(log.text()).as("loopback, HTTPS, or no token: nothing to warn of").doesNotContain("plain HTTP");
    }
  }
}
