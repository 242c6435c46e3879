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
    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, """
        targets: []
        notifications:
          - type: webhook
            url: http://127.0.0.1:%d/hook
            maxAttempts: 1
            minSeverity: %s
        """.formatted(port, minSeverity));
    return AgentConfig.load(f, Map.of(), Map.of(), true);
  }

  static Notification failed() {
    return new Notification(Event.SYNC_FAILED, "web", "files", "main@sha1:" + "a".repeat(40), "sync failed: boom",
        List.of(), new java.util.TreeMap<>(), Instant.now());
  }

  FunctionCounter dropped() {
    return registry.find("gitops.notifications.dropped").tag("notifier", "webhook 127.0.0.1").functionCounter();
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
      notifications.replace(config(port, "info").notifiers(), Map.of());
      notifications.send(failed());
      await("the undeliverable notification is counted", () -> dropped() != null && dropped().count() == 1);

      // A reload that changes the notifier's filter: the same notifier name, a new notifier.
      notifications.replace(config(port, "warning").notifiers(), Map.of());
      assertThat(dropped()).as("the new notifier's counter is exported").isNotNull();
      notifications.send(failed());
      await("the new notifier's drop is counted", () -> dropped() != null && dropped().count() == 1);
    } finally {
      notifications.close();
    }
    assertThat(dropped()).as("closed: no counter left").isNull();
  }
}
