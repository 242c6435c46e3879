package dev.gitops.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.PersonIdent;

/** A Git repository on disk for the CLI tests, on branch {@code main}, committed with JGit. */
final class FixtureRepo implements AutoCloseable {

  private final Path dir;
  private final Git git;

  private FixtureRepo(Path dir, Git git) {
    this.dir = dir;
    this.git = git;
  }

  static FixtureRepo init(Path dir) throws GitAPIException {
    return new FixtureRepo(dir, Git.init().setDirectory(dir.toFile()).setInitialBranch("main").call());
  }

  Path dir() {
    return dir;
  }

  FixtureRepo write(String path, String text) throws IOException, GitAPIException {
    Path f = dir.resolve(path);
    Files.createDirectories(f.getParent());
    Files.writeString(f, text, StandardCharsets.UTF_8);
    git.add().addFilepattern(path).call();
    return this;
  }

  FixtureRepo remove(String path) throws GitAPIException {
    git.rm().addFilepattern(path).call();
    return this;
  }

  /** Commits and returns the commit id. */
  String commit(String message) throws GitAPIException {
    PersonIdent who = new PersonIdent("gitops test", "test@example.invalid");
    return git.commit().setMessage(message).setAuthor(who).setCommitter(who).setSign(false).setAllowEmpty(true).call().name();
  }

  /** Moves the branch and the working tree back to {@code revision} ({@code git reset --hard}), as before a force push. */
  FixtureRepo resetHard(String revision) throws GitAPIException {
    git.reset().setMode(org.eclipse.jgit.api.ResetCommand.ResetType.HARD).setRef(revision).call();
    return this;
  }

  @Override
  public void close() {
    git.close();
  }
}
