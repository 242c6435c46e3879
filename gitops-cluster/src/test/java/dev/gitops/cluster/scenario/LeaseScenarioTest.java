package dev.gitops.cluster.scenario;

import dev.gitops.cluster.k8s.LeaseCoordinator;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three agent JVMs share 12 {@code files} targets through Kubernetes Leases, with their state in
 * Secrets, on fabric8's CRUD mock API server running in a JVM of its own (killing a member never
 * kills it), with 6 s leases: the scenarios of {@link ClusterScenarios}.
 */
class LeaseScenarioTest extends ClusterScenarios {

  @TempDir
  Path dir;

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void threeMembersShareTwelveTargetsThroughKillPauseAndStop() throws Exception {
    Path urlFile = dir.resolve("api-server.url");
    Process server = ScenarioCluster.java(dir.resolve("api-server.log"), MockApiServer.class, List.of(urlFile.toString()));
    KubernetesClient client = null;
    try {
      ScenarioCluster.await("the stand-in API server's URL in " + urlFile, () -> Files.exists(urlFile) || !server.isAlive(),
          ScenarioCluster.START_WITHIN);
      String url = Files.readString(urlFile);
      client = ScenarioMember.client(url);
      LeaseCoordinator reader = LeaseCoordinator.builder(client, "gitops", "scenario-reader").build();
      try (ScenarioCluster c = new ScenarioCluster(dir, 12, Duration.ofSeconds(6), "k8s", List.of("--endpoint", url),
          reader)) {
        play(c);
      }
    } finally {
      if (client != null) {
        client.close();
      }
      server.destroyForcibly();
      server.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
