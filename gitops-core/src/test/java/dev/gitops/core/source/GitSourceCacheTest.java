package dev.gitops.core.source;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Cancellation;
import dev.gitops.api.spi.Source;
import dev.gitops.core.decode.YamlManifestDecoder;
import java.nio.file.Path;
import java.util.List;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GitSourceCacheTest {

  @TempDir
  Path tmp;

  /** The cache's gc.autoPackLimit in this test: JGit's default (50) would take 50 fetches to reach. */
  private static final int PACK_LIMIT = 4;

  @Test
  void cacheRepositoryRunsAutoGcInsideTheFetchAndPrunesSupersededPacksAtOnce() throws Exception {
    TestGitRepo repo = TestGitRepo.init(tmp.resolve("served/repo"));
    repo.write("a.yaml", "provider: m\ntype: t\nname: a\nspec: {x: 1}\n").commit("one");
    // served over git://, so each read fetches a pack (a local path's short changes are copied
    // object by object: LocalRepositoryCopyTest)
    try (GitDaemonServer daemon = GitDaemonServer.start(tmp.resolve("served"));
        GitSource source = GitSource.builder().url(daemon.url("repo")).ref("main").cacheDir(tmp.resolve("cache")).build()) {
      Source.ReadRequest request = new Source.ReadRequest(null, List.of(YamlManifestDecoder.create()), new Cancellation());
      source.read(request);
      // a limit set in the cache's own config, as a user may: the source keeps it
      try (Repository cache = open(source)) {
        cache.getConfig().setInt("gc", null, "autoPackLimit", PACK_LIMIT);
        cache.getConfig().save();
      }
      // far more fetches than the limit: the cache must not keep a pack per fetch
      int fetches = 4 * PACK_LIMIT;
      for (int i = 2; i <= fetches + 1; i++) {
        repo.write("a.yaml", "provider: m\ntype: t\nname: a\nspec: {x: " + i + "}\n").commit("c" + i);
        assertThat(source.read(request).resources()).hasSize(1);
      }
      try (Repository cache = open(source)) {
        var packs = ((org.eclipse.jgit.internal.storage.file.ObjectDirectory) cache.getObjectDatabase()).getPacks();
        assertThat(packs.size()).as("packs in the cache after %d fetches", fetches).isLessThanOrEqualTo(PACK_LIMIT + 1);
        assertThat(cache.getConfig().getInt("gc", "autoPackLimit", 50)).isEqualTo(PACK_LIMIT);
        assertThat(cache.getConfig().getBoolean("gc", "autoDetach", true)).isFalse();
        assertThat(cache.getConfig().getString("gc", null, "prunePackExpire")).isEqualTo("now");
        assertThat(cache.getConfig().getString("gc", null, "pruneExpire")).isEqualTo("now");
      }
    }
  }

  private static Repository open(GitSource source) throws java.io.IOException {
    return new FileRepositoryBuilder().setGitDir(source.repositoryDirectory().toFile()).setBare().build();
  }
}
