package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gitops sync --provider ansible}: the real jar runs the real ansible-playbook on a local host. */
class AnsibleCliIT {

  @TempDir Path tmp;

  @Test
  void syncWithTheAnsibleProviderConvergesTheHostAndWritesTheManagedInventory() throws Exception {
    Path out = Files.createDirectories(tmp.resolve("out"));
    try (FixtureRepo repo = FixtureRepo.init(tmp.resolve("repo"))) {
      repo.write("inventory/hosts", "[web]\nh1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3"
              + " out_dir=" + out + "\n")
          .write("site.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: write\n"
              + "      ansible.builtin.copy:\n        dest: \"{{ out_dir }}/{{ inventory_hostname }}.txt\"\n"
              + "        content: \"converged\\n\"\n")
          .commit("fleet");
      Path inventoryOut = tmp.resolve("managed/inventory.yml");
      String[] args = {"sync", "--repo", repo.dir().toString(), "--ref", "main", "--provider", "ansible",
          "--playbook", "site.yml", "--inventory", "inventory", "--inventory-out", inventoryOut.toString()};
      GitopsJar.Result first = GitopsJar.run(tmp, args);
      assertThat(first.code()).as(first.toString()).isZero();
      assertThat(Files.readString(out.resolve("h1.txt"))).isEqualTo("converged\n");
      assertThat(Files.readString(inventoryOut)).contains("\"h1\"");
      assertThat(first.out()).contains("ansible:host::h1");

      GitopsJar.Result second = GitopsJar.run(tmp, args);
      assertThat(second.code()).as(second.toString()).isZero();
      assertThat(second.out()).contains("Nothing to do");
    }
  }

  @Test
  void theAnsibleProviderNeedsAPlaybookAndAnInventoryOut() throws Exception {
    GitopsJar.Result r = GitopsJar.run(tmp, "sync", "--repo", tmp.toString(), "--provider", "ansible",
        "--inventory-out", tmp.resolve("i.yml").toString());
    assertThat(r.code()).as(r.toString()).isNotZero();
    assertThat(r.err()).contains("--playbook");
  }

  @Test
  void aManagedInventoryNamedLikeAnIniFileIsRefusedNamingTheFlagBeforeAnythingIsWritten() throws Exception {
    // YAML under '.ini' is read by Ansible as an empty INI inventory: every run would match no host
    FixtureRepo repo = FixtureRepo.init(tmp.resolve("repo"));
    repo.write("inventory/hosts", "[web]\nh1 ansible_connection=local\n")
        .write("site.yml", "- hosts: all\n  gather_facts: false\n  tasks: []\n").commit("fleet");
    Path managed = tmp.resolve("managed");
    GitopsJar.Result r = GitopsJar.run(tmp, "sync", "--repo", repo.dir().toString(), "--provider", "ansible",
        "--playbook", "site.yml", "--inventory-out", managed.resolve("hosts.ini").toString());
    assertThat(r.code()).as(r.toString()).isEqualTo(ExitCodes.ERROR);
    assertThat(r.errLines()).singleElement().asString()
        .startsWith("gitops: --inventory-out: the managed inventory " + managed.resolve("hosts.ini"))
        .contains("ends in '.ini'").contains("name it .yml or .yaml");
    assertThat(managed).doesNotExist();
  }
}
