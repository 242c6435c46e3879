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
