package dev.gitops.images.git;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What a writer that shares its work with others (gitops-cluster's members) adds to every image
 * automation push: a commit trailer that says who pushed under which ownership token, and a check
 * run right before each push that refuses it once the token is stale. Pushes never force in any
 * case, so a fenced writer can neither push nor overwrite what the current owner pushed.
 *
 * <pre>{@code
 * Ownership o = coordinator.tryAcquire("payments").orElseThrow();
 * GitWriteBack git = GitWriteBack.builder(url)
 *     .pushFence(PushFence.of(o.trailer(), () -> coordinator.checkFence(o)))   // Reconciled-By: m1@42
 *     .build();
 * }</pre>
 */
public interface PushFence {

  /** A trailer line: a token (letters, digits, '-'), ": ", a value on one line. */
  Pattern TRAILER = Pattern.compile("[A-Za-z0-9][A-Za-z0-9-]*: \\S[^\\r\\n]*");

  /** The trailer line added to every commit, such as {@code Reconciled-By: m1@42}. */
  String trailer();

  /** Throws when the writer's token is stale; nothing is pushed then. Runs right before each push. */
  void check();

  /**
   * A fence adding {@code trailer} and running {@code check} before each push.
   *
   * @throws IllegalArgumentException when {@code trailer} is not one {@code Key: value} line
   */
  static PushFence of(String trailer, Runnable check) {
    Objects.requireNonNull(check, "check");
    if (trailer == null || !TRAILER.matcher(trailer).matches()) {
      throw new IllegalArgumentException("push fence trailer must be one 'Key: value' line, got " + trailer);
    }
    return new PushFence() {
      @Override
      public String trailer() {
        return trailer;
      }

      @Override
      public void check() {
        check.run();
      }
    };
  }
}
