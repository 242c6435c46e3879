package dev.gitops.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.SyncResult;
import dev.gitops.k8s.KubernetesProvider;
import dev.gitops.k8s.StandInApiServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KubernetesDirectorySyncTest {

  @TempDir
  Path dir;
  private KubernetesMockServer server;
  private KubernetesClient client;

  @BeforeEach
  void start() {
    server = StandInApiServer.crud();
    client = server.createClient();
  }

  @AfterEach
  void stop() {
    client.close();
    server.destroy();
  }

  @Test
  void eachSyncClosesItsReconcilerSoNoWorkerThreadOutlivesIt() throws Exception {
    Files.writeString(dir.resolve("config.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: \"1\"}\n");
    Set<Thread> before = new HashSet<>(Thread.getAllStackTraces().keySet());
    try (KubernetesProvider k8s = KubernetesProvider.builder(client).defaultNamespace("shop").build()) {
      assertThat(KubernetesDirectorySync.sync(dir, k8s).isSuccessful()).isTrue();
      List<Thread> workers = Thread.getAllStackTraces().keySet().stream()
          .filter(t -> !before.contains(t) && t.getName().startsWith("gitops-apply-")).toList();
      for (Thread w : workers) {
        w.join(10_000);  // a closed reconciler's workers end at once; an unclosed one's idle 30 s, then until GC
      }
      assertThat(workers).as("the reconciler's apply threads, ended by its close()").noneMatch(Thread::isAlive);
    }
  }

  @Test
  void aDirectoryOfManifestsIsCreatedUpdatedAndPruned() throws Exception {
    Files.writeString(dir.resolve("config.yaml"), """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: settings}
        data: {mode: fast}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: extra}
        data: {a: "1"}
        """);
    Files.writeString(dir.resolve("notes.txt"), "not a manifest");
    try (KubernetesProvider k8s = KubernetesProvider.builder(client).defaultNamespace("shop").build()) {
      SyncResult first = KubernetesDirectorySync.sync(dir, k8s);
      assertThat(first.isSuccessful()).as("%s", first.failures()).isTrue();
      assertThat(client.configMaps().inNamespace("shop").withName("settings").get().getData()).containsEntry("mode", "fast");
      assertThat(KubernetesDirectorySync.sync(dir, k8s).changedAnything()).isFalse();

      Files.writeString(dir.resolve("config.yaml"), """
          apiVersion: v1
          kind: ConfigMap
          metadata: {name: settings}
          data: {mode: safe}
          """);
      SyncResult second = KubernetesDirectorySync.sync(dir, k8s);
      assertThat(second.isSuccessful()).as("%s", second.failures()).isTrue();
      assertThat(second.revision()).isNotEqualTo(first.revision());
      assertThat(client.configMaps().inNamespace("shop").withName("settings").get().getData()).containsEntry("mode", "safe");
      assertThat(client.configMaps().inNamespace("shop").withName("extra").get()).isNull();
    }
  }
}
