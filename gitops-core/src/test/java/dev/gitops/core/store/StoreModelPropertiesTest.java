package dev.gitops.core.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Documents;
import dev.gitops.api.ManagementPolicy;
import dev.gitops.api.Origin;
import dev.gitops.api.PathPattern;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.HistoryEntry;
import dev.gitops.api.spi.StateStore;
import dev.gitops.api.spi.StoreLock;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Any sequence of store operations, written through a {@link FileStateStore} (reopened at random
 * points, as separate processes would, or left without compacting its journal, as a process
 * killed at the end of a sync would) and then read back by a new store object, gives exactly the
 * state of an {@link InMemoryStateStore} that saw the same operations. Batches go through the
 * journal and single writes are interleaved with them.
 */
class StoreModelPropertiesTest {

  private static final List<ResourceKey> KEYS = List.of(
      ResourceKey.of("files", "file", "", "conf/app.yaml"),
      ResourceKey.of("k8s", "apps/Deployment", "prod", "Web"),
      ResourceKey.of("k8s", "apps/Deployment", "prod", "web"),
      ResourceKey.of("tf", "managed/aws_s3_bucket", "module.a:b", "logs[0]"),
      ResourceKey.of("files", "file", "", "deep/" + "n".repeat(300)));
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final int HISTORY_LIMIT = 3;

  /** One operation on a store. */
  sealed interface Op permits WritePending, Commit, ClearPending, Forget, Revisions, History, Reopen, Batch, Crash, Downgrade {
    void apply(StateStore store);
  }

  record WritePending(Resource r) implements Op {
    public void apply(StateStore s) {
      s.writePending(r);
    }
  }

  record Commit(Resource r, String revision) implements Op {
    public void apply(StateStore s) {
      s.commit(r, revision);
    }
  }

  record ClearPending(ResourceKey key) implements Op {
    public void apply(StateStore s) {
      s.clearPending(key);
    }
  }

  record Forget(ResourceKey key) implements Op {
    public void apply(StateStore s) {
      s.forget(key);
    }
  }

  record Revisions(String attempted, String applied) implements Op {
    public void apply(StateStore s) {
      s.recordRevisions(attempted, applied);
    }
  }

  record History(HistoryEntry entry) implements Op {
    public void apply(StateStore s) {
      s.appendHistory(entry);
    }
  }

  /** Key writes as one {@link StoreBatch} (the model takes them one by one). */
  record Batch(List<Op> ops) implements Op {
    public void apply(StateStore s) {
      if (!(s instanceof FileStateStore file)) {
        ops.forEach(op -> op.apply(s));
        return;
      }
      StoreBatch.Builder b = StoreBatch.builder();
      for (Op op : ops) {
        if (op instanceof WritePending w) {
          b.pending(w.r());
        } else if (op instanceof Commit c) {
          b.applied(c.r(), c.revision());
        } else if (op instanceof ClearPending c) {
          b.add(new StoreBatch.ClearPending(c.key()));
        } else if (op instanceof Forget f) {
          b.forget(f.key());
        }
      }
      file.writeBatch(b.build());
    }
  }

  /** Like {@link Reopen}, but the process dies before the lock's release compacts the journal. */
  record Crash() implements Op {
    public void apply(StateStore s) {
      // the model has nothing to crash; the property handles the file store
    }
  }

  /** Like {@link Reopen}, with the store rewritten as format 1 in between: the next lock migrates it. */
  record Downgrade() implements Op {
    public void apply(StateStore s) {
      // the model has no format; the property handles the file store
    }
  }

  /** Closes the file store and opens a new object on the same directory (a new process). */
  record Reopen() implements Op {
    public void apply(StateStore s) {
      // the model has nothing to reopen; the property handles the file store
    }
  }

  @Property(tries = 300)
  void reopenedFileStoreEqualsTheModel(@ForAll("operations") List<Op> ops) throws IOException {
    Path tmp = Files.createTempDirectory("store-model");
    try {
      Path dir = tmp.resolve("store");
      boolean[] dying = {false};
      FileStateStore.Options options = FileStateStore.Options.defaults().withHistoryLimit(HISTORY_LIMIT)
          .withCompactionBytes(0)
          .withWriteListener(new FileStateStore.WriteListener() {
            @Override
            public void onWrite(Path file, boolean after) { }

            @Override
            public void onJournal(FileStateStore.JournalPoint point, Path journal) {
              if (dying[0] && point == FileStateStore.JournalPoint.COMPACTION_STARTED) {
                throw new IllegalStateException("killed before compaction");
              }
            }
          });
      InMemoryStateStore model = new InMemoryStateStore(HISTORY_LIMIT);
      StoreLock modelLock = model.lock(TIMEOUT);
      FileStateStore file = FileStateStore.open(dir, options);
      StoreLock fileLock = file.lock(TIMEOUT);
      for (Op op : ops) {
        if (op instanceof Reopen || op instanceof Crash || op instanceof Downgrade) {
          dying[0] = op instanceof Crash;
          fileLock.close();
          dying[0] = false;
          file.close();
          if (op instanceof Downgrade) {
            LegacyStores.downgrade(dir);
          }
          file = FileStateStore.open(dir, options);
          fileLock = file.lock(TIMEOUT);
        } else {
          op.apply(model);
          op.apply(file);
        }
      }
      fileLock.close();
      file.close();
      modelLock.close();
      try (FileStateStore again = FileStateStore.open(dir, options)) {
        assertThat(again.load()).isEqualTo(model.load());
        assertThat(again.history()).isEqualTo(model.history());
      }
    } finally {
      try (Stream<Path> walk = Files.walk(tmp)) {
        walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Provide
  Arbitrary<List<Op>> operations() {
    Arbitrary<ResourceKey> key = Arbitraries.of(KEYS);
    Arbitrary<String> revision = Arbitraries.of("", "main@sha1:aaaa", "main@sha1:bbbb", "v1.2.3@sha1:cccc");
    Arbitrary<Op> op = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(4, resources(key).map(WritePending::new)),
        net.jqwik.api.Tuple.of(4, Combinators.combine(resources(key), revision).as(Commit::new)),
        net.jqwik.api.Tuple.of(2, key.map(ClearPending::new)),
        net.jqwik.api.Tuple.of(2, key.map(Forget::new)),
        net.jqwik.api.Tuple.of(1, Combinators.combine(revision, revision.injectNull(0.4)).as(Revisions::new)),
        net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(0, 1000).map(i -> new History(entry(i)))),
        net.jqwik.api.Tuple.of(1, Arbitraries.just(new Reopen())),
        net.jqwik.api.Tuple.of(1, Arbitraries.just(new Crash())),
        net.jqwik.api.Tuple.of(1, Arbitraries.just(new Downgrade())));
    Arbitrary<Op> keyWrite = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(4, resources(key).map(WritePending::new)),
        net.jqwik.api.Tuple.of(4, Combinators.combine(resources(key), revision).as(Commit::new)),
        net.jqwik.api.Tuple.of(1, key.map(ClearPending::new)),
        net.jqwik.api.Tuple.of(1, key.map(Forget::new)));
    Arbitrary<Op> batch = keyWrite.list().ofMinSize(1).ofMaxSize(6).map(Batch::new);
    op = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(5, op), net.jqwik.api.Tuple.of(2, batch));
    return op.list().ofMaxSize(20);
  }

  private static HistoryEntry entry(int i) {
    return new HistoryEntry("h" + i, Instant.ofEpochSecond(1_700_000_000L + i, i * 1000L), "main@sha1:" + i, "p" + i,
        i % 3 == 0 ? SyncResult.Status.FAILED : SyncResult.Status.SUCCEEDED, i % 2 == 0 ? Map.of() : Map.of("created", i, "updated", 1), "msg " + i);
  }

  private Arbitrary<Resource> resources(Arbitrary<ResourceKey> key) {
    Arbitrary<Origin> origin = Combinators.combine(Arbitraries.of("", "a.yaml", "dir/b c.json"),
        Arbitraries.integers().between(0, 500), Arbitraries.of("", "main@sha1:dddd")).as(Origin::new);
    Arbitrary<ManagementPolicy> policy = Arbitraries.of(ManagementPolicy.ALL, ManagementPolicy.PAUSED,
        ManagementPolicy.NO_PRUNE, ManagementPolicy.CREATE_ONLY, ManagementPolicy.parse("observe,update"));
    Arbitrary<Set<PathPattern>> sensitive = Arbitraries.of("/data/*", "/spec/**/password", "/")
        .map(PathPattern::of).set().ofMaxSize(2);
    Arbitrary<Set<ResourceKey>> deps = Arbitraries.of(KEYS).set().ofMaxSize(2);
    return Combinators.combine(key, json(2), origin, deps, Arbitraries.integers().between(-3, 3), policy, sensitive)
        .as((k, doc, o, d, wave, p, s) -> Resource.builder(k).document(doc).origin(o)
            .dependsOn(d.stream().filter(x -> !x.equals(k)).toList()).wave(wave).policy(p).sensitive(s).build());
  }

  private Arbitrary<JsonNode> json(int depth) {
    Arbitrary<JsonNode> scalar = Arbitraries.oneOf(
        Arbitraries.strings().withCharRange(' ', '~').withChars('é', '\n', '"', '\\', '\u2603').ofMaxLength(8)
            .map(s -> Documents.nodes().textNode(s)),
        Arbitraries.longs().map(l -> Documents.nodes().numberNode(l)),
        Arbitraries.doubles().between(-1e9, 1e9).map(d -> Documents.nodes().numberNode(d)),
        Arbitraries.bigDecimals().between(new BigDecimal("-1e30"), new BigDecimal("1e30")).ofScale(25)
            .map(d -> Documents.nodes().numberNode(d)),
        Arbitraries.of(true, false).map(b -> Documents.nodes().booleanNode(b)),
        Arbitraries.just(Documents.nodes().nullNode()));
    if (depth == 0) {
      return scalar;
    }
    Arbitrary<JsonNode> kid = json(depth - 1);
    Arbitrary<JsonNode> object = Arbitraries.maps(Arbitraries.strings().alpha().ofMaxLength(4), kid).ofMaxSize(4)
        .map(m -> Documents.object(new LinkedHashMap<>(m)));
    Arbitrary<JsonNode> array = kid.list().ofMaxSize(3).map(Documents::array);
    return depth == 2 ? object : Arbitraries.oneOf(scalar, object, array);
  }
}
