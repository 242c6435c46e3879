package dev.gitops.cli;

import static dev.gitops.cli.CliRun.gitops;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two {@code --owner}s with one {@code --inventory-out}, so one default store beside it: the
 * second is refused before anything runs, and the first owner's hosts stay in the managed
 * inventory (the real ansible-playbook on local hosts; the CLI has no decommission playbook, so
 * without the refusal they would be dropped from it).
 */
class AnsibleOwnersTest {

  @TempDir Path tmp;

  private static final String LOCAL = "ansible_connection=local ansible_python_interpreter=/usr/bin/python3";

  private static FixtureRepo fleet(Path dir, Path out, String... hosts) throws Exception {
    StringBuilder inventory = new StringBuilder("[web]\n");
    for (String h : hosts) {
      inventory.append(h).append(' ').append(LOCAL).append(" out_dir=").append(out).append('\n');
    }
    return FixtureRepo.init(dir)
        .write("inventory/hosts", inventory.toString())
        .write("site.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: write\n"
            + "      ansible.builtin.copy:\n        dest: \"{{ out_dir }}/{{ inventory_hostname }}.txt\"\n"
            + "        content: \"converged\\n\"\n");
  }

  @Test
  void aSecondOwnerOfTheSameInventoryOutIsRefusedAndDecommissionsNothing() throws Exception {
    Path out = Files.createDirectories(tmp.resolve("out"));
    Path inventoryOut = tmp.resolve("managed/inventory.yml");
    try (FixtureRepo a = fleet(tmp.resolve("repo-a"), out, "h1", "h2");
        FixtureRepo b = fleet(tmp.resolve("repo-b"), out, "h3")) {
      a.commit("a's fleet");
      b.commit("b's fleet");
      CliRun first = gitops("sync", "--repo", a.dir().toString(), "--ref", "main", "--owner", "a",
          "--provider", "ansible", "--playbook", "site.yml", "--inventory-out", inventoryOut.toString());
      assertThat(first.code()).as("%s", first).isZero();
      assertThat(out.resolve("h1.txt")).exists();
      assertThat(out.resolve("h2.txt")).exists();

      CliRun second = gitops("sync", "--repo", b.dir().toString(), "--ref", "main", "--owner", "b",
          "--provider", "ansible", "--playbook", "site.yml", "--inventory-out", inventoryOut.toString());
      assertThat(second.code()).as("%s", second).isNotZero();
      assertThat(second.out() + second.err()).contains(inventoryOut.toAbsolutePath().toString())
          .contains("owner 'a'").contains("owner 'b'");
      assertThat(out.resolve("h3.txt")).as("nothing ran for owner b").doesNotExist();
      assertThat(Files.readString(inventoryOut)).contains("\"h1\"").contains("\"h2\"");
    }
  }
}
