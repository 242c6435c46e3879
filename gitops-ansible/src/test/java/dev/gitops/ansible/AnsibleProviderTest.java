package dev.gitops.ansible;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncResult;
import dev.gitops.core.Reconciler;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The provider against real ansible-playbook, hosts being localhost aliases with a local connection. */
class AnsibleProviderTest {

  @TempDir Path tmp;
  private AnsibleFixture fx;

  @BeforeEach
  void setUp() throws Exception {
    fx = new AnsibleFixture(tmp);
  }

  @AfterEach
  void tearDown() {
    fx.close();
  }

  /** Keys the sync did something to. */
  static java.util.Set<ResourceKey> acted(SyncResult r) {
    java.util.Set<ResourceKey> out = new java.util.TreeSet<>();
    r.outcomes().forEach((k, o) -> {
      if (o.kind() != dev.gitops.api.Outcome.Kind.UNCHANGED) {
        out.add(k);
      }
    });
    return out;
  }

  private static ResourceKey host(String name) {
    return ResourceKey.of("ansible", "host", "", name);
  }

  @Test
  void firstSyncConvergesAllHostsThenOneVariableRunsOneHostAndARoleChangeRunsAll() throws Exception {
    fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h2", "h3")).commit("fleet");
    AnsibleProvider provider = fx.providerBuilder().build();
    Reconciler r = fx.reconciler(provider);

    SyncResult first = r.sync();
    assertThat(first.isSuccessful()).as("%s", first.failures()).isTrue();
    assertThat(first.outcomes().get(host("h1")).kind()).isEqualTo(dev.gitops.api.Outcome.Kind.CREATED);
    assertThat(fx.conf("h1")).isEqualTo("port=8000\nrole=web\n");
    assertThat(fx.conf("h3")).isEqualTo("port=8002\nrole=web\n");
    assertThat(new int[] {fx.runs("h1"), fx.runs("h2"), fx.runs("h3")}).containsExactly(1, 1, 1);

    SyncResult again = r.sync();
    assertThat(again.isSuccessful()).isTrue();
    assertThat(again.changedAnything()).isFalse();
    assertThat(new int[] {fx.runs("h1"), fx.runs("h2"), fx.runs("h3")}).containsExactly(1, 1, 1);

    fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h2", "h3")
        .replace("h2 port=8001", "h2 port=9001")).commit("h2 moves");
    SyncResult one = r.sync();
    assertThat(one.isSuccessful()).as("%s", one.failures()).isTrue();
    assertThat(acted(one)).containsExactly(host("h2"));
    assertThat(fx.conf("h2")).isEqualTo("port=9001\nrole=web\n");
    assertThat(new int[] {fx.runs("h1"), fx.runs("h2"), fx.runs("h3")}).containsExactly(1, 2, 1);

    fx.repo.write("ansible/roles/app/templates/app.conf.j2", AnsibleFixture.TEMPLATE + "v=2\n").commit("role");
    SyncResult all = r.sync();
    assertThat(all.isSuccessful()).as("%s", all.failures()).isTrue();
    assertThat(acted(all)).containsExactly(host("h1"), host("h2"), host("h3"));
    assertThat(new int[] {fx.runs("h1"), fx.runs("h2"), fx.runs("h3")}).containsExactly(2, 3, 2);
    assertThat(fx.conf("h1")).endsWith("v=2\n");
  }
}
