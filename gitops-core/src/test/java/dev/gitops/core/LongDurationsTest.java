package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.core.apply.ExecutionOptions;
import dev.gitops.core.internal.loop.Periodic;
import dev.gitops.core.source.GitSource;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.Test;

/**
 * Every duration the engine turns into a deadline or a wait takes up to 36,500 days and refuses a
 * longer one naming it ({@code ChronoUnit.FOREVER} meant as no limit would overflow mid-sync, or wrap
 * a Git timeout held as int seconds to one second).
 */
class LongDurationsTest {

  private static final Duration FOREVER = ChronoUnit.FOREVER.getDuration();

  @Test
  void theLongestIsTakenAndALongerOneRefusedNamingIt() {
    assertThat(SyncOptions.builder().lockTimeout(ExecutionOptions.MAX).build().lockTimeout())
        .isEqualTo(ExecutionOptions.MAX);
    assertThatThrownBy(() -> SyncOptions.builder().lockTimeout(FOREVER)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lockTimeout must be at most 36500 days");
    assertThatThrownBy(() -> GitSource.builder().timeout(FOREVER)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("timeout must be at most 36500 days");
    GitSource.builder().timeout(ExecutionOptions.MAX);
    assertThatThrownBy(() -> Periodic.builder("t").interval(ExecutionOptions.MAX.plusSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("interval must be at most 36500 days");
    assertThatThrownBy(() -> Periodic.builder("t").maxBackoff(FOREVER))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxBackoff");
  }
}
