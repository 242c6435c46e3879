package dev.gitops.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class StandInApiServerTest {

  @Test
  void aWatchsEndRunsOnItsOwnThreadSoTheEventLoopGoesOn() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicReference<String> endedOn = new AtomicReference<>();
    WebSocketListener blocking = new WebSocketListener() {
      @Override
      public void onClosed(WebSocket ws, int code, String reason) {
        endedOn.set(Thread.currentThread().getName());
        try {
          release.await(10, TimeUnit.SECONDS);  // as the mock's own end may wait on its sender
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    };
    new StandInApiServer.EndedOffTheEventLoop(blocking).onClosed(null, 1000, "closed");
    // returned while the mock's end still waits
    assertThat(release.getCount()).isEqualTo(1);
    release.countDown();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (endedOn.get() == null && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(endedOn.get()).isEqualTo("stand-in watch closed");
  }

  @Test
  void aMissingObjectIsAnswered404WithTheStatusNamingItThatARealServerSends() {
    KubernetesMockServer server = StandInApiServer.withExpectations();
    try (KubernetesClient client = server.createClient()) {
      // (fabric8's get() answers null for any 404; a patch reads the object first and throws the server's Status)
      assertThat(client.configMaps().inNamespace("a").withName("gone").get()).isNull();
      assertThatThrownBy(() -> client.configMaps().inNamespace("a").withName("gone")
          .patch(PatchContext.of(PatchType.JSON_MERGE), "{}"))
          .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
            assertThat(e.getCode()).isEqualTo(404);
            assertThat(e.getStatus().getReason()).isEqualTo("NotFound");
            assertThat(e.getStatus().getMessage()).isEqualTo("configmaps \"gone\" not found");
            assertThat(e.getStatus().getDetails().getName()).isEqualTo("gone");
            assertThat(e.getStatus().getDetails().getKind()).isEqualTo("configmaps");
            assertThat(e.getStatus().getDetails().getGroup()).isNull();
          });
      assertThatThrownBy(() -> client.genericKubernetesResources(dev.gitops.k8s.internal.KindInformers.context(
          new dev.gitops.k8s.internal.KindInfo("example.com", "v1", "Widget", "widgets", true))).inNamespace("shop")
          .withName("banner").patch(PatchContext.of(PatchType.JSON_MERGE), "{}"))
          .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
            assertThat(e.getStatus().getMessage()).isEqualTo("widgets.example.com \"banner\" not found");
            assertThat(e.getStatus().getDetails().getGroup()).isEqualTo("example.com");
          });
      // a 404 with a body (a kind not served, as a test injects it) is sent as it is
      String notServed = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
          + "\"message\":\"the server could not find the requested resource\",\"reason\":\"NotFound\",\"details\":{},"
          + "\"code\":404}";
      server.expect().get().withPath("/api/v1/namespaces/a/configmaps/other").andReturn(404, notServed).once();
      assertThatThrownBy(() -> client.configMaps().inNamespace("a").withName("other")
          .patch(PatchContext.of(PatchType.JSON_MERGE), "{}"))
          .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
            assertThat(e.getStatus().getMessage()).isEqualTo("the server could not find the requested resource");
            assertThat(e.getStatus().getDetails().getName()).isNull();
          });
    } finally {
      server.destroy();
    }
  }

  @Test
  void watchesClosedWhileObjectsAreWrittenNeitherStallNorFailTheWrites() {
    KubernetesMockServer server = StandInApiServer.crud();
    try (KubernetesClient client = server.createClient()) {
      List<String> seen = java.util.Collections.synchronizedList(new ArrayList<>());
      long start = System.nanoTime();
      for (int round = 0; round < 20; round++) {
        Watch w = client.configMaps().inNamespace("a").watch(new Watcher<>() {
          @Override
          public void eventReceived(Action action, ConfigMap resource) {
            seen.add(resource.getMetadata().getName());
          }

          @Override
          public void onClose(WatcherException cause) {}
        });
        for (int i = 0; i < 5; i++) {
          String name = "cm-" + round + "-" + i;
          client.configMaps().inNamespace("a").resource(new ConfigMapBuilder().withNewMetadata().withName(name)
              .endMetadata().addToData("v", name).build()).create();
        }
        w.close();  // while events of the writes may still be on their way to it
      }
      assertThat(client.configMaps().inNamespace("a").list().getItems()).hasSize(100);
      assertThat(seen).isNotEmpty();
      // a liveness bound, not a speed claim: the rounds take about a second; a stalled event loop
      // held one close for 30 s or more (and destroy() below then fails: "Unable to close MockWebServer")
      assertThat(java.time.Duration.ofNanos(System.nanoTime() - start)).isLessThan(java.time.Duration.ofSeconds(20));
    } finally {
      server.destroy();
    }
  }
}
