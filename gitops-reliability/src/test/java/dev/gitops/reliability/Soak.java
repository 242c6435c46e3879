package dev.gitops.reliability;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Documents;
import dev.gitops.api.Plan;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncResult;
import dev.gitops.core.Reconciler;
import dev.gitops.core.decode.YamlManifestDecoder;
import dev.gitops.core.source.GitSource;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.testkit.InMemoryProvider;
import dev.gitops.testkit.TempGitRepo;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * The soak run (not part of CI): {@code resources} resources in a Git repository (100 per
 * multi-document YAML file), then {@code syncs} consecutive syncs, each after a random small
 * commit (a few resources changed, sometimes one added or removed) and random out-of-band drift
 * of a few live objects. After every sync: it succeeded and a fresh plan has no changes. Every 50
 * syncs: heap used after GC, the store's size and history file count. Exits 1 at the first
 * violation.
 *
 * <pre>{@code
 * benchmarks/soak.sh                  # 10000 resources, 500 syncs
 * benchmarks/soak.sh 1000 50          # a short run
 * }</pre>
 */
public final class Soak {

  private static final int PER_FILE = 100;

  private Soak() {}

  /** {@code Soak [resources] [syncs] [seed]}. */
  public static void main(String[] args) throws Exception {
    int resources = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int syncs = args.length > 1 ? Integer.parseInt(args[1]) : 500;
    long seed = args.length > 2 ? Long.parseLong(args[2]) : 42L;
    Random random = new Random(seed);
    Path work = Files.createTempDirectory("gitops-soak-");
    int[] versions = new int[resources];
    boolean[] present = new boolean[resources];
    java.util.Arrays.fill(present, true);
    long started = System.nanoTime();
    try (TempGitRepo repo = TempGitRepo.in(work.resolve("repo"))) {
      for (int f = 0; f * PER_FILE < resources; f++) {
        repo.write(file(f), render(f, versions, present, resources));
      }
      repo.commit("initial " + resources + " resources");
      InMemoryProvider live = InMemoryProvider.builder()
          .decoder(YamlManifestDecoder.builder().defaultProvider("memory").build()).build();
      FileStateStore store = FileStateStore.open(work.resolve("state"));
      Reconciler reconciler = Reconciler.builder()
          .source(GitSource.builder().url(repo.uri()).ref("main").cacheDir(work.resolve("cache")).build())
          .provider(live).store(store).build();
      report(0, reconciler.sync(), work.resolve("state"), started, live);
      for (int i = 1; i <= syncs; i++) {
        // a small commit: 1-5 resources changed, now and then one removed or added back
        java.util.Set<Integer> touchedFiles = new java.util.TreeSet<>();
        for (int n = 1 + random.nextInt(5); n > 0; n--) {
          int r = random.nextInt(resources);
          if (random.nextInt(20) == 0) {
            present[r] = !present[r];
          }
          versions[r]++;
          touchedFiles.add(r / PER_FILE);
        }
        for (int f : touchedFiles) {
          repo.write(file(f), render(f, versions, present, resources));
        }
        repo.commit("sync " + i);
        // out-of-band drift of 0-3 live objects
        List<ResourceKey> keys = new ArrayList<>(live.snapshot().keySet());
        for (int n = random.nextInt(4); n > 0 && !keys.isEmpty(); n--) {
          ResourceKey k = keys.get(random.nextInt(keys.size()));
          ObjectNode doc = (ObjectNode) live.get(k).orElseThrow().deepCopy();
          doc.put("version", -1);
          doc.put("handAdded", "drift " + i);
          live.put(k, doc);
        }
        SyncResult result = reconciler.sync();
        if (!result.isSuccessful()) {
          System.err.println("sync " + i + " failed: " + result.failures());
          System.exit(1);
        }
        Plan after = reconciler.plan();
        if (after.hasChanges()) {
          System.err.println("sync " + i + " did not converge: " + after.summary());
          System.exit(1);
        }
        int expected = 0;
        for (boolean p : present) {
          expected += p ? 1 : 0;
        }
        if (live.snapshot().size() != expected) {
          System.err.println("sync " + i + ": " + live.snapshot().size() + " live objects, want " + expected);
          System.exit(1);
        }
        if (i % 50 == 0 || i == syncs) {
          report(i, result, work.resolve("state"), started, live);
        }
      }
    } finally {
      CrashWorld.deleteTree(work);
    }
    System.out.println("soak passed: " + resources + " resources, " + syncs + " syncs");
  }

  private static String file(int f) {
    return "apps/part-" + f + ".yaml";
  }

  private static String render(int f, int[] versions, boolean[] present, int total) {
    StringBuilder sb = new StringBuilder();
    for (int r = f * PER_FILE; r < Math.min(total, (f + 1) * PER_FILE); r++) {
      if (!present[r]) {
        continue;
      }
      sb.append("---\ntype: widget\nscope: soak\nname: r").append(r).append("\nspec:\n  version: ").append(versions[r])
          .append("\n  image: app:").append(versions[r] % 7).append("\n  labels: {tier: t").append(r % 5).append("}\n");
    }
    return sb.length() == 0 ? "# empty\n" : sb.toString();
  }

  private static void report(int i, SyncResult last, Path state, long started, InMemoryProvider live) throws IOException {
    System.gc();
    long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    long bytes;
    long history;
    try (Stream<Path> s = Files.walk(state)) {
      bytes = s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
    try (Stream<Path> s = Files.list(state.resolve("history"))) {
      history = s.count();
    }
    System.out.printf("sync %4d  %-9s live %6d  heap-after-gc %6.1f MiB  store %7.1f KiB  history files %3d  elapsed %6.1f s  last: %s%n",
        i, last.status(), live.snapshot().size(), heap / 1048576.0, bytes / 1024.0, history,
        (System.nanoTime() - started) / 1e9, last.plan().summary());
    Documents.nodes();
  }
}
