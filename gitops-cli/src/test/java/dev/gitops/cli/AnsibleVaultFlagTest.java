package dev.gitops.cli;

import static dev.gitops.cli.CliRun.gitops;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --vault-password-file} with {@code --provider ansible}: vars files encrypted by the real
 * {@code ansible-vault encrypt} (one in the inventory's group_vars, which the provider reads, one in
 * the playbook's vars_files, which Ansible reads) converge a host with the flag; without it the sync
 * fails before anything runs, naming the flag. The flag's file must exist and be readable, and
 * neither the password nor the decrypted values are ever printed.
 */
class AnsibleVaultFlagTest {

  @TempDir Path tmp;

  private static final String LOCAL = "ansible_connection=local ansible_python_interpreter=/usr/bin/python3";
  private static final String PASSWORD = "vault-pw-cli-4242";
  private static final String DB_PASSWORD = "db-secret-7731";
  private static final String APP_TOKEN = "app-token-5519";

  /** {@code text} encrypted by {@code ansible-vault encrypt} with {@code passwordFile}. */
  private String encrypted(String text, Path passwordFile) throws Exception {
    Path f = Files.createTempFile(tmp, "vars-", ".yml");
    Files.writeString(f, text);
    Process p = new ProcessBuilder("ansible-vault", "encrypt", "--vault-password-file", passwordFile.toString(),
        f.toString()).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as("ansible-vault encrypt: %s", output).isZero();
    String out = Files.readString(f);
    assertThat(out).startsWith("$ANSIBLE_VAULT;1.1;AES256").doesNotContain(text.strip());
    Files.delete(f);
    return out;
  }

  private Path passwordFile() throws Exception {
    Path pw = tmp.resolve("vault-password");
    if (!Files.exists(pw)) {
      Files.writeString(pw, PASSWORD + "\n");
    }
    return pw;
  }

  /** A fleet of h1 whose playbook writes both vault values to {@code out}/h1.txt. */
  private FixtureRepo fleet(Path dir, Path out, boolean inventoryVault, boolean playbookVault) throws Exception {
    Path pw = passwordFile();
    FixtureRepo repo = FixtureRepo.init(dir)
        .write("inventory/hosts", "[web]\nh1 " + LOCAL + " out_dir=" + out + "\n")
        .write("inventory/group_vars/all/secret.yml", inventoryVault
            ? encrypted("db_password: " + DB_PASSWORD + "\n", pw) : "db_password: " + DB_PASSWORD + "\n")
        .write("vars/app.yml", playbookVault
            ? encrypted("app_token: " + APP_TOKEN + "\n", pw) : "app_token: " + APP_TOKEN + "\n")
        .write("site.yml", """
            - hosts: all
              gather_facts: false
              vars_files:
                - vars/app.yml
              tasks:
                - name: write
                  ansible.builtin.copy:
                    dest: "{{ out_dir }}/{{ inventory_hostname }}.txt"
                    content: "{{ db_password }} {{ app_token }}"
                    mode: "0600"
            """);
    repo.commit("a fleet with vault-encrypted vars");
    return repo;
  }

  private static String[] flags(FixtureRepo repo, Path inventoryOut, String... more) {
    List<String> all = new ArrayList<>(List.of("sync", "--repo", repo.dir().toString(), "--ref", "main",
        "--provider", "ansible", "--playbook", "site.yml", "--inventory-out", inventoryOut.toString()));
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }

  @Test
  void syncConvergesWithTheFlagAndFailsNamingTheFlagWithoutIt() throws Exception {
    Path out = Files.createDirectories(tmp.resolve("out"));
    Path inventoryOut = tmp.resolve("managed/inventory.yml");
    try (FixtureRepo repo = fleet(tmp.resolve("repo"), out, true, true)) {
      CliRun without = gitops(flags(repo, inventoryOut));
      assertThat(without.code()).as("%s", without).isEqualTo(ExitCodes.ERROR);
      assertThat(without.err()).contains("inventory/group_vars/all/secret.yml").contains("vault-encrypted")
          .contains("--vault-password-file");
      assertThat(out.resolve("h1.txt")).as("nothing ran").doesNotExist();

      CliRun with = gitops(flags(repo, inventoryOut, "--vault-password-file", passwordFile().toString()));
      assertThat(with.code()).as("%s", with).isZero();
      assertThat(out.resolve("h1.txt")).hasContent(DB_PASSWORD + " " + APP_TOKEN);
      for (CliRun run : new CliRun[] {without, with}) {
        assertThat(run.out() + run.err()).doesNotContain(PASSWORD).doesNotContain(DB_PASSWORD)
            .doesNotContain(APP_TOKEN);
      }
    }
  }

  @Test
  void aVaultFileOnlyAnsibleReadsFailsThePlanNamingTheFlagWithoutIt() throws Exception {
    // the provider does not read the playbook's vars_files: ansible-playbook --syntax-check finds it at plan time
    Path out = Files.createDirectories(tmp.resolve("out"));
    Path inventoryOut = tmp.resolve("managed/inventory.yml");
    try (FixtureRepo repo = fleet(tmp.resolve("repo"), out, false, true)) {
      CliRun without = gitops(flags(repo, inventoryOut));
      assertThat(without.code()).as("%s", without).isEqualTo(ExitCodes.ERROR);
      assertThat(without.err()).contains("site.yml").contains("vault").contains("--vault-password-file");
      assertThat(out.resolve("h1.txt")).as("nothing ran").doesNotExist();

      CliRun with = gitops(flags(repo, inventoryOut, "--vault-password-file", passwordFile().toString()));
      assertThat(with.code()).as("%s", with).isZero();
      assertThat(out.resolve("h1.txt")).hasContent(DB_PASSWORD + " " + APP_TOKEN);
      assertThat(with.out() + with.err()).doesNotContain(PASSWORD).doesNotContain(APP_TOKEN);
    }
  }

  @Test
  void theFlagsFileMustExistAndBeReadableAndTheFlagIsForAnsibleOnly() throws Exception {
    Path out = Files.createDirectories(tmp.resolve("out"));
    Path inventoryOut = tmp.resolve("managed/inventory.yml");
    try (FixtureRepo repo = fleet(tmp.resolve("repo"), out, true, false)) {
      Path missing = tmp.resolve("no-such-password-file");
      CliRun none = gitops(flags(repo, inventoryOut, "--vault-password-file", missing.toString()));
      assertThat(none.code()).as("%s", none).isEqualTo(ExitCodes.ERROR);
      assertThat(none.err()).contains("--vault-password-file " + missing).contains("no such file");

      Path dir = Files.createDirectories(tmp.resolve("a-directory"));
      CliRun directory = gitops(flags(repo, inventoryOut, "--vault-password-file", dir.toString()));
      assertThat(directory.code()).as("%s", directory).isEqualTo(ExitCodes.ERROR);
      assertThat(directory.err()).contains("--vault-password-file " + dir).contains("is a directory");

      CliRun empty = gitops(flags(repo, inventoryOut, "--vault-password-file", ""));
      assertThat(empty.code()).as("%s", empty).isEqualTo(ExitCodes.ERROR);
      assertThat(empty.err()).contains("--vault-password-file is empty");

      Path pw = passwordFile();
      if (!"root".equals(System.getProperty("user.name"))) {
        // root reads any file whatever its mode: this part runs for other users only
        Path unreadable = tmp.resolve("unreadable-password");
        Files.writeString(unreadable, PASSWORD);
        Files.setPosixFilePermissions(unreadable, java.nio.file.attribute.PosixFilePermissions.fromString("-w-------"));
        CliRun cannot = gitops(flags(repo, inventoryOut, "--vault-password-file", unreadable.toString()));
        assertThat(cannot.code()).as("%s", cannot).isEqualTo(ExitCodes.ERROR);
        assertThat(cannot.err()).contains("--vault-password-file " + unreadable).contains("cannot be read");
      }
      assertThat(out.resolve("h1.txt")).as("nothing ran").doesNotExist();
      assertThat(inventoryOut).as("refused before anything is written").doesNotExist();

      CliRun files = gitops("plan", "--repo", repo.dir().toString(), "--target", tmp.resolve("files").toString(),
          "--vault-password-file", pw.toString());
      assertThat(files.code()).as("%s", files).isEqualTo(ExitCodes.ERROR);
      assertThat(files.err()).contains("--vault-password-file is for --provider ansible");
      assertThat(files.out() + files.err()).doesNotContain(PASSWORD);
    }
  }
}
