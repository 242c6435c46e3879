package dev.gitops.ansible;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncResult;
import dev.gitops.core.Reconciler;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The provider against real ansible-playbook, hosts being localhost aliases with a local connection. */
class AnsibleProviderTest {

  @TempDir Path tmp;
  private AnsibleFixture fx;

  @BeforeEach
  void setUp() throws Exception {
    fx = new AnsibleFixture(tmp);
  }

  @AfterEach
  void tearDown() {
    fx.close();
  }

  /** A reconciler through {@code provider} that has synced the fleet h1, h2 once, successfully. */
  private Reconciler syncedFleet(AnsibleProvider provider) {
    fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h2")).commit("fleet");
    Reconciler r = fx.reconciler(provider);
    assertThat(r.sync().isSuccessful()).isTrue();
    return r;
  }

  /** Keys the sync did something to. */
  static java.util.Set<ResourceKey> acted(SyncResult r) {
    java.util.Set<ResourceKey> out = new java.util.TreeSet<>();
    r.outcomes().forEach((k, o) -> {
      if (o.kind() != dev.gitops.api.Outcome.Kind.UNCHANGED) {
        out.add(k);
      }
    });
    return out;
  }

  private static ResourceKey host(String name) {
    return ResourceKey.of("ansible", "host", "", name);
  }

  @Test
  void firstSyncConvergesAllHostsThenOneVariableRunsOneHostAndARoleChangeRunsAll() throws Exception {
    fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h2", "h3")).commit("fleet");
    AnsibleProvider provider = fx.providerBuilder().build();
    Reconciler r = fx.reconciler(provider);

    SyncResult first = r.sync();
    assertThat(first.isSuccessful()).as("%s", first.failures()).isTrue();
    assertThat(first.outcomes().get(host("h1")).kind()).isEqualTo(dev.gitops.api.Outcome.Kind.CREATED);
    assertThat(fx.conf("h1")).isEqualTo("port=8000\nrole=web\n");
    assertThat(fx.conf("h3")).isEqualTo("port=8002\nrole=web\n");
    assertThat(new int[] {fx.runs("h1"), fx.runs("h2"), fx.runs("h3")}).containsExactly(1, 1, 1);
    for (String h : new String[] {"h1", "h2", "h3"}) {
      assertThat(fx.events).as("progress of each task on %s", h).anySatisfy(e -> assertThat(e)
          .isInstanceOfSatisfying(dev.gitops.api.SyncEvent.Progress.class, p -> {
            assertThat(p.key()).isEqualTo(host(h));
            assertThat(p.step()).isEqualTo("app : write config");
            assertThat(p.status()).isEqualTo("changed");
          }));
    }

    SyncResult again = r.sync();
    assertThat(again.isSuccessful()).isTrue();
    assertThat(again.changedAnything()).isFalse();
    assertThat(new int[] {fx.runs("h1"), fx.runs("h2"), fx.runs("h3")}).containsExactly(1, 1, 1);

    fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h2", "h3")
        .replace("h2 port=8001", "h2 port=9001")).commit("h2 moves");
    SyncResult one = r.sync();
    assertThat(one.isSuccessful()).as("%s", one.failures()).isTrue();
    assertThat(acted(one)).containsExactly(host("h2"));
    assertThat(fx.conf("h2")).isEqualTo("port=9001\nrole=web\n");
    assertThat(new int[] {fx.runs("h1"), fx.runs("h2"), fx.runs("h3")}).containsExactly(1, 2, 1);

    fx.repo.write("ansible/roles/app/templates/app.conf.j2", AnsibleFixture.TEMPLATE + "v=2\n").commit("role");
    SyncResult all = r.sync();
    assertThat(all.isSuccessful()).as("%s", all.failures()).isTrue();
    assertThat(acted(all)).containsExactly(host("h1"), host("h2"), host("h3"));
    assertThat(new int[] {fx.runs("h1"), fx.runs("h2"), fx.runs("h3")}).containsExactly(2, 3, 2);
    assertThat(fx.conf("h1")).endsWith("v=2\n");
  }

  @Test
  void aFailedHostIsRetriedNextSyncWhileTheOthersStayRecordedAndAnUnreachableHostIsReportedUnreachable()
      throws Exception {
    String down = "down port=8009 ansible_host=127.0.0.1 ansible_port=1 ansible_user=nobody ansible_connection=ssh"
        + " ansible_ssh_common_args='-o ConnectTimeout=5 -o BatchMode=yes -o StrictHostKeyChecking=no"
        + " -o UserKnownHostsFile=/dev/null'\n";
    String fleet = AnsibleFixture.inventory("h1", "h2").replace("h1 port=8000", "h1 port=8000 fail_here=true");
    fx.repo.write("ansible/inventory/hosts", fleet.replace("[web:vars]", down + "[web:vars]")).commit("fleet");
    Reconciler r = fx.reconciler(fx.providerBuilder().build());

    SyncResult first = r.sync();
    assertThat(first.isSuccessful()).isFalse();
    dev.gitops.api.Outcome failed = first.outcomes().get(host("h1"));
    assertThat(failed.kind()).isEqualTo(dev.gitops.api.Outcome.Kind.PERMANENT);
    assertThat(failed.message()).contains("fail when asked").contains("asked to fail on h1");
    dev.gitops.api.Outcome unreachable = first.outcomes().get(host("down"));
    assertThat(unreachable.kind()).isEqualTo(dev.gitops.api.Outcome.Kind.TRANSIENT);
    assertThat(unreachable.message()).contains("unreachable");
    assertThat(first.outcomes().get(host("h2")).kind()).isEqualTo(dev.gitops.api.Outcome.Kind.CREATED);
    assertThat(fx.runs("h1")).isEqualTo(1);
    assertThat(fx.runs("h2")).isEqualTo(1);

    // nothing changed in Git: the failed and the unreachable host run again, the converged one does not
    SyncResult second = r.sync();
    assertThat(acted(second)).containsExactly(host("down"), host("h1"));
    assertThat(fx.runs("h1")).isEqualTo(2);
    assertThat(fx.runs("h2")).isEqualTo(1);

    fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h2")).commit("fixed");
    SyncResult third = r.sync();
    assertThat(third.isSuccessful()).as("%s", third.failures()).isTrue();
    assertThat(acted(third)).containsExactly(host("h1"));
    assertThat(fx.runs("h1")).isEqualTo(3);
    assertThat(fx.conf("h1")).isEqualTo("port=8000\nrole=web\n");
    assertThat(fx.runs("h2")).isEqualTo(1);
  }

  @Test
  void aHostAFailedRunLeftHalfDoneRunsAgainAfterGitRevertsTheChangeWhileTheOthersDoNot() throws Exception {
    AnsibleProvider provider = fx.providerBuilder().build();
    Reconciler r = syncedFleet(provider);

    // h1 moves to 9000 and fails after its new config was written
    fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h2")
        .replace("h1 port=8000", "h1 port=9000 fail_here=true")).commit("h1 moves, broken");
    SyncResult failed = r.sync();
    assertThat(failed.outcomes().get(host("h1")).kind()).isEqualTo(dev.gitops.api.Outcome.Kind.PERMANENT);
    assertThat(fx.conf("h1")).as("half done").isEqualTo("port=9000\nrole=web\n");
    var seen = provider.observe(java.util.List.of(host("h1")), dev.gitops.api.spi.CallContext.of("gitops", "r",
        java.time.Duration.ofMinutes(1))).get(host("h1"));
    assertThat(seen.live().path("converged").asBoolean(true)).as("%s", seen.live()).isFalse();
    assertThat(seen.live().path("reason").asText()).contains("PERMANENT").contains("fail when asked");

    // reverted in Git: h1 still holds what the failed run wrote, so it runs again; h2 never failed
    fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h2")).commit("revert");
    SyncResult reverted = r.sync();
    assertThat(reverted.isSuccessful()).as("%s", reverted.failures()).isTrue();
    assertThat(acted(reverted)).containsExactly(host("h1"));
    assertThat(fx.conf("h1")).isEqualTo("port=8000\nrole=web\n");
    assertThat(new int[] {fx.runs("h1"), fx.runs("h2")}).containsExactly(3, 1);
    assertThat(r.sync().changedAnything()).as("converged: nothing runs again").isFalse();
    assertThat(new int[] {fx.runs("h1"), fx.runs("h2")}).containsExactly(3, 1);
  }

  @Test
  void aHandEditIsDriftInCheckModeReportedWithoutConvergingAndCorrectedBySync() throws Exception {
    fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h2")).commit("fleet");
    AnsibleProvider provider = fx.providerBuilder().checkDrift(true).build();
    assertThat(fx.reconciler(provider).sync().isSuccessful()).isTrue();
    java.nio.file.Files.writeString(fx.out.resolve("h1.conf"), "port=1\nedited by hand\n");
    fx.events.clear();

    // by a provider that has decoded nothing, as in a new process (a CLI run, a restarted agent): the
    // engine takes the unchanged revision from the store's records, and the check still runs
    SyncResult detected = fx.reconciler(fx.providerBuilder().checkDrift(true).build(),
        o -> o.toBuilder().detectOnly(true).build()).sync();
    dev.gitops.api.Change h1 = detected.plan().changes().stream().filter(c -> c.key().equals(host("h1")))
        .findFirst().orElseThrow();
    assertThat(h1.action()).isEqualTo(dev.gitops.api.Action.UPDATE);
    assertThat(h1.drift()).isTrue();
    assertThat(h1.live().get("converged").asBoolean()).isFalse();
    assertThat(h1.live().get("drift").toString()).contains("write config").contains("edited by hand");
    assertThat(detected.plan().changes().stream().filter(c -> c.key().equals(host("h2"))).findFirst().orElseThrow()
        .action()).isEqualTo(dev.gitops.api.Action.NOOP);
    assertThat(fx.events).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(
        dev.gitops.api.SyncEvent.DriftDetected.class, d -> assertThat(d.key()).isEqualTo(host("h1"))));
    assertThat(fx.conf("h1")).as("detect-only converges nothing").contains("edited by hand");
    int runsBefore = fx.runs("h1");

    SyncResult fixed = fx.reconciler(provider).sync();
    assertThat(fixed.isSuccessful()).as("%s", fixed.failures()).isTrue();
    assertThat(acted(fixed)).containsExactly(host("h1"));
    assertThat(fx.conf("h1")).isEqualTo("port=8000\nrole=web\n");
    assertThat(fx.runs("h1")).isEqualTo(runsBefore + 1);
  }

  @Test
  void aReviewedPlanThatCorrectsDriftIsAppliedAsReviewed() throws Exception {
    // plan, review, apply that plan (gitops plan --out, then sync --plan): the engine observes again and
    // applies only if nothing moved. The template's check-mode diff named the file Ansible rendered it
    // to, under a temporary directory new at every run ('+++ after: …/runs/run-…/local-tmp/
    // ansible-local-…/tmp…/app.conf.j2'), so no two observations of the same drift were equal and a
    // reviewed plan correcting drift was always refused as 'the stored or live state changed'
    fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h2")).commit("fleet");
    AnsibleProvider provider = fx.providerBuilder().checkDrift(true).build();
    assertThat(fx.reconciler(provider).sync().isSuccessful()).isTrue();
    java.nio.file.Files.writeString(fx.out.resolve("h1.conf"), "port=1\nedited by hand\n");

    Reconciler r = fx.reconciler(provider);
    dev.gitops.api.Plan reviewed = r.plan();
    dev.gitops.api.Change h1 = reviewed.changes().stream().filter(c -> c.key().equals(host("h1"))).findFirst()
        .orElseThrow();
    assertThat(h1.drift()).isTrue();
    String diff = h1.live().get("drift").get(0).get("diff").asText();
    assertThat(diff).contains("edited by hand").contains("app.conf.j2").doesNotContain("run-")
        .doesNotContain("ansible-local-").doesNotContain(".work");
    SyncResult applied = r.apply(reviewed);
    assertThat(applied.isSuccessful()).as("%s", applied.failures()).isTrue();
    assertThat(fx.conf("h1")).isEqualTo("port=8000\nrole=web\n");
  }

  @Test
  void anAnsibleErrorThatEndsThePlayIsSaidInAnsiblesWordsNotAsOtherHostsFailing() throws Exception {
    // h2's include_role names a role that does not exist: Ansible stops the play with "ERROR!", no host failed
    fx.repo.write("ansible/site.yml", """
        - hosts: all
          gather_facts: false
          tasks:
            - include_role: {name: "{{ r }}"}
        """).write("ansible/roles/good/tasks/main.yml", "- ansible.builtin.debug: {msg: hi}\n")
        .write("ansible/inventory/hosts", "[web]\nh1 r=good " + AnsibleFixture.LOCAL + "\nh2 r=goood "
            + AnsibleFixture.LOCAL + "\n").commit("a typo");
    SyncResult r = fx.reconciler(fx.providerBuilder().build()).sync();
    assertThat(r.isSuccessful()).isFalse();
    String why = r.outcomes().get(host("h2")).message();
    assertThat(why).as(why).startsWith("ansible:host::h2 did not complete the playbook: ansible-playbook ended the play")
        .contains("with no host failed (exit 2): ERROR! the role 'goood' was not found in")
        .doesNotContain("offending line").endsWith("; it runs again at the next sync");
    // Ansible places that error at the variable's line in the managed inventory, which the provider
    // writes and the user cannot fix: not named
    assertThat(why).doesNotContain("appears to be in").doesNotContain("inventory.yml");
  }

  @Test
  void anAnsibleErrorThatEndsThePlayNamesTheRepositorysFileAndLineItPointsAt() throws Exception {
    // a dynamic include_tasks of a file that is not YAML: the syntax check does not load it, and Ansible
    // ends the play at the run with "ERROR! ... did not find expected node content", then "The error
    // appears to be in '<the run's copy>/ansible/roles/app/tasks/more.yml': line 4, column 1", which the
    // outcome cut off with the excerpt after it, naming no file at all
    fx.repo.write("ansible/roles/app/tasks/main.yml", "- ansible.builtin.include_tasks: more.yml\n")
        .write("ansible/roles/app/tasks/more.yml", "- name: a\n  ansible.builtin.debug:\n    msg: [\n")
        .write("ansible/inventory/hosts", AnsibleFixture.inventory("h1")).commit("a broken include");
    SyncResult r = fx.reconciler(fx.providerBuilder().build()).sync();
    String why = r.outcomes().get(host("h1")).message();
    assertThat(why).as(why).contains("did not find expected node content")
        .contains("the error appears to be in 'ansible/roles/app/tasks/more.yml': line 4, column 1")
        .doesNotContain("offending line").doesNotContain("bundles").endsWith("; it runs again at the next sync");
  }

  @Test
  void aRemovedHostIsDecommissionedThenDroppedFromTheManagedInventory() throws Exception {
    AnsibleProvider provider = fx.providerBuilder().build();
    Reconciler r = syncedFleet(provider);
    assertThat(java.nio.file.Files.readString(provider.inventoryFile())).contains("\"h2\"");

    fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1")).commit("h2 leaves");
    SyncResult gone = r.sync();
    assertThat(gone.isSuccessful()).as("%s", gone.failures()).isTrue();
    assertThat(gone.outcomes().get(host("h2")).kind()).isEqualTo(dev.gitops.api.Outcome.Kind.DELETED);
    assertThat(fx.conf("h2")).as("the decommission playbook removed it").isNull();
    assertThat(fx.conf("h1")).isNotNull();
    assertThat(java.nio.file.Files.readString(provider.inventoryFile())).doesNotContain("\"h2\"").contains("\"h1\"");
    assertThat(provider.observe(java.util.List.of(host("h2")), dev.gitops.api.spi.CallContext.of("gitops", "r",
        java.time.Duration.ofMinutes(1))).get(host("h2")).isAbsent()).isTrue();
  }

  @Test
  void aHostAFailedDecommissionLeftHalfDoneRunsAgainWhenGitRevertsItsRemoval() throws Exception {
    fx.repo.write("ansible/decommission.yml", AnsibleFixture.DECOMMISSION + """
                - name: fail when asked
                  ansible.builtin.fail:
                    msg: "cannot decommission {{ inventory_hostname }}"
                  when: fail_decommission | default(false) | bool
            """);
    String fleet = AnsibleFixture.inventory("h1", "h2").replace("h2 port=8001", "h2 port=8001 fail_decommission=true");
    fx.repo.write("ansible/inventory/hosts", fleet).commit("fleet");
    AnsibleProvider provider = fx.providerBuilder().build();
    Reconciler r = fx.reconciler(provider);
    assertThat(r.sync().isSuccessful()).isTrue();

    // h2 leaves; its decommission removes its config, then fails
    fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1")).commit("h2 leaves");
    SyncResult failed = r.sync();
    assertThat(failed.outcomes().get(host("h2")).kind()).isEqualTo(dev.gitops.api.Outcome.Kind.PERMANENT);
    assertThat(fx.conf("h2")).as("half decommissioned").isNull();
    var seen = provider.observe(java.util.List.of(host("h2")), dev.gitops.api.spi.CallContext.of("gitops", "r",
        java.time.Duration.ofMinutes(1))).get(host("h2"));
    assertThat(seen.live().path("converged").asBoolean(true)).as("%s", seen.live()).isFalse();
    assertThat(seen.live().path("reason").asText()).contains("decommission").contains("cannot decommission h2");

    // reverted in Git: h2 no longer holds what its record said, so it is converged again
    fx.repo.write("ansible/inventory/hosts", fleet).commit("revert: h2 stays");
    SyncResult reverted = r.sync();
    assertThat(reverted.isSuccessful()).as("%s", reverted.failures()).isTrue();
    assertThat(acted(reverted)).containsExactly(host("h2"));
    assertThat(fx.conf("h2")).isEqualTo("port=8001\nrole=web\n");
  }

  @Test
  void aChangedDecommissionPlaybookRunsItsNewContentNotACopyOfTheOldOne() throws Exception {
    // the hosts' digest leaves the decommission playbook out (a new one re-runs no host), so the
    // directory its copy is run from must be named by every file's content, not by that digest
    fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h2", "h3")).commit("fleet");
    AnsibleProvider provider = fx.providerBuilder().build();
    Reconciler r = fx.reconciler(provider);
    assertThat(r.sync().isSuccessful()).isTrue();

    fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h3")).commit("h2 leaves");
    assertThat(r.sync().isSuccessful()).isTrue();
    assertThat(fx.conf("h2")).as("the first decommission playbook ran").isNull();
    assertThat(fx.out.resolve("h2.farewell")).doesNotExist();

    fx.repo.write("ansible/decommission.yml", AnsibleFixture.DECOMMISSION + """
                - name: say farewell
                  ansible.builtin.copy:
                    dest: "{{ out_dir }}/{{ inventory_hostname }}.farewell"
                    content: "decommissioned by v2"
            """).write("ansible/inventory/hosts", AnsibleFixture.inventory("h1")).commit("v2 decommissions h3");
    SyncResult second = r.sync();
    assertThat(second.isSuccessful()).as("%s", second.failures()).isTrue();
    assertThat(acted(second)).as("a new decommission playbook re-runs no host").containsExactly(host("h3"));
    assertThat(fx.out.resolve("h3.farewell")).as("the new decommission playbook ran")
        .hasContent("decommissioned by v2");
    assertThat(fx.conf("h3")).isNull();
    assertThat(fx.runs("h1")).isEqualTo(1);
  }

  @Test
  void aFailedCommandIsReportedWithItsFileAndLineReturnCodeAndErrorOutputScrubbedOfSecrets() throws Exception {
    fx.repo.write("ansible/inventory/hosts", "[web]\nh1 api_token=tok-9f8e7d6c " + AnsibleFixture.LOCAL + "\n")
        .write("ansible/site.yml", """
            - hosts: all
              gather_facts: false
              tasks:
                - name: check the disk
                  ansible.builtin.command: sh -c "echo 'token {{ api_token }}' >&2; echo 'disk full on h1' >&2; exit 3"
            """).commit("a failing command");
    SyncResult r = fx.reconciler(fx.providerBuilder().sensitiveVariables("api_token").build()).sync();
    dev.gitops.api.Outcome o = r.outcomes().get(host("h1"));
    assertThat(o.kind()).isEqualTo(dev.gitops.api.Outcome.Kind.PERMANENT);
    assertThat(o.message())
        .contains("failed at task 'check the disk' (ansible/site.yml:4)")
        .contains("non-zero return code").contains("rc 3")
        .contains("stderr: token (sensitive) | disk full on h1").doesNotContain("tok-9f8e7d6c");
  }

  @Test
  void aFailedNoLogTaskSaysItsOutputIsHiddenInsteadOfAnEmptyMessage() throws Exception {
    fx.repo.write("ansible/inventory/hosts", "[web]\nh1 api_token=tok-1a2b3c4d " + AnsibleFixture.LOCAL + "\n")
        .write("ansible/site.yml", """
            - hosts: all
              gather_facts: false
              tasks:
                - name: register with the token
                  ansible.builtin.command: sh -c "echo 'token {{ api_token }}' >&2; exit 3"
                  no_log: true
            """).commit("a failing no_log task");
    SyncResult r = fx.reconciler(fx.providerBuilder().build()).sync();
    dev.gitops.api.Outcome o = r.outcomes().get(host("h1"));
    assertThat(o.kind()).isEqualTo(dev.gitops.api.Outcome.Kind.PERMANENT);
    assertThat(o.message())
        .contains("failed at task 'register with the token' (ansible/site.yml:4): its output is hidden (no_log: true")
        .doesNotContain("tok-1a2b3c4d").doesNotContain(":  (");
  }

  @Test
  void ansiblesErrorsNameThePlaybookByItsPathInTheRepositoryNotByItsCopyInTheWorkDirectory() throws Exception {
    fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1"))
        .write("ansible/site.yml", """
            - hosts: all
              gather_facts: false
              tasks:
                - name: greet
                  ansible.builtin.debug:
                    msg: "{{ no_such_variable }}"
            """).commit("an undefined variable");
    Reconciler r = fx.reconciler(fx.providerBuilder().build());
    String undefined = r.sync().outcomes().get(host("h1")).message();
    assertThat(undefined).contains("'no_such_variable' is undefined").contains("'ansible/site.yml': line 4")
        .doesNotContain("bundles").doesNotContain(tmp.toString());

    // a syntax error is found when the plan is made (ansible-playbook --syntax-check), before anything runs
    fx.repo.write("ansible/site.yml", "- hosts: all\n  tasks:\n    - name: x\n      debug: msg=x\n     bad: indent\n")
        .commit("a syntax error");
    int runs = fx.runs("h1");
    assertThatThrownBy(r::sync).isInstanceOfSatisfying(dev.gitops.api.DecodeException.class, e -> {
      assertThat(e.origin().path()).isEqualTo("ansible/site.yml");
      assertThat(e.origin().line()).isEqualTo(4);
      assertThat(e.getMessage()).contains("'ansible/site.yml': line 4").doesNotContain("bundles")
          .doesNotContain(tmp.toString());
    });
    assertThat(fx.runs("h1")).isEqualTo(runs);
  }

  @Test
  void aRemovedHostWithoutADecommissionPlaybookIsDroppedAndTheOutcomeSaysNothingRanOnIt() throws Exception {
    fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1", "h2")).commit("fleet");
    AnsibleProvider provider = AnsibleProvider.builder().inventory("ansible/inventory").playbook("ansible/site.yml")
        .inventoryOut(tmp.resolve("managed/inventory.yml")).extraVars(java.util.Map.of("out_dir", fx.out.toString()))
        .build();
    Reconciler r = fx.reconciler(provider);
    assertThat(r.sync().isSuccessful()).isTrue();

    fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1")).commit("h2 leaves");
    SyncResult gone = r.sync();
    dev.gitops.api.Outcome o = gone.outcomes().get(host("h2"));
    assertThat(o.kind()).isEqualTo(dev.gitops.api.Outcome.Kind.DELETED);
    assertThat(o.message()).contains("dropped from the managed inventory without running anything on h2")
        .contains("no decommission playbook");
    assertThat(fx.conf("h2")).as("nothing ran on h2").isNotNull();
    assertThat(fx.runs("h2")).isEqualTo(1);
    assertThat(java.nio.file.Files.readString(provider.inventoryFile())).doesNotContain("\"h2\"");
  }

  @Test
  void aMalformedInventoryLineAndAnOptionLikeHostNameFailTheSyncNamingFileAndLine() throws Exception {
    fx.repo.write("ansible/inventory/hosts", "[web]\nh1 port=1\nh2 port\n").commit("bad");
    Reconciler r = fx.reconciler(fx.providerBuilder().build());
    org.assertj.core.api.Assertions.assertThatThrownBy(r::sync).isInstanceOfSatisfying(
        dev.gitops.api.DecodeException.class, e -> {
          assertThat(e.origin().path()).isEqualTo("ansible/inventory/hosts");
          assertThat(e.origin().line()).isEqualTo(3);
        });

    fx.repo.write("ansible/inventory/hosts", "[web]\nh1 port=1\n-oProxyCommand=touch-pwned port=2\n").commit("evil");
    org.assertj.core.api.Assertions.assertThatThrownBy(r::sync).isInstanceOfSatisfying(
        dev.gitops.api.DecodeException.class, e -> {
          assertThat(e.origin().line()).isEqualTo(3);
          assertThat(e.getMessage()).contains("-oProxyCommand=touch-pwned").contains("option");
        });
    assertThat(fx.runs("h1")).as("nothing ran").isZero();
  }

  @Test
  void aManagedInventoryNameAnsibleWouldNotReadAsYamlIsRefused() {
    // ansible-playbook picks the parser by extension: YAML under '.ini' parses as an empty INI
    // inventory, so every run would match no host and still exit 0
    for (String name : new String[] {"managed.ini", "hosts.cfg", "inventory.toml", "inventory.txt", "x.YML"}) {
      assertThatThrownBy(() -> AnsibleProvider.builder().inventoryOut(tmp.resolve(name)))
          .as(name).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(tmp.resolve(name).toString()).hasMessageContaining("name it .yml or .yaml");
    }
    assertThatThrownBy(() -> AnsibleProvider.builder().inventoryOut(tmp.resolve("managed.ini")))
        .hasMessageContaining("ends in '.ini'").hasMessageContaining("reads it as INI");
    for (String name : new String[] {"inventory.yml", "inventory.yaml", "inventory.json", "inventory", ".hosts"}) {
      AnsibleProvider.builder().inventoryOut(tmp.resolve(name));
    }
  }

  @Test
  void aCancelledSyncStopsThePlaybookItStartedSoNothingRunsOnAfterIt() throws Exception {
    fx.repo.write("ansible/inventory/hosts", AnsibleFixture.inventory("h1"))
        .write("ansible/site.yml", """
            - hosts: all
              gather_facts: false
              tasks:
                - ansible.builtin.shell: echo start >> "{{ out_dir }}/{{ inventory_hostname }}.marks"
                - ansible.builtin.command: sleep 6
                - ansible.builtin.shell: echo end >> "{{ out_dir }}/{{ inventory_hostname }}.marks"
            """).commit("a slow play");
    Path marks = fx.out.resolve("h1.marks");
    dev.gitops.api.Cancellation cancellation = new dev.gitops.api.Cancellation();
    try (Reconciler r = fx.reconciler(fx.providerBuilder().build())) {
      java.util.concurrent.CompletableFuture<SyncResult> sync =
          java.util.concurrent.CompletableFuture.supplyAsync(() -> r.sync(null, cancellation));
      long until = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
      // the first task's line written, not only its file made: '>>' creates the file before it writes, and a
      // cancellation in between stops the shell with the file empty
      while (!(java.nio.file.Files.exists(marks) && java.nio.file.Files.size(marks) > 0) && System.nanoTime() < until) {
        Thread.sleep(50);
      }
      assertThat(java.nio.file.Files.readAllLines(marks)).as("the play started").containsExactly("start");
      cancellation.cancel("stopping");
      SyncResult result = sync.get(30, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(result.isSuccessful()).isFalse();
    }
    // a play left running would write "end" once its 6 s sleep is over: its ansible processes (their
    // command lines name this test's directory) must be gone within that time, and "end" never come
    long gone = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
    while (ProcessHandle.allProcesses().anyMatch(p -> p.info().commandLine().orElse("").contains(tmp.toString()))
        && System.nanoTime() < gone) {
      Thread.sleep(100);
    }
    assertThat(ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains(tmp.toString())))
        .as("no ansible process of this test is left").isEmpty();
    assertThat(java.nio.file.Files.readAllLines(marks)).as("the play was stopped, not left running").containsExactly("start");
  }
}
