package dev.gitops.ansible.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.ansible.VaultSamples;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A file encrypted by the real ansible-vault (password "test-vault-pw") decrypts to its text. */
class VaultFilesTest {

  @Test
  void decryptsAnAnsibleVaultFileAndRefusesAWrongPassword() {
    assertThat(VaultFiles.decrypt(VaultSamples.FILE, VaultSamples.PASSWORD.getBytes(StandardCharsets.UTF_8)))
        .isEqualTo("file_secret: " + VaultSamples.FILE_PLAIN_VALUE + "\n");
    assertThatThrownBy(() -> VaultFiles.decrypt(VaultSamples.FILE, "wrong".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("wrong vault password");
    assertThatThrownBy(() -> VaultFiles.decrypt("$ANSIBLE_VAULT;1.1;NOPE\n00\n", new byte[0]))
        .hasMessageContaining("not an AES256 vault file");
  }

  @Test
  void hostNamesThatLimitWouldMisreadAreRefused() {
    assertThat(HostNames.problem("web01.example.com")).isNull();
    assertThat(HostNames.problem("db-a")).isNull();
    assertThat(HostNames.problem("2001:db8::1")).as("an IPv6 address: a limit file's line is not split").isNull();
    assertThat(HostNames.problem("-oProxyCommand=x")).contains("option");
    for (String bad : new String[] {"web*", "a,b", "~regex", "!not", "&and", "@file", "x[0]", "a b", "a\tb"}) {
      assertThat(HostNames.problem(bad)).as(bad).isNotNull();
    }
  }
}
