package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gitops forget}: a file Git dropped stays in the target, no longer owned, and the next sync leaves it. */
class ForgetCommandTest {

  @TempDir
  Path tmp;

  private CliRun gitops(FixtureRepo repo, Path target, String command, String... more) {
    List<String> a = new ArrayList<>(List.of(command));
    a.addAll(List.of(more));
    a.addAll(List.of("--repo", repo.dir().toString(), "--ref", "main", "--target", target.toString()));
    return CliRun.gitops(a.toArray(String[]::new));
  }

  @Test
  void forgetLeavesTheFileUnownedSoTheNextSyncNeitherDeletesNorReportsIt() throws Exception {
    Path target = tmp.resolve("target");
    FixtureRepo repo = FixtureRepo.init(tmp.resolve("repo"));
    repo.write("a.txt", "a\n").write("b.txt", "b\n").commit("two files");
    assertThat(gitops(repo, target, "sync").code()).isZero();
    repo.remove("a.txt").commit("a.txt is no longer managed");

    CliRun still = gitops(repo, target, "forget", "files:file::a.txt", "files:file::b.txt");
    assertThat(still.code()).as(still.toString()).isEqualTo(1);
    assertThat(still.err()).contains("key files:file::b.txt is still declared in Git").contains("remove it from Git first");

    CliRun bad = gitops(repo, target, "forget", "a.txt");
    assertThat(bad.code()).isEqualTo(1);
    assertThat(bad.err().strip()).startsWith("gitops: KEY 'a.txt' is not a resource key").doesNotContain("\n");

    CliRun forget = gitops(repo, target, "forget", "files:file::a.txt");
    assertThat(forget.code()).as(forget.toString()).isZero();
    assertThat(forget.out()).contains("forgotten files:file::a.txt").contains("Forgot 1 of 1");

    CliRun sync = gitops(repo, target, "sync");
    assertThat(sync.code()).as(sync.toString()).isZero();
    assertThat(sync.out()).doesNotContain("a.txt");
    assertThat(Files.readString(target.resolve("a.txt"))).isEqualTo("a\n");
    assertThat(gitops(repo, target, "history").out()).contains("SUCCEEDED forgotten=1");
  }
}
