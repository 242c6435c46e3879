package dev.gitops.images.git;

/**
 * The branch a {@link GitWriteBack} reads is not in the repository (nor the branch it pushes to,
 * when that is another): a mistyped branch, said before any registry is read. It names the
 * branches, so that a caller can name its own setting for them (a CLI flag, a configuration key).
 *
 * <pre>{@code
 * try {
 *   writeBack.verify();
 * } catch (BranchNotFoundException e) {
 *   log.error("branch {} is not in the repository: {}", e.branch(), e.getMessage());
 * }
 * }</pre>
 */
public class BranchNotFoundException extends GitWriteException {
  private static final long serialVersionUID = 1L;

  private final String branch;
  private final String pushBranch;

  /** Neither {@code branch} nor {@code pushBranch} (the same name when pushes go to the branch read) is in the repository. */
  public BranchNotFoundException(String branch, String pushBranch, String message) {
    super(message);
    this.branch = branch;
    this.pushBranch = pushBranch;
  }

  /** The branch read, as given to {@link GitWriteBack.Builder#branch}. */
  public String branch() {
    return branch;
  }

  /** The branch pushed to ({@link GitWriteBack.Builder#pushBranch}), the same as {@link #branch()} unless another was set. */
  public String pushBranch() {
    return pushBranch;
  }
}
