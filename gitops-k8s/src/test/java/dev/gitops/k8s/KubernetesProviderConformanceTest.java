package dev.gitops.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.api.Change;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.testkit.ProviderConformanceSuite;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;

class KubernetesProviderConformanceTest extends ProviderConformanceSuite<KubernetesProvider> {

  private static final ObjectMapper JSON = new ObjectMapper();
  private MockCluster cluster;
  private KubernetesProvider provider;

  static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException(e);
    }
  }

  @Override
  protected KubernetesProvider newProvider() {
    cluster = new MockCluster();
    provider = KubernetesProvider.builder(cluster.client).build();
    return provider;
  }

  /** listMarked reads the informers' caches, which show a write once its watch event arrives. */
  @Override
  protected java.time.Duration listingLag() {
    return java.time.Duration.ofSeconds(30);
  }

  @AfterEach
  void stop() {
    provider.close();
    cluster.close();
  }

  @Override
  protected List<Resource> sampleResources() {
    return List.of(
        Resource.of(ResourceKey.of("k8s", "/ConfigMap", "default", "cfg"), json("""
            {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","namespace":"default","labels":{"a":"b"}},
             "data":{"a":"1","b":"2"}}""")),
        Resource.of(ResourceKey.of("k8s", "apps/Deployment", "default", "web"), json("""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"},
             "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
               "template":{"metadata":{"labels":{"app":"web"}},
                 "spec":{"containers":[{"name":"app","image":"nginx:1.27","ports":[{"containerPort":80,"protocol":"TCP"}]}]}}}}""")),
        Resource.of(ResourceKey.of("k8s", "/Namespace", "", "shop"), json("""
            {"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop","labels":{"team":"a"}}}""")));
  }

  @Override
  protected Optional<Resource> modify(Resource r) {
    ObjectMapper m = JSON;
    var doc = (com.fasterxml.jackson.databind.node.ObjectNode) r.document().deepCopy();
    switch (r.key().type()) {
      case "/ConfigMap" -> ((com.fasterxml.jackson.databind.node.ObjectNode) doc.get("data")).remove("b");
      case "apps/Deployment" -> ((com.fasterxml.jackson.databind.node.ObjectNode) doc.get("spec")).put("replicas", 3);
      default -> ((com.fasterxml.jackson.databind.node.ObjectNode) doc.get("metadata")).remove("labels");
    }
    m.getClass();
    return Optional.of(r.withDocument(doc));
  }

  /** A provider whose informers have not started yet meets a server that forbids listing the kind. */
  @Override
  protected boolean makeUnobservable(KubernetesProvider p, ResourceKey key) {
    cluster.server.expect().get().withPath("/api/v1/namespaces/default/configmaps?resourceVersion=0")
        .andReturn(403, forbidden()).always();
    cluster.server.expect().get().withPath("/api/v1/configmaps?resourceVersion=0").andReturn(403, forbidden()).always();
    return key.type().equals("/ConfigMap");
  }

  static String forbidden() {
    return "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"Forbidden\",\"code\":403,"
        + "\"message\":\"configmaps is forbidden: User \\\"gitops\\\" cannot list resource \\\"configmaps\\\" at the cluster scope\"}";
  }

  @Override
  protected Optional<Change> invalidChange(KubernetesProvider p) {
    ResourceKey key = ResourceKey.of("k8s", "example.com/Nothing", "default", "x");
    return Optional.of(Change.create(Resource.of(key, json("{}")), "a kind nobody serves"));
  }
}
