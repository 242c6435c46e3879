package dev.gitops.ansible;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.StoreOwnerException;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.CallContext;
import dev.gitops.core.Reconciler;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.apply.ExecutionOptions;
import dev.gitops.core.apply.RetryPolicy;
import dev.gitops.core.source.GitSource;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.testkit.TempGitRepo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two owners pointed at one managed inventory, as two processes one after the other: the provider
 * marks no object, so only the managed inventory can tell whose hosts it holds. With one state
 * store too (the CLI's default store is beside {@code --inventory-out}) the store refuses the
 * second owner first; with a store of its own, the managed inventory does.
 */
class ManagedInventoryOwnerTest {

  @TempDir Path tmp;
  private AnsibleFixture fx;
  /** The second owner's repository: the same playbook, another inventory. */
  private TempGitRepo other;

  @BeforeEach
  void setUp() throws Exception {
    fx = new AnsibleFixture(tmp);
    other = TempGitRepo.in(Files.createDirectories(tmp.resolve("repo-b")));
    other.write("ansible/site.yml", AnsibleFixture.SITE)
        .write("ansible/decommission.yml", AnsibleFixture.DECOMMISSION)
        .write("ansible/roles/app/tasks/main.yml", AnsibleFixture.ROLE_TASKS)
        .write("ansible/roles/app/templates/app.conf.j2", AnsibleFixture.TEMPLATE)
        .write("ansible/inventory/hosts", AnsibleFixture.inventory("h3")).commit("b's fleet");
  }

  @AfterEach
  void tearDown() {
    try {
      fx.close();
    } finally {
      other.close();
    }
  }

  private static ResourceKey host(String name) {
    return ResourceKey.of("ansible", "host", "", name);
  }

  /** One sync by {@code owner} of {@code repo}, with a provider and a store object of its own (a process of its own). */
  private SyncResult syncAs(String owner, TempGitRepo repo) {
    return syncAs(owner, repo, fx.state);
  }

  /** {@link #syncAs(String, TempGitRepo)} with the store in {@code state}. */
  private SyncResult syncAs(String owner, TempGitRepo repo, Path state) {
    SyncOptions options = SyncOptions.builder().execution(ExecutionOptions.defaults()
        .withRetry(RetryPolicy.none()).withCallTimeout(Duration.ofMinutes(5))).build();
    try (Reconciler r = Reconciler.builder()
        .owner(owner)
        .source(GitSource.builder().url(repo.dir().toString()).ref("main").build())
        .provider(fx.providerBuilder().build())
        .store(FileStateStore.open(state))
        .options(options)
        .build()) {
      return r.sync();
    }
  }

  private Path inventory() {
    return tmp.resolve("managed/inventory.yml").toAbsolutePath();
  }

  private Path stateFile() {
    return inventory().resolveSibling(".inventory.yml.gitops-state.json");
  }

  @Test
  void anotherOwnerIsRefusedBeforeAnythingRunsAndDecommissionsNothing() throws Exception {
    fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h2")).commit("a's fleet");
    SyncResult a = syncAs("a", fx.repo);
    assertThat(a.isSuccessful()).as("%s", a.failures()).isTrue();
    assertThat(fx.conf("h1")).isNotNull();
    assertThat(fx.conf("h2")).isNotNull();

    // the shared store belongs to a
    assertThatThrownBy(() -> syncAs("b", other)).isInstanceOf(StoreOwnerException.class)
        .hasMessageContaining(fx.state.toAbsolutePath().toString()).hasMessageContaining("owner 'a'");
    // a store of its own: the managed inventory belongs to a
    SyncResult b = syncAs("b", other, tmp.resolve("state-b"));
    assertThat(b.isSuccessful()).isFalse();
    assertThat(b.plan().isComplete()).isFalse();
    assertThat(b.plan().changes(Action.DELETE)).isEmpty();
    assertThat(b.outcomes().values()).noneMatch(o -> o.kind() == Outcome.Kind.DELETED);
    assertThat(b.plan().unknown()).contains(host("h3"));
    Change h3 = b.plan().change(host("h3")).orElseThrow();
    assertThat(h3.reason()).contains(inventory().toString()).contains("'a'").contains("'b'");
    // nothing ran: a's hosts are not decommissioned, b's host is not converged
    assertThat(fx.conf("h1")).isNotNull();
    assertThat(fx.conf("h2")).isNotNull();
    assertThat(new int[] {fx.runs("h1"), fx.runs("h2"), fx.runs("h3")}).containsExactly(1, 1, 0);
    assertThat(Files.readString(inventory())).contains("\"h1\"").contains("\"h2\"").doesNotContain("\"h3\"");
    assertThat(Files.readString(stateFile())).contains("\"h1\"").contains("\"h2\"");

    // a provider called directly, as another engine would: observe and apply refuse too
    AnsibleProvider provider = fx.providerBuilder().build();
    CallContext asB = CallContext.of("b", "r", Duration.ofMinutes(1));
    Observation seen = provider.observe(List.of(host("h1")), asB).get(host("h1"));
    assertThat(seen.status()).isEqualTo(Observation.Status.UNKNOWN);
    assertThat(seen.reason()).contains(inventory().toString()).contains("owner 'a'").contains("owner 'b'");
    Change delete = new Change(host("h1"), null, Action.DELETE, null, null, null, null, List.of(), List.of(),
        java.util.Set.of(), "removed", java.util.Set.of(), java.util.Set.of());
    Outcome refused = provider.apply(delete, asB);
    assertThat(refused.kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(refused.message()).contains(inventory().toString()).contains("owner 'a'").contains("owner 'b'");
    assertThat(fx.conf("h1")).isNotNull();
    assertThat(Files.readString(inventory())).contains("\"h1\"");

    // the owner itself goes on as before
    fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1")).commit("h2 leaves");
    SyncResult again = syncAs("a", fx.repo);
    assertThat(again.isSuccessful()).as("%s", again.failures()).isTrue();
    assertThat(again.outcomes().get(host("h2")).kind()).isEqualTo(Outcome.Kind.DELETED);
    assertThat(fx.conf("h2")).isNull();
    assertThat(fx.conf("h1")).isNotNull();
  }

  @Test
  void aStateFileWithoutAnOwnerIsClaimedByTheFirstOwnerThatWrites() throws Exception {
    fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h2")).commit("a's fleet");
    assertThat(syncAs("a", fx.repo).isSuccessful()).isTrue();
    // as an older build wrote it: no owner
    ObjectMapper json = new ObjectMapper();
    ObjectNode state = (ObjectNode) json.readTree(stateFile().toFile());
    state.remove("owner");
    Files.write(stateFile(), json.writeValueAsBytes(state));
    assertThat(Files.readString(stateFile())).doesNotContain("owner");

    fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h2")
        .replace("h2 port=8001", "h2 port=9001")).commit("h2 moves");
    SyncResult claimed = syncAs("a", fx.repo);
    assertThat(claimed.isSuccessful()).as("%s", claimed.failures()).isTrue();
    assertThat(json.readTree(stateFile().toFile()).path("owner").asText()).isEqualTo("a");
    assertThat(json.readTree(stateFile().toFile()).path("version").asInt()).as("readable by the previous build")
        .isEqualTo(1);

    SyncResult b = syncAs("b", other, tmp.resolve("state-b"));
    assertThat(b.isSuccessful()).isFalse();
    assertThat(b.outcomes().values()).noneMatch(o -> o.kind() == Outcome.Kind.DELETED);
    assertThat(fx.conf("h1")).isNotNull();
    assertThat(fx.conf("h2")).isNotNull();
    assertThat(fx.runs("h3")).isZero();
  }
}
