package dev.gitops.core.apply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {

  @Property
  void delayDoublesWithinTheJitterAndNeverExceedsTheCap(@ForAll @IntRange(min = 1, max = 80) int attempt,
      @ForAll long seed, @ForAll @DoubleRange(min = 0, max = 1) double jitter) {
    RetryPolicy p = new RetryPolicy(100, Duration.ofMillis(200), Duration.ofSeconds(30), jitter);

    Duration d = p.delay(attempt, new Random(seed));

    double base = 200e6 * Math.pow(2, attempt - 1);
    assertThat(d).isLessThanOrEqualTo(Duration.ofSeconds(30));
    assertThat((double) d.toNanos()).isGreaterThanOrEqualTo(Math.min(base * (1 - jitter), 30e9) - 1);
    assertThat((double) d.toNanos()).isLessThanOrEqualTo(base * (1 + jitter) + 1);
  }

  @Test
  void withoutJitterTheDelaysAreExact() {
    RetryPolicy p = RetryPolicy.defaults().withJitter(0);
    Random r = new Random(1);

    assertThat(p.delay(1, r)).isEqualTo(Duration.ofMillis(200));
    assertThat(p.delay(2, r)).isEqualTo(Duration.ofMillis(400));
    assertThat(p.delay(4, r)).isEqualTo(Duration.ofMillis(1600));
    assertThat(p.delay(20, r)).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void noneAllowsASingleAttempt() {
    assertThat(RetryPolicy.none().allowsAfter(1)).isFalse();
    assertThat(RetryPolicy.defaults().allowsAfter(4)).isTrue();
    assertThat(RetryPolicy.defaults().allowsAfter(5)).isFalse();
  }

  @Test
  void rejectsNonsenseNamingTheValue() {
    assertThatThrownBy(() -> RetryPolicy.defaults().withMaxAttempts(0)).hasMessageContaining("was 0");
    assertThatThrownBy(() -> RetryPolicy.defaults().withJitter(1.5)).hasMessageContaining("1.5");
    assertThatThrownBy(() -> RetryPolicy.defaults().withBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .hasMessageContaining("PT1S");
    assertThatThrownBy(() -> ExecutionOptions.defaults().withParallelism(0)).hasMessageContaining("parallelism");
    assertThatThrownBy(() -> ExecutionOptions.defaults().withCallTimeout(Duration.ZERO))
        .hasMessageContaining("callTimeout");
  }
}
