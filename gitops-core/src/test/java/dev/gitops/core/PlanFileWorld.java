package dev.gitops.core;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Documents;
import dev.gitops.api.PathPattern;
import dev.gitops.api.Plan;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.spi.StateStore;
import dev.gitops.core.plan.PlanCodec;
import dev.gitops.core.store.FileStateStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * One fixed world for plan-file tests, built the same way in this JVM and in child JVMs: a synced
 * first revision, then a second one that updates {@code a} (secrets, an exact decimal, a huge
 * double, drift) and {@code c}, keeps {@code b} and removes {@code gone}. {@code reversed} builds the
 * sets and the unchanging documents in the opposite insertion order, which must not change a byte
 * of the plan file.
 *
 * <p>As a main class: {@code PlanFileWorld <store template> <work dir> <forward|reversed>} prints
 * the plan file of the second revision.
 */
final class PlanFileWorld {
  static final ResourceKey A = ResourceKey.of("m", "thing", "", "a");
  static final ResourceKey B = ResourceKey.of("m", "thing", "", "b");
  static final ResourceKey C = ResourceKey.of("m", "thing", "", "c");
  static final ResourceKey GONE = ResourceKey.of("m", "thing", "", "gone");

  final MapProvider provider = new MapProvider("m", false);
  final AtomicReference<State> desired = new AtomicReference<>();
  final StateStore store;
  final Reconciler reconciler;
  private final boolean reversed;

  PlanFileWorld(StateStore store, boolean reversed) {
    this.store = store;
    this.reversed = reversed;
    this.reconciler = Reconciler.builder().source(dev.gitops.api.spi.Source.of(desired::get)).provider(provider)
        .store(store).owner("me").build();
    desired.set(State.of("r1", List.of(
        resource(A, doc("x", num(1), "password", text("hunter2"), "token", text("t0k3n"))),
        resource(B, shuffled("y", text("same"), "w", num(1), "v", Documents.nodes().numberNode(1e20))),
        resource(C, doc("n", num(1), "m", text("kept"))),
        resource(GONE, shuffled("z", num(0), "q", text("gone"))))));
    if (!reconciler.sync().isSuccessful()) {
      throw new IllegalStateException("the first revision did not sync");
    }
    // Out-of-band drift on a, then revision 2.
    provider.put(A, doc("x", num(5), "password", text("hunter2"), "token", text("t0k3n")));
    desired.set(State.of("r2", List.of(
        resource(A, doc("x", num(2), "password", text("hunter3"), "token", text("t0k3n"),
            "pi", Documents.nodes().numberNode(new BigDecimal("3.14159265358979323846")),
            "huge", Documents.nodes().numberNode(1e20))),
        resource(B, shuffled("y", text("same"), "w", num(1), "v", Documents.nodes().numberNode(1e20))),
        resource(C, doc("n", num(2), "m", text("kept"))))));
  }

  Resource resource(ResourceKey key, JsonNode doc) {
    List<PathPattern> secret = new ArrayList<>(List.of(PathPattern.of("/password"), PathPattern.of("/token"),
        PathPattern.of("/apiKey")));
    if (reversed) {
      java.util.Collections.reverse(secret);
    }
    return Resource.builder(key).document(doc).sensitive(Set.copyOf(new LinkedHashSet<>(secret))).build();
  }

  /** An object with the given fields in order. */
  static JsonNode doc(Object... kv) {
    return object(kv, false);
  }

  /**
   * An object with the given fields in order, or reversed: for documents that do not change
   * (their fields and patches are empty), so only the file's own key order can show it.
   */
  JsonNode shuffled(Object... kv) {
    return object(kv, reversed);
  }

  private static JsonNode object(Object[] kv, boolean reversed) {
    List<Map.Entry<String, JsonNode>> fields = new ArrayList<>();
    for (int i = 0; i < kv.length; i += 2) {
      fields.add(Map.entry((String) kv[i], (JsonNode) kv[i + 1]));
    }
    if (reversed) {
      java.util.Collections.reverse(fields);
    }
    Map<String, JsonNode> m = new LinkedHashMap<>();
    fields.forEach(e -> m.put(e.getKey(), e.getValue()));
    return Documents.object(m);
  }

  static JsonNode num(int n) {
    return Documents.nodes().numberNode(n);
  }

  static JsonNode text(String s) {
    return Documents.nodes().textNode(s);
  }

  /** The plan of the second revision, as a file. */
  String planFile() {
    Plan plan = reconciler.plan();
    return PlanCodec.toJson(plan, store.secretKey());
  }

  static void copyTree(Path from, Path to) {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        Path dest = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(dest);
        } else if (!p.getFileName().toString().equals("lock")) {
          Files.copy(p, dest);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static void main(String[] args) {
    Path work = Path.of(args[1]);
    copyTree(Path.of(args[0]), work.resolve("store"));
    try (FileStateStore store = FileStateStore.open(work.resolve("store"))) {
      System.out.print(new PlanFileWorld(store, args[2].equals("reversed")).planFile());
    }
  }
}
