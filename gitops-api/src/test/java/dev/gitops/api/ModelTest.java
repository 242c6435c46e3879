package dev.gitops.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The smaller value types: policies, rules, resources, states, observations, changes, cancellation. */
class ModelTest {

  static final ResourceKey A = ResourceKey.of("p", "t", "", "a");

  @Test
  void managementPoliciesParseByNameAndByPermissions() {
    assertThat(ManagementPolicy.parse("paused")).isSameAs(ManagementPolicy.PAUSED);
    assertThat(ManagementPolicy.parse("observe, create")).isSameAs(ManagementPolicy.CREATE_ONLY);
    assertThat(ManagementPolicy.parse("create,update")).isSameAs(ManagementPolicy.NO_PRUNE);
    assertThat(ManagementPolicy.ALL.withoutDelete()).isSameAs(ManagementPolicy.NO_PRUNE);
    assertThat(ManagementPolicy.parse(ManagementPolicy.CREATE_ONLY.toString())).isEqualTo(ManagementPolicy.CREATE_ONLY);
    assertThatThrownBy(() -> ManagementPolicy.parse("observe,destroy")).hasMessageContaining("'destroy'");
  }

  @Test
  void laterRulesWinAndUserRulesAddToTheProvidersRules() {
    MergeRules provider = MergeRules.builder().keyedList("/items", MergeRules.KeyField.of("name"))
        .nullMode(MergeRules.NullMode.ABSENT).build();
    MergeRules user = MergeRules.builder().atomicList("/items").ignore("/status").build();
    MergeRules both = provider.plus(user);
    assertThat(both.listRule(FieldPath.of("items")).kind()).isEqualTo(MergeRules.ListKind.ATOMIC);
    assertThat(provider.listRule(FieldPath.of("items")).kind()).isEqualTo(MergeRules.ListKind.KEYED);
    assertThat(both.nullMode()).isEqualTo(MergeRules.NullMode.ABSENT);
    assertThat(both.isIgnored(A, FieldPath.of("status"))).isTrue();
    assertThat(MergeRules.defaults().listRule(FieldPath.of("x")).kind()).isEqualTo(MergeRules.ListKind.ATOMIC);
  }

  @Test
  void ignoreAndSensitiveRulesApplyOnlyToSelectedKeys() {
    MergeRules r = MergeRules.builder().sensitive("/data/*", KeySelector.type("k8s", "v1/Secret")).build();
    assertThat(r.isSensitive(ResourceKey.of("k8s", "v1/Secret", "ns", "db"), FieldPath.of("data", "password"))).isTrue();
    assertThat(r.isSensitive(ResourceKey.of("k8s", "v1/ConfigMap", "ns", "db"), FieldPath.of("data", "password"))).isFalse();
    assertThat(KeySelector.of("k8s", "apps/*", "prod-?", "*").matches(ResourceKey.of("k8s", "apps/Deployment", "prod-1", "w")))
        .isTrue();
    assertThatThrownBy(() -> MergeRules.builder().keyedList("/x").build()).hasMessageContaining("/x");
  }

  @Test
  void resourcesFreezeTheirDocumentAndRefuseSelfDependency() {
    var doc = JsonNodeFactory.instance.objectNode().put("x", 1);
    Resource r = Resource.of(A, doc);
    doc.put("x", 2);
    assertThat(r.document().get("x").intValue()).isEqualTo(1);
    assertThat(Documents.isFrozen(r.document())).isTrue();
    assertThatThrownBy(() -> Resource.builder(A).dependsOn(A).build()).hasMessageContaining("depends on itself");
    assertThat(r.digest()).isEqualTo(Resource.of(A, JsonNodeFactory.instance.objectNode().put("x", 1.0)).digest());
    assertThat(r.digest()).isNotEqualTo(r.toBuilder().wave(2).build().digest());
  }

  @Test
  void resourcesOriginsAndProofsAreEqualExactlyWhenEveryPartIs() {
    // their equals and hashCode are written out: a component added to one must be added to both
    assertThat(Resource.class.getRecordComponents()).as("Resource's components, each compared below").hasSize(7);
    assertThat(Origin.class.getRecordComponents()).as("Origin's components").hasSize(3);
    assertThat(dev.gitops.api.spi.StoredResource.InSync.class.getRecordComponents()).as("InSync's components").hasSize(3);
    assertThat(MergeRules.class.getDeclaredClasses()).filteredOn(c -> c.getSimpleName().equals("Canonical"))
        .singleElement().satisfies(c -> assertThat(c.getRecordComponents()).as("MergeRules' Canonical").hasSize(5));
    ResourceKey b = ResourceKey.of("p", "t", "", "b");
    Resource r = Resource.builder(A).document(JsonNodeFactory.instance.objectNode().put("x", 1))
        .origin(Origin.of("apps/a.yaml", 3, "main@sha1:1")).dependsOn(b).wave(1).policy(ManagementPolicy.NO_PRUNE)
        .sensitive(Set.of(PathPattern.of("/data/*"))).build();
    Resource same = Resource.builder(ResourceKey.of("p", "t", "", "a")).document(JsonNodeFactory.instance.objectNode().put("x", 1))
        .origin(Origin.of("apps/a.yaml", 3, "main@sha1:1")).dependsOn(ResourceKey.of("p", "t", "", "b")).wave(1)
        .policy(ManagementPolicy.NO_PRUNE).sensitive(Set.of(PathPattern.of("/data/*")))
        .build();
    assertThat(same).isEqualTo(r).hasSameHashCodeAs(r);
    List<Resource> others = List.of(
        r.toBuilder().document(JsonNodeFactory.instance.objectNode().put("x", 2)).build(),
        r.toBuilder().origin(Origin.of("apps/a.yaml", 4, "main@sha1:1")).build(),
        new Resource(A, r.document(), r.origin(), java.util.Collections.emptySortedSet(), 1, r.policy(), r.sensitive()),
        r.toBuilder().wave(2).build(),
        r.toBuilder().policy(ManagementPolicy.ALL).build(),
        r.toBuilder().sensitive(Set.of()).build(),
        new Resource(b, r.document(), r.origin(), java.util.Collections.emptySortedSet(), 1, r.policy(), r.sensitive()));
    for (Resource other : others) {
      assertThat(other).isNotEqualTo(r);
      assertThat(r).isNotEqualTo(other);
    }
    assertThat(r).isNotEqualTo(null).isNotEqualTo(r.key());

    Origin at = Origin.of("apps/a.yaml", 3, "main@sha1:1");
    assertThat(Origin.of("apps/a.yaml", 3, "main@sha1:1")).isEqualTo(at).hasSameHashCodeAs(at);
    assertThat(List.of(Origin.of("apps/b.yaml", 3, "main@sha1:1"), Origin.of("apps/a.yaml", 0, "main@sha1:1"),
        Origin.of("apps/a.yaml", 3, "main@sha1:2"))).allSatisfy(o -> assertThat(o).isNotEqualTo(at));

    var proof = new dev.gitops.api.spi.StoredResource.InSync("d1", "r1", "v1");
    assertThat(new dev.gitops.api.spi.StoredResource.InSync("d1", "r1", "v1")).isEqualTo(proof).hasSameHashCodeAs(proof);
    assertThat(List.of(new dev.gitops.api.spi.StoredResource.InSync("d2", "r1", "v1"),
        new dev.gitops.api.spi.StoredResource.InSync("d1", "r2", "v1"),
        new dev.gitops.api.spi.StoredResource.InSync("d1", "r1", "v2"))).allSatisfy(p -> assertThat(p).isNotEqualTo(proof));
  }

  @Test
  void aResourceDigestIsOneDigestWhetherTheDocumentDigestIsGivenOrComputed() {
    Resource r = Resource.builder(A).document(JsonNodeFactory.instance.objectNode().put("x", 1)).wave(3)
        .sensitive(Set.of(PathPattern.of("/x"))).build();
    assertThat(r.digestWith(Documents.digest(r.document()))).isEqualTo(r.digest());
    assertThat(r.digest()).as("the sensitive paths shape decisions")
        .isNotEqualTo(r.toBuilder().sensitive(Set.of()).build().digest())
        .as("the origin does not").isEqualTo(r.toBuilder().origin(Origin.of("b.yaml", 9, "r2")).build().digest());
    assertThat(r.digestWith("a")).isNotEqualTo(r.digestWith("b"));
  }

  @Test
  void aResourceDigestIsTheSha256OfItsLengthPrefixedParts() throws Exception {
    // the text written out by hand: stored in-sync proofs and plan ids hold these digests, so the
    // way they are hashed may change, their value may not
    ResourceKey dep = ResourceKey.of("files", "file", "", "bäse.conf");
    Resource plain = Resource.of(A, JsonNodeFactory.instance.objectNode().put("x", 1));
    Resource full = plain.toBuilder().dependsOn(dep).wave(-2).policy(ManagementPolicy.NO_PRUNE)
        .sensitive(Set.of(PathPattern.of("/b"), PathPattern.of("/a"))).build();
    for (Resource r : List.of(plain, full)) {
      StringBuilder sb = new StringBuilder();
      java.util.function.Consumer<String> part = t -> sb.append(t.length()).append(':').append(t);
      part.accept("d1");
      sb.append(r.dependsOn().size()).append('[');
      r.dependsOn().forEach(k -> part.accept(k.toString()));
      part.accept(Integer.toString(r.wave()));
      part.accept(r.policy().toString());
      sb.append(r.sensitive().size()).append('[');
      r.sensitive().stream().map(Object::toString).sorted().forEach(part);
      String expected = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
          .digest(sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      assertThat(r.digestWith("d1")).isEqualTo(expected).isEqualTo(r.digestWith("d1"));
    }
  }

  @Test
  void duplicateKeysInAStateNameBothOrigins() {
    Resource one = Resource.builder(A).origin(Origin.of("a.yaml", 3, "r1")).build();
    Resource two = Resource.builder(A).origin(Origin.of("b.yaml", 7, "r1")).build();
    assertThatThrownBy(() -> State.of("r1", List.of(one, two))).isInstanceOf(DuplicateResourceException.class)
        .hasMessageContaining("a.yaml:3@r1").hasMessageContaining("b.yaml:7@r1").hasMessageContaining("p:t::a");
  }

  @Test
  void aStateHoldsItsResourcesInKeyOrderWhateverOrderTheyCameIn() {
    java.util.List<Resource> given = new java.util.ArrayList<>();
    for (int i = 0; i < 50; i++) {
      given.add(Resource.builder(ResourceKey.of("p", "t", "", "k" + (i * 37 % 50))).build());
    }
    java.util.TreeMap<ResourceKey, Resource> expected = new java.util.TreeMap<>();
    given.forEach(r -> expected.put(r.key(), r));
    State s = State.of("r1", given);
    assertThat(new java.util.ArrayList<>(s.resources().keySet())).isEqualTo(new java.util.ArrayList<>(expected.keySet()));
    expected.forEach((k, r) -> assertThat(s.resources().get(k)).isSameAs(r));
  }

  @Test
  void ofTwoDuplicatesAStateNamesThePairThatComesFirstInTheGivenOrder() {
    ResourceKey b = ResourceKey.of("p", "t", "", "b");
    Resource b1 = Resource.builder(b).origin(Origin.of("b1.yaml", 1, "r1")).build();
    Resource a1 = Resource.builder(A).origin(Origin.of("a1.yaml", 1, "r1")).build();
    Resource b2 = Resource.builder(b).origin(Origin.of("b2.yaml", 1, "r1")).build();
    Resource a2 = Resource.builder(A).origin(Origin.of("a2.yaml", 1, "r1")).build();
    // a sorts before b, but b's second resource comes first: b is named, as the given order says
    assertThatThrownBy(() -> State.of("r1", List.of(b1, a1, b2, a2))).isInstanceOf(DuplicateResourceException.class)
        .hasMessageContaining("b1.yaml:1@r1").hasMessageContaining("b2.yaml:1@r1").hasMessageNotContaining("a1.yaml");
  }

  @Test
  void aStateLookupThatMissesIsEmptyNotNull() {
    Resource one = Resource.builder(A).build();
    State s = State.of("r1", List.of(one));
    assertThat(s.get(A)).containsSame(one);
    assertThat(s.get(ResourceKey.of("p", "t", "", "missing"))).isEmpty();
    assertThatThrownBy(() -> s.get(null)).isInstanceOf(NullPointerException.class).hasMessage("key");
  }

  @Test
  void onlyPresentObservationsCarryADocument() {
    assertThat(Observation.present(A, TextNode.valueOf("x"), "v1").isPresent()).isTrue();
    assertThat(Observation.unknown(A, "forbidden").reason()).isEqualTo("forbidden");
    assertThatThrownBy(() -> new Observation(A, Observation.Status.ABSENT, TextNode.valueOf("x"), "", null, ""))
        .hasMessageContaining("only a PRESENT observation");
  }

  @Test
  void patchOperationsValidateTheirShape() {
    assertThat(PatchOp.add("/a", TextNode.valueOf("x")).toJson().toString())
        .isEqualTo("{\"op\":\"add\",\"path\":\"/a\",\"value\":\"x\"}");
    assertThatThrownBy(() -> new PatchOp(PatchOp.Op.REMOVE, "/a", TextNode.valueOf("x"), null))
        .hasMessageContaining("takes no value");
    assertThatThrownBy(() -> new PatchOp(PatchOp.Op.MOVE, "/a", null, null)).hasMessageContaining("needs from");
  }

  @Test
  void planSummarisesAndFindsChanges() {
    Change c = Change.create(Resource.of(A, JsonNodeFactory.instance.objectNode()), "not present");
    Change n = Change.builder(ResourceKey.of("p", "t", "", "b"), Action.NOOP).reason("in sync").build();
    Plan plan = new Plan("id", "r1", List.of(c, n), new java.util.TreeMap<>(), new java.util.TreeMap<>(),
        new java.util.TreeMap<>(), new java.util.TreeMap<>(), new java.util.TreeSet<>());
    assertThat(plan.hasChanges()).isTrue();
    assertThat(plan.change(A)).containsSame(c);
    assertThat(plan.change(ResourceKey.of("p", "t", "", "missing"))).isEmpty();
    assertThat(plan.summary()).isEqualTo("1 to create, 0 to update, 0 to replace, 0 to delete, 0 skipped, 1 unchanged");
    assertThat(plan.isComplete()).isTrue();
    Change f = Change.builder(ResourceKey.of("tf", "x", "", "f"), Action.FORGET).reason("removed").build();
    Change r = Change.builder(ResourceKey.of("tf", "data.x", "", "r"), Action.READ).reason("read").build();
    Plan planning = new Plan("id", "r1", List.of(c, f, r), new java.util.TreeMap<>(), new java.util.TreeMap<>(),
        new java.util.TreeMap<>(), new java.util.TreeMap<>(), new java.util.TreeSet<>());
    assertThat(planning.summary()).as("a planning provider's reads and forgets are counted too")
        .isEqualTo("1 to create, 0 to update, 0 to replace, 0 to delete, 1 to read, 1 to forget, 0 skipped, 0 unchanged");
    assertThat(plan.isQuiet()).isFalse();
    Plan noops = new Plan("id", "r1", List.of(n), new java.util.TreeMap<>(), new java.util.TreeMap<>(),
        new java.util.TreeMap<>(), new java.util.TreeMap<>(), new java.util.TreeSet<>());
    assertThat(noops.isQuiet()).isTrue();
    Change s = Change.builder(A, Action.SKIP).reason("exists but was not created by this reconciler").build();
    Plan skips = new Plan("id", "r1", List.of(n, s), new java.util.TreeMap<>(), new java.util.TreeMap<>(),
        new java.util.TreeMap<>(), new java.util.TreeMap<>(), new java.util.TreeSet<>());
    assertThat(skips.hasChanges()).isFalse();
    assertThat(skips.isQuiet()).as("what is skipped is not in line with Git").isFalse();
  }

  @Test
  void aPlanCopiesItsMapsOnceAndAPlanMadeFromItSharesThem() {
    ResourceKey b = ResourceKey.of("p", "t", "", "b");
    java.util.TreeMap<ResourceKey, String> fingerprints = new java.util.TreeMap<>(Map.of(A, "fa", b, "fb"));
    java.util.TreeSet<ResourceKey> onA = new java.util.TreeSet<>(Set.of(A));
    java.util.TreeMap<ResourceKey, java.util.SortedSet<ResourceKey>> deps = new java.util.TreeMap<>(Map.of(b, onA));
    Plan plan = new Plan("", "r1", List.of(), deps, new java.util.TreeMap<>(), new java.util.TreeMap<>(), fingerprints,
        new java.util.TreeSet<>());
    fingerprints.put(A, "changed");
    onA.add(b);
    assertThat(plan.fingerprints()).containsExactly(Map.entry(A, "fa"), Map.entry(b, "fb"));
    assertThat(plan.dependencies().get(b)).containsExactly(A);
    assertThatThrownBy(() -> plan.fingerprints().put(A, "x")).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> plan.dependencies().get(b).add(b)).isInstanceOf(UnsupportedOperationException.class);
    Plan named = plan.withId("id");
    assertThat(named.fingerprints()).isSameAs(plan.fingerprints());
    assertThat(named.dependencies()).isSameAs(plan.dependencies());
    java.util.TreeMap<ResourceKey, java.util.SortedSet<ResourceKey>> sameDeps = new java.util.TreeMap<>();
    sameDeps.put(b, new java.util.TreeSet<>(Set.of(A)));
    assertThat(named).isEqualTo(new Plan("id", "r1", List.of(), sameDeps, new java.util.TreeMap<>(),
        new java.util.TreeMap<>(), new java.util.TreeMap<>(Map.of(A, "fa", b, "fb")), new java.util.TreeSet<>()));
  }

  @Test
  void aPlanKeepsANullFingerprintAsItDidBefore() {
    java.util.TreeMap<ResourceKey, String> fingerprints = new java.util.TreeMap<>();
    fingerprints.put(A, null);
    Plan plan = new Plan("id", "r1", List.of(), new java.util.TreeMap<>(), new java.util.TreeMap<>(),
        new java.util.TreeMap<>(), fingerprints, new java.util.TreeSet<>());
    assertThat(plan.fingerprints()).containsKey(A);
    assertThat(plan.fingerprints().get(A)).isNull();
    assertThatThrownBy(() -> plan.fingerprints().remove(A)).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void cancellationRunsCallbacksOnceAndReachesChildren() {
    Cancellation parent = new Cancellation();
    Cancellation child = parent.child();
    AtomicInteger calls = new AtomicInteger();
    child.onCancel(calls::incrementAndGet);
    parent.cancel("new revision");
    parent.cancel("again");
    assertThat(child.isCancelled()).isTrue();
    assertThat(child.reason()).isEqualTo("new revision");
    assertThat(calls.get()).isEqualTo(1);
    assertThatThrownBy(child::throwIfCancelled).hasMessageContaining("new revision");
    AtomicInteger late = new AtomicInteger();
    child.onCancel(late::incrementAndGet);
    assertThat(late.get()).isEqualTo(1);
  }

  @Test
  void syncResultReportsFailures() {
    Plan plan = new Plan("id", "r1", List.of(), new java.util.TreeMap<>(), new java.util.TreeMap<>(),
        new java.util.TreeMap<>(), new java.util.TreeMap<>(), new java.util.TreeSet<>());
    java.util.TreeMap<ResourceKey, Outcome> outcomes = new java.util.TreeMap<>();
    outcomes.put(A, Outcome.permanentFailure("boom", null));
    SyncResult r = new SyncResult("r1", plan, SyncResult.Status.FAILED, outcomes, java.time.Duration.ZERO, "");
    assertThat(r.isSuccessful()).isFalse();
    assertThat(r.failures()).containsOnlyKeys(A);
    assertThat(r.changedAnything()).isFalse();
    assertThat(Set.of(Outcome.Kind.values())).filteredOn(Outcome.Kind::isOk).hasSize(5);
  }

  @Test
  void resourceAndObservationTextShowDocumentsOnlyAsDigests() {
    ResourceKey key = ResourceKey.of("m", "thing", "", "db");
    com.fasterxml.jackson.databind.node.ObjectNode doc = JsonNodeFactory.instance.objectNode().put("password", "hunter2-in-text");
    Resource r = Resource.of(key, doc);
    Observation o = Observation.present(key, doc, "v1");
    assertThat(r.toString()).contains("key=m:thing::db").contains("sha256:").doesNotContain("hunter2");
    assertThat(o.toString()).contains("PRESENT").contains("sha256:").doesNotContain("hunter2");
  }

  @Test
  void healthHasAFactoryPerStatusAndReadsAsItsStatusAndMessage() {
    assertThat(Health.missing("web does not exist")).isEqualTo(new Health(Health.Status.MISSING, "web does not exist"));
    assertThat(Health.unknown("no answer")).isEqualTo(new Health(Health.Status.UNKNOWN, "no answer"));
    assertThat(Health.progressing("2 of 3 replicas ready")).hasToString("PROGRESSING (2 of 3 replicas ready)");
    assertThat(Health.healthy()).hasToString("HEALTHY");
    assertThatThrownBy(() -> Health.unknown(null)).isInstanceOf(NullPointerException.class);
  }
}
