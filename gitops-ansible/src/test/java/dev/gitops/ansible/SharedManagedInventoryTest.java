package dev.gitops.ansible;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.ansible.internal.ManagedInventory;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Outcome;
import dev.gitops.api.ResourceKey;
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
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two syncs of one owner writing one managed inventory at once, each with a provider and a state
 * store of its own (two processes, two targets, a cron job beside a manual run): each reads the
 * managed inventory's state when its apply begins and writes it back when it ends, so without a
 * lock the later one wrote back what it had read before the earlier one recorded its hosts.
 */
class SharedManagedInventoryTest {

  @TempDir Path tmp;
  private AnsibleFixture fx;
  /** The second sync's repository: the same playbook, another host. */
  private TempGitRepo other;

  /** Writes a start mark, then sleeps long enough for the second sync to start its apply meanwhile. */
  private static final String SLOW_SITE = """
      - hosts: all
        gather_facts: false
        tasks:
          - ansible.builtin.shell: echo start >> "{{ out_dir }}/{{ inventory_hostname }}.marks"
          - ansible.builtin.command: sleep 5
          - ansible.builtin.shell: echo run >> "{{ out_dir }}/{{ inventory_hostname }}.runs"
      """;

  @BeforeEach
  void setUp() throws Exception {
    fx = new AnsibleFixture(tmp);
    other = TempGitRepo.in(Files.createDirectories(tmp.resolve("repo-b")));
    other.write("ansible/site.yml", SLOW_SITE)
        .write("ansible/decommission.yml", AnsibleFixture.DECOMMISSION)
        .write("ansible/inventory/hosts", AnsibleFixture.inventory("h2")).commit("the second fleet");
  }

  @AfterEach
  void tearDown() {
    try {
      fx.close();
    } finally {
      other.close();
    }
  }

  /** One sync of {@code repo} by owner "fleet", with a provider and a store of its own (a process of its own). */
  private SyncResult sync(TempGitRepo repo, Path state) {
    SyncOptions options = SyncOptions.builder().execution(ExecutionOptions.defaults()
        .withRetry(RetryPolicy.none()).withCallTimeout(Duration.ofMinutes(5))).build();
    try (Reconciler r = Reconciler.builder()
        .owner("fleet")
        .source(GitSource.builder().url(repo.dir().toString()).ref("main").build())
        .provider(fx.providerBuilder().build())
        .store(FileStateStore.open(state))
        .options(options)
        .build()) {
      return r.sync();
    }
  }

  private JsonNode recorded(String host) throws Exception {
    Path stateFile = tmp.resolve("managed/.inventory.yml.gitops-state.json");
    return new ObjectMapper().readTree(stateFile.toFile()).path("hosts").path(host);
  }

  @Test
  void aSecondSyncOnTheSameManagedInventoryWaitsAndKeepsWhatTheFirstRecorded() throws Exception {
    fx.repo.write("ansible/site.yml", SLOW_SITE)
        .write("ansible/inventory/hosts", AnsibleFixture.inventory("h1")).commit("the first fleet");
    Path marks = fx.out.resolve("h1.marks");
    CompletableFuture<SyncResult> first = CompletableFuture.supplyAsync(() -> sync(fx.repo, tmp.resolve("state-a")));
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!(Files.exists(marks) && Files.size(marks) > 0) && System.nanoTime() < until) {
      Thread.sleep(50);
    }
    assertThat(Files.readAllLines(marks)).as("the first sync's play started").containsExactly("start");

    // the second sync's apply begins while the first's play runs on h1
    SyncResult second = sync(other, tmp.resolve("state-b"));
    SyncResult firstResult = first.get(90, TimeUnit.SECONDS);
    assertThat(firstResult.isSuccessful()).as("%s", firstResult.failures()).isTrue();
    assertThat(second.isSuccessful()).as("%s", second.failures()).isTrue();

    // neither wrote back over the other's hosts
    assertThat(recorded("h1").path("converged").asBoolean()).as("h1: %s", recorded("h1")).isTrue();
    assertThat(recorded("h2").path("converged").asBoolean()).as("h2: %s", recorded("h2")).isTrue();
    assertThat(Files.readString(tmp.resolve("managed/inventory.yml"))).contains("h1").contains("h2");
    // so a sync with nothing changed runs nothing on h1
    SyncResult again = sync(fx.repo, tmp.resolve("state-a"));
    assertThat(again.isSuccessful()).as("%s", again.failures()).isTrue();
    assertThat(fx.runs("h1")).isEqualTo(1);
  }

  @Test
  void anApplyThatFindsTheLockHeldUntilItsStopTimeFailsTransientNamingTheHolderAndRunsNothing() throws Exception {
    fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1")).commit("one host");
    SyncResult synced = sync(fx.repo, tmp.resolve("state-a"));
    assertThat(synced.isSuccessful()).as("%s", synced.failures()).isTrue();
    assertThat(fx.conf("h1")).isNotNull();

    ResourceKey h1 = ResourceKey.of("ansible", "host", "", "h1");
    Change delete = new Change(h1, null, Action.DELETE, null, null, null, null, List.of(), List.of(),
        java.util.Set.of(), "removed", java.util.Set.of(), java.util.Set.of());
    AnsibleProvider provider = fx.providerBuilder().build();
    ManagedInventory managed = new ManagedInventory(tmp.resolve("managed/inventory.yml"));
    try (ManagedInventory.Lock held = managed.lock("a test holding it", Instant.now().plusSeconds(10), () -> false)) {
      Outcome waited = provider.apply(delete, CallContext.of("fleet", "r", Duration.ofSeconds(2)));
      assertThat(waited.kind()).isEqualTo(Outcome.Kind.TRANSIENT);
      assertThat(waited.message()).contains(managed.lockFile().toString()).contains("a test holding it")
          .contains("pid " + ProcessHandle.current().pid()).contains("nothing ran");
    }
    assertThat(fx.conf("h1")).as("not decommissioned").isNotNull();
    assertThat(recorded("h1").path("converged").asBoolean()).isTrue();

    // once it is free, a sync that removes h1 decommissions it
    fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h0")).commit("h1 leaves");
    SyncResult removed = sync(fx.repo, tmp.resolve("state-a"));
    assertThat(removed.isSuccessful()).as("%s", removed.failures()).isTrue();
    assertThat(removed.outcomes().get(h1).kind()).isEqualTo(Outcome.Kind.DELETED);
    assertThat(fx.conf("h1")).isNull();
  }
}
