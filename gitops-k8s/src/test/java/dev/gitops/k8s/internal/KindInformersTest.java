package dev.gitops.k8s.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.ConnectException;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class KindInformersTest {

  @Test
  void messagesSayWhatTheServerSaidOrWhatKeptItFromAnswering() {
    KubernetesClientException forbidden = new KubernetesClientException(new StatusBuilder().withCode(403)
        .withMessage("configmaps is forbidden: User \"x\" cannot list resource \"configmaps\"").build());
    assertThat(KindInformers.message(new CompletionException(forbidden)))
        .isEqualTo("403 configmaps is forbidden: User \"x\" cannot list resource \"configmaps\"");
    ConnectException refused = new ConnectException();
    assertThat(KindInformers.message(new CompletionException(refused))).isEqualTo("ConnectException");
    assertThat(KindInformers.message(new KubernetesClientException("Failure executing: GET at: http://127.0.0.1:1/api/v1",
        new ConnectException("Connection refused"))))
        .isEqualTo("Failure executing: GET at: http://127.0.0.1:1/api/v1 (ConnectException: Connection refused)");
  }
}
