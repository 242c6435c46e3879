package dev.gitops.ansible;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Outcome;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncResult;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every run runs the whole playbook: a host that comes through it is recorded as converged to the
 * digest of every file, so a tag selection (the caller's {@code ANSIBLE_SKIP_TAGS} or {@code
 * ANSIBLE_RUN_TAGS}, an {@code ansible.cfg}'s {@code [tags]}) must not leave tasks unrun behind a
 * record that says they ran; and without the task debugger, which no one can answer.
 */
class WholePlaybookTest {

  @TempDir Path tmp;

  @Test
  void aTagSelectionOrInventoryPluginsOfAnAnsibleCfgAreOverriddenSoEveryTaskOfAConvergedHostRan() throws Exception {
    try (AnsibleFixture fx = new AnsibleFixture(tmp)) {
      // the config task is tagged; ansible.cfg (read from the playbook's directory, where runs start)
      // would skip it, and run only tags that exclude the provider's completion play; its inventory
      // plugins (ini alone) and YAML extensions (no .yml) would read no host from the managed inventory,
      // and unparsed_is_failed would fail the decode's syntax check, whose '-i localhost,' ini cannot read
      fx.repo.write("ansible/roles/app/tasks/main.yml", AnsibleFixture.ROLE_TASKS
              .replace("    mode: \"0644\"\n", "    mode: \"0644\"\n  tags: [deploy]\n"))
          .write("ansible/ansible.cfg", "[tags]\nrun = deploy\nskip = deploy\n"
              + "[inventory]\nenable_plugins = ini\nunparsed_is_failed = True\n[defaults]\nyaml_valid_extensions = .json\n")
          .write("ansible/inventory/hosts", AnsibleFixture.inventory("h1"))
          .commit("a tag selection and inventory plugins in ansible.cfg");
      SyncResult r = fx.reconciler(fx.providerBuilder().build()).sync();
      assertThat(r.isSuccessful()).as("%s", r.failures()).isTrue();
      assertThat(r.outcomes().get(ResourceKey.of("ansible", "host", "", "h1")).kind()).isEqualTo(Outcome.Kind.CREATED);
      assertThat(fx.conf("h1")).as("the tagged task ran on the host recorded as converged")
          .isEqualTo("port=8000\nrole=web\n");
      assertThat(fx.runs("h1")).as("and so did the untagged ones").isEqualTo(1);
    }
  }

  @Test
  void theTaskDebuggerAnAnsibleCfgTurnsOnIsOffSoOneFailedHostLeavesTheOthersConverged() throws Exception {
    try (AnsibleFixture fx = new AnsibleFixture(tmp)) {
      // on, with no one to answer it, it quit at h1's failure and Ansible exited 99 mid-play
      fx.repo.write("ansible/ansible.cfg", "[defaults]\nenable_task_debugger = True\n")
          .write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h2")
              .replace("h1 port=8000", "h1 port=8000 fail_here=true"))
          .commit("the task debugger in ansible.cfg");
      SyncResult r = fx.reconciler(fx.providerBuilder().build()).sync();
      assertThat(r.outcomes().get(ResourceKey.of("ansible", "host", "", "h1")).message())
          .contains("asked to fail on h1").contains("(exit 2)");
      assertThat(r.outcomes().get(ResourceKey.of("ansible", "host", "", "h2")).kind())
          .as("%s", r.outcomes()).isEqualTo(Outcome.Kind.CREATED);
    }
  }

  @Test
  void aDebuggerKeywordOfThePlaybookThatStopsTheRunIsNamedNotTakenForAnInterrupt() throws Exception {
    try (AnsibleFixture fx = new AnsibleFixture(tmp)) {
      fx.repo.write("ansible/site.yml", AnsibleFixture.SITE + "  debugger: on_failed\n")
          .write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h2")
              .replace("h1 port=8000", "h1 port=8000 fail_here=true"))
          .commit("a debugger keyword");
      SyncResult r = fx.reconciler(fx.providerBuilder().build()).sync();
      Outcome h2 = r.outcomes().get(ResourceKey.of("ansible", "host", "", "h2"));
      assertThat(h2.kind()).isEqualTo(Outcome.Kind.UNKNOWN);
      assertThat(h2.message()).contains("(exit 99)").contains("task debugger").contains("'debugger:' keyword")
          .doesNotContain("interrupted (exit 99)");
    }
  }

  @Test
  void aTagSelectionOrTheTaskDebuggerInTheProvidersEnvironmentIsRefusedNamingTheVariable() {
    for (String variable : new String[] {"ANSIBLE_SKIP_TAGS", "ANSIBLE_RUN_TAGS"}) {
      assertThatThrownBy(() -> AnsibleProvider.builder().environment(Map.of(variable, "deploy")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("environment: " + variable).hasMessageContaining("whole playbook");
    }
    assertThatThrownBy(() -> AnsibleProvider.builder().environment(Map.of("ANSIBLE_ENABLE_TASK_DEBUGGER", "True")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("environment: ANSIBLE_ENABLE_TASK_DEBUGGER").hasMessageContaining("task debugger");
    for (String variable : new String[] {"ANSIBLE_INVENTORY_ENABLED", "ANSIBLE_YAML_FILENAME_EXT",
        "ANSIBLE_INVENTORY_PLUGIN_EXTS", "ANSIBLE_INVENTORY_UNPARSED_FAILED"}) {
      assertThatThrownBy(() -> AnsibleProvider.builder().environment(Map.of(variable, "ini")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("environment: " + variable).hasMessageContaining("yaml inventory plugin");
    }
  }
}
