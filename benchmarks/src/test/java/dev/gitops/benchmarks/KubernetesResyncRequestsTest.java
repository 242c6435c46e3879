package dev.gitops.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.SyncResult;
import dev.gitops.core.Reconciler;
import dev.gitops.core.source.GitSource;
import dev.gitops.core.store.InMemoryStateStore;
import dev.gitops.testkit.TempGitRepo;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kubernetes provider's resync cost, counted rather than timed: after a sync of 1,000
 * objects, a resync that finds nothing to change sends no write and lists nothing (its reads come
 * from the informers' caches, kept current by their watches).
 */
class KubernetesResyncRequestsTest {

  private static List<RecordedRequest> drain(io.fabric8.kubernetes.client.server.mock.KubernetesMockServer server)
      throws InterruptedException {
    List<RecordedRequest> out = new ArrayList<>();
    RecordedRequest r;
    while ((r = server.takeRequest(100, TimeUnit.MILLISECONDS)) != null) {
      out.add(r);
    }
    return out;
  }

  @Test
  void aNoChangeResyncOfAThousandObjectsSendsNoWriteAndNoList(@TempDir Path dir) throws Exception {
    int n = 1000;
    try (KubernetesMockFactory factory = new KubernetesMockFactory(); TempGitRepo repo = TempGitRepo.create()) {
      for (int file = 0; file < n / 10; file++) {
        StringBuilder text = new StringBuilder();
        for (int i = file * 10; i < file * 10 + 10; i++) {
          text.append(factory.document(i, 0)).append("---\n");
        }
        repo.write(String.format("team/%03d.yaml", file), text.toString());
      }
      repo.commit("a thousand config maps");
      var provider = factory.create(dir);
      try (GitSource source = GitSource.builder().url(repo.uri()).ref("main").cacheDir(dir.resolve("cache")).build()) {
        Reconciler reconciler = Reconciler.builder().source(source).provider(provider).store(new InMemoryStateStore())
            .build();
        SyncResult cold = reconciler.sync();
        assertThat(cold.isSuccessful()).as("%s", cold.failures()).isTrue();
        assertThat(cold.plan().changes()).hasSize(n);
        drain(factory.server());

        SyncResult resync = reconciler.sync();
        assertThat(resync.isSuccessful()).isTrue();
        assertThat(resync.changedAnything()).isFalse();
        List<RecordedRequest> sent = drain(factory.server());
        assertThat(sent).as("writes").filteredOn(r -> !r.getMethod().equals("GET")).isEmpty();
        assertThat(sent).as("lists and reads").filteredOn(r -> !r.getPath().contains("watch=true")).isEmpty();
        assertThat(sent).as("every request of the resync").isEmpty();
      }
    }
  }
}
