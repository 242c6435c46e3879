package dev.gitops.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.agent.config.AgentConfig;
import dev.gitops.notify.Event;
import dev.gitops.notify.Notification;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's notifiers and their dropped counters across reloads. */
class NotificationsTest {

  @TempDir
  Path dir;

  final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  /** A loopback port nothing listens on: every delivery fails at once. */
  static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  AgentConfig config(int port, String minSeverity) throws IOException {
    return config(port, minSeverity, 1);
  }

  /**
   * {@code count} webhooks to {@code port}: one is named "webhook http://127.0.0.1:PORT", several
   * "webhook http://127.0.0.1:PORT (notifications[0])" and so on.
   */
  AgentConfig config(int port, String minSeverity, int count) throws IOException {
    Path f = dir.resolve("agent.yaml");
    StringBuilder yaml = new StringBuilder("targets: []\nnotifications:\n");
    for (int i = 0; i < count; i++) {
      yaml.append("""
            - type: webhook
              url: http://127.0.0.1:%d/hook
              maxAttempts: 1
              minSeverity: %s
          """.formatted(port, minSeverity));
    }
    Files.writeString(f, yaml.toString());
    return AgentConfig.load(f, Map.of(), Map.of(), true);
  }

  /** An endpoint that takes every connection and never answers; closed with the test. */
  static ServerSocket stalled(List<java.net.Socket> held) throws IOException {
    ServerSocket server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(() -> {
      try {
        while (true) {
          held.add(server.accept());
        }
      } catch (IOException closed) {
        // the test is over
      }
    }, "stalled-endpoint");
    acceptor.setDaemon(true);
    acceptor.start();
    return server;
  }

  @Test
  void aReplacementIsImmediateAndTheOldNotifiersCloseTogetherWithTheirCutOffDropsCounted() throws Exception {
    List<java.net.Socket> held = new java.util.concurrent.CopyOnWriteArrayList<>();
    Notifications notifications = new Notifications(registry);
    try (ServerSocket server = stalled(held)) {
      notifications.retire(notifications.replace(config(server.getLocalPort(), "info", 3).notifiers(), Map.of()));
      notifications.send(failed());
      notifications.send(failed());
      await("each notifier holds one in flight", () -> held.size() == 3);

      long start = System.nanoTime();
      List<dev.gitops.notify.Notifier> old = notifications.replace(config(server.getLocalPort(), "error", 3).notifiers(),
          Map.of());
      notifications.retire(old);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).as("a stalled notifier holds up no reload")
          .isLessThan(Duration.ofSeconds(3));
      // each old notifier gives up within ~6 s; one after the other they would take ~18 s
      await("the three cut-off pairs are counted under their names, after the meters were replaced",
          () -> java.util.stream.IntStream.range(0, 3).mapToObj(i -> "webhook http://127.0.0.1:" + server.getLocalPort()
              + " (notifications[" + i + "])").allMatch(name -> {
            FunctionCounter c = registry.find("gitops.notifications.dropped").tag("notifier", name).functionCounter();
            return c != null && c.count() == 2;
          }));
      assertThat(Duration.ofNanos(System.nanoTime() - start)).as("closed in parallel").isLessThan(Duration.ofSeconds(14));

      notifications.send(failed());
      notifications.send(failed());
      await("the new notifiers hold one in flight each", () -> held.size() == 6);
      long stop = System.nanoTime();
      notifications.close();
      assertThat(Duration.ofNanos(System.nanoTime() - stop)).as("a stop closes them together, within one bound")
          .isLessThan(Notifications.CLOSE_BOUND.plusSeconds(2));
    } finally {
      notifications.close();
      for (java.net.Socket s : held) {
        s.close();
      }
    }
  }

  static Notification failed() {
    return new Notification(Event.SYNC_FAILED, "web", "files", "main@sha1:" + "a".repeat(40), "sync failed: boom",
        List.of(), new java.util.TreeMap<>(), Instant.now());
  }

  FunctionCounter dropped(int port) {
    return registry.find("gitops.notifications.dropped").tag("notifier", "webhook http://127.0.0.1:" + port)
        .functionCounter();
  }

  static void await(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("%s within 30 s", what).isLessThan(end);
      Thread.sleep(20);
    }
  }

  @Test
  void aReplacedNotifierOfTheSameNameKeepsItsDroppedCounter() throws Exception {
    int port = closedPort();
    Notifications notifications = new Notifications(registry);
    try {
      notifications.retire(notifications.replace(config(port, "info").notifiers(), Map.of()));
      notifications.send(failed());
      await("the undeliverable notification is counted", () -> dropped(port) != null && dropped(port).count() == 1);

      // A reload that changes the notifier's filter: the same notifier name, a new notifier.
      notifications.retire(notifications.replace(config(port, "warning").notifiers(), Map.of()));
      assertThat(dropped(port)).as("the new notifier's counter is exported").isNotNull();
      notifications.send(failed());
      await("the new notifier's drop is counted on", () -> dropped(port) != null && dropped(port).count() == 2);
    } finally {
      notifications.close();
    }
    assertThat(dropped(port)).as("closed: no counter left").isNull();
  }

  @Test
  void eachNotifierGoesByOneNameInItsLogLinesAndItsCounterThatTellsTheEntriesToOneHostApart() throws Exception {
    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, """
        targets: []
        notifications:
          - type: webhook
            url: http://127.0.0.1:19418/alerts?token=S3CRET
          - type: webhook
            url: http://127.0.0.1:19418/audit
          - type: webhook
            url: http://127.0.0.1:19419/chat
          - type: github
            repository: acme/ops
            token: {env: T}
        """);
    AgentConfig c = AgentConfig.load(f, Map.of(), Map.of("T", "tok"), true);
    Notifications notifications = new Notifications(registry);
    try {
      notifications.replace(c.notifiers(), Map.of("T", "tok"));
      List<dev.gitops.notify.Notifier> made = notifications.replace(List.of(), Map.of());
      notifications.retire(made);
      List<String> names = List.of("webhook http://127.0.0.1:19418 (notifications[0])",
          "webhook http://127.0.0.1:19418 (notifications[1])", "webhook http://127.0.0.1:19419", "github acme/ops");
      assertThat(made).as("what each notifier's log lines say").extracting(dev.gitops.notify.Notifier::name)
          .containsExactlyElementsOf(names);
      assertThat(registry.find("gitops.notifications.dropped").functionCounters())
          .as("the dropped counters, one per entry, tagged with the same names")
          .extracting(m -> m.getId().getTag("notifier")).containsExactlyInAnyOrderElementsOf(names);
    } finally {
      notifications.close();
    }
  }
}
