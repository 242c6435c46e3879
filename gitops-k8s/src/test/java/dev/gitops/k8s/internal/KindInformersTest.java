package dev.gitops.k8s.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

class KindInformersTest {

  @Test
  void messagesSayWhatTheServerSaidOrWhatKeptItFromAnswering() {
    KubernetesClientException forbidden = new KubernetesClientException(new StatusBuilder().withCode(403)
        .withMessage("configmaps is forbidden: User \"x\" cannot list resource \"configmaps\"").build());
    assertThat(KindInformers.message(new CompletionException(forbidden)))
        .isEqualTo("403 configmaps is forbidden: User \"x\" cannot list resource \"configmaps\"");
    assertThat(KindInformers.message(new CompletionException(new ConnectException()))).isEqualTo("cannot connect");
    assertThat(KindInformers.message(new KubernetesClientException("Failure executing: GET at: http://127.0.0.1:1/api/v1",
        new ConnectException("Connection refused"))))
        .isEqualTo("Failure executing: GET at: http://127.0.0.1:1/api/v1 (cannot connect: Connection refused)");
    // the JDK's HTTP client: a ConnectException without a message over the channel's exception
    assertThat(KindInformers.message(new CompletionException(connectFailure(new ClosedChannelException()))))
        .isEqualTo("cannot connect: connection refused");
    assertThat(KindInformers.message(new CompletionException(connectFailure(new UnresolvedAddressException()))))
        .isEqualTo("cannot connect: the host name does not resolve");
    assertThat(KindInformers.message(new KubernetesClientException("Operation: [list]  for kind: [ConfigMap]  failed.",
        new IOException("Remote host terminated the handshake",
            new SSLHandshakeException("Remote host terminated the handshake")))))
        .isEqualTo("Operation: [list]  for kind: [ConfigMap]  failed. (SSLHandshakeException: Remote host terminated the"
            + " handshake)");
  }

  private static ConnectException connectFailure(Throwable cause) {
    ConnectException e = new ConnectException();
    e.initCause(cause);
    return e;
  }

  @Test
  void aFirstListTheServerDidNotAnswerStandsForTheOtherKindsForAWhileInsteadOfEachBeingRetriedAsLong()
      throws Exception {
    int port;
    try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = closed.getLocalPort();
    }
    Config config = new ConfigBuilder().withMasterUrl("https://127.0.0.1:" + port).withTrustCerts(true)
        .withRequestRetryBackoffLimit(1).withRequestRetryBackoffInterval(10).build();
    KindInfo cm = new KindInfo("", "v1", "ConfigMap", "configmaps", true);
    KindInfo secret = new KindInfo("", "v1", "Secret", "secrets", true);
    Duration window = Duration.ofSeconds(3);
    try (KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build();
        KindInformers informers = new KindInformers(client, window)) {
      assertThatThrownBy(() -> informers.synced(cm, Duration.ofSeconds(20)))
          .isInstanceOf(KindInformers.Unavailable.class).hasMessage("cannot connect: connection refused");
      long failed = System.nanoTime();
      // not asked again: the first list's answer, said as such
      assertThatThrownBy(() -> informers.synced(secret, Duration.ofSeconds(20)))
          .isInstanceOf(KindInformers.Unavailable.class)
          .hasMessageStartingWith("cannot connect: connection refused (the first list of /ConfigMap got no answer from"
              + " the API server ")
          .hasMessageEndingWith(" ago, after the client's retries: /Secret is not listed within 3.0 s of that)");
      assertThat(informers.syncedIn(secret, List.of("a", "b"), Duration.ofSeconds(20)))
          .containsOnlyKeys("a", "b")
          .allSatisfy((ns, u) -> assertThat(u).hasMessageContaining("/Secret is not listed within 3.0 s"));
      assertThat(informers.types()).as("nothing was started for them").doesNotContain("/Secret");
      // once the window has passed, the server is asked again
      Thread.sleep(Math.max(0, TimeUnit.NANOSECONDS.toMillis(failed + window.toNanos() - System.nanoTime())) + 100);
      assertThatThrownBy(() -> informers.synced(secret, Duration.ofSeconds(20)))
          .isInstanceOf(KindInformers.Unavailable.class).hasMessage("cannot connect: connection refused");
    }
  }

  @Test
  void aFirstListThatDidNotComeSaysForHowLongInPlainUnitsOrThatNoTimeWasLeft() {
    KindInfo cm = new KindInfo("", "v1", "ConfigMap", "configmaps", true);
    assertThat(KindInformers.notListed(cm, java.time.Duration.ofNanos(4_999_492_072L)))
        .isEqualTo("the informer for /ConfigMap did not finish its first list within 5.0 s: the API server did not"
            + " answer in time (a refused or reset connection is retried until then)");
    assertThat(KindInformers.notListed(cm, java.time.Duration.ofMillis(250))).contains("within 250 ms:");
    assertThat(KindInformers.notListed(cm, java.time.Duration.ZERO))
        .isEqualTo("the informer for /ConfigMap could not wait for its first list: the call had no time left (its"
            + " earlier requests used it up)");
  }
}
