package dev.gitops.benchmarks;

import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.Provider;
import dev.gitops.core.Reconciler;
import dev.gitops.core.source.GitSource;
import dev.gitops.core.store.InMemoryStateStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.Supplier;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;

/**
 * B2's one-file resync in a loop, for a profile of the steady state: the harness's repository of N
 * resources ({@link ScaleHarness}, in-memory provider and store), a cold sync, then {@code rounds}
 * one-file commits each synced; the second half of the rounds runs under a JFR recording (execution
 * samples every millisecond) written to {@code --jfr}. With {@code --same-commit true} nothing is
 * committed: each round is a same-commit resync. Prints each resync's time with the JIT's
 * compile time during it, and the median of the second half. Run it on a committed, touched heap
 * ({@code -Xms} = {@code -Xmx}, {@code AlwaysPreTouch}), as {@code run.sh} runs B2: on a growing heap
 * the rounds that allocate into pages never touched take up to twice as long.
 *
 * <pre>
 * java -Xms8g -Xmx8g -XX:+AlwaysPreTouch -cp benchmarks/target/benchmarks.jar dev.gitops.benchmarks.OneFileResyncLoop \
 *     --n 10000 --rounds 60 --jfr one-file.jfr
 * jfr print --stack-depth 64 --events jdk.ExecutionSample one-file.jfr
 * </pre>
 */
public final class OneFileResyncLoop {

  private OneFileResyncLoop() {}

  /** Entry point; see the class comment for the arguments. */
  public static void main(String[] args) throws Exception {
    java.util.Map<String, String> opts = new java.util.HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      opts.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    int n = Integer.parseInt(opts.getOrDefault("n", "10000"));
    int rounds = Integer.parseInt(opts.getOrDefault("rounds", "60"));
    if (rounds < 1) {
      throw new IllegalArgumentException("--rounds must be at least 1, not " + rounds);
    }
    String same = opts.getOrDefault("same-commit", "false");
    if (!same.equals("true") && !same.equals("false")) {
      throw new IllegalArgumentException("--same-commit takes true or false, not '" + same + "'");
    }
    boolean sameCommit = same.equals("true");
    ProviderFactory factory = new MemProviderFactory();
    Path work = Files.createTempDirectory("gitops-one-file-");
    ScaleHarness harness = new ScaleHarness(factory, work);
    Path repo = work.resolve("repo");
    int files = (n + factory.documentsPerFile() - 1) / factory.documentsPerFile();
    harness.generate(repo, n, files);
    Provider provider = factory.create(Files.createDirectories(work.resolve("scratch")));
    try (GitSource source = GitSource.builder().url(repo.toString()).ref("main").cacheDir(work.resolve("cache"))
        .build();
        Reconciler reconciler = Reconciler.builder().source(source).provider(provider).store(new InMemoryStateStore())
            .build()) {
      System.out.printf("cold sync %.0f ms%n", ms(reconciler::sync));
      double[] profiled = new double[rounds - rounds / 2];
      Recording recording = null;
      for (int round = 1; round <= rounds; round++) {
        if (!sameCommit) {
          // generations above the harness's own (0 to 5), one file each, spread over the repository
          harness.commitChanges(repo, files, 1, 5 + round);
        }
        if (round == rounds / 2 + 1 && opts.containsKey("jfr")) {
          recording = new Recording(Configuration.getConfiguration("default"));
          recording.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(1));
          recording.start();
        }
        long jit = jit();
        double took = ms(reconciler::sync);
        if (round > rounds / 2) {
          profiled[round - rounds / 2 - 1] = took;
        }
        System.out.printf("round %d: %.1f ms (JIT +%d ms)%n", round, took, jit() - jit);
      }
      if (recording != null) {
        recording.stop();
        recording.dump(Path.of(opts.get("jfr")));
        recording.close();
      }
      Arrays.sort(profiled);
      System.out.printf("median of rounds %d-%d: %.1f ms%n", rounds / 2 + 1, rounds, profiled[profiled.length / 2]);
    }
  }

  private static long jit() {
    return java.lang.management.ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
  }

  private static double ms(Supplier<SyncResult> sync) {
    long start = System.nanoTime();
    SyncResult result = sync.get();
    double took = (System.nanoTime() - start) / 1e6;
    if (!result.isSuccessful()) {
      throw new IllegalStateException("a sync failed: " + result.failures());
    }
    return took;
  }
}
