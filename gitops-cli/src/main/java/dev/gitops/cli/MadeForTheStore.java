package dev.gitops.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a command is about to create for a state store (the store's directory and a Terraform
 * target's, with their missing parents) and what the store held before, so that a command that
 * fails before anything is recorded leaves none of it behind: {@code plan --out} its secret key, a
 * {@code sync} with a {@code --ref} the repository does not have its lock file and Git cache. Only
 * what this command made is removed, never what was there before: the store's new entries only
 * while it records nothing (no sync wrote it) and they are all of the kinds the command may leave
 * ({@link #undo}), a directory only when empty.
 */
final class MadeForTheStore {

  private static final Logger LOG = LoggerFactory.getLogger(MadeForTheStore.class);

  private final Path store;
  private final Set<Path> inStoreBefore;
  private final List<Path> missing;

  private MadeForTheStore(Path store, Set<Path> inStoreBefore, List<Path> missing) {
    this.store = store;
    this.inStoreBefore = inStoreBefore;
    this.missing = missing;
  }

  /** What is there now, before {@code target}'s store (and, for Terraform, working directory) is used. */
  static MadeForTheStore before(TargetOptions target) {
    target.validate();
    Path store = target.stateDir();
    List<Path> missing = new ArrayList<>();
    List<Path> dirs = new ArrayList<>(List.of(store));
    if (target.targetDir() != null && !"ansible".equals(target.provider)) {
      dirs.add(target.targetDir());  // the files provider's and Terraform's, made for the store or the sync
    }
    for (Path dir : dirs) {
      for (Path p = dir; p != null && !Files.exists(p, LinkOption.NOFOLLOW_LINKS); p = p.getParent()) {
        if (!missing.contains(p)) {
          missing.add(p);
        }
      }
    }
    missing.sort(Comparator.comparingInt(Path::getNameCount).reversed());  // the deepest first
    return new MadeForTheStore(store, entries(store), missing);
  }

  /**
   * Removes what was made since {@link #before}: the store's new entries when they are all named
   * in {@code mayLeave} ({@code secret.key}; {@code lock}, {@code git-cache}) and the store records
   * no sync (no {@code meta.json}: another command may have started using it), then the
   * directories that were missing, as far as they are empty. A failure leaves the rest as it is.
   */
  void undo(Set<String> mayLeave) {
    Set<Path> added = entries(store);
    added.removeAll(inStoreBefore);
    try {
      if (!Files.exists(store.resolve("meta.json"), LinkOption.NOFOLLOW_LINKS)
          && added.stream().allMatch(p -> mayLeave.contains(p.getFileName().toString()))) {
        for (Path p : added) {
          ChildClassData.deleteTree(p);
        }
      }
      for (Path dir : missing) {
        Files.deleteIfExists(dir);
      }
    } catch (IOException e) {
      // something else is there now (another command's store), or it cannot be removed: it stays, harmless
      LOG.debug("the command failed before anything was recorded; left {} as it is: {}", store, e.toString());
    }
  }

  private static Set<Path> entries(Path dir) {
    Set<Path> out = new HashSet<>();
    if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      try (Stream<Path> list = Files.list(dir)) {
        list.forEach(out::add);
      } catch (IOException e) {
        LOG.debug("cannot list {}: {}", dir, e.toString());
        out.add(dir);  // unknown: never taken for "only what this command may leave is new"
      }
    }
    return out;
  }
}
