package dev.gitops.cluster.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.agent.StandInCluster;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.ConnectException;
import java.net.http.HttpConnectTimeoutException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Lease backend whose API server does not answer says, in one line, what failed, the server's
 * URL, why, and the kubeconfig and context it was configured from: fabric8 says only "Operation:
 * [get] ... failed.", its reason in a cause without a message.
 */
class ApiServerUnreachableTest {

  @TempDir
  Path dir;

  /** A client from a kubeconfig file whose current context names a closed loopback port (127.0.0.1:1). */
  private KubernetesClient closedPort(Path kubeconfig) throws Exception {
    Files.writeString(kubeconfig, StandInCluster.kubeconfig("https://127.0.0.1:1", "here", "other"));
    Config config = Config.fromKubeconfig(null, kubeconfig.toFile());
    config.setRequestRetryBackoffLimit(0);  // fabric8 retries for seconds otherwise
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  @Test
  void joinAndReadsAgainstAClosedPortNameTheServerTheReasonAndTheKubeconfig() throws Exception {
    Path kubeconfig = dir.resolve("kubeconfig");
    try (KubernetesClient client = closedPort(kubeconfig)) {
      LeaseCoordinator m1 = LeaseCoordinator.builder(client, "gitops", "m1").build();
      try {
        for (org.assertj.core.api.ThrowableAssert.ThrowingCallable call
            : new org.assertj.core.api.ThrowableAssert.ThrowingCallable[] {m1::join, m1::members, m1::owners}) {
          assertThatThrownBy(call).isInstanceOf(ApiServerUnreachableException.class)
              .hasMessageContaining("kind: [Lease]").hasMessageContaining("in namespace: [gitops] failed: ")
              .hasMessageContaining("the Kubernetes API server https://127.0.0.1:1/ (kubeconfig " + kubeconfig
                  + ", context other) did not answer: connection refused")
              .hasMessageNotContaining("\n").hasMessageNotContaining("  ");
        }
      } finally {
        m1.close();
      }
      // an answer of the server (a status) is left as it is: callers tell conflicts and absences apart by it
      KubernetesClientException conflict = new KubernetesClientException("conflict", 409,
          new io.fabric8.kubernetes.api.model.StatusBuilder().withCode(409).build());
      assertThat(ApiServerUnreachableException.of(client, conflict)).isSameAs(conflict);
      KubernetesClientException refused = wrapped(new ConnectException());
      assertThat(ApiServerUnreachableException.of(client, refused)).isNotSameAs(refused).hasCause(refused);
    }
  }

  @Test
  void theReasonIsFoundBeneathTheClientsWrappers() {
    assertThat(ApiServerUnreachableException.reason(wrapped(new ConnectException())))
        .isEqualTo("connection refused");
    assertThat(ApiServerUnreachableException.reason(wrapped(
        (ConnectException) new ConnectException().initCause(new ClosedChannelException()))))
        .isEqualTo("connection refused");
    assertThat(ApiServerUnreachableException.reason(wrapped(
        (ConnectException) new ConnectException().initCause(new UnresolvedAddressException()))))
        .isEqualTo("unknown host (the host name does not resolve)");
    assertThat(ApiServerUnreachableException.reason(wrapped(new java.net.UnknownHostException(
        "api.example: Name or service not known"))))
        .isEqualTo("unknown host api.example (the host name does not resolve)");
    assertThat(ApiServerUnreachableException.reason(wrapped((SSLHandshakeException) new SSLHandshakeException(
        "PKIX path building failed").initCause(new java.security.cert.CertificateException(
            "unable to find valid certification path to requested target")))))
        .isEqualTo("TLS: unable to find valid certification path to requested target");
    assertThat(ApiServerUnreachableException.reason(wrapped(new HttpConnectTimeoutException("HTTP connect timed out"))))
        .isEqualTo("timed out (HTTP connect timed out)");
    assertThat(ApiServerUnreachableException.reason(new KubernetesClientException("no I/O beneath")))
        .as("not an I/O failure: left as it is").isNull();
  }

  private static KubernetesClientException wrapped(Throwable cause) {
    return new KubernetesClientException("Operation: [get]  for kind: [Lease]  with name: [x]  in namespace: [gitops]"
        + "  failed.", new java.io.IOException(cause));
  }
}
