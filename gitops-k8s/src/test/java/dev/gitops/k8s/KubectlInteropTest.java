package dev.gitops.k8s;

import static dev.gitops.k8s.KubernetesProviderConformanceTest.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.FieldChange;
import dev.gitops.api.FieldPath;
import dev.gitops.api.Observation;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Source;
import dev.gitops.core.Reconciler;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.store.InMemoryStateStore;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code kubectl apply} and the provider interoperate both ways: the last-applied annotation kubectl
 * wrote is the merge base when the engine adopts the object and has no record of its own, and never
 * when it has one.
 */
class KubectlInteropTest {

  private static final ResourceKey CM = ResourceKey.of("k8s", "/ConfigMap", "default", "cfg");
  private static final SyncOptions ADOPT = SyncOptions.builder().adopt(true).build();
  private final AtomicReference<State> desired = new AtomicReference<>();
  private final InMemoryStateStore store = new InMemoryStateStore();
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

  private Reconciler reconciler(SyncOptions options) {
    return Reconciler.builder().source(Source.of(desired::get)).provider(provider).store(store).owner("agent")
        .options(options).build();
  }

  private static CallContext ctx() {
    return CallContext.of("agent", "main@sha1:" + "3".repeat(40), Duration.ofSeconds(20));
  }

  /** The ConfigMap's manifest with these labels, as Git or kubectl would hold it. */
  private static String manifest(String labels) {
    return "{\"apiVersion\":\"v1\",\"data\":{\"k\":\"v\"},\"kind\":\"ConfigMap\",\"metadata\":{\"labels\":" + labels
        + ",\"name\":\"cfg\",\"namespace\":\"default\"}}";
  }

  private void want(String revision, String labels) {
    desired.set(State.of(revision, List.of(Resource.of(CM, json(manifest(labels))))));
  }

  /** Creates the object as {@code kubectl apply} does: the object plus its last-applied annotation. */
  private void kubectlApply(Map<String, String> labels, String annotation) {
    cluster.client.configMaps().inNamespace("default").resource(new ConfigMapBuilder().withNewMetadata()
        .withName("cfg").withNamespace("default").withLabels(labels)
        .withAnnotations(Map.of(Annotations.LAST_APPLIED, annotation)).endMetadata().addToData("k", "v").build())
        .create();
  }

  private ConfigMap live() {
    return cluster.client.configMaps().inNamespace("default").withName("cfg").get();
  }

  /** Waits (bounded) until the provider's informer shows what {@code seen} accepts. */
  private Observation awaitObserved(Predicate<Observation> seen) {
    Observation[] last = {null};
    MockCluster.until(() -> seen.test(last[0] = provider.observe(List.of(CM), ctx()).get(CM)));
    return last[0];
  }


  @Test
  void adoptingAnObjectKubectlAppliedRemovesWhatKubectlAppliedAndGitNoLongerDeclares() {
    kubectlApply(Map.of("team", "a", "tier", "b", "added-by-hand", "x"), manifest("{\"team\":\"a\",\"tier\":\"b\"}") + "\n");
    want("r1", "{\"team\":\"a\"}");

    SyncResult r = reconciler(ADOPT).sync();

    assertThat(r.status()).as("%s", r.outcomes()).isEqualTo(SyncResult.Status.SUCCEEDED);
    Change c = r.plan().change(CM).orElseThrow();
    assertThat(c.action()).isEqualTo(Action.UPDATE);
    assertThat(c.has(Change.Flag.ADOPT)).isTrue();
    assertThat(c.fields()).as("the plan shows the removal").singleElement().satisfies(f -> {
      assertThat(f.path()).isEqualTo(FieldPath.parse("/metadata/labels/tier"));
      assertThat(f.after()).isNull();
    });
    Map<String, String> labels = live().getMetadata().getLabels();
    assertThat(labels).containsEntry("team", "a").doesNotContainKey("tier")
        .as("never applied by kubectl: not owned, kept").containsEntry("added-by-hand", "x")
        .containsEntry(Annotations.MANAGED_BY, Annotations.MANAGED_BY_VALUE);
    assertThat(live().getMetadata().getAnnotations()).as("our last-applied replaces kubectl's")
        .containsEntry(Annotations.LAST_APPLIED, manifest("{\"team\":\"a\"}") + "\n");
  }

  @Test
  void theStoresRecordWinsOverAnAnnotationEditedByHand() {
    want("r1", "{\"team\":\"a\",\"tier\":\"b\"}");
    assertThat(reconciler(SyncOptions.defaults()).sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    // by hand: a label, and the annotation edited to claim it was applied too
    cluster.client.configMaps().inNamespace("default").withName("cfg").edit(cm -> new ConfigMapBuilder(cm)
        .editMetadata().addToLabels("hand", "x")
        .addToAnnotations(Annotations.LAST_APPLIED, manifest("{\"hand\":\"x\",\"team\":\"a\",\"tier\":\"b\"}") + "\n")
        .endMetadata().build());
    awaitObserved(o -> o.isPresent() && o.live().at("/metadata/labels/hand").isTextual());
    want("r2", "{\"team\":\"a\"}");

    SyncResult r = reconciler(SyncOptions.defaults()).sync();

    assertThat(r.status()).as("%s", r.outcomes()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(r.plan().change(CM).orElseThrow().fields()).extracting(FieldChange::path)
        .as("the store says team and tier were applied").containsExactly(FieldPath.parse("/metadata/labels/tier"));
    assertThat(live().getMetadata().getLabels()).containsEntry("team", "a").doesNotContainKey("tier")
        .containsEntry("hand", "x");
  }

  @Test
  void observeReadsKubectlsAnnotationAndIgnoresOneThatIsNotAJsonObject() {
    kubectlApply(Map.of("team", "a"), manifest("{\"team\":\"a\"}") + "\n");
    Observation seen = awaitObserved(Observation::isPresent);
    assertThat(seen.lastApplied()).isEqualTo(json(manifest("{\"team\":\"a\"}")));
    assertThat(provider.normalize(CM, seen.live()).at("/metadata/annotations").path(Annotations.LAST_APPLIED).isMissingNode())
        .as("the live document compared is still without it").isTrue();

    cluster.client.configMaps().inNamespace("default").withName("cfg").edit(cm -> new ConfigMapBuilder(cm)
        .editMetadata().addToAnnotations(Annotations.LAST_APPLIED, "{not json").endMetadata().build());
    Observation edited = awaitObserved(o -> o.isPresent()
        && "{not json".equals(o.live().at("/metadata/annotations").path(Annotations.LAST_APPLIED).asText()));
    assertThat(edited.lastApplied()).isNull();
  }

  @Test
  void serverSideApplyDoesNotReadTheAnnotation() {
    try (KubernetesProvider ssa = KubernetesProvider.builder(cluster.client).applyMode(ApplyMode.SERVER_SIDE).build()) {
      kubectlApply(Map.of("team", "a"), manifest("{\"team\":\"a\"}") + "\n");
      // the informer starts on this first observe, after the create: it lists the object
      Observation seen = ssa.observe(List.of(CM), ctx()).get(CM);
      assertThat(seen.isPresent()).isTrue();
      JsonNode recorded = seen.lastApplied();
      assertThat(recorded).as("the server removes only what its field manager applied").isNull();
    }
  }

  /** Creates the object as a controller does: unmarked, with an ownerReference that says {@code controller}. */
  private void createdByController(boolean controller) {
    cluster.client.configMaps().inNamespace("default").resource(new ConfigMapBuilder().withNewMetadata()
        .withName("cfg").withNamespace("default").addNewOwnerReference().withApiVersion("apps/v1").withKind("ReplicaSet")
        .withName("web-5d8f").withUid("0b9d6f1e-rs").withController(controller).endOwnerReference().endMetadata()
        .addToData("k", "controller's").build()).create();
  }

  @Test
  void anObjectAnotherControllerControlsIsNeverAdoptedUnlessTakingOverFromOtherOwnersIsAllowed() {
    createdByController(true);
    want("r1", "{\"team\":\"a\"}");

    SyncResult r = reconciler(ADOPT).sync();

    Change c = r.plan().change(CM).orElseThrow();
    assertThat(c.action()).as(c.reason()).isEqualTo(Action.SKIP);
    assertThat(c.reason()).contains("apps/ReplicaSet web-5d8f");
    assertThat(live().getData()).as("the controller's, untouched").containsEntry("k", "controller's");
    assertThat(live().getMetadata().getLabels()).as("never marked").isNullOrEmpty();

    SyncResult taken = reconciler(SyncOptions.builder().adopt(true).adoptFromOtherOwners(true).build()).sync();
    assertThat(taken.plan().change(CM).orElseThrow().action()).isEqualTo(Action.UPDATE);
    assertThat(live().getData()).containsEntry("k", "v");
  }

  @Test
  void anObjectWithAnOwnerReferenceThatIsNoControllerIsAdoptedAsAnyUnmarkedOne() {
    createdByController(false);
    want("r1", "{\"team\":\"a\"}");

    SyncResult r = reconciler(ADOPT).sync();

    assertThat(r.plan().change(CM).orElseThrow().action()).isEqualTo(Action.UPDATE);
    assertThat(live().getData()).containsEntry("k", "v");
  }
}
