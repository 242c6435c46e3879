package dev.gitops.images.git;

/**
 * The path a {@link GitWriteBack} reads is not in the branch's tree: a mistyped directory would
 * otherwise find no marker and report every image up to date.
 *
 * <pre>{@code
 * try {
 *   writeBack.write(choices);
 * } catch (PathNotFoundException e) {
 *   log.error("path {} is not in the repository: {}", e.path(), e.getMessage());
 * }
 * }</pre>
 */
public class PathNotFoundException extends GitWriteException {
  private static final long serialVersionUID = 1L;

  private final String path;

  /** {@code path} is not in the tree the message names. */
  public PathNotFoundException(String path, String message) {
    super(message);
    this.path = path;
  }

  /** The path as normalised by {@link GitWriteBack.Builder#path}. */
  public String path() {
    return path;
  }
}
