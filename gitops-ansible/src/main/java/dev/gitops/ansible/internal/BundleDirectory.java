package dev.gitops.ansible.internal;

import dev.gitops.api.Documents;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Playbook bundles written to disk for {@code ansible-playbook}: one directory per content under
 * {@code <work>/bundles}, named by a SHA-256 over every file's path and bytes (the decommission
 * playbook's too, which the hosts' digest leaves out: a changed one must run as changed), written
 * to a temporary directory and renamed into place, so a directory that exists is complete and
 * holds exactly the bundle's files. The newest few are kept.
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
    Path dir = root.resolve(contentName(bundle.files()));
    if (Files.isDirectory(dir)) {
      touch(dir);
      return dir;
    }
    Path tmp = Files.createTempDirectory(root, ".incoming-");
    try {
      writeFiles(tmp, bundle.files());
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

  /**
   * The name of the directory of {@code files}: 64 hex digits of a SHA-256 over each path and the
   * SHA-256 of its bytes, in path order. Every file counts, so two bundles share a directory only
   * when they would write the same files.
   */
  static String contentName(Map<String, byte[]> files) {
    MessageDigest md = Documents.sha256();
    for (Map.Entry<String, byte[]> f : new TreeMap<>(files).entrySet()) {
      md.update(f.getKey().getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0);
      md.update(Documents.sha256().digest(f.getValue()));
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** Writes {@code files} (paths relative to the source root) under {@code dir}, refusing any that would leave it. */
  static void writeFiles(Path dir, Map<String, byte[]> files) throws IOException {
    for (Map.Entry<String, byte[]> f : files.entrySet()) {
      Path target = dir.resolve(f.getKey()).normalize();
      if (!target.startsWith(dir) || target.equals(dir) || f.getKey().startsWith("/") || f.getKey().contains("\\")) {
        throw new IOException("refusing playbook file path '" + f.getKey() + "': it leaves the bundle directory");
      }
      Files.createDirectories(target.getParent());
      Files.write(target, f.getValue());
    }
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
