package dev.gitops.cluster.scenario;

import dev.gitops.cluster.etcd.EtcdCoordinator;
import dev.gitops.cluster.etcd.EtcdServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three agent JVMs share 30 {@code files} targets through the test JVM's real etcd (loopback, its
 * own data directory and ports, a key prefix of this test's own), with 6 s leases: the scenarios
 * of {@link ClusterScenarios}.
 */
class EtcdScenarioTest extends ClusterScenarios {

  @TempDir
  Path dir;

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void threeMembersShareThirtyTargetsThroughKillPauseAndStop() throws Exception {
    String endpoint = EtcdServer.shared().endpoint();
    String prefix = "/scenario/" + UUID.randomUUID() + "/";
    EtcdCoordinator reader = EtcdCoordinator.connectBuilder(endpoint, "scenario-reader").prefix(prefix).build();
    try (ScenarioCluster c = new ScenarioCluster(dir, 30, Duration.ofSeconds(6), "etcd",
        List.of("--endpoint", endpoint, "--prefix", prefix), reader)) {
      play(c);
    }
  }
}
