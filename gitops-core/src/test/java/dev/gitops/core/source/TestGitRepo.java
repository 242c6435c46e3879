package dev.gitops.core.source;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A non-bare Git repository driven with the real {@code git} command, for tests: write files,
 * commit, tag, branch, rewrite history. Serve its parent directory with {@link GitDaemonServer} or
 * {@link GitHttpServer}.
 *
 * <pre>{@code
 * TestGitRepo repo = TestGitRepo.init(base.resolve("repo"));
 * String sha = repo.write("apps/web.yaml", "...").commit("add web");
 * }</pre>
 */
public final class TestGitRepo {

  private final Path dir;

  private TestGitRepo(Path dir) {
    this.dir = dir;
  }

  /** Creates a repository with branch {@code main} at {@code dir}. */
  public static TestGitRepo init(Path dir) throws IOException {
    Files.createDirectories(dir);
    TestGitRepo repo = new TestGitRepo(dir);
    repo.git("init", "-q", "-b", "main");
    return repo;
  }

  /** The repository already at {@code dir} (a clone, say). */
  public static TestGitRepo open(Path dir) {
    return new TestGitRepo(dir);
  }

  /** The working directory. */
  public Path dir() {
    return dir;
  }

  /** Writes {@code content} at {@code path}. */
  public TestGitRepo write(String path, String content) throws IOException {
    return write(path, content.getBytes(StandardCharsets.UTF_8));
  }

  /** Writes {@code content} at {@code path}. */
  public TestGitRepo write(String path, byte[] content) throws IOException {
    Path f = dir.resolve(path);
    Files.createDirectories(f.getParent());
    Files.write(f, content);
    return this;
  }

  /** Deletes {@code path}. */
  public TestGitRepo delete(String path) throws IOException {
    Files.delete(dir.resolve(path));
    return this;
  }

  /** Creates a symbolic link at {@code path} pointing at {@code target}. */
  public TestGitRepo symlink(String path, String target) throws IOException {
    Path f = dir.resolve(path);
    Files.createDirectories(f.getParent());
    Files.createSymbolicLink(f, Path.of(target));
    return this;
  }

  /** Stages everything and commits; returns the commit id. */
  public String commit(String message) throws IOException {
    git("add", "-A");
    git("commit", "-q", "--allow-empty", "-m", message);
    return head();
  }

  /** The id of HEAD. */
  public String head() throws IOException {
    return git("rev-parse", "HEAD").trim();
  }

  /** An annotated tag at HEAD. */
  public TestGitRepo tag(String name) throws IOException {
    git("tag", "-a", "-m", "tag " + name, name);
    return this;
  }

  /** Runs git in the repository and returns its output. */
  public String git(String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("git", "-c", "user.name=Test", "-c", "user.email=test@example.com",
        "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-c", "core.symlinks=true"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
    pb.environment().put("GIT_CONFIG_NOSYSTEM", "1");
    pb.environment().put("HOME", dir.toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("git " + String.join(" ", args) + " timed out");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    if (p.exitValue() != 0) {
      throw new IOException("git " + String.join(" ", args) + " failed (" + p.exitValue() + "): " + out);
    }
    return out;
  }
}
