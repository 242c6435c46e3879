package dev.gitops.core.internal.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldPath;
import dev.gitops.api.ManagementPolicy;
import dev.gitops.api.Origin;
import dev.gitops.api.PatchOp;
import dev.gitops.api.PathPattern;
import dev.gitops.api.Plan;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * The plan id's short cut for plain changes ({@code PlanFiles.plainLeaf}, which feeds a change's
 * canonical JSON straight into the digest) gives the id the plan's file gives: a plan written with
 * that id and read back is accepted as unedited by the reviewed-plan check, which digests the
 * file's nodes. Texts are drawn from characters JSON escapes (quotes, backslashes, control
 * characters), the key's own escapes ({@code :} and {@code %}), non-ASCII ones and surrogates, so
 * both the short cut and its refusals (a text that needs an escape takes the general path) are
 * exercised.
 */
class PlanFilesPlainLeafTest {

  private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  private static final String[] PIECES = {"a", "b", "z", "0", "7", "-", "/", ".", " ", ":", "%", "é", "ü", "日",
      "\uD83D\uDE00", "\"", "\\", "\n", "\t", "\u0001", "\uD800", "[", "]", "="};
  private static final String[] PLAIN_PIECES = {"a", "b", "z", "0", "7", "-", "/", ".", " ", ":", "%", "é", "日",
      "\uD83D\uDE00", "[", "]", "="};
  private static final String REVISION = "main@sha1:" + "4".repeat(40);

  private static String text(Random random, boolean plain, int max) {
    String[] from = plain ? PLAIN_PIECES : PIECES;
    StringBuilder sb = new StringBuilder();
    int n = 1 + random.nextInt(max);
    for (int i = 0; i < n; i++) {
      sb.append(from[random.nextInt(from.length)]);
    }
    return sb.toString();
  }

  private static JsonNode document(Random random, boolean plain) {
    ObjectNode doc = Documents.nodes().objectNode();
    doc.put(text(random, plain, 4), text(random, plain, 6));
    doc.put("n", random.nextInt(1000) - 500);
    return Documents.freeze(doc);
  }

  /** A change that is plain when {@code plain} (its texts need no escape), of any action. */
  private static Change change(Random random, int i, boolean plain, SortedSet<ResourceKey> others) {
    ResourceKey key = ResourceKey.of("p" + (plain ? "" : text(random, false, 2)), "t", random.nextBoolean() ? ""
        : text(random, plain, 3), "k" + i + text(random, plain, 5));
    SortedSet<ResourceKey> dependsOn = new TreeSet<>();
    for (ResourceKey o : others) {
      if (random.nextInt(4) == 0) {
        dependsOn.add(o);
      }
    }
    Set<PathPattern> sensitive = random.nextInt(3) == 0 ? Set.of(PathPattern.of("/spec/" + (plain ? "secret" : "x\"y")))
        : Set.of();
    JsonNode doc = document(random, plain);
    Resource r = new Resource(key, doc, new Origin(text(random, plain, 8), random.nextInt(99),
        REVISION), dependsOn, random.nextInt(7) - 3, random.nextBoolean() ? ManagementPolicy.ALL
        : ManagementPolicy.NO_PRUNE, sensitive);
    Set<Change.Flag> flags = EnumSet.noneOf(Change.Flag.class);
    for (Change.Flag f : Change.Flag.values()) {
      if (random.nextInt(5) == 0) {
        flags.add(f);
      }
    }
    Set<FieldPath> unknown = random.nextInt(3) == 0 ? Set.of(FieldPath.of("spec", plain ? "late" : "la\\te"),
        FieldPath.of("status")) : Set.of();
    Action action = Action.values()[random.nextInt(Action.values().length)];
    return Change.builder(key, action).desired(r).live(random.nextBoolean() ? doc : document(random, plain))
        .target(random.nextBoolean() ? doc : document(random, plain)).reason(text(random, plain, 12)).flags(flags)
        .unknown(unknown).build();
  }

  /** Changes the short cut leaves to the general path whatever their texts. */
  private static Change notPlain(Random random, int i) {
    Change c = change(random, i, true, new TreeSet<>());
    return switch (random.nextInt(4)) {
      case 0 -> c.toBuilder().patch(List.of(PatchOp.replace("/n", Documents.nodes().numberNode(1)))).build();
      case 1 -> c.toBuilder().sensitive(Set.of(FieldPath.of("n"))).build();
      case 2 -> c.toBuilder().live(null).build();
      default -> Change.delete(c.resource(), c.live(), "removed from Git");
    };
  }

  @Property(tries = 200)
  void theShortCutGivesTheIdOfThePlansFile(@ForAll long seed) {
    Random random = new Random(seed);
    List<Change> changes = new ArrayList<>();
    TreeMap<ResourceKey, String> fingerprints = new TreeMap<>();
    TreeMap<ResourceKey, SortedSet<ResourceKey>> dependencies = new TreeMap<>();
    // the keys of the changes so far, and those whose text needs no escape (what a plain change depends on)
    TreeSet<ResourceKey> keys = new TreeSet<>();
    TreeSet<ResourceKey> plainKeys = new TreeSet<>();
    int plainOnes = 0;
    int n = 1 + random.nextInt(12);
    for (int i = 0; i < n; i++) {
      int kind = random.nextInt(4);
      Change c = kind == 3 ? notPlain(random, i) : change(random, i, kind != 2, kind == 2 ? keys : plainKeys);
      changes.add(c);
      keys.add(c.key());
      if (kind != 2) {
        plainKeys.add(c.key());
      }
      if (random.nextBoolean()) {
        fingerprints.put(c.key(), text(random, kind != 2, 10));
      }
      if (random.nextBoolean()) {
        dependencies.put(c.key(), new TreeSet<>((kind == 2 ? keys : plainKeys).headSet(c.key())));
      }
      boolean taken = PlanFiles.plainLeaf(c, plan("", changes, fingerprints, dependencies), PlanFiles.PLAIN_DIGESTS)
          != null;
      if (kind < 2) {
        assertThat(taken).as("a plain change of seed %d takes the short cut: %s", seed, c).isTrue();
        plainOnes++;
      } else if (kind == 3) {
        assertThat(taken).as("not plain, seed %d: %s", seed, c).isFalse();
      }
    }
    Plan plan = plan("", changes, fingerprints, dependencies);
    String id = PlanFiles.id(plan, SECRET);
    Plan withId = plan("", changes, fingerprints, dependencies).withId(id);
    Plan read = PlanFiles.fromJson(PlanFiles.toJson(withId, SECRET));
    assertThat(read.id()).isEqualTo(id);
    assertThatCode(() -> PlanFiles.checkReviewed(read, withId, SECRET))
        .as("seed %d: %d changes, %d plain", seed, n, plainOnes).doesNotThrowAnyException();
    // the same id whether the leaves are digested on one thread or many
    assertThat(PlanFiles.id(plan, SECRET, PlanFiles.PLAIN_DIGESTS, null, 1)).isEqualTo(id);
  }

  private static Plan plan(String id, List<Change> changes, TreeMap<ResourceKey, String> fingerprints,
      TreeMap<ResourceKey, SortedSet<ResourceKey>> dependencies) {
    return new Plan(id, REVISION, changes, dependencies, new TreeMap<>(), new TreeMap<>(), fingerprints,
        new TreeSet<>());
  }
}
