package dev.gitops.cli;

import static dev.gitops.cli.CliRun.gitops;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --decommission-playbook} with {@code --provider ansible} is {@code
 * AnsibleProvider.Builder.decommissionPlaybook} (a host removed from the inventory runs it before
 * it leaves the managed inventory, which gitops-ansible's tests run): the provider reads it from the
 * revision, and the flag is checked and named like the other Ansible flags, before anything runs.
 */
class AnsibleDecommissionFlagTest {

  @TempDir Path tmp;

  private static final String LOCAL = "ansible_connection=local";

  private static String[] flags(FixtureRepo repo, Path inventoryOut, String... more) {
    List<String> all = new ArrayList<>(List.of("sync", "--repo", repo.dir().toString(), "--ref", "main",
        "--provider", "ansible", "--playbook", "ansible/site.yml", "--inventory", "ansible/inventory",
        "--inventory-out", inventoryOut.toString()));
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }

  @Test
  void theFlagReachesTheProviderAndIsARepositoryPathBesideThePlaybookForAnsibleOnly() throws Exception {
    Path inventoryOut = tmp.resolve("managed/inventory.yml");
    try (FixtureRepo repo = FixtureRepo.init(tmp.resolve("repo"))) {
      repo.write("ansible/inventory", "h1 " + LOCAL + "\n")
          .write("ansible/site.yml", "- hosts: all\n  gather_facts: false\n  tasks: []\n")
          .write("decommission.yml", "- hosts: all\n  gather_facts: false\n  tasks: []\n");
      repo.commit("a fleet");
      for (String[] bad : new String[][] {
          {"", "--decommission-playbook is empty"},
          {"/etc/decommission.yml", "--decommission-playbook '/etc/decommission.yml' must be a relative path inside"
              + " the repository"},
          {"ansible/../../x.yml", "--decommission-playbook 'ansible/../../x.yml' must be a relative path inside"},
          {"decommission.yml", "--decommission-playbook 'decommission.yml' is not in the directory of --playbook"
              + " 'ansible/site.yml' (ansible/)"}}) {
        CliRun r = gitops(flags(repo, inventoryOut, "--decommission-playbook", bad[0]));
        assertThat(r.code()).as("%s", r).isEqualTo(ExitCodes.ERROR);
        assertThat(r.err()).contains(bad[1]);
      }
      // the provider's decoder looks for it in the revision: the flag reached it
      CliRun missing = gitops(flags(repo, inventoryOut, "--decommission-playbook", "ansible/gone.yml"));
      assertThat(missing.code()).as("%s", missing).isEqualTo(ExitCodes.ERROR);
      assertThat(missing.err()).contains("the decommission playbook 'ansible/gone.yml' is not in the source");
      assertThat(inventoryOut).as("nothing ran").doesNotExist();
      CliRun files = gitops("plan", "--repo", repo.dir().toString(), "--decommission-playbook", "d.yml", "--target",
          tmp.resolve("t").toString());
      assertThat(files.code()).isEqualTo(ExitCodes.ERROR);
      assertThat(files.err()).contains("--decommission-playbook is for --provider ansible");
    }
  }
}
