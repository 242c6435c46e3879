package dev.gitops.agent.providers;

import dev.gitops.core.internal.fs.RealPaths;
import java.io.IOException;
import java.net.URI;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A local repository's own files are never a target: a target that is the repository's working
 * tree, or the directory the sync reads there, would get every file written onto its own source
 * (a sync reads what is committed, so all it could do there is revert uncommitted edits, and prune
 * files Git no longer has), and one inside the repository's Git directory would write among Git's
 * own files. A target inside the directory the sync reads is refused too: what it writes there, its
 * store and secret key included, would be read back as the repository's files once committed. So is
 * a target that holds the repository (its working tree, the directory the sync reads or its Git
 * directory): a path in Git could lead into the repository itself. Every working tree of the
 * repository counts, the linked ones ({@code git worktree add}) too. Links are resolved, so a link
 * to the repository is the repository; a directory of the working tree that the sync does not read
 * (a build directory Git ignores, beside the directory the sync reads) stays a valid target. The {@code gitops} command names its flags, the agent the configuration's line:
 *
 * <pre>{@code
 * String why = LocalRepository.conflict("./ops", "web", Path.of("ops/web"));
 * if (why != null) {
 *   throw new IllegalArgumentException("--target ops/web " + why);
 * }
 * }</pre>
 */
public final class LocalRepository {

  private LocalRepository() {}

  /**
   * Why {@code target} cannot be the target of a sync that reads {@code repo} (a local path, a
   * {@code file:} URL or any other URL) at {@code path} (null: the root), to follow the target's
   * name in a message, naming the repository's directory at fault; null when it can (a remote
   * repository, a directory outside this one, or one of its working tree beside what the sync reads).
   */
  public static String conflict(String repo, String path, Path target) {
    return conflict(repo, path, target, false);
  }

  /**
   * Why {@code store} cannot be the state store of a sync that reads {@code repo} at {@code path}
   * (null: the root), as {@link #conflict} says it of a target, or null when it can: a store that is
   * the directory the sync reads or lies inside it would be read back as the repository's own
   * files once committed, its secret key included (and copied into the target as ordinary files),
   * and one inside the repository's Git directory would be written among Git's own files. A store
   * that holds the repository is fine: it writes only its own files, none whose path Git gives.
   *
   * <pre>{@code
   * String why = LocalRepository.storeConflict("./ops", "web", Path.of("ops/web/.gitops"));
   * if (why != null) {
   *   throw new IllegalArgumentException("--state ops/web/.gitops " + why);
   * }
   * }</pre>
   */
  public static String storeConflict(String repo, String path, Path store) {
    return conflict(repo, path, store, true);
  }

  private static String conflict(String repo, String path, Path target, boolean store) {
    if (repo == null || target == null) {
      return null;
    }
    Path local;
    try {
      local = repo.regionMatches(true, 0, "file:", 0, 5) ? Path.of(URI.create(repo)) : Path.of(repo);
    } catch (IllegalArgumentException | FileSystemNotFoundException e) {
      return null;  // a remote URL (an InvalidPathException is an IllegalArgumentException): no working tree here
    }
    if (!Files.isDirectory(local)) {
      return null;
    }
    Path root = real(local.toAbsolutePath().normalize());
    Path to = real(target.toAbsolutePath().normalize());
    // a working tree with its .git; a Git directory itself (a bare repository, or the .git of a
    // working tree given as the repository); a linked working tree (`git worktree add`), whose .git
    // is a file naming its directory in the common Git directory; else a plain directory, taken as
    // a working tree
    Path gitDir = null;
    Path workTree = root;
    if (!Files.exists(root.resolve(".git")) && Files.isRegularFile(root.resolve("HEAD"))
        && Files.isDirectory(root.resolve("objects")) && Files.isDirectory(root.resolve("refs"))) {
      gitDir = root;
      Path name = root.getFileName();
      workTree = name != null && name.toString().equals(".git") ? root.getParent() : null;
    } else if (Files.isDirectory(root.resolve(".git"))) {
      gitDir = root.resolve(".git");
    } else if (Files.isRegularFile(root.resolve(".git"))) {
      gitDir = commonDir(pointedAt(root.resolve(".git")));
      if (gitDir != null && !Files.isRegularFile(gitDir.resolve("HEAD"))) {
        gitDir = null;  // a .git file or commondir naming no Git directory (edited by hand): nothing is known of it
      }
    }
    if (gitDir != null && to.startsWith(gitDir)) {
      return "is inside the Git directory of the repository " + repo + " (" + gitDir + "): "
          + (store ? "the state store would be written" : "the sync would write")
          + " among Git's own files; choose a directory outside the repository";
    }
    // every working tree of the repository holds the same files: the main one and each linked one
    Map<Path, String> trees = new LinkedHashMap<>();
    if (workTree != null) {
      trees.put(workTree, "the working tree");
    }
    if (gitDir != null) {
      Path name = gitDir.getFileName();
      if (name != null && name.toString().equals(".git")) {
        trees.putIfAbsent(gitDir.getParent(), "the working tree");
      }
      for (Path linked : linkedWorkTrees(gitDir)) {
        trees.putIfAbsent(linked, "the working tree " + linked + " (a linked worktree, 'git worktree add')");
      }
    }
    for (Map.Entry<Path, String> tree : trees.entrySet()) {
      // as the source reads it: not trimmed, so a path of spaces is a directory of that name
      Path read = path == null || path.isEmpty() ? tree.getKey() : real(tree.getKey().resolve(path).normalize());
      String of = tree.getValue().equals("the working tree") ? "" : " of " + tree.getValue();
      if (store && to.startsWith(read)) {
        // its records, history and secret key land among the files the sync reads
        return "is " + (to.equals(read) ? "" : "inside ")
            + (read.equals(tree.getKey()) ? tree.getValue() + (of.isEmpty() ? " " + read : "")
                : "the directory '" + path + "' (" + read + ")" + of)
            + " of the repository " + repo + " that the sync reads: the state store, its secret key included,"
            + " would be read back as the repository's own files once committed, and copied into the target;"
            + " choose a directory outside the repository";
      }
      if (to.equals(tree.getKey()) || to.equals(read)) {
        return "is " + (to.equals(tree.getKey()) ? tree.getValue() : "the directory '" + path + "'" + of)
            + " of the repository " + repo + " that the sync reads: every file would be written"
            + " onto its own source there (the sync reads what is committed, so it would only revert uncommitted"
            + " changes); choose a directory outside the repository";
      }
      if (to.startsWith(read)) {
        // the sync's own output (and a store below it, with its secret key) lands among the files it
        // reads: committed with them, the next sync reads it back and writes it one level deeper
        String tree0 = of.isEmpty() ? tree.getValue() + " " + tree.getKey() : tree.getValue();
        return "is inside " + (read.equals(tree.getKey()) ? tree0 : "the directory '" + path + "' (" + read + ")" + of)
            + " of the repository " + repo
            + " that the sync reads: what it writes there, its state store and secret key included, would"
            + " be read back as the repository's own files once committed; choose a directory outside the repository";
      }
    }
    if (store) {
      return null;  // a store writes only its own files, none a path in Git names
    }
    // the other way round: a target that holds the repository, or the directory the sync reads in it,
    // where a path in Git leads into what the sync reads, or into the Git directory (a hook written
    // into a bare repository's hooks/)
    List<Path> own = new ArrayList<>();
    for (Path tree : trees.keySet()) {
      own.add(path == null || path.isEmpty() ? tree : real(tree.resolve(path).normalize()));
    }
    own.add(gitDir != null ? gitDir : root);
    for (Path dir : own) {
      if (dir.startsWith(to)) {
        return "holds the repository " + repo + " (" + dir + "): a file of Git whose path leads there would be"
            + " written into the repository itself, among the files the sync reads or Git's own; choose a directory"
            + " that does not hold the repository, or move the repository out of it";
      }
    }
    return null;
  }

  /** The directory a {@code .git} file ({@code gitdir: DIR}) names, or null when it names none. */
  private static Path pointedAt(Path gitFile) {
    try {
      String line = Files.readString(gitFile).strip();
      if (!line.startsWith("gitdir:")) {
        return null;
      }
      Path dir = Path.of(line.substring("gitdir:".length()).strip());
      return real(gitFile.getParent().resolve(dir).normalize());
    } catch (IOException | IllegalArgumentException e) {
      return null;  // unreadable or not a path: no linked working tree is known, the other checks still hold
    }
  }

  /**
   * The common Git directory of a linked working tree's own Git directory {@code own} (its
   * {@code commondir} file, relative to it), or {@code own} itself without one.
   */
  private static Path commonDir(Path own) {
    if (own == null) {
      return null;
    }
    try {
      Path common = own.resolve("commondir");
      return Files.isRegularFile(common) ? real(own.resolve(Files.readString(common).strip()).normalize()) : own;
    } catch (IOException | IllegalArgumentException e) {
      return own;  // unreadable: the worktree's own directory is all that is known
    }
  }

  /** The linked working trees of the Git directory {@code gitDir}: each {@code worktrees/NAME/gitdir} names its .git file. */
  private static List<Path> linkedWorkTrees(Path gitDir) {
    List<Path> out = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(gitDir.resolve("worktrees"))) {
      for (Path entry : entries) {
        Path gitFile = entry.resolve("gitdir");
        if (Files.isRegularFile(gitFile)) {
          Path dotGit = entry.resolve(Path.of(Files.readString(gitFile).strip())).normalize();
          // a worktree deleted without 'git worktree prune' is listed still: its directory is free again
          if (dotGit.getParent() != null && Files.exists(dotGit)) {
            out.add(real(dotGit.getParent()));
          }
        }
      }
    } catch (IOException | IllegalArgumentException e) {
      // no worktrees directory (the usual case), or one that cannot be read: no linked working tree known
    }
    return out;
  }

  /**
   * Whether {@code p} lies in {@code dir} once links are followed (a link inside the configuration's
   * directory can lead into a target's store).
   */
  static boolean inside(Path p, Path dir) {
    return p.startsWith(dir) || real(p).startsWith(real(dir));
  }

  /** {@link RealPaths#of}, or {@code p} as given when it cannot be read (the check then compares paths as given). */
  static Path real(Path p) {
    try {
      return RealPaths.of(p);
    } catch (IOException e) {
      return p.toAbsolutePath().normalize();
    }
  }
}
