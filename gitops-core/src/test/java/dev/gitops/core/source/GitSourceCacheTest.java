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
  void cacheRepositoryRunsAutoGcInsideTheFetchAndPrunesSupersededPacksAtOnce() throws Exception {
    TestGitRepo repo = TestGitRepo.init(tmp.resolve("repo"));
    repo.write("a.yaml", "provider: m\ntype: t\nname: a\nspec: {x: 1}\n").commit("one");
    try (GitSource source = GitSource.builder().url(repo.dir().toString()).ref("main").cacheDir(tmp.resolve("cache")).build()) {
      Source.ReadRequest request = new Source.ReadRequest(null, List.of(YamlManifestDecoder.create()), new Cancellation());
      source.read(request);
      // far more fetches than gc.autoPackLimit (50): the cache must not keep a pack per fetch
      for (int i = 2; i <= 70; i++) {
        repo.write("a.yaml", "provider: m\ntype: t\nname: a\nspec: {x: " + i + "}\n").commit("c" + i);
        assertThat(source.read(request).resources()).hasSize(1);
      }
      try (var cache = new FileRepositoryBuilder().setGitDir(source.repositoryDirectory().toFile()).setBare().build()) {
        var packs = ((org.eclipse.jgit.internal.storage.file.ObjectDirectory) cache.getObjectDatabase()).getPacks();
        assertThat(packs.size()).as("packs in the cache after 70 fetches").isLessThanOrEqualTo(51);
        assertThat(cache.getConfig().getBoolean("gc", "autoDetach", true)).isFalse();
        assertThat(cache.getConfig().getString("gc", null, "prunePackExpire")).isEqualTo("now");
        assertThat(cache.getConfig().getString("gc", null, "pruneExpire")).isEqualTo("now");
      }
    }
  }
}
