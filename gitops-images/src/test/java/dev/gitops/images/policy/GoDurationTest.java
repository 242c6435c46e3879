package dev.gitops.images.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Durations read as Go's time.ParseDuration reads them (Flux's metav1.Duration). */
class GoDurationTest {

  @Test
  void readsGoUnitsFractionsSignsAndCombinations() {
    Map<String, Duration> cases = Map.ofEntries(
        Map.entry("60s", Duration.ofSeconds(60)),
        Map.entry("1m30s", Duration.ofSeconds(90)),
        Map.entry("1h2m3s4ms5us6ns", Duration.ofHours(1).plusMinutes(2).plusSeconds(3).plusMillis(4).plusNanos(5_006)),
        Map.entry("1.5h", Duration.ofMinutes(90)),
        Map.entry("300ms", Duration.ofMillis(300)),
        Map.entry("2\u00b5s", Duration.ofNanos(2_000)),
        Map.entry("2\u03bcs", Duration.ofNanos(2_000)),
        Map.entry(".5s", Duration.ofMillis(500)),
        Map.entry("5.s", Duration.ofSeconds(5)),
        Map.entry("+5s", Duration.ofSeconds(5)),
        Map.entry("-5s", Duration.ofSeconds(-5)),
        Map.entry("0", Duration.ZERO),
        Map.entry("0s", Duration.ZERO),
        Map.entry("1.0000000009s", Duration.ofSeconds(1)),  // finer than a nanosecond is dropped
        Map.entry("2562047h47m16.854775807s", Duration.ofNanos(Long.MAX_VALUE)));
    cases.forEach((text, expected) -> assertThat(GoDuration.parse(text)).as(text).isEqualTo(expected));
  }

  @Test
  void refusesWhatGoRefusesSayingWhy() {
    Map<String, String> cases = Map.of(
        "abc", "a number is expected at 'abc'",
        "", "it holds no number",
        "-", "it holds no number",
        "5", "the number 5 has no unit",
        "5d", "unknown unit 'd'",
        "PT30S", "a number is expected at 'PT30S'",
        "1s ", "unknown unit 's '",
        ".s", "a number is expected at '.s'",
        "2562047h47m16.854775808s", "longer than Go's longest duration");
    cases.forEach((text, why) -> assertThatThrownBy(() -> GoDuration.parse(text)).as(text)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("'" + text + "' is not a duration (")
        .hasMessageContaining(why)
        .hasMessageContaining("ns, us, ms, s, m, h"));
  }
}
