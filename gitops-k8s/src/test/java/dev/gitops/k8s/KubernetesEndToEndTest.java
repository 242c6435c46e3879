package dev.gitops.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.FieldChange;
import dev.gitops.api.Outcome;
import dev.gitops.api.Plan;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncResult;
import dev.gitops.core.Reconciler;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.apply.ExecutionOptions;
import dev.gitops.core.source.GitSource;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.testkit.TempGitRepo;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The provider behind a real {@link Reconciler}, reading real-world manifests from a Git
 * repository, against fabric8's mock API server (with stand-in controllers for CRDs, Deployments
 * and Ingresses).
 */
class KubernetesEndToEndTest {

  static final ResourceKey NAMESPACE = ResourceKey.of("k8s", "/Namespace", "", "shop");
  static final ResourceKey CONFIG = ResourceKey.of("k8s", "/ConfigMap", "shop", "web-config");
  static final ResourceKey SECRET = ResourceKey.of("k8s", "/Secret", "shop", "db-credentials");
  static final ResourceKey DEPLOYMENT = ResourceKey.of("k8s", "apps/Deployment", "shop", "web");
  static final ResourceKey SERVICE = ResourceKey.of("k8s", "/Service", "shop", "web");
  static final ResourceKey INGRESS = ResourceKey.of("k8s", "networking.k8s.io/Ingress", "shop", "web");
  static final ResourceKey CRD = ResourceKey.of("k8s", "apiextensions.k8s.io/CustomResourceDefinition", "",
      "widgets.example.com");
  static final ResourceKey WIDGET = ResourceKey.of("k8s", "example.com/Widget", "shop", "banner");
  static final ResourceKey ROLE_BINDING = ResourceKey.of("k8s", "rbac.authorization.k8s.io/RoleBinding", "shop",
      "web-reads-config");
  static final ResourceKey CLUSTER_ROLE = ResourceKey.of("k8s", "rbac.authorization.k8s.io/ClusterRole", "",
      "shop-metrics-reader");

  @TempDir
  Path tmp;
  private MockCluster cluster;
  private KubernetesProvider provider;
  private TempGitRepo repo;
  private GitSource source;
  private final List<SyncEvent> events = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() {
    cluster = new MockCluster().withControllers();
    provider = KubernetesProvider.builder(cluster.client).build();
    repo = TempGitRepo.create();
  }

  @AfterEach
  void stop() throws Exception {
    if (source != null) {
      source.close();
    }
    repo.close();
    provider.close();
    cluster.close();
  }

  static SyncOptions options() {
    return SyncOptions.builder().execution(ExecutionOptions.defaults().withHealthTimeout(Duration.ofSeconds(20))
        .withHealthPollInterval(Duration.ofMillis(50)).withCallTimeout(Duration.ofSeconds(30))).build();
  }

  private Reconciler reconciler(SyncOptions options) throws Exception {
    source = GitSource.builder().url(repo.uri()).ref("main").build();
    return Reconciler.builder().source(source).provider(provider).owner("shop-agent").options(options)
        .store(FileStateStore.open(tmp.resolve("state"))).listener(events::add).build();
  }

  private static void assertSucceeded(SyncResult r) {
    assertThat(r.status()).as("%s: failures %s", r.plan().summary(), r.failures()).isEqualTo(SyncResult.Status.SUCCEEDED);
  }

  private Map<String, Object> data(GenericKubernetesResource r) {
    @SuppressWarnings("unchecked")
    Map<String, Object> d = (Map<String, Object>) r.getAdditionalProperties().get("data");
    return d;
  }

  @Test
  void syncsChangesDeletesCorrectsDriftAndResyncsToNothing() throws Exception {
    Manifests.writeAll(repo);
    Reconciler reconciler = reconciler(options());

    SyncResult first = reconciler.sync();
    assertSucceeded(first);
    assertThat(first.plan().changes(Action.CREATE)).extracting(Change::key)
        .contains(NAMESPACE, CONFIG, SECRET, DEPLOYMENT, SERVICE, INGRESS, CRD, WIDGET, ROLE_BINDING, CLUSTER_ROLE)
        .hasSize(12);
    GenericKubernetesResource web = cluster.get("apps/Deployment", "shop", "web");
    assertThat(web.getMetadata().getLabels()).containsEntry(Annotations.MANAGED_BY, "gitops");
    assertThat(web.getMetadata().getAnnotations()).containsEntry(Annotations.OWNER, "shop-agent")
        .containsEntry(Annotations.KEY, DEPLOYMENT.toString()).containsKey(Annotations.LAST_APPLIED);
    assertThat(data(cluster.get("/Secret", "shop", "db-credentials"))).as("stringData arrives as data")
        .containsEntry("password", "czNjcjN0LWh1bnRlcjI=");

    assertThat(reconciler.plan().changes()).as("a resync right after finds nothing to do")
        .allSatisfy(c -> assertThat(c.action()).as(c.key() + ": " + c.reason()).isEqualTo(Action.NOOP));

    repo.write("apps/web/deployment.yaml", Manifests.deployment("registry.example.com/shop/web:1.1.0", 3));
    repo.write("base/config.yaml", Manifests.CONFIG.replace("LOG_LEVEL: info", "LOG_LEVEL: debug"));
    repo.delete("apps/web/widget.yaml");
    repo.write("base/rbac.yaml", Manifests.RBAC.substring(0, Manifests.RBAC.indexOf("---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole")));
    repo.commit("web 1.1.0 on 3 replicas, debug logs, no banner, no metrics reader");
    SyncResult second = reconciler.sync();
    assertSucceeded(second);
    assertThat(second.plan().change(DEPLOYMENT).orElseThrow().action()).isEqualTo(Action.UPDATE);
    assertThat(second.plan().change(DEPLOYMENT).orElseThrow().fields()).extracting(f -> f.path().toString())
        .containsExactlyInAnyOrder("/spec/replicas", "/spec/template/spec/containers/[name=web]/image");
    assertThat(second.plan().change(WIDGET).orElseThrow().action()).isEqualTo(Action.DELETE);
    assertThat(second.plan().change(CLUSTER_ROLE).orElseThrow().action()).isEqualTo(Action.DELETE);
    assertThat(cluster.get("apps/Deployment", "shop", "web").getAdditionalProperties().toString())
        .contains("web:1.1.0").contains("replicas=3");
    assertThat(data(cluster.get("/ConfigMap", "shop", "web-config"))).containsEntry("LOG_LEVEL", "debug");
    assertThat(cluster.get("rbac.authorization.k8s.io/ClusterRole", "", "shop-metrics-reader")).isNull();

    // by hand: someone scales the deployment and edits the config map
    cluster.client.apps().deployments().inNamespace("shop").withName("web").edit(d -> {
      d.getSpec().setReplicas(1);
      return d;
    });
    cluster.client.configMaps().inNamespace("shop").withName("web-config").edit(c -> {
      c.getData().put("LOG_LEVEL", "trace");
      c.getData().put("ADDED_BY_HAND", "x");
      return c;
    });
    // a change made outside reaches the informers by their watch: seen as soon as the events arrive
    // (on a loaded machine, after the edit returns), as Argo CD and Flux see it
    Plan drift = reconciler.plan();
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
    while (!(drift.change(DEPLOYMENT).orElseThrow().drift() && drift.change(CONFIG).orElseThrow().drift())
        && System.nanoTime() < deadline) {
      Thread.sleep(100);
      drift = reconciler.plan();
    }
    assertThat(drift.change(DEPLOYMENT).orElseThrow().drift()).isTrue();
    assertThat(drift.change(CONFIG).orElseThrow().drift()).isTrue();
    assertSucceeded(reconciler.sync());
    assertThat(cluster.client.apps().deployments().inNamespace("shop").withName("web").get().getSpec().getReplicas())
        .isEqualTo(3);
    assertThat(data(cluster.get("/ConfigMap", "shop", "web-config"))).as("data is atomic: Git's keys restored, "
        + "a key added by hand removed").containsEntry("LOG_LEVEL", "debug").doesNotContainKey("ADDED_BY_HAND");

    assertThat(reconciler.plan().changes()).allSatisfy(c -> assertThat(c.action()).as(c.key() + ": " + c.reason())
        .isEqualTo(Action.NOOP));
  }

  @Test
  void aNamespaceOrCrdRemovedFromGitIsKeptWhileGitStillDeclaresWhatItsDeleteWouldTake() throws Exception {
    Manifests.writeAll(repo);
    Reconciler reconciler = reconciler(options());
    assertSucceeded(reconciler.sync());

    // the namespace's and the CRD's files removed, their members left in Git: deleting either would
    // make the API server delete those members too
    repo.delete("base/namespace.yaml");
    repo.delete("crds/widgets.yaml");
    repo.commit("namespace and CRD files removed by mistake");
    SyncResult r = reconciler.sync();
    Change ns = r.plan().change(NAMESPACE).orElseThrow();
    assertThat(ns.action()).isEqualTo(Action.SKIP);
    assertThat(ns.has(Change.Flag.HELD_BACK)).isTrue();
    assertThat(ns.reason()).contains("would also remove").contains(DEPLOYMENT.toString()).contains(CONFIG.toString());
    Change crd = r.plan().change(CRD).orElseThrow();
    assertThat(crd.action()).isEqualTo(Action.SKIP);
    assertThat(crd.reason()).contains("would also remove 1 resource").contains(WIDGET.toString());
    assertThat(cluster.get("/Namespace", "", "shop")).as("the namespace stays").isNotNull();
    assertThat(cluster.get("apiextensions.k8s.io/CustomResourceDefinition", "", "widgets.example.com")).isNotNull();
    assertThat(cluster.get("apps/Deployment", "shop", "web")).isNotNull();
    assertThat(r.plan().isQuiet()).as("what Git asks is not done: not reported in sync").isFalse();

    // the widget removed as well: the CRD goes, the namespace still waits for its members
    repo.delete("apps/web/widget.yaml");
    repo.commit("no banner either");
    SyncResult after = reconciler.sync();
    assertThat(after.plan().change(CRD).orElseThrow().action()).isEqualTo(Action.DELETE);
    assertThat(after.plan().change(WIDGET).orElseThrow().action()).isEqualTo(Action.DELETE);
    assertThat(after.plan().change(NAMESPACE).orElseThrow().action()).isEqualTo(Action.SKIP);
  }

  @Test
  void namespacesComeBeforeTheirMembersAndCrdsBeforeTheirObjects() throws Exception {
    Manifests.writeAll(repo);
    Reconciler reconciler = reconciler(options().toBuilder().execution(options().execution().withParallelism(8)).build());
    cluster.drainRequests();
    assertSucceeded(reconciler.sync());
    List<String> posts = new ArrayList<>();
    for (RecordedRequest r : cluster.drainRequests()) {
      if (r.getMethod().equals("POST")) {
        posts.add(r.getPath());
      }
    }
    int namespace = posts.indexOf("/api/v1/namespaces");
    int crd = posts.indexOf("/apis/apiextensions.k8s.io/v1/customresourcedefinitions");
    assertThat(namespace).as("namespace created: %s", posts).isGreaterThanOrEqualTo(0);
    for (int i = 0; i < posts.size(); i++) {
      if (posts.get(i).startsWith("/api/v1/namespaces/shop/") || posts.get(i).contains("/namespaces/shop/")) {
        assertThat(i).as("%s after the namespace (%s)", posts.get(i), posts).isGreaterThan(namespace);
      }
    }
    int widget = posts.indexOf("/apis/example.com/v1/namespaces/shop/widgets");
    assertThat(widget).as("widget after its CRD: %s", posts).isGreaterThan(crd).isGreaterThan(namespace);
    Plan plan = reconciler.plan();
    assertThat(plan.changes()).extracting(Change::action).containsOnly(Action.NOOP);
  }

  @Test
  void deletesRunInTheReverseOfTheApplyOrderWorkloadsFirstNamespacesAndCrdsLast() throws Exception {
    Manifests.writeAll(repo);
    SyncOptions one = options().toBuilder().execution(options().execution().withParallelism(1))
        .budget(dev.gitops.core.plan.DeletionBudget.defaults().withAllowEmpty(true).withMaxPercent(100)).build();
    Reconciler reconciler = reconciler(one);
    assertSucceeded(reconciler.sync());
    for (String f : List.of("base/namespace.yaml", "base/config.yaml", "base/rbac.yaml", "apps/web/deployment.yaml",
        "apps/web/network.yaml", "crds/widgets.yaml", "apps/web/widget.yaml")) {
      repo.delete(f);
    }
    repo.commit("the shop is closed");
    cluster.drainRequests();

    SyncResult r = reconciler.sync();

    assertSucceeded(r);
    List<String> planned = r.plan().changes().stream().map(c -> c.key().type()).toList();
    List<String> deleted = new ArrayList<>();
    for (RecordedRequest req : cluster.drainRequests()) {
      if (req.getMethod().equals("DELETE")) {
        deleted.add(req.getPath().replaceAll("\\?.*", ""));
      }
    }
    // what depends on something goes before it: the ingress and the widget, the workload, its service, its
    // configuration and secrets, its account and roles, the cluster role, then the namespace and the CRD
    assertThat(planned).as("plan order").containsExactly("networking.k8s.io/Ingress", "example.com/Widget",
        "apps/Deployment", "/Service", "/Secret", "/ConfigMap", "rbac.authorization.k8s.io/RoleBinding",
        "rbac.authorization.k8s.io/Role", "/ServiceAccount", "rbac.authorization.k8s.io/ClusterRole", "/Namespace",
        "apiextensions.k8s.io/CustomResourceDefinition");
    assertThat(deleted).as("requests").containsExactly(
        "/apis/networking.k8s.io/v1/namespaces/shop/ingresses/web",
        "/apis/example.com/v1/namespaces/shop/widgets/banner",
        "/apis/apps/v1/namespaces/shop/deployments/web",
        "/api/v1/namespaces/shop/services/web",
        "/api/v1/namespaces/shop/secrets/db-credentials",
        "/api/v1/namespaces/shop/configmaps/web-config",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/shop/rolebindings/web-reads-config",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/shop/roles/config-reader",
        "/api/v1/namespaces/shop/serviceaccounts/web",
        "/apis/rbac.authorization.k8s.io/v1/clusterroles/shop-metrics-reader",
        "/api/v1/namespaces/shop",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com");
  }

  @Test
  void prunesOnlyWhatItOwnsAndNeverAdoptsAnotherOwnersObject() throws Exception {
    repo.write("ns.yaml", Manifests.NAMESPACE);
    repo.write("config.yaml", Manifests.CONFIG);
    repo.commit("namespace and config");
    // someone else's objects, one with another reconciler's mark, one unmarked, both also declared in Git later
    cluster.client.namespaces().resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata()
        .withName("shop").endMetadata().build()).create();
    cluster.client.configMaps().inNamespace("shop").resource(new io.fabric8.kubernetes.api.model.ConfigMapBuilder()
        .withNewMetadata().withName("theirs").withNamespace("shop").addToLabels(Annotations.MANAGED_BY, "gitops")
        .addToAnnotations(Annotations.OWNER, "other-team").addToAnnotations(Annotations.KEY, "k8s:/ConfigMap:shop:theirs")
        .endMetadata().addToData("owner", "other-team").build()).create();
    cluster.client.configMaps().inNamespace("shop").resource(new io.fabric8.kubernetes.api.model.ConfigMapBuilder()
        .withNewMetadata().withName("by-hand").withNamespace("shop").endMetadata().addToData("a", "1").build()).create();
    Reconciler reconciler = reconciler(options().toBuilder().adopt(true).build());
    assertSucceeded(reconciler.sync());

    repo.write("more.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: theirs, namespace: shop}\ndata: {owner: us}\n");
    repo.commit("claim theirs");
    SyncResult claim = reconciler.sync();
    Change theirs = claim.plan().change(ResourceKey.of("k8s", "/ConfigMap", "shop", "theirs")).orElseThrow();
    assertThat(theirs.action()).isEqualTo(Action.SKIP);
    assertThat(theirs.reason()).contains("other-team");
    assertThat(data(cluster.get("/ConfigMap", "shop", "theirs"))).as("left alone").containsEntry("owner", "other-team");

    repo.delete("more.yaml");
    repo.delete("config.yaml");
    repo.commit("drop config");
    SyncResult prune = reconciler.sync();
    assertSucceeded(prune);
    assertThat(cluster.get("/ConfigMap", "shop", "web-config")).as("ours: pruned").isNull();
    assertThat(cluster.get("/Secret", "shop", "db-credentials")).as("ours: pruned").isNull();
    assertThat(cluster.get("/ConfigMap", "shop", "theirs")).as("another owner's: kept").isNotNull();
    assertThat(cluster.get("/ConfigMap", "shop", "by-hand")).as("never ours: kept").isNotNull();
    assertThat(cluster.get("/Namespace", "", "shop").getMetadata().getAnnotations())
        .as("the namespace that existed unmarked was adopted (asked for) and now carries our mark")
        .containsEntry(Annotations.OWNER, "shop-agent");
  }

  /** Commits the namespace and a one-replica web Deployment (with whatever else was written) and syncs them once. */
  private Reconciler syncedWeb() throws Exception {
    repo.write("ns.yaml", Manifests.NAMESPACE);
    repo.write("deployment.yaml", Manifests.deployment("web:1", 1));
    repo.commit("web");
    Reconciler reconciler = reconciler(options());
    assertSucceeded(reconciler.sync());
    return reconciler;
  }

  @Test
  void anImmutableFieldChangeIsAReplaceNamingTheField() throws Exception {
    Reconciler reconciler = syncedWeb();
    String uid = cluster.get("apps/Deployment", "shop", "web").getMetadata().getUid();

    repo.write("deployment.yaml", Manifests.deployment("web:1", 1).replace("matchLabels: {app: web}",
        "matchLabels: {app: web, tier: front}").replace("labels: {app: web}\n    spec:\n      serviceAccountName",
        "labels: {app: web, tier: front}\n    spec:\n      serviceAccountName"));
    repo.commit("new selector");
    Plan plan = reconciler.plan();
    Change replace = plan.change(DEPLOYMENT).orElseThrow();
    assertThat(replace.action()).as(replace.reason()).isEqualTo(Action.REPLACE);
    assertThat(replace.reason()).contains("/spec/selector/matchLabels/tier").contains("cannot change in place");
    assertThat(plan.change(NAMESPACE).orElseThrow().action()).isEqualTo(Action.NOOP);
    assertSucceeded(reconciler.sync());
    GenericKubernetesResource after = cluster.get("apps/Deployment", "shop", "web");
    assertThat(after.getMetadata().getUid()).as("a new object").isNotEqualTo(uid);
    assertThat(after.getAdditionalProperties().toString()).contains("tier=front");
  }

  @Test
  void dependentsWaitForHealthAndADegradedDeploymentHoldsThemBack() throws Exception {
    cluster.close();
    cluster = new MockCluster();  // no controllers: nothing will report the deployment available
    provider.close();
    provider = KubernetesProvider.builder(cluster.client).build();
    repo.write("ns.yaml", Manifests.NAMESPACE);
    repo.write("deployment.yaml", Manifests.deployment("web:1", 1));
    repo.write("after.yaml", """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: after-web
          namespace: shop
          annotations: {gitops.dev/depends-on: "apps/Deployment::web"}
        data: {ready: "yes"}
        """);
    repo.commit("web and something that needs it");
    Thread controller = new Thread(() -> {
      // the rollout fails: the controller reports the progress deadline exceeded
      for (int i = 0; i < 200; i++) {
        try {
          var d = cluster.client.apps().deployments().inNamespace("shop").withName("web").get();
          if (d != null) {
            cluster.client.apps().deployments().inNamespace("shop").withName("web").patch(
                io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
                "{\"status\":{\"observedGeneration\":" + d.getMetadata().getGeneration() + ",\"conditions\":[{\"type\":"
                    + "\"Progressing\",\"status\":\"False\",\"reason\":\"ProgressDeadlineExceeded\",\"message\":"
                    + "\"ReplicaSet web-1 has timed out progressing\"}]}}");
            return;
          }
          Thread.sleep(25);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    controller.start();
    SyncResult r = reconciler(options()).sync();
    controller.join(10_000);
    assertThat(r.status()).isEqualTo(SyncResult.Status.FAILED);
    Outcome web = r.outcomes().get(DEPLOYMENT);
    assertThat(web.kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(web.message()).contains("degraded").contains("progress deadline exceeded");
    assertThat(cluster.get("/ConfigMap", "shop", "after-web")).as("the dependent was never created").isNull();
    assertThat(r.outcomes().get(ResourceKey.of("k8s", "/ConfigMap", "shop", "after-web")).isOk()).isFalse();
  }

  @Test
  void secretValuesNeverReachPlansEventsOrTheStore() throws Exception {
    repo.write("ns.yaml", Manifests.NAMESPACE);
    repo.write("config.yaml", Manifests.CONFIG);
    repo.commit("secret");
    Reconciler reconciler = reconciler(options());
    assertSucceeded(reconciler.sync());
    repo.write("config.yaml", Manifests.CONFIG.replace("s3cr3t-hunter2", "n3w-s3cr3t-value"));
    repo.commit("rotate");
    Plan plan = reconciler.plan();
    Change rotate = plan.change(SECRET).orElseThrow();
    assertThat(rotate.action()).isEqualTo(Action.UPDATE);
    assertThat(rotate.fields()).extracting(FieldChange::path).extracting(Object::toString).containsExactly("/data");
    assertThat(rotate.fields().get(0).sensitive()).as("the data map holds secrets").isTrue();
    assertThat(rotate.sensitive()).extracting(Object::toString).contains("/data/password");
    assertSucceeded(reconciler.sync());
    String[] secrets = {"s3cr3t-hunter2", "n3w-s3cr3t-value", "czNjcjN0LWh1bnRlcjI=", "bjN3LXMzY3IzdC12YWx1ZQ=="};
    List<String> shown = new ArrayList<>();
    shown.add(plan.toString());
    plan.changes().forEach(c -> shown.add(c.toString() + c.fields()));
    events.forEach(e -> shown.add(e.toString()));
    try (Stream<Path> files = Files.walk(tmp.resolve("state"))) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        shown.add(new String(Files.readAllBytes(f), StandardCharsets.UTF_8));
      }
    }
    for (String text : shown) {
      for (String s : secrets) {
        assertThat(text).as("a secret value in a plan, event or store file").doesNotContain(s);
      }
    }
    assertThat(data(cluster.get("/Secret", "shop", "db-credentials"))).containsEntry("password", "bjN3LXMzY3IzdC12YWx1ZQ==");
  }

  /** A new process: a new provider (no informers, no kinds seen) over the same cluster and store. */
  private Reconciler restarted(Reconciler old, SyncOptions options) throws Exception {
    old.close();
    source.close();
    provider.close();
    provider = KubernetesProvider.builder(cluster.client).build();
    return reconciler(options);
  }

  private static final String OTHER_CONFIG = """
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: other, namespace: shop}
      data: {a: "1"}
      """;

  @Test
  void theLastObjectOfAKindRemovedFromGitIsPrunedAfterARestart() throws Exception {
    repo.write("other.yaml", OTHER_CONFIG);
    Reconciler first = syncedWeb();

    repo.delete("deployment.yaml");
    repo.commit("no deployment left in Git");
    Reconciler second = restarted(first, options());
    SyncResult r = second.sync();
    assertSucceeded(r);
    assertThat(r.plan().change(DEPLOYMENT).orElseThrow().action()).isEqualTo(Action.DELETE);
    assertThat(cluster.get("apps/Deployment", "shop", "web")).as("pruned").isNull();
  }

  @Test
  void anObjectWithOurMarkOfAKindNoLongerInGitIsFoundAfterARestart() throws Exception {
    repo.write("ns.yaml", Manifests.NAMESPACE);
    repo.write("other.yaml", OTHER_CONFIG);
    repo.commit("no deployment in Git");
    Reconciler first = reconciler(options());
    assertSucceeded(first.sync());
    // ours (our mark and key), but not in the inventory: its record was lost, say, in a crash before the store write
    cluster.client.apps().deployments().inNamespace("shop").resource(new io.fabric8.kubernetes.api.model.apps
        .DeploymentBuilder().withNewMetadata().withName("web").withNamespace("shop")
        .addToLabels(Annotations.MANAGED_BY, "gitops").addToAnnotations(Annotations.OWNER, "shop-agent")
        .addToAnnotations(Annotations.KEY, DEPLOYMENT.toString()).endMetadata().withNewSpec().withNewSelector()
        .addToMatchLabels("app", "web").endSelector().endSpec().build()).create();
    // and one of another owner, of a kind in play nowhere either
    cluster.client.batch().v1().jobs().inNamespace("shop").resource(new io.fabric8.kubernetes.api.model.batch.v1
        .JobBuilder().withNewMetadata().withName("theirs").withNamespace("shop")
        .addToLabels(Annotations.MANAGED_BY, "gitops").addToAnnotations(Annotations.OWNER, "other-team")
        .addToAnnotations(Annotations.KEY, "k8s:batch/Job:shop:theirs").endMetadata().build()).create();

    Reconciler second = restarted(first, options().toBuilder().deleteOrphans(true).build());
    Plan plan = second.plan();
    Change orphan = plan.change(DEPLOYMENT).orElseThrow(() -> new AssertionError("not found: " + plan.changes()));
    assertThat(orphan.flags()).contains(Change.Flag.ORPHAN);
    assertThat(orphan.action()).isEqualTo(Action.DELETE);
    assertThat(plan.change(ResourceKey.of("k8s", "batch/Job", "shop", "theirs"))).as("another owner's").isEmpty();
    assertSucceeded(second.sync());
    assertThat(cluster.get("apps/Deployment", "shop", "web")).as("orphan deleted as asked").isNull();
    assertThat(cluster.get("batch/Job", "shop", "theirs")).as("another owner's: kept").isNotNull();
  }

  @Test
  void aLostStoreIsNoticedThroughObjectsOfAKindNoLongerInGit() throws Exception {
    Reconciler first = syncedWeb();
    first.close();
    // the store is lost, and Git no longer names the namespace or the deployment
    try (Stream<Path> files = Files.walk(tmp.resolve("state"))) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    }
    repo.delete("ns.yaml");
    repo.delete("deployment.yaml");
    repo.write("other.yaml", OTHER_CONFIG.replace("namespace: shop", "namespace: default"));
    repo.commit("only a config map elsewhere");
    Reconciler second = restarted(first, options());
    org.assertj.core.api.Assertions.assertThatThrownBy(second::sync).hasMessageContaining("carry the mark")
        .hasMessageContaining("shop-agent");
    assertThat(cluster.get("apps/Deployment", "shop", "web")).isNotNull();
    assertThat(cluster.get("/ConfigMap", "default", "other")).as("nothing done").isNull();
  }

  @Test
  void keysOfAKindWhoseCrdWasDeletedBeforeTheProcessStartedAreAbsentWhenNothingServesItsGroupSoTheSyncSucceeds()
      throws Exception {
    crdGone(true, false);
  }

  @Test
  void keysOfAKindWhoseCrdIsGoneAreAbsentInTheProcessThatOnceSawTheCrdInGit() throws Exception {
    crdGone(false, false);
  }

  @Test
  void keysOfAKindWhoseCrdIsGoneAreUnknownAndTheSyncIsIncompleteNotFailedWhileAnApiServiceServesItsGroup()
      throws Exception {
    crdGone(true, true);
  }

  private void crdGone(boolean restart, boolean apiServiceLeft) throws Exception {
    repo.write("ns.yaml", Manifests.NAMESPACE);
    repo.write("other.yaml", OTHER_CONFIG);
    repo.write("crd.yaml", Manifests.CRD);
    repo.write("widget.yaml", Manifests.widget("blue"));
    repo.commit("a widget");
    Reconciler first = reconciler(options());
    assertSucceeded(first.sync());
    // the CRD is deleted by hand (the mock keeps the widget; a real server deletes it with its CRD)
    cluster.client.apiextensions().v1().customResourceDefinitions().withName("widgets.example.com").delete();
    if (apiServiceLeft) {
      // an aggregated API of the same group (say, the CRD's kinds moved to an add-on's server): its objects may be there
      cluster.client.genericKubernetesResources("apiregistration.k8s.io/v1", "APIService").resource(
          io.fabric8.kubernetes.client.utils.Serialization.unmarshal("{\"apiVersion\":\"apiregistration.k8s.io/v1\","
              + "\"kind\":\"APIService\",\"metadata\":{\"name\":\"v1.example.com\"},\"spec\":{\"group\":"
              + "\"example.com\",\"version\":\"v1\",\"service\":{\"namespace\":\"addons\",\"name\":\"widgets\"}}}",
              GenericKubernetesResource.class)).create();
    }
    repo.delete("crd.yaml");
    repo.delete("widget.yaml");
    repo.commit("no widgets");
    Reconciler second = restart ? restarted(first, options()) : first;
    SyncResult r = second.sync();
    if (apiServiceLeft) {
      assertThat(r.status()).as("%s %s", r.plan().summary(), r.failures()).isEqualTo(SyncResult.Status.INCOMPLETE);
      Change widget = r.plan().change(WIDGET).orElseThrow();
      assertThat(widget.action()).isEqualTo(Action.SKIP);
      assertThat(widget.reason()).contains("example.com/Widget").contains("APIService v1.example.com");
      assertThat(r.failures()).isEmpty();
      return;
    }
    // no CRD defines a kind of example.com and no APIService serves it: no widget can exist, its record is dropped
    assertSucceeded(r);
    assertThat(second.plan().change(WIDGET)).as("no longer recorded").isEmpty();
  }

  @Test
  void aCrdInOneFileDecidesTheScopeOfItsObjectsInAnother() throws Exception {
    repo.write("crds/gadgets.yaml", Manifests.CRD.replace("widgets", "gadgets").replace("Widget", "Gadget")
        .replace("widget", "gadget").replace("scope: Namespaced", "scope: Cluster"));
    repo.write("apps/gadget.yaml", "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\nspec: {size: 1}\n");
    repo.write("apps/widget.yaml", Manifests.widget("red").replace("  namespace: shop\n", ""));
    repo.write("crds/widgets.yaml", Manifests.CRD);
    repo.commit("custom objects whose CRDs sit in other files, none naming a namespace");
    Reconciler reconciler = reconciler(options());
    SyncResult r = reconciler.sync();
    assertSucceeded(r);
    ResourceKey gadget = ResourceKey.of("k8s", "example.com/Gadget", "", "g");
    ResourceKey widget = ResourceKey.of("k8s", "example.com/Widget", "default", "banner");
    assertThat(r.plan().change(gadget).orElseThrow().action()).isEqualTo(Action.CREATE);
    assertThat(r.plan().change(widget).orElseThrow().action()).isEqualTo(Action.CREATE);
    var gadgets = new io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext.Builder().withGroup("example.com")
        .withVersion("v1").withKind("Gadget").withPlural("gadgets").withNamespaced(false).build();
    assertThat(cluster.client.genericKubernetesResources(gadgets).withName("g").get()).as("cluster-scoped").isNotNull();
    assertThat(reconciler.plan().changes()).extracting(Change::action).containsOnly(Action.NOOP);
  }
}
