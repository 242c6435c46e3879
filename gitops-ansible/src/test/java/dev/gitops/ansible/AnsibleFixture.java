package dev.gitops.ansible;

import dev.gitops.api.SyncEvent;
import dev.gitops.core.Reconciler;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.apply.ExecutionOptions;
import dev.gitops.core.apply.RetryPolicy;
import dev.gitops.core.source.GitSource;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.testkit.TempGitRepo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;

/**
 * A Git repository with an inventory of localhost aliases ({@code ansible_connection=local}) and a
 * playbook whose role writes one file per host under a temporary directory and appends a line to
 * {@code <host>.runs} each time it runs there, so every effect is observable on disk. {@link
 * #close()} closes the reconcilers it built (their Git sources delete their temporary clones) and
 * deletes the repository; everything else it writes is under its directory.
 */
final class AnsibleFixture implements AutoCloseable {

  static final String SITE = """
      - hosts: all
        gather_facts: false
        roles:
          - app
      """;
  static final String ROLE_TASKS = """
      - name: write config
        ansible.builtin.template:
          src: app.conf.j2
          dest: "{{ out_dir }}/{{ inventory_hostname }}.conf"
          mode: "0644"
      - name: count runs
        ansible.builtin.shell: echo run >> "{{ out_dir }}/{{ inventory_hostname }}.runs"
        changed_when: false
      - name: fail when asked
        ansible.builtin.fail:
          msg: "asked to fail on {{ inventory_hostname }}"
        when: fail_here | default(false) | bool
      """;
  static final String TEMPLATE = "port={{ port }}\nrole={{ app_role | default('none') }}\n";
  static final String DECOMMISSION = """
      - hosts: all
        gather_facts: false
        tasks:
          - name: remove config
            ansible.builtin.file:
              path: "{{ out_dir }}/{{ inventory_hostname }}.conf"
              state: absent
      """;
  static final String LOCAL = "ansible_connection=local ansible_python_interpreter=/usr/bin/python3";

  final TempGitRepo repo;
  final Path dir;
  final Path out;
  final Path state;
  /**
   * Where the hosts' modules are put ({@code ANSIBLE_REMOTE_TEMP}): the hosts are this machine
   * (local connection), whose {@code ~/.ansible/tmp} a task a timeout or a cancellation stops would
   * keep its {@code ansible-tmp-*} directory in; here, under the fixture's directory. The provider puts
   * {@code TMPDIR} and the controller's temporary directory into each run's own directory itself.
   */
  final Path ansibleTmp;
  final List<SyncEvent> events = new CopyOnWriteArrayList<>();
  private final List<Reconciler> reconcilers = new CopyOnWriteArrayList<>();

  AnsibleFixture(Path dir) throws IOException {
    this.dir = dir;
    this.out = Files.createDirectories(dir.resolve("out"));
    this.state = dir.resolve("state");
    this.ansibleTmp = Files.createDirectories(dir.resolve("ansible-tmp"));
    this.repo = TempGitRepo.in(Files.createDirectories(dir.resolve("repo")));
    repo.write("ansible/site.yml", SITE)
        .write("ansible/decommission.yml", DECOMMISSION)
        .write("ansible/roles/app/tasks/main.yml", ROLE_TASKS)
        .write("ansible/roles/app/templates/app.conf.j2", TEMPLATE);
  }

  /** An inventory of {@code hosts} local aliases in group web, each with its own port. */
  static String inventory(String... hosts) {
    StringBuilder sb = new StringBuilder("[web]\n");
    int port = 8000;
    for (String h : hosts) {
      sb.append(h).append(" port=").append(port++).append(' ').append(LOCAL).append('\n');
    }
    return sb.append("[web:vars]\napp_role=web\n").toString();
  }

  AnsibleProvider.Builder providerBuilder() {
    return AnsibleProvider.builder()
        .inventory("ansible/inventory")
        .playbook("ansible/site.yml")
        .decommissionPlaybook("ansible/decommission.yml")
        .inventoryOut(dir.resolve("managed/inventory.yml"))
        .extraVars(Map.of("out_dir", out.toString()))
        .environment(Map.of("ANSIBLE_REMOTE_TEMP", ansibleTmp.toString()))
        .listener(events::add);
  }

  Reconciler reconciler(AnsibleProvider provider) {
    return reconciler(provider, o -> o);
  }

  /**
   * A reconciler of the repository's {@code main} through {@code provider}, closed by {@link
   * #close()} if the test does not close it (its Git source has no cache directory: it clones
   * into a temporary directory that only closing deletes).
   */
  Reconciler reconciler(AnsibleProvider provider, UnaryOperator<SyncOptions> options) {
    SyncOptions base = SyncOptions.builder().execution(ExecutionOptions.defaults()
        .withRetry(RetryPolicy.none()).withCallTimeout(Duration.ofMinutes(5))).build();
    Reconciler r = Reconciler.builder()
        .source(GitSource.builder().url(repo.dir().toString()).ref("main").build())
        .provider(provider)
        .store(FileStateStore.open(state))
        .options(options.apply(base))
        .listener(events::add)
        .build();
    reconcilers.add(r);
    return r;
  }

  /** How many times the playbook ran on {@code host}. */
  int runs(String host) throws IOException {
    Path f = out.resolve(host + ".runs");
    return Files.exists(f) ? Files.readAllLines(f).size() : 0;
  }

  String conf(String host) throws IOException {
    Path f = out.resolve(host + ".conf");
    return Files.exists(f) ? Files.readString(f) : null;
  }

  @Override
  public void close() {
    try {
      reconcilers.forEach(Reconciler::close);  // closing one twice is harmless
    } finally {
      repo.close();
    }
  }
}
