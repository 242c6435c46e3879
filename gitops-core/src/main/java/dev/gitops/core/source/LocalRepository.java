package dev.gitops.core.source;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jgit.errors.MissingObjectException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.RepositoryCache;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevObject;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.transport.URIish;
import org.eclipse.jgit.util.FS;

/**
 * A source repository given as a local path or {@code file://} URL, inspected directly before JGit
 * fetches from it. JGit serves local repositories with an in-process upload-pack that prints every
 * error it meets (an unknown commit, a tag on a tree) to standard error as a stack trace, so such
 * requests are caught here first and reported as one line by the caller.
 */
final class LocalRepository {

  private final Path dir;

  private LocalRepository(Path dir) {
    this.dir = dir;
  }

  /** The repository at {@code uri} when it is local (no host; no scheme or {@code file}), else null. */
  static LocalRepository of(URIish uri) {
    String scheme = uri.getScheme();
    if (uri.getHost() != null || uri.getPath() == null || (scheme != null && !scheme.equals("file"))) {
      return null;
    }
    return new LocalRepository(Path.of(uri.getPath()));
  }

  /** Why this is not a Git repository JGit can read, or null when it is one. */
  String problem() {
    if (!Files.exists(dir)) {
      return "does not exist";
    }
    if (RepositoryCache.FileKey.resolve(dir.toFile(), FS.DETECTED) != null) {
      return null;
    }
    Path git = Files.isDirectory(dir.resolve(Constants.DOT_GIT)) ? dir.resolve(Constants.DOT_GIT) : dir;
    List<String> missing = new ArrayList<>();
    for (String part : List.of(Constants.OBJECTS, "refs", Constants.HEAD)) {
      if (!Files.exists(git.resolve(part))) {
        missing.add(part);
      }
    }
    boolean looksLikeGit = git != dir || missing.size() < 3;
    return "is not a Git repository" + (looksLikeGit && !missing.isEmpty()
        ? " (" + git + " has no " + String.join(", no ", missing) + ")" : "");
  }

  /**
   * Why {@code id} cannot be read as the commit to sync, or null when it can: it must exist, be a
   * commit or a tag of one, and (when {@code mustBeReachable}, for ids not taken from a ref) be
   * reachable from a ref, since the repository serves nothing else.
   */
  String commitProblem(ObjectId id, boolean mustBeReachable) throws IOException {
    try (Repository repo = new FileRepositoryBuilder().setGitDir(RepositoryCache.FileKey.resolve(dir.toFile(), FS.DETECTED))
        .setMustExist(true).build(); RevWalk walk = new RevWalk(repo)) {
      if (!repo.getObjectDatabase().has(id)) {
        return "does not exist";
      }
      RevObject peeled;
      try {
        peeled = walk.peel(walk.parseAny(id));
      } catch (MissingObjectException e) {
        return "is a tag of " + e.getObjectId().name() + ", which does not exist";
      }
      if (!(peeled instanceof RevCommit commit)) {
        return "is a " + Constants.typeString(peeled.getType()) + " (" + peeled.name() + "), not a commit";
      }
      if (mustBeReachable && !reachable(repo, walk, commit)) {
        return "is not on any branch or tag";
      }
      return null;
    }
  }

  private static boolean reachable(Repository repo, RevWalk walk, RevCommit commit) throws IOException {
    walk.reset();
    boolean any = false;
    for (Ref r : repo.getRefDatabase().getRefs()) {
      if (r.getObjectId() == null) {
        continue;
      }
      RevObject o;
      try {
        o = walk.peel(walk.parseAny(r.getObjectId()));
      } catch (MissingObjectException e) {
        continue;  // a ref to a missing object serves nothing, so it reaches nothing either
      }
      if (o instanceof RevCommit c) {
        walk.markStart(c);
        any = true;
      }
    }
    if (!any) {
      return false;
    }
    for (RevCommit c = walk.next(); c != null; c = walk.next()) {
      if (c.equals(commit)) {
        return true;
      }
    }
    return false;
  }
}
