package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.util.FileUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Source failures through the real jar: exit 1 with one line naming URL, ref and commit, and no
 * stack trace without --verbose; a damaged Git cache is rebuilt with one warning and the sync goes on.
 */
class SourceFailuresCliIT {

  @TempDir
  Path tmp;

  private Path target;
  private FixtureRepo repo;
  private Git git;

  @BeforeEach
  void fixture() throws Exception {
    target = tmp.resolve("target");
    repo = FixtureRepo.init(tmp.resolve("repo"));
    repo.write("app.properties", "name=shop\n").commit("initial");
    git = Git.open(repo.dir().toFile());
  }

  @AfterEach
  void close() {
    git.close();
    repo.close();
  }

  private GitopsJar.Result gitops(String command, String ref, String... more) throws Exception {
    List<String> a = new ArrayList<>(List.of(command, "--repo", repo.dir().toString(), "--ref", ref, "--target",
        target.toString()));
    a.addAll(List.of(more));
    return GitopsJar.run(tmp, a.toArray(String[]::new));
  }

  /** Exit 1, and stderr is the one line "gitops: ..." naming each of {@code names}. */
  private static void oneLineError(GitopsJar.Result r, String... names) {
    assertThat(r.code()).as(r.toString()).isEqualTo(1);
    assertThat(r.errLines()).as(r.toString()).singleElement().asString().startsWith("gitops: ").contains(names);
  }

  @Test
  void anUnknownCommitIdIsOneLine() throws Exception {
    String unknown = "0123456789abcdef0123456789abcdef01234567";
    oneLineError(gitops("plan", unknown), repo.dir().toString(), unknown, "does not exist");
  }

  @Test
  void aTagOfATreeOrABlobIsOneLine() throws Exception {
    ObjectId tree;
    ObjectId blob;
    try (RevWalk walk = new RevWalk(git.getRepository())) {
      tree = walk.parseCommit(git.getRepository().resolve("HEAD")).getTree();
      blob = git.getRepository().resolve("HEAD:app.properties");
      git.tag().setName("treetag").setAnnotated(false).setObjectId(walk.parseAny(tree)).call();
      git.tag().setName("blobtag").setMessage("a blob").setObjectId(walk.parseAny(blob)).call();
    }
    oneLineError(gitops("plan", "treetag"), repo.dir().toString(), "'treetag'", "tree", tree.name(), "not a commit");
    oneLineError(gitops("sync", "blobtag"), repo.dir().toString(), "'blobtag'", "blob", blob.name(), "not a commit");
  }

  @Test
  void aRollbackToACommitAForcePushRemovedIsOneLine() throws Exception {
    assertThat(gitops("sync", "main").code()).isZero();
    String first = git.getRepository().resolve("HEAD").name();
    repo.write("app.properties", "name=shop\nport=1\n").commit("second");
    assertThat(gitops("sync", "main").code()).isZero();
    GitopsJar.Result history = GitopsJar.run(tmp, "history", "--repo", repo.dir().toString(), "--target", target.toString());
    String entry = history.out().lines().filter(l -> l.contains(first.substring(0, 12))).findFirst().orElseThrow()
        .split("\\s+")[0];
    // Force push: main is rewritten from scratch. <state>/git-cache still holds the old commit: the
    // rollback must not take it from there.
    git.checkout().setOrphan(true).setName("rewritten").call();
    repo.commit("history rewritten");
    git.branchDelete().setBranchNames("main").setForce(true).call();
    git.branchRename().setOldName("rewritten").setNewName("main").call();

    GitopsJar.Result r = gitops("rollback", "main", entry);
    oneLineError(r, repo.dir().toString(), first, "main@sha1:" + first, "force push");
  }

  @Test
  void aRepositoryWithoutObjectsDirectoryIsOneLine() throws Exception {
    FileUtils.delete(repo.dir().resolve(".git/objects").toFile(), FileUtils.RECURSIVE);
    oneLineError(gitops("plan", "main"), repo.dir().toString(), "not a Git repository", "objects");
  }

  @Test
  void aMissingObjectOfTheRepositoryIsOneLineNamingItAndItsPath() throws Exception {
    assertThat(gitops("sync", "main").code()).isZero();
    repo.write("app.properties", "name=changed\n").commit("change");
    String blob = git.getRepository().resolve("HEAD:app.properties").name();
    Files.delete(repo.dir().resolve(".git/objects").resolve(blob.substring(0, 2)).resolve(blob.substring(2)));

    oneLineError(gitops("sync", "main"), repo.dir().toString(), "is damaged: object " + blob + " (app.properties)",
        "is missing", "git fsck");
  }


  /** Truncates every object file of the cache: its packs, and the loose objects a first read copies from a local repository. */
  private void damageTheGitCache() throws IOException {
    try (Stream<Path> s = Files.walk(target.resolve(".gitops/git-cache"))) {
      for (Path p : s.filter(p -> p.toString().endsWith(".pack")
          || p.getParent().getFileName().toString().matches("[0-9a-f]{2}")).toList()) {
        Files.write(p, java.util.Arrays.copyOf(Files.readAllBytes(p), 40));
      }
    }
  }

  @Test
  void aDamagedGitCacheIsRebuiltAndTheSyncGoesOnSayingSoUnderVerbose() throws Exception {
    assertThat(gitops("sync", "main").code()).isZero();
    damageTheGitCache();
    repo.write("app.properties", "name=changed\n").commit("change");

    GitopsJar.Result r = gitops("sync", "main");
    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(Files.readString(target.resolve("app.properties"))).isEqualTo("name=changed\n");
    assertThat(r.errLines()).as("without --verbose the engine logs nothing: no warning, no trace").isEmpty();

    damageTheGitCache();
    repo.write("app.properties", "name=again\n").commit("again");
    GitopsJar.Result v = gitops("sync", "main", "--verbose");
    assertThat(v.code()).as(v.toString()).isZero();
    assertThat(Files.readString(target.resolve("app.properties"))).isEqualTo("name=again\n");
    assertThat(v.errLines()).as(v.toString()).anySatisfy(l -> assertThat(l).startsWith("[WARN]").contains("git-cache")
        .contains("is damaged").contains("rebuilding it"));
  }

  @Test
  void verboseStillShowsTheStackTrace() throws Exception {
    GitopsJar.Result r = gitops("plan", "0123456789abcdef0123456789abcdef01234567", "--verbose");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("gitops: commit 0123456789abcdef0123456789abcdef01234567").contains("\tat dev.gitops");
  }
}
