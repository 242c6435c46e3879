package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.FieldChange;
import dev.gitops.api.FieldPath;
import dev.gitops.api.KeySelector;
import dev.gitops.api.MergeRules;
import dev.gitops.api.MergeRules.KeyField;
import dev.gitops.api.Plan;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.core.plan.PlanCodec;
import dev.gitops.core.store.InMemoryStateStore;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Paths never carry values: elements of set lists under a sensitive rule, and keyed elements below
 * one, are named by keyed hashes in field changes, drift, sensitive-path lists, reasons and plan
 * files, consistently enough that ownership, drift and plan files still work.
 */
class SecretPathsTest {

  static final ResourceKey KEY = ResourceKey.of("m", "thing", "", "access");
  static final List<String> SECRETS = List.of("g-alpha-1", "g-beta-2", "g-gamma-4", "g-hand-5", "u-carol-3", "u-dave-6");
  static final MergeRules RULES = MergeRules.builder()
      .setList("/groups")
      .keyedList("/users", KeyField.of("name"))
      .sensitive("/groups/*", KeySelector.ANY)
      .sensitive("/users", KeySelector.ANY)
      .build();

  static Resource access(String json) {
    return Resource.builder(KEY).document(ReconcilerTest.json(json)).build();
  }

  /** Every path, sensitive path and reason a plan and its file carry, as one text. */
  static String pathsOf(Plan plan, byte[] secretKey) {
    StringBuilder sb = new StringBuilder();
    for (Change c : plan.changes()) {
      c.fields().forEach(f -> sb.append(f.path()).append('\n'));
      c.sensitive().forEach(p -> sb.append(p).append('\n'));
      sb.append(c.reason()).append('\n');
    }
    JsonNode file = ReconcilerTest.json(PlanCodec.toJson(plan, secretKey));
    for (JsonNode c : file.path("changes")) {
      c.path("fields").forEach(f -> sb.append(f.path("path").asText()).append('\n'));
      c.path("sensitive").forEach(p -> sb.append(p.asText()).append('\n'));
      sb.append(c.path("reason").asText()).append('\n');
    }
    return sb.toString();
  }

  @Test
  void secretElementsAreNamedByKeyedHashesEverywhereAndPlansStillRoundTrip() {
    MapProvider p = new MapProvider("m", false);
    InMemoryStateStore store = new InMemoryStateStore();
    AtomicReference<State> desired = new AtomicReference<>(State.of("r1", List.of(access(
        "{'groups':['g-alpha-1','g-beta-2'],'users':[{'name':'u-carol-3','shell':'sh'}]}"))));
    Reconciler rec = Reconciler.builder().source(dev.gitops.api.spi.Source.of(desired::get)).provider(p).store(store)
        .options(SyncOptions.builder().rules(RULES).build()).build();
    assertThat(rec.sync().isSuccessful()).isTrue();

    desired.set(State.of("r2", List.of(access(
        "{'groups':['g-beta-2','g-gamma-4'],'users':[{'name':'u-dave-6','shell':'sh'}]}"))));
    Plan plan = rec.plan();
    assertThat(plan.change(KEY).orElseThrow().action()).isEqualTo(Action.UPDATE);
    assertThat(plan.change(KEY).orElseThrow().fields()).isNotEmpty().allSatisfy(f -> assertThat(f.sensitive()).isTrue());
    String paths = pathsOf(plan, store.secretKey());
    assertThat(paths).contains("/groups/[#hmac:").contains("/users/[#hmac:");
    SECRETS.forEach(s -> assertThat(paths).as("plan paths").doesNotContain(s));

    // The reviewed file parses back, its paths included, and runs: what was reviewed is what runs.
    Plan reviewed = PlanCodec.fromJson(PlanCodec.toJson(plan, store.secretKey()));
    assertThat(reviewed.change(KEY).orElseThrow().fields()).extracting(FieldChange::path)
        .containsExactlyElementsOf(plan.change(KEY).orElseThrow().fields().stream().map(FieldChange::path).toList());
    SyncResult applied = rec.apply(reviewed);
    assertThat(applied.isSuccessful()).as(applied.toString()).isTrue();
    assertThat(p.live.get(KEY).get("groups")).containsExactlyInAnyOrder(
        ReconcilerTest.json("'g-beta-2'"), ReconcilerTest.json("'g-gamma-4'"));

    // Drift on a secret element is seen, and reported by hash.
    p.put(KEY, ReconcilerTest.json("{'groups':['g-gamma-4','g-hand-5'],'users':[{'name':'u-dave-6','shell':'sh'}]}"));
    Plan drift = rec.plan();
    assertThat(drift.change(KEY).orElseThrow().drift()).isTrue();
    assertThat(drift.change(KEY).orElseThrow().fields()).extracting(FieldChange::path)
        .anySatisfy(f -> assertThat(f.toString()).startsWith("/groups/[#hmac:"));
    String driftPaths = pathsOf(drift, store.secretKey());
    SECRETS.forEach(s -> assertThat(driftPaths).as("drift paths").doesNotContain(s));

    // Ownership survives the store: the element Git dropped is removed, the hand-added one stays.
    desired.set(State.of("r3", List.of(access("{'groups':['g-gamma-4'],'users':[{'name':'u-dave-6','shell':'sh'}]}"))));
    assertThat(rec.sync().isSuccessful()).isTrue();
    assertThat(p.live.get(KEY).get("groups")).containsExactlyInAnyOrder(
        ReconcilerTest.json("'g-gamma-4'"), ReconcilerTest.json("'g-hand-5'"));
    assertThat(rec.plan().hasChanges()).isFalse();
    assertThat(FieldPath.parse(drift.change(KEY).orElseThrow().fields().get(0).path().toString()))
        .isEqualTo(drift.change(KEY).orElseThrow().fields().get(0).path());
  }
}
