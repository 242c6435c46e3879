package dev.gitops.core.source;

/**
 * Which OpenPGP signature {@link GitSource.Builder#requireSignedBy(java.nio.file.Path, SignatureMode)}
 * checks: the commit read, the annotated tag it is read through, or both (Flux's GitRepository
 * {@code spec.verify.mode}: {@code HEAD}, {@code Tag}, {@code TagAndHEAD}).
 *
 * <pre>{@code
 * GitSource releases = GitSource.builder()
 *     .url("https://git.example.com/ops/desired.git")
 *     .ref("^1.2")                                          // the highest signed release tag
 *     .requireSignedBy(Path.of("/etc/gitops/trusted-keys.asc"), SignatureMode.TAG)
 *     .build();
 * }</pre>
 */
public enum SignatureMode {

  /** The commit read carries the signature (the default; Flux's {@code HEAD}). */
  HEAD,

  /**
   * The ref is an annotated tag ({@code git tag -s}) and the tag carries the signature; the
   * commit's own signature is not checked (Flux's {@code Tag}). A branch, a commit id, a
   * lightweight tag or a pinned revision no such tag names now is refused.
   */
  TAG,

  /** Both: the annotated tag and the commit it names carry a signature (Flux's {@code TagAndHEAD}). */
  TAG_AND_HEAD;

  /**
   * Whether a source whose ref is {@code ref} (null: the default branch) can be read under this
   * mode: the tag modes read a commit through an annotated tag, and a commit id (40 hex digits)
   * names no tag. {@link GitSource.Builder#build()} refuses such a source; a configuration checks it
   * first to name its own setting.
   *
   * <pre>{@code
   * boolean fits = SignatureMode.TAG.admits("v1.2.0");   // true; false for a commit id
   * }</pre>
   */
  public boolean admits(String ref) {
    return this == HEAD || ref == null || !COMMIT_ID.matcher(ref).matches();
  }

  private static final java.util.regex.Pattern COMMIT_ID = java.util.regex.Pattern.compile("[0-9a-fA-F]{40}");

  /** Whether the commit's own signature is checked. */
  boolean checksCommit() {
    return this != TAG;
  }

  /** Whether the annotated tag's signature is checked. */
  boolean checksTag() {
    return this != HEAD;
  }
}
