package dev.gitops.ansible;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Outcome;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncResult;
import dev.gitops.core.Reconciler;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an AWX user's repository and machine throw at the provider, against the real
 * ansible-playbook: directories with spaces, commas and colons; rolling updates and drift checks
 * that Ansible ends after a failed batch; a hanging task; host names with Unicode blanks; an
 * inventory file the provider did not write; long secrets in error output; and variables holding
 * characters YAML reads as line breaks.
 */
class AnsibleHostileInputsTest {

  @TempDir Path tmp;

  private static ResourceKey host(String name) {
    return ResourceKey.of("ansible", "host", "", name);
  }

  @Test
  void aManagedInventoryAndWorkDirectoryWhosePathsHoldSpacesCommasAndColonsStillConverge() throws Exception {
    // Ansible splits a --limit argument on white space, commas and colons: "@/var/lib/my gitops/…/limit"
    // became the patterns "@/var/lib/my" and "gitops/…", and every run failed with "Unable to find limit file"
    try (AnsibleFixture fx = new AnsibleFixture(Files.createDirectories(tmp.resolve("my gitops, prod:1")))) {
      fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h2")).commit("fleet");
      Reconciler r = fx.reconciler(fx.providerBuilder().build());
      SyncResult first = r.sync();
      assertThat(first.isSuccessful()).as("%s", first.failures()).isTrue();
      assertThat(new int[] {fx.runs("h1"), fx.runs("h2")}).containsExactly(1, 1);
      assertThat(fx.conf("h2")).isEqualTo("port=8001\nrole=web\n");
    }
  }

  @Test
  void aHostNameWithAUnicodeBlankIsRefusedNamingFileAndLine() throws Exception {
    try (AnsibleFixture fx = new AnsibleFixture(tmp)) {
      // pasted from a wiki: "h2" and a no-break space. Ansible strips limit file lines as Python
      // does, so the limit named "h2", which is no host: the run exited 0 and h2 was recorded
      fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h2\u00a0")).commit("a pasted name");
      Reconciler r = fx.reconciler(fx.providerBuilder().build());
      org.assertj.core.api.Assertions.assertThatThrownBy(r::sync).isInstanceOfSatisfying(
          dev.gitops.api.DecodeException.class, e -> {
            assertThat(e.origin().path()).isEqualTo("ansible/inventory/hosts");
            assertThat(e.origin().line()).isEqualTo(3);
            assertThat(e.getMessage()).contains("white space");
          });
      assertThat(fx.runs("h1")).as("nothing ran").isZero();
    }
  }

  @Test
  void hostsNamedByTheirIpv6AddressConvergeOneByOne() throws Exception {
    // An AWX inventory of IPv6 addresses: Ansible reads '2001:db8::1' and '[::1]:2222' (port 2222) as
    // hosts and matches each line of a --limit file against the host names first, colons and all; the
    // decoder refused every such name as holding ':', so the fleet could not be managed at all
    try (AnsibleFixture fx = new AnsibleFixture(tmp)) {
      fx.repo.write("ansible/inventory/hosts", "[web]\n2001:db8::1 port=1 " + AnsibleFixture.LOCAL
          + "\n[::1]:2222 port=2 " + AnsibleFixture.LOCAL + "\n[web:vars]\napp_role=web\n").commit("an IPv6 fleet");
      AnsibleProvider provider = fx.providerBuilder().build();
      SyncResult first = fx.reconciler(provider).sync();
      assertThat(first.isSuccessful()).as("%s", first.failures()).isTrue();
      assertThat(first.outcomes().get(host("2001:db8::1")).kind()).isEqualTo(Outcome.Kind.CREATED);
      assertThat(first.outcomes().get(host("::1")).kind()).isEqualTo(Outcome.Kind.CREATED);
      assertThat(new int[] {fx.runs("2001:db8::1"), fx.runs("::1")}).containsExactly(1, 1);
      assertThat(fx.conf("::1")).isEqualTo("port=2\nrole=web\n");

      fx.repo.write("ansible/inventory/hosts", "[web]\n2001:db8::1 port=1 " + AnsibleFixture.LOCAL
          + "\n[::1]:2222 port=3 " + AnsibleFixture.LOCAL + "\n[web:vars]\napp_role=web\n").commit("one port changed");
      SyncResult second = fx.reconciler(provider).sync();
      assertThat(second.isSuccessful()).as("%s", second.failures()).isTrue();
      assertThat(new int[] {fx.runs("2001:db8::1"), fx.runs("::1")}).as("only ::1 ran").containsExactly(1, 2);
      assertThat(fx.conf("::1")).isEqualTo("port=3\nrole=web\n");
    }
  }

  @Test
  void aRemovedHostThatIsGoneIsRetriedUntilTheDecommissionPlaybookIgnoresItsBeingUnreachable() throws Exception {
    // the machine was deleted before its entry in Git: its connection (read from a file at run time,
    // so that the host converges first) now ends at a closed port
    try (AnsibleFixture fx = new AnsibleFixture(tmp)) {
      Path connection = Files.writeString(tmp.resolve("connection"), "local");
      String h2 = "h2 port=8001 ansible_python_interpreter=/usr/bin/python3 ansible_connection=\"{{ lookup('file', '"
          + connection + "') }}\" ansible_host=127.0.0.1 ansible_port=1 ansible_user=nobody"
          + " ansible_ssh_common_args='-o ConnectTimeout=5 -o BatchMode=yes -o StrictHostKeyChecking=no"
          + " -o UserKnownHostsFile=/dev/null'\n";
      String h1 = "[web]\nh1 port=8000 " + AnsibleFixture.LOCAL + "\n";
      fx.repo.write("ansible/inventory/hosts", h1 + h2).commit("fleet");
      AnsibleProvider provider = fx.providerBuilder().build();
      assertThat(fx.reconciler(provider).sync().isSuccessful()).isTrue();
      Files.writeString(connection, "ssh");
      fx.repo.write("ansible/inventory/hosts", h1).commit("h2 is gone");

      for (int i = 0; i < 2; i++) {
        Outcome o = fx.reconciler(provider).sync().outcomes().get(host("h2"));
        assertThat(o.kind()).as("%s", o).isEqualTo(Outcome.Kind.TRANSIENT);
        assertThat(o.message()).contains("unreachable at task 'remove config' (ansible/decommission.yml:4)");
        assertThat(Files.readString(provider.inventoryFile())).as("kept").contains("\"h2\"");
      }
      fx.repo.write("ansible/decommission.yml", AnsibleFixture.DECOMMISSION.replace("gather_facts: false",
          "gather_facts: false\n  ignore_unreachable: true")).commit("hosts that are gone are dropped all the same");
      SyncResult dropped = fx.reconciler(provider).sync();
      assertThat(dropped.isSuccessful()).as("%s", dropped.failures()).isTrue();
      assertThat(dropped.outcomes().get(host("h2")).kind()).isEqualTo(Outcome.Kind.DELETED);
      assertThat(Files.readString(provider.inventoryFile())).doesNotContain("\"h2\"");
    }
  }

  @Test
  void anInventoryFileTheProviderDidNotWriteIsNeverOverwritten() throws Exception {
    try (AnsibleFixture fx = new AnsibleFixture(tmp)) {
      fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1")).commit("fleet");
      // inventoryOut pointed at the team's own inventory by mistake
      Path theirs = Files.createDirectories(tmp.resolve("managed")).resolve("inventory.yml");
      String own = "all:\n  hosts:\n    prod-db-01: {ansible_host: 10.0.0.5}\n";
      Files.writeString(theirs, own);
      AnsibleProvider provider = fx.providerBuilder().build();
      SyncResult r = fx.reconciler(provider).sync();
      Outcome o = r.outcomes().get(host("h1"));
      assertThat(o.kind()).isEqualTo(Outcome.Kind.PERMANENT);
      assertThat(o.message()).contains(theirs.toString()).contains("was not written by gitops-ansible");
      assertThat(Files.readString(theirs)).isEqualTo(own);
      assertThat(fx.runs("h1")).isZero();

      // an empty file, or one the provider wrote, is taken
      Files.writeString(theirs, "");
      assertThat(fx.reconciler(provider).sync().isSuccessful()).isTrue();
      assertThat(Files.readString(theirs)).contains("\"h1\"");
    }
  }

  /**
   * One IPv6 address written two ways is two host names to Ansible, which runs the playbook on both
   * at once, on the one machine (and a commit that rewrites the address renames the host): refused
   * at the second name's line, naming the first.
   */
  @Test
  void oneIpv6AddressWrittenTwoWaysAsHostNamesIsRefusedNamingBothPlaces() throws Exception {
    try (AnsibleFixture fx = new AnsibleFixture(tmp)) {
      AnsibleProvider provider = fx.providerBuilder().build();
      String[][] twins = {{"2001:db8::1", "2001:0DB8:0:0::1"}, {"::1", "0:0:0:0:0:0:0:1"},
          {"fe80::1%eth0", "fe80:0::0001%eth0"}};
      for (String[] twin : twins) {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> TinyRepo.decode(provider,
                "[web]\n" + twin[0] + " port=1\n[db]\nd1\n" + twin[1] + " port=2\n"))
            .as("%s and %s", twin[0], twin[1])
            .isInstanceOfSatisfying(dev.gitops.api.DecodeException.class, e -> {
              assertThat(e.origin().path()).isEqualTo("ansible/inventory/hosts");
              assertThat(e.origin().line()).isEqualTo(5);
              assertThat(e.getMessage()).contains("'" + twin[1] + "'").contains("'" + twin[0] + "'")
                  .contains("ansible/inventory/hosts:2").contains("same IPv6 address");
            });
      }
      // one name, in two groups, is one host; and two addresses are two hosts
      assertThat(TinyRepo.decode(provider, "[web]\n2001:db8::1\n2001:db8::2\n[db]\n2001:db8::1\n").stream()
          .filter(r -> r.key().type().equals("host")).map(r -> r.key().name()))
          .containsExactlyInAnyOrder("2001:db8::1", "2001:db8::2");
    }
  }

  @Test
  void aManagedInventoryPathThatIsNotARegularFileIsRefusedAndNeverReplaced() throws Exception {
    try (AnsibleFixture fx = new AnsibleFixture(tmp)) {
      fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1")).commit("fleet");
      Path dir = Files.createDirectories(tmp.resolve("managed"));
      Path fifo = dir.resolve("fifo.yml");
      Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
      assertThat(mkfifo.waitFor()).isZero();
      Path link = Files.createSymbolicLink(dir.resolve("link.yml"), dir.resolve("elsewhere.yml"));
      java.util.Map<Path, String> refused = java.util.Map.of(Path.of("/dev/null"), "is a character device",
          Files.createDirectories(dir.resolve("adir")), "is a directory", fifo, "is a FIFO",
          link, "is a symbolic link to '" + dir.resolve("elsewhere.yml") + "'");
      refused.forEach((path, what) -> org.assertj.core.api.Assertions.assertThatThrownBy(
              () -> fx.providerBuilder().inventoryOut(path))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("inventoryOut(" + path + "): it " + what + ", not a regular file"));

      // one that appears after build() is refused by the plan and by apply, and left as it is
      Path later = dir.resolve("inventory.yml");
      AnsibleProvider provider = fx.providerBuilder().inventoryOut(later).build();
      mkfifo = new ProcessBuilder("mkfifo", later.toString()).inheritIO().start();
      assertThat(mkfifo.waitFor()).isZero();
      var seen = provider.observe(java.util.List.of(host("h1")), dev.gitops.api.spi.CallContext.of("gitops", "r",
          java.time.Duration.ofMinutes(1))).get(host("h1"));
      assertThat(seen.isUnknown()).as("%s", seen).isTrue();
      assertThat(seen.reason()).contains(later.toString()).contains("is a FIFO").contains("inventoryOut");
      SyncResult r = fx.reconciler(provider).sync();
      assertThat(r.isSuccessful()).isFalse();
      assertThat(r.plan().changes()).allSatisfy(c -> assertThat(c.reason()).contains("is a FIFO"));
      // an apply without a plan (a caller that never observed)
      var create = dev.gitops.testkit.ProviderConformanceSuite.createOf(TinyRepo.decode(provider,
          AnsibleFixture.inventory("h1")).stream().filter(d -> d.key().equals(host("h1"))).findFirst().orElseThrow());
      Outcome o = provider.applyAll(java.util.List.of(create), dev.gitops.api.spi.CallContext.of("gitops", "r",
          java.time.Duration.ofMinutes(1))).get(host("h1"));
      assertThat(o.kind()).as("%s", o).isEqualTo(Outcome.Kind.PERMANENT);
      assertThat(o.message()).contains(later.toString()).contains("is a FIFO").contains("inventoryOut");
      assertThat(AnsibleProvider.notARegularFile(later)).as("left as it was").contains("a FIFO");
      assertThat(fx.runs("h1")).isZero();
    }
  }

  @Test
  void hostsARollingUpdateNeverReachedAfterABatchFailedAreNotRecordedAsConverged() throws Exception {
    try (AnsibleFixture fx = new AnsibleFixture(tmp)) {
      // serial: 1 — h1's batch fails, Ansible ends the play, h2 and h3 never run (exit 2)
      fx.repo.write("ansible/site.yml", AnsibleFixture.SITE.replace("gather_facts: false",
              "gather_facts: false\n  serial: 1"))
          .write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h2", "h3")
              .replace("h1 port=8000", "h1 port=8000 fail_here=true"))
          .commit("rolling update, h1 broken");
      Reconciler r = fx.reconciler(fx.providerBuilder().build());
      SyncResult first = r.sync();
      assertThat(first.outcomes().get(host("h1")).kind()).isEqualTo(Outcome.Kind.PERMANENT);
      assertThat(fx.runs("h2")).as("the rolling update stopped before h2").isZero();
      for (String h : new String[] {"h2", "h3"}) {
        Outcome o = first.outcomes().get(host(h));
        assertThat(o.isOk()).as("%s never ran: %s", h, o).isFalse();
        assertThat(o.message()).contains(h).contains("did not complete the playbook");
      }

      // fixed in Git: h1 runs again, and so do h2 and h3, which were never converged
      fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h2", "h3")).commit("h1 fixed");
      SyncResult second = r.sync();
      assertThat(second.isSuccessful()).as("%s", second.failures()).isTrue();
      assertThat(new int[] {fx.runs("h1"), fx.runs("h2"), fx.runs("h3")}).containsExactly(2, 1, 1);
      assertThat(fx.conf("h3")).isEqualTo("port=8002\nrole=web\n");
    }
  }

  @Test
  void aDriftCheckThatAnsibleEndedBeforeAHostIsUnknownForThatHostNotInSync() throws Exception {
    try (AnsibleFixture fx = new AnsibleFixture(tmp)) {
      fx.repo.write("ansible/site.yml", """
              - hosts: all
                gather_facts: false
                serial: 1
                tasks:
                  - name: health
                    ansible.builtin.command: test ! -e "{{ out_dir }}/{{ inventory_hostname }}.broken"
                    changed_when: false
                    check_mode: false
                  - name: write config
                    ansible.builtin.copy:
                      content: "port={{ port }}\\n"
                      dest: "{{ out_dir }}/{{ inventory_hostname }}.conf"
              """)
          .write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h2")).commit("fleet");
      AnsibleProvider provider = fx.providerBuilder().checkDrift(true).build();
      SyncResult first = fx.reconciler(provider).sync();
      assertThat(first.isSuccessful()).as("%s", first.failures()).isTrue();

      // h1 breaks and h2 is edited by hand: the check fails on h1 and, serial, never reaches h2
      Files.writeString(fx.out.resolve("h1.broken"), "");
      Files.writeString(fx.out.resolve("h2.conf"), "edited by hand\n");
      var h2 = provider.observe(java.util.List.of(host("h1"), host("h2")), dev.gitops.api.spi.CallContext.of("gitops",
          "r", java.time.Duration.ofMinutes(2))).get(host("h2"));
      assertThat(h2.isUnknown()).as("h2 was not checked: %s", h2).isTrue();
      assertThat(h2.reason()).contains("did not complete the playbook");
    }
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"max_fail_percentage: 0", "any_errors_fatal: true"})
  void hostsAPlayAbortedAfterAnotherHostFailedLeftHalfDoneAreNotRecordedAsConverged(String abort) throws Exception {
    try (AnsibleFixture fx = new AnsibleFixture(tmp)) {
      // h1 fails the first task, which aborts the play for h2 too (ansible-core 2.14 exits 2, not 8)
      fx.repo.write("ansible/site.yml", """
              - hosts: all
                gather_facts: false
                ABORT
                tasks:
                  - name: precheck
                    ansible.builtin.fail:
                      msg: "precheck failed on {{ inventory_hostname }}"
                    when: fail_here | default(false) | bool
                  - name: deploy
                    ansible.builtin.shell: echo run >> "{{ out_dir }}/{{ inventory_hostname }}.runs"
              """.replace("ABORT", abort))
          .write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h2")
              .replace("h1 port=8000", "h1 port=8000 fail_here=true"))
          .commit("h1 broken");
      SyncResult first = fx.reconciler(fx.providerBuilder().build()).sync();
      assertThat(fx.runs("h2")).as("h2 never got to deploy").isZero();
      Outcome h2 = first.outcomes().get(host("h2"));
      assertThat(h2.isOk()).as("h2 was not deployed: %s", h2).isFalse();
      assertThat(h2.message()).contains("did not complete the playbook");
    }
  }

  @Test
  void aHangingTaskIsStoppedAtTheTimeoutWithEveryProcessUnderItAndNoHostIsRecordedAsConverged() throws Exception {
    try (AnsibleFixture fx = new AnsibleFixture(tmp)) {
      String marker = "sleep 3" + ProcessHandle.current().pid() % 1000 + "7";
      fx.repo.write("ansible/site.yml", """
              - hosts: all
                gather_facts: false
                tasks:
                  - ansible.builtin.shell: echo run >> "{{ out_dir }}/{{ inventory_hostname }}.runs"
                  - ansible.builtin.command: MARKER
              """.replace("MARKER", marker))
          .write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h2")).commit("a hang");
      AnsibleProvider provider = fx.providerBuilder().timeout(java.time.Duration.ofSeconds(6)).build();
      long start = System.nanoTime();
      SyncResult first = fx.reconciler(provider).sync();
      assertThat(java.time.Duration.ofNanos(System.nanoTime() - start)).isLessThan(java.time.Duration.ofSeconds(60));
      for (String h : new String[] {"h1", "h2"}) {
        Outcome o = first.outcomes().get(host(h));
        assertThat(o.kind()).as("%s", o).isEqualTo(Outcome.Kind.UNKNOWN);
        assertThat(o.message()).contains("timed out");
      }
      assertThat(ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains(marker)))
          .as("no '%s' left running", marker).isEmpty();
      assertThat(ProcessHandle.current().descendants().filter(p -> p.info().command().orElse("").contains("python")))
          .as("no Ansible worker left").isEmpty();
      var seen = provider.observe(java.util.List.of(host("h1")), dev.gitops.api.spi.CallContext.of("gitops", "r",
          java.time.Duration.ofMinutes(1))).get(host("h1"));
      assertThat(seen.live().path("converged").asBoolean(true)).as("recorded as not converged: %s", seen.live())
          .isFalse();
      assertThat(seen.live().path("reason").asText()).contains("UNKNOWN").contains("timed out");

      // the change that hung is reverted in Git (here: the host is removed): h1 may be half done, so it
      // is not taken for converged to anything, and leaving Git it is decommissioned
      fx.repo.write("ansible/site.yml", AnsibleFixture.SITE).write("ansible/inventory/hosts",
          AnsibleFixture.inventory("h2")).commit("reverted");
      SyncResult second = fx.reconciler(fx.providerBuilder().build()).sync();
      assertThat(second.isSuccessful()).as("%s", second.failures()).isTrue();
      assertThat(second.outcomes().get(host("h1")).kind()).isEqualTo(Outcome.Kind.DELETED);
    }
  }

  @Test
  void aRunStoppedAtTheTimeoutLeavesNoTemporaryDirectoryOfAnsibleBehind() throws Exception {
    try (AnsibleFixture fx = new AnsibleFixture(tmp)) {
      Path home = Files.createDirectories(tmp.resolve("home"));
      fx.repo.write("ansible/site.yml", """
              - hosts: all
                gather_facts: false
                tasks:
                  - ansible.builtin.shell: echo "$TMPDIR" > "{{ out_dir }}/{{ inventory_hostname }}.tmpdir"
                  - ansible.builtin.command: sleep 120
              """)
          .write("ansible/inventory/hosts", AnsibleFixture.inventory("h1")).commit("a hang");
      // a HOME of its own (the controller's temporary directory is ~/.ansible/tmp by default) and no TMPDIR given;
      // the hosts' module directory as the fixture has it (ANSIBLE_REMOTE_TEMP: not expanded from HOME)
      AnsibleProvider provider = fx.providerBuilder().environment(java.util.Map.of("HOME", home.toString(),
              "ANSIBLE_REMOTE_TEMP", fx.ansibleTmp.toString()))
          .timeout(java.time.Duration.ofSeconds(6)).build();
      SyncResult r = fx.reconciler(provider).sync();
      Outcome o = r.outcomes().get(host("h1"));
      assertThat(o.kind()).as("%s", o).isEqualTo(Outcome.Kind.UNKNOWN);
      assertThat(o.message()).contains("timed out");
      Path tmpdir = Path.of(Files.readString(fx.out.resolve("h1.tmpdir")).strip());
      assertThat(tmpdir.toString()).as("the tasks' TMPDIR is the run's own").contains("runs").endsWith("tmp");
      assertThat(tmpdir).as("removed with the stopped run, with the sleeping module's payload").doesNotExist();
      Path controllerTmp = home.resolve(".ansible").resolve("tmp");
      if (Files.isDirectory(controllerTmp)) {
        try (java.util.stream.Stream<Path> left = Files.list(controllerTmp)) {
          assertThat(left.map(p -> p.getFileName().toString())).as("the controller's temporary directories")
              .noneMatch(n -> n.startsWith("ansible-local-"));
        }
      }
    }
  }

  /** A long random token: any 40 of its characters found in a text are a leak. */
  private static String longToken() {
    StringBuilder sb = new StringBuilder("tok-");
    while (sb.length() < 3000) {
      sb.append(java.util.UUID.randomUUID().toString().replace("-", ""));
    }
    return sb.toString();
  }

  private static final String REJECTING_PLAY = """
      - hosts: all
        gather_facts: false
        tasks:
          - name: call the api
            ansible.builtin.command: sh -c "echo 'auth {{ api_token }} rejected' >&2; exit 3"
      """;

  /** The outcome of a run whose failed task printed {@code token} (3,000 characters) on its error output. */
  private static void assertTheTokenIsNotShownInPart(SyncResult r, String token) {
    Outcome o = r.outcomes().get(host("h1"));
    assertThat(o.kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(o.message()).contains("call the api").contains("rc 3").contains("(sensitive) rejected");
    // the plugin keeps the last 1,500 characters of the error output: cut there, the token was no
    // longer found by either scrubber, and its last 1,500 characters were shown
    assertThat(o.message()).doesNotContain(token.substring(token.length() - 40));
  }

  @Test
  void aLongSensitiveValueInAFailedTasksErrorOutputIsNotShownInPartWhereTheOutputIsCut() throws Exception {
    String token = longToken();
    try (AnsibleFixture fx = new AnsibleFixture(tmp)) {
      fx.repo.write("ansible/site.yml", REJECTING_PLAY)
          .write("ansible/inventory/hosts", "[web]\nh1 " + AnsibleFixture.LOCAL + "\n")
          .write("ansible/inventory/host_vars/h1.yml", "api_token: \"" + token + "\"\n")
          .commit("a long token");
      assertTheTokenIsNotShownInPart(fx.reconciler(fx.providerBuilder().sensitiveVariables("api_*").build()).sync(),
          token);
    }
  }

  @Test
  void aLongValueOfAVaultEncryptedVarsFileIsNotShownInPartWhereTheOutputIsCut() throws Exception {
    String token = longToken();
    Path pw = Files.writeString(tmp.resolve("vault-pw"), VaultSamples.PASSWORD + "\n");
    String encrypted = VaultSamples.encrypt(tmp, pw, "api_token: \"" + token + "\"\n");
    try (AnsibleFixture fx = new AnsibleFixture(tmp)) {
      fx.repo.write("ansible/site.yml", REJECTING_PLAY)
          .write("ansible/inventory/hosts", "[web]\nh1 " + AnsibleFixture.LOCAL + "\n")
          .write("ansible/inventory/host_vars/h1.yml", encrypted)
          .commit("a long token in a vault file");
      assertTheTokenIsNotShownInPart(fx.reconciler(fx.providerBuilder().vaultPasswordFile(pw).build()).sync(), token);
    }
  }

  /**
   * Also a {@code !!binary} and a {@code !!set} value: Python bytes and a set to Ansible, read from
   * Git so and written to the managed inventory with their tags, so Ansible reads them the same.
   */
  @Test
  void valuesWithCharactersYamlTakesForLineBreaksAndBinaryAndSetValuesReachAnsibleUnchanged() throws Exception {
    try (AnsibleFixture fx = new AnsibleFixture(tmp)) {
      // NEL (U+0085), LINE and PARAGRAPH SEPARATOR inside a double-quoted YAML scalar are line
      // breaks to PyYAML: written raw, NEL became a space and the blanks around U+2028 vanished
      String motd = "caf\u00e9 \u00a0a\u0085b x \u2028 y \u2029 z \ud83d\ude80";
      fx.repo.write("ansible/roles/app/templates/app.conf.j2", "{{ motd }}|{{ cert | type_debug }} {{ cert }}"
              + " {{ ports | type_debug }} {{ ports | sort | join(',') }}")
          .write("ansible/inventory/hosts", AnsibleFixture.inventory("h1"))
          .write("ansible/inventory/group_vars/web.yml",
              "motd: \"caf\u00e9 \u00a0a\\Nb x \\L y \\P z \ud83d\ude80\"\n"
              + "cert: !!binary |\n  aGVsbG8g\n  d29ybGQ=\nports: !!set {443, 80}\n")
          .commit("unicode, bytes and a set");
      SyncResult first = fx.reconciler(fx.providerBuilder().build()).sync();
      assertThat(first.isSuccessful()).as("%s", first.failures()).isTrue();
      assertThat(fx.conf("h1")).isEqualTo(motd + "|bytes hello world set 80,443");
    }
  }
}
