package dev.gitops.cli;

import java.time.Duration;

/**
 * What each stop signal (SIGTERM, SIGINT) to {@code gitops run} asks for: the first a graceful
 * stop, a later one a stop at once. A signal less than {@link #SAME_REQUEST} after the first is
 * that same request delivered twice, not a second one: {@code timeout(1)} signals its child and
 * then its process group, and a supervisor that kills the group does too, microseconds apart.
 * Safe for the signal handlers' threads, one per signal.
 *
 * <pre>{@code
 * StopRequests stops = new StopRequests();
 * stops.next(System.nanoTime());  // GRACEFUL
 * }</pre>
 */
final class StopRequests {

  /** How soon after the first a stop signal is taken as the first delivered again. */
  static final Duration SAME_REQUEST = Duration.ofSeconds(1);

  /** What a stop signal asks for. */
  enum Kind {
    /** The first: no new syncs, the ones in flight stop at a safe point. */
    GRACEFUL,
    /** The first again, delivered twice: nothing more. */
    SAME,
    /** A second request: stop now. */
    AT_ONCE
  }

  private int count;
  private long first;

  /** What the signal that came at {@code nanoTime} ({@link System#nanoTime}) asks for. */
  synchronized Kind next(long nanoTime) {
    if (count++ == 0) {
      first = nanoTime;
      return Kind.GRACEFUL;
    }
    return nanoTime - first < SAME_REQUEST.toNanos() ? Kind.SAME : Kind.AT_ONCE;
  }

  /** Whether a stop was asked for. */
  synchronized boolean any() {
    return count > 0;
  }
}
