package dev.gitops.ansible.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A file encrypted by the real ansible-vault (password "test-vault-pw") decrypts to its text. */
class VaultFilesTest {

  static final String FILE = """
      $ANSIBLE_VAULT;1.1;AES256
      30363835613036623536363265356535336261363336623164623534643863316264636236326365
      3836336538376338303536333738616165303639363166380a653535376235343564333837383334
      64303438613765383035323336613537353831383735393266663165653863386530383564336130
      6566346339366564310a626163396363623736636436343962316364393364336237356335393462
      38363733316433633639396463643732613933366438623935343632323763323632373732646262
      3736373330323139626133373831376437646631346166663461
      """;

  @Test
  void decryptsAnAnsibleVaultFileAndRefusesAWrongPassword() {
    assertThat(VaultFiles.decrypt(FILE, "test-vault-pw".getBytes(StandardCharsets.UTF_8)))
        .isEqualTo("file_secret: from-a-vault-file-77\n");
    assertThatThrownBy(() -> VaultFiles.decrypt(FILE, "wrong".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("wrong vault password");
    assertThatThrownBy(() -> VaultFiles.decrypt("$ANSIBLE_VAULT;1.1;NOPE\n00\n", new byte[0]))
        .hasMessageContaining("not an AES256 vault file");
  }

  @Test
  void hostNamesThatLimitWouldMisreadAreRefused() {
    assertThat(HostNames.problem("web01.example.com")).isNull();
    assertThat(HostNames.problem("db-a")).isNull();
    assertThat(HostNames.problem("-oProxyCommand=x")).contains("option");
    for (String bad : new String[] {"web*", "a,b", "~regex", "!not", "&and", "@file", "x[0]", "a b", "::1", "a\tb"}) {
      assertThat(HostNames.problem(bad)).as(bad).isNotNull();
    }
  }
}
