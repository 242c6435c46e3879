package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Documents;
import dev.gitops.api.ManagementPolicy;
import dev.gitops.api.Origin;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.core.internal.plan.PlanOptions;
import dev.gitops.core.internal.plan.Planner;
import dev.gitops.core.source.Fingerprinted;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.core.store.StoreBatch;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link NoChangeFastPath#record} records the no-change marker only when the store's records are,
 * key for key, the desired resources: the same number of keys is not enough (a kept record of a key
 * Git dropped beside a desired key the store does not hold), wherever the two differ.
 */
class NoChangeFastPathRecordTest {

  private static final String BEFORE = "main@sha1:" + "1".repeat(40);
  private static final String NOW = "main@sha1:" + "2".repeat(40);

  @TempDir
  Path dir;

  private static Resource resource(String name, String revision) {
    return new Resource(ResourceKey.of("files", "file", name), Documents.object(Map.of("content",
        Documents.nodes().textNode(name))), new Origin(name, 1, revision), new TreeSet<>(), 0, ManagementPolicy.ALL,
        Set.of());
  }

  /**
   * Whether a marker is recorded for a desired state of {@code desired} over a store holding records
   * of {@code stored}, once for a state decoded in full and once for one read since the marker that
   * decoded none of its keys (each taken from its record: not compared with it).
   */
  private boolean records(List<String> stored, List<String> desired) {
    boolean full = records(stored, desired, null);
    assertThat(records(stored, desired, Set.of())).as("read since the marker").isEqualTo(full);
    return full;
  }

  private boolean records(List<String> stored, List<String> desired, Set<ResourceKey> decoded) {
    try (FileStateStore store = FileStateStore.open(dir.resolve(String.join("-", stored) + "_" + String.join("-", desired)
        + (decoded == null ? "" : "_since")));
        var lock = store.lock(Duration.ofSeconds(5))) {
      StoreBatch.Builder batch = StoreBatch.builder();
      stored.forEach(n -> batch.applied(resource(n, BEFORE), BEFORE));
      store.writeBatch(batch.build());
      State state = State.of(NOW, desired.stream().map(n -> resource(n, NOW)).toList());
      NoChangeFastPath.Read read = new NoChangeFastPath.Read(state, new Fingerprinted.Resolved(NOW, "fingerprint"),
          false, decoded, decoded == null ? null : "fingerprint-before");
      boolean recorded = NoChangeFastPath.record(store, read, new Planner("me", PlanOptions.defaults()), null, false);
      assertThat(store.noChangeMarker().isPresent()).isEqualTo(recorded);
      return recorded;
    }
  }

  @Test
  void theMarkerIsRecordedWhenTheRecordsAreTheDesiredResourcesKeyForKey() {
    assertThat(records(List.of("a", "b", "c"), List.of("a", "b", "c"))).isTrue();
  }

  @Test
  void recordsOfOtherKeysInEqualNumberRecordNoMarker() {
    assertThat(records(List.of("a", "b", "c"), List.of("a", "b", "d"))).as("the last key differs").isFalse();
    assertThat(records(List.of("a", "b", "c"), List.of("0", "b", "c"))).as("the first key differs").isFalse();
    assertThat(records(List.of("a", "c", "e"), List.of("a", "b", "e"))).as("one in the middle").isFalse();
    assertThat(records(List.of("a", "b"), List.of("a", "b", "c"))).as("one key more").isFalse();
  }
}
