package dev.gitops.k8s;

import static dev.gitops.k8s.KubernetesProviderConformanceTest.json;
import static dev.gitops.k8s.MockCluster.until;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldPath;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.DelegatingProvider;
import dev.gitops.api.spi.Source;
import dev.gitops.core.Reconciler;
import dev.gitops.k8s.internal.KindInfo;
import dev.gitops.k8s.internal.KindInformers;
import dev.gitops.k8s.internal.KindTable;
import dev.gitops.testkit.ProviderConformanceSuite;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the provider sends, exactly, including what the mock server cannot act on; and its conflicts
 * through the engine, which observes and plans a refused key again in the same sync.
 */
class KubernetesProviderTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ResourceKey CM = ResourceKey.of("k8s", "/ConfigMap", "default", "cfg");
  private MockCluster cluster;
  private KubernetesProvider provider;

  @BeforeEach
  void start() {
    cluster = new MockCluster();
    provider = KubernetesProvider.builder(cluster.client).build();
  }

  @AfterEach
  void stop() {
    provider.close();
    cluster.close();
  }

  private static CallContext ctx() {
    return CallContext.of("agent", "main@sha1:" + "2".repeat(40), Duration.ofSeconds(20));
  }

  private static Resource configMap(String data) {
    return Resource.of(CM, json("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\","
        + "\"namespace\":\"default\"},\"data\":" + data + "}"));
  }

  private Observation observe(ResourceKey key) {
    return provider.observe(List.of(key), ctx()).get(key);
  }

  private MockCluster.Sent only(String method) {
    List<MockCluster.Sent> rs = cluster.takeSent().stream().filter(r -> r.method().equals(method)).toList();
    assertThat(rs).as(method + " requests").hasSize(1);
    return rs.get(0);
  }

  @Test
  void anUpdateIsAJsonPatchWhoseFirstOperationPinsTheObservedResourceVersion() throws Exception {
    assertThat(provider.apply(ProviderConformanceSuite.createOf(configMap("{\"a\":\"1\"}")), ctx()).isOk()).isTrue();
    Observation before = observe(CM);
    cluster.takeSent();
    Resource changed = configMap("{\"a\":\"2\"}");
    Outcome o = provider.apply(ProviderConformanceSuite.updateOf(changed, provider.normalize(CM, before.live())), ctx());
    assertThat(o.kind()).isEqualTo(Outcome.Kind.CONFIGURED);
    MockCluster.Sent patch = only("PATCH");
    assertThat(patch.path()).isEqualTo("/api/v1/namespaces/default/configmaps/cfg");
    assertThat(patch.contentType()).startsWith("application/json-patch+json");
    JsonNode ops = JSON.readTree(patch.body());
    assertThat(ops.get(0)).isEqualTo(json("{\"op\":\"replace\",\"path\":\"/metadata/resourceVersion\",\"value\":\""
        + before.version() + "\"}"));
    assertThat(ops.get(1)).isEqualTo(json("{\"op\":\"replace\",\"path\":\"/data/a\",\"value\":\"2\"}"));
    JsonNode lastApplied = ops.get(2);
    assertThat(lastApplied.path("path").asText()).isEqualTo("/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration");
    assertThat(lastApplied.path("value").asText()).as("kubectl's form: sorted keys, compact, a final newline").isEqualTo(
        "{\"apiVersion\":\"v1\",\"data\":{\"a\":\"2\"},\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\",\"namespace\":\"default\"}}\n");
    assertThat(ops).hasSize(3);
    assertThat(observe(CM).live().at("/data/a").asText()).isEqualTo("2");
  }

  @Test
  void unmarkRemovesOurLabelAndAnnotationsAndLeavesTheRestSoListMarkedNoLongerFindsIt() {
    assertThat(provider.apply(ProviderConformanceSuite.createOf(configMap("{\"a\":\"1\"}")), ctx()).isOk()).isTrue();
    assertThat(provider.listMarked("agent", ctx())).containsExactly(CM);

    provider.unmark(CM, "other-owner", ctx());  // not its mark: left alone
    assertThat(cluster.client.configMaps().inNamespace("default").withName("cfg").get().getMetadata().getAnnotations())
        .containsEntry(Annotations.OWNER, "agent");

    provider.unmark(CM, "agent", ctx());

    io.fabric8.kubernetes.api.model.ConfigMap live = cluster.client.configMaps().inNamespace("default").withName("cfg")
        .get();
    assertThat(live.getMetadata().getLabels()).doesNotContainKey(Annotations.MANAGED_BY);
    assertThat(live.getMetadata().getAnnotations()).doesNotContainKeys(Annotations.OWNER, Annotations.KEY)
        .containsKey(Annotations.LAST_APPLIED);
    assertThat(live.getData()).containsEntry("a", "1");
    // listed from the ConfigMap informer's cache, which the patch reaches through its watch: not at once
    assertThat(until(() -> provider.listMarked("agent", ctx()).isEmpty())).as("listed no more").isTrue();
    assertThat(observe(CM).mark()).isNull();
    provider.unmark(CM, "agent", ctx());  // again: nothing left to remove, no failure
  }

  @Test
  void aClosedProviderFailsSayingSoWithoutARequestAndStartsNoInformerAgain() {
    assertThat(provider.apply(ProviderConformanceSuite.createOf(configMap("{\"a\":\"1\"}")), ctx()).isOk()).isTrue();
    assertThat(observe(CM).status()).isEqualTo(Observation.Status.PRESENT);
    provider.close();
    cluster.takeSent();
    ResourceKey secret = ResourceKey.of("k8s", "/Secret", "default", "s");

    // a kind already watched and one never watched: neither is listed nor watched again
    for (var call : List.<org.assertj.core.api.ThrowableAssert.ThrowingCallable>of(
        () -> provider.observe(List.of(CM, secret), ctx()),
        () -> provider.apply(ProviderConformanceSuite.updateOf(configMap("{\"a\":\"2\"}"), configMap("{\"a\":\"1\"}")
            .document()), ctx()),
        () -> provider.listMarked("agent", ctx()),
        () -> provider.unmark(CM, "agent", ctx()))) {
      assertThatThrownBy(call).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("KubernetesProvider[k8s, CLIENT_SIDE] is closed");
    }
    // its decoder decodes as one without a cluster
    assertThat(provider.decoder().orElseThrow().decode(new dev.gitops.api.spi.SourceFile("cm.yaml", "b1",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n".getBytes(java.nio.charset.StandardCharsets.UTF_8),
        "main@sha1:" + "2".repeat(40)))).hasSize(1);
    assertThat(cluster.takeSent()).as("no request after close").isEmpty();
    provider.close();  // again: nothing
  }

  @Test
  void informersClosedWhileACallStartsOneStopItAndSaySo() {
    KindInformers informers = new KindInformers(cluster.client);
    KindInfo configMaps = KindTable.builtIn("/ConfigMap").orElseThrow();
    informers.synced(configMaps, Duration.ofSeconds(10));
    informers.close();
    cluster.takeSent();
    assertThatThrownBy(() -> informers.synced(configMaps, Duration.ofSeconds(10)))
        .isInstanceOf(KindInformers.Unavailable.class).hasMessageContaining("the provider is closed: /ConfigMap is not listed");
    assertThat(informers.syncedIn(configMaps, List.of("a"), Duration.ofSeconds(10))).hasEntrySatisfying("a",
        u -> assertThat(u).hasMessageContaining("the provider is closed"));
    assertThat(informers.types()).isEmpty();
    assertThat(cluster.takeSent()).as("no list, no watch").isEmpty();
  }

  private static final String CONFLICT = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
      + "\"reason\":\"Conflict\",\"code\":409,\"message\":\"Operation cannot be fulfilled on configmaps \\\"cfg\\\": "
      + "the object has been modified\"}";

  @Test
  void aConflictThatPersistsIsUnknownSoTheKeyIsObservedAgain() {
    assertThat(provider.apply(ProviderConformanceSuite.createOf(configMap("{\"a\":\"1\"}")), ctx()).isOk()).isTrue();
    Observation before = observe(CM);
    // the server keeps refusing the write, as a real one does while another writer keeps getting in between
    cluster.server.expect().patch().withPath("/api/v1/namespaces/default/configmaps/cfg").andReturn(409, CONFLICT).always();
    cluster.takeSent();
    Outcome o = provider.apply(ProviderConformanceSuite.updateOf(configMap("{\"a\":\"2\"}"),
        provider.normalize(CM, before.live())), ctx());
    assertThat(o.kind()).isEqualTo(Outcome.Kind.UNKNOWN);
    assertThat(o.isConflict()).as("the engine observes and plans it again").isTrue();
    assertThat(o.message()).contains(CM.toString()).contains("the object has been modified").contains("observed");
    assertThat(cluster.takeSent()).extracting(MockCluster.Sent::method).filteredOn("PATCH"::equals).hasSize(3);
  }

  @Test
  void anUpdateOfAnObjectDeletedSinceItWasObservedIsAConflictSoTheEnginePlansItAgain() {
    assertThat(provider.apply(ProviderConformanceSuite.createOf(configMap("{\"a\":\"1\"}")), ctx()).isOk()).isTrue();
    Observation before = observe(CM);
    // deleted (by hand, or with its namespace) after the informer's copy was read: the mock cannot race, so the
    // server's answer is injected
    cluster.server.expect().patch().withPath("/api/v1/namespaces/default/configmaps/cfg").andReturn(404,
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"NotFound\",\"code\":404,"
            + "\"message\":\"configmaps \\\"cfg\\\" not found\"}").once();
    Outcome o = provider.apply(ProviderConformanceSuite.updateOf(configMap("{\"a\":\"2\"}"),
        provider.normalize(CM, before.live())), ctx());
    assertThat(o.isConflict()).as("%s", o).isTrue();
    assertThat(o.message()).contains(CM.toString()).contains("not found").contains("gone since it was observed");
  }

  @Test
  void aConflictOverFieldsNormalizationDropsIsRetriedWithTheNewerVersion() {
    assertThat(provider.apply(ProviderConformanceSuite.createOf(configMap("{\"a\":\"1\"}")), ctx()).isOk()).isTrue();
    Observation before = observe(CM);
    cluster.server.expect().patch().withPath("/api/v1/namespaces/default/configmaps/cfg").andReturn(409, CONFLICT).once();
    Outcome o = provider.apply(ProviderConformanceSuite.updateOf(configMap("{\"a\":\"2\"}"),
        provider.normalize(CM, before.live())), ctx());
    assertThat(o.kind()).as(o.message()).isEqualTo(Outcome.Kind.CONFIGURED);
    assertThat(observe(CM).live().at("/data/a").asText()).isEqualTo("2");
  }

  @Test
  void aStaleChangeIsNotSentButAStatusOnlyChangeIsIgnored() throws Exception {
    assertThat(provider.apply(ProviderConformanceSuite.createOf(configMap("{\"a\":\"1\"}")), ctx()).isOk()).isTrue();
    JsonNode planned = provider.normalize(CM, observe(CM).live());
    cluster.client.configMaps().inNamespace("default").withName("cfg").patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"data\":{\"a\":\"by hand\"}}");
    awaitObserved("by hand");
    cluster.takeSent();
    Outcome stale = provider.apply(ProviderConformanceSuite.updateOf(configMap("{\"a\":\"2\"}"), planned), ctx());
    assertThat(stale.kind()).isEqualTo(Outcome.Kind.UNKNOWN);
    assertThat(stale.message()).contains("changed since it was observed");
    assertThat(stale.isConflict()).isTrue();
    assertThat(cluster.takeSent()).extracting(MockCluster.Sent::method).doesNotContain("PATCH", "PUT", "POST");

    JsonNode now = provider.normalize(CM, observe(CM).live());
    cluster.client.configMaps().inNamespace("default").withName("cfg").patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"{}\"}}}");
    Outcome ok = provider.apply(ProviderConformanceSuite.updateOf(configMap("{\"a\":\"2\"}"), now), ctx());
    assertThat(ok.kind()).as("only what normalization drops changed: the write goes out with the newer version")
        .isEqualTo(Outcome.Kind.CONFIGURED);
  }

  private void awaitObserved(String value) {
    until(() -> observe(CM).live().at("/data/a").asText().equals(value));
  }

  @Test
  void serverSideApplySendsUnderItsFieldManagerForcingConflicts() throws Exception {
    provider.close();
    provider = KubernetesProvider.builder(cluster.client).applyMode(ApplyMode.SERVER_SIDE).fieldManager("shop-gitops")
        .build();
    // CRUD mode answers apply patches with 415: the request itself is what this test pins
    cluster.server.expect().patch().withPath("/api/v1/namespaces/default/configmaps/cfg?fieldManager=shop-gitops&force=true")
        .andReturn(200, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\",\"namespace\":"
            + "\"default\",\"resourceVersion\":\"7\"},\"data\":{\"a\":\"1\"}}").once();
    cluster.takeSent();
    Outcome o = provider.apply(ProviderConformanceSuite.createOf(configMap("{\"a\":\"1\"}")), ctx());
    assertThat(o.kind()).as(o.message()).isEqualTo(Outcome.Kind.CREATED);
    MockCluster.Sent apply = only("PATCH");
    assertThat(apply.path()).isEqualTo("/api/v1/namespaces/default/configmaps/cfg?fieldManager=shop-gitops&force=true");
    assertThat(apply.contentType()).startsWith("application/apply-patch+yaml");
    JsonNode body = JSON.readTree(apply.body());
    assertThat(body.at("/data/a").asText()).isEqualTo("1");
    assertThat(body.at("/metadata/labels").get(Annotations.MANAGED_BY).asText()).isEqualTo("gitops");
    assertThat(body.at("/metadata/annotations").get(Annotations.OWNER).asText()).isEqualTo("agent");
    assertThat(body.at("/metadata/annotations").get(Annotations.KEY).asText()).isEqualTo(CM.toString());
    assertThat(body.at("/metadata/annotations").has(Annotations.LAST_APPLIED)).as("server-side apply keeps no annotation")
        .isFalse();
  }

  @Test
  void aFieldManagerTheServerWouldRefuseForEveryApplyIsRefusedByTheBuilderNamingIt() {
    var b = KubernetesProvider.builder(cluster.client).applyMode(ApplyMode.SERVER_SIDE);
    assertThatThrownBy(() -> b.fieldManager("")).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("fieldManager '' is empty: server-side apply requires one, as the API server requires of a field"
            + " manager (it would refuse every apply made with it)");
    assertThatThrownBy(() -> b.fieldManager("m".repeat(129))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is 129 characters long: at most 128").hasMessageContaining("m".repeat(80) + "...'");
    assertThatThrownBy(() -> b.fieldManager("gitops\nshop")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("fieldManager 'gitops\\u000ashop' has a character that is not printable");
    assertThatThrownBy(() -> b.fieldManager("gitops\u00a0shop")).as("a no-break space: Go's IsPrint takes ASCII's only")
        .isInstanceOf(IllegalArgumentException.class);
    // what the server takes: 128 characters, a space, letters of any script
    for (String ok : List.of("m".repeat(128), "gitops shop", "gitöps-ß/2")) {
      b.fieldManager(ok);
    }
  }

  @Test
  void serverSideApplySendsOnlyWhatGitDeclaresSoOtherManagersFieldsAreNeverTakenOver() throws Exception {
    provider.close();
    provider = KubernetesProvider.builder(cluster.client).applyMode(ApplyMode.SERVER_SIDE).build();
    cluster.server.expect().patch().withPath("/api/v1/namespaces/default/configmaps/cfg?fieldManager=gitops&force=true")
        .andReturn(200, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\",\"namespace\":"
            + "\"default\",\"resourceVersion\":\"8\"}}").once();
    JsonNode desired = json("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\","
        + "\"namespace\":\"default\",\"annotations\":{\"note\":\"from-git\"}},\"data\":{\"a\":\"1\"},"
        + "\"list\":[{\"name\":\"x\"}]}");
    // the plan's target: Git's fields, plus a label another manager set, an ignored annotation at its live value,
    // and a list with an element another manager added
    JsonNode target = json("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\","
        + "\"namespace\":\"default\",\"labels\":{\"team\":\"theirs\"},\"annotations\":{\"note\":\"by-hand\"}},"
        + "\"data\":{\"a\":\"1\"},\"list\":[{\"name\":\"x\"},{\"name\":\"sidecar\"}]}");
    Change update = Change.builder(CM, dev.gitops.api.Action.UPDATE).desired(Resource.of(CM, desired)).live(target)
        .target(target).reason("test").build();
    cluster.takeSent();
    Outcome o = provider.apply(update, ctx());
    assertThat(o.isOk()).as(o.message()).isTrue();
    JsonNode body = JSON.readTree(only("PATCH").body());
    assertThat(body.at("/data/a").asText()).isEqualTo("1");
    assertThat(body.at("/metadata/labels").has("team")).as("another manager's label").isFalse();
    assertThat(body.at("/metadata/labels").get(Annotations.MANAGED_BY).asText()).isEqualTo("gitops");
    assertThat(body.at("/metadata/annotations").has("note")).as("ignored: left to whoever owns it").isFalse();
    assertThat(body.at("/metadata/annotations").get(Annotations.OWNER).asText()).isEqualTo("agent");
    assertThat(body.get("list")).as("as declared").isEqualTo(json("[{\"name\":\"x\"}]"));
  }

  @Test
  void serverSideApplyDoesNotCreateOverAnObjectThatAppearedSinceThePlan() {
    provider.close();
    provider = KubernetesProvider.builder(cluster.client).applyMode(ApplyMode.SERVER_SIDE).build();
    assertThat(observe(CM).isAbsent()).isTrue();
    // planned absent; then another team creates it, marked as theirs
    cluster.client.configMaps().resource(new ConfigMapBuilder().withNewMetadata().withName("cfg").withNamespace("default")
        .addToLabels(Annotations.MANAGED_BY, Annotations.MANAGED_BY_VALUE).addToAnnotations(Annotations.OWNER, "other-team")
        .addToAnnotations(Annotations.KEY, CM.toString()).endMetadata().addToData("a", "theirs").build()).create();
    cluster.takeSent();

    Outcome o = provider.apply(ProviderConformanceSuite.createOf(configMap("{\"a\":\"1\"}")), ctx());

    assertThat(o.isConflict()).as("%s", o).isTrue();
    assertThat(o.message()).contains("appeared since it was observed").contains("marked by other-team");
    assertThat(cluster.takeSent()).extracting(MockCluster.Sent::method).as("an apply patch would take it over")
        .doesNotContain("PATCH");
    assertThat(cluster.get("/ConfigMap", "default", "cfg").getMetadata().getAnnotations())
        .containsEntry(Annotations.OWNER, "other-team");
  }

  @Test
  void theLastAppliedAnnotationIsLeftOutAboveTheAnnotationsLimit() throws Exception {
    String big = "x".repeat(KubernetesProvider.ANNOTATIONS_LIMIT);
    assertThat(provider.apply(ProviderConformanceSuite.createOf(configMap("{\"big\":\"" + big + "\"}")), ctx()).isOk())
        .isTrue();
    Map<String, String> annotations = cluster.get("/ConfigMap", "default", "cfg").getMetadata().getAnnotations();
    assertThat(annotations).doesNotContainKey(Annotations.LAST_APPLIED).containsKey(Annotations.OWNER);
    assertThat(provider.apply(ProviderConformanceSuite.createOf(configMap("{\"small\":\"1\"}")), ctx()).isOk()).isTrue();
  }

  /**
   * Deletes the ConfigMap cfg and creates an unmarked one of that name holding {@code value} (what
   * another team might do between a sync's observe and its apply), waits until the provider sees it
   * unmarked and forgets the requests sent so far; returns the new object's uid.
   */
  private String replacedByAnUnmarkedOne(String value) throws InterruptedException {
    cluster.client.configMaps().inNamespace("default").withName("cfg").delete();
    cluster.client.configMaps().inNamespace("default").resource(new ConfigMapBuilder().withNewMetadata().withName("cfg")
        .withNamespace("default").endMetadata().addToData("a", value).build()).create();
    String uid = cluster.get("/ConfigMap", "default", "cfg").getMetadata().getUid();
    // present and unmarked: an absent observation has no mark either (the provider's view between
    // the delete and the create), and a delete planned then would find nothing to delete
    until(() -> theirsSeen(uid));
    assertThat(theirsSeen(uid)).as("the provider sees the unmarked object %s", uid).isTrue();
    cluster.takeSent();
    return uid;
  }

  /** Whether the provider observes the object of {@code uid}, unmarked. */
  private boolean theirsSeen(String uid) {
    Observation o = observe(CM);
    return o.isPresent() && o.mark() == null && uid.equals(o.live().at("/metadata/uid").asText());
  }

  /** The one DELETE sent is preconditioned on {@code version} and propagates as {@code policy}. */
  private void assertTheOnlyDeleteIsPinned(String version, String policy) {
    MockCluster.Sent delete = only("DELETE");
    assertThat(json(delete.body()).at("/preconditions/resourceVersion").asText()).as(delete.body()).isEqualTo(version);
    assertThat(json(delete.body()).at("/propagationPolicy").asText()).isEqualTo(policy);
  }

  @Test
  void aDeleteDoesNotRemoveAnObjectThatLostOurMarkSinceItWasObserved() throws Exception {
    Resource mine = configMap("{\"a\":\"1\"}");
    assertThat(provider.apply(ProviderConformanceSuite.createOf(mine), ctx()).kind()).isEqualTo(Outcome.Kind.CREATED);
    JsonNode planned = observe(CM).live();
    // between observe and apply another team deletes ours and creates its own object of that name
    String theirs = replacedByAnUnmarkedOne("1");

    Outcome o = provider.apply(ProviderConformanceSuite.deleteOf(mine, planned), ctx());

    assertThat(o.isConflict()).as("%s", o).isTrue();
    assertThat(o.message()).contains("no longer carries our mark");
    assertThat(cluster.takeSent()).extracting(MockCluster.Sent::method).doesNotContain("DELETE");
    assertThat(cluster.get("/ConfigMap", "default", "cfg").getMetadata().getUid()).as("theirs, untouched").isEqualTo(theirs);
  }

  @Test
  void anUpdateDoesNotWriteOverTheMarkOfAnotherOwnerThatTookTheObjectSinceItWasObserved() {
    for (ApplyMode mode : ApplyMode.values()) {
      cluster.client.configMaps().inNamespace("default").withName("cfg").delete();
      assertThat(until(() -> cluster.get("/ConfigMap", "default", "cfg") == null)).isTrue();
      // created client-side (the mock answers apply patches with 415), then updated in the mode under test
      assertThat(provider.apply(ProviderConformanceSuite.createOf(configMap("{\"a\":\"1\"}")), ctx()).isOk()).isTrue();
      provider.close();
      provider = KubernetesProvider.builder(cluster.client).applyMode(mode).build();
      Observation before = observe(CM);
      assertThat(before.mark().owner()).isEqualTo("agent");
      // between observe and apply another reconciler adopts it: its mark, nothing else changed
      cluster.client.configMaps().inNamespace("default").withName("cfg").edit(c -> {
        c.getMetadata().getAnnotations().put(Annotations.OWNER, "other-team");
        return c;
      });
      assertThat(until(() -> "other-team".equals(observe(CM).mark().owner()))).isTrue();
      cluster.takeSent();

      Outcome o = provider.apply(ProviderConformanceSuite.updateOf(configMap("{\"a\":\"2\"}"),
          provider.normalize(CM, before.live())), ctx());

      assertThat(o.isConflict()).as("%s: %s", mode, o).isTrue();
      assertThat(o.message()).containsAnyOf("update not sent", "apply not sent").contains("mark of other-team");
      assertThat(cluster.takeSent()).as(mode.toString()).extracting(MockCluster.Sent::method).doesNotContain("PATCH");
      var theirs = cluster.get("/ConfigMap", "default", "cfg");
      assertThat(theirs.getMetadata().getAnnotations()).as(mode.toString()).containsEntry(Annotations.OWNER, "other-team");
      assertThat(theirs.getAdditionalProperties().get("data").toString()).isEqualTo("{a=1}");
    }
  }

  @Test
  void aWriteTheServerAnswersWith429Or5xxIsSentOnceWithinItsDeadlineAndLeftToTheEnginesRetries() {
    // fabric8 by itself sends such a request ten more times over ~20 s, past the call's deadline
    cluster.server.expect().post().withPath("/api/v1/namespaces/default/configmaps").andReturn(503,
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"code\":503,\"message\":\"etcd is down\"}")
        .once();  // sent again, the mock's CRUD would answer it
    cluster.takeSent();
    long start = System.nanoTime();
    Outcome created = provider.apply(ProviderConformanceSuite.createOf(configMap("{\"a\":\"1\"}")),
        CallContext.of("agent", "r1", Duration.ofSeconds(3)));
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
    assertThat(created.kind()).as("%s", created).isEqualTo(Outcome.Kind.TRANSIENT);
    assertThat(created.message()).contains(CM.toString()).contains("create failed").contains("etcd is down");
    assertThat(cluster.takeSent()).extracting(MockCluster.Sent::method).filteredOn("POST"::equals).hasSize(1);

    cluster.client.configMaps().resource(new ConfigMapBuilder().withNewMetadata().withName("cfg").withNamespace("default")
        .endMetadata().addToData("a", "1").build()).create();
    Observation before = observe(CM);
    cluster.server.expect().patch().withPath("/api/v1/namespaces/default/configmaps/cfg").andReturn(429,
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"code\":429,\"message\":\"too many requests\"}")
        .once();
    cluster.takeSent();
    Outcome updated = provider.apply(ProviderConformanceSuite.updateOf(configMap("{\"a\":\"2\"}"),
        provider.normalize(CM, before.live())), ctx());
    assertThat(updated.kind()).as("%s", updated).isEqualTo(Outcome.Kind.TRANSIENT);
    assertThat(updated.message()).contains(CM.toString()).contains("update failed").contains("too many requests");
    assertThat(cluster.takeSent()).extracting(MockCluster.Sent::method).filteredOn("PATCH"::equals).hasSize(1);
  }

  @Test
  void aDeleteIsPreconditionedOnTheResourceVersionOfTheObjectItChecked() {
    assertTheDeleteOfIsPinned(live -> ProviderConformanceSuite.deleteOf(configMap("{\"a\":\"1\"}"), live),
        Outcome.Kind.DELETED, "Background");
  }

  /**
   * Creates the ConfigMap, observes it, applies the change {@code change} makes of what was observed
   * and checks its outcome and that its only DELETE is pinned to the version observed.
   */
  private void assertTheDeleteOfIsPinned(java.util.function.Function<JsonNode, Change> change, Outcome.Kind kind,
      String policy) {
    provider.apply(ProviderConformanceSuite.createOf(configMap("{\"a\":\"1\"}")), ctx());
    Observation seen = observe(CM);
    String version = cluster.get("/ConfigMap", "default", "cfg").getMetadata().getResourceVersion();
    cluster.takeSent();

    Outcome o = provider.apply(change.apply(seen.live()), ctx());

    assertThat(o.kind()).as("%s", o).isEqualTo(kind);
    assertTheOnlyDeleteIsPinned(version, policy);
  }

  @Test
  void aDeleteRefusedBecauseOurObjectChangedIsSentAgainWhileItIsStillOurs() {
    Resource mine = configMap("{\"a\":\"1\"}");
    provider.apply(ProviderConformanceSuite.createOf(mine), ctx());
    Observation seen = observe(CM);
    // a controller wrote to it (its status, say) after we looked: the server refuses the pinned delete once
    cluster.server.expect().delete().withPath("/api/v1/namespaces/default/configmaps/cfg").andReturn(409, CONFLICT).once();
    cluster.takeSent();

    Outcome o = provider.apply(ProviderConformanceSuite.deleteOf(mine, seen.live()), ctx());

    assertThat(o.kind()).as("%s", o).isEqualTo(Outcome.Kind.DELETED);
    assertThat(cluster.takeSent()).extracting(MockCluster.Sent::method).filteredOn("DELETE"::equals).hasSize(2);
    assertThat(cluster.get("/ConfigMap", "default", "cfg")).isNull();
  }

  @Test
  void aBuiltInKindWrittenAtAnotherServedVersionIsReadAndWrittenAtThatVersion() {
    // autoscaling/v1 is still served next to v2 (the table's version); the server refuses a v1 body sent to a v2 URL,
    // and a v1 manifest compared with a v2 object would differ forever
    List<Resource> hpa = provider.decoder().orElseThrow().decode(new dev.gitops.api.spi.SourceFile("hpa.yaml", "b1", """
        apiVersion: autoscaling/v1
        kind: HorizontalPodAutoscaler
        metadata: {name: web}
        spec:
          scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
          maxReplicas: 3
          targetCPUUtilizationPercentage: 80
        """.getBytes(java.nio.charset.StandardCharsets.UTF_8), "r1"));
    desired.set(State.of("r1", hpa));
    var store = new dev.gitops.core.store.InMemoryStateStore();
    cluster.takeSent();

    SyncResult r = reconciler(store).sync();

    assertThat(r.status()).as("%s", r.outcomes()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(cluster.takeSent()).filteredOn(s -> s.path().contains("horizontalpodautoscalers")).isNotEmpty()
        .allSatisfy(s -> assertThat(s.path()).as(s.method()).startsWith("/apis/autoscaling/v1/"));
    SyncResult again = reconciler(store).sync();
    assertThat(again.plan().changes()).extracting(Change::action).containsOnly(dev.gitops.api.Action.NOOP);
  }

  @Test
  void aKindTheClusterDoesNotServeNamesTheFileAndLineThatDeclaresIt() {
    // a typo in a kind: with a namespace given the decoder cannot tell it from a custom kind; the cluster can
    provider.decoder().orElseThrow().decode(new dev.gitops.api.spi.SourceFile("apps/web.yaml", "b1", """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: b}
        ---
        apiVersion: apps/v1
        kind: Deploymnet
        metadata: {name: web, namespace: shop}
        """.getBytes(java.nio.charset.StandardCharsets.UTF_8), "r1"));
    ResourceKey typo = ResourceKey.of("k8s", "apps/Deploymnet", "shop", "web");

    Observation o = observe(typo);

    assertThat(o.status()).isEqualTo(Observation.Status.UNKNOWN);
    assertThat(o.reason()).contains("no kind apps/Deploymnet").contains("apps/web.yaml:5");
    Outcome applied = provider.apply(ProviderConformanceSuite.createOf(Resource.of(typo, json(
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deploymnet\",\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\"}}"))),
        ctx());
    assertThat(applied.message()).contains("no kind apps/Deploymnet").contains("apps/web.yaml:5");
  }

  @Test
  void anEmptyClusterIpOrAZeroNodePortAsksTheServerToAllocateAndNeverReplacesTheService() {
    // charts write clusterIP: "" and nodePort: 0 for "allocate one"; on update the server keeps what it allocated
    List<Resource> svc = provider.decoder().orElseThrow().decode(new dev.gitops.api.spi.SourceFile("svc.yaml", "b1", """
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec:
          type: NodePort
          clusterIP: ""
          clusterIPs: []
          ports: [{port: 80, nodePort: 0}]
        """.getBytes(java.nio.charset.StandardCharsets.UTF_8), "r1"));
    desired.set(State.of("r1", svc));
    var store = new dev.gitops.core.store.InMemoryStateStore();
    assertThat(reconciler(store).sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    // what the API server does on create (the mock does not): allocate
    cluster.client.services().inNamespace("default").withName("web").patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"spec\":{\"clusterIP\":\"10.96.0.17\",\"clusterIPs\":[\"10.96.0.17\"],"
            + "\"ports\":[{\"port\":80,\"protocol\":\"TCP\",\"nodePort\":31080}]}}");
    ResourceKey key = ResourceKey.of("k8s", "/Service", "default", "web");
    until(() -> observe(key).live().at("/spec/clusterIP").asText().equals("10.96.0.17"));

    SyncResult again = reconciler(store).sync();

    assertThat(again.plan().change(key).orElseThrow().action()).as("%s", again.plan().change(key))
        .isEqualTo(dev.gitops.api.Action.NOOP);
    assertThat(cluster.client.services().inNamespace("default").withName("web").get().getSpec().getClusterIP())
        .isEqualTo("10.96.0.17");
  }

  @Test
  void anObjectWhoseMarkWasRemovedByHandGetsItBackAndIsStillPrunedWhenItLeavesGit() {
    var store = new dev.gitops.core.store.InMemoryStateStore();
    String other = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\n";
    desired.set(State.of("r1", decode("r1", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: '1'}\n---\n"
        + other)));
    assertThat(withoutHealth(store).sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    // someone strips our label (kubectl label cm cfg app.kubernetes.io/managed-by-): nothing else changes
    cluster.client.configMaps().inNamespace("default").withName("cfg").edit(c -> {
      c.getMetadata().getLabels().remove(Annotations.MANAGED_BY);
      return c;
    });
    assertThat(until(() -> observe(CM).mark() == null)).isTrue();

    Change c = withoutHealth(store).plan().change(CM).orElseThrow();
    assertThat(c.action()).as(c.reason()).isEqualTo(Action.UPDATE);
    assertThat(c.reason()).contains("mark is gone");
    assertThat(withoutHealth(store).sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(cluster.get("/ConfigMap", "default", "cfg").getMetadata().getLabels())
        .containsEntry(Annotations.MANAGED_BY, Annotations.MANAGED_BY_VALUE);

    desired.set(State.of("r2", decode("r2", other)));
    SyncResult gone = withoutHealth(store).sync();
    assertThat(gone.outcomes().get(CM).kind()).as("%s", gone.outcomes()).isEqualTo(Outcome.Kind.DELETED);
    assertThat(cluster.get("/ConfigMap", "default", "cfg")).isNull();
  }

  /** A reconciler over the provider that does not wait for health: no controller runs Deployments or Jobs here. */
  private Reconciler withoutHealth(dev.gitops.core.store.InMemoryStateStore store) {
    return Reconciler.builder().source(Source.of(desired::get)).provider(provider).store(store).owner("agent")
        .options(dev.gitops.core.SyncOptions.builder().execution(dev.gitops.core.apply.ExecutionOptions.defaults()
            .withWaitForHealth(false)).build()).build();
  }

  private List<Resource> decode(String revision, String yaml) {
    return provider.decoder().orElseThrow().decode(new dev.gitops.api.spi.SourceFile("app.yaml", "b" + revision,
        yaml.getBytes(java.nio.charset.StandardCharsets.UTF_8), revision));
  }

  @Test
  void emptyListsAndMapsTheServerDropsPlanNoChangeAfterASync() {
    // what charts write: the API server drops empty lists and maps (omitempty), and keeps empty structs
    desired.set(State.of("r1", decode("r1", """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, annotations: {}}
        spec:
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}, annotations: {}}
            spec:
              nodeSelector: {}
              tolerations: []
              imagePullSecrets: []
              securityContext: {}
              volumes: [{name: tmp, emptyDir: {}}]
              containers:
              - name: web
                image: web:1
                args: []
                env: []
                resources: {limits: {}, requests: {}}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: cfg}
        data: {}
        """)));
    var store = new dev.gitops.core.store.InMemoryStateStore();
    SyncResult first = withoutHealth(store).sync();
    assertThat(first.status()).as("%s", first.outcomes()).isEqualTo(SyncResult.Status.SUCCEEDED);
    // what the API server stores (the mock keeps what it is sent): no empty list or map (the object's own
    // annotations are not empty: they hold our mark, which the server keeps)
    cluster.client.apps().deployments().inNamespace("default").withName("web").patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":null},"
            + "\"spec\":{\"nodeSelector\":null,\"tolerations\":null,\"imagePullSecrets\":null,"
            + "\"containers\":[{\"name\":\"web\",\"image\":\"web:1\",\"resources\":{}}]}}}}");
    cluster.client.configMaps().inNamespace("default").withName("cfg").patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"data\":null}");
    ResourceKey web = ResourceKey.of("k8s", "apps/Deployment", "default", "web");
    until(() -> !observe(web).live().at("/spec/template/spec").has("tolerations"));
    JsonNode spec = observe(web).live().at("/spec/template/spec");
    assertThat(spec.at("/volumes/0/emptyDir").isObject()).as("an empty struct means something: kept").isTrue();
    assertThat(spec.has("securityContext")).isTrue();
    assertThat(spec.at("/containers/0/resources").isObject()).isTrue();

    dev.gitops.api.Plan again = withoutHealth(store).plan();

    assertThat(again.changes()).allSatisfy(c -> assertThat(c.action()).as("%s: %s %s", c.key(), c.reason(), c.fields())
        .isEqualTo(dev.gitops.api.Action.NOOP));
  }

  @Test
  void aReplaceCreatesWhatGitDeclaresNotTheFieldsTheServerSetOnTheOldObject() throws Exception {
    String job = """
        apiVersion: batch/v1
        kind: Job
        metadata: {name: migrate}
        spec:
          template:
            spec:
              restartPolicy: Never
              containers: [{name: migrate, image: "migrate:%s"}]
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: cfg}
        """;  // the ConfigMap: replacing all that is ours would be refused by the mass-deletion guard
    desired.set(State.of("r1", decode("r1", job.formatted("1"))));
    var store = new dev.gitops.core.store.InMemoryStateStore();
    assertThat(withoutHealth(store).sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    // what the API server does on create (the mock does not): a selector on the Job's uid, and its labels on the template
    ResourceKey key = ResourceKey.of("k8s", "batch/Job", "default", "migrate");
    String uid = cluster.client.batch().v1().jobs().inNamespace("default").withName("migrate").get().getMetadata().getUid();
    cluster.client.batch().v1().jobs().inNamespace("default").withName("migrate").patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"spec\":{\"selector\":{\"matchLabels\":{\"batch.kubernetes.io/controller-uid\":\"" + uid + "\"}},"
            + "\"template\":{\"metadata\":{\"labels\":{\"batch.kubernetes.io/controller-uid\":\"" + uid + "\","
            + "\"batch.kubernetes.io/job-name\":\"migrate\"}}}}}");
    until(() -> observe(key).live().at("/spec/selector").isObject());
    desired.set(State.of("r2", decode("r2", job.formatted("2"))));
    cluster.takeSent();

    SyncResult r = withoutHealth(store).sync();

    assertThat(r.plan().change(key).orElseThrow().action()).isEqualTo(dev.gitops.api.Action.REPLACE);
    assertThat(r.status()).as("%s", r.outcomes()).isEqualTo(SyncResult.Status.SUCCEEDED);
    JsonNode created = json(only("POST").body());
    assertThat(created.at("/spec/template/spec/containers/0/image").asText()).isEqualTo("migrate:2");
    // a real server refuses a selector on the old uid (422: `selector` not auto-generated)
    assertThat(created.at("/spec").has("selector")).as("%s", created).isFalse();
    assertThat(created.at("/spec/template/metadata/labels").toString()).doesNotContain(uid);
    assertThat(created.at("/metadata/annotations").get(Annotations.OWNER).asText()).isEqualTo("agent");
  }

  @Test
  void aReplaceDoesNotDeleteAnObjectThatChangedOrLostOurMarkSinceItWasObserved() throws Exception {
    Resource mine = configMap("{\"a\":\"1\"}");
    provider.apply(ProviderConformanceSuite.createOf(mine), ctx());
    JsonNode planned = observe(CM).live();
    // between observe and apply another team deletes ours and creates its own object of that name
    String theirs = replacedByAnUnmarkedOne("theirs");

    Outcome o = provider.apply(ProviderConformanceSuite.replaceOf(configMap("{\"a\":\"2\"}"), planned), ctx());

    assertThat(o.isConflict()).as("%s", o).isTrue();
    assertThat(cluster.takeSent()).extracting(MockCluster.Sent::method).doesNotContain("DELETE");
    assertThat(cluster.get("/ConfigMap", "default", "cfg").getMetadata().getUid()).as("theirs, untouched").isEqualTo(theirs);
  }

  @Test
  void aReplaceDeletesPinnedToTheResourceVersionItChecked() {
    assertTheDeleteOfIsPinned(live -> ProviderConformanceSuite.replaceOf(configMap("{\"a\":\"2\"}"), live),
        Outcome.Kind.CONFIGURED, "Foreground");
  }

  /**
   * A started stand-in for the controller of a finalizer: once ConfigMap {@code name} in {@code
   * default} is being deleted, it waits a little and removes the finalizers (bounded: 400 looks).
   */
  private Thread finalizerControllerOf(String name) {
    Thread finalizer = new Thread(() -> {
      try {
        for (int i = 0; i < 400; i++) {
          var cm = cluster.client.configMaps().inNamespace("default").withName(name).get();
          if (cm != null && cm.getMetadata().getDeletionTimestamp() != null) {
            Thread.sleep(200);  // the finalizer's controller takes its time
            cluster.client.configMaps().inNamespace("default").withName(name).patch(PatchContext.of(PatchType.JSON_MERGE),
                "{\"metadata\":{\"finalizers\":null}}");
            return;
          }
          Thread.sleep(10);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    finalizer.start();
    return finalizer;
  }

  @Test
  void aReplaceWaitsForFinalizersBeforeCreatingAgain() throws Exception {
    Resource first = configMap("{\"a\":\"1\"}");
    cluster.client.configMaps().inNamespace("default").resource(new ConfigMapBuilder().withNewMetadata().withName("cfg")
        .withNamespace("default").addToFinalizers("example.com/hold").endMetadata().addToData("a", "0").build()).create();
    JsonNode live = observe(CM).live();
    Thread finalizer = finalizerControllerOf("cfg");
    Outcome o = provider.apply(ProviderConformanceSuite.replaceOf(first, live), ctx());
    finalizer.join(10_000);
    assertThat(o.kind()).as(o.message()).isEqualTo(Outcome.Kind.CONFIGURED);
    var now = cluster.get("/ConfigMap", "default", "cfg");
    assertThat(now.getMetadata().getUid()).isNotEqualTo(live.at("/metadata/uid").asText());
    assertThat(now.getMetadata().getFinalizers()).isEmpty();
  }

  @Test
  void anObjectGitDeclaresThatIsBeingDeletedIsNeitherInSyncNorUpdatedButCreatedAgainOnceGone() {
    String cm = """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: cfg}
        data: {a: "%s"}
        """;
    desired.set(State.of("r1", decode("r1", cm.formatted("1"))));
    var store = new dev.gitops.core.store.InMemoryStateStore();
    assertThat(withoutHealth(store).sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    // kubectl delete by someone else while a finalizer holds it: the server sets deletionTimestamp and keeps it
    cluster.client.configMaps().inNamespace("default").withName("cfg").edit(c -> {
      c.getMetadata().setFinalizers(List.of("example.com/hold"));
      return c;
    });
    cluster.client.configMaps().inNamespace("default").withName("cfg").delete();
    // one observation per look: between two, the informer may see the deletion (and the key turn UNKNOWN, no live)
    until(() -> {
      Observation o = observe(CM);
      return !o.isPresent() || o.live().at("/metadata").has("deletionTimestamp");
    });
    assertThat(cluster.get("/ConfigMap", "default", "cfg").getMetadata().getDeletionTimestamp()).isNotNull();

    SyncResult unchanged = withoutHealth(store).sync();
    assertThat(unchanged.status()).as("not reported in sync while it goes away: %s", unchanged.plan().changes())
        .isEqualTo(SyncResult.Status.INCOMPLETE);
    assertThat(unchanged.plan().unknown()).contains(CM);
    Observation seen = observe(CM);
    assertThat(seen.status()).as("%s", seen).isEqualTo(Observation.Status.UNKNOWN);
    assertThat(seen.reason()).contains("being deleted").contains("example.com/hold").contains("app.yaml:1");

    desired.set(State.of("r2", decode("r2", cm.formatted("2"))));
    cluster.takeSent();
    SyncResult changed = withoutHealth(store).sync();
    assertThat(changed.status()).isEqualTo(SyncResult.Status.INCOMPLETE);
    assertThat(cluster.takeSent()).as("no update fights the deletion").extracting(MockCluster.Sent::method)
        .doesNotContain("PATCH", "PUT", "POST", "DELETE");

    cluster.client.configMaps().inNamespace("default").withName("cfg").edit(c -> {
      c.getMetadata().setFinalizers(null);
      return c;
    });
    until(() -> observe(CM).isAbsent());
    SyncResult after = withoutHealth(store).sync();
    assertThat(after.status()).as("%s", after.outcomes()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(after.plan().change(CM).orElseThrow().action()).isEqualTo(dev.gitops.api.Action.CREATE);
    assertThat(cluster.client.configMaps().inNamespace("default").withName("cfg").get().getData()).containsEntry("a", "2");
  }

  @Test
  void anUpdateOfAnObjectBeingDeletedIsNotSentButObservedAndPlannedAgain() {
    // a resource handed to the engine without the provider's decoder: observed PRESENT, so only apply can tell
    cluster.client.configMaps().inNamespace("default").resource(new ConfigMapBuilder().withNewMetadata().withName("cfg")
        .withNamespace("default").addToFinalizers("example.com/hold").endMetadata().addToData("a", "1").build()).create();
    cluster.client.configMaps().inNamespace("default").withName("cfg").delete();
    until(() -> observe(CM).live().at("/metadata").has("deletionTimestamp"));
    Observation before = observe(CM);
    assertThat(before.isPresent()).as("not declared through the decoder: present, as it is").isTrue();
    cluster.takeSent();

    Outcome o = provider.apply(ProviderConformanceSuite.updateOf(configMap("{\"a\":\"2\"}"),
        provider.normalize(CM, before.live())), ctx());

    assertThat(o.isConflict()).as("%s", o).isTrue();
    assertThat(o.message()).contains(CM.toString()).contains("update not sent").contains("being deleted")
        .contains("example.com/hold");
    assertThat(cluster.takeSent()).extracting(MockCluster.Sent::method).doesNotContain("PATCH", "PUT");
  }

  @Test
  void aDeleteOfOursWaitsForFinalizersAndIsNotHeldBackAsUnknown() throws Exception {
    desired.set(State.of("r1", decode("r1", """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: cfg, finalizers: [example.com/hold]}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: keep}
        """)));
    var store = new dev.gitops.core.store.InMemoryStateStore();
    assertThat(withoutHealth(store).sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    desired.set(State.of("r2", decode("r2", """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: keep}
        """)));
    Thread finalizer = finalizerControllerOf("cfg");
    SyncResult r = withoutHealth(store).sync();
    finalizer.join(10_000);
    assertThat(r.status()).as("%s", r.outcomes()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(r.outcomes().get(CM).kind()).isEqualTo(Outcome.Kind.DELETED);
    assertThat(cluster.get("/ConfigMap", "default", "cfg")).isNull();
  }

  @Test
  void aReplaceThatOutlastsItsDeadlineOnFinalizersIsUnknown() {
    cluster.client.configMaps().inNamespace("default").resource(new ConfigMapBuilder().withNewMetadata().withName("cfg")
        .withNamespace("default").addToFinalizers("example.com/hold").endMetadata().build()).create();
    JsonNode live = observe(CM).live();
    Outcome o = provider.apply(ProviderConformanceSuite.replaceOf(configMap("{}"), live),
        CallContext.of("agent", "r", Duration.ofMillis(500)));
    assertThat(o.kind()).isEqualTo(Outcome.Kind.UNKNOWN);
    assertThat(o.message()).contains("still there").contains("example.com/hold");
  }

  @Test
  void aKindTheClusterDoesNotServeIsUnknownUnlessItsCrdIsInTheDesiredState() {
    // a CRD of its group defines another kind, and an aggregated API's APIService of the group may serve Gadgets
    cluster.client.apiextensions().v1().customResourceDefinitions().resource(io.fabric8.kubernetes.client.utils
        .Serialization.unmarshal(Manifests.CRD,
            io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition.class)).create();
    apiService("v1beta1.example.com", "example.com", true);
    ResourceKey gadget = ResourceKey.of("k8s", "example.com/Gadget", "default", "g");
    Observation o = observe(gadget);
    assertThat(o.status()).isEqualTo(Observation.Status.UNKNOWN);
    assertThat(o.reason()).contains("no kind example.com/Gadget");
    provider.decoder().orElseThrow().decode(KubernetesDecoderTest.file("crd.yaml", Manifests.CRD.replace("Widget", "Gadget")
        .replace("widgets", "gadgets").replace("widget,", "gadget,")));
    ResourceKey widgetKind = ResourceKey.of("k8s", "example.com/Gadget", "shop", "banner");
    assertThat(observe(widgetKind).status()).as("its CRD is about to be created: no object can exist yet")
        .isEqualTo(Observation.Status.ABSENT);
  }

  @Test
  void aCustomObjectWhoseCrdIsOnlyInTheClusterTakesItsScopeFromTheCluster() {
    String crd = Manifests.CRD.replace("widgets", "gizmos").replace("Widget", "Gizmo").replace("widget", "gizmo")
        .replace("scope: Namespaced", "scope: Cluster");
    cluster.client.apiextensions().v1().customResourceDefinitions().resource(io.fabric8.kubernetes.client.utils
        .Serialization.unmarshal(crd, io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition.class))
        .create();
    var decoder = provider.decoder().orElseThrow();
    List<Resource> rs = decoder.decodeTogether(List.of(KubernetesDecoderTest.file("a.yaml",
        "apiVersion: example.com/v1\nkind: Gizmo\nmetadata: {name: g, namespace: ignored}\n"),
        KubernetesDecoderTest.file("b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")));
    assertThat(rs).extracting(Resource::key).contains(ResourceKey.of("k8s", "example.com/Gizmo", "", "g"));
    assertThat(rs.get(0).document().path("metadata").has("namespace")).isFalse();
  }

  @Test
  void aWriteForbiddenInOneNamespaceFailsOnlyThatObjectNamingItAndTheVerb() {
    // the usual split: read everywhere (a ClusterRole "view"), write only where a RoleBinding allows it
    cluster.server.expect().post().withPath("/api/v1/namespaces/payments/configmaps").andReturn(403,
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"Forbidden\",\"code\":403,"
            + "\"message\":\"configmaps is forbidden: User \\\"gitops\\\" cannot create resource \\\"configmaps\\\" in API "
            + "group \\\"\\\" in the namespace \\\"payments\\\"\"}").always();
    desired.set(State.of("r1", decode("r1", """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: cfg, namespace: payments}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: cfg, namespace: shop}
        """)));

    SyncResult r = withoutHealth(new dev.gitops.core.store.InMemoryStateStore()).sync();

    ResourceKey forbidden = ResourceKey.of("k8s", "/ConfigMap", "payments", "cfg");
    assertThat(r.failures()).containsOnlyKeys(forbidden);
    assertThat(r.failures().get(forbidden).message()).contains(forbidden.toString()).contains("create failed")
        .contains("403").contains("cannot create").contains("namespace \"payments\"");
    assertThat(r.outcomes().get(ResourceKey.of("k8s", "/ConfigMap", "shop", "cfg")).kind()).isEqualTo(Outcome.Kind.CREATED);
  }

  @Test
  void anImmutableFieldTheServerRefusesIsAPermanentFailureNamingTheObjectTheVerbAndTheField() {
    ResourceKey claim = ResourceKey.of("k8s", "/PersistentVolumeClaim", "default", "data");
    String pvc = "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"data\","
        + "\"namespace\":\"default\"},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],\"storageClassName\":\"%s\","
        + "\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}}}";
    assertThat(provider.apply(ProviderConformanceSuite.createOf(Resource.of(claim, json(pvc.formatted("standard")))), ctx())
        .isOk()).isTrue();
    Observation before = observe(claim);
    assertThat(provider.requiresReplace(claim, FieldPath.parse("/spec/storageClassName"))).isFalse();
    cluster.server.expect().patch().withPath("/api/v1/namespaces/default/persistentvolumeclaims/data").andReturn(422,
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"Invalid\",\"code\":422,"
            + "\"message\":\"PersistentVolumeClaim \\\"data\\\" is invalid: spec: Forbidden: spec is immutable after "
            + "creation except resources.requests for bound claims\"}").once();

    Outcome o = provider.apply(ProviderConformanceSuite.updateOf(Resource.of(claim, json(pvc.formatted("fast"))),
        provider.normalize(claim, before.live())), ctx());

    assertThat(o.kind()).as("%s", o).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(o.message()).contains(claim.toString()).contains("update failed").contains("422")
        .contains("spec is immutable");
  }

  @Test
  void whenTheClustersCrdsCannotBeReadCustomKindsAreUnknownAndDecodingStillNamesTheFile() {
    cluster.server.expect().get().withPath("/apis/apiextensions.k8s.io/v1/customresourcedefinitions?resourceVersion=0")
        .andReturn(403, KubernetesProviderConformanceTest.forbidden()).always();
    var decoder = provider.decoder().orElseThrow();
    String widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w%s}\n";
    assertThat(decoder.decode(KubernetesDecoderTest.file("w.yaml", widget.formatted(", namespace: a"))))
        .extracting(r -> r.key().toString()).containsExactly("k8s:example.com/Widget:a:w");
    assertThatThrownBy(() -> decoder.decode(KubernetesDecoderTest.file("apps/w.yaml", widget.formatted(""))))
        .isInstanceOf(dev.gitops.api.DecodeException.class).hasMessageContaining("apps/w.yaml:1")
        .hasMessageContaining("cannot tell whether example.com/Widget w");
    Observation o = observe(ResourceKey.of("k8s", "example.com/Widget", "a", "w"));
    assertThat(o.status()).isEqualTo(Observation.Status.UNKNOWN);
    assertThat(o.reason()).contains("403").contains("forbidden");
  }

  @Test
  void immutableFieldsAndTheForceReplaceAnnotationRequireReplace() {
    ResourceKey d = ResourceKey.of("k8s", "apps/Deployment", "a", "b");
    assertThat(provider.requiresReplace(d, FieldPath.parse("/spec/selector/matchLabels/app"))).isTrue();
    assertThat(provider.requiresReplace(d, FieldPath.parse("/spec/replicas"))).isFalse();
    assertThat(provider.requiresReplace(ResourceKey.of("k8s", "batch/Job", "a", "j"),
        FieldPath.parse("/spec/template/spec/containers/[name=x]/image"))).isTrue();
    assertThat(provider.requiresReplace(ResourceKey.of("k8s", "/Service", "a", "s"), FieldPath.parse("/spec/clusterIP")))
        .isTrue();
    assertThat(provider.requiresReplace(ResourceKey.of("k8s", "/Service", "a", "s"), FieldPath.parse("/spec/ports")))
        .isFalse();
    assertThat(provider.requiresReplace(d, FieldPath.of("metadata", "annotations", Annotations.FORCE_REPLACE))).isTrue();
    assertThat(provider.requiresReplace(ResourceKey.of("k8s", "/Namespace", "", "a"),
        FieldPath.of("metadata", "annotations", Annotations.FORCE_REPLACE))).as("never a namespace").isFalse();
    ResourceKey claim = ResourceKey.of("k8s", "/PersistentVolumeClaim", "a", "data");
    assertThat(provider.requiresReplace(claim, FieldPath.parse("/spec/storageClassName")))
        .as("a claim's volume would go with it: the server refuses the update instead").isFalse();
    assertThat(provider.requiresReplace(claim, FieldPath.of("metadata", "annotations", Annotations.FORCE_REPLACE)))
        .as("unless asked for").isTrue();
  }

  @Test
  void relationsPutNamespacesAndCrdsFirst() {
    ResourceKey ns = ResourceKey.of("k8s", "/Namespace", "", "shop");
    ResourceKey crd = ResourceKey.of("k8s", "apiextensions.k8s.io/CustomResourceDefinition", "", "widgets.example.com");
    ResourceKey other = ResourceKey.of("k8s", "apiextensions.k8s.io/CustomResourceDefinition", "", "things.other.io");
    ResourceKey widget = ResourceKey.of("k8s", "example.com/Widget", "shop", "banner");
    ResourceKey cm = ResourceKey.of("k8s", "/ConfigMap", "shop", "c");
    java.util.Set<ResourceKey> desired = java.util.Set.of(ns, crd, other, widget, cm);
    assertThat(provider.relations(Resource.of(widget, Documents.emptyObject()), desired)).containsExactlyInAnyOrder(ns, crd);
    assertThat(provider.relations(Resource.of(cm, Documents.emptyObject()), desired)).containsExactly(ns);
    assertThat(provider.relations(Resource.of(ns, Documents.emptyObject()), desired)).isEmpty();
    assertThat(provider.typeOrder(crd)).isLessThan(provider.typeOrder(ns));
    assertThat(provider.typeOrder(ns)).isLessThan(provider.typeOrder(cm));
    assertThat(provider.typeOrder(cm)).isLessThan(provider.typeOrder(ResourceKey.of("k8s", "apps/Deployment", "shop", "d")));
  }

  @Test
  void typeOrderPutsPoliciesRightAfterNamespacesAndBeforeWorkloadsAsHelmDoes() {
    int namespace = provider.typeOrder(ResourceKey.of("k8s", "/Namespace", "", "shop"));
    java.util.List<ResourceKey> policies = java.util.List.of(
        ResourceKey.of("k8s", "networking.k8s.io/NetworkPolicy", "shop", "deny-all"),
        ResourceKey.of("k8s", "/ResourceQuota", "shop", "q"),
        ResourceKey.of("k8s", "/LimitRange", "shop", "l"),
        ResourceKey.of("k8s", "policy/PodSecurityPolicy", "", "restricted"),
        ResourceKey.of("k8s", "policy/PodDisruptionBudget", "shop", "web"),
        ResourceKey.of("k8s", "scheduling.k8s.io/PriorityClass", "", "high"),
        ResourceKey.of("k8s", "node.k8s.io/RuntimeClass", "", "gvisor"));
    java.util.List<ResourceKey> later = java.util.List.of(
        ResourceKey.of("k8s", "rbac.authorization.k8s.io/ClusterRole", "", "r"),
        ResourceKey.of("k8s", "/ServiceAccount", "shop", "sa"),
        ResourceKey.of("k8s", "/ConfigMap", "shop", "c"),
        ResourceKey.of("k8s", "/PersistentVolumeClaim", "shop", "data"),
        ResourceKey.of("k8s", "/Service", "shop", "web"),
        ResourceKey.of("k8s", "/Pod", "shop", "p"),
        ResourceKey.of("k8s", "/ReplicationController", "shop", "rc"),
        ResourceKey.of("k8s", "apps/Deployment", "shop", "web"),
        ResourceKey.of("k8s", "apps/StatefulSet", "shop", "db"),
        ResourceKey.of("k8s", "batch/Job", "shop", "migrate"));
    for (ResourceKey p : policies) {
      assertThat(provider.typeOrder(p)).as(p.type()).isGreaterThan(namespace);
      for (ResourceKey l : later) {
        assertThat(provider.typeOrder(p)).as(p.type() + " before " + l.type()).isLessThan(provider.typeOrder(l));
      }
    }
    int deployment = provider.typeOrder(ResourceKey.of("k8s", "apps/Deployment", "shop", "web"));
    for (String after : java.util.List.of("autoscaling/HorizontalPodAutoscaler", "networking.k8s.io/Ingress",
        "apiregistration.k8s.io/APIService", "example.com/Widget")) {
      assertThat(provider.typeOrder(ResourceKey.of("k8s", after, "shop", "x"))).as(after + " after workloads")
          .isGreaterThan(deployment);
    }
    assertThat(provider.typeOrder(ResourceKey.of("k8s", "/ReplicationController", "shop", "rc"))).isEqualTo(deployment);
  }

  @Test
  void aNamespaceDeleteTakesItsObjectsAndACrdDeleteItsCustomResources() {
    ResourceKey ns = ResourceKey.of("k8s", "/Namespace", "", "shop");
    ResourceKey crd = ResourceKey.of("k8s", "apiextensions.k8s.io/CustomResourceDefinition", "", "widgets.example.com");
    ResourceKey widget = ResourceKey.of("k8s", "example.com/Widget", "shop", "banner");
    ResourceKey gadget = ResourceKey.of("k8s", "example.com/Gadget", "", "g");
    ResourceKey cm = ResourceKey.of("k8s", "/ConfigMap", "shop", "c");
    ResourceKey elsewhere = ResourceKey.of("k8s", "/ConfigMap", "other", "c");
    ResourceKey otherProvider = ResourceKey.of("files", "/ConfigMap", "shop", "c");
    java.util.Set<ResourceKey> desired = java.util.Set.of(widget, gadget, cm, elsewhere, otherProvider);
    assertThat(provider.cascadesTo(Resource.of(ns, Documents.emptyObject()), desired))
        .containsExactlyInAnyOrder(widget, cm);
    com.fasterxml.jackson.databind.node.ObjectNode spec = Documents.nodes().objectNode();
    spec.putObject("spec").put("group", "example.com").putObject("names").put("kind", "Widget");
    assertThat(provider.cascadesTo(Resource.of(crd, spec), desired)).as("by spec.group and spec.names.kind")
        .containsExactly(widget);
    assertThat(provider.cascadesTo(Resource.of(crd, Documents.emptyObject()), desired))
        .as("without a spec: every custom type of the group in its name").containsExactlyInAnyOrder(widget, gadget);
    assertThat(provider.cascadesTo(Resource.of(cm, Documents.emptyObject()), desired)).isEmpty();
  }

  @Test
  void everyKindIsSearchedForOurMarkOnceAndThenOnlyFromInformers() {
    cluster.client.configMaps().inNamespace("default").resource(new ConfigMapBuilder().withNewMetadata().withName("cfg")
        .addToLabels(Annotations.MANAGED_BY, "gitops").addToAnnotations(Annotations.OWNER, "agent")
        .addToAnnotations(Annotations.KEY, CM.toString()).endMetadata().build()).create();
    cluster.client.configMaps().inNamespace("default").resource(new ConfigMapBuilder().withNewMetadata().withName("copy")
        .addToLabels(Annotations.MANAGED_BY, "gitops").addToAnnotations(Annotations.OWNER, "agent")
        .addToAnnotations(Annotations.KEY, CM.toString()).endMetadata().build()).create();  // our mark, copied
    String selector = "labelSelector=app.kubernetes.io%2Fmanaged-by%3Dgitops";
    cluster.server.expect().get().withPath("/apis/batch/v1/jobs?" + selector)
        .andReturn(403, KubernetesProviderConformanceTest.forbidden()).always();
    cluster.takeSent();
    assertThat(provider.listMarked("agent", ctx())).as("found though no ConfigMap is in play").containsExactly(CM);
    assertThat(provider.listMarked("someone-else", ctx())).isEmpty();
    List<MockCluster.Sent> scan = cluster.takeSent();
    assertThat(scan).filteredOn(r -> r.path().contains(selector)).extracting(MockCluster.Sent::path)
        .as("one labelled list per kind, a forbidden one skipped")
        .contains("/api/v1/configmaps?" + selector, "/apis/apps/v1/deployments?" + selector, "/apis/batch/v1/jobs?" + selector)
        .doesNotHaveDuplicates();
    assertThat(provider.listMarked("agent", ctx())).containsExactly(CM);
    assertThat(cluster.takeSent()).as("later calls read the informers").filteredOn(r -> !r.path().contains("watch=true"))
        .isEmpty();
  }

  @Test
  void aKindTheServerCannotListForNowIsSearchedAgainOnTheNextCallNotHeldAgainstTheWholeListing() {
    ResourceKey job = ResourceKey.of("k8s", "batch/Job", "default", "old");
    cluster.client.batch().v1().jobs().inNamespace("default").resource(new io.fabric8.kubernetes.api.model.batch.v1
        .JobBuilder().withNewMetadata().withName("old").addToLabels(Annotations.MANAGED_BY, "gitops")
        .addToAnnotations(Annotations.OWNER, "agent").addToAnnotations(Annotations.KEY, job.toString()).endMetadata()
        .build()).create();
    // as an aggregated API whose server is down answers (a metrics-server that is not running)
    cluster.refuseReads("/apis/batch/v1", "jobs", true, 503, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":"
        + "\"Failure\",\"code\":503,\"reason\":\"ServiceUnavailable\",\"message\":\"the server is currently unable to"
        + " handle the request\"}");
    cluster.takeSent();
    String selector = "labelSelector=app.kubernetes.io%2Fmanaged-by%3Dgitops";
    assertThat(provider.listMarked("agent", ctx())).as("the listing stands without that kind").isEmpty();
    assertThat(cluster.takeSent()).filteredOn(r -> r.path().startsWith("/apis/batch/v1/jobs?")).extracting(MockCluster.Sent::path)
        .as("sent once, not retried by the client").containsExactly("/apis/batch/v1/jobs?" + selector);

    cluster.serveReadsAgain();
    assertThat(provider.listMarked("agent", ctx())).as("listed again, found").containsExactly(job);
    assertThat(cluster.takeSent()).filteredOn(r -> r.path().contains(selector)).extracting(MockCluster.Sent::path)
        .as("only that kind listed again").containsExactly("/apis/batch/v1/jobs?" + selector);
    assertThat(provider.listMarked("agent", ctx())).containsExactly(job);
    assertThat(cluster.takeSent()).filteredOn(r -> r.path().contains(selector)).as("and then no more").isEmpty();
  }

  @Test
  void anOrphanScanCutShortProvesNothingAndRunsAgain() {
    cluster.client.apiextensions().v1().customResourceDefinitions().resource(io.fabric8.kubernetes.client.utils
        .Serialization.unmarshal(Manifests.CRD,
            io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition.class)).create();
    ResourceKey widget = ResourceKey.of("k8s", "example.com/Widget", "shop", "banner");
    var widgets = cluster.client.genericKubernetesResources(new io.fabric8.kubernetes.client.dsl.base
        .ResourceDefinitionContext.Builder().withGroup("example.com").withVersion("v1").withKind("Widget")
        .withPlural("widgets").withNamespaced(true).build());
    widgets.inNamespace("shop").resource(new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder()
        .withApiVersion("example.com/v1").withKind("Widget").withNewMetadata().withName("banner").withNamespace("shop")
        .addToLabels(Annotations.MANAGED_BY, "gitops").addToAnnotations(Annotations.OWNER, "agent")
        .addToAnnotations(Annotations.KEY, widget.toString()).endMetadata().build()).create();
    CallContext expired = CallContext.of("agent", "main@sha1:" + "2".repeat(40), Duration.ofNanos(1));
    assertThatThrownBy(() -> provider.listMarked("agent", expired)).as("no answer rather than a partial one")
        .isInstanceOf(RuntimeException.class);
    assertThat(provider.listMarked("agent", ctx())).as("the scan ran again, custom kinds included").containsExactly(widget);
  }

  @Test
  void dataMapsAreAtomicAndOtherMapsMergeKeyByKey() {
    var rules = provider.mergeRules();
    assertThat(rules.isAtomicMap(FieldPath.parse("/data"))).isTrue();
    assertThat(rules.isAtomicMap(FieldPath.parse("/binaryData"))).isTrue();
    assertThat(rules.isAtomicMap(FieldPath.parse("/metadata/labels"))).isFalse();
    assertThat(rules.isAtomicMap(FieldPath.parse("/spec/template/metadata/annotations"))).isFalse();
    assertThat(rules.isAtomicMap(FieldPath.parse("/spec/selector/matchLabels"))).isFalse();
  }

  @Test
  void keyedListsMergeByTheirPatchMergeKeys() {
    var rules = provider.mergeRules();
    assertThat(rules.listRule(FieldPath.parse("/spec/template/spec/containers")).kind())
        .isEqualTo(dev.gitops.api.MergeRules.ListKind.KEYED);
    assertThat(rules.listRule(FieldPath.parse("/spec/template/spec/containers/[name=app]/ports")).keys())
        .extracting(dev.gitops.api.MergeRules.KeyField::name).containsExactly("containerPort", "protocol");
    assertThat(rules.listRule(FieldPath.parse("/spec/template/spec/containers/[name=app]/volumeMounts")).keys())
        .extracting(dev.gitops.api.MergeRules.KeyField::name).containsExactly("mountPath");
    assertThat(rules.listRule(FieldPath.parse("/spec/template/spec/tolerations")).kind())
        .isEqualTo(dev.gitops.api.MergeRules.ListKind.ATOMIC);
    assertThat(rules.isSensitive(ResourceKey.of("k8s", "/Secret", "a", "s"), FieldPath.parse("/data/password"))).isTrue();
    assertThat(rules.isSensitive(ResourceKey.of("k8s", "/ConfigMap", "a", "s"), FieldPath.parse("/data/password"))).isFalse();
    assertThat(rules.nullMode()).isEqualTo(dev.gitops.api.MergeRules.NullMode.ABSENT);
  }

  // ---- optimistic concurrency through the engine: another writer edits the object between the
  // sync's observe and its apply; the stale change is refused as a conflict, and the engine observes
  // the object again, plans it again and applies the new change in the same sync.

  private final AtomicReference<State> desired = new AtomicReference<>();
  private final List<SyncEvent> events = new CopyOnWriteArrayList<>();
  /** How many more applies of CM another writer gets in before. */
  private final AtomicInteger edits = new AtomicInteger();
  private final AtomicInteger applies = new AtomicInteger();

  /** The provider, with another writer editing the object just before an apply reaches it. */
  private Reconciler reconciler(dev.gitops.core.store.InMemoryStateStore store) {
    DelegatingProvider racing = new DelegatingProvider(provider) {
      @Override
      public Outcome apply(Change change, CallContext ctx) {
        applies.incrementAndGet();
        if (change.key().equals(CM) && edits.getAndDecrement() > 0) {
          String value = "by-hand-" + edits.get();
          cluster.client.configMaps().inNamespace("default").withName("cfg")
              .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"labels\":{\"edited\":\"" + value + "\"}}}");
          awaitLabel(value, ctx);
        }
        return super.apply(change, ctx);
      }
    };
    return Reconciler.builder().source(Source.of(desired::get)).provider(racing).store(store).owner("agent")
        .listener(events::add).build();
  }

  /** Waits (bounded) until the provider's informer shows the other writer's edit. */
  private void awaitLabel(String value, CallContext ctx) {
    until(() -> {
      var o = provider.observe(List.of(CM), ctx).get(CM);
      return o.isPresent() && o.live().at("/metadata/labels/edited").asText().equals(value);
    });
  }

  @Test
  void anEditBetweenObserveAndApplyIsObservedAndPlannedAgainInTheSameSync() {
    var store = new dev.gitops.core.store.InMemoryStateStore();
    desired.set(State.of("r1", List.of(configMap("{\"a\":\"1\"}"))));
    assertThat(reconciler(store).sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    edits.set(1);
    applies.set(0);
    desired.set(State.of("r2", List.of(configMap("{\"a\":\"2\"}"))));

    SyncResult r = reconciler(store).sync();

    assertThat(r.status()).as("%s", r.outcomes()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(r.outcomes().get(CM).kind()).isEqualTo(Outcome.Kind.CONFIGURED);
    assertThat(applies.get()).as("the stale change, then the one planned again").isEqualTo(2);
    assertThat(events).filteredOn(e -> e instanceof SyncEvent.Retrying rt && rt.outcome().isConflict())
        .singleElement().satisfies(e -> assertThat(((SyncEvent.Retrying) e).outcome().message())
            .contains("changed since it was observed"));
    var cm = cluster.client.configMaps().inNamespace("default").withName("cfg").get();
    assertThat(cm.getData()).as("our change").containsEntry("a", "2");
    assertThat(cm.getMetadata().getLabels()).as("the other writer's label kept").containsEntry("edited", "by-hand-0");
  }

  @Test
  void aSecondEditLeavesTheKeyUnknownUntilTheNextSync() {
    var store = new dev.gitops.core.store.InMemoryStateStore();
    desired.set(State.of("r1", List.of(configMap("{\"a\":\"1\"}"))));
    reconciler(store).sync();
    edits.set(2);
    applies.set(0);
    desired.set(State.of("r2", List.of(configMap("{\"a\":\"2\"}"))));

    SyncResult r = reconciler(store).sync();

    assertThat(r.outcomes().get(CM).kind()).as("%s", r.outcomes()).isEqualTo(Outcome.Kind.UNKNOWN);
    assertThat(r.outcomes().get(CM).isConflict()).isTrue();
    assertThat(applies.get()).isEqualTo(2);
    assertThat(cluster.client.configMaps().inNamespace("default").withName("cfg").get().getData())
        .containsEntry("a", "1");

    SyncResult next = reconciler(store).sync();
    assertThat(next.status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    var cm = cluster.client.configMaps().inNamespace("default").withName("cfg").get();
    assertThat(cm.getData()).containsEntry("a", "2");
    assertThat(cm.getMetadata().getLabels()).containsEntry("edited", "by-hand-0");
  }

  // ------------------------------------------------------------------ discovery of kinds the cluster does not serve

  /** Discovery requests about {@code group} since the last call: its versions, and the list of API groups. */
  /**
   * Registers APIService {@code name} ({@code <version>.<group>}) for {@code group}, served by a
   * service of kube-system, else the API server's own.
   */
  private void apiService(String name, String group, boolean aggregated) {
    KindInfo k = KindTable.builtIn("apiregistration.k8s.io/APIService").orElseThrow();
    cluster.client.genericKubernetesResources(KindInformers.context(k)).resource(io.fabric8.kubernetes.client.utils
        .Serialization.unmarshal("{\"apiVersion\":\"apiregistration.k8s.io/v1\",\"kind\":\"APIService\",\"metadata\":"
            + "{\"name\":\"" + name + "\"},\"spec\":{\"group\":\"" + group + "\",\"version\":\""
            + name.substring(0, name.indexOf('.')) + "\""
            + (aggregated ? ",\"service\":{\"namespace\":\"kube-system\",\"name\":\"things\"}" : "") + "}}",
            io.fabric8.kubernetes.api.model.GenericKubernetesResource.class)).create();
  }

  // a custom kind whose CRD was deleted before this process started: no CRD defines it, and discovery knows no version
  // of it, so the provider cannot tell it from a misspelled or removed API by the kind alone

  @Test
  void aKeyOfAGroupNoCrdDefinesAndNoApiServiceServesIsAbsentSoItsRecordIsDroppedNotUnknownForever() {
    // recorded by the engine (owned), its CRD deleted before this provider started: Kubernetes deleted its objects too
    Observation o = observe(WIDGET);

    assertThat(o.status()).as(o.reason()).isEqualTo(Observation.Status.ABSENT);

    // an APIService of the group (the API server's own, as a CRD's group keeps one a moment after its last CRD goes,
    // or an aggregated API's): something may serve it, so its objects may be there
    apiService("v1.example.com", "example.com", false);
    assertThat(until(() -> observe(WIDGET).status() == Observation.Status.UNKNOWN)).isTrue();
    assertThat(observe(WIDGET).reason()).contains("no kind example.com/Widget")
        .contains("APIService v1.example.com (the API server's own) serves API group example.com, so its objects may be"
            + " there");
  }

  /** Creates, in the cluster, the CRD of {@code Gizmo} ({@code gizmos.example.com}, served at v1): Widget's group. */
  private void gizmoCrd() {
    cluster.client.apiextensions().v1().customResourceDefinitions().resource(io.fabric8.kubernetes.client.utils
        .Serialization.unmarshal(Manifests.CRD.replace("widgets", "gizmos").replace("Widget", "Gizmo")
            .replace("widget", "gizmo"), io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition.class))
        .create();
  }

  @Test
  void aKeyOfAKindNoCrdDefinesIsAbsentThoughOtherCrdsOfItsGroupRemainUnlessAnotherApiServiceNamesTheGroup() {
    // Widget's CRD deleted before this provider started; Gizmo's, of the same group, remains, with the APIService the
    // API server registers for the group versions its CRDs serve: that one speaks for Gizmo, not for a widget
    gizmoCrd();
    apiService("v1.example.com", "example.com", false);

    Observation o = observe(WIDGET);

    assertThat(o.status()).as(o.reason()).isEqualTo(Observation.Status.ABSENT);

    // an aggregated API's APIService of the group: its server may serve widgets, so they may be there
    apiService("v2.example.com", "example.com", true);
    assertThat(until(() -> observe(WIDGET).status() == Observation.Status.UNKNOWN)).isTrue();
    assertThat(observe(WIDGET).reason()).contains("no kind example.com/Widget")
        .contains("APIService v2.example.com (by service kube-system/things) serves API group example.com");
  }

  @Test
  void aKeyOfAKindNoCrdDefinesStaysUnknownWhileAnApiServerApiServiceOfItsGroupIsForAVersionNoCrdServes() {
    // v1beta1: no CRD of the group serves it (a CRD of it deleted a moment ago, or one the CRD informer lags behind)
    gizmoCrd();
    apiService("v1beta1.example.com", "example.com", false);

    Observation o = observe(WIDGET);

    assertThat(o.status()).isEqualTo(Observation.Status.UNKNOWN);
    assertThat(o.reason()).contains("APIService v1beta1.example.com (the API server's own) serves API group example.com");
  }

  @Test
  void listMarkedFailsNamingAKindTheClusterNoLongerServesUnlessNothingInTheClusterCanServeIt() {
    cluster.client.apiextensions().v1().customResourceDefinitions().resource(io.fabric8.kubernetes.client.utils
        .Serialization.unmarshal(Manifests.CRD,
            io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition.class)).create();
    gizmoCrd();
    apiService("v1.example.com", "example.com", false);  // the API server's own, for the CRDs' group version
    provider.close();
    provider = KubernetesProvider.builder(cluster.client).scanForOrphans("example.com/Widget").build();
    assertThat(provider.listMarked("agent", ctx())).isEmpty();
    // Widget's CRD deleted (Kubernetes deletes the widgets with it); Gizmo's remains
    cluster.client.apiextensions().v1().customResourceDefinitions().withName("widgets.example.com").delete();
    assertThat(until(() -> observe(WIDGET).isAbsent())).as("the CRD informer saw it go").isTrue();

    assertThat(provider.listMarked("agent", ctx())).as("nothing can serve a widget: none is there").isEmpty();

    // an aggregated API's APIService of the group: widgets may be there, so the listing fails naming the kind and why
    apiService("v2.example.com", "example.com", true);
    assertThat(until(() -> observe(WIDGET).isUnknown())).isTrue();
    assertThatThrownBy(() -> provider.listMarked("agent", ctx()))
        .hasMessageStartingWith("cannot list example.com/Widget at " + cluster.client.getMasterUrl()
            + " to find the objects marked by agent: the cluster has no kind example.com/Widget")
        .hasMessageContaining("APIService v2.example.com (by service kube-system/things) serves API group example.com");
  }

  @Test
  void unmarkOfAKindNothingInTheClusterCanServeSucceedsAndFailsNamingWhyAndWhatToDoWhileItsObjectsMayBeThere() {
    // Widget's CRD deleted (Kubernetes deleted the widgets with it) before this forget: no object, so no mark, is left
    provider.unmark(WIDGET, "agent", ctx());

    // an aggregated API's APIService of the group: a widget may be there, marked, and cannot be read
    apiService("v2.example.com", "example.com", true);
    assertThat(until(() -> observe(WIDGET).isUnknown())).isTrue();
    assertThatThrownBy(() -> provider.unmark(WIDGET, "agent", ctx()))
        .isInstanceOf(dev.gitops.api.ProviderException.class)
        .hasMessageStartingWith(WIDGET + ": cannot remove the mark of agent: the cluster has no kind example.com/Widget")
        .hasMessageContaining("APIService v2.example.com (by service kube-system/things) serves API group example.com")
        .hasMessageContaining("have the cluster serve example.com/Widget again");
  }

  @Test
  void unmarkOfACustomObjectWhoseReadIsAnswered404ForItsKindWhileItsCrdIsBeingDeletedSucceeds() {
    // the CRD in the cluster, being deleted (a finalizer of its own holds it): the API server deletes its objects first
    var crd = io.fabric8.kubernetes.client.utils.Serialization.unmarshal(Manifests.CRD,
        io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition.class);
    crd.getMetadata().setFinalizers(List.of("customresourcecleanup.apiextensions.k8s.io"));
    cluster.client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
    cluster.client.apiextensions().v1().customResourceDefinitions().withName("widgets.example.com").delete();
    assertThat(until(() -> observe(WIDGET).isAbsent())).isTrue();
    cluster.refuseReads("/apis/example.com/v1", "widgets", false, 404, NOT_SERVED);

    provider.unmark(WIDGET, "agent", ctx());
  }

  @Test
  void aKeyOfAGroupNoCrdDefinesStaysUnknownWhenTheCredentialsMayNotListApiServicesSayingSo() {
    cluster.refuseReads("/apis/apiregistration.k8s.io/v1", "apiservices", true, 403, "{\"kind\":\"Status\","
        + "\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"Forbidden\",\"code\":403,\"message\":"
        + "\"apiservices.apiregistration.k8s.io is forbidden: User \\\"gitops\\\" cannot list resource \\\"apiservices\\\"\"}");

    Observation o = observe(WIDGET);

    assertThat(o.status()).isEqualTo(Observation.Status.UNKNOWN);
    assertThat(o.reason()).contains("no kind example.com/Widget")
        .contains("whether an APIService serves API group example.com (so that its objects may exist) cannot be told:"
            + " cannot list apiregistration.k8s.io/APIService: 403 apiservices.apiregistration.k8s.io is forbidden")
        .contains("the credentials need list and watch on apiservices of apiregistration.k8s.io cluster-wide");
  }

  @Test
  void aKindOfKubernetesOwnGroupTheClusterDoesNotServeIsNeverTakenForAbsent() {
    // extensions/Ingress after an upgrade removed the group: its objects live on at networking.k8s.io/v1
    ResourceKey ingress = ResourceKey.of("k8s", "extensions/Ingress", "shop", "web");

    assertThat(observe(ingress).status()).isEqualTo(Observation.Status.UNKNOWN);
  }

  @Test
  void aDesiredObjectOfAGroupNothingServesIsAbsentAndItsCreateFailsNamingTheKindAndWhatIsServed() {
    List<Resource> rs = decode("r1", Manifests.widget("red"));  // without its CRD

    assertThat(observe(WIDGET).status()).isEqualTo(Observation.Status.ABSENT);
    Outcome o = provider.apply(ProviderConformanceSuite.createOf(rs.get(0)), ctx());

    assertThat(o.kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(o.message()).startsWith(WIDGET + ": the cluster has no kind example.com/Widget at example.com/v1: the"
        + " cluster serves no version of API group example.com: no CustomResourceDefinition of the cluster defines a"
        + " kind of it and no APIService serves it");
    assertThat(widgetPosts()).as("nothing sent").isZero();
  }

  private long discoveryOf(String group) {
    return cluster.takeSent().stream().filter(r -> r.path().equals("/apis") || r.path().startsWith("/apis/" + group + "/")
        || r.path().equals("/apis/" + group)).count();
  }

  @Test
  void aKindTheClusterDoesNotServeIsAskedOfDiscoveryOnceNotOncePerObjectUntilACrdIsApplied() {
    KubernetesDecoder decoder = (KubernetesDecoder) provider.decoder().orElseThrow();
    StringBuilder gadgets = new StringBuilder();
    for (int i = 0; i < 500; i++) {
      gadgets.append("---\napiVersion: things.example.com/v1\nkind: Gadget\nmetadata: {name: g").append(i)
          .append(", namespace: shop}\n");
    }
    dev.gitops.api.spi.SourceFile file = new dev.gitops.api.spi.SourceFile("gadgets.yaml", "b1",
        gadgets.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8), "main@sha1:" + "2".repeat(40));
    // an aggregated API serves the group (its server does not have the kind): its objects may exist
    apiService("v1.things.example.com", "things.example.com", true);
    cluster.takeSent();

    List<Resource> rs = decoder.decode(file);
    List<ResourceKey> keys = rs.stream().map(Resource::key).toList();
    Map<ResourceKey, Observation> seen = provider.observe(keys, ctx());

    assertThat(rs).hasSize(500);
    assertThat(seen.values()).allSatisfy(o -> assertThat(o.reason()).contains("no kind things.example.com/Gadget"));
    // the decoder's question, and the observation's why (the API groups, which do not include it)
    assertThat(discoveryOf("things.example.com")).as("discovery requests for 500 objects and their observation")
        .isEqualTo(2);

    // the next sync, moments later: the answer is still believed
    decoder.decode(file);
    provider.observe(keys, ctx());
    assertThat(discoveryOf("things.example.com")).as("discovery requests of the next sync").isZero();

    // a CustomResourceDefinition applied by the provider may serve it now: discovery is asked again
    Resource crd = decoder.decode(new dev.gitops.api.spi.SourceFile("crd.yaml", "b2",
        Manifests.CRD.getBytes(java.nio.charset.StandardCharsets.UTF_8), "main@sha1:" + "2".repeat(40))).get(0);
    assertThat(provider.apply(ProviderConformanceSuite.createOf(crd), ctx()).isOk()).isTrue();
    provider.observe(keys, ctx());
    assertThat(discoveryOf("things.example.com")).as("discovery requests after a CRD was applied").isEqualTo(2);

    // and the kind that CRD defines is found for its objects in the same sync
    ResourceKey widget = ResourceKey.of("k8s", "example.com/Widget", "shop", "banner");
    decoder.decode(new dev.gitops.api.spi.SourceFile("w.yaml", "b3",
        Manifests.widget("red").getBytes(java.nio.charset.StandardCharsets.UTF_8), "main@sha1:" + "2".repeat(40)));
    assertThat(observe(widget).status()).isEqualTo(Observation.Status.ABSENT);
  }

  @Test
  void aKindGitNoLongerDeclaresIsNotResolvedAtEveryListingForTheLifeOfTheProcessUnlessItIsStillRead() {
    KubernetesDecoder decoder = (KubernetesDecoder) provider.decoder().orElseThrow();
    String rev = "main@sha1:" + "2".repeat(40);
    String cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n";
    // a misspelled group (never served, so never read) and a built-in kind at another version than the table's
    decoder.decodeTogether(List.of(new dev.gitops.api.spi.SourceFile("app.yaml", "b1", (cm
        + "---\napiVersion: thngs.example.com/v1\nkind: Gadget\nmetadata: {name: g, namespace: shop}\n"
        + "---\napiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\n"
        + "spec: {maxReplicas: 2, scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}}\n")
        .getBytes(java.nio.charset.StandardCharsets.UTF_8), rev)));
    ResourceKey hpa = ResourceKey.of("k8s", "autoscaling/HorizontalPodAutoscaler", "default", "web");
    assertThat(observe(hpa).isAbsent()).isTrue();
    provider.listMarked("agent", ctx());
    // both fixed in Git; a CustomResourceDefinition applied since makes discovery be asked again of unserved kinds
    decoder.decodeTogether(List.of(new dev.gitops.api.spi.SourceFile("app.yaml", "b2",
        cm.getBytes(java.nio.charset.StandardCharsets.UTF_8), rev)));
    Resource crd = decoder.decode(new dev.gitops.api.spi.SourceFile("crd.yaml", "b3",
        Manifests.CRD.getBytes(java.nio.charset.StandardCharsets.UTF_8), rev)).get(0);
    assertThat(provider.apply(ProviderConformanceSuite.createOf(crd), ctx()).isOk()).isTrue();
    cluster.takeSent();

    provider.listMarked("agent", ctx());

    List<MockCluster.Sent> sent = cluster.takeSent();
    assertThat(sent).as("the kind Git no longer declares is not asked of discovery")
        .noneMatch(r -> r.path().startsWith("/apis/thngs.example.com"));
    assertThat(sent).as("the kind still read keeps its informer at the version it was written at")
        .noneMatch(r -> r.path().startsWith("/apis/autoscaling/"));
  }

  // ------------------------------------------------------------------ a custom object whose CRD is not established yet

  // A real API server answers the objects of a CRD created a moment ago 404 "the server could not find the
  // requested resource" until the CRD is Established (the mock stores anything: the answer is injected).

  private static final String WIDGETS = "/apis/example.com/v1/namespaces/shop/widgets";
  private static final String NOT_SERVED = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
      + "\"Failure\",\"message\":\"the server could not find the requested resource\",\"reason\":\"NotFound\","
      + "\"details\":{},\"code\":404}";
  private static final ResourceKey WIDGET = ResourceKey.of("k8s", "example.com/Widget", "shop", "banner");

  /** The CRD and its widget, as Git declares them in one file (the widget at line 18). */
  private List<Resource> crdAndWidget() {
    return decode("r1", Manifests.CRD + "---\n" + Manifests.widget("red"));
  }

  /** Creates the CRD, which nothing marks established. */
  private List<Resource> crdCreatedAndWidget() {
    List<Resource> rs = crdAndWidget();
    assertThat(provider.apply(ProviderConformanceSuite.createOf(rs.get(0)), ctx()).kind()).isEqualTo(Outcome.Kind.CREATED);
    return rs;
  }

  private long widgetPosts() {
    return cluster.sent.stream().filter(r -> r.method().equals("POST") && r.path().startsWith(WIDGETS)).count();
  }

  @Test
  void aCreateAnswered404UntilItsCrdIsEstablishedWaitsForItAndIsSentAgain() throws Exception {
    List<Resource> rs = crdCreatedAndWidget();
    cluster.server.expect().post().withPath(WIDGETS).andReturn(404, NOT_SERVED).once();
    Thread establisher = new Thread(() -> {
      try {
        Thread.sleep(300);
      } catch (InterruptedException e) {
        return;
      }
      // as apiextensions-apiserver does once it serves the kind
      cluster.client.apiextensions().v1().customResourceDefinitions().withName("widgets.example.com").patch(
          PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"conditions\":[{\"type\":\"Established\",\"status\":\"True\"}]}}");
    });
    establisher.start();

    Outcome o = provider.apply(ProviderConformanceSuite.createOf(rs.get(1)), ctx());
    establisher.join();

    assertThat(o.kind()).as(o.message()).isEqualTo(Outcome.Kind.CREATED);
    assertThat(widgetPosts()).as("the create refused while not established, and the one after").isEqualTo(2);
    assertThat(cluster.client.genericKubernetesResources("example.com/v1", "Widget").inNamespace("shop")
        .withName("banner").get()).isNotNull();
  }

  @Test
  void aCrdNotEstablishedWithinTheCallIsATransientFailureNamingItNotAMissingCrd() {
    List<Resource> rs = crdCreatedAndWidget();
    // as a real server has it while the CRD is not established: discovery does not list its group either
    cluster.server.expect().get().withPath("/apis").andReturn(200, "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\","
        + "\"groups\":[]}").always();
    cluster.server.expect().get().withPath("/apis/example.com/v1").andReturn(404, NOT_SERVED).always();
    cluster.server.expect().post().withPath(WIDGETS).andReturn(404, NOT_SERVED).always();

    long start = System.nanoTime();
    Outcome o = provider.apply(ProviderConformanceSuite.createOf(rs.get(1)),
        CallContext.of("agent", "main@sha1:" + "2".repeat(40), Duration.ofMillis(600)));

    assertThat(o.kind()).as(o.message()).isEqualTo(Outcome.Kind.TRANSIENT);
    assertThat(o.message()).startsWith(WIDGET + ": create failed: 404 the server could not find the requested resource")
        .contains("its CustomResourceDefinition widgets.example.com is not established yet").contains("retried")
        .doesNotContain("missing").doesNotContain("serves no API group").endsWith("declared at app.yaml:18");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).as("waited for the CRD, up to the call's deadline (600 ms)")
        .isBetween(Duration.ofMillis(400), Duration.ofMillis(1500));
  }

  @Test
  void aSyncWithoutHealthWaitsCreatesTheCrdAndItsObjectThoughTheObjectsFirstCreateIs404() {
    cluster.withControllers();  // establishes CRDs a moment after their create, as a control plane does
    desired.set(State.of("r1", crdAndWidget()));
    cluster.server.expect().post().withPath(WIDGETS).andReturn(404, NOT_SERVED).once();
    try (Reconciler reconciler = withoutHealth(new dev.gitops.core.store.InMemoryStateStore())) {

      SyncResult result = reconciler.sync();

      assertThat(result.status()).as("%s", result.outcomes()).isEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(result.outcomes().get(WIDGET).kind()).isEqualTo(Outcome.Kind.CREATED);
      assertThat(widgetPosts()).isEqualTo(2);
      assertThat(reconciler.plan().changes()).as("nothing left to do")
          .allSatisfy(c -> assertThat(c.action()).isEqualTo(Action.NOOP));
    }
  }

  @Test
  void anObjectOfACrdInGitThatIsInTheClusterButNotEstablishedIsAbsentNotUnknown() {
    crdCreatedAndWidget();
    // the list of a kind its CRD does not serve yet, as a real server answers it
    cluster.server.expect().get().withPath("/apis/example.com/v1/widgets?resourceVersion=0").andReturn(404, NOT_SERVED)
        .always();

    Observation o = observe(WIDGET);

    assertThat(o.status()).as(o.reason()).isEqualTo(Observation.Status.ABSENT);
  }

  @Test
  void anUpdateAnswered404ForItsKindIsNotTakenForTheObjectGone() {
    List<Resource> rs = crdCreatedAndWidget();
    assertThat(provider.apply(ProviderConformanceSuite.createOf(rs.get(1)), ctx()).isOk()).isTrue();
    Observation before = observe(WIDGET);
    assertThat(before.isPresent()).as(before.reason()).isTrue();
    cluster.server.expect().patch().withPath(WIDGETS + "/banner").andReturn(404, NOT_SERVED).always();

    Resource blue = Resource.of(WIDGET, json("{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":"
        + "{\"name\":\"banner\",\"namespace\":\"shop\"},\"spec\":{\"color\":\"blue\",\"size\":3}}"));
    Outcome o = provider.apply(ProviderConformanceSuite.updateOf(blue, provider.normalize(WIDGET, before.live())),
        CallContext.of("agent", "main@sha1:" + "2".repeat(40), Duration.ofMillis(500)));

    assertThat(o.isConflict()).as(o.message()).isFalse();
    assertThat(o.kind()).as(o.message()).isEqualTo(Outcome.Kind.TRANSIENT);
    assertThat(o.message()).contains("not established yet").doesNotContain("gone");
  }


  // a write's read of the object, which fabric8's get() answers null for on any 404, the kind's included

  private static final String WIDGET_PATH = WIDGETS + "/banner";

  /** The CRD created (not established) and its widget created by the provider, as the cluster has it. */
  private JsonNode widgetCreated(List<Resource> rs) {
    assertThat(provider.apply(ProviderConformanceSuite.createOf(rs.get(1)), ctx()).isOk()).isTrue();
    JsonNode live = JSON.valueToTree(cluster.client.genericKubernetesResources("example.com/v1", "Widget")
        .inNamespace("shop").withName("banner").get());
    cluster.takeSent();
    return live;
  }

  private Change blueWidgetFrom(JsonNode live) {
    Resource blue = Resource.of(WIDGET, json("{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":"
        + "{\"name\":\"banner\",\"namespace\":\"shop\"},\"spec\":{\"color\":\"blue\",\"size\":3}}"));
    return ProviderConformanceSuite.updateOf(blue, provider.normalize(WIDGET, live));
  }

  private long widgetRequests(String method) {
    return cluster.sent.stream().filter(r -> r.method().equals(method) && r.path().startsWith(WIDGET_PATH)).count();
  }

  private void establishAfter(long millis) {
    Thread establisher = new Thread(() -> {
      try {
        Thread.sleep(millis);
      } catch (InterruptedException e) {
        return;
      }
      cluster.client.apiextensions().v1().customResourceDefinitions().withName("widgets.example.com").patch(
          PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"conditions\":[{\"type\":\"Established\",\"status\":\"True\"}]}}");
    });
    establisher.setDaemon(true);
    establisher.start();
  }

  @Test
  void anUpdateWhoseReadIsAnswered404ForItsKindWaitsForItsCrdAndIsSentOnceItIsEstablished() {
    JsonNode live = widgetCreated(crdCreatedAndWidget());
    // the object is read from the server (its kind was never observed): the first read refused, as a real server
    // refuses it until the CRD is established
    cluster.server.expect().get().withPath(WIDGET_PATH).andReturn(404, NOT_SERVED).once();
    establishAfter(200);

    Outcome o = provider.apply(blueWidgetFrom(live), ctx());

    assertThat(o.kind()).as(o.message()).isEqualTo(Outcome.Kind.CONFIGURED);
    // the read refused, and the one after the CRD was established (fabric8 reads it again for its patch)
    assertThat(widgetRequests("GET")).isGreaterThanOrEqualTo(2);
    assertThat(widgetRequests("PATCH")).isEqualTo(1);
  }

  @Test
  void anUpdateWhoseReadIsAnswered404ForItsKindUntilTheCallEndsIsTransientNamingTheCrdNotAConflict() {
    JsonNode live = widgetCreated(crdCreatedAndWidget());
    cluster.server.expect().get().withPath(WIDGET_PATH).andReturn(404, NOT_SERVED).always();

    Outcome o = provider.apply(blueWidgetFrom(live), CallContext.of("agent", "main@sha1:" + "2".repeat(40),
        Duration.ofMillis(500)));

    assertThat(o.isConflict()).as(o.message()).isFalse();
    assertThat(o.kind()).as(o.message()).isEqualTo(Outcome.Kind.TRANSIENT);
    assertThat(o.message()).startsWith(WIDGET + ": update failed: 404 the server could not find the requested resource")
        .contains("its CustomResourceDefinition widgets.example.com is not established yet (waited for it within the"
            + " call's time)").contains("retried").doesNotContain("gone").endsWith("declared at app.yaml:18");
    assertThat(widgetRequests("PATCH")).isZero();
  }

  @Test
  void aServerSideApplyWhoseReadIsAnswered404ForItsKindIsNotSentUncheckedButTransientNamingTheCrd() {
    JsonNode live = widgetCreated(crdCreatedAndWidget());  // created client-side: the mock answers apply patches 415
    provider.close();
    provider = KubernetesProvider.builder(cluster.client).applyMode(ApplyMode.SERVER_SIDE).build();
    cluster.server.expect().get().withPath(WIDGET_PATH).andReturn(404, NOT_SERVED).always();

    Outcome o = provider.apply(blueWidgetFrom(live), CallContext.of("agent", "main@sha1:" + "2".repeat(40),
        Duration.ofMillis(500)));

    assertThat(o.kind()).as(o.message()).isEqualTo(Outcome.Kind.TRANSIENT);
    assertThat(o.message()).startsWith(WIDGET + ": update failed: 404 the server could not find the requested resource")
        .contains("its CustomResourceDefinition widgets.example.com is not established yet");
    assertThat(widgetRequests("PATCH")).as("no apply patch without the object's mark checked").isZero();
  }

  @Test
  void aDeleteWhoseReadIsAnswered404ForAnEstablishedKindIsTransientNotTakenForTheObjectGone() {
    List<Resource> rs = crdCreatedAndWidget();
    JsonNode live = widgetCreated(rs);
    cluster.client.apiextensions().v1().customResourceDefinitions().withName("widgets.example.com").patch(
        PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"conditions\":[{\"type\":\"Established\",\"status\":\"True\"}]}}");
    // its CRD is established, but the API server asked (another of the cluster's) does not serve the kind yet: the
    // object may well be there
    cluster.server.expect().get().withPath(WIDGET_PATH).andReturn(404, NOT_SERVED).always();
    provider.close();
    provider = KubernetesProvider.builder(cluster.client).build();  // its CRD informer sees it established
    decode("r1", Manifests.CRD + "---\n" + Manifests.widget("red"));
    Change delete = ProviderConformanceSuite.deleteOf(rs.get(1), live);

    Outcome o = provider.apply(delete, CallContext.of("agent", "main@sha1:" + "2".repeat(40), Duration.ofMillis(500)));

    assertThat(o.kind()).as(o.message()).isEqualTo(Outcome.Kind.TRANSIENT);
    assertThat(o.message()).startsWith(WIDGET + ": delete failed: 404 the server could not find the requested resource")
        .contains("its CustomResourceDefinition widgets.example.com is established, but the API server does not serve"
            + " the kind yet");
    assertThat(widgetRequests("DELETE")).isZero();
  }

  @Test
  void aDeleteWhoseReadIsAnswered404ForAKindItsCrdNeverServedIsDeletedWithoutWaiting() {
    List<Resource> rs = crdCreatedAndWidget();
    JsonNode live = widgetCreated(rs);
    cluster.server.expect().get().withPath(WIDGET_PATH).andReturn(404, NOT_SERVED).always();

    long start = System.nanoTime();
    Outcome o = provider.apply(ProviderConformanceSuite.deleteOf(rs.get(1), live), ctx());

    assertThat(o.kind()).as(o.message()).isEqualTo(Outcome.Kind.DELETED);
    // a wait would last until shortly before the call's 20 s
    assertThat(Duration.ofNanos(System.nanoTime() - start)).as("no object of a CRD never established: nothing to wait"
        + " for").isLessThan(Duration.ofSeconds(10));
  }

  // a 404 for the object names it (as a real server's does, and the stand-in's: StandInApiServer); one for the kind
  // names nothing

  @Test
  void anUpdateWhoseReadIsAnswered404NamingTheObjectIsTheObjectGoneThoughItsCrdIsNotEstablished() {
    JsonNode live = widgetCreated(crdCreatedAndWidget());
    cluster.client.genericKubernetesResources("example.com/v1", "Widget").inNamespace("shop").withName("banner").delete();
    cluster.takeSent();

    // the CRD not established explains a 404 for the kind; this one names the object: nothing to wait for
    Outcome o = provider.apply(blueWidgetFrom(live), CallContext.of("agent", "main@sha1:" + "2".repeat(40),
        Duration.ofSeconds(5)));

    assertThat(o.isConflict()).as(o.message()).isTrue();
    assertThat(o.message()).contains("the object is gone since it was observed").doesNotContain("established");
    assertThat(widgetRequests("PATCH")).isZero();
  }

  @Test
  void aWriteWhoseReadIsAnswered404ForAKindNoCrdExplainsFailsNamingTheKindNotTheObjectGone() {
    assertThat(provider.apply(ProviderConformanceSuite.createOf(configMap("{\"a\":\"1\"}")), ctx()).isOk()).isTrue();
    JsonNode live = JSON.valueToTree(cluster.get("/ConfigMap", "default", "cfg"));
    // as a real server answers a kind it does not serve (a version removed, an aggregated API gone); the stand-in
    // serves every kind, so the answer is injected
    cluster.server.expect().get().withPath("/api/v1/namespaces/default/configmaps/cfg").andReturn(404, NOT_SERVED).always();
    cluster.takeSent();

    Outcome update = provider.apply(ProviderConformanceSuite.updateOf(configMap("{\"a\":\"2\"}"),
        provider.normalize(CM, live)), ctx());
    Outcome delete = provider.apply(ProviderConformanceSuite.deleteOf(configMap("{\"a\":\"1\"}"), live), ctx());

    assertThat(update.isConflict()).as(update.message()).isFalse();
    assertThat(update.kind()).as(update.message()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(update.message()).startsWith(CM + ": update failed: 404 the server could not find the requested resource:"
        + " the API server does not serve ConfigMap at v1 (its 404 names no object, so it is not the object missing)")
        .doesNotContain("gone");
    assertThat(delete.kind()).as("not taken for deleted: " + delete.message()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(delete.message()).startsWith(CM + ": delete failed: 404 the server could not find the requested resource:"
        + " the API server does not serve ConfigMap at v1");
    assertThat(cluster.takeSent()).extracting(MockCluster.Sent::method).containsOnly("GET");
  }

  // an observation's read of the object from the server (right after a write of ours, until the informer shows it),
  // answered 404 naming no object: the kind is not served (a version removed by an upgrade, an aggregated API gone),
  // which is not the object missing unless its CRD explains it

  /**
   * Makes the next observation of {@code keys} (of one namespace), which the provider wrote last, read them from the
   * server: each is changed by hand and a probe object of their kind made after that is waited for, so the informer's
   * copy (its events come in order) is neither the provider's write nor older than the change.
   */
  private void informerPastOurWrite(dev.gitops.k8s.internal.KindInfo kind, ResourceKey... keys) {
    String namespace = keys[0].scope();
    var ops = cluster.client.genericKubernetesResources(dev.gitops.k8s.internal.KindInformers.context(kind))
        .inNamespace(namespace);
    for (ResourceKey key : keys) {
      ops.withName(key.name()).patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"labels\":{\"edited\":"
          + "\"by-hand\"}}}");
    }
    ResourceKey probe = ResourceKey.of("k8s", keys[0].type(), namespace, "probe");
    ops.resource(new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder().withApiVersion(kind.apiVersion())
        .withKind(kind.kind()).withNewMetadata().withName("probe").withNamespace(namespace).endMetadata().build())
        .create();
    assertThat(until(() -> observe(probe).isPresent())).as("the informer shows what was made after the edits").isTrue();
  }

  @Test
  void anObjectWeCreatedWhoseReadIsAnswered404ForItsKindIsUnknownSoItIsNeitherForgottenNorCreatedAgain() {
    String other = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\n";
    List<Resource> both = decode("r1", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: '1'}\n---\n"
        + other);
    desired.set(State.of("r1", both));
    var store = new dev.gitops.core.store.InMemoryStateStore();
    assertThat(withoutHealth(store).sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    // made again by the provider itself, so that no observation of the sync's has found its write in the informer
    ResourceKey otherKey = ResourceKey.of("k8s", "/ConfigMap", "default", "other");
    for (Resource r : both) {
      cluster.client.configMaps().inNamespace("default").withName(r.key().name()).delete();
      assertThat(provider.apply(ProviderConformanceSuite.createOf(r), ctx()).kind()).isEqualTo(Outcome.Kind.CREATED);
    }
    informerPastOurWrite(dev.gitops.k8s.internal.KindTable.builtIn("/ConfigMap").orElseThrow(), CM, otherKey);
    // as a real server answers a kind at a version it does not serve (the stand-in serves every kind: injected)
    for (String name : List.of("cfg", "other")) {
      cluster.server.expect().get().withPath("/api/v1/namespaces/default/configmaps/" + name).andReturn(404, NOT_SERVED)
          .always();
    }
    cluster.takeSent();

    Map<ResourceKey, Observation> seenBoth = provider.observe(List.of(CM, otherKey), ctx());

    Observation seen = seenBoth.get(CM);
    assertThat(seen.status()).as("%s", seen).isEqualTo(Observation.Status.UNKNOWN);
    assertThat(seenBoth.get(otherKey).status()).isEqualTo(Observation.Status.UNKNOWN);
    assertThat(cluster.takeSent()).as("what the cluster serves is asked once for both")
        .filteredOn(r -> r.path().equals("/api/v1")).hasSize(1);
    assertThat(seen.reason()).startsWith("cannot read " + CM + ": 404 the server could not find the requested resource:"
        + " the API server does not serve ConfigMap at v1 (its 404 names no object, so it is not default/cfg missing)")
        .contains("default/cfg may be there at a version the server serves, so it is not taken for absent")
        .contains("write its manifest at an apiVersion the cluster serves").endsWith("declared at app.yaml:1");

    // Git drops it: an ABSENT would drop it from the store as already gone, and the engine would lose track of it
    desired.set(State.of("r2", decode("r2", other)));
    cluster.takeSent();
    SyncResult dropped = withoutHealth(store).sync();
    assertThat(dropped.status()).as("%s", dropped.outcomes()).isEqualTo(SyncResult.Status.INCOMPLETE);
    assertThat(dropped.plan().unknown()).containsExactlyInAnyOrder(CM, otherKey);
    assertThat(store.load().inventory()).as("still recorded as ours").containsKey(CM);
    assertThat(cluster.takeSent()).extracting(MockCluster.Sent::method).doesNotContain("DELETE", "POST", "PATCH", "PUT");
  }

  @Test
  void aCustomObjectWhoseReadIsAnswered404ForItsKindIsUnknownWhileItsCrdServesItAndAbsentOnceItsCrdIsBeingDeleted() {
    List<Resource> rs = crdCreatedAndWidget();
    var crds = cluster.client.apiextensions().v1().customResourceDefinitions().withName("widgets.example.com");
    crds.patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"finalizers\":[\"example.com/hold\"]},"
        + "\"status\":{\"conditions\":[{\"type\":\"Established\",\"status\":\"True\"}]}}");
    widgetCreated(rs);
    informerPastOurWrite(new dev.gitops.k8s.internal.KindInfo("example.com", "v1", "Widget", "widgets", true), WIDGET);
    // its CRD is established, yet the API server asked does not serve it at v1 (a version its CRD stopped serving, an
    // API server of the cluster not caught up): the object may well be there
    cluster.server.expect().get().withPath(WIDGET_PATH).andReturn(404, NOT_SERVED).always();

    Observation served = observe(WIDGET);

    assertThat(served.status()).as("%s", served).isEqualTo(Observation.Status.UNKNOWN);
    assertThat(served.reason()).startsWith("cannot read " + WIDGET + ": 404 the server could not find the requested"
        + " resource: the API server does not serve Widget at example.com/v1 (its 404 names no object, so it is not"
        + " shop/banner missing)").endsWith("declared at app.yaml:18");

    // its CRD being deleted takes its objects along: that 404 is explained, the object is gone or going
    crds.delete();
    assertThat(until(() -> observe(WIDGET).isAbsent())).as("ABSENT once the CRD is being deleted").isTrue();
  }

  // an informer whose watch ends and whose lists and watches are refused after that (a kind the cluster stops serving
  // while the provider runs: a version removed by an upgrade, a CRD version dropped, an APIService gone): fabric8 keeps
  // its cache and retries, and the cache shows neither what was made nor what went since

  /** Starts over with a stand-in whose informers list and watch again 50 ms after a failure, not fabric8's 1 s. */
  private void withQuickReconnects() {
    provider.close();
    cluster.close();
    cluster = new MockCluster(50);
    provider = KubernetesProvider.builder(cluster.client).build();
  }

  private void configMapMadeByHand(String name, boolean ours) {
    var meta = new ConfigMapBuilder().withNewMetadata().withName(name).withNamespace("default");
    if (ours) {
      meta.addToLabels(Annotations.MANAGED_BY, Annotations.MANAGED_BY_VALUE)
          .addToAnnotations(Annotations.OWNER, "agent")
          .addToAnnotations(Annotations.KEY, ResourceKey.of("k8s", "/ConfigMap", "default", name).toString());
    }
    cluster.client.configMaps().inNamespace("default").resource(meta.endMetadata().build()).create();
  }

  @Test
  void aKindTheClusterStopsServingIsReadFromTheServerNotFromItsInformersStaleCacheSoItsKeysAreUnknown() {
    withQuickReconnects();
    ResourceKey other = ResourceKey.of("k8s", "/ConfigMap", "default", "other");
    configMapMadeByHand("cfg", true);
    assertThat(until(() -> observe(CM).isPresent())).isTrue();
    cluster.takeSent();
    assertThat(provider.observe(List.of(CM, other), ctx()).values()).extracting(Observation::status)
        .containsExactly(Observation.Status.PRESENT, Observation.Status.ABSENT);
    assertThat(cluster.takeSent()).as("a watching informer's cache is read: no request per key").isEmpty();

    cluster.refuseReads("/api/v1", "configmaps", false, 404, NOT_SERVED);
    configMapMadeByHand("other", true);  // after its watch ended: its informer never sees it

    assertThat(until(() -> observe(CM).status() == Observation.Status.UNKNOWN)).as("not the stale cache's PRESENT")
        .isTrue();
    cluster.takeSent();
    Map<ResourceKey, Observation> seen = provider.observe(List.of(CM, other), ctx());
    assertThat(seen.get(other).status()).as("not the stale cache's ABSENT: %s", seen.get(other))
        .isEqualTo(Observation.Status.UNKNOWN);
    assertThat(seen.get(CM).reason()).startsWith("cannot read " + CM + ": 404 the server could not find the requested"
        + " resource: the API server does not serve ConfigMap at v1 (its 404 names no object, so it is not default/cfg"
        + " missing)");
    assertThat(cluster.takeSent()).as("one read answered 404 for the kind answers for its other keys")
        .filteredOn(r -> r.path().startsWith("/api/v1/namespaces/default/configmaps/")).hasSize(1);

    // served again: the informer lists and watches again, and its cache, which has what was made meanwhile, is read
    cluster.serveReadsAgain();
    assertThat(until(() -> {
      cluster.takeSent();
      boolean both = provider.observe(List.of(CM, other), ctx()).values().stream().allMatch(Observation::isPresent);
      return both && cluster.takeSent().isEmpty();
    })).as("read from the informer again, with no request").isTrue();
  }

  @Test
  void aDeleteWhileItsInformerIsNotWatchingReadsTheServerSoAnObjectTheInformerNeverSawIsDeletedNotTakenForGone() {
    withQuickReconnects();
    assertThat(observe(CM).isAbsent()).isTrue();
    // the credentials lose list and watch on ConfigMaps (the watch ends), not get or delete
    cluster.refuseReads("/api/v1", "configmaps", true, 403, KubernetesProviderConformanceTest.forbidden());
    assertThat(until(() -> cluster.refused() > 0)).as("the informer listed or watched again, refused").isTrue();
    // ours, as the provider writes it, made after the watch ended (as one it made past the read-your-writes window)
    configMapMadeByHand("cfg", true);
    cluster.takeSent();

    Outcome o = provider.apply(ProviderConformanceSuite.deleteOf(configMap("{}"), null), ctx());

    assertThat(o.kind()).as("%s", o).isEqualTo(Outcome.Kind.DELETED);
    assertThat(cluster.get("/ConfigMap", "default", "cfg")).as("deleted, not taken for gone from the stale cache")
        .isNull();
    assertThat(only("DELETE").path()).isEqualTo("/api/v1/namespaces/default/configmaps/cfg");
  }

  @Test
  void listMarkedReadsAKindWhoseInformerIsNotWatchingFromTheServerAndFailsNamingTheKindWhenTheServerRefusesIt() {
    withQuickReconnects();
    configMapMadeByHand("cfg", true);
    assertThat(until(() -> observe(CM).isPresent())).isTrue();
    assertThat(provider.listMarked("agent", ctx())).containsExactly(CM);
    // the informer's lists and watches are refused (its watch ends); a list by our label is still served
    cluster.refuseUnlabelledLists("/api/v1", "configmaps", 403, KubernetesProviderConformanceTest.forbidden());
    assertThat(until(() -> cluster.refused() > 0)).as("the informer listed or watched again, refused").isTrue();
    configMapMadeByHand("other", true);  // after its watch ended: its informer never sees it
    ResourceKey other = ResourceKey.of("k8s", "/ConfigMap", "default", "other");

    assertThat(provider.listMarked("agent", ctx())).as("listed from the server, not from the stale cache")
        .containsExactlyInAnyOrder(CM, other);

    // and the list by label refused too: the listing fails (the engine deletes nothing), naming the kind
    cluster.refuseReads("/api/v1", "configmaps", true, 403, KubernetesProviderConformanceTest.forbidden());
    assertThatThrownBy(() -> provider.listMarked("agent", ctx())).as("not the stale cache's answer")
        .hasMessageStartingWith("cannot list /ConfigMap at " + cluster.client.getMasterUrl()
            + " to find the objects marked by agent: its informer is not watching")
        .hasMessageContaining("403 configmaps is forbidden");
  }

  @Test
  void listMarkedFailsNamingAKindWhoseListIsAnswered404UnlessItsCrdExplainsThatNoObjectOfItCanExist() {
    cluster.client.apiextensions().v1().customResourceDefinitions().resource(io.fabric8.kubernetes.client.utils
        .Serialization.unmarshal(Manifests.CRD,
            io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition.class)).create();
    cluster.server.expect().get().withPath("/apis/example.com/v1/widgets?resourceVersion=0").andReturn(404, NOT_SERVED)
        .always();
    provider.close();
    provider = KubernetesProvider.builder(cluster.client).scanForOrphans("example.com/Widget").build();
    // its CRD not established: it has never served a widget
    assertThat(provider.listMarked("agent", ctx())).isEmpty();

    cluster.client.apiextensions().v1().customResourceDefinitions().withName("widgets.example.com").patch(
        PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"conditions\":[{\"type\":\"Established\",\"status\":\"True\"}]}}");
    assertThat(until(() -> {
      try {
        provider.listMarked("agent", ctx());
        return false;
      } catch (RuntimeException e) {
        // established (once the CRD informer has it so): a 404 for the kind it serves proves nothing
        assertThat(e).hasMessageStartingWith("cannot list example.com/Widget at " + cluster.client.getMasterUrl()
            + " to find the objects marked by agent: 404 the server could not find the requested resource");
        return true;
      }
    })).isTrue();
  }

  @Test
  void aReplaceWhileItsInformerIsNotWatchingSeesTheOldObjectGoOnTheServerNotOutlastingTheCallOnTheStaleCache() {
    withQuickReconnects();
    configMapMadeByHand("cfg", true);
    assertThat(until(() -> observe(CM).isPresent())).isTrue();
    JsonNode live = observe(CM).live();
    // the credentials lose list and watch on ConfigMaps (the watch ends), not get, delete or create
    cluster.refuseReads("/api/v1", "configmaps", true, 403, KubernetesProviderConformanceTest.forbidden());
    assertThat(until(() -> cluster.refused() > 0)).as("the informer listed or watched again, refused").isTrue();

    // the stale cache would show the old object until the call's end (then UNKNOWN "still there")
    Outcome o = provider.apply(ProviderConformanceSuite.replaceOf(configMap("{\"a\":\"2\"}"), live),
        CallContext.of("agent", "r", Duration.ofSeconds(10)));

    assertThat(o.kind()).as(o.message()).isEqualTo(Outcome.Kind.CONFIGURED);
    var made = cluster.get("/ConfigMap", "default", "cfg");
    assertThat(made.getMetadata().getUid()).isNotEqualTo(live.at("/metadata/uid").asText());
    assertThat(made.getAdditionalProperties().get("data")).isEqualTo(Map.of("a", "2"));
  }

  @Test
  void aListAnswered404ForAKindWhoseCrdIsNotEstablishedIsAbsentThoughGitDoesNotDeclareTheCrd() {
    // made by someone else, not established: a CRD stays Established until it is deleted, so it has never served an
    // object, whether Git declares it or not (as a read of a widget answered 404 for the kind finds too)
    cluster.client.apiextensions().v1().customResourceDefinitions().resource(io.fabric8.kubernetes.client.utils
        .Serialization.unmarshal(Manifests.CRD,
            io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition.class)).create();
    cluster.server.expect().get().withPath("/apis/example.com/v1/widgets?resourceVersion=0").andReturn(404, NOT_SERVED)
        .always();

    Observation o = observe(WIDGET);

    assertThat(o.status()).as(o.reason()).isEqualTo(Observation.Status.ABSENT);
  }

  // a replace's watch of its kind (it sees the old object go), whose list a real server answers 404 until the CRD
  // is established

  private static final String WIDGET_LIST = "/apis/example.com/v1/widgets?resourceVersion=0";

  private Change blueWidgetReplacing(JsonNode live) {
    Resource blue = Resource.of(WIDGET, json("{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":"
        + "{\"name\":\"banner\",\"namespace\":\"shop\"},\"spec\":{\"color\":\"blue\",\"size\":3}}"));
    return ProviderConformanceSuite.replaceOf(blue, provider.normalize(WIDGET, live));
  }

  private long widgetLists() {
    return cluster.sent.stream().filter(r -> r.method().equals("GET") && r.path().equals(WIDGET_LIST)).count();
  }

  @Test
  void aReplaceWhoseWatchIsAnswered404ForItsKindWaitsForItsCrdAndReplacesOnceItIsEstablished() {
    JsonNode live = widgetCreated(crdCreatedAndWidget());
    cluster.server.expect().get().withPath(WIDGET_LIST).andReturn(404, NOT_SERVED).once();
    establishAfter(200);

    Outcome o = provider.apply(blueWidgetReplacing(live), ctx());

    assertThat(o.kind()).as(o.message()).isEqualTo(Outcome.Kind.CONFIGURED);
    assertThat(widgetLists()).as("the list refused, and the one after the CRD was established").isGreaterThanOrEqualTo(2);
    assertThat(widgetRequests("DELETE")).isEqualTo(1);
    assertThat(widgetPosts()).isEqualTo(1);
    assertThat(cluster.client.genericKubernetesResources("example.com/v1", "Widget").inNamespace("shop")
        .withName("banner").get().getAdditionalProperties().get("spec")).hasToString("{color=blue, size=3}");
  }

  @Test
  void aReplaceWhoseWatchIsAnswered404ForItsKindUntilTheCallEndsIsTransientNamingTheCrd() {
    JsonNode live = widgetCreated(crdCreatedAndWidget());
    cluster.server.expect().get().withPath(WIDGET_LIST).andReturn(404, NOT_SERVED).always();

    Outcome o = provider.apply(blueWidgetReplacing(live), CallContext.of("agent", "main@sha1:" + "2".repeat(40),
        Duration.ofMillis(500)));

    assertThat(o.kind()).as(o.message()).isEqualTo(Outcome.Kind.TRANSIENT);
    assertThat(o.message()).startsWith(WIDGET + ": replace failed: 404 the server could not find the requested resource")
        .contains("its CustomResourceDefinition widgets.example.com is not established yet (waited for it within the"
            + " call's time)").contains("retried").doesNotContain("cannot watch").endsWith("declared at app.yaml:18");
    assertThat(widgetRequests("DELETE") + widgetPosts()).as("nothing deleted or created").isZero();
  }

  @Test
  void anInterruptWhileAReplaceWaitsForTheCrdItsWatchNeedsIsUnknownSayingSo() throws Exception {
    JsonNode live = widgetCreated(crdCreatedAndWidget());
    cluster.server.expect().get().withPath(WIDGET_LIST).andReturn(404, NOT_SERVED).always();

    Interrupted i = interruptedWhileWaitingForTheCrd(() -> provider.apply(blueWidgetReplacing(live), ctx()));

    assertThat(i.interruptSet()).as("the interrupt is left set for the caller").isTrue();
    assertThat(i.outcome().kind()).as(i.outcome().message()).isEqualTo(Outcome.Kind.UNKNOWN);
    assertThat(i.outcome().message()).startsWith(WIDGET + ": interrupted during REPLACE while waiting for the cluster to"
            + " serve Widget at example.com/v1 (its CustomResourceDefinition widgets.example.com is not established yet),"
            + " after 404 the server could not find the requested resource").endsWith("declared at app.yaml:18");
    assertThat(widgetRequests("DELETE") + widgetPosts()).as("nothing deleted or created").isZero();
  }

  /** What a write returned on a thread interrupted while it waited for its CRD, and whether the interrupt stayed set. */
  private record Interrupted(Outcome outcome, boolean interruptSet) {}

  /**
   * Runs {@code write} (with the call's 20 s to wait in) on a thread, interrupts it once it waits
   * on the CRD's watch (not in the middle of a request), and says what it returned.
   */
  private static Interrupted interruptedWhileWaitingForTheCrd(java.util.function.Supplier<Outcome> write)
      throws InterruptedException {
    return interruptedIn("awaitCrd", write);
  }

  /**
   * Runs {@code write} (with the call's 20 s to wait in) on a thread, interrupts it once it is in a method named
   * {@code method}, and says what it returned.
   */
  private static Interrupted interruptedIn(String method, java.util.function.Supplier<Outcome> write)
      throws InterruptedException {
    AtomicReference<Outcome> outcome = new AtomicReference<>();
    java.util.concurrent.atomic.AtomicBoolean interruptSet = new java.util.concurrent.atomic.AtomicBoolean();
    Thread writer = new Thread(() -> {
      outcome.set(write.get());
      interruptSet.set(Thread.currentThread().isInterrupted());
    });
    writer.start();
    assertThat(until(() -> java.util.Arrays.stream(writer.getStackTrace()).anyMatch(f -> f.getMethodName().equals(method))))
        .as("waits in " + method).isTrue();
    writer.interrupt();
    writer.join(5_000);
    assertThat(writer.isAlive()).as("ended by the interrupt, not by the call's 20 s").isFalse();
    return new Interrupted(outcome.get(), interruptSet.get());
  }

  @Test
  void anInterruptWhileWaitingForTheCrdIsUnknownSayingSoAndLeavesTheInterruptSet() throws Exception {
    List<Resource> rs = crdCreatedAndWidget();
    cluster.server.expect().post().withPath(WIDGETS).andReturn(404, NOT_SERVED).always();

    Interrupted i = interruptedWhileWaitingForTheCrd(() -> provider.apply(ProviderConformanceSuite.createOf(rs.get(1)), ctx()));

    assertThat(i.interruptSet()).as("the interrupt is left set for the caller").isTrue();
    Outcome o = i.outcome();
    assertThat(o.kind()).as(o.message()).isEqualTo(Outcome.Kind.UNKNOWN);
    assertThat(o.message()).startsWith(WIDGET + ": interrupted during CREATE")
        .contains("its CustomResourceDefinition widgets.example.com is not established yet")
        .doesNotContain("waited for it within the call's time").endsWith("declared at app.yaml:18");
    assertThat(widgetPosts()).as("not sent again").isEqualTo(1);
  }

  @Test
  void anInterruptWhileAWriteWaitsForAnInformersFirstListIsUnknownSayingSoAndLeavesTheInterruptSet() throws Exception {
    // an API server that takes connections and never answers: the first list of an informer waits
    try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        io.fabric8.kubernetes.client.KubernetesClient client = new io.fabric8.kubernetes.client.KubernetesClientBuilder()
            .withConfig(new io.fabric8.kubernetes.client.ConfigBuilder().withMasterUrl("http://127.0.0.1:"
                + silent.getLocalPort()).withRequestRetryBackoffLimit(0).build()).build();
        KubernetesProvider waiting = KubernetesProvider.builder(client).build()) {
      Resource cfg = configMap("{\"a\":\"1\"}");
      // a replace starts its kind's informer (its watch sees the old object go) before anything else
      Interrupted replace = interruptedIn("await", () -> waiting.apply(ProviderConformanceSuite.replaceOf(cfg,
          cfg.document()), ctx()));
      // a custom kind is looked up among the cluster's CRDs, whose informer starts then
      Interrupted create = interruptedIn("await", () -> waiting.apply(ProviderConformanceSuite.createOf(Resource.of(WIDGET,
          json("{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"banner\","
              + "\"namespace\":\"shop\"}}"))), ctx()));

      for (Interrupted i : List.of(replace, create)) {
        assertThat(i.interruptSet()).as("the interrupt is left set for the caller").isTrue();
        assertThat(i.outcome().kind()).as(i.outcome().message()).isEqualTo(Outcome.Kind.UNKNOWN);
      }
      assertThat(replace.outcome().message()).startsWith(CM + ": interrupted during REPLACE before anything was written"
          + " (interrupted while waiting for the informer of /ConfigMap)");
      assertThat(create.outcome().message()).startsWith(WIDGET + ": interrupted during CREATE before anything was written"
          + " (interrupted while waiting for the informer of apiextensions.k8s.io/CustomResourceDefinition)");
    }
  }

  @Test
  void aClusterThatRefusesConnectionsIsSaidSoAndItsOtherKindsAreNotEachRetriedAsLong() throws Exception {
    int port;
    try (java.net.ServerSocket closed = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = closed.getLocalPort();
    }
    io.fabric8.kubernetes.client.Config config = new io.fabric8.kubernetes.client.ConfigBuilder()
        .withMasterUrl("https://127.0.0.1:" + port).withTrustCerts(true)
        .withRequestRetryBackoffLimit(1).withRequestRetryBackoffInterval(10).build();
    ResourceKey secret = ResourceKey.of("k8s", "/Secret", "default", "s");
    ResourceKey deployment = ResourceKey.of("k8s", "apps/Deployment", "default", "d");
    try (io.fabric8.kubernetes.client.KubernetesClient client =
            new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(config).build();
        KubernetesProvider down = KubernetesProvider.builder(client).build()) {
      Map<ResourceKey, Observation> seen = down.observe(List.of(deployment, secret, CM), ctx());
      assertThat(seen.values()).extracting(Observation::status).containsOnly(Observation.Status.UNKNOWN);
      String at = "https://127.0.0.1:" + port + "/";
      // the kinds are listed in order of their types: /ConfigMap's list is the one retried
      assertThat(seen.get(CM).reason()).isEqualTo("cannot list /ConfigMap at " + at + ": cannot connect: connection refused");
      for (ResourceKey k : List.of(secret, deployment)) {
        assertThat(seen.get(k).reason())
            .startsWith("cannot list " + k.type() + " at " + at + ": cannot connect: connection refused (the first list"
                + " of /ConfigMap got no answer from the API server ")
            .endsWith(k.type() + " is not listed within 10.0 s of that)");
      }
    }
  }

  @Test
  void aKubeconfigNamingACertificateFileThatIsMissingIsRefusedNamingBothFiles(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path ca = dir.resolve("ca.crt");
    java.nio.file.Path kubeconfig = kubeconfigWith(dir, "certificate-authority: \"" + ca + "\"");
    assertThatThrownBy(() -> KubernetesProvider.fromKubeconfig(kubeconfig, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("kubeconfig " + kubeconfig + ": cannot set up a client for https://127.0.0.1:1/: no such file " + ca);
  }

  @Test
  void aCertificateAuthorityThatHoldsNoCertificateIsRefusedWhenTheClientIsBuiltNotAtTheFirstHandshake(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path ca = dir.resolve("ca.crt");
    java.nio.file.Files.writeString(ca, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n");
    java.nio.file.Path kubeconfig = kubeconfigWith(dir, "certificate-authority: \"" + ca + "\"");
    assertThatThrownBy(() -> KubernetesProvider.fromKubeconfig(kubeconfig, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("kubeconfig " + kubeconfig + ": cannot set up a client for https://127.0.0.1:1/:"
            + " certificate-authority " + ca + " holds no readable X.509 certificate");

    java.nio.file.Files.writeString(ca, "");
    assertThatThrownBy(() -> KubernetesProvider.fromKubeconfig(kubeconfig, null))
        .hasMessage("kubeconfig " + kubeconfig + ": cannot set up a client for https://127.0.0.1:1/: certificate-authority "
            + ca + " holds no certificate");

    java.nio.file.Path inline = kubeconfigWith(dir, "certificate-authority-data: \""
        + java.util.Base64.getEncoder().encodeToString("garbage".getBytes(java.nio.charset.StandardCharsets.UTF_8)) + "\"");
    assertThatThrownBy(() -> KubernetesProvider.fromKubeconfig(inline, null))
        .hasMessageStartingWith("kubeconfig " + inline + ": cannot set up a client for https://127.0.0.1:1/:"
            + " certificate-authority-data holds no");

    // a real certificate (keytool's, PEM) is taken, and so is a garbage one when TLS is not verified
    java.nio.file.Path keystore = dir.resolve("ks.p12");
    String keytool = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    Process gen = new ProcessBuilder(keytool, "-genkeypair", "-keystore", keystore.toString(), "-storepass", "changeit",
        "-alias", "ca", "-keyalg", "EC", "-dname", "CN=test-ca", "-validity", "2").redirectErrorStream(true).start();
    assertThat(gen.waitFor(60, java.util.concurrent.TimeUnit.SECONDS) && gen.exitValue() == 0)
        .as(new String(gen.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)).isTrue();
    Process export = new ProcessBuilder(keytool, "-exportcert", "-rfc", "-keystore", keystore.toString(), "-storepass",
        "changeit", "-alias", "ca", "-file", ca.toString()).redirectErrorStream(true).start();
    assertThat(export.waitFor(60, java.util.concurrent.TimeUnit.SECONDS) && export.exitValue() == 0).isTrue();
    try (KubernetesProvider p = KubernetesProvider.fromKubeconfig(kubeconfig, null).build()) {
      assertThat(p.id()).isNotBlank();
    }
    java.nio.file.Path insecure = kubeconfigWith(dir, "insecure-skip-tls-verify: true");
    try (KubernetesProvider p = KubernetesProvider.fromKubeconfig(insecure, null).build()) {
      assertThat(p.id()).isNotBlank();
    }
  }

  private static java.nio.file.Path kubeconfigWith(java.nio.file.Path dir, String clusterField) throws Exception {
    java.nio.file.Path kubeconfig = java.nio.file.Files.createTempFile(dir, "kubeconfig", ".yaml");
    java.nio.file.Files.writeString(kubeconfig, """
        apiVersion: v1
        kind: Config
        clusters:
        - name: c
          cluster: {server: "https://127.0.0.1:1", %s}
        contexts:
        - name: c
          context: {cluster: c, user: u}
        current-context: c
        users:
        - name: u
          user: {token: not-a-secret}
        """.formatted(clusterField));
    return kubeconfig;
  }
}
