package dev.gitops.ansible;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.DecodeException;
import dev.gitops.api.Resource;
import dev.gitops.api.spi.SourceFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The decoder runs {@code ansible-playbook --syntax-check} once per decode of files it has not seen
 * load, over a copy of the playbook directory in a temporary directory it always removes: a
 * playbook, role or decommission playbook Ansible cannot load fails the plan naming the file and
 * line in the repository, not at apply time. The real {@code ansible-playbook} runs behind a small wrapper that records each call
 * (its working directory and arguments), so the test sees where the copy was and how often it ran.
 */
class PlaybookSyntaxCheckTest {

  @TempDir Path tmp;

  private static final String GOOD_ROLE = """
      - name: greet
        ansible.builtin.debug:
          msg: "hello {{ inventory_hostname }}"
      """;

  /** A wrapper that appends "cwd<TAB>args" to {@code calls} and runs the real ansible-playbook. */
  private Path wrapper() throws Exception {
    Path w = tmp.resolve("bin/ansible-playbook-wrapper");
    Files.createDirectories(w.getParent());
    Files.writeString(w, "#!/bin/sh\nprintf '%s\\t%s\\n' \"$(pwd)\" \"$*\" >> \"$CALLS\"\nexec ansible-playbook \"$@\"\n");
    Files.setPosixFilePermissions(w, PosixFilePermissions.fromString("rwx------"));
    return w;
  }

  private AnsibleProvider provider() throws Exception {
    return AnsibleProvider.builder()
        .inventory("ansible/inventory")
        .playbook("ansible/site.yml")
        .decommissionPlaybook("ansible/decommission.yml")
        .inventoryOut(tmp.resolve("managed/inventory.yml"))
        .ansiblePlaybook(wrapper().toString())
        .environment(Map.of("CALLS", tmp.resolve("calls").toString()))
        .build();
  }

  /** The calls the wrapper recorded: {cwd, args}. */
  private List<String[]> calls() throws Exception {
    Path f = tmp.resolve("calls");
    List<String[]> out = new ArrayList<>();
    if (Files.exists(f)) {
      for (String l : Files.readAllLines(f)) {
        out.add(l.split("\t", 2));
      }
    }
    return out;
  }

  private static List<SourceFile> repo(Map<String, String> overrides) {
    Map<String, String> files = new java.util.TreeMap<>();
    files.put("ansible/inventory/hosts", "[web]\nw1\nw2\nw3\n");
    files.put("ansible/site.yml", "- hosts: all\n  gather_facts: false\n  roles:\n    - app\n");
    files.put("ansible/roles/app/tasks/main.yml", GOOD_ROLE);
    files.put("ansible/decommission.yml", TinyRepo.PLAYBOOK);
    files.putAll(overrides);
    List<SourceFile> out = new ArrayList<>();
    files.forEach((p, t) -> out.add(TinyRepo.file(p, t)));
    return out;
  }

  @Test
  void aGoodPlaybookPassesWithOneCheckPerDecodeAndTheCopyIsRemoved() throws Exception {
    AnsibleProvider p = provider();
    List<Resource> rs = p.ansibleDecoder().decodeTogether(repo(Map.of()));
    assertThat(rs).hasSize(6);  // three hosts; web, all and ungrouped: one check for them all
    List<String[]> calls = calls();
    assertThat(calls).hasSize(1);
    assertThat(calls.get(0)[1]).contains("--syntax-check").contains("site.yml").contains("decommission.yml");
    Path copy = Path.of(calls.get(0)[0]);
    assertThat(copy.toString()).as("run in the copy of the playbook's directory").endsWith("/ansible");
    assertThat(copy).as("the temporary copy is removed").doesNotExist();
    assertThat(copy.getParent()).doesNotExist();
  }

  @Test
  void aVarsFileThatARunWouldNotFindFailsTheDecodeAtItsLineBeforeAnyRun() throws Exception {
    AnsibleProvider p = provider();
    String play = "- hosts: all\n  gather_facts: false\n  vars_files:\n    - vars/common.yml\n    - %s\n"
        + "  roles:\n    - app\n";
    assertThatThrownBy(() -> p.ansibleDecoder().decodeTogether(repo(Map.of("ansible/site.yml",
        play.formatted("../shared/common.yml"), "ansible/vars/common.yml", "a: 1\n", "shared/common.yml", "b: 2\n"))))
        .isInstanceOf(DecodeException.class)
        .hasMessageContaining("ansible/site.yml:3")
        .hasMessageContaining("vars_files '../shared/common.yml' would not be found when the play runs: it is outside the"
            + " playbook's directory ansible/, the only one desired state and copied for a run");
    assertThatThrownBy(() -> p.ansibleDecoder().decodeTogether(repo(Map.of("ansible/site.yml",
        play.formatted("vars/typo.yml"), "ansible/vars/common.yml", "a: 1\n"))))
        .isInstanceOf(DecodeException.class)
        .hasMessageContaining("vars_files 'vars/typo.yml' would not be found when the play runs: ansible/vars/typo.yml"
            + " is not in the source");
    assertThatThrownBy(() -> p.ansibleDecoder().decodeTogether(repo(Map.of("ansible/decommission.yml",
        "- hosts: all\n  vars_files: ../../../etc/passwd\n  tasks: []\n"))))
        .hasMessageContaining("ansible/decommission.yml:2").hasMessageContaining("outside the playbook's directory");
    assertThat(calls()).as("refused before Ansible was asked").isEmpty();

    // what the decoder cannot know is Ansible's to find: templated names, the controller's absolute
    // paths, first-found lists; and files that are there pass
    for (String fine : List.of("vars/{{ env }}.yml", "/etc/ansible/site-secrets.yml", "[vars/a.yml, vars/b.yml]",
        "./vars/../vars/common.yml")) {
      assertThat(p.ansibleDecoder().decodeTogether(repo(Map.of("ansible/site.yml", play.formatted(fine),
          "ansible/vars/common.yml", "a: 1\n")))).as(fine).hasSize(6);
    }
  }

  @Test
  void aVarsFileOfThePlaybooksDirectoryThatIsNotYamlFailsTheDecodeAtItsLineBeforeAnyRun() throws Exception {
    // --syntax-check loads neither the playbook directory's group_vars/host_vars nor a play's vars_files:
    // Ansible read them only when the play ran, and ended the run there for every host of the batch
    AnsibleProvider p = provider();
    String notYaml = "a: 1\nb: [1, 2\nc: 3\n";
    String play = "- hosts: all\n  gather_facts: false\n  vars_files:\n    - vars/common.yml\n  roles:\n    - app\n";
    Map<String, Map<String, String>> cases = Map.of(
        "ansible/group_vars/web.yml", Map.of("ansible/group_vars/web.yml", notYaml),
        "ansible/group_vars/all/main.yml", Map.of("ansible/group_vars/all/main.yml", notYaml),
        "ansible/host_vars/w2", Map.of("ansible/host_vars/w2", notYaml),
        "ansible/vars/common.yml", Map.of("ansible/site.yml", play, "ansible/vars/common.yml", notYaml));
    cases.forEach((file, files) -> assertThatThrownBy(() -> p.ansibleDecoder().decodeTogether(repo(files)))
        .as(file).isInstanceOfSatisfying(DecodeException.class, e -> {
          assertThat(e.origin().path()).isEqualTo(file);
          assertThat(e.origin().line()).isEqualTo(3);
          assertThat(e.getMessage()).contains("cannot be read as YAML").contains("expected ',' or ']'")
              .contains("when the play runs");
        }));
    assertThat(calls()).as("refused before Ansible was asked").isEmpty();

    // what Ansible never loads, or decrypts first, is left alone: a group no host is in, a file
    // whose extension Ansible skips, a vault-encrypted file; and JSON
    Map<String, String> fine = new java.util.TreeMap<>(Map.of(
        "ansible/group_vars/nosuchgroup.yml", notYaml,
        "ansible/group_vars/web/notes.txt", notYaml,
        "ansible/group_vars/web/vault.yml", VaultSamples.FILE,
        "ansible/host_vars/w1.json", "{\"x\":1}",
        "ansible/site.yml", play,
        "ansible/vars/common.yml", "a: 1\n"));
    assertThat(p.ansibleDecoder().decodeTogether(repo(fine))).hasSize(6);
  }

  @Test
  void theSameFilesAreCheckedOnceAndAnyChangedFileOrAFailureIsCheckedAgain() throws Exception {
    AnsibleProvider p = provider();
    p.ansibleDecoder().decodeTogether(repo(Map.of()));
    // a new inventory, the same playbook directory: Ansible loaded these files already
    p.ansibleDecoder().decodeTogether(repo(Map.of("ansible/inventory/hosts", "[web]\nw1\nw2\nw3\nw4\n")));
    assertThat(calls()).hasSize(1);

    p.ansibleDecoder().decodeTogether(repo(Map.of("ansible/decommission.yml", TinyRepo.PLAYBOOK + "\n# v2\n")));
    assertThat(calls()).as("a changed decommission playbook (outside the hosts' digest)").hasSize(2);
    p.ansibleDecoder().decodeTogether(repo(Map.of("ansible/roles/app/tasks/main.yml", GOOD_ROLE + "\n# v2\n")));
    assertThat(calls()).as("a changed role").hasSize(3);
    p.ansibleDecoder().decodeTogether(repo(Map.of()));
    assertThat(calls()).as("the first files, remembered among the last few").hasSize(3);

    String broken = "- hosts: all\n  tasks:\n    - name: x\n      debug: msg=x\n     bad: indent\n";
    for (int i = 1; i <= 2; i++) {
      assertThatThrownBy(() -> p.ansibleDecoder().decodeTogether(repo(Map.of("ansible/site.yml", broken))))
          .isInstanceOf(DecodeException.class);
      assertThat(calls()).as("a failed check is not remembered").hasSize(3 + i);
    }
    assertThat(AnsibleProvider.builder().inventory("ansible/inventory").playbook("ansible/site.yml")
        .decommissionPlaybook("ansible/decommission.yml").inventoryOut(tmp.resolve("other/inventory.yml"))
        .ansiblePlaybook(wrapper().toString()).environment(Map.of("CALLS", tmp.resolve("calls").toString()))
        .build().ansibleDecoder().decodeTogether(repo(Map.of()))).hasSize(6);
    assertThat(calls()).as("another provider remembers nothing of this one's").hasSize(6);
  }

  @Test
  void aChangedVaultPasswordFileChecksTheSameFilesAgain() throws Exception {
    Path password = Files.writeString(tmp.resolve("vault-pass"), "first\n");
    AnsibleProvider p = AnsibleProvider.builder().inventory("ansible/inventory").playbook("ansible/site.yml")
        .decommissionPlaybook("ansible/decommission.yml").inventoryOut(tmp.resolve("managed/inventory.yml"))
        .ansiblePlaybook(wrapper().toString()).environment(Map.of("CALLS", tmp.resolve("calls").toString()))
        .vaultPasswordFile(password).build();
    p.ansibleDecoder().decodeTogether(repo(Map.of()));
    p.ansibleDecoder().decodeTogether(repo(Map.of()));
    assertThat(calls()).hasSize(1);
    assertThat(calls().get(0)[1]).contains("--vault-password-file " + password);
    // a password that may no longer decrypt what the playbooks read
    Files.writeString(password, "second\n");
    p.ansibleDecoder().decodeTogether(repo(Map.of()));
    assertThat(calls()).hasSize(2);
  }

  /**
   * A vault password that does not decrypt a vault-encrypted file: the decode names that file and
   * the vault password file, as given, whether the inventory reader (a group_vars file) or Ansible's
   * syntax check (a play's vars_files) found it. The check is a stand-in saying what ansible-core
   * 2.14 says there, which costs a second less than the real one.
   */
  @Test
  void aWrongVaultPasswordNamesThePasswordFileAndTheFileItDoesNotDecrypt() throws Exception {
    Path password = Files.writeString(tmp.resolve("vault-pass"), "not-" + VaultSamples.PASSWORD + "\n");
    Path ansible = Files.writeString(tmp.resolve("ansible-playbook"), "#!/bin/sh\necho 'ERROR! Decryption failed"
        + " (no vault secrets were found that could decrypt) on '\"$(pwd)/vars/secret.yml\" >&2\nexit 1\n");
    Files.setPosixFilePermissions(ansible, PosixFilePermissions.fromString("rwx------"));
    AnsibleProvider p = AnsibleProvider.builder().inventory("ansible/inventory").playbook("ansible/site.yml")
        .decommissionPlaybook("ansible/decommission.yml").inventoryOut(tmp.resolve("managed/inventory.yml"))
        .ansiblePlaybook(ansible.toString()).vaultPasswordFile(password).build();
    assertThatThrownBy(() -> p.ansibleDecoder().decodeTogether(repo(Map.of("ansible/inventory/group_vars/web.yml",
        VaultSamples.FILE))))
        .isInstanceOf(DecodeException.class)
        .hasMessageContaining("cannot decrypt the vault-encrypted file ansible/inventory/group_vars/web.yml")
        .hasMessageContaining("the vault password in the vault password file " + password
            + " (vaultPasswordFile, the CLI's --vault-password-file) is not the one it was encrypted with");
    assertThatThrownBy(() -> p.ansibleDecoder().decodeTogether(repo(Map.of(
        "ansible/site.yml", "- hosts: all\n  gather_facts: false\n  vars_files:\n    - vars/secret.yml\n  roles:\n"
            + "    - app\n",
        "ansible/vars/secret.yml", VaultSamples.FILE))))
        .isInstanceOf(DecodeException.class)
        .hasMessageContaining("could decrypt) on ansible/vars/secret.yml")
        .hasMessageContaining("the vault password in the vault password file " + password)
        .hasMessageContaining("encrypt it again with the password in " + password)
        .hasMessageNotContaining("fix it in the repository");
  }

  @Test
  void aVaultPasswordFileAnsibleCannotFindIsNamedAsTheOptionToFixNotTheRepository() throws Exception {
    Path password = tmp.resolve("gone/vault-pass");
    AnsibleProvider p = AnsibleProvider.builder().inventory("ansible/inventory").playbook("ansible/site.yml")
        .inventoryOut(tmp.resolve("managed/inventory.yml")).vaultPasswordFile(password).build();
    assertThatThrownBy(() -> p.ansibleDecoder().decodeTogether(repo(Map.of())))
        .isInstanceOf(DecodeException.class)
        .hasMessageContaining("The vault password file " + password + " was not found")
        .hasMessageContaining("fix the vault password file " + password + " (given by vaultPasswordFile, the CLI's"
            + " --vault-password-file")
        .hasMessageNotContaining("fix it in the repository");
  }

  @Test
  void aYamlErrorInThePlaybookFailsTheDecodeNamingTheRepositoryFileAndLine() throws Exception {
    AnsibleProvider p = provider();
    String broken = "- hosts: all\n  tasks:\n    - name: x\n      debug: msg=x\n     bad: indent\n";
    assertThatThrownBy(() -> p.ansibleDecoder().decodeTogether(repo(Map.of("ansible/site.yml", broken))))
        .isInstanceOfSatisfying(DecodeException.class, e -> {
          assertThat(e.origin().path()).isEqualTo("ansible/site.yml");
          assertThat(e.origin().line()).isEqualTo(4);
          assertThat(e.origin().revision()).isEqualTo(TinyRepo.REVISION);
          assertThat(e.getMessage()).startsWith("ansible/site.yml:4").contains("--syntax-check")
              .contains("'ansible/site.yml': line 4").contains("Syntax Error while loading YAML")
              .doesNotContain("gitops-ansible-syntax").doesNotContain("/tmp/").doesNotContain("\n");
        });
    Path copy = Path.of(calls().get(0)[0]);
    assertThat(copy).as("removed after a failed check too").doesNotExist();
    assertThat(copy.getParent()).doesNotExist();
  }

  @Test
  void anErrorInARoleOrTheDecommissionPlaybookNamesThatFile() throws Exception {
    AnsibleProvider p = provider();
    String unknownModule = "- name: greet\n  ansible.builtin.debug:\n    msg: hi\n\n- name: typo\n"
        + "  ansible.builtin.no_such_module_xyz:\n    x: 1\n";
    assertThatThrownBy(() -> p.ansibleDecoder().decodeTogether(
        repo(Map.of("ansible/roles/app/tasks/main.yml", unknownModule))))
        .isInstanceOfSatisfying(DecodeException.class, e -> {
          assertThat(e.origin().path()).isEqualTo("ansible/roles/app/tasks/main.yml");
          assertThat(e.origin().line()).isEqualTo(5);
          assertThat(e.getMessage()).contains("no_such_module_xyz").doesNotContain("gitops-ansible-syntax");
        });

    String badDecommission = "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: x\n"
        + "      ansible.builtin.debug: [unclosed\n";
    assertThatThrownBy(() -> p.ansibleDecoder().decodeTogether(
        repo(Map.of("ansible/decommission.yml", badDecommission))))
        .isInstanceOfSatisfying(DecodeException.class, e -> {
          assertThat(e.origin().path()).isEqualTo("ansible/decommission.yml");
          assertThat(e.origin().line()).isPositive();
        });
    assertThat(calls()).allSatisfy(c -> assertThat(Path.of(c[0])).doesNotExist());
  }

  @Test
  void anAbsentAnsiblePlaybookSkipsTheCheckAndSaysSoInTheLog() throws Exception {
    AnsibleProvider p = provider();
    Path w = tmp.resolve("bin/ansible-playbook-wrapper");
    Files.delete(w);
    String broken = "- hosts: all\n  tasks:\n    - name: x\n      debug: msg=x\n     bad: indent\n";
    // without Ansible nothing can be checked: the plan goes on (the run would fail naming the executable)
    assertThat(p.ansibleDecoder().decodeTogether(repo(Map.of("ansible/site.yml", broken)))).hasSize(6);
    assertThat(log()).contains("syntax check of ansible/site.yml skipped").contains(w.toString());
  }

  @Test
  void aCheckPastItsTimeIsStoppedAndSkippedNotAFailure() throws Exception {
    // a stand-in that hangs, then would report an error: the check must have been stopped before
    Path fake = tmp.resolve("bin/hanging-ansible-playbook");
    Files.createDirectories(fake.getParent());
    Files.writeString(fake, "#!/bin/sh\necho $$ > \"$PIDS\"\nsleep 30\n"
        + "echo \"ERROR! The error appears to be in '$(pwd)/site.yml': line 1, column 1\" >&2\nexit 4\n");
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
    AnsibleProvider p = AnsibleProvider.builder().inventory("ansible/inventory").playbook("ansible/site.yml")
        .inventoryOut(tmp.resolve("managed/inventory.yml")).ansiblePlaybook(fake.toString())
        .timeout(Duration.ofMillis(1500)).environment(Map.of("PIDS", tmp.resolve("pid").toString())).build();
    assertThat(p.ansibleDecoder().decodeTogether(repo(Map.of()))).hasSize(6);
    long pid = Long.parseLong(Files.readString(tmp.resolve("pid")).strip());
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("stopped").isFalse();
    assertThat(log()).as("a timeout of a fraction of seconds said as it is, not cut to whole seconds (1 s)")
        .contains("syntax check of ansible/site.yml did not finish within 1.5 s: stopped and skipped");
  }

  private static String log() throws Exception {
    return Files.readString(Path.of(System.getProperty("org.slf4j.simpleLogger.logFile")));
  }
}
