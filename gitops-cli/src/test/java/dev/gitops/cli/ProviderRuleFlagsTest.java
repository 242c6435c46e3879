package dev.gitops.cli;

import static dev.gitops.cli.CliRun.gitops;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --sensitive} and {@code --structured} with the providers other than files, in process: a
 * rule a provider would not apply is refused rather than ignored, so that no value looks hidden
 * while it is shown; with {@code --provider ansible}, {@code --sensitive} names secret variables.
 */
class ProviderRuleFlagsTest {

  @TempDir Path tmp;

  @Test
  void sensitiveNamesAnAnsibleVariableWhoseValueIsNeverShownAndRulesNoProviderAppliesAreRefused() throws Exception {
    try (FixtureRepo repo = FixtureRepo.init(tmp.resolve("repo"))) {
      repo.write("inventory/hosts", "[web]\nh1 ansible_connection=local db_password=hunter2-xyzzy\n")
          .write("site.yml", "- hosts: all\n  gather_facts: false\n  tasks: []\n").commit("fleet");
      String[] ansible = {"plan", "--repo", repo.dir().toString(), "--provider", "ansible", "--playbook", "site.yml",
          "--inventory-out", tmp.resolve("managed/inventory.yml").toString()};

      CliRun shown = gitops(ansible);
      assertThat(shown.out()).as("without a rule the value is plain").contains("hunter2-xyzzy");

      CliRun hidden = gitops(concat(ansible, "--sensitive", "db_*"));
      assertThat(hidden.code()).as(hidden.toString()).isNotEqualTo(ExitCodes.ERROR);
      assertThat(hidden.out()).contains("ansible:host::h1").contains("/vars/db_password: (sensitive)")
          .doesNotContain("hunter2-xyzzy");
      assertThat(hidden.err()).doesNotContain("hunter2-xyzzy");

      CliRun fileRule = gitops(concat(ansible, "--sensitive", "inventory/hosts:/db_password"));
      assertThat(fileRule.code()).isEqualTo(ExitCodes.ERROR);
      assertThat(fileRule.err()).contains("--sensitive 'inventory/hosts:/db_password'")
          .contains("the name of a variable").doesNotContain("hunter2-xyzzy");

      CliRun structured = gitops(concat(ansible, "--structured", "*.yml"));
      assertThat(structured.code()).isEqualTo(ExitCodes.ERROR);
      assertThat(structured.err()).contains("--structured is for --provider files");

      CliRun terraform = gitops("plan", "--repo", repo.dir().toString(), "--provider", "terraform", "--target",
          tmp.resolve("tf").toString(), "--sensitive", "main.tf:/x");
      assertThat(terraform.code()).isEqualTo(ExitCodes.ERROR);
      assertThat(terraform.err()).contains("--sensitive 'main.tf:/x'").contains("is for --provider files");
      assertThat(Files.exists(tmp.resolve("tf"))).as("refused before anything is written").isFalse();
    }
  }

  @Test
  void ansibleFlagsWithAnotherProviderAndATargetWithAnsibleOrKubernetesAreRefusedNotIgnored() throws Exception {
    try (FixtureRepo repo = FixtureRepo.init(tmp.resolve("repo"))) {
      repo.write("site.yml", "- hosts: all\n  gather_facts: false\n  tasks: []\n").commit("fleet");
      String r = repo.dir().toString();
      Path files = tmp.resolve("files");
      for (String[] flag : new String[][] {{"--playbook", "site.yml"}, {"--inventory", "inventory"},
          {"--inventory-out", tmp.resolve("managed/inventory.yml").toString()}}) {
        CliRun withFiles = gitops("sync", "--repo", r, "--target", files.toString(), flag[0], flag[1]);
        assertThat(withFiles.code()).as("%s", withFiles).isEqualTo(ExitCodes.ERROR);
        assertThat(withFiles.err()).contains(flag[0] + " is for --provider ansible");
        CliRun withTerraform = gitops("plan", "--repo", r, "--provider", "terraform", "--target",
            tmp.resolve("tf").toString(), flag[0], flag[1]);
        assertThat(withTerraform.code()).as("%s", withTerraform).isEqualTo(ExitCodes.ERROR);
        assertThat(withTerraform.err()).contains(flag[0] + " is for --provider ansible");
      }
      assertThat(files).as("refused before anything is written").doesNotExist();

      CliRun ansible = gitops("plan", "--repo", r, "--provider", "ansible", "--playbook", "site.yml",
          "--inventory-out", tmp.resolve("managed/inventory.yml").toString(), "--target", files.toString());
      assertThat(ansible.code()).as("%s", ansible).isEqualTo(ExitCodes.ERROR);
      assertThat(ansible.err()).contains("--target is not used with --provider ansible").contains("--inventory-out");
      CliRun k8s = gitops("plan", "--repo", r, "--provider", "k8s", "--state", tmp.resolve("st").toString(),
          "--target", files.toString());
      assertThat(k8s.code()).as("%s", k8s).isEqualTo(ExitCodes.ERROR);
      assertThat(k8s.err()).contains("--target is not used with --provider k8s");
    }
  }

  private static String[] concat(String[] a, String... more) {
    String[] out = java.util.Arrays.copyOf(a, a.length + more.length);
    System.arraycopy(more, 0, out, a.length, more.length);
    return out;
  }
}
