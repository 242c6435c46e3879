package dev.gitops.cluster;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * A clock that only moves forward at the pace of {@link System#nanoTime()}: the wall-clock time at
 * its creation plus the time elapsed since. Leases are timed with it (renewals, the TTL by the
 * member's own clock, the settle delay): a step of the wall clock (NTP, a person with {@code date
 * -s}) would otherwise keep a lost lease "live" longer (a step back) or drop every target at once
 * (a step forward). What it says is the wall-clock time only as long as the wall clock does not
 * step; times meant for people (an ownership's {@code since}) are taken from the wall clock.
 *
 * <pre>{@code
 * java.time.Clock lease = MonotonicClock.system();
 * Instant start = lease.instant();
 * // ... later, whatever the wall clock did meanwhile
 * Duration elapsed = Duration.between(start, lease.instant());
 * }</pre>
 */
public final class MonotonicClock extends Clock {

  private final Instant anchor;
  private final long anchorNanos;
  private final LongSupplier nanos;

  /** A clock anchored at {@code wall}'s time now, moving with {@code nanos} (nanoseconds, any origin). */
  MonotonicClock(Clock wall, LongSupplier nanos) {
    this.nanos = Objects.requireNonNull(nanos, "nanos");
    this.anchorNanos = nanos.getAsLong();
    this.anchor = wall.instant();
  }

  /** A clock anchored at the UTC system clock's time now, moving with {@link System#nanoTime()}. */
  public static MonotonicClock system() {
    return new MonotonicClock(Clock.systemUTC(), System::nanoTime);
  }

  @Override
  public Instant instant() {
    return anchor.plus(Duration.ofNanos(nanos.getAsLong() - anchorNanos));
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
  public String toString() {
    return "MonotonicClock[anchored at " + anchor + "]";
  }
}
