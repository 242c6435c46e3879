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
 * Health gone = Health.missing("web does not exist");
 * Health unsure = Health.unknown("the API server did not answer");
 * log.info("web is {}", waiting);                                   // PROGRESSING (2 of 3 replicas ready)
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

  /** Missing: the object does not exist. */
  public static Health missing(String message) {
    return new Health(Status.MISSING, message);
  }

  /** Unknown: the provider cannot tell, with why. */
  public static Health unknown(String message) {
    return new Health(Status.UNKNOWN, message);
  }

  /** The status, and the message in parentheses when there is one: {@code PROGRESSING (2 of 3 replicas ready)}. */
  @Override
  public String toString() {
    return message.isEmpty() ? status.toString() : status + " (" + message + ")";
  }
}
