package dev.gitops.core.internal.plan;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The id a planner computes with its remembered change digests (found by a change's place in the
 * last plan, else by its key) equals the id computed from scratch, whatever moved between plans.
 */
class ChangeDigestsTest {

  private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

  private static ResourceKey key(int i) {
    return ResourceKey.of("p", "t", String.format("k%04d", i));
  }

  private static Resource resource(int i, int version, String revision) {
    ObjectNode doc = Documents.nodes().objectNode();
    doc.put("name", "k" + i);
    doc.put("version", version);
    return new Resource(key(i), Documents.freeze(doc), new Origin("res/f" + i + ".yaml", 1, revision), new TreeSet<>(),
        0, ManagementPolicy.ALL, Set.of());
  }

  private static Plan plan(List<Change> changes, String revision, SortedMap<ResourceKey, String> fingerprints,
      SortedMap<ResourceKey, SortedSet<ResourceKey>> deps) {
    return new Plan("", revision, changes, deps, new TreeMap<>(), new TreeMap<>(), fingerprints, new TreeSet<>());
  }

  @Test
  void theRememberedIdEqualsTheIdFromScratchAcrossRandomEditsInsertsRemovalsAndMoves() {
    for (long seed = 0; seed < 30; seed++) {
      Random random = new Random(seed);
      PlanFiles.ChangeDigests remembered = new PlanFiles.ChangeDigests();
      // per key present: its document version and fingerprint
      TreeMap<Integer, Integer> versions = new TreeMap<>();
      for (int i = 0; i < 40; i++) {
        versions.put(i * 2, 0);
      }
      for (int s = 0; s < 25; s++) {
        int step = s;
        String revision = "main@sha1:" + String.format("%040d", step % 3 == 0 ? 0 : step);
        int edits = random.nextInt(4);
        for (int e = 0; e < edits; e++) {
          switch (random.nextInt(4)) {
            case 0 -> versions.put(random.nextInt(100), random.nextInt(3));  // a key added (or edited)
            case 1 -> {
              if (!versions.isEmpty()) {
                versions.remove(new ArrayList<>(versions.keySet()).get(random.nextInt(versions.size())));
              }
            }
            default -> {
              if (!versions.isEmpty()) {
                Integer k = new ArrayList<>(versions.keySet()).get(random.nextInt(versions.size()));
                versions.put(k, versions.get(k) + 1);
              }
            }
          }
        }
        List<Change> changes = new ArrayList<>();
        SortedMap<ResourceKey, String> fingerprints = new TreeMap<>();
        SortedMap<ResourceKey, SortedSet<ResourceKey>> deps = new TreeMap<>();
        versions.forEach((k, v) -> {
          Resource r = resource(k, v, revision);
          changes.add(Change.noop(r, r.document(), "in sync"));
          fingerprints.put(key(k), "fp" + (v % 2));
          if (k % 7 == 0 && step % 2 == 0) {
            deps.put(key(k), new TreeSet<>(Set.of(key(k + 1))));
          }
        });
        if (random.nextBoolean()) {
          Collections.shuffle(changes, random);  // another order (as a dependency order moves them)
        }
        Plan p = plan(changes, revision, fingerprints, deps);
        String incremental = PlanFiles.id(p, SECRET, (key, field, doc) -> Documents.digest(doc), remembered);
        assertThat(incremental).as("seed %d, step %d", seed, s).isEqualTo(PlanFiles.id(p, SECRET));
        // the same plan again, every change found by its place
        assertThat(PlanFiles.id(p, SECRET, (key, field, doc) -> Documents.digest(doc), remembered))
            .isEqualTo(incremental);
      }
    }
  }

  @Test
  void leavesDigestedInParallelGiveTheIdOfLeavesDigestedOneAfterAnother() {
    Random random = new Random(11);
    String rev = "main@sha1:" + "2".repeat(40);
    for (int round = 0; round < 6; round++) {
      // creates with their content in the patch and the fields, noops, and dependencies: every part of a leaf
      List<Change> changes = new ArrayList<>();
      SortedMap<ResourceKey, String> fps = new TreeMap<>();
      SortedMap<ResourceKey, SortedSet<ResourceKey>> deps = new TreeMap<>();
      int n = 300 + random.nextInt(1500);
      for (int i = 0; i < n; i++) {
        Resource r = resource(i, random.nextInt(5), rev);
        changes.add(random.nextInt(3) == 0 ? Change.noop(r, r.document(), "in sync")
            : Change.create(r, "not in the live system").toBuilder().target(r.document())
                .patch(List.of(dev.gitops.api.PatchOp.add("", r.document())))
                .fields(List.of(new dev.gitops.api.FieldChange(dev.gitops.api.FieldPath.of("version"), null,
                    r.document().get("version"), false))).build());
        fps.put(key(i), "fp" + random.nextInt(3));
        if (i > 0 && random.nextInt(5) == 0) {
          deps.put(key(i), new TreeSet<>(Set.of(key(random.nextInt(i)))));
        }
      }
      Collections.shuffle(changes, random);
      Plan p = plan(changes, rev, fps, deps);
      PlanFiles.DocumentDigests plain = (k, f, d) -> Documents.digest(d);
      String oneByOne = PlanFiles.id(p, SECRET, plain, null, Integer.MAX_VALUE);
      assertThat(PlanFiles.id(p, SECRET, plain, null, 1)).as("round %d, %d changes", round, n).isEqualTo(oneByOne);
      // some leaves remembered from a plan of part of the changes, the rest digested in parallel
      PlanFiles.ChangeDigests remembered = new PlanFiles.ChangeDigests();
      List<Change> part = new ArrayList<>(changes.subList(0, n / 2));
      part.sort(java.util.Comparator.comparing(Change::key));
      PlanFiles.id(plan(part, rev, fps, deps), SECRET, plain, remembered, 1);
      assertThat(PlanFiles.id(p, SECRET, plain, remembered, 1)).isEqualTo(oneByOne);
      assertThat(PlanFiles.id(p, SECRET, plain, remembered, 1)).isEqualTo(oneByOne);
      assertThat(PlanFiles.id(p, SECRET)).isEqualTo(oneByOne);
    }
  }

  @Test
  void aChangeThatMovedToAnotherPlaceIsFoundByItsKeyAndAnEditedOneIsDigestedAgain() {
    PlanFiles.ChangeDigests remembered = new PlanFiles.ChangeDigests();
    String rev = "main@sha1:" + "1".repeat(40);
    List<Change> first = new ArrayList<>();
    SortedMap<ResourceKey, String> fps = new TreeMap<>();
    for (int i = 1; i <= 5; i++) {
      Resource r = resource(i, 0, rev);
      first.add(Change.noop(r, r.document(), "in sync"));
      fps.put(key(i), "fp");
    }
    PlanFiles.id(plan(first, rev, fps, new TreeMap<>()), SECRET, (k, f, d) -> Documents.digest(d), remembered);
    // a key in front moves every change one place on; one change's document is edited at its new place
    List<Change> second = new ArrayList<>();
    SortedMap<ResourceKey, String> fps2 = new TreeMap<>(fps);
    Resource front = resource(0, 0, rev);
    second.add(Change.noop(front, front.document(), "in sync"));
    fps2.put(key(0), "fp");
    for (int i = 1; i <= 5; i++) {
      Resource r = resource(i, i == 3 ? 1 : 0, rev);
      second.add(Change.noop(r, r.document(), "in sync"));
    }
    Plan p2 = plan(second, rev, fps2, new TreeMap<>());
    assertThat(PlanFiles.id(p2, SECRET, (k, f, d) -> Documents.digest(d), remembered)).isEqualTo(PlanFiles.id(p2, SECRET));
  }
}
