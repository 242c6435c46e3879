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

  /** An error at {@code origin}. */
  public DecodeException(Origin origin, String message) {
    super(origin + ": " + message);
    this.origin = origin;
  }

  /** An error at {@code origin} with a cause. */
  public DecodeException(Origin origin, String message, Throwable cause) {
    super(origin + ": " + message, cause);
    this.origin = origin;
  }

  /** Where the error is. */
  public Origin origin() {
    return origin;
  }
}
