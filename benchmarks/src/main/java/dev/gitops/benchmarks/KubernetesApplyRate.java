package dev.gitops.benchmarks;

import dev.gitops.api.Resource;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.SourceFile;
import dev.gitops.core.Reconciler;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.apply.ExecutionOptions;
import dev.gitops.core.store.InMemoryStateStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;

/**
 * Objects the Kubernetes provider applies per second on fabric8's mock API server, at a given
 * parallelism: a cold sync of N ConfigMaps (create, verify), then an update of all of them (JSON
 * Patch, verify). Run by hand; the numbers go into {@code benchmarks/README.md}.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.gitops.benchmarks.KubernetesApplyRate 1000 1,8
 * </pre>
 */
public final class KubernetesApplyRate {

  private KubernetesApplyRate() {}

  /** Arguments: N (default 1000) and a comma-separated list of parallelisms (default 1,8). */
  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    String[] parallelisms = (args.length > 1 ? args[1] : "1,8").split(",");
    for (String p : parallelisms) {
      int parallelism = Integer.parseInt(p.trim());
      double[] rates = run(n, parallelism);
      System.out.printf("k8s-mock n=%d parallelism=%d: create %.0f objects/s, update %.0f objects/s%n", n, parallelism,
          rates[0], rates[1]);
    }
  }

  /** Creates then updates {@code n} ConfigMaps at {@code parallelism}; returns objects per second for each. */
  static double[] run(int n, int parallelism) throws Exception {
    try (KubernetesMockFactory factory = new KubernetesMockFactory()) {
      var provider = factory.create(Files.createTempDirectory("gitops-k8s-rate-"));
      var decoder = provider.decoder().orElseThrow();
      SyncOptions options = SyncOptions.builder().execution(ExecutionOptions.defaults().withParallelism(parallelism)).build();
      double[] rates = new double[2];
      InMemoryStateStore store = new InMemoryStateStore();
      for (int generation = 0; generation < 2; generation++) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < n; i++) {
          text.append(factory.document(i, generation)).append("---\n");
        }
        String revision = "main@sha1:" + String.valueOf(generation).repeat(40);
        List<Resource> rs = decoder.decode(new SourceFile("all.yaml", "g" + generation,
            text.toString().getBytes(StandardCharsets.UTF_8), revision));
        State state = State.of(revision, rs);
        Reconciler reconciler = Reconciler.builder().desiredState(state).provider(provider).store(store).options(options)
            .build();
        long t0 = System.nanoTime();
        SyncResult result = reconciler.sync();
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (!result.isSuccessful()) {
          throw new IllegalStateException("sync failed: " + result.failures());
        }
        rates[generation] = n / seconds;
      }
      return rates;
    }
  }
}
