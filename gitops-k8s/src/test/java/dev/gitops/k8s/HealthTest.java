package dev.gitops.k8s;

import static dev.gitops.k8s.KubernetesProviderConformanceTest.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Health;
import dev.gitops.api.Observation;
import dev.gitops.api.ResourceKey;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HealthTest {

  private final MockCluster cluster = new MockCluster();
  private final KubernetesProvider provider = KubernetesProvider.builder(cluster.client)
      .healthCheck(new HealthCheck() {
        @Override
        public boolean appliesTo(String type) {
          return type.equals("example.com/Widget");
        }

        @Override
        public Optional<Health> health(JsonNode live) {
          String phase = live.at("/status/phase").asText();
          return phase.isEmpty() ? Optional.empty()
              : Optional.of(phase.equals("Painted") ? Health.healthy() : Health.progressing("phase " + phase));
        }
      }).build();

  @AfterEach
  void stop() {
    provider.close();
    cluster.close();
  }

  private Health.Status health(String type, String doc) {
    ResourceKey key = ResourceKey.of("k8s", type, "ns", "x");
    return provider.health(key, Observation.present(key, json(doc), "1")).status();
  }

  @Test
  void anObjectBeingDeletedNamesTheFinalizersItWaitsFor() {
    ResourceKey key = ResourceKey.of("k8s", "/ConfigMap", "ns", "x");
    Health h = provider.health(key, Observation.present(key, json("{\"metadata\":{\"deletionTimestamp\":"
        + "\"2026-01-01T00:00:00Z\",\"finalizers\":[\"example.com/hold\",\"kubernetes\"]}}"), "1"));
    assertThat(h.status()).isEqualTo(Health.Status.PROGRESSING);
    assertThat(h.message()).contains("being deleted").contains("finalizers example.com/hold, kubernetes");
  }

  @Test
  void deploymentsWaitForTheControllerToObserveTheirGenerationAndForAvailableReplicas() {
    String d = "{\"metadata\":{\"generation\":2},\"spec\":{\"replicas\":2},\"status\":{%s}}";
    assertThat(health("apps/Deployment", d.formatted("\"observedGeneration\":1,\"updatedReplicas\":2,\"replicas\":2,"
        + "\"availableReplicas\":2"))).as("old status").isEqualTo(Health.Status.PROGRESSING);
    assertThat(health("apps/Deployment", d.formatted("\"observedGeneration\":2,\"updatedReplicas\":1,\"replicas\":2,"
        + "\"availableReplicas\":2"))).isEqualTo(Health.Status.PROGRESSING);
    assertThat(health("apps/Deployment", d.formatted("\"observedGeneration\":2,\"updatedReplicas\":2,\"replicas\":3,"
        + "\"availableReplicas\":2"))).as("old pods terminating").isEqualTo(Health.Status.PROGRESSING);
    assertThat(health("apps/Deployment", d.formatted("\"observedGeneration\":2,\"updatedReplicas\":2,\"replicas\":2,"
        + "\"availableReplicas\":2"))).isEqualTo(Health.Status.HEALTHY);
    assertThat(health("apps/Deployment", d.formatted("\"observedGeneration\":2,\"conditions\":[{\"type\":\"Progressing\","
        + "\"status\":\"False\",\"reason\":\"ProgressDeadlineExceeded\"}]"))).isEqualTo(Health.Status.DEGRADED);
  }

  @Test
  void aFailureOfAnEarlierGenerationIsNoVerdictOnTheChangeThatFixesIt() {
    // the rollout of generation 1 exceeded its deadline; Git's fix made generation 2, not observed yet
    String d = "{\"metadata\":{\"generation\":2},\"spec\":{\"replicas\":1},\"status\":{\"observedGeneration\":%d,"
        + "\"replicas\":1,\"updatedReplicas\":%d,\"availableReplicas\":0,\"conditions\":[{\"type\":\"Progressing\","
        + "\"status\":\"False\",\"reason\":\"ProgressDeadlineExceeded\",\"message\":\"ReplicaSet web-1 has timed out\"}]}}";
    assertThat(health("apps/Deployment", d.formatted(1, 0))).isEqualTo(Health.Status.PROGRESSING);
    assertThat(health("apps/Deployment", d.formatted(2, 1))).as("observed: the deadline is this generation's")
        .isEqualTo(Health.Status.DEGRADED);
    String rs = "{\"metadata\":{\"generation\":2},\"spec\":{\"replicas\":1},\"status\":{\"observedGeneration\":%d,"
        + "\"conditions\":[{\"type\":\"ReplicaFailure\",\"status\":\"True\",\"message\":\"quota\"}]}}";
    assertThat(health("apps/ReplicaSet", rs.formatted(1))).isEqualTo(Health.Status.PROGRESSING);
    assertThat(health("apps/ReplicaSet", rs.formatted(2))).isEqualTo(Health.Status.DEGRADED);
    String cr = "{\"metadata\":{\"generation\":3},\"status\":{%s\"conditions\":[{\"type\":\"Stalled\","
        + "\"status\":\"True\",\"reason\":\"BadSpec\"%s}]}}";
    assertThat(health("example.com/Gadget", cr.formatted("", ",\"observedGeneration\":2"))).as("its own generation")
        .isEqualTo(Health.Status.PROGRESSING);
    assertThat(health("example.com/Gadget", cr.formatted("\"observedGeneration\":2,", ""))).as("the status's")
        .isEqualTo(Health.Status.PROGRESSING);
    assertThat(health("example.com/Gadget", cr.formatted("", ",\"observedGeneration\":3"))).isEqualTo(Health.Status.DEGRADED);
    assertThat(health("example.com/Gadget", cr.formatted("", ""))).as("no generation said").isEqualTo(Health.Status.DEGRADED);
  }

  @Test
  void workloadsJobsPodsAndClaims() {
    assertThat(health("apps/StatefulSet", "{\"metadata\":{\"generation\":1},\"spec\":{\"replicas\":2},\"status\":"
        + "{\"observedGeneration\":1,\"readyReplicas\":2,\"currentRevision\":\"a\",\"updateRevision\":\"b\"}}"))
        .isEqualTo(Health.Status.PROGRESSING);
    assertThat(health("apps/StatefulSet", "{\"metadata\":{\"generation\":1},\"spec\":{\"replicas\":2},\"status\":"
        + "{\"observedGeneration\":1,\"readyReplicas\":2,\"currentRevision\":\"b\",\"updateRevision\":\"b\"}}"))
        .isEqualTo(Health.Status.HEALTHY);
    assertThat(health("apps/DaemonSet", "{\"metadata\":{\"generation\":1},\"status\":{\"observedGeneration\":1,"
        + "\"desiredNumberScheduled\":3,\"updatedNumberScheduled\":3,\"numberAvailable\":2}}"))
        .isEqualTo(Health.Status.PROGRESSING);
    assertThat(health("apps/ReplicaSet", "{\"metadata\":{\"generation\":1},\"spec\":{\"replicas\":1},\"status\":{"
        + "\"observedGeneration\":1,\"conditions\":[{\"type\":\"ReplicaFailure\",\"status\":\"True\",\"message\":\"quota\"}]}}"))
        .isEqualTo(Health.Status.DEGRADED);
    assertThat(health("batch/Job", "{\"status\":{\"conditions\":[{\"type\":\"Complete\",\"status\":\"True\"}]}}"))
        .isEqualTo(Health.Status.HEALTHY);
    assertThat(health("batch/Job", "{\"status\":{\"conditions\":[{\"type\":\"Failed\",\"status\":\"True\"}]}}"))
        .isEqualTo(Health.Status.DEGRADED);
    assertThat(health("batch/Job", "{\"status\":{\"active\":1}}")).isEqualTo(Health.Status.PROGRESSING);
    assertThat(health("/Pod", "{\"status\":{\"phase\":\"Pending\",\"containerStatuses\":[{\"name\":\"a\",\"state\":"
        + "{\"waiting\":{\"reason\":\"ImagePullBackOff\"}}}]}}")).isEqualTo(Health.Status.DEGRADED);
    assertThat(health("/Pod", "{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}"))
        .isEqualTo(Health.Status.HEALTHY);
    assertThat(health("/PersistentVolumeClaim", "{\"status\":{\"phase\":\"Pending\"}}")).isEqualTo(Health.Status.PROGRESSING);
    assertThat(health("/PersistentVolumeClaim", "{\"status\":{\"phase\":\"Bound\"}}")).isEqualTo(Health.Status.HEALTHY);
  }

  @Test
  void networkingDefinitionsAndNamespaces() {
    assertThat(health("/Service", "{\"spec\":{\"type\":\"ClusterIP\"}}")).isEqualTo(Health.Status.HEALTHY);
    assertThat(health("/Service", "{\"spec\":{\"type\":\"LoadBalancer\"}}")).isEqualTo(Health.Status.PROGRESSING);
    assertThat(health("/Service", "{\"spec\":{\"type\":\"LoadBalancer\"},\"status\":{\"loadBalancer\":{\"ingress\":"
        + "[{\"ip\":\"192.0.2.1\"}]}}}")).isEqualTo(Health.Status.HEALTHY);
    assertThat(health("networking.k8s.io/Ingress", "{}")).isEqualTo(Health.Status.PROGRESSING);
    assertThat(health("apiextensions.k8s.io/CustomResourceDefinition", "{\"status\":{\"conditions\":[{\"type\":"
        + "\"Established\",\"status\":\"True\"}]}}")).isEqualTo(Health.Status.HEALTHY);
    assertThat(health("apiextensions.k8s.io/CustomResourceDefinition", "{}")).isEqualTo(Health.Status.PROGRESSING);
    assertThat(health("/Namespace", "{\"status\":{\"phase\":\"Terminating\"}}")).isEqualTo(Health.Status.PROGRESSING);
    assertThat(health("/Namespace", "{\"status\":{\"phase\":\"Active\"}}")).isEqualTo(Health.Status.HEALTHY);
  }

  @Test
  void customResourcesByReadyConditionForTheirGenerationAndUserChecksFirst() {
    String cr = "{\"metadata\":{\"generation\":3},\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\","
        + "\"reason\":\"%s\",\"observedGeneration\":%d}]}}";
    assertThat(health("example.com/Gadget", cr.formatted("True", "Done", 2))).as("stale condition")
        .isEqualTo(Health.Status.PROGRESSING);
    assertThat(health("example.com/Gadget", cr.formatted("True", "Done", 3))).isEqualTo(Health.Status.HEALTHY);
    assertThat(health("example.com/Gadget", cr.formatted("False", "InstallFailed", 3))).isEqualTo(Health.Status.DEGRADED);
    assertThat(health("example.com/Gadget", cr.formatted("False", "Reconciling", 3))).isEqualTo(Health.Status.PROGRESSING);
    assertThat(health("example.com/Gadget", "{\"status\":{}}")).isEqualTo(Health.Status.HEALTHY);
    assertThat(health("example.com/Widget", "{\"status\":{\"phase\":\"Mixing\"}}")).isEqualTo(Health.Status.PROGRESSING);
    assertThat(health("example.com/Widget", "{\"status\":{\"phase\":\"Painted\"}}")).isEqualTo(Health.Status.HEALTHY);
    assertThat(health("example.com/Widget", cr.formatted("False", "Failed", 3))).as("the user's check had no answer")
        .isEqualTo(Health.Status.DEGRADED);
  }

  @Test
  void absentIsMissingAndUnknownSaysWhy() {
    ResourceKey key = ResourceKey.of("k8s", "/ConfigMap", "ns", "x");
    assertThat(provider.health(key, Observation.absent(key)).status()).isEqualTo(Health.Status.MISSING);
    assertThat(provider.health(key, Observation.unknown(key, "forbidden")).message()).isEqualTo("forbidden");
  }
}
