package dev.gitops.agent;

import dev.gitops.k8s.StandInApiServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * fabric8's stand-in API server in CRUD mode on loopback, with a client to look at it and a
 * kubeconfig file that names it, for tests of the kubernetes provider type (the agent's, and
 * {@code gitops sync --provider k8s}, through this module's test jar).
 */
public final class StandInCluster implements AutoCloseable {

  private final KubernetesMockServer server;
  private final KubernetesClient client;

  private StandInCluster() {
    server = StandInApiServer.crud();
    client = server.createClient();
  }

  /** A running stand-in cluster. */
  public static StandInCluster start() {
    return new StandInCluster();
  }

  /** A client of the cluster, to see what a sync did. */
  public KubernetesClient client() {
    return client;
  }

  /**
   * Writes {@code file}: a kubeconfig whose context {@code context} names this cluster, beside a
   * context {@code other} naming a cluster that does not exist, which is the current one when
   * {@code otherIsCurrent} (so only an explicit context reaches this cluster).
   */
  public Path writeKubeconfig(Path file, String context, boolean otherIsCurrent) throws IOException {
    Files.writeString(file, kubeconfig(client.getConfiguration().getMasterUrl(), context,
        otherIsCurrent ? "other" : context));
    return file;
  }

  /** A kubeconfig with contexts {@code context} (on {@code server}) and {@code other}, {@code current} current. */
  public static String kubeconfig(String server, String context, String current) {
    return """
        apiVersion: v1
        kind: Config
        clusters:
        - name: stand-in
          cluster: {server: "%s"}
        - name: nowhere
          cluster: {server: "https://127.0.0.1:1"}
        contexts:
        - name: other
          context: {cluster: nowhere, user: tester}
        - name: %s
          context: {cluster: stand-in, user: tester}
        current-context: %s
        users:
        - name: tester
          user: {token: not-a-secret}
        """.formatted(server, context, current);
  }

  @Override
  public void close() {
    client.close();
    server.destroy();
  }
}
