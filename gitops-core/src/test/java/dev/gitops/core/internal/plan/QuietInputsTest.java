package dev.gitops.core.internal.plan;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.ManagementPolicy;
import dev.gitops.api.Origin;
import dev.gitops.api.Plan;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * {@link PlanFiles#quietInputs} over plans of several chunks: the digest of equal plans is equal
 * (digested in parallel or not), and it moves with any one change's inputs, wherever the change
 * stands, and with the order of the changes across a chunk's edge.
 */
class QuietInputsTest {

  private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  /** Three chunks, the last one short. */
  private static final int N = 2 * PlanFiles.QUIET_CHUNK + 300;

  private static ResourceKey key(int i) {
    return ResourceKey.of("p", "t", String.format("k%05d", i));
  }

  private static Resource resource(int i, String revision) {
    ObjectNode doc = Documents.nodes().objectNode();
    doc.put("name", "k" + i);
    return new Resource(key(i), Documents.freeze(doc), new Origin("res/f" + i + ".yaml", 1, revision), new TreeSet<>(),
        0, ManagementPolicy.ALL, Set.of());
  }

  private static Change noop(Resource r, String reason) {
    return Change.builder(r.key(), Action.NOOP).desired(r).live(r.document()).target(r.document()).reason(reason)
        .build();
  }

  /** The plan of {@code resources}' plain NOOPs in the given order, and its inputs' digest. */
  private static String inputs(List<Resource> resources, Map<ResourceKey, String> reasons,
      Map<ResourceKey, String> fingerprintEdits, Function<Resource, String> documentDigest) {
    List<Change> changes = new ArrayList<>();
    SortedMap<ResourceKey, String> fingerprints = new TreeMap<>();
    Map<ResourceKey, Resource> desired = new HashMap<>();
    for (Resource r : resources) {
      changes.add(noop(r, reasons.getOrDefault(r.key(), "in sync")));
      fingerprints.put(r.key(), fingerprintEdits.getOrDefault(r.key(), "f-" + r.key().name()));
      desired.put(r.key(), r);
    }
    Plan plan = new Plan("", "main@sha1:" + "1".repeat(40), changes, new TreeMap<>(), new TreeMap<>(), new TreeMap<>(),
        fingerprints, new TreeSet<>());
    return PlanFiles.quietInputs(plan, SECRET, desired, documentDigest);
  }

  private static String digestOf(Resource r) {
    return Documents.digest(r.document());
  }

  @Test
  void equalPlansDigestEqualAndAnyOneInputMovesTheDigest() {
    List<Resource> resources = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      resources.add(resource(i, "main@sha1:" + "1".repeat(40)));
    }
    String base = inputs(resources, Map.of(), Map.of(), QuietInputsTest::digestOf);
    assertThat(base).hasSize(64);
    assertThat(inputs(new ArrayList<>(resources), Map.of(), Map.of(), QuietInputsTest::digestOf)).isEqualTo(base);

    List<String> moved = new ArrayList<>();
    // one change in each chunk, and the first and last of all
    for (int at : new int[] {0, PlanFiles.QUIET_CHUNK - 1, PlanFiles.QUIET_CHUNK, PlanFiles.QUIET_CHUNK + 517, N - 1}) {
      ResourceKey k = key(at);
      moved.add(inputs(resources, Map.of(k, "in sync, again"), Map.of(), QuietInputsTest::digestOf));
      moved.add(inputs(resources, Map.of(), Map.of(k, "other"), QuietInputsTest::digestOf));
      moved.add(inputs(resources, Map.of(), Map.of(), r -> r.key().equals(k) ? "0".repeat(64) : digestOf(r)));
    }
    // the two changes at a chunk's edge swapped: each chunk holds other changes
    List<Resource> swapped = new ArrayList<>(resources);
    Collections.swap(swapped, PlanFiles.QUIET_CHUNK - 1, PlanFiles.QUIET_CHUNK);
    moved.add(inputs(swapped, Map.of(), Map.of(), QuietInputsTest::digestOf));
    // one change fewer: the last chunk shorter
    moved.add(inputs(resources.subList(0, N - 1), Map.of(), Map.of(), QuietInputsTest::digestOf));

    assertThat(moved).doesNotContain(base).doesNotHaveDuplicates();
  }

  @Test
  void aChangeThatIsNotAPlainNoopHasNoInputs() {
    List<Resource> resources = new ArrayList<>();
    for (int i = 0; i < PlanFiles.QUIET_CHUNK + 1; i++) {
      resources.add(resource(i, "r"));
    }
    Map<ResourceKey, Resource> desired = new HashMap<>();
    List<Change> changes = new ArrayList<>();
    for (Resource r : resources) {
      desired.put(r.key(), r);
      changes.add(changes.size() == PlanFiles.QUIET_CHUNK
          ? Change.builder(r.key(), Action.UPDATE).desired(r).live(r.document()).target(r.document())
              .reason("drifted").build()
          : noop(r, "in sync"));
    }
    Plan plan = new Plan("", "r", changes, new TreeMap<>(), new TreeMap<>(), new TreeMap<>(), new TreeMap<>(),
        new TreeSet<>());
    assertThat(PlanFiles.quietInputs(plan, SECRET, desired, QuietInputsTest::digestOf)).isNull();
  }
}
