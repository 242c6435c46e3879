package dev.gitops.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.junit.jupiter.api.Test;

class TempGitRepoTest {

  private static String fileAt(Repository repo, String commit, String path) throws Exception {
    try (RevWalk rw = new RevWalk(repo)) {
      var tree = rw.parseCommit(ObjectId.fromString(commit)).getTree();
      try (TreeWalk tw = TreeWalk.forPath(repo, path, tree)) {
        return tw == null ? null : new String(repo.open(tw.getObjectId(0)).getBytes(), java.nio.charset.StandardCharsets.UTF_8);
      }
    }
  }

  @Test
  void commitsTagsBranchesAndResets() throws Exception {
    Path dir;
    try (TempGitRepo repo = TempGitRepo.create()) {
      dir = repo.dir();
      repo.write("apps/a.yaml", "a: 1\n");
      String c1 = repo.commit("first");
      assertThat(c1).hasSize(40).isEqualTo(repo.head());
      repo.tag("v1.0.0").annotatedTag("v1.0.0-annotated", "release").branch("release");

      repo.write("apps/a.yaml", "a: 2\n").write("apps/b.yaml", "b: 1\n").delete("apps/a.yaml");
      repo.symlink("link", "apps/b.yaml");
      String c2 = repo.commit("second");
      assertThat(fileAt(repo.repository(), c1, "apps/a.yaml")).isEqualTo("a: 1\n");
      assertThat(fileAt(repo.repository(), c2, "apps/a.yaml")).isNull();
      assertThat(fileAt(repo.repository(), c2, "link")).isEqualTo("apps/b.yaml");

      assertThat(repo.repository().resolve("refs/tags/v1.0.0").getName()).isEqualTo(c1);
      assertThat(repo.repository().resolve("v1.0.0-annotated^{commit}").getName()).isEqualTo(c1);
      assertThat(repo.repository().resolve("refs/heads/release").getName()).isEqualTo(c1);
      assertThat(repo.repository().getBranch()).isEqualTo("main");

      repo.resetHard(c1);
      assertThat(repo.head()).isEqualTo(c1);
      assertThat(repo.dir().resolve("apps/a.yaml")).hasContent("a: 1");
      assertThat(repo.dir().resolve("apps/b.yaml")).doesNotExist();
      assertThat(repo.uri()).startsWith("file:");
    }
    assertThat(Files.exists(dir)).isFalse();
  }
}
