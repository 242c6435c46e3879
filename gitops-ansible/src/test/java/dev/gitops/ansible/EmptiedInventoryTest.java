package dev.gitops.ansible;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Outcome;
import dev.gitops.api.PlanRefusedException;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncResult;
import dev.gitops.core.Reconciler;
import dev.gitops.core.plan.DeletionBudget;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A commit that empties the inventory deletes every host: the mass-deletion guard refuses it, as it
 * refuses a repository emptied for any other provider, although Ansible's implicit groups ({@code
 * all}, {@code ungrouped}) are in every inventory.
 */
class EmptiedInventoryTest {

  @TempDir Path tmp;
  AnsibleFixture fx;

  @BeforeEach
  void setUp() throws Exception {
    fx = new AnsibleFixture(tmp);
  }

  @AfterEach
  void tearDown() throws Exception {
    fx.close();
  }

  private static ResourceKey host(String name) {
    return ResourceKey.of("ansible", AnsibleDecoder.HOST, "", name);
  }

  @Test
  void anEmptiedInventoryIsRefusedByTheMassDeletionGuardUnlessAllowedThenEveryHostIsDecommissioned()
      throws Exception {
    fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h2", "h3")).commit("fleet");
    AnsibleProvider provider = fx.providerBuilder().build();
    Reconciler r = fx.reconciler(provider);
    assertThat(r.sync().isSuccessful()).isTrue();

    fx.repo.write("ansible/inventory/hosts", "# every host left\n").commit("empty");
    assertThatThrownBy(r::sync).isInstanceOf(PlanRefusedException.class)
        .hasMessageContaining("mass-deletion guard").hasMessageContaining("ansible");
    assertThat(fx.conf("h1")).as("nothing was decommissioned").isNotNull();

    Reconciler allowed = fx.reconciler(provider, o -> o.toBuilder()
        .budget(DeletionBudget.defaults().withAllowEmpty(true)).build());
    SyncResult emptied = allowed.sync();
    assertThat(emptied.isSuccessful()).as("%s", emptied.failures()).isTrue();
    for (String h : new String[] {"h1", "h2", "h3"}) {
      assertThat(emptied.outcomes().get(host(h)).kind()).isEqualTo(Outcome.Kind.DELETED);
      assertThat(fx.conf(h)).as("the decommission playbook ran on %s", h).isNull();
    }
  }
}
