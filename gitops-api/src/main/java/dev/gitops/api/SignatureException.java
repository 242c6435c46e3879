package dev.gitops.api;

import java.util.Optional;

/**
 * A commit, or the annotated tag it was read through, was unsigned or signed by a key the user did
 * not trust; nothing was applied. {@link #tag()} names the tag when its signature was refused.
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
  private final String tag;

  /** An error for {@code commit} with the reason. */
  public SignatureException(String commit, String reason) {
    super("commit " + commit + " refused: " + reason);
    this.commit = commit;
    this.tag = null;
  }

  /**
   * An error for the annotated tag {@code tag} (its name, as {@code v1.2.0}) through which {@code
   * commit} was read, with the reason its signature was refused.
   */
  public SignatureException(String commit, String tag, String reason) {
    super("tag " + tag + " (commit " + commit + ") refused: " + reason);
    this.commit = commit;
    this.tag = tag;
  }

  /** The commit id refused, or read through the tag refused. */
  public String commit() {
    return commit;
  }

  /** The name of the annotated tag whose signature was refused; empty when the commit's own was. */
  public Optional<String> tag() {
    return Optional.ofNullable(tag);
  }
}
