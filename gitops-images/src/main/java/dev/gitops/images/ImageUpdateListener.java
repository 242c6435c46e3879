package dev.gitops.images;

import dev.gitops.images.git.EditConflict;
import dev.gitops.images.git.ImageUpdate;

/**
 * Hears what an {@link ImageUpdater} does: each image written (with the commit that holds it),
 * each concurrent edit left alone, and each run's result. Methods run on the updater's thread and
 * should return quickly; an exception they throw is logged and ignored.
 *
 * <pre>{@code
 * ImageUpdater updater = ImageUpdater.builder().registry(registryClient).policies(policies).git(writeBack)
 *     .listener(new ImageUpdateListener() {
 *       public void onUpdate(ImageUpdate u, String commit) {
 *         log.info("{} {} -> {} in {}", u.image(), u.oldTag(), u.newTag(), commit);
 *       }
 *     })
 *     .build();
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
