package dev.gitops.cluster;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** A clock that follows the system clock, shifted by what the test adds: a pause seen from inside the process. */
public final class MovableClock extends Clock {

  private volatile Duration offset = Duration.ZERO;

  /** Moves this clock forward by {@code d}, as if the process had been paused that long. */
  public void advance(Duration d) {
    offset = offset.plus(d);
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }

  @Override
  public Instant instant() {
    return Instant.now().plus(offset);
  }
}
