package dev.gitops.ansible.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Playbook bundles written to disk for {@code ansible-playbook}: one directory per digest under
 * {@code <work>/bundles}, written to a temporary directory and renamed into place, so a directory
 * that exists is complete. The newest few are kept.
 */
public final class BundleDirectory {

  private static final Logger LOG = LoggerFactory.getLogger(BundleDirectory.class);
  private static final int KEEP = 3;

  private final Path root;

  /** Bundles under {@code workDir/bundles}. */
  public BundleDirectory(Path workDir) {
    this.root = workDir.resolve("bundles");
  }

  /** The directory holding {@code bundle}'s files (paths as in the source), written when missing. */
  public synchronized Path materialize(PlaybookBundle bundle) throws IOException {
    Files.createDirectories(root);
    String name = bundle.digest().replace("sha256:", "");
    Path dir = root.resolve(name);
    if (Files.isDirectory(dir)) {
      touch(dir);
      return dir;
    }
    Path tmp = Files.createTempDirectory(root, ".incoming-");
    try {
      for (Map.Entry<String, byte[]> f : bundle.files().entrySet()) {
        Path target = tmp.resolve(f.getKey()).normalize();
        if (!target.startsWith(tmp) || f.getKey().startsWith("/") || f.getKey().contains("\\")) {
          throw new IOException("refusing playbook file path '" + f.getKey() + "': it leaves the bundle directory");
        }
        Files.createDirectories(target.getParent());
        Files.write(target, f.getValue());
      }
      Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      deleteTree(tmp);
      if (Files.isDirectory(dir)) {
        return dir;  // another writer of the same digest won the rename: its copy is identical
      }
      throw e;
    }
    prune(dir);
    return dir;
  }

  private static void touch(Path dir) {
    try {
      Files.setLastModifiedTime(dir, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis()));
    } catch (IOException e) {
      LOG.debug("cannot touch {}: {}", dir, e.toString());
    }
  }

  /** Removes all but the {@value #KEEP} most recently used bundles (never {@code current}). */
  private void prune(Path current) {
    List<Path> bundles = new ArrayList<>();
    try (Stream<Path> s = Files.list(root)) {
      s.filter(p -> Files.isDirectory(p) && !p.getFileName().toString().startsWith(".")).forEach(bundles::add);
    } catch (IOException e) {
      LOG.debug("cannot list {}: {}", root, e.toString());
      return;
    }
    bundles.sort(Comparator.comparing(BundleDirectory::modified).reversed());
    for (int i = KEEP; i < bundles.size(); i++) {
      if (!bundles.get(i).equals(current)) {
        deleteTree(bundles.get(i));
      }
    }
  }

  private static long modified(Path p) {
    try {
      return Files.getLastModifiedTime(p).toMillis();
    } catch (IOException e) {
      return 0;
    }
  }

  static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      // an old bundle left behind costs disk space only; say so and go on
      LOG.debug("cannot remove {}: {}", dir, e.toString());
    }
  }
}
