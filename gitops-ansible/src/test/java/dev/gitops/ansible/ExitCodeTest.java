package dev.gitops.ansible;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.api.Change;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.testkit.ProviderConformanceSuite;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How ansible-playbook's exit codes and per-host results become outcomes, with a stand-in
 * {@code ansible-playbook} (a small script speaking the callback plugin's protocol) so that every
 * code can be produced on demand; it also records the argument list it was given.
 */
class ExitCodeTest {

  private static final String FAKE = """
      #!/usr/bin/env python3
      import json, os, sys, time
      with open(os.environ['FAKE_ARGS'], 'w') as f:
          json.dump(sys.argv, f)
      with open(os.environ['FAKE_ARGS'] + '.calls', 'a') as f:
          f.write(' '.join(sys.argv) + '\\n')
      # what this run does, from the file the test rewrites before each run (one provider serves many)
      mode, code = open(os.environ['FAKE_CONTROL']).read().split(' ')
      if '--syntax-check' in sys.argv:
          sys.exit(0)  # the decoder's check of the playbook: these tests are about the runs
      limit_file = sys.argv[sys.argv.index('--limit') + 1][1:]
      hosts = [l for l in open(limit_file).read().split('\\n') if l]
      def emit(o):
          print('GITOPS-JSONL ' + json.dumps(o), flush=True)
      if mode == 'parse':
          sys.stderr.write('ERROR! We were unable to read either as JSON nor YAML (site.yml line 3)\\n')
          sys.exit(4)
      # the playbook's directory in the run's copy (the run playbook is written beside the playbook)
      here = os.path.dirname(sys.argv[-1])
      if mode == 'vaultfile':
          # ansible-core 2.14 with a whole vault file (vars_files) its password does not decrypt
          sys.stderr.write('ERROR! Decryption failed (no vault secrets were found that could decrypt) on '
              + here + '/group_vars/web.yml\\n')
          sys.exit(1)
      if mode == 'noinventory':
          # ansible-core 2.14's words when its inventory plugins cannot read the managed inventory
          inventory = sys.argv[sys.argv.index('-i') + 1]
          sys.stderr.write('[WARNING]:  * Failed to parse ' + inventory + ' with ini plugin: Invalid host\\n'
              "pattern 'all:' supplied, ending in ':' is not allowed, this character is\\nreserved to provide a port.\\n"
              '[WARNING]: Unable to parse ' + inventory + ' as an inventory source\\n'
              'ERROR! No inventory was parsed, please check your configuration and options.\\n')
          sys.exit(1)
      if mode == 'noinventoryhost':
          # and when it reads it and finds no host there: the play matches none
          emit({'event': 'play', 'name': 'fake'})
          sys.stderr.write('[WARNING]: provided hosts list is empty, only localhost is available. Note that\\n'
              "the implicit localhost does not match 'all'\\n"
              '[WARNING]: Could not match supplied host pattern, ignoring: c1\\n')
          emit({'event': 'stats', 'hosts': {}})
          sys.exit(0)
      if mode == 'hugestderr':
          # 3 GiB of error output (a sparse file: no disk), then Ansible's last words
          os.ftruncate(2, 3 << 30)
          os.lseek(2, 0, os.SEEK_END)
          os.write(2, b'\\xc3\\xa9 ERROR! the last words\\n')
          sys.exit(1)
      if mode == 'silent':
          print('ansible-playbook 2.3.0 (an old one, which does not load the callback plugin)')
          sys.exit(int(code))
      print('some other output the plugin did not write')
      emit({'event': 'play', 'name': 'fake'})
      if mode == 'sleep':
          # c1 starts a task that does not end (c2 waits for it, as under the linear strategy)
          emit({'event': 'start', 'host': 'c1', 'task': 'wait', 'path': here + '/site.yml:4'})
          time.sleep(30)
      if mode == 'stubborn':
          # SIGTERM is not obeyed: it starts one more worker instead. Each worker ignores SIGTERM and
          # has a child of its own (an ignored signal stays ignored across fork and exec); their pids
          # are recorded where the test finds them
          import signal, subprocess
          tree = os.environ['FAKE_ARGS'] + '.tree'
          def worker():
              w = subprocess.Popen(['sh', '-c', 'sleep 60 & echo $! >> "$0"; wait', tree],
                                   preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_IGN))
              with open(tree, 'a') as f:
                  f.write(str(w.pid) + '\\n')
          signal.signal(signal.SIGTERM, lambda *a: worker())
          worker()
          while len(open(tree).read().split()) < 2:
              time.sleep(0.01)
          emit({'event': 'start', 'host': 'c1', 'task': 'wait', 'path': here + '/site.yml:4'})
          while True:
              time.sleep(60)
      stats = {}
      for h in hosts:
          s = {'ok': 1, 'changed': 1, 'failures': 0, 'unreachable': 0, 'skipped': 0, 'rescued': 0, 'ignored': 0}
          if mode == 'vault' and h == 'c1':
              # ansible-core 2.14's words for a !vault value its vault password does not decrypt
              emit({'event': 'result', 'host': h, 'task': 'use it', 'status': 'failed',
                    'msg': 'Decryption failed (no vault secrets were found that could decrypt)'})
              s.update(ok=0, changed=0, failures=1)
          elif mode == 'changedfail' and h == 'c2':
              # a task found a change, then a later one failed (c1 fails as in 'fail')
              emit({'event': 'result', 'host': h, 'task': 'step', 'status': 'changed', 'diff': '-port=1\\n+port=2'})
              emit({'event': 'result', 'host': h, 'task': 'later', 'status': 'failed', 'msg': 'boom'})
              s.update(ok=0, failures=1)
          elif mode in ('fail', 'abort', 'changedfail') and h == 'c1':
              emit({'event': 'result', 'host': h, 'task': 'step', 'status': 'failed', 'msg': 'boom',
                    'path': here + '/site.yml:5'})
              s.update(ok=0, changed=0, failures=1)
          elif mode == 'abort':
              # Ansible stops the other hosts after c1 failed: their task was ok, and they do not complete
              emit({'event': 'result', 'host': h, 'task': 'step', 'status': 'ok'})
              s.update(changed=0)
          elif mode == 'unreachable' and h == 'c1':
              emit({'event': 'result', 'host': h, 'task': 'step', 'status': 'unreachable', 'msg': 'ssh: refused'})
              s['unreachable'] = 1
          elif mode == 'lost' and h == 'c2':
              continue  # Ansible did not take c2 for a host of the inventory: no result, no stats
          else:
              emit({'event': 'result', 'host': h, 'task': 'step', 'status': 'changed'})
              if mode != 'abort':
                  emit({'event': 'completed', 'host': h})
          stats[h] = s
      emit({'event': 'stats', 'hosts': stats})
      sys.exit(int(code))
      """;

  /**
   * The stand-in's interpreter: the system's python3 when there is one, else the first on the
   * {@code PATH}. A version manager's shim there (pyenv's is a shell script) costs about 0.4 s at
   * each start, which is most of a run of the stand-in and, over this class's runs, tens of seconds.
   */
  private static final String PYTHON = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3"
      : "/usr/bin/env python3";

  @TempDir Path tmp;

  /** The provider of this test's runs so far, with its timeout and its decoded hosts: decoded once (a real ansible-inventory). */
  private AnsibleProvider shared;
  private Duration sharedTimeout;
  private List<Resource> sharedHosts;

  /** One run of the stand-in, doing {@code mode} and exiting {@code exit}, by the provider of the test's earlier runs. */
  private Map<ResourceKey, Outcome> run(String mode, int exit, Duration timeout) throws Exception {
    if (shared == null || !timeout.equals(sharedTimeout)) {
      shared = provider(mode, exit, timeout);
      sharedTimeout = timeout;
      sharedHosts = hosts(shared);
    }
    control(mode, exit);
    return apply(shared, sharedHosts);
  }

  private AnsibleProvider provider(String mode, int exit, Duration timeout) throws Exception {
    return builder(mode, exit, timeout).build();
  }

  private AnsibleProvider.Builder builder(String mode, int exit, Duration timeout) throws Exception {
    Path fake = tmp.resolve("ansible-playbook");
    Files.writeString(fake, FAKE.replace("#!/usr/bin/env python3", "#!" + PYTHON));
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
    control(mode, exit);
    return AnsibleProvider.builder()
        .inventory("ansible/inventory")
        .playbook("ansible/site.yml")
        .inventoryOut(tmp.resolve("managed/inventory.yml"))
        .ansiblePlaybook(fake.toString())
        .timeout(timeout)
        .environment(Map.of("FAKE_CONTROL", tmp.resolve("control").toString(),
            "FAKE_ARGS", tmp.resolve("args.json").toString()));
  }

  /** The playbook runs the stand-in was asked for so far (not its syntax checks). */
  private List<String> calls() throws Exception {
    Path f = tmp.resolve("args.json.calls");
    return Files.exists(f) ? Files.readAllLines(f).stream().filter(l -> !l.contains("--syntax-check")).toList()
        : List.of();
  }

  /** What the stand-in's next run does. */
  private void control(String mode, int exit) throws Exception {
    Files.writeString(tmp.resolve("control"), mode + " " + exit);
  }

  private static List<Resource> hosts(AnsibleProvider p) {
    return TinyRepo.decode(p, "[web]\nc1\nc2\n").stream().filter(r -> r.key().type().equals("host")).toList();
  }

  private static Map<ResourceKey, Outcome> apply(AnsibleProvider p) {
    return apply(p, hosts(p));
  }

  private static Map<ResourceKey, Outcome> apply(AnsibleProvider p, List<Resource> hosts) {
    List<Change> creates = hosts.stream().map(ProviderConformanceSuite::createOf).toList();
    return p.applyAll(creates, CallContext.of("t", TinyRepo.REVISION, Duration.ofMinutes(1)));
  }

  private static ResourceKey host(String n) {
    return ResourceKey.of("ansible", "host", "", n);
  }

  @Test
  void exitZeroConvergesEveryHostAndTheCommandIsAnArgumentListWithTheHostsInALimitFile() throws Exception {
    Map<ResourceKey, Outcome> out = run("", 0, Duration.ofMinutes(1));
    assertThat(out.get(host("c1")).kind()).isEqualTo(Outcome.Kind.CREATED);
    assertThat(out.get(host("c2")).kind()).isEqualTo(Outcome.Kind.CREATED);
    JsonNode args = new ObjectMapper().readTree(tmp.resolve("args.json").toFile());
    List<String> argv = new java.util.ArrayList<>();
    args.forEach(a -> argv.add(a.asText()));
    assertThat(argv).contains("-i", "--limit");
    assertThat(argv.get(argv.indexOf("--limit") + 1)).startsWith("@");
    assertThat(argv.get(argv.size() - 2)).as("nothing after -- is an option").isEqualTo("--");
    // the playbook run imports site.yml from beside it, then marks the hosts that came through it
    Path run = Path.of(argv.get(argv.size() - 1));
    assertThat(run.getParent().toString()).endsWith("/ansible");
    assertThat(run.getFileName().toString()).startsWith(".gitops-").endsWith(".yml");
    assertThat(run).as("removed when the run ended").doesNotExist();
    assertThat(argv.get(argv.indexOf("--limit") + 1)).as("relative: Ansible splits a limit on blanks, ',' and ':'")
        .startsWith("@../");
  }

  @Test
  void exitTwoFailsOnlyTheFailedHost() throws Exception {
    Map<ResourceKey, Outcome> out = run("fail", 2, Duration.ofMinutes(1));
    assertThat(out.get(host("c1")).kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(out.get(host("c1")).message()).contains("step").contains("boom").contains("exit 2");
    assertThat(out.get(host("c2")).kind()).isEqualTo(Outcome.Kind.CREATED);
  }

  @Test
  void aRunThatExitsZeroWithoutAWordFromTheCallbackPluginFailsSayingSo() throws Exception {
    Map<ResourceKey, Outcome> out = run("silent", 0, Duration.ofMinutes(1));
    assertThat(out.values()).allSatisfy(o -> {
      assertThat(o.kind()).isEqualTo(Outcome.Kind.PERMANENT);
      assertThat(o.message()).contains("exited with 0").contains("no play started")
          .contains("did not load the callback").doesNotContain("(ok)");
    });
  }

  @Test
  void aHostAnsibleNeverRanInARunThatExitedZeroIsNotRecordedAsConverged() throws Exception {
    // a name Ansible reads otherwise (its limit file lines are stripped of Unicode blanks, say)
    // matches no host: the run exits 0 with a warning and nothing ran there
    Map<ResourceKey, Outcome> out = run("lost", 0, Duration.ofMinutes(1));
    assertThat(out.get(host("c1")).kind()).isEqualTo(Outcome.Kind.CREATED);
    assertThat(out.get(host("c2")).isOk()).as("%s", out.get(host("c2"))).isFalse();
    assertThat(out.get(host("c2")).message()).contains("did not complete the playbook").contains("'c2'");
  }

  @Test
  void aManagedInventoryAnsibleReadsNoHostFromFailsSayingSoNotThatTheNameMatchedNone() throws Exception {
    Path inventory = tmp.resolve("managed/inventory.yml");
    Map<ResourceKey, Outcome> out = run("noinventory", 1, Duration.ofMinutes(1));
    assertThat(out.values()).hasSize(2).allSatisfy(o -> {
      assertThat(o.kind()).isEqualTo(Outcome.Kind.PERMANENT);
      assertThat(o.message()).contains("Ansible could not read the inventory " + inventory)
          .contains("Unable to parse " + inventory + " as an inventory source")
          .contains("Failed to parse " + inventory + " with ini plugin: Invalid host pattern 'all:' supplied")
          .contains("No inventory was parsed").contains("(exit 1)");
    });
    out = run("noinventoryhost", 0, Duration.ofMinutes(1));
    assertThat(out.values()).hasSize(2).allSatisfy(o -> {
      assertThat(o.kind()).isEqualTo(Outcome.Kind.PERMANENT);
      assertThat(o.message()).contains("Ansible found no host in the inventory " + inventory)
          .contains("provided hosts list is empty, only localhost is available. Note that the implicit localhost")
          .doesNotContain("matched the name");
    });
  }

  @Test
  void exitFourWithResultsIsAnUnreachableHostAndBeforeAnyPlayAParseError() throws Exception {
    Map<ResourceKey, Outcome> out = run("unreachable", 4, Duration.ofMinutes(1));
    assertThat(out.get(host("c1")).kind()).isEqualTo(Outcome.Kind.TRANSIENT);
    assertThat(out.get(host("c1")).message()).contains("unreachable").contains("ssh: refused");
    assertThat(out.get(host("c2")).kind()).isEqualTo(Outcome.Kind.CREATED);

    out = run("parse", 4, Duration.ofMinutes(1));
    assertThat(out.values()).allSatisfy(o -> {
      assertThat(o.kind()).isEqualTo(Outcome.Kind.PERMANENT);
      assertThat(o.message()).contains("exited with 4").contains("could not be parsed").contains("site.yml line 3");
    });
  }

  @Test
  void aHugeErrorOutputIsReadFromItsEndOnlyAndItsLastWordsAreShown() throws Exception {
    Map<ResourceKey, Outcome> out = run("hugestderr", 1, Duration.ofMinutes(1));
    assertThat(out.values()).allSatisfy(o -> {
      assertThat(o.kind()).isEqualTo(Outcome.Kind.PERMANENT);
      assertThat(o.message()).contains("exited with 1").endsWith("ERROR! the last words").hasSizeLessThan(5000);
    });
  }

  @Test
  void exitOneFiveEightAndTwoFiftyFailTheHostsWithAnsiblesMeaning() throws Exception {
    for (int code : new int[] {1, 5, 250}) {
      Map<ResourceKey, Outcome> out = run("", code, Duration.ofMinutes(1));
      assertThat(out.values()).as("exit %s", code).allSatisfy(o -> {
        assertThat(o.isOk()).isFalse();
        assertThat(o.message()).contains("exited with " + code).contains(AnsibleProvider.meaning(code, true));
      });
    }
    Map<ResourceKey, Outcome> out = run("abort", 8, Duration.ofMinutes(1));
    assertThat(out.get(host("c1")).message()).contains("boom");
    assertThat(out.get(host("c2")).isOk()).as("the play was aborted: c2 may not have run every task").isFalse();
    assertThat(out.get(host("c2")).message()).contains("aborted")
        .as("names the host that failed, its task and error").contains("; c1 failed at task 'step'"
            + " (ansible/site.yml:5): boom");
  }

  /**
   * Every exit code, with every host of the batch through the playbook (the completion play
   * reached it) and with one host unreachable, against the table in the README: 0, 2, 3 and 4
   * name at most other hosts' failures, so a host that came through converged; 1, 5, 8, 250 and any
   * other code fail every host; 99 leaves them unknown.
   */
  @Test
  void everyExitCodeMapsToTheDocumentedOutcome() throws Exception {
    Map<Integer, Outcome.Kind> completed = new java.util.LinkedHashMap<>();
    completed.put(0, Outcome.Kind.CREATED);
    completed.put(1, Outcome.Kind.PERMANENT);
    completed.put(2, Outcome.Kind.CREATED);
    completed.put(3, Outcome.Kind.CREATED);
    completed.put(4, Outcome.Kind.CREATED);
    completed.put(5, Outcome.Kind.PERMANENT);
    completed.put(8, Outcome.Kind.PERMANENT);
    completed.put(99, Outcome.Kind.UNKNOWN);
    completed.put(250, Outcome.Kind.PERMANENT);
    completed.put(7, Outcome.Kind.PERMANENT);
    completed.put(137, Outcome.Kind.PERMANENT);
    completed.put(255, Outcome.Kind.PERMANENT);
    for (Map.Entry<Integer, Outcome.Kind> e : completed.entrySet()) {
      int code = e.getKey();
      Map<ResourceKey, Outcome> out = run("", code, Duration.ofMinutes(1));
      assertThat(out.values()).as("exit %s", code).hasSize(2).allSatisfy(o -> {
        assertThat(o.kind()).as("exit %s: %s", code, o.message()).isEqualTo(e.getValue());
        if (!o.isOk()) {
          assertThat(o.message()).as("exit %s", code).contains("exit" + (code == 99 ? " " : "ed with ") + code);
        }
      });
      if (!completed.get(code).equals(Outcome.Kind.CREATED) && code != 99) {
        assertThat(out.get(host("c1")).message()).contains(AnsibleProvider.meaning(code, true));
      }
    }
    assertThat(AnsibleProvider.meaning(7, true)).contains("unknown exit code");
    assertThat(AnsibleProvider.meaning(3, true)).contains("unreachable");

    // one host unreachable: it is retried (TRANSIENT) whatever the code; the other one's outcome is the table's
    for (int code : new int[] {2, 3, 4}) {
      Map<ResourceKey, Outcome> out = run("unreachable", code, Duration.ofMinutes(1));
      assertThat(out.get(host("c1")).kind()).as("exit %s", code).isEqualTo(Outcome.Kind.TRANSIENT);
      assertThat(out.get(host("c1")).message()).contains("ssh: refused").contains("exit " + code);
      assertThat(out.get(host("c2")).kind()).as("exit %s: %s", code, out.get(host("c2")).message())
          .isEqualTo(Outcome.Kind.CREATED);
    }
    // a host Ansible stopped after another failed, under 2, 3 or 4, did not complete the playbook
    for (int code : new int[] {2, 3, 4}) {
      Map<ResourceKey, Outcome> out = run("abort", code, Duration.ofMinutes(1));
      assertThat(out.get(host("c1")).kind()).as("exit %s", code).isEqualTo(Outcome.Kind.PERMANENT);
      assertThat(out.get(host("c2")).kind()).as("exit %s", code).isEqualTo(Outcome.Kind.PERMANENT);
      assertThat(out.get(host("c2")).message()).as("exit %s", code).contains("did not complete the playbook")
          .contains("; c1 failed at task 'step' (ansible/site.yml:5): boom");
    }
    // before any play: 4 is a parse error, and no code converges a host no play ran for
    for (int code : new int[] {0, 1, 2, 3, 4, 5, 8, 250, 7}) {
      Map<ResourceKey, Outcome> out = run("silent", code, Duration.ofMinutes(1));
      assertThat(out.values()).as("exit %s, no play", code).allSatisfy(o -> {
        assertThat(o.kind()).isEqualTo(Outcome.Kind.PERMANENT);
        assertThat(o.message()).contains("exited with " + code).contains(AnsibleProvider.meaning(code, false))
            .as("an error output that is empty is said so, not left as a trailing ': '")
            .doesNotEndWith(": ").contains("it printed nothing on its error output");
        assertThat(AnsibleProvider.meaning(code, false)).as("exit %s, no play", code).doesNotContain("hosts failed")
            .doesNotContain("hosts were unreachable").doesNotContain("aborted after a host failed");
      });
    }
    assertThat(AnsibleProvider.meaning(4, false)).contains("could not be parsed");
    // argparse's exit code: an ansible-playbook that does not take the command line it was given
    assertThat(AnsibleProvider.meaning(2, false)).contains("usage error").contains("tested with ansible-core 2.14");
  }

  @Test
  void exitNinetyNineAnInterruptReachingAnsibleItselfLeavesTheHostsUnknownNotFailed() throws Exception {
    // a Ctrl-C to the process group reaches ansible-playbook, which stops mid-play and exits 99
    Map<ResourceKey, Outcome> out = run("", 99, Duration.ofMinutes(1));
    assertThat(out.values()).allSatisfy(o -> {
      assertThat(o.kind()).isEqualTo(Outcome.Kind.UNKNOWN);
      assertThat(o.message()).contains("interrupted (exit 99)").contains("not known");
    });
    // a host that failed before the interrupt did fail
    out = run("fail", 99, Duration.ofMinutes(1));
    assertThat(out.get(host("c1")).kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(out.get(host("c2")).kind()).isEqualTo(Outcome.Kind.UNKNOWN);
  }

  @Test
  void aMissingExecutableIsAPermanentFailureNamingItAndAGivenOneIsCheckedAtBuild() throws Exception {
    AnsibleProvider p = provider("", 0, Duration.ofMinutes(1));
    Path fake = tmp.resolve("ansible-playbook");
    Files.delete(fake);
    Map<ResourceKey, Outcome> out = apply(p);
    assertThat(out.values()).allSatisfy(o -> {
      assertThat(o.kind()).as("retrying cannot help").isEqualTo(Outcome.Kind.PERMANENT);
      assertThat(o.message()).contains(fake.toString()).contains("does not exist");
    });

    assertThatThrownBy(() -> AnsibleProvider.builder().inventory("i").playbook("p.yml")
        .inventoryOut(tmp.resolve("inv.yml")).ansiblePlaybook("no-such-ansible-playbook").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no 'no-such-ansible-playbook' executable found")
        .hasMessageContaining("PATH directories");
    assertThatThrownBy(() -> AnsibleProvider.builder().inventory("i").playbook("p.yml")
        .inventoryOut(tmp.resolve("inv.yml")).ansiblePlaybook(fake.toString()).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(fake + " does not exist");
    // the default is looked up when it runs: a provider that only decodes and plans needs no Ansible
    AnsibleProvider.builder().inventory("i").playbook("p.yml").inventoryOut(tmp.resolve("inv.yml")).build();
  }

  @Test
  void anExecutableWhoseInterpreterIsGoneIsAPermanentFailureNamingTheInterpreter() throws Exception {
    // Ansible in a virtualenv that was removed: the script is there, its #! interpreter is not
    AnsibleProvider p = provider("", 0, Duration.ofMinutes(1));
    Path fake = tmp.resolve("ansible-playbook");
    Files.writeString(fake, FAKE.replace("#!/usr/bin/env python3", "#!" + tmp.resolve("venv/bin/python3")));
    Map<ResourceKey, Outcome> out = apply(p);
    assertThat(out.values()).allSatisfy(o -> {
      assertThat(o.kind()).as("retrying cannot help").isEqualTo(Outcome.Kind.PERMANENT);
      assertThat(o.message()).contains("cannot start " + fake).contains("error=2")
          .contains("interpreter, on its #! line, is " + tmp.resolve("venv/bin/python3") + ", which does not exist")
          .doesNotContain("Cannot run program");
    });
  }

  @Test
  void aVaultValueTheVaultPasswordDoesNotDecryptIsNamedWithItsFileAndLineWhenAnsibleCannotDecryptIt()
      throws Exception {
    Path password = Files.writeString(tmp.resolve("vault-password"), "not-the-password\n");
    AnsibleProvider p = builder("vault", 2, Duration.ofMinutes(1)).vaultPasswordFile(password).build();
    List<Resource> hosts = TinyRepo.decode(p, "all:\n  hosts:\n    c1:\n" + VaultSamples.INLINE_YAML.indent(6)
        + "    c2:\n").stream().filter(r -> r.key().type().equals("host")).toList();
    Map<ResourceKey, Outcome> out = apply(p, hosts);
    assertThat(out.get(host("c1")).kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(out.get(host("c1")).message()).contains("Decryption failed")
        .contains("the vault password in " + password + " (vaultPasswordFile, --vault-password-file) is wrong for"
            + " the !vault value of 'vault_secret' at ansible/inventory/hosts:4")
        .doesNotContain(VaultSamples.INLINE_PLAIN);
    assertThat(out.get(host("c2")).kind()).isEqualTo(Outcome.Kind.CREATED);
  }

  @Test
  void aDriftCheckAnsibleFailedWithDecryptionFailedNamesTheVaultValueThePasswordDoesNotDecryptAsTheConvergeDoes()
      throws Exception {
    Path password = Files.writeString(tmp.resolve("vault-password"), "not-the-password\n");
    AnsibleProvider p = builder("", 0, Duration.ofMinutes(1)).vaultPasswordFile(password).checkDrift(true).build();
    List<Resource> hosts = TinyRepo.decode(p, "all:\n  hosts:\n    c1:\n" + VaultSamples.INLINE_YAML.indent(6)
        + "    c2:\n").stream().filter(r -> r.key().type().equals("host")).toList();
    assertThat(apply(p, hosts).values()).allSatisfy(o -> assertThat(o.isOk()).isTrue());
    List<ResourceKey> keys = List.of(host("c1"), host("c2"));
    CallContext ctx = CallContext.of("t", TinyRepo.REVISION, Duration.ofMinutes(1));
    p.observe(keys, ctx);  // the health observe right after apply: no check of hosts just converged

    control("vault", 2);  // the check: c1's task 'use it' cannot decrypt its !vault value
    Observation c1 = p.observe(keys, ctx).get(host("c1"));
    assertThat(calls().get(calls().size() - 1)).contains("--check");
    assertThat(c1.isUnknown()).as("%s", c1).isTrue();
    assertThat(c1.reason()).contains("drift check of c1 failed at task 'use it'").contains("Decryption failed")
        .contains("the vault password in " + password + " (vaultPasswordFile, --vault-password-file) is wrong for"
            + " the !vault value of 'vault_secret' at ansible/inventory/hosts:4")
        .doesNotContain(VaultSamples.INLINE_PLAIN).doesNotContain("check_mode");
  }

  @Test
  void aDriftCheckAnsibleStoppedAfterAHostFailedNamesThatHostItsTaskAndErrorForTheOthersAndThatHostIsUnknownWithItsOwn()
      throws Exception {
    AnsibleProvider p = builder("", 0, Duration.ofMinutes(1)).checkDrift(true).build();
    assertThat(apply(p, hosts(p)).values()).allSatisfy(o -> assertThat(o.isOk()).isTrue());
    List<ResourceKey> keys = List.of(host("c1"), host("c2"));
    CallContext ctx = CallContext.of("t", TinyRepo.REVISION, Duration.ofMinutes(1));
    p.observe(keys, ctx);  // the health observe right after apply: no check of hosts just converged

    // c1's task 'step' fails; Ansible aborts the play (any_errors_fatal, max_fail_percentage), so c2,
    // ok so far, never comes through it: 8 is Ansible's code for that, ansible-core 2.14 exits 2
    for (int code : new int[] {8, 2}) {
      control("abort", code);
      Map<ResourceKey, Observation> seen = p.observe(keys, ctx);
      assertThat(calls().get(calls().size() - 1)).contains("--check");
      Observation c1 = seen.get(host("c1"));
      assertThat(c1.isUnknown()).as("exit %s: %s", code, c1).isTrue();
      assertThat(c1.reason()).as("exit %s: its own error", code)
          .contains("drift check of c1 failed at task 'step' (ansible/site.yml:5) before any task found a change")
          .contains("boom (exit " + code + ")").doesNotContain("did not complete");
      Observation c2 = seen.get(host("c2"));
      assertThat(c2.isUnknown()).as("exit %s: %s", code, c2).isTrue();
      assertThat(c2.reason()).as("exit %s: the host that failed, with its task, file:line and error", code)
          .startsWith("drift check of c2 did not complete the playbook: ansible-playbook exited with " + code)
          .endsWith("; c1 failed at task 'step' (ansible/site.yml:5): boom");
    }
  }

  @Test
  void aWholeVaultFileThePasswordDoesNotDecryptIsNamedByTheDriftCheckTheConvergeAndTheDecommission()
      throws Exception {
    Path password = Files.writeString(tmp.resolve("vault-password"), VaultSamples.PASSWORD + "\n");
    AnsibleProvider p = builder("", 0, Duration.ofMinutes(1)).vaultPasswordFile(password).checkDrift(true)
        .decommissionPlaybook("ansible/decommission.yml").build();
    // the playbook's group_vars/web.yml, encrypted whole by ansible-vault encrypt
    List<Resource> hosts = TinyRepo.decode(p, "[web]\nc1\nc2\n",
        Map.of("ansible/group_vars/web.yml", VaultSamples.FILE)).stream()
        .filter(r -> r.key().type().equals("host")).toList();
    assertThat(apply(p, hosts).values()).allSatisfy(o -> assertThat(o.isOk()).isTrue());
    List<ResourceKey> keys = List.of(host("c1"), host("c2"));
    CallContext ctx = CallContext.of("t", TinyRepo.REVISION, Duration.ofMinutes(1));
    p.observe(keys, ctx);  // the health observe right after apply: no check of hosts just converged

    // the password changes to one that does not decrypt the file: Ansible fails the run (exit 1)
    Files.writeString(password, "not-the-password\n");
    control("vaultfile", 1);
    String wrong = "; the vault password in " + password + " (vaultPasswordFile, --vault-password-file) is wrong"
        + " for the vault-encrypted file ansible/group_vars/web.yml: encrypt it again with that password"
        + " (ansible-vault rekey), or give the password it was encrypted with";
    assertThat(p.observe(keys, ctx).values()).hasSize(2).allSatisfy(o -> {
      assertThat(o.isUnknown()).as("%s", o).isTrue();
      assertThat(o.reason()).startsWith("drift check of c").contains("did not complete").contains("Decryption failed")
          .endsWith(wrong);
    });
    assertThat(calls().get(calls().size() - 1)).contains("--check");

    // c1 converged again, c2 removed and decommissioned: both runs fail so
    Resource c1 = hosts.stream().filter(r -> r.key().equals(host("c1"))).findFirst().orElseThrow();
    Resource c2 = hosts.stream().filter(r -> r.key().equals(host("c2"))).findFirst().orElseThrow();
    Map<ResourceKey, Outcome> out = p.applyAll(List.of(ProviderConformanceSuite.updateOf(c1, c1.document()),
        ProviderConformanceSuite.deleteOf(c2, c2.document())), ctx);
    assertThat(out.values()).hasSize(2).allSatisfy(o -> {
      assertThat(o.kind()).as("%s", o).isEqualTo(Outcome.Kind.PERMANENT);
      assertThat(o.message()).contains("Decryption failed").endsWith(wrong)
          .doesNotContain(VaultSamples.FILE_PLAIN_VALUE);
    });
  }

  @Test
  void aDriftCheckThatFailedBeforeAnyTaskFoundAChangeIsUnknownNotDriftAndOneThatFoundAChangeFirstIsDrift()
      throws Exception {
    AnsibleProvider p = builder("", 0, Duration.ofMinutes(1)).checkDrift(true).build();
    List<Resource> hosts = hosts(p);
    assertThat(apply(p, hosts).values()).allSatisfy(o -> assertThat(o.isOk()).isTrue());
    List<ResourceKey> keys = List.of(host("c1"), host("c2"));
    CallContext ctx = CallContext.of("t", TinyRepo.REVISION, Duration.ofMinutes(1));
    p.observe(keys, ctx);  // the health observe right after apply: no check of hosts just converged

    // the check: c1's task 'step' fails with nothing changed before it; c2's 'step' would change
    // something, then its task 'later' fails
    control("changedfail", 2);
    Map<ResourceKey, Observation> seen = p.observe(keys, ctx);
    assertThat(calls().get(calls().size() - 1)).contains("--check");
    assertThat(seen.get(host("c1")).isUnknown()).as("%s", seen.get(host("c1"))).isTrue();
    assertThat(seen.get(host("c1")).reason()).contains("drift check of c1 failed at task 'step'")
        .contains("whether c1 drifted is not known: boom").contains("check_mode: false");
    assertThat(seen.get(host("c2")).isPresent()).isTrue();
    JsonNode c2 = seen.get(host("c2")).live();
    assertThat(c2.path("converged").asBoolean(true)).as("a change was found: drift").isFalse();
    assertThat(c2.path("drift").toString()).contains("port=2").contains("later").contains("boom");
  }

  /**
   * The converge's run hangs until the call's stop time: it is stopped, and the call returns, before
   * the call's deadline, at which the engine would give up on it and report only that it did not
   * return; the decommission after it, in the same call, does not start once that stop time came.
   * Both runs share the stop time taken when the call began: the call is long enough (2.8 s) that
   * it is more than the least 250 ms ahead of the deadline (a tenth of 2.8 s), so a stop time taken
   * again for the decommission, a tenth of the little then left, would be the 250 ms floor and later
   * than the converge's: the decommission would start, or name 250 ms.
   */
  @Test
  void aDecommissionWhoseDeadlineTheConvergeBeforeItUsedUpNeverStartsAndItsHostStaysForTheNextSync()
      throws Exception {
    AnsibleProvider p = builder("", 0, Duration.ofMinutes(1)).decommissionPlaybook("ansible/decommission.yml").build();
    List<Resource> hosts = hosts(p);
    assertThat(apply(p, hosts).values()).allSatisfy(o -> assertThat(o.kind()).isEqualTo(Outcome.Kind.CREATED));
    int before = calls().size();
    // c1 converged again by a run that takes the whole call; c2 removed, decommissioned after it
    Resource c1 = hosts.stream().filter(r -> r.key().name().equals("c1")).findFirst().orElseThrow();
    Resource c2 = hosts.stream().filter(r -> r.key().name().equals("c2")).findFirst().orElseThrow();
    control("sleep", 0);
    CallContext call = CallContext.of("t", TinyRepo.REVISION, Duration.ofMillis(2800));
    Map<ResourceKey, Outcome> out = p.applyAll(List.of(ProviderConformanceSuite.updateOf(c1, c1.document()),
        ProviderConformanceSuite.deleteOf(c2, c2.document())), call);
    assertThat(Instant.now()).as("returned before the call's deadline, where the engine gives up on it")
        .isBefore(call.deadline());
    assertThat(out.get(host("c1")).kind()).isEqualTo(Outcome.Kind.UNKNOWN);
    assertThat(out.get(host("c1")).message()).contains("timed out at its call's deadline")
        .containsPattern("stopped 2[6-8]\\d ms ahead of it")
        .contains("while task 'wait' (ansible/site.yml:4) ran on c1;");
    assertThat(out.get(host("c2")).kind()).as("%s", out.get(host("c2"))).isEqualTo(Outcome.Kind.TRANSIENT);
    assertThat(out.get(host("c2")).message()).contains("did not start on c2").contains("deadline")
        .contains("nothing ran on it").contains("decommissioned at the next sync");
    // one stop time for both runs: the decommission names the converge's, not one taken again
    java.util.regex.Matcher ahead = java.util.regex.Pattern.compile("stopped (\\S+ m?s) ahead of it")
        .matcher(out.get(host("c1")).message());
    assertThat(ahead.find()).isTrue();
    assertThat(out.get(host("c2")).message()).contains("none starts in the last " + ahead.group(1) + " before it");
    // (the converge's stand-in may be stopped before it logs its call, on a loaded machine)
    assertThat(calls()).as("only the converge started").hasSizeLessThanOrEqualTo(before + 1);
    assertThat(p.observe(List.of(host("c2")), CallContext.of("t", TinyRepo.REVISION, Duration.ofMinutes(1)))
        .get(host("c2")).isPresent()).as("c2 still recorded: the next sync removes it again").isTrue();
    // which it does
    control("", 0);
    assertThat(p.applyAll(List.of(ProviderConformanceSuite.deleteOf(c2, c2.document())),
        CallContext.of("t", TinyRepo.REVISION, Duration.ofMinutes(1))).get(host("c2")).kind())
        .isEqualTo(Outcome.Kind.DELETED);
  }

  @Test
  void aHostRenamedInGitThatKeptItsAddressIsNotDecommissionedUnderItsOldNameAndIsDroppedOnceTheNewOneConverged()
      throws Exception {
    AnsibleProvider p = builder("", 0, Duration.ofMinutes(1)).decommissionPlaybook("ansible/decommission.yml").build();
    CallContext ctx = CallContext.of("t", TinyRepo.REVISION, Duration.ofMinutes(1));
    Resource c3 = TinyRepo.decode(p, "[web]\nc3 ansible_host=10.0.0.5\nc2\n").stream()
        .filter(r -> r.key().equals(host("c3"))).findFirst().orElseThrow();
    assertThat(p.applyAll(List.of(ProviderConformanceSuite.createOf(c3)), ctx).get(host("c3")).kind())
        .isEqualTo(Outcome.Kind.CREATED);
    // renamed c3 -> c1, same machine; c1's first converge fails: c3 is kept, and nothing runs on it
    Resource c1 = TinyRepo.decode(p, "[web]\nc1 ansible_host=10.0.0.5\nc2\n").stream()
        .filter(r -> r.key().equals(host("c1"))).findFirst().orElseThrow();
    List<Change> rename = List.of(ProviderConformanceSuite.createOf(c1),
        ProviderConformanceSuite.deleteOf(c3, c3.document()));
    int before = calls().size();
    control("fail", 2);
    Map<ResourceKey, Outcome> out = p.applyAll(rename, ctx);
    assertThat(out.get(host("c1")).kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(out.get(host("c3")).kind()).as("%s", out.get(host("c3"))).isEqualTo(Outcome.Kind.TRANSIENT);
    assertThat(out.get(host("c3")).message()).contains("not run on c3").contains("'10.0.0.5'")
        .contains("also that of c1").contains("c1 is not converged yet").contains("stays in the managed inventory");
    assertThat(calls()).as("the converge only").hasSize(before + 1);
    assertThat(p.observe(List.of(host("c3")), ctx).get(host("c3")).isPresent()).isTrue();
    // c1 converges: c3 is dropped, still without running anything on the machine
    control("", 0);
    out = p.applyAll(rename, ctx);
    assertThat(out.get(host("c1")).kind()).isEqualTo(Outcome.Kind.CREATED);
    assertThat(out.get(host("c3")).kind()).as("%s", out.get(host("c3"))).isEqualTo(Outcome.Kind.DELETED);
    assertThat(out.get(host("c3")).message()).contains("not run on c3").contains("also that of c1")
        .contains("c1 is converged").contains("dropped from the managed inventory without running anything");
    assertThat(calls()).as("the converge only").hasSize(before + 2);
    assertThat(p.observe(List.of(host("c3")), ctx).get(host("c3")).isAbsent()).isTrue();
    // a host at that IP through another port is another machine (a container, forwarded SSH): decommissioned
    Resource c4 = TinyRepo.decode(p, "[web]\nc1 ansible_host=10.0.0.5\nc4 ansible_host=10.0.0.5 ansible_port=2222\n")
        .stream().filter(r -> r.key().equals(host("c4"))).findFirst().orElseThrow();
    assertThat(p.applyAll(List.of(ProviderConformanceSuite.createOf(c4)), ctx).get(host("c4")).kind())
        .isEqualTo(Outcome.Kind.CREATED);
    TinyRepo.decode(p, "[web]\nc1 ansible_host=10.0.0.5\nc2\n");
    out = p.applyAll(List.of(ProviderConformanceSuite.deleteOf(c4, c4.document())), ctx);
    assertThat(out.get(host("c4")).kind()).as("%s", out.get(host("c4"))).isEqualTo(Outcome.Kind.DELETED);
    assertThat(out.get(host("c4")).message()).doesNotContain("not run on c4");
    assertThat(calls()).as("c4's converge, then its decommission").hasSize(before + 4);
  }

  /**
   * An IPv6 address has many texts ({@code 2001:db8::5}, {@code 2001:0DB8:0:0::5}, {@code [2001:db8::5]}):
   * a host renamed in Git whose address is written another way is still the same machine, and its
   * old name is not decommissioned; compared as text, it was, undoing what the new name converged.
   */
  @Test
  void aRenamedHostWhoseIpv6AddressIsWrittenAnotherWayIsStillTheSameMachine() throws Exception {
    AnsibleProvider p = builder("", 0, Duration.ofMinutes(1)).decommissionPlaybook("ansible/decommission.yml").build();
    CallContext ctx = CallContext.of("t", TinyRepo.REVISION, Duration.ofMinutes(1));
    String[][] renames = {
        // old host line, new host line
        {"c3 ansible_host=2001:db8::5", "c1 ansible_host=2001:0DB8:0:0::5"},
        {"c3 ansible_host=2001:db8:0:0:1:0:0:5", "c1 ansible_host=[2001:db8::1:0:0:5]"},
        {"2001:db8::7", "c1 ansible_host=2001:db8:0:0:0:0:0:7"},
        {"c3 ansible_host=::ffff:10.0.0.5 ansible_port=2222", "c1 ansible_host=0:0:0:0:0:ffff:a00:5 ansible_port=2222"},
    };
    for (String[] rename : renames) {
      String oldName = rename[0].split(" ")[0];
      Resource old = TinyRepo.decode(p, "[web]\n" + rename[0] + "\nc2\n").stream()
          .filter(r -> r.key().equals(host(oldName))).findFirst().orElseThrow();
      assertThat(p.applyAll(List.of(ProviderConformanceSuite.createOf(old)), ctx).get(host(oldName)).kind())
          .isEqualTo(Outcome.Kind.CREATED);
      Resource c1 = TinyRepo.decode(p, "[web]\n" + rename[1] + "\nc2\n").stream()
          .filter(r -> r.key().equals(host("c1"))).findFirst().orElseThrow();
      int before = calls().size();
      Map<ResourceKey, Outcome> out = p.applyAll(List.of(ProviderConformanceSuite.createOf(c1),
          ProviderConformanceSuite.deleteOf(old, old.document())), ctx);
      assertThat(out.get(host("c1")).kind()).as(rename[1]).isEqualTo(Outcome.Kind.CREATED);
      assertThat(out.get(host(oldName)).kind()).as("%s", out.get(host(oldName))).isEqualTo(Outcome.Kind.DELETED);
      assertThat(out.get(host(oldName)).message()).as("%s -> %s", rename[0], rename[1])
          .contains("not run on " + oldName).contains("also that of c1")
          .contains("dropped from the managed inventory without running anything");
      assertThat(calls()).as("the converge only, no decommission").hasSize(before + 1);
      // c1 leaves too, for the next rename: nothing shares its address, so it is decommissioned
      assertThat(p.applyAll(List.of(ProviderConformanceSuite.deleteOf(c1, c1.document())), ctx).get(host("c1")).kind())
          .isEqualTo(Outcome.Kind.DELETED);
    }
  }

  @Test
  void aRunPastItsTimeoutIsStoppedAndEveryHostIsUnknown() throws Exception {
    long start = System.nanoTime();
    Map<ResourceKey, Outcome> out = run("sleep", 0, Duration.ofSeconds(2));
    assertThat(out.values()).allSatisfy(o -> {
      assertThat(o.kind()).isEqualTo(Outcome.Kind.UNKNOWN);
      // the limit that stopped it and the task that hung, at its place in the repository
      assertThat(o.message()).contains("timed out after 2 s (its timeout) while task 'wait' (ansible/site.yml:4)"
          + " ran on c1;");
    });
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(25));
    // stopped at the call's deadline instead, it says so: see the decommission's test above
  }

  /**
   * A playbook that ignores SIGTERM, and so do the processes it started, is killed with all of them
   * after a grace of a tenth of its time (here 200 ms; 5 s at the most), not 10 s past its deadline.
   */
  @Test
  void aRunThatIgnoresSigtermIsKilledWithEveryProcessItStartedAfterABoundedGrace() throws Exception {
    AnsibleProvider p = provider("stubborn", 0, Duration.ofSeconds(2));
    List<Resource> hosts = hosts(p);  // decoded before the clock starts: a real ansible-inventory
    long start = System.nanoTime();
    Map<ResourceKey, Outcome> out = apply(p, hosts);
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    assertThat(out.values()).allSatisfy(o -> {
      assertThat(o.kind()).isEqualTo(Outcome.Kind.UNKNOWN);
      assertThat(o.message()).contains("timed out after 2 s (its timeout) while task 'wait' (ansible/site.yml:4)");
    });
    assertThat(took).as("its 2 s timeout and at most the 5 s grace").isLessThan(Duration.ofSeconds(7));
    // the first worker and its child, the worker it started on SIGTERM and (when it got so far) its child
    List<String> pids = List.of(Files.readString(tmp.resolve("args.json.tree")).strip().split("\\s+"));
    assertThat(pids).hasSizeGreaterThanOrEqualTo(2);
    for (String pid : pids) {
      ProcessHandle.of(Long.parseLong(pid)).ifPresent(h -> {
        h.onExit().completeOnTimeout(h, 5, java.util.concurrent.TimeUnit.SECONDS).join();
        assertThat(h.isAlive()).as("pid %d, started by the playbook, is killed with it (of %s)", h.pid(), pids)
            .isFalse();
      });
    }
  }
}
