package dev.gitops.api;

import java.util.Objects;

/**
 * The health of a live object, as a provider judges it. Dependents wait for HEALTHY and fail
 * fast on DEGRADED.
 *
 * <pre>{@code
 * Health ready = Health.healthy();
 * Health waiting = Health.progressing("2 of 3 replicas ready");   // dependents wait
 * Health broken = Health.degraded("CrashLoopBackOff");            // dependents fail
 * Health gone = new Health(Health.Status.MISSING, "");
 * }</pre>
 *
 * @param status the status
 * @param message why, or ""
 */
public record Health(Status status, String message) {

  /** Health states. */
  public enum Status {
    /** Ready. */
    HEALTHY,
    /** Not ready yet; check again. */
    PROGRESSING,
    /** Broken; dependents fail. */
    DEGRADED,
    /** The object does not exist. */
    MISSING,
    /** Cannot tell. */
    UNKNOWN
  }

  private static final Health HEALTHY = new Health(Status.HEALTHY, "");

  /** Validates. */
  public Health {
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(message, "message");
  }

  /** Healthy. */
  public static Health healthy() {
    return HEALTHY;
  }

  /** Progressing, with a message. */
  public static Health progressing(String message) {
    return new Health(Status.PROGRESSING, message);
  }

  /** Degraded, with a message. */
  public static Health degraded(String message) {
    return new Health(Status.DEGRADED, message);
  }
}
