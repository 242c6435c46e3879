package dev.gitops.benchmarks;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.management.ThreadMXBean;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.HistoryEntry;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.core.store.StoreBatch;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * S1, the store alone: the store calls of a first sync of N creates, then of a no-change and a
 * one-change sync through new store objects (as new processes), driven directly on one thread
 * (no engine), twice (the second round with the JIT warm). Prints wall time, the thread's CPU
 * time and its allocated bytes per phase, which load on the machine does not move. It uses only
 * the store API of earlier builds too, so it also runs against an older jar as a source file.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.gitops.benchmarks.StoreCost DIR [N]
 * java -cp OLD/benchmarks.jar benchmarks/src/main/java/dev/gitops/benchmarks/StoreCost.java DIR [N]
 * </pre>
 */
public final class StoreCost {
  static final ThreadMXBean MX = (ThreadMXBean) ManagementFactory.getThreadMXBean();

  private StoreCost() {}

  static ObjectNode document(int i, int v) {
    ObjectNode d = JsonNodeFactory.instance.objectNode();
    ObjectNode spec = d.putObject("spec");
    spec.put("replicas", 2 + i % 3);
    spec.put("image", "registry.example.com/team-" + (i % 50) + "/svc-" + i + ":1.0." + v);
    ObjectNode labels = spec.putObject("labels");
    for (int l = 0; l < 8; l++) {
      labels.put("label-" + l, "value-" + l + "-" + "x".repeat(40));
    }
    spec.put("notes", "n".repeat(300));
    return d;
  }

  static void phase(String name, Path dir, Consumer<FileStateStore> body) {
    long a0 = MX.getCurrentThreadAllocatedBytes();
    long c0 = MX.getCurrentThreadCpuTime();
    long t0 = System.nanoTime();
    try (FileStateStore s = FileStateStore.open(dir); var l = s.lock(Duration.ofSeconds(30))) {
      s.load();
      body.accept(s);
    }
    long t1 = System.nanoTime();
    System.out.printf("%-10s wall %6d ms, thread CPU %6d ms, allocated %7.1f MB%n", name, (t1 - t0) / 1_000_000,
        (MX.getCurrentThreadCpuTime() - c0) / 1_000_000, (MX.getCurrentThreadAllocatedBytes() - a0) / 1e6);
  }

  /** Entry point: {@code DIR [N]} (N defaults to 10,000). */
  public static void main(String[] args) {
    if (args.length < 1) {
      throw new IllegalArgumentException("usage: StoreCost DIR [N]");
    }
    int n = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
    List<Resource> rs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      rs.add(Resource.of(ResourceKey.of("mem", "widget", "team-" + (i % 50), String.format("w-%06d", i)), document(i, 0)));
    }
    for (int round = 0; round < 2; round++) {
      Path dir = Path.of(args[0]).resolve("r" + round);
      if (round == 1) {
        System.out.println("-- second round (warm JIT)");
      }
      phase("first", dir, s -> {
        StoreBatch.Builder p = StoreBatch.builder();
        rs.forEach(p::pending);
        s.writeBatch(p.build());
        StoreBatch.Builder a = StoreBatch.builder();
        rs.forEach(r -> a.applied(r, "r1"));
        s.writeBatch(a.build());
        s.recordRevisions("r1", "r1");
        s.appendHistory(new HistoryEntry("h1", Instant.now(), "r1", "p1", SyncResult.Status.SUCCEEDED, Map.of(), "m"));
      });
      phase("noChange", dir, s -> { });
      Resource changed = Resource.of(rs.get(n / 2).key(), document(n / 2, 1));
      phase("oneChange", dir, s -> {
        s.writeBatch(StoreBatch.builder().pending(changed).build());
        s.writeBatch(StoreBatch.builder().applied(changed, "r2").build());
        s.recordRevisions("r2", "r2");
        s.appendHistory(new HistoryEntry("h2", Instant.now(), "r2", "p2", SyncResult.Status.SUCCEEDED, Map.of(), "m"));
      });
      phase("noChange2", dir, s -> { });
    }
  }
}
