package dev.gitops.ansible.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.ansible.VaultSamples;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ansible says "Decryption failed (no vault secrets were found that could decrypt)" for an inline
 * {@code !vault} value whatever its variable and file: the provider names the ones its password
 * does not decrypt, where they are, and never a value.
 */
class InlineVaultsTest {

  private static final String DECRYPTION_FAILED = "Decryption failed (no vault secrets were found that could decrypt)";

  @TempDir Path tmp;

  @Test
  void theValuesAWrongPasswordDoesNotDecryptAreNamedWithTheirVariableFileAndLine() throws Exception {
    String hosts = "all:\n  hosts:\n    c1:\n      port: 80\n" + VaultSamples.INLINE_YAML.indent(6);
    String groupVars = "# the playbook's group_vars\ndb_password: !vault |\n"
        + VaultSamples.INLINE_YAML.lines().skip(1).map(l -> l + "\n").reduce("", String::concat);
    InlineVaults vaults = InlineVaults.scan(Map.of("ansible/inventory/hosts", bytes(hosts)),
        Map.of("ansible/site.yml", bytes("- hosts: all\n"), "ansible/group_vars/all.yml", bytes(groupVars)));
    // the host's variables, as the managed inventory's record holds them
    JsonNode vars = new ObjectMapper().readTree("{\"port\": 80, \"vault_secret\": {\"__ansible_vault\": "
        + new ObjectMapper().writeValueAsString(VaultSamples.INLINE_YAML.lines().skip(1).map(String::strip)
            .reduce((a, b) -> a + "\n" + b).orElseThrow()) + "}}");

    Path wrong = Files.writeString(tmp.resolve("wrong-password"), "not-the-password\n");
    String why = vaults.explain("c1 failed at task 'use it': " + DECRYPTION_FAILED, "c1", vars, wrong,
        VaultFiles.decryptor(wrong));
    assertThat(why).startsWith("the vault password in " + wrong + " (vaultPasswordFile, --vault-password-file) is"
            + " wrong for the !vault value of 'vault_secret' at ansible/inventory/hosts:5")
        .contains("'db_password' at ansible/group_vars/all.yml:2")
        .doesNotContain(VaultSamples.INLINE_PLAIN).doesNotContain("not-the-password");

    Path right = Files.writeString(tmp.resolve("password"), VaultSamples.PASSWORD + "\n");
    assertThat(vaults.explain(DECRYPTION_FAILED, "c1", vars, right, VaultFiles.decryptor(right)))
        .as("every value decrypts: nothing to blame").isEmpty();
    assertThat(vaults.explain("Attempting to decrypt but no vault secrets found", "c1", vars, null, null))
        .startsWith("no vault password is configured (vaultPasswordFile, --vault-password-file) to decrypt the !vault"
            + " value of 'vault_secret' at ansible/inventory/hosts:5");
    assertThat(vaults.explain("some other failure", "c1", vars, wrong, VaultFiles.decryptor(wrong))).isEmpty();
  }

  @Test
  void aWholeVaultFileOfThePlaybookDirectoryIsNamedWhenThePasswordDoesNotDecryptIt() throws Exception {
    // made by ansible-vault encrypt; the inventory's own vault files reach Ansible decrypted: not named
    InlineVaults vaults = InlineVaults.scan(Map.of("ansible/inventory/group_vars/all.yml", bytes(VaultSamples.FILE)),
        Map.of("ansible/site.yml", bytes("- hosts: all\n"), "ansible/group_vars/web.yml", bytes(VaultSamples.FILE),
            "ansible/vars/plain.yml", bytes("# not $ANSIBLE_VAULT;1.1;AES256 at its start\nport: 1\n")));
    JsonNode vars = new ObjectMapper().readTree("{\"port\": 80}");
    Path wrong = Files.writeString(tmp.resolve("wrong-password"), "not-the-password\n");
    assertThat(vaults.explain(DECRYPTION_FAILED, "c1", vars, wrong, VaultFiles.decryptor(wrong)))
        .isEqualTo("the vault password in " + wrong + " (vaultPasswordFile, --vault-password-file) is wrong for the"
            + " vault-encrypted file ansible/group_vars/web.yml: encrypt it again with that password (ansible-vault"
            + " rekey), or give the password it was encrypted with");
    Path right = Files.writeString(tmp.resolve("password"), VaultSamples.PASSWORD + "\n");
    assertThat(vaults.explain(DECRYPTION_FAILED, "c1", vars, right, VaultFiles.decryptor(right)))
        .as("the password decrypts it (its HMAC checks): nothing to blame").isEmpty();
    assertThat(vaults.explain("ERROR! Attempting to decrypt but no vault secrets found", "c1", vars, null, null))
        .isEqualTo("no vault password is configured (vaultPasswordFile, --vault-password-file) to decrypt the"
            + " vault-encrypted file ansible/group_vars/web.yml");
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
