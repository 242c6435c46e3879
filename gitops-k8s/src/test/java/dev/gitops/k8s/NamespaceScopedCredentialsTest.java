package dev.gitops.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Source;
import dev.gitops.core.Reconciler;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.apply.ExecutionOptions;
import dev.gitops.core.store.InMemoryStateStore;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Credentials that may list objects only in some namespaces (a Role and RoleBinding per namespace,
 * no ClusterRole, as namespace-scoped installs of Argo CD and Flux tenants have): the keys in
 * namespaces that can be read are observed and applied; those in a namespace that cannot be read
 * are UNKNOWN naming the kind, the namespace and the server's refusal; nothing is deleted or
 * dropped on the strength of a list that was refused.
 */
class NamespaceScopedCredentialsTest {

  private static final String USER = "system:serviceaccount:tenant:gitops";
  private static final ResourceKey A_APP = key("a", "app");
  private static final ResourceKey A_OLD = key("a", "old");
  private static final ResourceKey B_APP = key("b", "app");
  private static final ResourceKey B_OLD = key("b", "old");

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

  private static ResourceKey key(String namespace, String name) {
    return ResourceKey.of("k8s", "/ConfigMap", namespace, name);
  }

  private static CallContext ctx() {
    return CallContext.of("agent", "main@sha1:" + "3".repeat(40), Duration.ofSeconds(20));
  }

  private static String forbidden(String where) {
    return "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"Forbidden\",\"code\":403,"
        + "\"message\":\"configmaps is forbidden: User \\\"" + USER + "\\\" cannot list resource \\\"configmaps\\\" in API"
        + " group \\\"\\\" " + where + "\"}";
  }

  /** RBAC as a Role and RoleBinding in namespace a give it: configmaps listed in a only. */
  private void onlyNamespaceAMayBeListed() {
    cluster.server.expect().get().withPath("/api/v1/configmaps?resourceVersion=0")
        .andReturn(403, forbidden("at the cluster scope")).always();
    cluster.server.expect().get().withPath("/api/v1/namespaces/b/configmaps?resourceVersion=0")
        .andReturn(403, forbidden("in the namespace \\\"b\\\"")).always();
  }

  private static String configMaps(String value, String... namespacedNames) {
    StringBuilder yaml = new StringBuilder();
    for (String nn : namespacedNames) {
      String[] parts = nn.split("/");
      yaml.append("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: ").append(parts[1]).append(", namespace: ")
          .append(parts[0]).append("}\ndata: {v: \"").append(value).append("\"}\n");
    }
    return yaml.toString();
  }

  private List<Resource> decode(KubernetesProvider p, String revision, String yaml) {
    return p.decoder().orElseThrow().decode(new dev.gitops.api.spi.SourceFile("app.yaml", "b" + revision,
        yaml.getBytes(StandardCharsets.UTF_8), revision));
  }

  private Reconciler reconciler(KubernetesProvider p, InMemoryStateStore store, boolean deleteOrphans) {
    return Reconciler.builder().source(Source.of(desired::get)).provider(p).store(store).owner("agent")
        .options(SyncOptions.builder().deleteOrphans(deleteOrphans)
            .execution(ExecutionOptions.defaults().withWaitForHealth(false)).build()).build();
  }

  @SuppressWarnings("unchecked")
  private static java.util.Map<String, Object> data(io.fabric8.kubernetes.api.model.GenericKubernetesResource r) {
    return (java.util.Map<String, Object>) r.getAdditionalProperties().get("data");
  }

  private static String reason(SyncResult r, ResourceKey key) {
    return r.plan().changes().stream().filter(c -> c.key().equals(key)).findFirst().orElseThrow().reason();
  }

  private void createMarked(ResourceKey key) {
    cluster.client.configMaps().inNamespace(key.scope()).resource(new ConfigMapBuilder().withNewMetadata()
        .withName(key.name()).addToLabels(Annotations.MANAGED_BY, Annotations.MANAGED_BY_VALUE)
        .addToAnnotations(Annotations.OWNER, "agent").addToAnnotations(Annotations.KEY, key.toString()).endMetadata()
        .addToData("v", "0").build()).create();
  }

  @Test
  void keysInReadableNamespacesAreAppliedAndThoseInAForbiddenOneAreUnknownNamingKindNamespaceAndRefusal() {
    // synced once with full rights: a and b each hold an object Git declares and one it will drop
    InMemoryStateStore store = new InMemoryStateStore();
    desired.set(State.of("r1", decode(provider, "r1", configMaps("1", "a/app", "a/old", "b/app", "b/old"))));
    assertThat(reconciler(provider, store, false).sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);

    // then the credentials are namespace-scoped
    onlyNamespaceAMayBeListed();
    restart();
    desired.set(State.of("r2", decode(provider, "r2", configMaps("2", "a/app", "b/app"))));
    cluster.takeSent();

    SyncResult r = reconciler(provider, store, false).sync();

    assertThat(r.status()).isEqualTo(SyncResult.Status.INCOMPLETE);
    assertThat(r.outcomes().get(A_APP).kind()).as("%s", r.outcomes()).isEqualTo(Outcome.Kind.CONFIGURED);
    assertThat(data(cluster.get("/ConfigMap", "a", "app"))).containsEntry("v", "2");
    assertThat(r.plan().unknown()).containsExactly(B_APP, B_OLD);
    assertThat(reason(r, B_APP)).contains("/ConfigMap").contains("namespace b").contains("403")
        .contains("cannot list resource \"configmaps\"").contains("in the namespace \"b\"")
        .contains("nor cluster-wide").contains("at the cluster scope").contains("Role and RoleBinding");
    assertThat(r.plan().unobserved()).as("the search for marked objects is not lost to namespace b").isEmpty();
    assertThat(data(cluster.get("/ConfigMap", "b", "app"))).as("not applied").containsEntry("v", "1");
    assertThat(cluster.get("/ConfigMap", "b", "old")).as("not deleted on a refused list").isNotNull();
    assertThat(cluster.get("/ConfigMap", "a", "old")).as("an incomplete plan prunes nothing").isNotNull();
    assertThat(store.load().inventory()).as("no record dropped").containsKeys(A_APP, A_OLD, B_APP, B_OLD);
    assertThat(cluster.takeSent()).filteredOn(s -> s.method().equals("GET") && s.path().contains("configmaps?"))
        .extracting(s -> s.path().substring(0, s.path().indexOf('?')))
        .as("listed cluster-wide once, then only in the namespaces Git and the store name")
        .containsOnly("/api/v1/configmaps", "/api/v1/namespaces/a/configmaps", "/api/v1/namespaces/b/configmaps");
  }

  /** A new provider (a new process: informers start afresh) whose credentials are what the mock's expectations say. */
  private void restart() {
    provider.close();
    provider = KubernetesProvider.builder(cluster.client).build();
  }

  @Test
  void orphansAreClaimedOnlyWhereTheyCouldBeListedAndNothingIsDeletedWhereTheListWasRefused() {
    InMemoryStateStore store = new InMemoryStateStore();
    desired.set(State.of("r1", decode(provider, "r1", configMaps("1", "a/app", "b/app"))));
    assertThat(reconciler(provider, store, false).sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    createMarked(key("a", "orphan"));
    createMarked(key("b", "orphan"));
    createMarked(key("c", "orphan"));  // a namespace neither Git nor the store names: not searched
    onlyNamespaceAMayBeListed();
    restart();
    desired.set(State.of("r2", decode(provider, "r2", configMaps("1", "a/app", "b/app"))));

    assertThat(provider.listMarked("agent", ctx())).as("only what could be listed is claimed")
        .containsExactlyInAnyOrder(A_APP, key("a", "orphan"));

    SyncResult r = reconciler(provider, store, true).sync();
    assertThat(r.status()).isEqualTo(SyncResult.Status.INCOMPLETE);
    assertThat(r.outcomes()).doesNotContainKeys(key("b", "orphan"), key("c", "orphan"));
    assertThat(r.plan().unknown()).containsExactly(B_APP);
    assertThat(reason(r, B_APP)).contains("namespace b").contains("403");
    assertThat(cluster.get("/ConfigMap", "b", "orphan")).isNotNull();
    assertThat(cluster.get("/ConfigMap", "c", "orphan")).isNotNull();
    assertThat(cluster.get("/ConfigMap", "a", "orphan")).as("deletes wait for a complete plan").isNotNull();
    assertThat(store.load().inventory()).containsKeys(A_APP, B_APP);
  }

  @Test
  void aNamespaceWhoseListFailsButForARefusalFailsTheListingNamingTheNamespaceAndTheAnswer() {
    InMemoryStateStore store = new InMemoryStateStore();
    desired.set(State.of("r1", decode(provider, "r1", configMaps("1", "a/app", "b/app"))));
    assertThat(reconciler(provider, store, false).sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    createMarked(key("b", "orphan"));
    // listed per namespace (the cluster-wide list forbidden); b's list fails, not refused (a 404 for the kind; a 5xx
    // or a timeout alike, which fabric8 retries for seconds first): marked objects there may be missed, so the listing
    // is incomplete, unlike a refusal (above), which these credentials make for good
    cluster.server.expect().get().withPath("/api/v1/configmaps?resourceVersion=0")
        .andReturn(403, forbidden("at the cluster scope")).always();
    cluster.server.expect().get().withPath("/api/v1/namespaces/b/configmaps?resourceVersion=0").andReturn(404,
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"NotFound\","
            + "\"code\":404,\"message\":\"the server could not find the requested resource\"}").always();
    restart();
    desired.set(State.of("r2", decode(provider, "r2", configMaps("1", "a/app", "b/app"))));

    assertThatThrownBy(() -> provider.listMarked("agent", ctx()))
        .hasMessageStartingWith("cannot list /ConfigMap at " + cluster.client.getMasterUrl()
            + " to find the objects marked by agent: cannot list /ConfigMap in namespace b at ")
        .hasMessageContaining("404 the server could not find the requested resource");
  }

  @Test
  void whenEveryNamespaceInPlayCanBeListedTheSyncIsCompleteAndOrphansThereAreFoundAndDeleted() {
    InMemoryStateStore store = new InMemoryStateStore();
    desired.set(State.of("r1", decode(provider, "r1", configMaps("1", "a/app", "a/keep", "a/gone"))));
    assertThat(reconciler(provider, store, false).sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    createMarked(key("a", "orphan"));
    cluster.server.expect().get().withPath("/api/v1/configmaps?resourceVersion=0")
        .andReturn(403, forbidden("at the cluster scope")).always();
    restart();
    desired.set(State.of("r2", decode(provider, "r2", configMaps("2", "a/app") + configMaps("1", "a/keep"))));

    SyncResult r = reconciler(provider, store, true).sync();

    assertThat(r.status()).as("%s %s %s", r.plan().unknown(), r.plan().unobserved(), r.outcomes()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(r.outcomes().get(A_APP).kind()).isEqualTo(Outcome.Kind.CONFIGURED);
    assertThat(r.outcomes().get(key("a", "gone")).kind()).isEqualTo(Outcome.Kind.DELETED);
    assertThat(r.outcomes().get(key("a", "orphan")).kind()).isEqualTo(Outcome.Kind.DELETED);
    assertThat(cluster.get("/ConfigMap", "a", "orphan")).isNull();
    assertThat(store.load().inventory()).containsOnlyKeys(A_APP, key("a", "keep"));
  }

  @Test
  void theNamespacesOptionListsOnlyThoseNamespacesAndNeverClusterWide() {
    provider.close();
    provider = KubernetesProvider.builder(cluster.client).namespaces("a").build();
    createMarked(key("a", "orphan"));
    createMarked(key("c", "orphan"));
    cluster.takeSent();

    Observation inA = provider.observe(List.of(key("a", "orphan")), ctx()).get(key("a", "orphan"));
    Observation inC = provider.observe(List.of(key("c", "orphan")), ctx()).get(key("c", "orphan"));

    assertThat(inA.isPresent()).isTrue();
    assertThat(inC.isUnknown()).isTrue();
    assertThat(inC.reason()).contains("namespace c").contains("--watch-namespaces").contains("add the namespace there").contains("/ConfigMap");
    assertThat(provider.listMarked("agent", ctx())).contains(key("a", "orphan")).doesNotContain(key("c", "orphan"));
    assertThat(cluster.takeSent()).extracting(MockCluster.Sent::path).noneMatch(p -> p.startsWith("/api/v1/configmaps"));
    assertThatThrownBy(() -> KubernetesProvider.builder(cluster.client).namespaces("Shop"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'Shop' is not a namespace name");
  }

  @Test
  void theOneTimeScanForMarkedKindsListsOnlyInTheNamespacesOptionsNamespaces() {
    provider.close();
    provider = KubernetesProvider.builder(cluster.client).namespaces("a").build();
    // a kind no longer in Git nor in play (its store lost): only the scan can find it, in namespace a
    ResourceKey secret = ResourceKey.of("k8s", "/Secret", "a", "token");
    cluster.client.secrets().inNamespace("a").resource(new io.fabric8.kubernetes.api.model.SecretBuilder()
        .withNewMetadata().withName("token").addToLabels(Annotations.MANAGED_BY, Annotations.MANAGED_BY_VALUE)
        .addToAnnotations(Annotations.OWNER, "agent").addToAnnotations(Annotations.KEY, secret.toString())
        .endMetadata().addToStringData("t", "x").build()).create();
    // credentials bound to namespace a: no namespaced kind may be listed cluster-wide
    cluster.server.expect().get().withPath("/api/v1/secrets?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dgitops")
        .andReturn(403, forbidden("at the cluster scope")).always();
    cluster.takeSent();

    assertThat(provider.listMarked("agent", ctx())).contains(secret);
    assertThat(cluster.takeSent()).extracting(MockCluster.Sent::path)
        .as("the namespaces option: namespaced kinds are never listed cluster-wide")
        .noneMatch(p -> p.startsWith("/api/v1/secrets") || p.startsWith("/apis/apps/v1/deployments")
            || p.startsWith("/api/v1/configmaps"))
        .anyMatch(p -> p.startsWith("/api/v1/namespaces/a/secrets?labelSelector="));
  }

  @Test
  void aKindTheScanMayNotListClusterWideIsSearchedInTheNamespacesInPlay() {
    ResourceKey secret = ResourceKey.of("k8s", "/Secret", "a", "token");
    cluster.client.secrets().inNamespace("a").resource(new io.fabric8.kubernetes.api.model.SecretBuilder()
        .withNewMetadata().withName("token").addToLabels(Annotations.MANAGED_BY, Annotations.MANAGED_BY_VALUE)
        .addToAnnotations(Annotations.OWNER, "agent").addToAnnotations(Annotations.KEY, secret.toString())
        .endMetadata().addToStringData("t", "x").build()).create();
    cluster.server.expect().get().withPath("/api/v1/secrets?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dgitops")
        .andReturn(403, forbidden("at the cluster scope")).always();
    provider.observe(List.of(key("a", "app")), ctx());  // namespace a is in play

    assertThat(provider.listMarked("agent", ctx())).as("a 403 cluster-wide is no proof that none is ours")
        .contains(secret);
  }

  @Test
  void aKeyOutsideTheNamespacesOptionNamesThemInOrder() {
    provider.close();
    // given in no order, several: an unordered set would show them in an order that changes from run to run
    provider = KubernetesProvider.builder(cluster.client).namespaces("web", "db", "shop", "api", "queue")
        .namespaces("mail", "cache", "auth", "search", "logs", "db").build();

    Observation inC = provider.observe(List.of(key("c", "app")), ctx()).get(key("c", "app"));

    assertThat(inC.isUnknown()).isTrue();
    assertThat(inC.reason()).contains("namespace c is not among the namespaces the provider lists"
        + " (api, auth, cache, db, logs, mail, queue, search, shop, web; set by the CLI's --watch-namespaces, the agent's namespaces: or KubernetesProvider.Builder.namespaces)");
  }

  @Test
  void aForbiddenClusterScopedKindIsUnknownSayingItNeedsAClusterRole() {
    cluster.server.expect().get().withPath("/api/v1/namespaces?resourceVersion=0").andReturn(403,
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"Forbidden\",\"code\":403,"
            + "\"message\":\"namespaces is forbidden: User \\\"" + USER + "\\\" cannot list resource \\\"namespaces\\\""
            + " in API group \\\"\\\" at the cluster scope\"}").always();
    ResourceKey ns = ResourceKey.of("k8s", "/Namespace", "", "a");

    Observation o = provider.observe(List.of(ns), ctx()).get(ns);

    assertThat(o.isUnknown()).isTrue();
    assertThat(o.reason()).contains("cannot list /Namespace").contains("403").contains("at the cluster scope")
        .contains("cluster-scoped").contains("ClusterRole");
  }
}
