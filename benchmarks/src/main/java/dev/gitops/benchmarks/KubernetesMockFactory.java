package dev.gitops.benchmarks;

import dev.gitops.api.spi.Provider;
import dev.gitops.k8s.KubernetesProvider;
import dev.gitops.k8s.StandInApiServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link ProviderFactory} for the Kubernetes provider against fabric8's mock API server in CRUD
 * mode on loopback: every resource is a ConfigMap of about 1 KB in one of 50 namespaces. The mock
 * server stands in for a cluster, so the figures measure the provider, the client and the HTTP
 * round trips, not an API server's storage.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.gitops.benchmarks.ScaleHarness --n 1000 \
 *     --provider dev.gitops.benchmarks.KubernetesMockFactory
 * </pre>
 */
public final class KubernetesMockFactory implements ProviderFactory, AutoCloseable {

  /** Held so the level sticks: the mock web server logs every request through java.util.logging. */
  private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  static {
    MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
  }

  private final List<AutoCloseable> started = new ArrayList<>();
  private KubernetesMockServer lastServer;

  /** A factory. */
  public KubernetesMockFactory() {}

  @Override
  public String name() {
    return "k8s-mock";
  }

  @Override
  public Provider create(Path scratch) {
    KubernetesMockServer server = StandInApiServer.crud();
    KubernetesClient client = server.createClient();
    KubernetesProvider provider = KubernetesProvider.builder(client).build();
    started.add(server::destroy);
    started.add(client);
    started.add(provider);
    lastServer = server;
    return provider;
  }

  /** The mock server behind the provider made last, to count the requests it received. */
  public KubernetesMockServer server() {
    return lastServer;
  }

  @Override
  public String document(int index, int generation) {
    StringBuilder sb = new StringBuilder(1100);
    String name = String.format("cm-%06d", index);
    sb.append("apiVersion: v1\nkind: ConfigMap\nmetadata:\n");
    sb.append("  name: ").append(name).append('\n');
    sb.append("  namespace: team-").append(index % 50).append('\n');
    sb.append("  labels:\n    app.kubernetes.io/name: ").append(name).append("\n    app.kubernetes.io/part-of: shop\n");
    sb.append("    tier: ").append(index % 2 == 0 ? "frontend" : "backend").append('\n');
    sb.append("data:\n");
    sb.append("  image: registry.example.com/team-").append(index % 50).append("/svc-").append(index).append(":1.")
        .append(generation).append(".0\n");
    for (int i = 0; i < 12; i++) {
      sb.append("  SETTING_").append(i).append(": \"value-").append(i).append('-').append(index).append("\"\n");
    }
    sb.append("  notes: \"generated resource ").append(index).append(" of the scale benchmark, generation ")
        .append(generation).append(", padded to about one kilobyte like the other rows of the harness; ")
        .append("the text has no meaning of its own and only gives the object its size.\"\n");
    return sb.toString();
  }

  /** Stops every provider, client and mock server this factory started. */
  @Override
  public void close() throws Exception {
    for (int i = started.size() - 1; i >= 0; i--) {
      started.get(i).close();
    }
    started.clear();
  }
}
