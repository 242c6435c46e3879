package dev.gitops.core;

import static dev.gitops.core.PlanFileWorld.A;
import static dev.gitops.core.PlanFileWorld.B;
import static dev.gitops.core.PlanFileWorld.GONE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.GitOpsException;
import dev.gitops.api.Origin;
import dev.gitops.api.Plan;
import dev.gitops.api.PlanMismatchException;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncResult;
import dev.gitops.core.plan.PlanCodec;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.core.store.InMemoryStateStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reviewed plan runs exactly what the reviewer saw: the plan file is bound to its id, the plan
 * computed now is compared with it change for change, and the same plan is the same bytes in any
 * JVM.
 */
class PlanFileTest {
  /** Keeps every number as written, so an edit changes only what it means to. */
  static final ObjectMapper JSON = com.fasterxml.jackson.databind.json.JsonMapper.builder()
      .nodeFactory(com.fasterxml.jackson.databind.node.JsonNodeFactory.withExactBigDecimals(true))
      .enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();

  @TempDir
  Path tmp;

  final PlanFileWorld world = new PlanFileWorld(new InMemoryStateStore(), false);

  /** The plan file of the world's second revision, edited by {@code edit}. */
  String edited(Consumer<ObjectNode> edit) throws Exception {
    ObjectNode root = (ObjectNode) JSON.readTree(world.planFile());
    edit.accept(root);
    return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root);
  }

  static ObjectNode change(ObjectNode root, String key) {
    for (JsonNode c : root.get("changes")) {
      if (c.get("key").asText().equals(key)) {
        return (ObjectNode) c;
      }
    }
    throw new AssertionError("no change for " + key);
  }

  /** Runs the edited file: refused naming {@code key} and a field starting with {@code field}; nothing changed. */
  void assertRefused(String file, String key, String field) {
    Map<?, ?> liveBefore = Map.copyOf(world.provider.live);
    Plan reviewed = PlanCodec.fromJson(file);
    // what only shows a saved plan (gitops diff --plan) refuses it too, in the same words, without planning now
    assertThatThrownBy(() -> PlanCodec.checkId(reviewed, null))
        .isInstanceOfSatisfying(PlanMismatchException.class, e -> {
          assertThat(e.field()).isNull();
          assertThat(e.getMessage()).isEqualTo("plan " + reviewed.id().substring(0, 12) + " no longer holds: it was"
              + " changed after it was computed (its content no longer matches its id)");
        });
    assertThatThrownBy(() -> world.reconciler.apply(reviewed))
        .isInstanceOfSatisfying(PlanMismatchException.class, e -> {
          assertThat(e.key() == null ? null : e.key().toString()).isEqualTo(key);
          assertThat(e.field()).startsWith(field);
          assertThat(e.getMessage()).contains("changed after it was computed");
        });
    assertThat(world.provider.live).as("nothing applied").isEqualTo(liveBefore);
    assertThat(world.provider.live).containsKey(GONE);
    assertThat(world.store.load().inventory()).containsKey(GONE);
  }

  @Test
  void anUntouchedPlanFileRunsWithItsSecretsHashedAndItsNumbersExact() {
    String file = world.planFile();
    assertThat(file).doesNotContain("hunter3").doesNotContain("t0k3n").contains("3.14159265358979323846");

    SyncResult r = world.reconciler.apply(PlanCodec.fromJson(file));

    assertThat(r.isSuccessful()).as(r.toString()).isTrue();
    assertThat(world.provider.live).doesNotContainKey(GONE);
    assertThat(world.provider.live.get(A).get("pi").decimalValue()).isEqualByComparingTo("3.14159265358979323846");
    assertThat(world.provider.live.get(A).get("password").asText()).isEqualTo("hunter3");
  }

  @Test
  void aPlanMatchesItsIdAsReadFromItsFileOrComputedWithTheStoresKey() {
    byte[] key = world.store.secretKey();
    Plan plan = world.reconciler.plan();
    PlanCodec.checkId(PlanCodec.fromJson(PlanCodec.toJson(plan, key)), null);
    PlanCodec.checkId(plan, key);
    // computed here, it holds the secret values themselves: its id covers them only hashed under the key
    assertThatThrownBy(() -> PlanCodec.checkId(plan, null)).isInstanceOf(PlanMismatchException.class);
    assertThatThrownBy(() -> PlanCodec.checkId(plan, new byte[32])).isInstanceOf(PlanMismatchException.class);
  }

  @Test
  void thePlannersIdIsTheDigestOfItsFileOnEveryResyncToo() {
    byte[] key = world.store.secretKey();
    for (int round = 0; round < 4; round++) {
      Plan plan = world.reconciler.plan();
      // The planner remembers the digests of unchanged changes and documents; they must never go stale.
      assertThat(plan.id()).as("round %d", round).isEqualTo(PlanCodec.id(plan, key));
      Plan read = PlanCodec.fromJson(PlanCodec.toJson(plan, key));
      assertThat(read.id()).isEqualTo(plan.id());
      PlanCodec.checkReviewed(read, plan, key);
      if (round == 1) {
        world.provider.put(B, PlanFileWorld.doc("y", PlanFileWorld.text("drifted")));
      }
      if (round == 2) {
        world.reconciler.sync();
      }
    }
  }

  @Test
  void aDeleteKeepsItsLastAppliedResourceThroughThePlanFileAndDesiredStaysEmpty() {
    byte[] key = world.store.secretKey();
    Plan plan = world.reconciler.plan();
    Change delete = plan.change(GONE).orElseThrow();
    assertThat(delete.action()).isEqualTo(Action.DELETE);
    assertThat(delete.desired()).as("Git no longer has it").isNull();
    assertThat(delete.lastApplied()).isSameAs(delete.resource());
    assertThat(delete.lastApplied().document()).isEqualTo(PlanFileWorld.doc("z", PlanFileWorld.num(0), "q",
        PlanFileWorld.text("gone")));

    Plan read = PlanCodec.fromJson(PlanCodec.toJson(plan, key));

    Change back = read.change(GONE).orElseThrow();
    assertThat(back.desired()).isNull();
    assertThat(back.lastApplied()).as("document and metadata of the last-applied resource")
        .isEqualTo(delete.lastApplied());
    assertThat(back).isEqualTo(delete);
    assertThat(read.id()).isEqualTo(plan.id());
    PlanCodec.checkReviewed(read, plan, key);
  }

  @Test
  void aPlanFileWithAnEditedLastAppliedDocumentIsRefused() throws Exception {
    assertRefused(edited(root -> ((ObjectNode) change(root, GONE.toString()).get("lastApplied")).put("q", "edited")),
        GONE.toString(), "/lastApplied");
  }

  @Test
  void aPlanFileWithItsDeleteRemovedIsRefusedAndDeletesNothing() throws Exception {
    String file = edited(root -> {
      ArrayNode kept = JSON.createArrayNode();
      root.get("changes").forEach(c -> {
        if (!c.get("action").asText().equals("DELETE")) {
          kept.add(c);
        }
      });
      root.set("changes", kept);
    });
    assertRefused(file, GONE.toString(), "");
  }

  @Test
  void aPlanFileWithADeleteTurnedIntoASkipIsRefused() throws Exception {
    assertRefused(edited(root -> change(root, GONE.toString()).put("action", "SKIP")), GONE.toString(), "/action");
  }

  @Test
  void aPlanFileWithAnEditedPatchValueIsRefused() throws Exception {
    String file = edited(root -> {
      ArrayNode patch = change(root, PlanFileWorld.C.toString()).withArray("patch");
      assertThat(patch).hasSize(1);
      assertThat(patch.get(0).get("value").asInt()).isEqualTo(2);
      ((ObjectNode) patch.get(0)).put("value", 3);
    });
    assertRefused(file, PlanFileWorld.C.toString(), "/patch/0/value");
  }

  @Test
  void aPlanFileWithAnEditedSensitivePatchValueIsRefused() throws Exception {
    String file = edited(root -> {
      ObjectNode op = (ObjectNode) change(root, A.toString()).withArray("patch").get(0);
      op.put("value", "anything");
    });
    assertRefused(file, A.toString(), "/patch/0/value");
  }

  @Test
  void aPlanFileWithAnEditedFlagIsRefused() throws Exception {
    String file = edited(root -> {
      ArrayNode flags = change(root, A.toString()).withArray("flags");
      assertThat(flags.toString()).contains("DRIFT");
      flags.removeAll();
    });
    assertRefused(file, A.toString(), "/flags");
  }

  @Test
  void aPlanFileWithAnEditedOriginRevisionIsRefused() throws Exception {
    // the id takes each change's origin revision beside the change's digest, not inside it: still covered
    String file = edited(root -> ((ObjectNode) change(root, B.toString()).get("resource")).put("originRevision", "r1"));
    assertRefused(file, B.toString(), "/resource/originRevision");
  }

  @Test
  void aPlanReviewedForOneOwnerIsRefusedToAnother() {
    String file = world.planFile();
    Map<?, ?> liveBefore = Map.copyOf(world.provider.live);
    // another owner reaches the plan check on a store that records no owner (an implementation without
    // owners: one that records them refuses another owner first) once the reviewer's reconciler is closed;
    // the in-memory store outlives that close
    world.reconciler.close();
    try (Reconciler other = Reconciler.builder().source(dev.gitops.api.spi.Source.of(world.desired::get))
        .provider(world.provider).store(new WithoutOwner(world.store)).owner("someone-else").build()) {
      assertThatThrownBy(() -> other.apply(PlanCodec.fromJson(file)))
          .isInstanceOfSatisfying(PlanMismatchException.class, e -> {
            assertThat(e.field()).isEqualTo("/options/owner");
            assertThat(e.getMessage()).contains("it was computed for another owner").contains("reviewed: me");
          });
    }
    assertThat(world.provider.live).as("nothing applied").isEqualTo(liveBefore);
  }

  /** A store that records no owner (the SPI's defaults), over {@code store}'s records. */
  private static final class WithoutOwner extends ForwardingStateStore {
    WithoutOwner(dev.gitops.api.spi.StateStore store) {
      super(store);
    }

    @Override
    public java.util.Optional<String> owner() {
      return java.util.Optional.empty();
    }

    @Override
    public void claimOwner(String owner) {
      // records nothing, as the SPI's default: the store stays readable by every owner
    }
  }

  /**
   * The id of one fixed plan, as this format has always computed it: how the digests are taken
   * may change for speed, the value may not (a reviewed plan file states it).
   */
  @Test
  void theIdOfAFixedPlanIsTheOneThisFormatHasAlwaysGiven() {
    ResourceKey a = ResourceKey.of("files", "file", "", "a.conf");
    ResourceKey b = ResourceKey.of("files", "file", "", "b\u00e9.conf");
    Resource ra = Resource.builder(a).document(Documents.freeze(JSON.createObjectNode().put("content", "x\n\"q\"")))
        .origin(Origin.of("a.conf", 1, "main@sha1:" + "1".repeat(40))).build();
    Resource rb = Resource.builder(b).document(Documents.freeze(JSON.createObjectNode().put("content", "\u00e9t\u00e9")
        .put("n", new java.math.BigDecimal("1.50")))).origin(Origin.of("b\u00e9.conf", 3, "main@sha1:" + "2".repeat(40)))
        .dependsOn(new TreeSet<>(List.of(a))).build();
    List<Change> changes = List.of(
        Change.builder(a, Action.NOOP).desired(ra).live(ra.document()).target(ra.document()).reason("in sync").build(),
        Change.builder(b, Action.CREATE).desired(rb).target(rb.document()).reason("absent").build());
    TreeMap<ResourceKey, SortedSet<ResourceKey>> deps = new TreeMap<>(Map.of(b, new TreeSet<>(List.of(a))));
    Plan plan = new Plan("", "main@sha1:" + "2".repeat(40), changes, deps, new TreeMap<>(Map.of("env", "prod")),
        new TreeMap<>(), new TreeMap<>(Map.of(a, "f1", b, "f2")), new TreeSet<>());

    assertThat(PlanCodec.id(plan, "0123456789abcdef".getBytes(StandardCharsets.US_ASCII)))
        .as("format 5 (the header says so; format 4 gave 677bc495cd43...)")
        .isEqualTo("f8145bdfcc4a9ea2b79a83875802479485d29bdf778698ec01613521a48e4a95");
  }

  @Test
  void theIdOfAPlanCoversTheOriginRevisionOfEachChangeAndWhichChangeHasIt() {
    Plan plan = world.reconciler.plan();
    byte[] key = world.store.secretKey();
    List<Change> changes = plan.changes();
    List<String> ids = new ArrayList<>();
    ids.add(PlanCodec.id(plan, key));
    for (int i = 0; i < changes.size(); i++) {
      Resource r = changes.get(i).resource();
      if (r != null) {
        List<Change> moved = new ArrayList<>(changes);
        moved.set(i, changes.get(i).toBuilder()
            .resource(r.toBuilder().origin(Origin.of(r.origin().path(), r.origin().line(), "r9")).build()).build());
        ids.add(PlanCodec.id(new Plan("", plan.revision(), moved, plan.dependencies(), plan.variables(), plan.options(),
            plan.fingerprints(), plan.unknown(), plan.unobserved(), plan.owned()), key));
      }
    }
    assertThat(ids).hasSizeGreaterThan(2).doesNotHaveDuplicates();
  }

  @Test
  void aPlanFileWithAnEditedGuardFigureIsRefused() throws Exception {
    assertRefused(edited(root -> ((ObjectNode) root.get("owned")).put("m", 30)), null, "/owned/m");
    assertRefused(edited(root -> ((ObjectNode) root.get("options")).put("maxDeletions", "5")), null,
        "/options/maxDeletions");
  }

  @Test
  void aPlanFileWithOnlyItsIdEditedIsRefused() throws Exception {
    String file = edited(root -> root.put("id", "0".repeat(64)));
    Plan reviewed = PlanCodec.fromJson(file);
    assertThatThrownBy(() -> world.reconciler.apply(reviewed)).isInstanceOf(PlanMismatchException.class)
        .hasMessageContaining("only its id differs");
    assertThat(world.provider.live).containsKey(GONE);
  }

  @Test
  void aPlanEditedWithItsIdRecomputedIsStillRefusedChangeForChange() {
    Plan plan = world.reconciler.plan();
    List<Change> withoutDelete = new ArrayList<>(plan.changes());
    withoutDelete.removeIf(c -> c.action() == Action.DELETE);
    Plan forged = new Plan("", plan.revision(), withoutDelete, plan.dependencies(), plan.variables(), plan.options(),
        plan.fingerprints(), plan.unknown(), plan.unobserved(), plan.owned());
    Plan consistent = forged.withId(PlanCodec.id(forged, world.store.secretKey()));

    assertThatThrownBy(() -> world.reconciler.apply(consistent))
        .isInstanceOfSatisfying(PlanMismatchException.class, e -> {
          assertThat(e.key()).isEqualTo(GONE);
          assertThat(e.getMessage()).contains("the stored or live state changed").contains("now: DELETE");
        });
    assertThat(world.provider.live).containsKey(GONE);
  }

  @Test
  void aPlanWithAChangeGivenTwiceIsRefusedEvenWithItsIdRecomputed() {
    Plan plan = world.reconciler.plan();
    List<Change> twice = new ArrayList<>(plan.changes());
    twice.add(0, plan.change(B).orElseThrow().withAction(Action.DELETE, "looks like a delete to the reviewer"));
    Plan forged = new Plan("", plan.revision(), twice, plan.dependencies(), plan.variables(), plan.options(),
        plan.fingerprints(), plan.unknown(), plan.unobserved(), plan.owned());
    Plan consistent = forged.withId(PlanCodec.id(forged, world.store.secretKey()));

    assertThatThrownBy(() -> world.reconciler.apply(consistent))
        .isInstanceOfSatisfying(PlanMismatchException.class, e -> assertThat(e.key()).isEqualTo(B))
        .hasMessageContaining("more than one change");
    assertThat(world.provider.live).containsKey(GONE);
  }

  @Test
  void aKeyGivenTwiceInAPlanFileIsRejected() {
    String file = world.planFile().replaceFirst("\"action\" : \"DELETE\"", "\"action\" : \"SKIP\", \"action\" : \"DELETE\"");
    assertThat(file).contains("\"action\" : \"SKIP\", \"action\"");
    assertThatThrownBy(() -> PlanCodec.fromJson(file)).isInstanceOf(GitOpsException.class)
        .hasMessageContaining("Duplicate field 'action'");
  }

  @Test
  void jsonThatIsNoPlanIsSaidToBeNoPlanFileNotAFormatOfOne() {
    for (String text : List.of("{}", "{\"a\":1}", "{\"changes\":[]}")) {
      assertThatThrownBy(() -> PlanCodec.fromJson(text)).as(text).isInstanceOf(GitOpsException.class)
          .hasMessage("not a plan file: it has no \"format\" field (a plan file written by PlanCodec.toJson or"
              + " 'gitops plan --out' states its format, " + PlanCodec.FORMAT + " for this build)");
    }
    for (String format : List.of("\"x\"", "null", "[3]", "3.5")) {
      assertThatThrownBy(() -> PlanCodec.fromJson("{\"format\":" + format + "}")).as(format)
          .isInstanceOf(GitOpsException.class)
          .hasMessageStartingWith("not a plan file: its \"format\" is " + format + ", not a format number");
    }
    assertThatThrownBy(() -> PlanCodec.fromJson("[]")).isInstanceOf(GitOpsException.class)
        .hasMessage("not a plan file: expected a JSON object");
    assertThatThrownBy(() -> PlanCodec.fromJson("{\"format\":4294967299}")).isInstanceOf(GitOpsException.class)
        .hasMessageStartingWith("plan file format 4294967299 is not supported");
    assertThatThrownBy(() -> PlanCodec.fromJson("{\"format\":1}")).isInstanceOf(GitOpsException.class)
        .hasMessageStartingWith("plan file format 1 is not supported");
  }

  @Test
  void theSamePlanIsTheSameBytesInThisJvmAndInTwoOthers() throws Exception {
    Path template = tmp.resolve("template");
    try (FileStateStore s = FileStateStore.open(template)) {
      s.secretKey();
    }
    String here;
    Path mine = tmp.resolve("here");
    PlanFileWorld.copyTree(template, mine);
    try (FileStateStore s = FileStateStore.open(mine)) {
      here = new PlanFileWorld(s, false).planFile();
    }
    String forward = child(template, "forward");
    String reversed = child(template, "reversed");

    assertThat(here).contains("\"DELETE\"").contains("\"DRIFT\"").contains("hmac-sha256:");
    assertThat(forward).isEqualTo(here);
    assertThat(reversed).as("documents and sets built in another order").isEqualTo(here);
  }

  private String child(Path template, String order) throws Exception {
    Path work = tmp.resolve("child-" + order);
    Files.createDirectories(work);
    Path out = work.resolve("stdout");
    Path err = work.resolve("stderr");
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
        PlanFileWorld.class.getName(), template.toString(), work.toString(), order)
        .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      throw new AssertionError("child JVM hung: " + Files.readString(err));
    }
    assertThat(p.exitValue()).as(Files.readString(err)).isZero();
    return Files.readString(out, StandardCharsets.UTF_8);
  }
}
