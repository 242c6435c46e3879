package dev.gitops.cli;

import static dev.gitops.cli.CliRun.gitops;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two {@code --owner}s whose {@code --inventory-out} files sit in one directory, so they share the
 * default store beside them: the second is refused before anything runs (the store belongs to the
 * first), and the first owner's hosts stay in the managed inventory and in the store's records (the
 * real ansible-playbook on local hosts; the CLI has no decommission playbook, so without the
 * refusal they would be dropped from both).
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
      CliRun first = gitops(concat("sync", fleetFlags(a, "a", inventoryOut)));
      assertThat(first.code()).as("%s", first).isZero();
      assertThat(out.resolve("h1.txt")).exists();
      assertThat(out.resolve("h2.txt")).exists();

      CliRun second = gitops(concat("sync", fleetFlags(b, "b", inventoryOut)));
      assertThat(second.code()).as("%s", second).isEqualTo(ExitCodes.ERROR);
      assertThat(second.err()).contains("belongs to --owner a, not to --owner b");
      // with a store of its own, the managed inventory still names its owner
      CliRun own = gitops(concat("sync", fleetFlags(b, "b", inventoryOut), "--state", tmp.resolve("state-b").toString()));
      assertThat(own.code()).as("%s", own).isNotZero();
      assertThat(own.out() + own.err()).contains(inventoryOut.toAbsolutePath().toString())
          .contains("owner 'a'").contains("owner 'b'");
      assertThat(out.resolve("h3.txt")).as("nothing ran for owner b").doesNotExist();
      assertThat(Files.readString(inventoryOut)).contains("\"h1\"").contains("\"h2\"");
    }
  }

  @Test
  void aSecondOwnerOfAnotherInventoryOutInTheSameDirectoryIsRefusedByTheSharedStore() throws Exception {
    Path out = Files.createDirectories(tmp.resolve("out"));
    Path inv1 = tmp.resolve("managed/inv1.yml");
    Path inv2 = tmp.resolve("managed/inv2.yml");
    Path store = tmp.resolve("managed/.gitops").toAbsolutePath();
    try (FixtureRepo a = fleet(tmp.resolve("repo-a"), out, "h1", "h2");
        FixtureRepo b = fleet(tmp.resolve("repo-b"), out, "h3")) {
      a.commit("a's fleet");
      b.commit("b's fleet");
      CliRun first = gitops(concat("sync", fleetFlags(a, "a", inv1)));
      assertThat(first.code()).as("%s", first).isZero();

      String[] second = fleetFlags(b, "b", inv2);
      for (String command : new String[] {"sync", "plan", "diff"}) {
        CliRun refused = gitops(concat(command, second));
        assertThat(refused.code()).as("%s %s", command, refused).isEqualTo(ExitCodes.ERROR);
        assertThat(refused.err()).as(command).contains("the state store " + store)
            .contains("belongs to --owner a, not to --owner b").contains("nothing was applied or recorded")
            .contains("Run with --owner a").contains("--state DIR").contains("--inventory-out");
      }
      assertThat(out.resolve("h3.txt")).as("nothing ran for owner b").doesNotExist();
      assertThat(inv2).doesNotExist();
      try (dev.gitops.core.store.FileStateStore s = dev.gitops.core.store.FileStateStore.openReadOnly(store)) {
        assertThat(s.load().inventory().keySet()).extracting(k -> k.name()).contains("h1", "h2")
            .doesNotContain("h3");
      }
      // history reads any owner's store and says whose it is
      CliRun history = gitops("history", "--state", store.toString(), "--owner", "b");
      assertThat(history.code()).as("%s", history).isZero();
      assertThat(history.out()).contains("SUCCEEDED")
          .endsWith("Owner: a (this store belongs to --owner a, not --owner b)\n");
      assertThat(gitops("history", "--state", store.toString(), "--owner", "a").out()).doesNotContain("Owner:");

      CliRun own = gitops(concat("sync", second, "--state", tmp.resolve("state-b").toString()));
      assertThat(own.code()).as("with a store of its own: %s", own).isZero();
      assertThat(out.resolve("h3.txt")).exists();
      assertThat(Files.readString(inv1)).contains("\"h1\"").contains("\"h2\"");
    }
  }

  /** The flags of an ansible sync of {@code repo} by {@code owner} into {@code inventoryOut}. */
  private static String[] fleetFlags(FixtureRepo repo, String owner, Path inventoryOut) {
    return new String[] {"--repo", repo.dir().toString(), "--ref", "main", "--owner", owner, "--provider", "ansible",
        "--playbook", "site.yml", "--inventory-out", inventoryOut.toString()};
  }

  private static String[] concat(String command, String[] args, String... more) {
    String[] all = new String[1 + args.length + more.length];
    all[0] = command;
    System.arraycopy(args, 0, all, 1, args.length);
    System.arraycopy(more, 0, all, 1 + args.length, more.length);
    return all;
  }
}
