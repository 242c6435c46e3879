package dev.gitops.core;

import static dev.gitops.core.ReconcilerTest.json;
import static dev.gitops.core.ReconcilerTest.key;
import static dev.gitops.core.ReconcilerTest.res;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Action;
import dev.gitops.api.Documents;
import dev.gitops.api.MergeRules;
import dev.gitops.api.Resource;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.core.merge.MergeResult;
import dev.gitops.core.merge.ThreeWayMerge;
import dev.gitops.core.store.InMemoryStateStore;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A value nested deeper than {@link Documents#MAX_DEPTH} (from a custom decoder, or a provider's
 * live object) is refused for its key alone, naming the key and where the limit is passed, never
 * a {@link StackOverflowError} of one of the engine's walkers; one at the limit, which the YAML
 * decoder can give, is merged, diffed, applied and recorded, even on a thread with a small stack.
 */
class DeepDocumentsTest {

  static final JsonNodeFactory F = JsonNodeFactory.instance;

  final AtomicReference<State> desired = new AtomicReference<>(State.of("r1", List.of()));
  final InMemoryStateStore store = new InMemoryStateStore();
  final MapProvider p = new MapProvider("m", false);
  final Reconciler rec = Reconciler.builder().source(dev.gitops.api.spi.Source.of(desired::get)).provider(p)
      .store(store).owner("me").build();

  /**
   * {"spec": [[...[{"k": [{"k": ...leaf}]}]...]]} of {@code levels} levels: lists in lists down to
   * half way, then objects in lists.
   */
  static JsonNode deep(int levels, String leaf) {
    JsonNode v = F.textNode(leaf);
    int inner = levels - 1;
    for (int i = 0; i < inner; i++) {
      if (i < inner / 2 && i % 2 == 0) {
        ObjectNode o = F.objectNode();
        o.set("k", v);
        v = o;
      } else {
        ArrayNode a = F.arrayNode();
        a.add(v);
        v = a;
      }
    }
    return F.objectNode().set("spec", v);
  }

  @Test
  void aLiveObjectDeeperThanTheLimitIsOneUnknownKeyAndTheOtherKeysSync() {
    desired.set(State.of("r1", List.of(res("a", "{'x':1}"), res("b", "{'x':1}"), res("gone", "{'x':1}"))));
    rec.sync();
    JsonNode tooDeep = deep(3_000, "live");
    p.put(key("a"), tooDeep);
    desired.set(State.of("r2", List.of(res("a", "{'x':2}"), res("b", "{'x':2}"), res("new", "{'x':1}"))));
    SyncResult r = rec.sync();
    assertThat(r.status()).isEqualTo(SyncResult.Status.INCOMPLETE);
    assertThat(r.plan().unknown()).containsExactly(key("a"));
    assertThat(r.plan().change(key("a")).orElseThrow().action()).isEqualTo(Action.SKIP);
    assertThat(r.plan().change(key("a")).orElseThrow().reason()).contains("m:thing::a")
        .contains("live document nests 3000 levels deep, more than the 1000 the engine takes")
        .contains("level 1001 is at /spec/0/0/0/0/0/0/0/…(988 more)…/0/0/0/0");
    assertThat(p.live.get(key("b"))).isEqualTo(json("{'x':2}"));
    assertThat(p.live).containsKeys(key("new"), key("gone"));
    assertThat(p.live.get(key("a"))).isSameAs(tooDeep);
  }

  @Test
  void aDesiredDocumentDeeperThanTheLimitIsRefusedNamingItsKeyAndWhereTheLimitIsPassed() {
    assertThatThrownBy(() -> Resource.builder(key("a")).origin(dev.gitops.api.Origin.of("deep.json", 1, "r1"))
        .document(deep(3_000, "desired")).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("resource m:thing::a (deep.json:1")
        .hasMessageContaining("nests 3000 levels deep, more than the 1000 the engine takes (Documents.MAX_DEPTH)")
        .hasMessageContaining("level 1001 is at /spec/0/0/0/0/0/0/0/…(988 more)…/0/0/0/0");
  }

  @Test
  void documentsAtTheLimitOnBothSidesAreMergedAndAppliedOnASmallStack() throws Exception {
    desired.set(State.of("r1", List.of(Resource.of(key("a"), deep(Documents.MAX_DEPTH, "desired")),
        res("b", "{'x':1}"))));
    p.put(key("a"), deep(Documents.MAX_DEPTH, "live"));
    AtomicReference<Object> result = new AtomicReference<>();
    // 256 KiB, a quarter of the usual default of 1 MiB: the walkers must not need more at the limit
    Thread t = new Thread(null, () -> {
      try {
        result.set(rec.sync());
      } catch (Throwable e) {
        result.set(e);
      }
    }, "small-stack-sync", 256 * 1024);
    t.start();
    t.join();
    assertThat(result.get()).isInstanceOf(SyncResult.class);
    SyncResult r = (SyncResult) result.get();
    assertThat(r.status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(r.plan().change(key("a")).orElseThrow().action()).isEqualTo(Action.UPDATE);
    assertThat(r.plan().change(key("a")).orElseThrow().patch()).hasSize(1);
    assertThat(Documents.equal(p.live.get(key("a")), deep(Documents.MAX_DEPTH, "desired"))).isTrue();
    assertThat(rec.plan().hasChanges()).as("in sync after").isFalse();
  }

  /** What {@code work} returned on a thread with a 256 KiB stack, or what it threw. */
  static Object onSmallStack(java.util.concurrent.Callable<?> work) throws InterruptedException {
    AtomicReference<Object> result = new AtomicReference<>();
    Thread t = new Thread(null, () -> {
      try {
        result.set(work.call());
      } catch (Throwable e) {
        result.set(e);
      }
    }, "small-stack", 256 * 1024);
    t.start();
    t.join();
    return result.get();
  }

  /**
   * {"spec": [{"name": "e", "sub": [{"name": "e", "sub": [...{"name": "e", "x": {"v": leaf}}]}]}]} of
   * {@code levels} levels: a keyed list (by name) in every element, the leaf in the innermost one;
   * without the names when not {@code named} (the key then is the rule's default).
   */
  static JsonNode deepKeyed(int levels, String leaf, boolean named) {
    // the root and "spec" are two levels, the innermost element and its "x" two more, each element
    // around it with its "sub" list two more
    ObjectNode v = F.objectNode();
    v.set("x", F.objectNode().put("v", leaf));
    for (int i = 0; i <= (levels - 4) / 2; i++) {
      if (named) {
        v.put("name", "e");
      }
      if (i < (levels - 4) / 2) {
        ObjectNode o = F.objectNode();
        o.set("sub", F.arrayNode().add(v));
        v = o;
      }
    }
    return F.objectNode().set("spec", F.arrayNode().add(v));
  }

  /** {@link #deepKeyed} without names. */
  static JsonNode deepDefaultKeyed(int levels, String leaf) {
    return deepKeyed(levels, leaf, false);
  }

  @Test
  void mergesOfLastAppliedDesiredAndLiveAtTheLimitAndTheirReportsNeedNoDeepStack() throws Exception {
    // keys by default: with a name in each element, its 500 leaves would be reported, and building
    // each path of 1,000 segments costs as much as the rest of the test (FieldPath.append copies)
    MergeRules.KeyField name = MergeRules.KeyField.withDefault("name", F.textNode("e"));
    MergeRules keyed = MergeRules.builder().keyedList("/spec", name).keyedList("/**/sub", name).build();
    List<Object[]> cases = List.of(
        new Object[] {MergeRules.defaults(), (java.util.function.BiFunction<Integer, String, JsonNode>) DeepDocumentsTest::deep, 1},
        new Object[] {MergeRules.builder().nullMode(MergeRules.NullMode.ABSENT).build(),
            (java.util.function.BiFunction<Integer, String, JsonNode>) DeepDocumentsTest::deep, 1},
        new Object[] {keyed, (java.util.function.BiFunction<Integer, String, JsonNode>) DeepDocumentsTest::deepDefaultKeyed, 1},
        new Object[] {MergeRules.builder().orderedKeyedList("/spec", name)
            .orderedKeyedList("/**/sub", name).nullMode(MergeRules.NullMode.ABSENT).build(),
            (java.util.function.BiFunction<Integer, String, JsonNode>) DeepDocumentsTest::deepDefaultKeyed, 1});
    for (Object[] c : cases) {
      MergeRules rules = (MergeRules) c[0];
      @SuppressWarnings("unchecked")
      java.util.function.BiFunction<Integer, String, JsonNode> shape = (java.util.function.BiFunction<Integer, String, JsonNode>) c[1];
      JsonNode l = Documents.freeze(shape.apply(Documents.MAX_DEPTH, "old"));
      JsonNode d = Documents.freeze(shape.apply(Documents.MAX_DEPTH, "desired"));
      JsonNode v = Documents.freeze(shape.apply(Documents.MAX_DEPTH, "live"));
      assertThat(Documents.depth(d)).isEqualTo(Documents.MAX_DEPTH);
      Object r = onSmallStack(() -> {
        ThreeWayMerge merge = new ThreeWayMerge(rules);
        MergeResult m = merge.merge(key("a"), l, d, v);
        MergeResult same = merge.merge(key("a"), d, d, Documents.freeze(shape.apply(Documents.MAX_DEPTH, "desired")));
        merge.check(key("a"), d);
        return List.of(Documents.equal(m.target(), d), m.patch().size(), m.fields().size(), m.drift().size(),
            m.conflicts().size(), m.takeovers().size(), m.owned().size(), same.isNoop(),
            merge.merge(key("a"), null, d, null).target() == d);
      });
      assertThat(r).as(rules.toString()).isNotInstanceOf(Throwable.class)
          .isEqualTo(List.of(true, 1, 1, 1, 1, 0, c[2], true, true));
    }
  }

  @Test
  void aRepeatedKeyAtTheLimitIsNamedWithItsWholePathOnASmallStack() throws Exception {
    MergeRules rules = MergeRules.builder().keyedList("/spec", MergeRules.KeyField.of("name"))
        .keyedList("/**/sub", MergeRules.KeyField.of("name")).build();
    JsonNode good = deepKeyed(Documents.MAX_DEPTH, "x", true);
    ObjectNode bad = (ObjectNode) Documents.mutableCopy(good);
    JsonNode innermost = bad.get("spec").get(0);
    while (innermost.has("sub")) {
      innermost = innermost.get("sub").get(0);
    }
    // the innermost element's list gets a twin: its parent's sub list holds "e" twice
    ObjectNode parent = (ObjectNode) bad.get("spec").get(0);
    StringBuilder expected = new StringBuilder("/spec/[name=e]");
    while (parent.get("sub").get(0).has("sub")) {
      parent = (ObjectNode) parent.get("sub").get(0);
      expected.append("/sub/[name=e]");
    }
    expected.append("/sub");
    ((com.fasterxml.jackson.databind.node.ArrayNode) parent.get("sub")).add(innermost.deepCopy());
    JsonNode d = Documents.freeze(bad);
    JsonNode v = Documents.freeze(deepKeyed(Documents.MAX_DEPTH, "live", true));
    assertThat(Documents.depth(v)).isEqualTo(Documents.MAX_DEPTH);
    for (JsonNode live : java.util.Arrays.asList(v, null, d)) {
      Object r = onSmallStack(() -> new ThreeWayMerge(rules).merge(key("a"), null, d, live));
      assertThat(r).isInstanceOf(dev.gitops.api.MergeException.class);
      assertThat(((Throwable) r).getMessage()).contains("elements 0 and 1 of the keyed list have the same key [name=e]")
          .contains("/spec/[name=e]/sub/[name=e]/sub/");
      assertThat(((dev.gitops.api.MergeException) r).path().toString()).isEqualTo(expected.toString());
    }
  }

  @Test
  void aStoredRecordAtTheLimitIsComparedAndRevealedOnASmallStack() throws Exception {
    desired.set(State.of("r1", List.of(Resource.of(key("a"), deep(Documents.MAX_DEPTH, "one")))));
    assertThat(onSmallStack(() -> rec.sync().status())).isEqualTo(SyncResult.Status.SUCCEEDED);
    p.put(key("a"), deep(Documents.MAX_DEPTH, "live"));
    desired.set(State.of("r2", List.of(Resource.of(key("a"), deep(Documents.MAX_DEPTH, "two")))));
    Object planned = onSmallStack(() -> {
      dev.gitops.api.Change c = rec.plan().change(key("a")).orElseThrow();
      return List.of(c.action(), c.patch().size(), c.fields().size(), c.drift());
    });
    assertThat(planned).isNotInstanceOf(Throwable.class);
    assertThat(onSmallStack(() -> rec.sync().status())).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(Documents.equal(p.live.get(key("a")), deep(Documents.MAX_DEPTH, "two"))).isTrue();
    assertThat(onSmallStack(() -> rec.plan().hasChanges())).isEqualTo(false);
  }

  @Test
  void theLastAppliedFormOfADocumentAtTheLimitDropsIgnoredPathsOnASmallStack() throws Exception {
    MergeRules.KeyField name = MergeRules.KeyField.withDefault("name", F.textNode("e"));
    MergeRules rules = MergeRules.builder().keyedList("/spec", name).keyedList("/**/sub", name)
        .ignore("/**/x/v").build();
    JsonNode d = Documents.freeze(deepKeyed(Documents.MAX_DEPTH, "secret-ish", false));
    JsonNode plainRules = Documents.freeze(deep(Documents.MAX_DEPTH, "kept"));
    Object r = onSmallStack(() -> List.of(
        dev.gitops.core.internal.plan.LastApplied.strip(key("a"), d, rules),
        dev.gitops.core.internal.plan.LastApplied.strip(key("a"), plainRules, MergeRules.builder().ignore("/nothing").build())));
    assertThat(r).isNotInstanceOf(Throwable.class);
    List<?> stripped = (List<?>) r;
    assertThat(Documents.canonicalJson((JsonNode) stripped.get(0)))
        .isEqualTo(Documents.canonicalJson(d).replace("\"v\":\"secret-ish\"", ""));
    assertThat(stripped.get(1)).isSameAs(plainRules);
  }
}
