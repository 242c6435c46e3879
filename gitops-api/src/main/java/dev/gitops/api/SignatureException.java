package dev.gitops.api;

/**
 * A commit was unsigned or signed by a key the user did not trust; nothing was applied.
 *
 * <pre>{@code
 * try {
 *   reconciler.sync();   // from a GitSource built with requireSignedBy(keyRing)
 * } catch (SignatureException e) {
 *   log.error("commit {} refused, nothing applied: {}", e.commit(), e.getMessage());
 * }
 * }</pre>
 */
public class SignatureException extends SourceException {
  private static final long serialVersionUID = 1L;
  private final String commit;

  /** An error for {@code commit} with the reason. */
  public SignatureException(String commit, String reason) {
    super("commit " + commit + " refused: " + reason);
    this.commit = commit;
  }

  /** The commit id refused. */
  public String commit() {
    return commit;
  }
}
