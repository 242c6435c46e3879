package dev.gitops.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.Objects;

/**
 * What applying one change came to.
 *
 * <pre>{@code
 * Outcome done = Outcome.created();
 * Outcome retried = Outcome.transientFailure("connection reset", cause);    // retried with backoff
 * Outcome failed = Outcome.permanentFailure("field is immutable", cause);   // blocks dependents
 * }</pre>
 *
 * @param kind what happened
 * @param message a one-line explanation ("" when none)
 * @param cause the error behind a failure, or null
 * @param outputs values the provider learned (an id, an address), for dependents
 */
public record Outcome(Kind kind, String message, Throwable cause, Map<String, JsonNode> outputs) {

  /** What happened to one change. */
  public enum Kind {
    /** The object was created. */
    CREATED,
    /** The object was updated. */
    CONFIGURED,
    /** Nothing needed doing. */
    UNCHANGED,
    /** The object was deleted. */
    DELETED,
    /** The change was skipped on purpose. */
    SKIPPED,
    /** A failure worth retrying. */
    TRANSIENT,
    /** A failure that retrying will not fix. */
    PERMANENT,
    /** The call timed out or was cancelled mid-way: treated like a crash. */
    UNKNOWN;

    /** Whether this kind is a success. */
    public boolean isOk() {
      return this == CREATED || this == CONFIGURED || this == UNCHANGED || this == DELETED || this == SKIPPED;
    }
  }

  /** Validates and copies. */
  public Outcome {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(message, "message");
    outputs = Map.copyOf(Objects.requireNonNull(outputs, "outputs"));
  }

  /** Created. */
  public static Outcome created() {
    return new Outcome(Kind.CREATED, "", null, Map.of());
  }

  /** Updated. */
  public static Outcome configured() {
    return new Outcome(Kind.CONFIGURED, "", null, Map.of());
  }

  /** Nothing to do. */
  public static Outcome unchanged() {
    return new Outcome(Kind.UNCHANGED, "", null, Map.of());
  }

  /** Deleted. */
  public static Outcome deleted() {
    return new Outcome(Kind.DELETED, "", null, Map.of());
  }

  /** Skipped, for {@code reason}. */
  public static Outcome skipped(String reason) {
    return new Outcome(Kind.SKIPPED, reason, null, Map.of());
  }

  /**
   * The outcome of a planned SKIP: its reason, ending with where the resource is declared when a
   * file declares it ({@link Change#declaredAt()}), as errors about a resource end.
   *
   * <pre>{@code
   * Outcome o = Outcome.skipped(change);  // "removed from Git, but prune is disabled; no longer in Git (...), declared at a.yaml:3"
   * }</pre>
   */
  public static Outcome skipped(Change change) {
    String at = java.util.Objects.requireNonNull(change, "change").declaredAt();
    return skipped(change.reason() + (at.isEmpty() ? "" : "; " + at));
  }

  /** A failure worth retrying. */
  public static Outcome transientFailure(String message, Throwable cause) {
    return new Outcome(Kind.TRANSIENT, message, cause, Map.of());
  }

  /** A failure retrying will not fix. */
  public static Outcome permanentFailure(String message, Throwable cause) {
    return new Outcome(Kind.PERMANENT, message, cause, Map.of());
  }

  /** Timed out or cancelled mid-call: the live state is not known. */
  public static Outcome unknown(String message) {
    return new Outcome(Kind.UNKNOWN, message, null, Map.of());
  }

  /**
   * The object changed since it was observed and nothing was written (a Kubernetes 409): an
   * {@link Kind#UNKNOWN} outcome whose cause is a {@link ConflictException}, so the engine observes
   * and plans the key again and applies the new change once in the same sync.
   *
   * <pre>{@code
   * Outcome refused = Outcome.conflict(key + ": update refused: the object has been modified");
   * }</pre>
   */
  public static Outcome conflict(String message) {
    return new Outcome(Kind.UNKNOWN, message, new ConflictException(null, message), Map.of());
  }

  /** Whether this is a {@linkplain #conflict conflict}: nothing was written because the object changed. */
  public boolean isConflict() {
    return kind == Kind.UNKNOWN && cause instanceof ConflictException;
  }

  /** This outcome with outputs the provider learned. */
  public Outcome withOutputs(Map<String, JsonNode> newOutputs) {
    return new Outcome(kind, message, cause, newOutputs);
  }

  /** Whether this is a success. */
  public boolean isOk() {
    return kind.isOk();
  }
}
