package dev.gitops.k8s;

import static dev.gitops.k8s.KubernetesProviderConformanceTest.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.DecodeException;
import dev.gitops.api.FieldPath;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.Plan;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Source;
import dev.gitops.api.spi.SourceFile;
import dev.gitops.core.Reconciler;
import dev.gitops.core.store.InMemoryStateStore;
import dev.gitops.testkit.ProviderConformanceSuite;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Manifests written to break the provider, and Git changes the API server refuses to make in
 * place: each is refused at its file and line when it is decoded, or planned so that applying it
 * works (a replace), or fails saying where the object is declared and what the cluster serves.
 */
class HostileInputsTest {

  private static final String REV = "main@sha1:" + "1".repeat(40);
  private MockCluster cluster;
  private KubernetesProvider provider;
  private final AtomicReference<State> desired = new AtomicReference<>();

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

  private KubernetesDecoder decoder() {
    return (KubernetesDecoder) provider.decoder().orElseThrow();
  }

  private static SourceFile file(String path, String text) {
    return new SourceFile(path, "blob-" + text.hashCode(), text.getBytes(StandardCharsets.UTF_8), REV);
  }

  private List<Resource> decode(String path, String text) {
    return decoder().decode(file(path, text));
  }

  private DecodeException error(String path, String text) {
    try {
      decode(path, text);
    } catch (DecodeException e) {
      return e;
    }
    throw new AssertionError("expected a DecodeException for " + text);
  }

  private static CallContext ctx() {
    return CallContext.of("agent", REV, Duration.ofSeconds(20));
  }

  // ------------------------------------------------------------------ names, as the API server checks them

  @Test
  void namesOfBuiltInKindsAreCheckedAsTheApiServerDoesAtTheirFileAndLine() {
    String[][] refused = {
        {"v1", "ConfigMap", "Web", "DNS subdomain"}, {"v1", "ConfigMap", "a..b", "DNS subdomain"},
        {"v1", "ConfigMap", "-a", "DNS subdomain"}, {"v1", "Secret", "a_b", "'_' is not allowed"},
        {"apps/v1", "Deployment", "web.", "DNS subdomain"}, {"v1", "ConfigMap", "x".repeat(253) + "y", "253"},
        {"v1", "Service", "1web", "DNS-1035 label"}, {"v1", "Service", "web.api", "DNS-1035 label"},
        {"v1", "Service", "s".repeat(64), "64 characters"}, {"v1", "Namespace", "shop.eu", "DNS label"},
        {"v1", "Namespace", "n".repeat(64), "64 characters"}, {"batch/v1", "CronJob", "c".repeat(53), "52"},
        {"networking.k8s.io/v1", "Ingress", "Shop", "upper-case 'S'"},
        // a custom resource: apiextensions-apiserver checks every custom resource's name as a DNS subdomain
        {"example.com/v1", "Widget", "Upper_Case", "as for every custom resource"}};
    for (String[] c : refused) {
      String yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\n---\napiVersion: " + c[0] + "\nkind: " + c[1]
          + "\nmetadata: {name: \"" + c[2] + "\", namespace: shop}\n";
      assertThat(error("apps/names.yaml", yaml).getMessage()).as(c[1] + " " + c[2]).contains("apps/names.yaml:5")
          .contains("metadata.name").contains(c[3]);
    }
    String[][] accepted = {{"v1", "ConfigMap", "x".repeat(253)}, {"v1", "Service", "s".repeat(63)},
        {"batch/v1", "CronJob", "c".repeat(52)}, {"v1", "ConfigMap", "a.b-c.0"},
        {"rbac.authorization.k8s.io/v1", "ClusterRole", "system:Controller:Upper"}};
    for (String[] c : accepted) {
      assertThat(decode("ok.yaml", "apiVersion: " + c[0] + "\nkind: " + c[1] + "\nmetadata: {name: \"" + c[2]
          + "\", namespace: shop}\n")).as(c[1] + " " + c[2]).hasSize(1);
    }
  }

  @Test
  void aKindTheClusterServesWithoutACrdKeepsItsServersRulesForNames() {
    // an aggregated API (OpenShift's groups): its server, not apiextensions, decides what a name may be
    cluster.server.expect().get().withPath("/apis/user.openshift.io/v1").andReturn(200, """
        {"kind":"APIResourceList","apiVersion":"v1","groupVersion":"user.openshift.io/v1","resources":[
        {"name":"groups","namespaced":false,"kind":"Group","verbs":["list"]}]}""").always();
    assertThat(decode("groups.yaml", "apiVersion: user.openshift.io/v1\nkind: Group\nmetadata: {name: Cluster_Admins}\n"))
        .hasSize(1);
    // the rules of every kind still hold
    assertThat(error("groups.yaml", "apiVersion: user.openshift.io/v1\nkind: Group\nmetadata: {name: a, labels: {\"-x\": y}}\n")
        .getMessage()).contains("groups.yaml:1").contains("metadata.labels key '-x'");
  }

  @Test
  void hugeNamesAndNamespacesAreRefusedWithoutQuotingThemWhole() {
    String huge = "a".repeat(100_000);
    String name = error("big.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + huge + "}\n").getMessage();
    assertThat(name).contains("big.yaml:1").contains("100000").hasSizeLessThan(1_000);
    String ns = error("big.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: " + huge + "}\n")
        .getMessage();
    assertThat(ns).contains("big.yaml:1").contains("not a namespace name").contains("100000").hasSizeLessThan(1_000);
  }

  @Test
  void aDefaultNamespaceThatIsNoNamespaceNameIsRefusedNamingIt() {
    for (String bad : List.of("Shop", "a/b", "a.b", "n".repeat(64))) {
      assertThatThrownBy(() -> KubernetesDecoder.builder().defaultNamespace(bad)).as(bad)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'" + bad + "'")
          .hasMessageContaining("not a namespace name");
      assertThatThrownBy(() -> KubernetesProvider.builder(cluster.client).defaultNamespace(bad)).as(bad)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'" + bad + "'");
    }
  }

  @Test
  void theDecodersFingerprintChangedWithItsRulesSoCachedDecodesAreNotReused() {
    // decoded resources are cached by the decoder's fingerprint: an older decode let these names through
    assertThat(decoder().fingerprint()).contains(",v14)");
  }

  // ------------------------------------------------------------------ documents and lists

  @Test
  void theSameObjectInTwoDocumentsOrFilesIsAnErrorNamingBothPlaces() {
    String cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%s}\n";
    assertThat(error("a.yaml", cm.formatted("") + "---\n" + cm.formatted("d") + "---\n" + cm.formatted("")).getMessage())
        .contains("a.yaml:9").contains("declared twice").contains("a.yaml:1");
    // the default namespace and the same namespace written out are one object
    KubernetesDecoder inShop = KubernetesDecoder.builder().defaultNamespace("shop").build();
    assertThatThrownBy(() -> inShop.decode(file("b.yaml", cm.formatted("") + "---\n"
        + "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n")))
        .hasMessageContaining("b.yaml:5").hasMessageContaining("declared twice").hasMessageContaining("b.yaml:1");
    // a List item against a document of another file
    assertThatThrownBy(() -> decoder().decodeTogether(List.of(file("one.yaml", cm.formatted("")), file("list.yaml",
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: x}\n"
            + "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c}\n"))))
        .hasMessageContaining("list.yaml:7").hasMessageContaining("declared twice").hasMessageContaining("one.yaml:1");
    // a key written twice in one document: never the last one silently
    assertThat(error("dup.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n").getMessage())
        .contains("dup.yaml").contains("name");
  }

  @Test
  void generatedNamesAreRefusedWhereverTheyAre() {
    assertThat(error("g.yaml", "apiVersion: batch/v1\nkind: Job\nmetadata: {generateName: migrate-}\n").getMessage())
        .contains("g.yaml:1").contains("generateName");
    assertThat(error("g.yaml", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: m, generateName: migrate-}\n")
        .getMessage()).contains("generateName");
    assertThat(error("g.yaml", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n"
        + "  metadata: {name: a}\n- apiVersion: batch/v1\n  kind: Job\n  metadata: {generateName: m-}\n").getMessage())
        .contains("g.yaml:7").contains("items[1]").contains("generateName");
    assertThat(decode("g.yaml", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: m, generateName: null}\n")).hasSize(1);
  }

  @Test
  void emptyDocumentsAreSkippedAndWhatIsNoObjectIsNamedAtItsLine() {
    assertThat(decode("empty.yaml", "")).isEmpty();
    assertThat(decode("empty.yaml", "---\n---\n# only a comment\n---\n")).isEmpty();
    List<Resource> one = decode("some.yaml", "---\n---\n# a comment\n---\napiVersion: v1\nkind: ConfigMap\n"
        + "metadata: {name: a}\n---\n---\n");
    assertThat(one).hasSize(1);
    assertThat(one.get(0).origin().line()).isEqualTo(5);
    assertThat(error("scalar.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\njust text\n").getMessage())
        .contains("scalar.yaml:5").contains("must be a mapping");
    assertThat(error("seq.yaml", "- apiVersion: v1\n  kind: ConfigMap\n").getMessage()).contains("seq.yaml:1")
        .contains("must be a mapping");
  }

  @Test
  void listsWithoutItemsAreEmptyAndTheirItemsAreCheckedAtTheirOwnLines() {
    assertThat(decode("l.yaml", "apiVersion: v1\nkind: List\nitems: []\n")).isEmpty();
    assertThat(decode("l.yaml", "apiVersion: v1\nkind: List\nitems:\n")).as("items: with nothing is null").isEmpty();
    assertThat(decode("l.yaml", "apiVersion: v1\nkind: List\nmetadata: {resourceVersion: \"\"}\n")).isEmpty();
    assertThat(error("l.yaml", "apiVersion: v1\nkind: List\nitems: {a: b}\n").getMessage()).contains("l.yaml:1")
        .contains("items of a List must be a list");
    assertThat(error("l.yaml", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n"
        + "  metadata: {name: a}\n- null\n").getMessage()).contains("items[1]").contains("must be a mapping");
    assertThat(error("l.yaml", "apiVersion: v1\nkind: List\nitems:\n- kind: ConfigMap\n  metadata: {name: a}\n")
        .getMessage()).contains("l.yaml:4").contains("missing apiVersion");
    List<Resource> nested = decode("l.yaml", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n"
        + "  items:\n  - {apiVersion: v1, kind: ConfigMap, metadata: {name: inner}}\n"
        + "- {apiVersion: v1, kind: SecretList, items: [{apiVersion: v1, kind: Secret, metadata: {name: s}}]}\n");
    assertThat(nested).extracting(r -> r.key().toString())
        .containsExactly("k8s:/ConfigMap:default:inner", "k8s:/Secret:default:s");
  }

  // ------------------------------------------------------------------ kinds and versions

  @Test
  void aKindInTheWrongCaseOrTheWrongGroupIsNamedWithTheOneMeant() {
    assertThat(error("k.yaml", "apiVersion: v1\nkind: configmap\nmetadata: {name: a, namespace: shop}\n").getMessage())
        .contains("k.yaml:1").contains("'configmap'").contains("write 'ConfigMap'");
    assertThat(error("k.yaml", "apiVersion: v1\nkind: Deployment\nmetadata: {name: a}\n").getMessage())
        .contains("k.yaml:1").contains("cannot tell").contains("Deployment is apps/v1's");
  }

  @Test
  void aCrdsNameAndTheVersionsItServesAreCheckedAgainstItsObjects() {
    assertThat(error("crd.yaml", Manifests.CRD.replace("name: widgets.example.com", "name: widget.example.com"))
        .getMessage()).contains("crd.yaml:1").contains("'widgets.example.com'");
    assertThatThrownBy(() -> decoder().decodeTogether(List.of(file("crds/w.yaml", Manifests.CRD), file("apps/w.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n" + Manifests.widget("red")
            .replace("example.com/v1", "example.com/v2")))))
        .isInstanceOf(DecodeException.class).hasMessageContaining("apps/w.yaml:5").hasMessageContaining("v2")
        .hasMessageContaining("crds/w.yaml:1").hasMessageContaining("serves v1");
  }

  /** Discovery as a real API server answers it: the apps group at v1 only; the mock serves none of it. */
  private void discoveryServesAppsV1() {
    cluster.server.expect().get().withPath("/apis").andReturn(200, """
        {"kind":"APIGroupList","apiVersion":"v1","groups":[{"name":"apps","versions":[{"groupVersion":"apps/v1",
        "version":"v1"}],"preferredVersion":{"groupVersion":"apps/v1","version":"v1"}}]}""").always();
    cluster.server.expect().get().withPath("/apis/apps/v1").andReturn(200, """
        {"kind":"APIResourceList","apiVersion":"v1","groupVersion":"apps/v1","resources":[
        {"name":"deployments","namespaced":true,"kind":"Deployment","verbs":["list"]},
        {"name":"deployments/scale","namespaced":true,"kind":"Scale","verbs":["get"]},
        {"name":"statefulsets","namespaced":true,"kind":"StatefulSet","verbs":["list"]}]}""").always();
  }

  @Test
  void aBuiltInKindAtAVersionTheClusterNoLongerServesNamesTheFileAndWhatIsServed() {
    discoveryServesAppsV1();
    // what a real server answers for a removed version (the mock would store anything)
    cluster.server.expect().get().withPath("/apis/apps/v1beta1/deployments?resourceVersion=0").andReturn(404,
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"NotFound\",\"code\":404,"
            + "\"message\":\"the server could not find the requested resource\"}").always();
    decode("apps/old.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: apps/v1beta1\n"
        + "kind: Deployment\nmetadata: {name: web, namespace: shop}\n");
    ResourceKey web = ResourceKey.of("k8s", "apps/Deployment", "shop", "web");

    Observation o = provider.observe(List.of(web), ctx()).get(web);

    assertThat(o.status()).isEqualTo(Observation.Status.UNKNOWN);
    assertThat(o.reason()).contains("404").contains("the cluster serves apps/v1 (Deployment, StatefulSet)")
        .contains("Deployment is served at apps/v1, not at apps/v1beta1").endsWith("declared at apps/old.yaml:5");
  }

  @Test
  void aCustomKindWithoutItsCrdNamesTheFileAndSaysTheCrdIsMissing() {
    discoveryServesAppsV1();
    decode("apps/w.yaml", Manifests.widget("red"));
    ResourceKey w = ResourceKey.of("k8s", "example.com/Widget", "shop", "banner");

    Observation o = provider.observe(List.of(w), ctx()).get(w);
    Outcome applied = provider.apply(ProviderConformanceSuite.createOf(Resource.of(w, json(
        "{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"banner\",\"namespace\":\"shop\"}}"))),
        ctx());

    // nothing in the cluster serves the group (no CRD of it, no APIService): no object of it exists, so the create is
    // planned, and fails saying why
    assertThat(o.status()).as(o.reason()).isEqualTo(Observation.Status.ABSENT);
    assertThat(applied.kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(applied.message()).contains("no kind example.com/Widget at example.com/v1")
        .contains("the cluster serves no version of API group example.com: no CustomResourceDefinition of the cluster"
            + " defines a kind of it and no APIService serves it")
        .contains("a CustomResourceDefinition not in the cluster")
        .endsWith("declared at apps/w.yaml:1");
  }

  @Test
  void aKindOfAKubernetesApiGroupTheClusterNoLongerServesSaysSoNotThatItsCrdIsMissing() {
    discoveryServesAppsV1();
    // extensions/v1beta1 Ingress, removed in Kubernetes 1.22: a real server serves no version of extensions any more
    decode("apps/ing.yaml", "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: web, namespace: shop}\n");
    ResourceKey ingress = ResourceKey.of("k8s", "extensions/Ingress", "shop", "web");

    Observation o = provider.observe(List.of(ingress), ctx()).get(ingress);

    assertThat(o.status()).isEqualTo(Observation.Status.UNKNOWN);
    assertThat(o.reason()).contains("no kind extensions/Ingress at extensions/v1beta1")
        .contains("the cluster serves no version of API group extensions, one of Kubernetes' own API groups (removed"
            + " by an upgrade, or not enabled on this cluster)")
        .contains("the built-in Ingress is networking.k8s.io/v1's")
        .doesNotContain("CustomResourceDefinition").endsWith("declared at apps/ing.yaml:1");
  }

  @Test
  void aMisspelledKindOfAServedGroupListsTheKindsTheGroupHas() {
    cluster.client.apiextensions().v1().customResourceDefinitions().resource(io.fabric8.kubernetes.client.utils
        .Serialization.unmarshal(Manifests.CRD, io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition
            .class)).create();
    cluster.server.expect().get().withPath("/apis").andReturn(200, """
        {"kind":"APIGroupList","apiVersion":"v1","groups":[{"name":"example.com","versions":[{"groupVersion":
        "example.com/v1","version":"v1"}]}]}""").always();
    List<Resource> rs = decode("apps/w.yaml", Manifests.widget("red").replace("kind: Widget", "kind: Widgit"));
    ResourceKey w = ResourceKey.of("k8s", "example.com/Widgit", "shop", "banner");

    // no CRD defines Widgit and no APIService but the API server's own (for Widget's CRD) names the group: none exists
    assertThat(provider.observe(List.of(w), ctx()).get(w).status()).isEqualTo(Observation.Status.ABSENT);
    Outcome o = provider.apply(ProviderConformanceSuite.createOf(rs.get(0)), ctx());

    assertThat(o.kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(o.message()).contains("the cluster serves example.com/v1 (Widget)").contains("none of them is Widgit")
        .endsWith("declared at apps/w.yaml:1");
  }

  // ------------------------------------------------------------------ what the API server refuses to change

  private Reconciler reconciler(InMemoryStateStore store) {
    return Reconciler.builder().source(Source.of(desired::get)).provider(provider).store(store).owner("agent")
        .options(dev.gitops.core.SyncOptions.builder().execution(dev.gitops.core.apply.ExecutionOptions.defaults()
            .withWaitForHealth(false)).build()).build();
  }

  private void gitHas(String revision, String yaml) {
    desired.set(State.of(revision, decoder().decode(new SourceFile("app.yaml", "b" + revision,
        yaml.getBytes(StandardCharsets.UTF_8), revision))));
  }

  /** A ConfigMap that keeps the mass-deletion guard from refusing a replace of everything we own. */
  private static final String BYSTANDER = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: bystander}\n";

  @Test
  void turningImmutableOffOrChangingTheDataOfAnImmutableConfigMapOrSecretPlansAReplace() {
    String objects = """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: settings%s}
        %s
        data: {mode: "%s"}
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: token}
        %s
        stringData: {token: "%s"}
        """ + BYSTANDER;
    gitHas("r1", objects.formatted("", "immutable: true", "a", "immutable: true", "t1"));
    InMemoryStateStore store = new InMemoryStateStore();
    assertThat(reconciler(store).sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    ResourceKey cm = ResourceKey.of("k8s", "/ConfigMap", "default", "settings");
    ResourceKey secret = ResourceKey.of("k8s", "/Secret", "default", "token");

    // data changed, the flag kept: the server refuses the update ("field is immutable when `immutable` is set")
    gitHas("r2", objects.formatted("", "immutable: true", "b", "immutable: true", "t2"));
    Plan data = reconciler(store).plan();
    assertThat(data.change(cm).orElseThrow().action()).isEqualTo(Action.REPLACE);
    assertThat(data.change(secret).orElseThrow().action()).isEqualTo(Action.REPLACE);
    // the flag turned off (removed, or false) with the data unchanged: refused too
    gitHas("r3", objects.formatted("", "", "a", "immutable: false", "t1"));
    Plan off = reconciler(store).plan();
    assertThat(off.change(cm).orElseThrow().action()).as(off.change(cm).orElseThrow().reason()).isEqualTo(Action.REPLACE);
    assertThat(off.change(cm).orElseThrow().reason()).contains("/immutable");
    assertThat(off.change(secret).orElseThrow().action()).isEqualTo(Action.REPLACE);
    // only metadata: an immutable object's labels may change in place
    gitHas("r4", objects.formatted(", labels: {team: a}", "immutable: true", "a", "immutable: true", "t1"));
    assertThat(reconciler(store).plan().change(cm).orElseThrow().action()).isEqualTo(Action.UPDATE);

    gitHas("r3", objects.formatted("", "", "a", "immutable: false", "t1"));
    SyncResult replaced = reconciler(store).sync();

    assertThat(replaced.status()).as("%s", replaced.outcomes()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(cluster.get("/ConfigMap", "default", "settings").getAdditionalProperties()).doesNotContainKey("immutable");
    assertThat(cluster.get("/Secret", "default", "token").getAdditionalProperties().get("immutable")).isEqualTo(false);
  }

  @Test
  void turningImmutableOnOnAMutableConfigMapIsAnUpdateAsTheServerAllowsIt() {
    String cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n%s\ndata: {mode: \"%s\"}\n" + BYSTANDER;
    gitHas("r1", cm.formatted("", "a"));
    InMemoryStateStore store = new InMemoryStateStore();
    assertThat(reconciler(store).sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);

    gitHas("r2", cm.formatted("immutable: true", "b"));

    assertThat(reconciler(store).plan().change(ResourceKey.of("k8s", "/ConfigMap", "default", "settings")).orElseThrow()
        .action()).isEqualTo(Action.UPDATE);
  }

  private static final String JOB = """
      apiVersion: batch/v1
      kind: Job
      metadata: {name: migrate}
      spec:
      %s
        template:
          spec:
            restartPolicy: Never
            containers: [{name: migrate, image: "migrate:1"}]
      """;

  private static String job(String... specLines) {
    return JOB.formatted(String.join("\n", java.util.Arrays.stream(specLines).map(l -> "  " + l).toList()));
  }

  @Test
  void jobFieldsTheServerRefusesToChangePlanAReplaceAndTheOthersAnUpdate() {
    gitHas("r1", job("completions: 3", "parallelism: 1", "backoffLimit: 4") + BYSTANDER);
    InMemoryStateStore store = new InMemoryStateStore();
    assertThat(reconciler(store).sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    ResourceKey key = ResourceKey.of("k8s", "batch/Job", "default", "migrate");
    String[][] cases = {
        {"completions: 5", "REPLACE"}, {"podFailurePolicy: {rules: [{action: FailJob, onExitCodes: {operator: In, "
            + "values: [42]}}]}", "REPLACE"}, {"backoffLimitPerIndex: 2", "REPLACE"},
        {"managedBy: kueue.x-k8s.io/multikueue", "REPLACE"}, {"completionMode: Indexed", "REPLACE"},
        {"successPolicy: {rules: [{succeededCount: 1}]}", "REPLACE"}, {"manualSelector: true", "REPLACE"},
        {"activeDeadlineSeconds: 600", "UPDATE"}, {"ttlSecondsAfterFinished: 60", "UPDATE"}, {"suspend: true", "UPDATE"}};
    for (String[] c : cases) {
      boolean completions = c[0].startsWith("completions");
      gitHas("r2", job(completions ? c[0] : "completions: 3", "parallelism: 1", "backoffLimit: 4",
          completions ? "" : c[0]) + BYSTANDER);
      Change change = reconciler(store).plan().change(key).orElseThrow();
      assertThat(change.action().name()).as(c[0] + ": " + change.reason()).isEqualTo(c[1]);
    }
    gitHas("r3", job("completions: 3", "parallelism: 2", "backoffLimit: 4") + BYSTANDER);
    assertThat(reconciler(store).plan().change(key).orElseThrow().action()).as("parallelism").isEqualTo(Action.UPDATE);
    gitHas("r3", job("completions: 3", "parallelism: 1", "backoffLimit: 4").replace("migrate:1", "migrate:2")
        + BYSTANDER);
    assertThat(reconciler(store).plan().change(key).orElseThrow().action()).as("its template").isEqualTo(Action.REPLACE);
  }

  @Test
  void anIndexedJobMayChangeItsCompletionsOnlyTogetherWithItsParallelism() {
    gitHas("r1", job("completionMode: Indexed", "completions: 3", "parallelism: 3") + BYSTANDER);
    InMemoryStateStore store = new InMemoryStateStore();
    assertThat(reconciler(store).sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    ResourceKey key = ResourceKey.of("k8s", "batch/Job", "default", "migrate");

    gitHas("r2", job("completionMode: Indexed", "completions: 5", "parallelism: 5") + BYSTANDER);
    assertThat(reconciler(store).plan().change(key).orElseThrow().action()).as("elastic").isEqualTo(Action.UPDATE);
    gitHas("r3", job("completionMode: Indexed", "completions: 5", "parallelism: 3") + BYSTANDER);
    assertThat(reconciler(store).plan().change(key).orElseThrow().action()).as("not in tandem").isEqualTo(Action.REPLACE);
  }

  @Test
  void aSuspendedJobThatNeverStartedMayChangeItsSchedulingDirectivesButNotItsContainers() {
    String suspended = JOB.formatted("  suspend: true").replace("restartPolicy: Never",
        "restartPolicy: Never\n      nodeSelector: {pool: %s}").replace("migrate:1", "migrate:%s");
    gitHas("r1", suspended.formatted("a", "1") + BYSTANDER);
    InMemoryStateStore store = new InMemoryStateStore();
    assertThat(reconciler(store).sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    ResourceKey key = ResourceKey.of("k8s", "batch/Job", "default", "migrate");

    gitHas("r2", suspended.formatted("b", "1") + BYSTANDER);
    assertThat(reconciler(store).plan().change(key).orElseThrow().action()).as("Kueue's edit").isEqualTo(Action.UPDATE);
    gitHas("r3", suspended.formatted("a", "2") + BYSTANDER);
    assertThat(reconciler(store).plan().change(key).orElseThrow().action()).as("the image").isEqualTo(Action.REPLACE);

    // once it has started (the controller sets status.startTime), its template is immutable again
    cluster.client.batch().v1().jobs().inNamespace("default").withName("migrate").subresource("status")
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"startTime\":\"2026-01-01T00:00:00Z\"}}");
    // the provider reads through its informer, which sees the status write a moment later: wait for
    // it, bounded in time (a count of spins alone ran out before it on a loaded machine). Once seen, no
    // later read may go back to the copy without it (ReadYourWrites), so the plan below sees it too.
    MockCluster.until(java.time.Duration.ofSeconds(30),
        () -> !provider.observe(List.of(key), ctx()).get(key).live().at("/status/startTime").isMissingNode());
    gitHas("r2", suspended.formatted("b", "1") + BYSTANDER);
    assertThat(reconciler(store).plan().change(key).orElseThrow().action()).isEqualTo(Action.REPLACE);
  }

  @Test
  void requiresReplaceAnswersForImmutableFieldsOfOtherBuiltInKinds() {
    String[][] replace = {{"/Pod", "/spec/containers/[name=a]/imagePullPolicy"}, {"/Pod", "/spec/affinity/nodeAffinity"},
        {"apps/StatefulSet", "/spec/podManagementPolicy"}, {"scheduling.k8s.io/PriorityClass", "/value"},
        {"networking.k8s.io/IngressClass", "/spec/controller"}, {"node.k8s.io/RuntimeClass", "/handler"},
        {"discovery.k8s.io/EndpointSlice", "/addressType"}, {"/ResourceQuota", "/spec/scopes"}};
    for (String[] c : replace) {
      assertThat(provider.requiresReplace(ResourceKey.of("k8s", c[0], "a", "b"), FieldPath.parse(c[1])))
          .as(c[0] + " " + c[1]).isTrue();
    }
    String[][] inPlace = {{"/Pod", "/spec/containers/[name=a]/image"}, {"/Pod", "/spec/activeDeadlineSeconds"},
        {"/Pod", "/metadata/labels/app"}, {"apps/StatefulSet", "/spec/replicas"},
        {"apps/StatefulSet", "/spec/template/spec/containers/[name=a]/image"},
        {"apps/StatefulSet", "/spec/persistentVolumeClaimRetentionPolicy/whenDeleted"},
        {"scheduling.k8s.io/PriorityClass", "/description"}, {"/ResourceQuota", "/spec/hard/pods"}};
    for (String[] c : inPlace) {
      assertThat(provider.requiresReplace(ResourceKey.of("k8s", c[0], "a", "b"), FieldPath.parse(c[1])))
          .as(c[0] + " " + c[1]).isFalse();
    }
  }

  // ------------------------------------------------------------------ errors say where the object is declared

  private static String forbidden(String verb, String resource) {
    return "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"Forbidden\",\"code\":403,"
        + "\"message\":\"" + resource + " is forbidden: User \\\"gitops\\\" cannot " + verb + " resource \\\"" + resource
        + "\\\"\"}";
  }

  @Test
  void everyApplyAndDeleteErrorEndsWithWhereTheObjectIsDeclared() {
    String two = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep}\n---\napiVersion: v1\nkind: ConfigMap\n"
        + "metadata: {name: gone}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: refused}\n";
    cluster.server.expect().post().withPath("/api/v1/namespaces/default/secrets").andReturn(403,
        forbidden("create", "secrets")).always();
    gitHas("r1", two);
    InMemoryStateStore store = new InMemoryStateStore();

    SyncResult first = reconciler(store).sync();

    ResourceKey refused = ResourceKey.of("k8s", "/Secret", "default", "refused");
    assertThat(first.failures()).containsOnlyKeys(refused);
    assertThat(first.failures().get(refused).message()).contains("create failed").contains("403")
        .endsWith("; declared at app.yaml:9");

    // removed from Git, and its delete refused: where it was declared, at the revision last applied
    cluster.server.expect().delete().withPath("/api/v1/namespaces/default/configmaps/gone").andReturn(403,
        forbidden("delete", "configmaps")).always();
    gitHas("r2", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep}\n");
    SyncResult second = reconciler(store).sync();

    ResourceKey gone = ResourceKey.of("k8s", "/ConfigMap", "default", "gone");
    assertThat(second.failures()).containsKey(gone);
    assertThat(second.failures().get(gone).message()).contains("delete failed").contains("403")
        .contains("no longer in Git (last applied from r1)").endsWith("declared at app.yaml:5");
  }

  @Test
  void aChangeTheProviderCannotEvenSendStillSaysWhereTheObjectIsDeclared() {
    List<Resource> rs = decode("apps/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n");
    ResourceKey key = rs.get(0).key();
    // a change whose target is not an object the client can send
    Change broken = Change.builder(key, Action.CREATE).desired(rs.get(0)).target(json("{\"metadata\":[1]}"))
        .reason("test").build();

    Outcome o = provider.apply(broken, ctx());

    assertThat(o.isOk()).isFalse();
    assertThat(o.message()).contains(key.toString()).endsWith("declared at apps/cm.yaml:1");
  }
}
