package dev.gitops.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.ResetCommand;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;

/**
 * A temporary Git repository with a working tree, for tests of sources and of whole syncs.
 *
 * <pre>{@code
 * try (TempGitRepo repo = TempGitRepo.create()) {
 *   repo.write("apps/web.yaml", "kind: ConfigMap\n");
 *   String c1 = repo.commit("first");
 *   repo.tag("v1.0.0");
 *   repo.write("apps/web.yaml", "kind: Secret\n");
 *   String c2 = repo.commit("second");
 *   repo.resetHard(c1);                      // a force-push back to c1
 *   GitSource source = GitSource.builder().url(repo.uri()).ref("main").build();
 * }
 * }</pre>
 *
 * <p>The initial branch is {@code main}. Commits and tags are never signed (whatever the user's
 * Git configuration says) and use a fixed test identity. {@link #close()} deletes the directory.
 * Methods throw {@link UncheckedIOException} or {@link IllegalStateException} (for JGit errors) so
 * tests stay short.
 */
public final class TempGitRepo implements AutoCloseable {
  /** The identity of every commit and tag. */
  public static final PersonIdent IDENT = new PersonIdent("GitOps Test", "test@gitops.dev");

  private final Path dir;
  private final boolean deleteOnClose;
  private final Git git;

  private TempGitRepo(Path dir, boolean deleteOnClose) {
    this.dir = dir;
    this.deleteOnClose = deleteOnClose;
    try {
      this.git = Git.init().setDirectory(dir.toFile()).setInitialBranch("main").call();
    } catch (GitAPIException e) {
      throw new IllegalStateException("cannot init a Git repository in " + dir, e);
    }
  }

  /** A repository in a new temporary directory, deleted on {@link #close()}. */
  public static TempGitRepo create() {
    try {
      return new TempGitRepo(Files.createTempDirectory("gitops-test-repo-"), true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a temporary directory", e);
    }
  }

  /**
   * A repository in {@code dir} (created if missing; a JUnit {@code @TempDir} for example), also
   * deleted on {@link #close()}.
   */
  public static TempGitRepo in(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + dir, e);
    }
    return new TempGitRepo(dir, true);
  }

  /** The working tree directory. */
  public Path dir() {
    return dir;
  }

  /** A {@code file:} URI of the repository, to clone or fetch from. */
  public String uri() {
    return dir.toUri().toString();
  }

  /** The JGit handle, for anything this class does not cover. */
  public Git git() {
    return git;
  }

  /** The JGit repository. */
  public Repository repository() {
    return git.getRepository();
  }

  /** Writes {@code text} (UTF-8) at {@code path} (relative, forward slashes) and stages it. */
  public TempGitRepo write(String path, String text) {
    return write(path, text.getBytes(StandardCharsets.UTF_8));
  }

  /** Writes {@code bytes} at {@code path} and stages it. */
  public TempGitRepo write(String path, byte[] bytes) {
    Path file = file(path);
    try {
      Files.createDirectories(file.getParent());
      Files.write(file, bytes);
      git.add().addFilepattern(path).call();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    } catch (GitAPIException e) {
      throw new IllegalStateException("cannot stage " + path, e);
    }
    return this;
  }

  /** Removes {@code path} from the working tree and the index. */
  public TempGitRepo delete(String path) {
    try {
      git.rm().addFilepattern(path).call();
      Files.deleteIfExists(file(path));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + path, e);
    } catch (GitAPIException e) {
      throw new IllegalStateException("cannot remove " + path + " from the index", e);
    }
    return this;
  }

  /** Creates a symlink at {@code path} pointing to {@code target} (taken literally) and stages it. */
  public TempGitRepo symlink(String path, String target) {
    Path link = file(path);
    try {
      Files.createDirectories(link.getParent());
      Files.deleteIfExists(link);
      Files.createSymbolicLink(link, Path.of(target));
      git.add().addFilepattern(path).call();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create symlink " + link, e);
    } catch (GitAPIException e) {
      throw new IllegalStateException("cannot stage " + path, e);
    }
    return this;
  }

  /** Commits everything staged (an empty commit if nothing is) and returns the commit id (40 hex). */
  public String commit(String message) {
    try {
      RevCommit c = git.commit().setMessage(message).setAuthor(IDENT).setCommitter(IDENT).setSign(false)
          .setAllowEmpty(true).call();
      return c.getName();
    } catch (GitAPIException e) {
      throw new IllegalStateException("cannot commit '" + message + "'", e);
    }
  }

  /** A lightweight tag {@code name} at HEAD. */
  public TempGitRepo tag(String name) {
    try {
      git.tag().setName(name).setAnnotated(false).call();
    } catch (GitAPIException e) {
      throw new IllegalStateException("cannot tag " + name, e);
    }
    return this;
  }

  /** An annotated (unsigned) tag {@code name} at HEAD. */
  public TempGitRepo annotatedTag(String name, String message) {
    try {
      git.tag().setName(name).setAnnotated(true).setMessage(message).setTagger(IDENT).setSigned(false).call();
    } catch (GitAPIException e) {
      throw new IllegalStateException("cannot tag " + name, e);
    }
    return this;
  }

  /** Creates branch {@code name} at HEAD without checking it out. */
  public TempGitRepo branch(String name) {
    try {
      git.branchCreate().setName(name).call();
    } catch (GitAPIException e) {
      throw new IllegalStateException("cannot create branch " + name, e);
    }
    return this;
  }

  /** Checks out branch {@code name}. */
  public TempGitRepo checkout(String name) {
    try {
      git.checkout().setName(name).call();
    } catch (GitAPIException e) {
      throw new IllegalStateException("cannot check out " + name, e);
    }
    return this;
  }

  /** Moves the current branch to {@code commit} and resets index and working tree (a force-push). */
  public TempGitRepo resetHard(String commit) {
    try {
      git.reset().setMode(ResetCommand.ResetType.HARD).setRef(commit).call();
    } catch (GitAPIException e) {
      throw new IllegalStateException("cannot reset to " + commit, e);
    }
    return this;
  }

  /** The commit id HEAD points to, or null before the first commit. */
  public String head() {
    try {
      ObjectId id = repository().resolve("HEAD");
      return id == null ? null : id.getName();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot resolve HEAD", e);
    }
  }

  private Path file(String path) {
    Objects.requireNonNull(path, "path");
    Path f = dir.resolve(path).normalize();
    if (!f.startsWith(dir) || f.equals(dir)) {
      throw new IllegalArgumentException("path '" + path + "' is not inside the repository " + dir);
    }
    return f;
  }

  /** Closes JGit and deletes the directory (symlinks are removed, never followed). */
  @Override
  public void close() {
    git.close();
    if (!deleteOnClose || !Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try {
      Files.walkFileTree(dir, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          Files.delete(file);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
          if (exc != null) {
            throw exc;
          }
          Files.delete(d);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete temporary repository " + dir, e);
    }
  }
}
