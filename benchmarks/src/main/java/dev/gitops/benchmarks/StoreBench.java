package dev.gitops.benchmarks;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.HistoryEntry;
import dev.gitops.api.spi.StateStore;
import dev.gitops.api.spi.StoreLock;
import dev.gitops.api.spi.StoredResource;
import dev.gitops.api.spi.StoredState;
import dev.gitops.core.Reconciler;
import dev.gitops.core.store.BatchedStateStore;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.core.store.InMemoryStateStore;
import dev.gitops.core.store.StoreBatch;
import dev.gitops.testkit.ForwardingProvider;
import dev.gitops.testkit.InMemoryProvider;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * S1: the state store's cost in syncs through the {@link Reconciler} into an in-memory provider
 * that takes batches (as the local-files provider does), in one JVM: a first sync of N creates
 * (default 10,000 documents of ~1 KB), then, each with a new store object as a new process would
 * open it, a sync with no change and a sync with one changed document. Store time is the time
 * spent inside store calls, the lock and its release included (where the journal is folded into
 * the snapshot once it outgrows its bound); the first sync over an in-memory store (the engine
 * alone) is reported beside it. The store's at-rest bytes (snapshot and journal) are reported too.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.gitops.benchmarks.StoreBench [--n 10000] [--dir /tmp] [--out s1.json]
 * </pre>
 */
public final class StoreBench {

  private StoreBench() {}

  /** Entry point. */
  public static void main(String[] args) throws IOException {
    int n = 10_000;
    Path base = Path.of(System.getProperty("java.io.tmpdir"));
    Path out = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--n" -> n = Integer.parseInt(args[++i]);
        case "--dir" -> base = Path.of(args[++i]);
        case "--out" -> out = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]
            + " (want --n N, --dir DIR, --out FILE)");
      }
    }
    Path scratch = Files.createTempDirectory(base, "storebench");
    try {
      // warm the JIT on every path first
      run(false, 300, scratch.resolve("warm-memory"));
      run(true, 300, scratch.resolve("warm-file"));
      Row memory = run(false, n, scratch.resolve("memory"));
      Row file = run(true, n, scratch.resolve("file"));
      String json = String.format(Locale.ROOT, "{\"n\": %d, \"syncMs\": {\"memoryStore\": %d, \"firstSync\": %d,"
          + " \"noChange\": %d, \"oneChange\": %d}, \"storeMs\": {\"firstSync\": %d, \"noChange\": %d,"
          + " \"oneChange\": %d}, \"storeCalls\": {\"firstSync\": %d}, \"atRestBytes\": {\"snapshot\": %d,"
          + " \"journal\": %d}, \"command\": \"java -cp benchmarks/target/benchmarks.jar"
          + " dev.gitops.benchmarks.StoreBench --n %d\"}%n", n, memory.first.syncMs, file.first.syncMs,
          file.noChange.syncMs, file.oneChange.syncMs, file.first.storeMs, file.noChange.storeMs,
          file.oneChange.storeMs, file.first.calls, file.snapshotBytes, file.journalBytes, n);
      System.out.printf(Locale.ROOT, "S1 store, %d changes: first sync %d ms in the store (sync %d ms; in-memory"
          + " store sync %d ms); no-change sync %d ms in the store (sync %d ms); one-change sync %d ms in the store"
          + " (sync %d ms); at rest: snapshot %d bytes, journal %d bytes%n", n, file.first.storeMs,
          file.first.syncMs, memory.first.syncMs, file.noChange.storeMs, file.noChange.syncMs,
          file.oneChange.storeMs, file.oneChange.syncMs, file.snapshotBytes, file.journalBytes);
      if (out != null) {
        Files.writeString(out, json, StandardCharsets.UTF_8);
      } else {
        System.out.print(json);
      }
    } finally {
      deleteTree(scratch);
    }
  }

  private record Timing(long syncMs, long storeMs, long calls) {}

  private record Row(Timing first, Timing noChange, Timing oneChange, long snapshotBytes, long journalBytes) {}

  private static Row run(boolean fileStore, int n, Path dir) throws IOException {
    List<Resource> resources = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      resources.add(Resource.of(ResourceKey.of("mem", "widget", "team-" + (i % 50), String.format("w-%06d", i)),
          document(i)));
    }
    InMemoryProvider mem = InMemoryProvider.builder().id("mem").build();
    // the provider takes a ready set as one batch, as the local-files provider does
    ForwardingProvider provider = new ForwardingProvider(mem) {
      @Override
      public boolean prefersBatches() {
        return true;
      }
    };
    InMemoryStateStore memoryStore = new InMemoryStateStore();
    Timing first = sync(fileStore, dir, memoryStore, provider, State.of("r1", resources));
    if (!fileStore) {
      return new Row(first, null, null, 0, 0);
    }
    Timing noChange = sync(true, dir, memoryStore, provider, State.of("r1", resources));
    List<Resource> changed = new ArrayList<>(resources);
    changed.set(n / 2, Resource.of(resources.get(n / 2).key(), document(n + 1)));
    Timing oneChange = sync(true, dir, memoryStore, provider, State.of("r2", changed));
    Path snapshot = dir.resolve("snapshot");
    Path journal = dir.resolve("journal");
    return new Row(first, noChange, oneChange, Files.exists(snapshot) ? Files.size(snapshot) : 0,
        Files.exists(journal) ? Files.size(journal) : 0);
  }

  /** One sync through a new reconciler and, for the file store, a new store object (as a new process). */
  private static Timing sync(boolean fileStore, Path dir, InMemoryStateStore memoryStore, ForwardingProvider provider,
      State desired) {
    TimedStore store = fileStore ? new TimedStore(FileStateStore.open(dir)) : null;
    try (Reconciler r = Reconciler.builder().desiredState(desired).provider(provider)
        .store(store != null ? store : memoryStore).build()) {
      long t0 = System.nanoTime();
      SyncResult result = r.sync();
      long syncMs = (System.nanoTime() - t0) / 1_000_000;
      if (!result.isSuccessful()) {
        throw new IllegalStateException("sync of " + desired.revision() + " failed: " + result.failures());
      }
      return new Timing(syncMs, store == null ? 0 : store.nanos / 1_000_000, store == null ? 0 : store.calls);
    }
  }

  /** About 1 KB of JSON. */
  private static ObjectNode document(int i) {
    ObjectNode d = JsonNodeFactory.instance.objectNode();
    ObjectNode spec = d.putObject("spec");
    spec.put("replicas", 2 + i % 3);
    spec.put("image", "registry.example.com/team-" + (i % 50) + "/svc-" + i + ":1.0.0");
    ObjectNode labels = spec.putObject("labels");
    for (int l = 0; l < 8; l++) {
      labels.put("label-" + l, "value-" + l + "-" + "x".repeat(40));
    }
    spec.put("notes", "n".repeat(300));
    return d;
  }

  /** Times every store call, the lock's release included (where the journal is compacted). */
  private static final class TimedStore implements BatchedStateStore {
    private final FileStateStore delegate;
    long nanos;
    long calls;

    TimedStore(FileStateStore delegate) {
      this.delegate = delegate;
    }

    private <T> T timed(java.util.function.Supplier<T> call) {
      long t0 = System.nanoTime();
      try {
        return call.get();
      } finally {
        synchronized (this) {
          nanos += System.nanoTime() - t0;
          calls++;
        }
      }
    }

    private void timedRun(Runnable call) {
      timed(() -> {
        call.run();
        return null;
      });
    }

    @Override
    public StoreLock lock(Duration timeout) {
      StoreLock l = timed(() -> delegate.lock(timeout));
      return () -> timedRun(l::close);
    }

    @Override
    public StoredState load() {
      return timed(delegate::load);
    }

    @Override
    public void writePending(Resource desired) {
      timedRun(() -> delegate.writePending(desired));
    }

    @Override
    public StoredResource commit(Resource lastApplied, String revision) {
      return timed(() -> delegate.commit(lastApplied, revision));
    }

    @Override
    public void clearPending(ResourceKey key) {
      timedRun(() -> delegate.clearPending(key));
    }

    @Override
    public void forget(ResourceKey key) {
      timedRun(() -> delegate.forget(key));
    }

    @Override
    public void recordRevisions(String attempted, String applied) {
      timedRun(() -> delegate.recordRevisions(attempted, applied));
    }

    @Override
    public void appendHistory(HistoryEntry entry) {
      timedRun(() -> delegate.appendHistory(entry));
    }

    @Override
    public List<HistoryEntry> history() {
      return timed(delegate::history);
    }

    @Override
    public byte[] secretKey() {
      return timed(delegate::secretKey);
    }

    @Override
    public java.util.Optional<String> owner() {
      return timed(delegate::owner);
    }

    @Override
    public void claimOwner(String owner) {
      timedRun(() -> delegate.claimOwner(owner));
    }

    @Override
    public List<StoredResource> writeBatch(StoreBatch batch) {
      return timed(() -> delegate.writeBatch(batch));
    }

    @Override
    public void close() {
      delegate.close();
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
