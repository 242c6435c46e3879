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
