package dev.gitops.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.ansible.AnsibleProvider;
import dev.gitops.ansible.inventory.Inventory;
import dev.gitops.ansible.inventory.InventoryParser;
import dev.gitops.api.SyncResult;
import dev.gitops.core.Reconciler;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.apply.ExecutionOptions;
import dev.gitops.core.apply.RetryPolicy;
import dev.gitops.core.source.GitSource;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.testkit.TempGitRepo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The Ansible provider's benchmark rows, with real {@code ansible-playbook} and {@code
 * ansible-inventory} (run by hand, not in {@code mvn verify}):
 *
 * <ul>
 *   <li>A1: 50 hosts (local connection). After a first converge, a commit changes one host's
 *       variable and a sync converges that host only; a commit changing a role file makes every
 *       host out of date and a sync runs all 50. Both are measured in this run, three times each;
 *       the row reports the medians and their ratio (target: incremental at most 0.2 of full).
 *   <li>A2: a 5,000-host inventory (INI groups with children and ranges, group_vars, host_vars):
 *       {@code InventoryParser.parse} (best of 5, warm) against {@code ansible-inventory --list}
 *       (best of 3, whole process), and whether both outputs are equal.
 * </ul>
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.gitops.benchmarks.AnsibleBench
 * </pre>
 */
public final class AnsibleBench {

  private static final ObjectMapper JSON = new ObjectMapper();

  private AnsibleBench() {}

  /** Runs A1 and A2 and prints their rows. */
  public static void main(String[] args) throws Exception {
    Path scratch = Files.createTempDirectory("ansible-bench-");
    String a1 = converge(scratch.resolve("a1"), 50);
    String a2 = parser(scratch.resolve("a2"), 5000);
    System.out.println(a1);
    System.out.println(a2);
  }

  // ------------------------------------------------------------------ A1

  private static String site() {
    return """
        - hosts: all
          gather_facts: false
          roles:
            - app
        """;
  }

  private static String inventory(int hosts, int changed, int generation) {
    StringBuilder sb = new StringBuilder("[web]\n");
    for (int i = 0; i < hosts; i++) {
      int port = 8000 + i + (i == changed ? generation : 0);
      sb.append(String.format("h%02d port=%d ansible_connection=local ansible_python_interpreter=/usr/bin/python3%n",
          i, port));
    }
    return sb.append("[web:vars]\napp_role=web\n").toString();
  }

  private static String converge(Path dir, int hosts) throws Exception {
    Path out = Files.createDirectories(dir.resolve("out"));
    try (TempGitRepo repo = TempGitRepo.in(Files.createDirectories(dir.resolve("repo")))) {
      repo.write("ansible/site.yml", site())
          .write("ansible/roles/app/tasks/main.yml", """
              - name: write config
                ansible.builtin.template:
                  src: app.conf.j2
                  dest: "{{ out_dir }}/{{ inventory_hostname }}.conf"
                  mode: "0644"
              - name: state directory
                ansible.builtin.file:
                  path: "{{ out_dir }}/{{ inventory_hostname }}.d"
                  state: directory
                  mode: "0755"
              """)
          .write("ansible/roles/app/templates/app.conf.j2", "port={{ port }}\nrole={{ app_role }}\nrev=0\n")
          .write("ansible/inventory/hosts", inventory(hosts, -1, 0))
          .commit("fleet");
      AnsibleProvider provider = AnsibleProvider.builder()
          .inventory("ansible/inventory").playbook("ansible/site.yml")
          .inventoryOut(dir.resolve("managed/inventory.yml"))
          .extraVars(Map.of("out_dir", out.toString()))
          .forks(10)
          .build();
      Reconciler r = Reconciler.builder()
          .source(GitSource.builder().url(repo.dir().toString()).ref("main").build())
          .provider(provider)
          .store(FileStateStore.open(dir.resolve("state")))
          .options(SyncOptions.builder().execution(ExecutionOptions.defaults().withRetry(RetryPolicy.none())
              .withCallTimeout(Duration.ofMinutes(20)).withSyncTimeout(Duration.ofMinutes(30))).build())
          .build();
      long first = timed(r, hosts);
      List<Long> incremental = new ArrayList<>();
      List<Long> full = new ArrayList<>();
      for (int round = 1; round <= 3; round++) {
        repo.write("ansible/inventory/hosts", inventory(hosts, 7, round)).commit("one host, round " + round);
        incremental.add(timed(r, 1));
        repo.write("ansible/roles/app/templates/app.conf.j2", "port={{ port }}\nrole={{ app_role }}\nrev=" + round
            + "\n").commit("role, round " + round);
        full.add(timed(r, hosts));
      }
      long inc = median(incremental);
      long all = median(full);
      return String.format("A1 | %d hosts, local connection, forks 10 | first converge %d ms | one host's variable"
          + " changed: incremental sync %d ms (runs %s) | role file changed: full sync %d ms (runs %s) | ratio %.3f"
          + " (target <= 0.2)", hosts, first, inc, incremental, all, full, (double) inc / all);
    }
  }

  /** Syncs and returns the wall time in ms, checking that {@code expected} hosts were acted on. */
  private static long timed(Reconciler r, int expected) {
    long t0 = System.nanoTime();
    SyncResult res = r.sync();
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    long acted = res.outcomes().entrySet().stream()
        .filter(e -> e.getKey().type().equals("host") && e.getValue().kind() != dev.gitops.api.Outcome.Kind.UNCHANGED)
        .count();
    if (!res.isSuccessful() || acted != expected) {
      throw new IllegalStateException("sync acted on " + acted + " hosts, expected " + expected + ": " + res.failures());
    }
    return ms;
  }

  private static long median(List<Long> xs) {
    List<Long> s = new ArrayList<>(xs);
    s.sort(Long::compare);
    return s.get(s.size() / 2);
  }

  // ------------------------------------------------------------------ A2

  private static String parser(Path dir, int hosts) throws Exception {
    Path inv = Files.createDirectories(dir.resolve("inventory"));
    Path groupVars = mkdirs(inv, "group_vars");
    StringBuilder ini = new StringBuilder();
    int perGroup = 100;
    for (int g = 0; g < hosts / perGroup; g++) {
      ini.append("[app").append(g).append("]\n");
      ini.append(String.format("app%d-[%04d:%04d].example.com port=%d tier=%s%n", g, g * perGroup,
          g * perGroup + perGroup - 1, 8000 + g, g % 2 == 0 ? "'blue'" : "green"));
      ini.append("[app").append(g).append(":vars]\nowner=team").append(g % 7).append("\nreplicas=")
          .append(g % 5).append('\n');
      if (g % 3 == 0) {
        ini.append("ansible_group_priority=").append(1 + g % 4).append('\n');
      }
      Files.writeString(groupVars.resolve("app" + g + ".yml"), "region: " + (g % 2 == 0 ? "eu" : "us")
          + "\nlimits: {cpu: " + (g % 8 + 1) + ", mem: " + (g * 64) + "}\nenabled: yes\n");
    }
    ini.append("[eu:children]\n");
    for (int g = 0; g < hosts / perGroup; g += 2) {
      ini.append("app").append(g).append('\n');
    }
    ini.append("[us:children]\n");
    for (int g = 1; g < hosts / perGroup; g += 2) {
      ini.append("app").append(g).append('\n');
    }
    ini.append("[all:vars]\nntp=pool.ntp.org\n");
    Files.writeString(inv.resolve("hosts"), ini.toString());
    Files.writeString(inv.resolve("group_vars").resolve("all.yml"), "dns: [1.1.1.1, 8.8.8.8]\nregion: none\n");
    Files.writeString(inv.resolve("group_vars").resolve("eu.yml"), "tz: Europe/Paris\n");
    for (int i = 0; i < hosts; i += 50) {
      int g = i / perGroup;
      Files.writeString(mkdirs(inv, "host_vars").resolve(String.format("app%d-%04d.example.com.yml", g, i)),
          "special: true\nport: " + (9000 + i) + "\n");
    }

    long parseBest = Long.MAX_VALUE;
    Inventory parsed = null;
    for (int i = 0; i < 5; i++) {
      long t0 = System.nanoTime();
      parsed = InventoryParser.parse(inv);
      parseBest = Math.min(parseBest, System.nanoTime() - t0);
    }
    long cliBest = Long.MAX_VALUE;
    JsonNode cli = null;
    for (int i = 0; i < 3; i++) {
      long t0 = System.nanoTime();
      cli = ansibleInventory(inv, dir);
      cliBest = Math.min(cliBest, System.nanoTime() - t0);
    }
    String difference = parsed.differenceFrom(cli, false).orElse(null);
    return String.format("A2 | %d hosts, %d groups, %d group_vars and %d host_vars files | InventoryParser.parse %d ms"
            + " (best of 5) | ansible-inventory --list %d ms (best of 3) | %.1fx faster | outputs %s",
        parsed.hosts().size(), parsed.groups().size(), hosts / perGroup + 2, hosts / 50,
        TimeUnit.NANOSECONDS.toMillis(parseBest), TimeUnit.NANOSECONDS.toMillis(cliBest),
        (double) cliBest / parseBest, difference == null ? "equal" : "DIFFER: " + difference);
  }

  private static Path mkdirs(Path base, String sub) throws IOException {
    return Files.createDirectories(base.resolve(sub));
  }

  private static JsonNode ansibleInventory(Path inv, Path work) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder("ansible-inventory", "-i", inv.toString(), "--list")
        .directory(work.toFile()).redirectError(work.resolve("ansible-inventory.err").toFile());
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    if (p.waitFor() != 0) {
      throw new IllegalStateException("ansible-inventory failed: "
          + Files.readString(work.resolve("ansible-inventory.err"), StandardCharsets.UTF_8));
    }
    return JSON.readTree(out);
  }

}
