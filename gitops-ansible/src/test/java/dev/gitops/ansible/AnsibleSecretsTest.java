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
  static final String VAULT_INLINE = VaultSamples.INLINE_PLAIN;
  static final String VAULT_FILE = VaultSamples.FILE_PLAIN_VALUE;

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
    Files.writeString(pw, VaultSamples.PASSWORD + "\n");
    try (AnsibleFixture fx = new AnsibleFixture(tmp)) {
      fx.repo.write("ansible/site.yml", SITE)
          .write("ansible/inventory/hosts", "h1 db_password=" + PASSWORD + " " + AnsibleFixture.LOCAL + "\n")
          .write("ansible/inventory/group_vars/all/inline.yml", VaultSamples.INLINE_YAML)
          .write("ansible/inventory/group_vars/all/whole.yml", VaultSamples.FILE)
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
      SyncResult detected = fx.reconciler(provider, o -> o.toBuilder().detectOnly(true).build()).sync();
      assertThat(detected.plan().changes()).anySatisfy(c -> {
        assertThat(c.drift()).isTrue();
        assertThat(c.live().path("drift").toString()).as("the diff is there, scrubbed").contains("write secrets")
            .contains("(sensitive)");
      });

      assertThat(fx.events).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(SyncEvent.Progress.class,
          p -> assertThat(p.step()).isEqualTo("complain loudly")));
      String all = shown(fx, first, detected);
      assertThat(all).as("events, plans, results, logs and the store").isNotEmpty()
          .doesNotContain(PASSWORD).doesNotContain(VAULT_INLINE).doesNotContain(VAULT_FILE);
      assertThat(all).as("the scrubbed failure message still says what happened").contains("leaking (sensitive)");
    }
  }

  /**
   * Everything a user or an operator can see: events, results, plans (with the check-mode diffs in
   * the live documents, the rest of which is the real, unredacted state), the log and the store.
   */
  private static String shown(AnsibleFixture fx, SyncResult... results) throws Exception {
    List<String> seen = new ArrayList<>();
    for (SyncEvent e : fx.events) {
      seen.add(e.toString());
    }
    for (SyncResult r : results) {
      seen.add(r.toString());
      r.outcomes().values().forEach(o -> seen.add(o.message()));
      seen.add(PlanCodec.toJson(r.plan(), new byte[32]));
      r.plan().changes().forEach(c -> seen.add(c.live() == null ? "" : c.live().path("drift").toString()));
    }
    seen.add(Files.readString(Path.of(System.getProperty("org.slf4j.simpleLogger.logFile"))));
    try (Stream<Path> files = Files.walk(fx.state)) {
      for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
        seen.add(new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1));
      }
    }
    return String.join("\n", seen);
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"ini", "yaml"})
  void everyVariableOfAVaultEncryptedInventoryFileIsSensitiveAndAnIniOneIsRead(String format) throws Exception {
    String secret = "VaultedInvSecret-" + format;
    String plain = format.equals("ini")
        ? "[web]\nh1 port=8000 db_token=" + secret + " " + AnsibleFixture.LOCAL + "\n"
        : """
            all:
              children:
                web:
                  hosts:
                    h1:
                      port: 8000
                      db_token: SECRET
                      ansible_connection: local
                      ansible_python_interpreter: /usr/bin/python3
            """.replace("SECRET", secret);
    Path pw = Files.writeString(tmp.resolve("vault-pw"), VaultSamples.PASSWORD + "\n");
    String encrypted = VaultSamples.encrypt(tmp, pw, plain);
    try (AnsibleFixture fx = new AnsibleFixture(tmp)) {
      fx.repo.write("ansible/roles/app/templates/app.conf.j2", "port={{ port }} token={{ db_token }}\n")
          .write("ansible/inventory/hosts", encrypted).commit("a vault-encrypted " + format + " inventory");
      SyncResult r = fx.reconciler(fx.providerBuilder().vaultPasswordFile(pw).build()).sync();
      assertThat(r.isSuccessful()).as("%s", r.failures()).isTrue();
      assertThat(fx.conf("h1")).as("Ansible had the real value").isEqualTo("port=8000 token=" + secret + "\n");
      assertThat(shown(fx, r)).as("events, plans, results, logs and the store").contains("h1")
          .doesNotContain(secret);
    }
  }

  /**
   * Ansible's connection and become passwords are secrets whoever names them: written in plain text
   * in an inventory (as many lab and legacy inventories do) and named in no sensitiveVariables, they
   * reached the plans, the store and a failed task's message.
   */
  @Test
  void ansiblesConnectionAndBecomePasswordsAreSensitiveWithoutBeingNamed() throws Exception {
    List<String> secrets = List.of("become-pw-5150", "conn-pw-8086", "sshpass-6502", "sudo-pw-6809", "key-phrase-1802");
    try (AnsibleFixture fx = new AnsibleFixture(tmp)) {
      fx.repo.write("ansible/site.yml", """
              - hosts: all
                gather_facts: false
                tasks:
                  - name: print them
                    ansible.builtin.fail:
                      msg: "{{ ansible_become_password }} {{ ansible_password }} {{ ansible_ssh_pass }} {{ ansible_sudo_pass }} {{ ansible_ssh_private_key_passphrase }}"
                    when: fail_here | default(false) | bool
              """)
          .write("ansible/inventory/hosts", "h1 ansible_become_password=" + secrets.get(0) + " ansible_password="
              + secrets.get(1) + " ansible_ssh_pass=" + secrets.get(2) + " ansible_sudo_pass=" + secrets.get(3)
              + " ansible_ssh_private_key_passphrase=" + secrets.get(4) + " " + AnsibleFixture.LOCAL + "\n")
          .commit("a lab inventory");
      AnsibleProvider provider = fx.providerBuilder().build();
      SyncResult first = fx.reconciler(provider).sync();
      assertThat(first.isSuccessful()).as("%s", first.failures()).isTrue();
      fx.repo.write("ansible/inventory/hosts", "h1 fail_here=true ansible_become_password=" + secrets.get(0)
              + " ansible_password=" + secrets.get(1) + " ansible_ssh_pass=" + secrets.get(2) + " ansible_sudo_pass="
              + secrets.get(3) + " ansible_ssh_private_key_passphrase=" + secrets.get(4) + " " + AnsibleFixture.LOCAL
              + "\n")
          .commit("h1 fails");
      SyncResult second = fx.reconciler(provider).sync();
      var h1 = second.outcomes().get(dev.gitops.api.ResourceKey.of("ansible", "host", "", "h1"));
      assertThat(h1.kind()).as("%s", h1).isEqualTo(dev.gitops.api.Outcome.Kind.PERMANENT);
      assertThat(h1.message()).contains("(sensitive)");
      String all = shown(fx, first, second);
      assertThat(all).contains("h1");
      secrets.forEach(secret -> assertThat(all).doesNotContain(secret));
    }
  }

  @Test
  void anotherHostsSecretPrintedThroughHostvarsIsScrubbedWhenOnlyOneHostRuns() throws Exception {
    String h2Secret = "H2-only-secret-314";
    try (AnsibleFixture fx = new AnsibleFixture(tmp)) {
      fx.repo.write("ansible/site.yml", """
              - hosts: all
                gather_facts: false
                tasks:
                  - name: print the neighbour's password
                    ansible.builtin.command: sh -c 'echo {{ hostvars["h2"].db_pass }} >&2; exit 3'
                    when: inventory_hostname == "h1" and (fail_here | default(false) | bool)
              """)
          .write("ansible/inventory/hosts", "h1 db_pass=h1-secret-271 " + AnsibleFixture.LOCAL + "\n"
              + "h2 db_pass=" + h2Secret + " " + AnsibleFixture.LOCAL + "\n")
          .commit("two hosts");
      AnsibleProvider provider = fx.providerBuilder().sensitiveVariables("db_pass").build();
      SyncResult first = fx.reconciler(provider).sync();
      assertThat(first.isSuccessful()).as("%s", first.failures()).isTrue();

      // only h1 changes, so only h1 is in the run (--limit): h2's secret was not collected
      fx.repo.write("ansible/inventory/hosts", "h1 db_pass=h1-secret-271 fail_here=true " + AnsibleFixture.LOCAL
              + "\nh2 db_pass=" + h2Secret + " " + AnsibleFixture.LOCAL + "\n")
          .commit("h1 fails");
      SyncResult second = fx.reconciler(provider).sync();
      var h1 = second.outcomes().get(dev.gitops.api.ResourceKey.of("ansible", "host", "", "h1"));
      assertThat(h1.kind()).as("%s", h1).isEqualTo(dev.gitops.api.Outcome.Kind.PERMANENT);
      assertThat(second.outcomes().get(dev.gitops.api.ResourceKey.of("ansible", "host", "", "h2")).kind())
          .as("h2 was not in the run").isEqualTo(dev.gitops.api.Outcome.Kind.UNCHANGED);
      assertThat(h1.message()).contains("rc 3").contains("(sensitive)").doesNotContain(h2Secret);
      assertThat(fx.events.toString()).doesNotContain(h2Secret);
    }
  }
}
