package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.cli.StopRequests.Kind;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class StopRequestsTest {

  private static final long T0 = 7_000_000_000L;

  @Test
  void theFirstSignalStopsGracefullyAndASecondOneASecondOrMoreLaterAtOnce() {
    StopRequests stops = new StopRequests();
    assertThat(stops.any()).isFalse();
    assertThat(stops.next(T0)).isEqualTo(Kind.GRACEFUL);
    assertThat(stops.any()).isTrue();
    assertThat(stops.next(T0 + Duration.ofSeconds(1).toNanos())).isEqualTo(Kind.AT_ONCE);
  }

  @Test
  void aSignalDeliveredTwiceMicrosecondsApartAsTimeoutDoesIsOneRequest() {
    StopRequests stops = new StopRequests();
    assertThat(stops.next(T0)).isEqualTo(Kind.GRACEFUL);
    assertThat(stops.next(T0 + 30_000)).isEqualTo(Kind.SAME);
    assertThat(stops.next(T0 + Duration.ofMillis(999).toNanos())).isEqualTo(Kind.SAME);
    assertThat(stops.next(T0 + Duration.ofMillis(2500).toNanos())).isEqualTo(Kind.AT_ONCE);
  }

  @Test
  void theWindowIsMeasuredFromTheFirstSignalEvenWhenTheClockIsNegative() {
    StopRequests stops = new StopRequests();
    long t = Long.MIN_VALUE + 10;  // System.nanoTime may be any value, negative too
    assertThat(stops.next(t)).isEqualTo(Kind.GRACEFUL);
    assertThat(stops.next(t + 1_000)).isEqualTo(Kind.SAME);
    assertThat(stops.next(t + Duration.ofSeconds(5).toNanos())).isEqualTo(Kind.AT_ONCE);
  }
}
