package dev.gitops.api;

/**
 * A file of the desired state could not be decoded. The message names file, line and revision.
 *
 * <pre>{@code
 * // in a decoder; for conf/app.kv the message reads "conf/app.kv:3@<revision>: expected 'name = value'"
 * throw new DecodeException(Origin.of(file.path(), 3, file.revision()), "expected 'name = value'");
 * }</pre>
 */
public class DecodeException extends GitOpsException {
  private static final long serialVersionUID = 1L;
  private final Origin origin;

  /** An error at {@code origin} ({@link Origin#NONE} when null). */
  public DecodeException(Origin origin, String message) {
    super(orNone(origin) + ": " + message);
    this.origin = orNone(origin);
  }

  /** An error at {@code origin} ({@link Origin#NONE} when null) with a cause. */
  public DecodeException(Origin origin, String message, Throwable cause) {
    super(orNone(origin) + ": " + message, cause);
    this.origin = orNone(origin);
  }

  private static Origin orNone(Origin origin) {
    return origin == null ? Origin.NONE : origin;
  }

  /** Where the error is. */
  public Origin origin() {
    return origin;
  }
}
