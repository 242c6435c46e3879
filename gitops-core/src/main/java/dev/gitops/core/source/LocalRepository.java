package dev.gitops.core.source;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.eclipse.jgit.errors.MissingObjectException;
import org.eclipse.jgit.lib.Config;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectDatabase;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.ObjectLoader;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.RefDatabase;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.RepositoryCache;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevObject;
import org.eclipse.jgit.revwalk.RevTree;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.transport.URIish;
import org.eclipse.jgit.treewalk.EmptyTreeIterator;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.eclipse.jgit.treewalk.filter.TreeFilter;
import org.eclipse.jgit.util.FS;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A source repository given as a local path or {@code file://} URL, read directly where JGit's
 * transport would serve it through an in-process upload-pack. That upload-pack prints every error
 * it meets (an unknown commit, a tag on a tree) to standard error as a stack trace, so such requests
 * are caught here first and reported as one line by the caller. And it costs a thread, a pair of
 * pipes, a pack written, parsed and indexed, and the classes of both sides per listing and per
 * fetch (about a quarter of a one-file resync of a 100-resource repository), so the refs are listed
 * here and a short change is copied object by object into the cache ({@link #refs}, {@link
 * #copyInto}).
 */
final class LocalRepository {

  private static final Logger LOG = LoggerFactory.getLogger(LocalRepository.class);

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

  /**
   * The most objects {@link #copyInto} copies one by one: a larger change (a first read, a cache far
   * behind) is fetched as one pack.
   */
  static final int MOST_COPIED = 2_000;

  /** The most bytes {@link #copyInto} holds in memory to copy; a larger change is fetched. */
  static final long MOST_BYTES = 64L << 20;

  /**
   * Why this is not a Git repository JGit can read, or null when it is one: missing, not a
   * repository, or one of another object format than sha1 ({@code extensions.objectFormat}).
   */
  String problem() {
    if (!Files.exists(dir)) {
      return "does not exist";
    }
    java.io.File gitDir = RepositoryCache.FileKey.resolve(dir.toFile(), FS.DETECTED);
    if (gitDir != null) {
      return objectFormatProblem(gitDir);
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
   * Why the repository at {@code gitDir} cannot be read for its object format, or null: JGit reads
   * sha1 repositories only, and reads a sha256 one's refs without complaint, so that every id it
   * lists is then "not found". Read from the config file alone (a few hundred bytes, once per read).
   */
  private String objectFormatProblem(java.io.File gitDir) {
    org.eclipse.jgit.storage.file.FileBasedConfig config;
    try {
      // a linked worktree's Git directory has no config of its own: the common directory's is the repository's
      java.io.File commonDir = new java.io.File(gitDir, "commondir");
      java.io.File common = commonDir.isFile()
          ? new java.io.File(gitDir, Files.readString(commonDir.toPath()).strip()) : gitDir;
      config = new org.eclipse.jgit.storage.file.FileBasedConfig(new java.io.File(common, Constants.CONFIG), FS.DETECTED);
      config.load();
    } catch (IOException | org.eclipse.jgit.errors.ConfigInvalidException | java.nio.file.InvalidPathException e) {
      return null;  // opening the repository reports a config (or commondir) it cannot read
    }
    String format = config.getString("extensions", null, "objectformat");
    if (format == null || format.equalsIgnoreCase("sha1")) {
      return null;
    }
    return "uses the " + format + " object format, which is not supported (JGit reads sha1 repositories only)";
  }

  /**
   * Why {@code id} cannot be read as the commit to sync, or null when it can: it must exist, be a
   * commit or a tag of one, and (when {@code mustBeReachable}, for ids not taken from a ref) be
   * reachable from a ref, since the repository serves nothing else.
   */
  String commitProblem(ObjectId id, boolean mustBeReachable) throws IOException {
    try (Repository repo = open(); RevWalk walk = new RevWalk(repo)) {
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

  /**
   * Why the objects a fetch of commit (or tag) {@code want} reads here cannot all be read, or null
   * when they can: a missing or corrupt object, named with its id and, for a blob or tree, its path.
   * A shallow fetch ({@code shallow}) reads the commit and its whole tree; another reads the commits
   * from {@code want} down to those of {@code haves} this repository holds, and their trees' objects
   * that those commits do not hold, as upload-pack enumerates them. Each object is read in full (a
   * blob's zlib stream too), which is what the fetch would do: run only before a fetch, never when
   * the cache holds the commit already. The in-process upload-pack prints a stack trace for each
   * object it cannot read, and tells the client only "internal server error".
   */
  String objectProblem(ObjectId want, java.util.Collection<ObjectId> haves, boolean shallow) throws IOException {
    try (Repository repo = open(); ObjectReader reader = repo.newObjectReader();
        org.eclipse.jgit.revwalk.ObjectWalk walk = new org.eclipse.jgit.revwalk.ObjectWalk(reader)) {
      RevCommit commit;
      try {
        if (!(walk.peel(walk.parseAny(want)) instanceof RevCommit c)) {
          return null;  // not a commit: commitProblem says so
        }
        commit = c;
      } catch (MissingObjectException e) {
        return null;  // a tag of a missing object: commitProblem says so
      }
      String[] at = {""};  // the path of the object being read, for the message
      ObjectId[] reading = {commit};
      try {
        if (shallow) {
          reading[0] = commit.getTree();
          readTree(reader, commit.getTree(), at, reading);
        } else {
          walk.markStart(commit);
          for (ObjectId have : haves) {
            try {
              if (repo.getObjectDatabase().has(have) && walk.peel(walk.parseAny(have)) instanceof RevCommit h) {
                walk.markUninteresting(h);
              }
            } catch (MissingObjectException e) {
              // a have this repository cannot read offers nothing: the fetch walks past it too
            }
          }
          for (RevCommit c = walk.next(); c != null; c = walk.next()) {
            reading[0] = c;
          }
          Set<ObjectId> read = new HashSet<>();
          for (RevObject o = walk.nextObject(); o != null; o = walk.nextObject()) {
            at[0] = walk.getPathString();
            reading[0] = o.copy();
            if (o.getType() == Constants.OBJ_BLOB && read.add(o.copy())) {
              readFully(reader, o, Constants.OBJ_BLOB);
            }
          }
        }
      } catch (MissingObjectException e) {
        return damaged(e.getObjectId(), "is missing", reading[0].equals(e.getObjectId()) ? at[0] : "", commit);
      } catch (org.eclipse.jgit.errors.CorruptObjectException | org.eclipse.jgit.errors.IncorrectObjectTypeException
          | java.io.EOFException | java.util.zip.ZipException e) {
        return corrupt(e, reading[0], at[0], commit);
      } catch (IOException e) {
        if (e.getCause() instanceof java.util.zip.DataFormatException || e.getCause() instanceof java.util.zip.ZipException) {
          return corrupt(e, reading[0], at[0], commit);
        }
        throw e;
      }
      return null;
    }
  }

  private static final java.util.regex.Pattern HEX40 = java.util.regex.Pattern.compile("\\b[0-9a-f]{40}\\b");

  /**
   * The message for an object that cannot be read: the one JGit's message names (a tree parsed
   * inside the walk), else the one being read, with its path when it is that one.
   */
  private String corrupt(IOException e, ObjectId reading, String path, RevCommit commit) {
    java.util.regex.Matcher m = HEX40.matcher(String.valueOf(e.getMessage()));
    ObjectId id = m.find() ? ObjectId.fromString(m.group()) : reading;
    String why = String.valueOf(e.getMessage()).replace("Object " + id.name() + " is corrupt: ", "").strip();
    return damaged(id, "cannot be read (" + why + ")", id.equals(reading) ? path : "", commit);
  }

  /** The message of {@link #objectProblem}: the object, its path when known, and what to run. */
  private String damaged(ObjectId id, String what, String path, RevCommit commit) {
    return "is damaged: object " + id.name() + (path.isEmpty() ? "" : " (" + path + ")") + " of commit "
        + commit.name() + " " + what + "; nothing was read (run git fsck in " + dir + ")";
  }

  /**
   * Reads every tree and blob under {@code tree} (each once; submodule commits are not objects of
   * this repository), setting {@code at} to the path and {@code reading} to the object being read.
   */
  private static void readTree(ObjectReader reader, ObjectId tree, String[] at, ObjectId[] reading)
      throws IOException {
    Set<ObjectId> read = new HashSet<>();
    try (TreeWalk tw = new TreeWalk(reader)) {
      tw.addTree(tree);
      tw.setRecursive(false);
      while (tw.next()) {
        at[0] = tw.getPathString();
        reading[0] = tw.getObjectId(0).copy();
        FileMode mode = tw.getFileMode(0);
        if (mode == FileMode.TREE) {
          tw.enterSubtree();
        } else if (mode != FileMode.GITLINK && read.add(tw.getObjectId(0))) {
          readFully(reader, tw.getObjectId(0), Constants.OBJ_BLOB);
        }
      }
    }
  }

  /** Reads object {@code id} to its end, so that a damaged zlib stream is found. */
  private static void readFully(ObjectReader reader, ObjectId id, int type) throws IOException {
    ObjectLoader loader = reader.open(id, type);
    if (!loader.isLarge()) {
      loader.getCachedBytes();
      return;
    }
    try (java.io.InputStream in = loader.openStream()) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
    }
  }

  /**
   * The refs the repository serves, by name, as its upload-pack advertises them: each ref with
   * an object, {@code HEAD} symbolic when it is, and each tag ({@code refs/tags/}) peeled. Other
   * refs are not peeled: peeling reads a ref's object (its type tells whether it is a tag), which
   * opens the repository's packs, and a sync whose branch has not moved reads no object of this
   * repository otherwise. A branch that names an annotated tag (a ref file written by hand: git's
   * own commands refuse to make one) is then advertised as the tag, which the reader peels to its
   * commit as it does a pinned tag id.
   * Empty when the repository hides refs from upload-pack ({@code uploadpack.hideRefs} or {@code
   * transfer.hideRefs}): the caller then lists them through the transport, which applies those rules.
   */
  Optional<Map<String, Ref>> refs() throws IOException {
    try (Repository repo = open()) {
      if (hidesRefs(repo.getConfig())) {
        return Optional.empty();
      }
      RefDatabase db = repo.getRefDatabase();
      Map<String, Ref> refs = new HashMap<>();
      for (Ref r : db.getRefs()) {
        if (r.getObjectId() != null) {
          refs.put(r.getName(), r.getName().startsWith(Constants.R_TAGS) ? db.peel(r) : r);
        }
      }
      Ref head = db.exactRef(Constants.HEAD);
      if (head != null && head.getObjectId() != null) {
        refs.put(Constants.HEAD, head);
      }
      return Optional.of(refs);
    }
  }

  /** Whether {@code config} hides refs from upload-pack, which then decides what is served. */
  private static boolean hidesRefs(Config config) {
    return config.getStringList("uploadpack", null, "hiderefs").length > 0
        || config.getStringList("transfer", null, "hiderefs").length > 0;
  }

  /**
   * Fills the empty {@code cache} with copies of this repository's object files, as {@code git
   * clone --local --no-hardlinks} does: each pack (its {@code .pack}, then its {@code .idx}) and
   * each loose object, when together they hold at most {@link #MOST_BYTES} bytes in at most {@link
   * #MOST_COPIED} files (more loose objects cost more to copy one by one than a fetch costs, and
   * the cache's auto-gc would pack them again). A first read then costs a copy of those bytes where
   * a fetch writes, parses and indexes a pack of the whole tree (about a tenth of a first sync of
   * 10,000 files), and the cache holds the whole history instead of a shallow commit. Copies, not hard links: a linked file would be this repository's own, and
   * damage to the cache's (a truncated pack) damage to the repository.
   *
   * <p>Returns false, having removed whatever it added, when this repository hides refs from
   * upload-pack, is shallow, a partial clone or borrows objects from another ({@code
   * objects/info/alternates}), when its object files are over those limits (a shallow fetch then
   * reads less) or one is not a regular file (a link is never followed), when a file cannot be
   * copied (one removed by a {@code git gc} meanwhile, or changed since it was measured: {@link
   * #copyExactly}), or when the cache does not then hold {@code want}: the caller fetches instead.
   * Each file is written under a temporary name and renamed, so a crash leaves no half file under
   * an object's name. Objects are not checked against their ids here (nor by {@code git clone}): a
   * damaged pack is found when the cache is read, and the cache is then rebuilt by a fetch, which
   * reports what is wrong with this repository.
   */
  boolean cloneInto(Repository cache, ObjectId want) throws IOException {
    return cloneInto(cache, want, MOST_BYTES, MOST_COPIED);
  }

  /**
   * {@link #cloneInto(Repository, ObjectId)} with at most {@code mostBytes} in {@code mostFiles}
   * object files copied.
   */
  boolean cloneInto(Repository cache, ObjectId want, long mostBytes, int mostFiles) throws IOException {
    Path from;
    try (Repository repo = open()) {
      Config config = repo.getConfig();
      if (hidesRefs(config) || config.getString("extensions", null, "partialclone") != null
          || !repo.getObjectDatabase().getShallowCommits().isEmpty()
          || !(repo.getObjectDatabase() instanceof org.eclipse.jgit.internal.storage.file.ObjectDirectory objects)) {
        return false;
      }
      from = objects.getDirectory().toPath();
    } catch (IOException | RuntimeException e) {
      LOG.debug("{}: cannot copy its objects ({}); fetching instead", dir, e.toString());
      return false;
    }
    if (!(cache.getObjectDatabase() instanceof org.eclipse.jgit.internal.storage.file.ObjectDirectory cached)
        || Files.exists(from.resolve("info").resolve("alternates"))) {
      return false;
    }
    Path to = cached.getDirectory().toPath();
    List<Path> added = new ArrayList<>();
    try {
      List<Path> files = objectFiles(from);
      long[] sizes = files == null || files.size() > mostFiles ? null : copyable(from, files, mostBytes);
      if (sizes == null) {
        return false;  // a partial clone's promisor pack, a file that is not one, or more than a fetch costs
      }
      for (int i = 0; i < files.size(); i++) {
        Path target = to.resolve(files.get(i));
        if (Files.exists(target)) {
          continue;  // a pack's name is its content's, a loose object's its id
        }
        Files.createDirectories(target.getParent());
        Path temp = target.resolveSibling(".tmp-" + target.getFileName());
        // added first: a copy that fails halfway leaves its temp file to be removed too
        added.add(temp);
        copyExactly(from.resolve(files.get(i)), temp, sizes[i]);
        Files.move(temp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        added.set(added.size() - 1, target);
      }
      if (!cache.getObjectDatabase().has(want)) {
        LOG.debug("{}: the Git cache lacks {} after copying its objects; fetching instead", dir, want.name());
        remove(added);
        return false;
      }
      LOG.debug("{}: {} object files copied into the Git cache", dir, added.size());
      return true;
    } catch (IOException | RuntimeException e) {
      LOG.debug("{}: cannot copy its objects into the Git cache ({}); fetching instead", dir, e.toString());
      remove(added);
      return false;
    }
  }

  /**
   * The object files under {@code objects} relative to it: each pack's {@code .pack} then {@code
   * .idx} (a pack without its index is never read), then the loose objects; null when a pack is a
   * partial clone's ({@code .promisor}).
   */
  private static List<Path> objectFiles(Path objects) throws IOException {
    List<Path> files = new ArrayList<>();
    Path packs = objects.resolve("pack");
    if (Files.isDirectory(packs)) {
      List<String> names = new ArrayList<>();
      try (var list = Files.newDirectoryStream(packs)) {
        for (Path p : list) {
          names.add(p.getFileName().toString());
        }
      }
      for (String n : names) {
        if (n.endsWith(".promisor")) {
          return null;
        }
      }
      java.util.Collections.sort(names);
      Set<String> present = new HashSet<>(names);
      for (String n : names) {
        String idx = n.endsWith(".pack") ? n.substring(0, n.length() - 5) + ".idx" : null;
        if (n.startsWith("pack-") && idx != null && present.contains(idx)) {
          files.add(Path.of("pack", n));
          files.add(Path.of("pack", idx));
        }
      }
    }
    try (var dirs = Files.newDirectoryStream(objects, d -> LOOSE_DIR.matcher(d.getFileName().toString()).matches())) {
      for (Path d : dirs) {
        try (var loose = Files.newDirectoryStream(d, f -> LOOSE_FILE.matcher(f.getFileName().toString()).matches())) {
          for (Path f : loose) {
            files.add(objects.relativize(f));
          }
        }
      }
    }
    return files;
  }

  private static final java.util.regex.Pattern LOOSE_DIR = java.util.regex.Pattern.compile("[0-9a-f]{2}");
  private static final java.util.regex.Pattern LOOSE_FILE = java.util.regex.Pattern.compile("[0-9a-f]{38}");

  /**
   * The size of each of {@code files} under {@code objects}, or null unless each is a regular file
   * and together they hold at most {@code mostBytes} bytes. A symbolic link (to a file outside the
   * repository, to {@code /dev/zero}, dangling), a device or a directory under an object's name is
   * no object a copy could take: a copy would follow it, and read a device without end.
   */
  private static long[] copyable(Path objects, List<Path> files, long mostBytes) throws IOException {
    long[] sizes = new long[files.size()];
    long bytes = 0;
    for (int i = 0; i < sizes.length; i++) {
      java.nio.file.attribute.BasicFileAttributes a = Files.readAttributes(objects.resolve(files.get(i)),
          java.nio.file.attribute.BasicFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS);
      if (!a.isRegularFile()) {
        LOG.debug("{}: {} is not a regular file; fetching instead of copying its objects", objects, files.get(i));
        return null;
      }
      sizes[i] = a.size();
      bytes += a.size();
      if (bytes > mostBytes) {
        return null;
      }
    }
    return sizes;
  }

  /**
   * Copies {@code source}, opened without following a link, to {@code target}: exactly the {@code
   * size} bytes {@link #copyable} measured, failing when it holds another number of bytes. A file
   * swapped since it was measured (for a link, a device such as {@code /dev/zero}, a file that keeps
   * growing) fails the copy, or is cut at its measured size, never read without end; the caller then
   * fetches instead.
   */
  static void copyExactly(Path source, Path target, long size) throws IOException {
    try (java.nio.channels.FileChannel in = java.nio.channels.FileChannel.open(source,
            java.nio.file.StandardOpenOption.READ, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        java.nio.channels.FileChannel out = java.nio.channels.FileChannel.open(target,
            java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.CREATE,
            java.nio.file.StandardOpenOption.TRUNCATE_EXISTING, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      // read and written through a buffer, not transferred: a device is read like a file, no further.
      // A heap buffer: the channel reads through its thread's cached native buffer, where one
      // direct buffer per file (up to 2,000 of them) would be freed only by a GC, or force one.
      java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate((int) Math.min(Math.max(size, 1), 1 << 16));
      long done = 0;
      while (done < size) {
        buffer.clear().limit((int) Math.min(buffer.capacity(), size - done));
        int n = in.read(buffer, done);
        if (n <= 0) {
          throw new IOException(source + " holds fewer than the " + size + " bytes it held when measured");
        }
        buffer.flip();
        while (buffer.hasRemaining()) {
          out.write(buffer);
        }
        done += n;
      }
      if (in.read(java.nio.ByteBuffer.allocate(1), size) > 0) {
        throw new IOException(source + " holds more than the " + size + " bytes it held when measured");
      }
    }
  }

  /** Removes the files {@link #cloneInto} added, last first; what cannot be removed is only logged (unread extras). */
  private void remove(List<Path> added) {
    for (int i = added.size() - 1; i >= 0; i--) {
      try {
        Files.deleteIfExists(added.get(i));
      } catch (IOException e) {
        LOG.debug("{}: cannot remove {} from the Git cache ({}); an unnamed object file is harmless", dir, added.get(i),
            e.toString());
      }
    }
  }

  /**
   * Copies into {@code cache} the objects of commit {@code want} it is missing, read directly from
   * this repository: the commits reachable from {@code want} and not from {@code have} (a commit
   * the cache holds with its tree), and the trees and blobs in which each differs from
   * its first parent that the cache does not hold yet (a tree diff: what is equal is not walked).
   * Returns false, having copied nothing, when this repository is shallow, has no commit {@code
   * have}, or {@code want} is not a commit (a tag: a fetch brings the tag with its commit), the
   * change holds more than {@link #MOST_COPIED} objects or {@link #MOST_BYTES} bytes, a copied
   * commit's parent would be neither copied nor in the cache (a cache that is shallow there would
   * lose its history's shape), an object does not hash to its id, or this repository cannot be read:
   * the caller fetches instead, and its fetch reports what is wrong here. Blobs are stored first,
   * then each tree after the trees it names, then each commit after its parents, so a tree or
   * commit in the cache has what it names even after a crash midway. An error writing the cache is
   * thrown.
   */
  boolean copyInto(Repository cache, ObjectId want, ObjectId have) throws IOException {
    ObjectDatabase cached = cache.getObjectDatabase();
    List<RevObject> copy = new ArrayList<>();
    List<byte[]> contents = new ArrayList<>();
    try (Repository repo = open(); ObjectReader reader = repo.newObjectReader(); RevWalk walk = new RevWalk(reader)) {
      if (!repo.getObjectDatabase().getShallowCommits().isEmpty()) {
        return false;  // a walk here stops at the shallow commits: their parents would go unchecked
      }
      if (!repo.getObjectDatabase().has(have) || !(walk.parseAny(have) instanceof RevCommit last)) {
        return false;
      }
      if (!(walk.parseAny(want) instanceof RevCommit wanted)) {
        return false;  // a branch at an annotated tag (refs() does not peel branches): fetched, tag and all
      }
      walk.markStart(wanted);
      walk.markUninteresting(last);
      List<RevCommit> commits = new ArrayList<>();
      for (RevCommit c = walk.next(); c != null; c = walk.next()) {
        if (commits.size() >= MOST_COPIED) {
          return false;
        }
        commits.add(c);
      }
      Set<RevCommit> copied = new HashSet<>(commits);
      for (RevCommit c : commits) {
        for (RevCommit parent : c.getParents()) {
          if (!copied.contains(parent) && !cached.has(parent)) {
            return false;
          }
        }
      }
      // from the oldest commit, so that a tree is listed after every tree it names
      Missing missing = new Missing(cached, MOST_COPIED - commits.size());
      for (int i = commits.size() - 1; i >= 0; i--) {
        RevCommit c = commits.get(i);
        RevTree base = c.getParentCount() == 0 ? null : walk.parseCommit(c.getParent(0)).getTree();
        if (!missing.add(reader, base, c.getTree())) {
          return false;
        }
      }
      ObjectInserter.Formatter ids = new ObjectInserter.Formatter();
      long[] bytes = {0};
      // blobs, then each tree after the trees it names, then each commit after its parents
      for (ObjectId id : missing.blobs) {
        if (!read(reader, walk.lookupBlob(id), ids, bytes, copy, contents)) {
          return false;
        }
      }
      for (ObjectId id : missing.trees) {
        if (!read(reader, walk.lookupTree(id), ids, bytes, copy, contents)) {
          return false;
        }
      }
      for (int i = commits.size() - 1; i >= 0; i--) {
        if (!read(reader, commits.get(i), ids, bytes, copy, contents)) {
          return false;
        }
      }
    } catch (IOException | RuntimeException e) {
      // the fetch that follows meets the same problem and reports it
      LOG.debug("{}: cannot copy {} directly ({}); fetching it", dir, want.name(), e.toString());
      return false;
    }
    try (ObjectInserter inserter = cache.newObjectInserter()) {
      for (int i = 0; i < copy.size(); i++) {
        inserter.insert(copy.get(i).getType(), contents.get(i));
      }
      inserter.flush();
    }
    return true;
  }

  /**
   * The blobs and trees of new commits that the cache does not have, found by tree diffs: each
   * tree listed after the trees it names (post-order), a tree the cache or the list already holds
   * not entered (it names nothing missing).
   */
  static final class Missing {
    final List<ObjectId> blobs = new ArrayList<>();
    final List<ObjectId> trees = new ArrayList<>();
    private final Set<ObjectId> seen = new HashSet<>();
    private final ObjectDatabase cached;
    private int room;

    Missing(ObjectDatabase cached, int room) {
      this.cached = cached;
      this.room = room;
    }

    /**
     * Adds what {@code tree} holds that {@code base} (null: nothing) does not hold at the same path
     * and that is missing; false when more than the room left. Submodule commits are not objects
     * of this repository and are skipped.
     */
    boolean add(ObjectReader reader, RevTree base, RevTree tree) throws IOException {
      if (!missing(tree)) {
        return true;
      }
      try (TreeWalk tw = new TreeWalk(reader)) {
        if (base == null) {
          tw.addTree(new EmptyTreeIterator());
        } else {
          tw.addTree(base);
        }
        tw.addTree(tree);
        tw.setFilter(TreeFilter.ANY_DIFF);
        tw.setRecursive(false);
        tw.setPostOrderTraversal(true);
        while (tw.next()) {
          if (tw.isPostChildren()) {
            trees.add(tw.getObjectId(1));
            continue;
          }
          int mode = tw.getRawMode(1);
          if (mode == 0 || FileMode.GITLINK.equals(mode) || !missing(tw.getObjectId(1))) {
            continue;  // removed here, a submodule's commit, or nothing missing
          }
          if (--room < 0) {
            return false;
          }
          if (FileMode.TREE.equals(mode)) {
            tw.enterSubtree();  // listed at its post-order visit
          } else {
            blobs.add(tw.getObjectId(1));
          }
        }
      }
      trees.add(tree);
      return --room >= 0;
    }

    private boolean missing(ObjectId id) throws IOException {
      return !seen.contains(id) && !cached.has(id) && seen.add(id.copy());
    }
  }

  /**
   * Reads {@code o} into {@code copy} and {@code contents}; false when it does not hash to its id
   * or the bytes read so far ({@code bytes[0]}) pass {@link #MOST_BYTES}.
   */
  private boolean read(ObjectReader reader, RevObject o, ObjectInserter.Formatter ids, long[] bytes,
      List<RevObject> copy, List<byte[]> contents) throws IOException {
    ObjectLoader loader = reader.open(o, o.getType());
    bytes[0] += loader.getSize();
    if (bytes[0] > MOST_BYTES || loader.isLarge()) {
      return false;
    }
    byte[] content = loader.getCachedBytes();
    if (!ids.idFor(o.getType(), content).equals(o)) {
      LOG.debug("{}: object {} does not hash to its id; fetching instead", dir, o.name());
      return false;
    }
    copy.add(o);
    contents.add(content);
    return true;
  }

  private Repository open() throws IOException {
    return new FileRepositoryBuilder().setGitDir(RepositoryCache.FileKey.resolve(dir.toFile(), FS.DETECTED))
        .setMustExist(true).build();
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
