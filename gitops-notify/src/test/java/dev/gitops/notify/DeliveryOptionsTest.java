package dev.gitops.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DeliveryOptionsTest {

  @Test
  void defaultsAreWhatTheyPromise() {
    DeliveryOptions d = DeliveryOptions.defaults();
    assertThat(d.queueCapacity()).isEqualTo(100);
    assertThat(d.maxAttempts()).isEqualTo(5);
    assertThat(d.initialBackoff()).isEqualTo(Duration.ofSeconds(1));
    assertThat(d.maxBackoff()).isEqualTo(Duration.ofSeconds(60));
    assertThat(d.requestTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(DeliveryOptions.builder().build()).isEqualTo(d).hasSameHashCodeAs(d);
  }

  @Test
  void toBuilderKeepsEverythingButWhatItSets() {
    DeliveryOptions patient = DeliveryOptions.builder().queueCapacity(1000).maxAttempts(8)
        .backoff(Duration.ofSeconds(2), Duration.ofMinutes(2)).requestTimeout(Duration.ofSeconds(3)).build();
    DeliveryOptions once = patient.toBuilder().maxAttempts(1).build();
    assertThat(once.maxAttempts()).isEqualTo(1);
    assertThat(once.toBuilder().maxAttempts(8).build()).isEqualTo(patient);
    assertThat(once).isNotEqualTo(patient);
    assertThat(once.queueCapacity()).isEqualTo(1000);
    assertThat(once.initialBackoff()).isEqualTo(Duration.ofSeconds(2));
    assertThat(once.maxBackoff()).isEqualTo(Duration.ofMinutes(2));
    assertThat(once.requestTimeout()).isEqualTo(Duration.ofSeconds(3));
  }

  @Test
  void outOfRangeAndMissingPartsAreNamed() {
    assertThatThrownBy(() -> DeliveryOptions.builder().queueCapacity(0).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("queueCapacity");
    assertThatThrownBy(() -> DeliveryOptions.builder().maxAttempts(0).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxAttempts");
    assertThatThrownBy(() -> DeliveryOptions.builder().backoff(Duration.ofSeconds(5), Duration.ofSeconds(1)).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("backoff");
    assertThatThrownBy(() -> DeliveryOptions.builder().requestTimeout(Duration.ZERO).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("requestTimeout");
    assertThatThrownBy(() -> DeliveryOptions.builder().backoff(null, Duration.ofSeconds(1)))
        .isInstanceOf(NullPointerException.class).hasMessage("initialBackoff");
    assertThatThrownBy(() -> DeliveryOptions.builder().requestTimeout(null))
        .isInstanceOf(NullPointerException.class).hasMessage("requestTimeout");
  }
}
