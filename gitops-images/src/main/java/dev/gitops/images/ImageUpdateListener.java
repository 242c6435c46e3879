package dev.gitops.images;

import dev.gitops.images.git.EditConflict;
import dev.gitops.images.git.ImageUpdate;

/**
 * Hears what an {@link ImageUpdater} does: each image written (with the commit that holds it),
 * each concurrent edit left alone, and each run's result. Methods run on the updater's thread and
 * should return quickly; an exception they throw is logged and ignored.
 *
 * <pre>{@code
 * ImageUpdater.builder()...listener(new ImageUpdateListener() {
 *   public void onUpdate(ImageUpdate u, String commit) {
 *     notify(u.image() + " " + u.oldTag() + " -> " + u.newTag() + " in " + commit);
 *   }
 * })
 * }</pre>
 */
public interface ImageUpdateListener {

  /** {@code update} was pushed in {@code commit}. */
  default void onUpdate(ImageUpdate update, String commit) {}

  /** A marked line changed by someone else meanwhile was left alone. */
  default void onConflict(EditConflict conflict) {}

  /** A run ended (any status). */
  default void onRun(ImageUpdateResult result) {}
}
