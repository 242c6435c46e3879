package dev.gitops.core.source;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Cancellation;
import dev.gitops.api.spi.Source;
import dev.gitops.core.decode.YamlManifestDecoder;
import java.nio.file.Path;
import java.util.List;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GitSourceCacheTest {

  @TempDir
  Path tmp;

  @Test
  void cacheRepositoryRunsAutoGcInsideTheFetchNotInABackgroundThread() throws Exception {
    TestGitRepo repo = TestGitRepo.init(tmp.resolve("repo"));
    repo.write("a.yaml", "provider: m\ntype: t\nname: a\nspec: {x: 1}\n").commit("one");
    try (GitSource source = GitSource.builder().url(repo.dir().toString()).ref("main").cacheDir(tmp.resolve("cache")).build()) {
      source.read(new Source.ReadRequest(null, List.of(YamlManifestDecoder.create()), new Cancellation()));
      try (var cache = new FileRepositoryBuilder().setGitDir(source.repositoryDirectory().toFile()).setBare().build()) {
        assertThat(cache.getConfig().getBoolean("gc", "autoDetach", true)).isFalse();
      }
    }
  }
}
