package dev.gitops.images.git;

import dev.gitops.core.source.GitHttpServer;
import dev.gitops.core.source.TestGitRepo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * A bare repository served over smart HTTP ({@code git http-backend} on 127.0.0.1, pushes allowed),
 * seeded from a work tree, plus a second client that pushes as "someone else".
 */
final class GitRemote implements AutoCloseable {

  final TestGitRepo seed;
  final TestGitRepo other;
  final Path bare;
  final GitHttpServer http;
  final String url;

  private GitRemote(TestGitRepo seed, TestGitRepo other, Path bare, GitHttpServer http) {
    this.seed = seed;
    this.other = other;
    this.bare = bare;
    this.http = http;
    this.url = http.url("cluster.git");
  }

  /** A remote whose main branch holds {@code files} (path to content) in one commit. */
  static GitRemote start(Path dir, Map<String, String> files) throws IOException {
    TestGitRepo seed = TestGitRepo.init(dir.resolve("seed"));
    for (Map.Entry<String, String> f : files.entrySet()) {
      seed.write(f.getKey(), f.getValue());
    }
    seed.commit("seed");
    Path bare = dir.resolve("served/cluster.git");
    seed.git("clone", "-q", "--bare", seed.dir().toString(), bare.toString());
    seed.git("-C", bare.toString(), "config", "http.receivepack", "true");
    TestGitRepo other = TestGitRepo.init(dir.resolve("other"));
    return new GitRemote(seed, other, bare, GitHttpServer.start(dir.resolve("served")));
  }

  /** Another client commits {@code content} at {@code file} on the remote's {@code branch} and pushes. */
  String pushFromAnotherClient(String branch, String file, String content) throws IOException {
    other.git("fetch", "-q", url, branch);
    other.git("reset", "-q", "--hard", "FETCH_HEAD");
    other.write(file, content).commit("someone else: " + file);
    other.git("push", "-q", url, "HEAD:refs/heads/" + branch);
    return other.head();
  }

  /**
   * Commits {@code entries} (a path's bytes, as the tree holds them, to its mode and content: a
   * name that is no UTF-8, a symbolic link) on the remote's {@code branch}, in the bare repository
   * itself, as no work tree could hold them everywhere; returns the commit.
   */
  String commitRaw(String branch, Map<byte[], Map.Entry<org.eclipse.jgit.lib.FileMode, byte[]>> entries)
      throws IOException {
    try (org.eclipse.jgit.lib.Repository repo = new org.eclipse.jgit.storage.file.FileRepositoryBuilder()
        .setGitDir(bare.toFile()).setMustExist(true).build();
        org.eclipse.jgit.lib.ObjectInserter ins = repo.newObjectInserter();
        org.eclipse.jgit.revwalk.RevWalk walk = new org.eclipse.jgit.revwalk.RevWalk(repo)) {
      org.eclipse.jgit.revwalk.RevCommit parent = walk.parseCommit(repo.resolve("refs/heads/" + branch));
      org.eclipse.jgit.dircache.DirCache index = org.eclipse.jgit.dircache.DirCache.newInCore();
      org.eclipse.jgit.dircache.DirCacheBuilder builder = index.builder();
      try (org.eclipse.jgit.lib.ObjectReader reader = repo.newObjectReader()) {
        builder.addTree(new byte[0], 0, reader, parent.getTree());
      }
      for (Map.Entry<byte[], Map.Entry<org.eclipse.jgit.lib.FileMode, byte[]>> e : entries.entrySet()) {
        org.eclipse.jgit.dircache.DirCacheEntry entry = new org.eclipse.jgit.dircache.DirCacheEntry(e.getKey());
        entry.setFileMode(e.getValue().getKey());
        entry.setObjectId(ins.insert(org.eclipse.jgit.lib.Constants.OBJ_BLOB, e.getValue().getValue()));
        builder.add(entry);
      }
      builder.finish();
      org.eclipse.jgit.lib.CommitBuilder cb = new org.eclipse.jgit.lib.CommitBuilder();
      cb.setTreeId(index.writeTree(ins));
      cb.setParentId(parent);
      org.eclipse.jgit.lib.PersonIdent who = new org.eclipse.jgit.lib.PersonIdent("someone else", "else@example.com");
      cb.setAuthor(who);
      cb.setCommitter(who);
      cb.setMessage("someone else: raw entries\n");
      org.eclipse.jgit.lib.ObjectId id = ins.insert(cb);
      ins.flush();
      org.eclipse.jgit.lib.RefUpdate ru = repo.updateRef("refs/heads/" + branch);
      ru.setNewObjectId(id);
      ru.setExpectedOldObjectId(parent);
      org.eclipse.jgit.lib.RefUpdate.Result result = ru.update();
      if (result != org.eclipse.jgit.lib.RefUpdate.Result.FAST_FORWARD) {
        throw new IOException("cannot move " + branch + ": " + result);
      }
      return id.name();
    }
  }

  /** The paths (as their bytes, one char per byte) and contents of every file of {@code branch}'s tree. */
  Map<String, byte[]> rawTree(String branch) throws IOException {
    Map<String, byte[]> out = new java.util.TreeMap<>();
    try (org.eclipse.jgit.lib.Repository repo = new org.eclipse.jgit.storage.file.FileRepositoryBuilder()
        .setGitDir(bare.toFile()).setMustExist(true).build();
        org.eclipse.jgit.revwalk.RevWalk walk = new org.eclipse.jgit.revwalk.RevWalk(repo);
        org.eclipse.jgit.treewalk.TreeWalk tw = new org.eclipse.jgit.treewalk.TreeWalk(repo)) {
      tw.addTree(walk.parseCommit(repo.resolve("refs/heads/" + branch)).getTree());
      tw.setRecursive(true);
      while (tw.next()) {
        out.put(new String(tw.getRawPath(), java.nio.charset.StandardCharsets.ISO_8859_1),
            repo.open(tw.getObjectId(0)).getBytes());
      }
    }
    return out;
  }

  /** A file's content on a branch of the remote. */
  String show(String branch, String file) throws IOException {
    return seed.git("--git-dir", bare.toString(), "show", branch + ":" + file);
  }

  /** Runs git against the bare repository. */
  String git(String... args) throws IOException {
    String[] all = new String[args.length + 2];
    all[0] = "--git-dir";
    all[1] = bare.toString();
    System.arraycopy(args, 0, all, 2, args.length);
    return seed.git(all);
  }

  @Override
  public void close() {
    try {
      http.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
