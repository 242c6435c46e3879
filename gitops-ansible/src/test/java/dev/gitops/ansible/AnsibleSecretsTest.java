package dev.gitops.ansible;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncResult;
import dev.gitops.core.plan.PlanCodec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Vault values (inline and whole-file), a no_log task and variables named sensitive: Ansible uses
 * them (the file on disk proves it), and none of them reaches a log line, a plan, an event or a
 * result, even when a task prints them in its failure message and check mode shows them in a diff.
 */
class AnsibleSecretsTest {

  static final String PASSWORD = "pl4in-db-pw-99";
  static final String VAULT_INLINE = "s3cr3t-vault-value-42";
  static final String VAULT_FILE = "from-a-vault-file-77";

  static final String VAULT_VALUE = """
      vault_secret: !vault |
                $ANSIBLE_VAULT;1.1;AES256
                30626535363162616238616566633332373837383863653232366634643330323436643562643131
                6462313730333666356261323733353537643966636165660a363765346536373261383463623766
                33353462336461626334633838633930353863313232653761386331363838353433373061623539
                3238666666343134390a343136323663383139643635353237623930623838346132343832346135
                65393939376638306630323535336263366434613662623832656366376538626337
      """;
  static final String VAULT_FILE_TEXT = """
      $ANSIBLE_VAULT;1.1;AES256
      30363835613036623536363265356535336261363336623164623534643863316264636236326365
      3836336538376338303536333738616165303639363166380a653535376235343564333837383334
      64303438613765383035323336613537353831383735393266663165653863386530383564336130
      6566346339366564310a626163396363623736636436343962316364393364336237356335393462
      38363733316433633639396463643732613933366438623935343632323763323632373732646262
      3736373330323139626133373831376437646631346166663461
      """;
  static final String SITE = """
      - hosts: all
        gather_facts: false
        tasks:
          - name: write secrets
            ansible.builtin.copy:
              dest: "{{ out_dir }}/{{ inventory_hostname }}.secret"
              content: "db={{ db_password }} vault={{ vault_secret }} file={{ file_secret }}\\n"
              mode: "0600"
          - name: complain loudly
            ansible.builtin.fail:
              msg: "leaking {{ db_password }} and {{ vault_secret }} and {{ file_secret }}"
            ignore_errors: true
          - name: quiet
            ansible.builtin.debug:
              msg: "{{ vault_secret }} {{ db_password }}"
            no_log: true
      """;

  @TempDir Path tmp;

  @Test
  void secretsNeverReachLogsPlansEventsOrResults() throws Exception {
    Path pw = tmp.resolve("vault-pw");
    Files.writeString(pw, "test-vault-pw\n");
    try (AnsibleFixture fx = new AnsibleFixture(tmp)) {
      fx.repo.write("ansible/site.yml", SITE)
          .write("ansible/inventory/hosts", "h1 db_password=" + PASSWORD + " " + AnsibleFixture.LOCAL + "\n")
          .write("ansible/inventory/group_vars/all/inline.yml", VAULT_VALUE)
          .write("ansible/inventory/group_vars/all/whole.yml", VAULT_FILE_TEXT)
          .commit("secrets");
      AnsibleProvider provider = fx.providerBuilder().sensitiveVariables("*_password").vaultPasswordFile(pw)
          .checkDrift(true).build();
      SyncResult first = fx.reconciler(provider).sync();
      assertThat(first.isSuccessful()).as("%s", first.failures()).isTrue();
      assertThat(Files.readString(fx.out.resolve("h1.secret")))
          .as("Ansible had the real values").isEqualTo("db=" + PASSWORD + " vault=" + VAULT_INLINE + " file="
              + VAULT_FILE + "\n");
      assertThat(Files.readString(provider.inventoryFile())).as("inline vault values stay encrypted")
          .contains("!vault").doesNotContain(VAULT_INLINE);

      Files.writeString(fx.out.resolve("h1.secret"), "edited\n");
      SyncResult detected = fx.reconciler(provider, o -> o.withDetectOnly(true)).sync();
      assertThat(detected.plan().changes()).anySatisfy(c -> {
        assertThat(c.drift()).isTrue();
        assertThat(c.live().path("drift").toString()).as("the diff is there, scrubbed").contains("write secrets")
            .contains("(sensitive)");
      });

      List<String> seen = new ArrayList<>();
      for (SyncEvent e : fx.events) {
        seen.add(e.toString());
      }
      assertThat(fx.events).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(SyncEvent.Progress.class,
          p -> assertThat(p.step()).isEqualTo("complain loudly")));
      for (SyncResult r : List.of(first, detected)) {
        seen.add(r.toString());
        r.outcomes().values().forEach(o -> seen.add(o.message()));
        seen.add(PlanCodec.toJson(r.plan(), new byte[32]));
        // the check-mode diffs carried in the live document (the rest of it is the real, unredacted state)
        r.plan().changes().forEach(c -> seen.add(c.live() == null ? "" : c.live().path("drift").toString()));
      }
      seen.add(Files.readString(Path.of("target/ansible-tests.log")));
      try (Stream<Path> files = Files.walk(fx.state)) {
        for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
          seen.add(new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1));
        }
      }
      String all = String.join("\n", seen);
      assertThat(all).as("events, plans, results, logs and the store").isNotEmpty()
          .doesNotContain(PASSWORD).doesNotContain(VAULT_INLINE).doesNotContain(VAULT_FILE);
      assertThat(all).as("the scrubbed failure message still says what happened").contains("leaking (sensitive)");
    }
  }
}
