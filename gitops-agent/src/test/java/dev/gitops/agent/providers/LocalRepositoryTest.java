package dev.gitops.agent.providers;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A local repository's working trees, linked ones included, and its Git directory are never a target. */
class LocalRepositoryTest {

  @TempDir Path tmp;

  private void git(Path dir, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("git", "-C", dir.toString(), "-c", "user.name=t", "-c",
        "user.email=t@example.com"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
  }

  /** A repository {@code ops} with a directory {@code web}, and a linked working tree {@code wt} of it. */
  private Path repositoryWithALinkedWorkTree() throws IOException, InterruptedException {
    Path repo = tmp.resolve("ops");
    Files.createDirectories(repo.resolve("web"));
    Files.writeString(repo.resolve("web/a.txt"), "a\n");
    git(tmp, "init", "-q", "-b", "main", repo.toString());
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "one");
    git(repo, "worktree", "add", "-q", "-b", "feature", tmp.resolve("wt").toString());
    return repo;
  }

  @Test
  void aLinkedWorkTreeOfTheRepositoryIsRefusedAsItsMainOneIs() throws Exception {
    Path repo = repositoryWithALinkedWorkTree();
    Path wt = tmp.resolve("wt");

    assertThat(LocalRepository.conflict(repo.toString(), null, wt)).startsWith("is the working tree ")
        .contains("a linked worktree").contains("of the repository " + repo);
    assertThat(LocalRepository.conflict(repo.toString(), "web", wt.resolve("web")))
        .startsWith("is the directory 'web' of the working tree ").contains("a linked worktree");
    assertThat(LocalRepository.conflict(repo.toString(), null, repo)).startsWith("is the working tree of the repository");

    // the linked working tree given as the repository: the main one and the Git directory are its own too
    assertThat(LocalRepository.conflict(wt.toString(), null, repo)).startsWith("is the working tree of the repository");
    assertThat(LocalRepository.conflict(wt.toString(), null, wt)).startsWith("is the working tree");
    assertThat(LocalRepository.conflict(wt.toString(), null, repo.resolve(".git/hooks")))
        .startsWith("is inside the Git directory");

    // elsewhere, and a directory of a working tree the sync does not read, stay valid targets
    assertThat(LocalRepository.conflict(repo.toString(), null, tmp.resolve("live"))).isNull();
    assertThat(LocalRepository.conflict(repo.toString(), "web", wt.resolve("build"))).isNull();
  }

  @Test
  void aTargetInsideWhatTheSyncReadsOrHoldingTheRepositoryIsRefusedEitherWay() throws Exception {
    Path repo = repositoryWithALinkedWorkTree();
    Path wt = tmp.resolve("wt");
    // inside the directory the sync reads, in any working tree
    assertThat(LocalRepository.conflict(repo.toString(), null, repo.resolve("deploy")))
        .startsWith("is inside the working tree " + repo + " of the repository " + repo + " that the sync reads");
    assertThat(LocalRepository.conflict(repo.toString(), "web", repo.resolve("web/live/x")))
        .startsWith("is inside the directory 'web' (" + repo.resolve("web") + ") of the repository");
    assertThat(LocalRepository.conflict(repo.toString(), "web", wt.resolve("web/live")))
        .startsWith("is inside the directory 'web' (" + wt.resolve("web") + ") of the working tree " + wt);
    // holding the repository: its working tree, the directory read in it, or its Git directory
    assertThat(LocalRepository.conflict(repo.toString(), null, tmp)).startsWith("holds the repository " + repo);
    Path bare = tmp.resolve("srv/ops.git");
    git(tmp, "init", "-q", "--bare", bare.toString());
    assertThat(LocalRepository.conflict(bare.toString(), null, tmp.resolve("srv")))
        .startsWith("holds the repository " + bare + " (" + bare + ")");
    // beside what the sync reads, in the working tree or out of it, stays a valid target
    assertThat(LocalRepository.conflict(repo.toString(), "web", repo.resolve("build"))).isNull();
    assertThat(LocalRepository.conflict(bare.toString(), null, tmp.resolve("srv/live"))).isNull();
  }

  @Test
  void aStoreInsideWhatTheSyncReadsOrTheGitDirectoryIsRefusedButOneHoldingTheRepositoryIsNot() throws Exception {
    Path repo = repositoryWithALinkedWorkTree();
    Path wt = tmp.resolve("wt");
    String readBack = "the state store, its secret key included, would be read back as the repository's own files";
    assertThat(LocalRepository.storeConflict(repo.toString(), null, repo.resolve(".gitops")))
        .startsWith("is inside the working tree " + repo + " of the repository " + repo + " that the sync reads: ")
        .contains(readBack);
    assertThat(LocalRepository.storeConflict(repo.toString(), null, repo)).startsWith("is the working tree " + repo);
    assertThat(LocalRepository.storeConflict(repo.toString(), "web", repo.resolve("web")))
        .startsWith("is the directory 'web' (" + repo.resolve("web") + ") of the repository " + repo);
    assertThat(LocalRepository.storeConflict(repo.toString(), "web", wt.resolve("web/st")))
        .startsWith("is inside the directory 'web' (" + wt.resolve("web") + ") of the working tree " + wt);
    assertThat(LocalRepository.storeConflict(repo.toString(), null, repo.resolve(".git/gitops")))
        .startsWith("is inside the Git directory of the repository " + repo)
        .contains("the state store would be written among Git's own files");
    // a store writes only its own files: holding the repository, or beside what the sync reads, it may stay
    assertThat(LocalRepository.storeConflict(repo.toString(), null, tmp)).isNull();
    assertThat(LocalRepository.storeConflict(repo.toString(), "web", repo.resolve("build/st"))).isNull();
    assertThat(LocalRepository.storeConflict("https://example.com/ops.git", null, repo.resolve("st"))).isNull();
  }

  @Test
  void aWorkTreeDeletedWithoutPruneAndATamperedGitFileRefuseNothingElse() throws Exception {
    Path repo = repositoryWithALinkedWorkTree();
    Path wt = tmp.resolve("wt");
    // a .git file naming the root: not a Git directory, so it does not make every target "inside" it
    Path odd = Files.createDirectories(tmp.resolve("odd"));
    Files.writeString(odd.resolve(".git"), "gitdir: /\n");
    assertThat(LocalRepository.conflict(odd.toString(), null, tmp.resolve("live"))).isNull();

    // the worktree's directory deleted by hand (no 'git worktree prune'): a new target may be there
    try (java.util.stream.Stream<Path> files = Files.walk(wt)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
    assertThat(LocalRepository.conflict(repo.toString(), null, wt)).isNull();
  }
}
