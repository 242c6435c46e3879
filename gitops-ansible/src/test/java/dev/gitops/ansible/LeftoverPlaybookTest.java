package dev.gitops.ansible;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Change;
import dev.gitops.api.Outcome;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.SourceFile;
import dev.gitops.testkit.ProviderConformanceSuite;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A process that runs a sync dies (kill -9) while its ansible-playbook runs: the playbook, re-
 * parented to init, goes on. The next run on the same inventory must not start a second
 * ansible-playbook beside it. The dying process is a second JVM running {@link #main}.
 */
class LeftoverPlaybookTest {

  private static final String PLAY = """
      - hosts: all
        gather_facts: false
        tasks:
          - ansible.builtin.shell: echo "start {{ tag }}" >> "{{ out_dir }}/marks"
          - ansible.builtin.command: sleep {{ pause }}
          - ansible.builtin.shell: echo "end {{ tag }}" >> "{{ out_dir }}/marks"
      """;

  @TempDir Path tmp;
  private final List<ProcessHandle> started = new ArrayList<>();

  @AfterEach
  void stopWhatThisTestStarted() {
    for (ProcessHandle p : started) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
  }

  /** Runs the playbook on h1 with {@code tag} and {@code pause}: args dir, tag, pause seconds. */
  public static void main(String[] args) {
    Map<ResourceKey, Outcome> out = apply(Path.of(args[0]), args[1], Integer.parseInt(args[2]), Duration.ofMinutes(2));
    System.out.println("OUTCOMES " + out);
  }

  private static Map<ResourceKey, Outcome> apply(Path dir, String tag, int pause, Duration timeout) {
    AnsibleProvider p = provider(dir, tag, pause);
    List<SourceFile> files = List.of(
        TinyRepo.file("ansible/inventory/hosts", "[web]\nh1 " + AnsibleFixture.LOCAL + "\n"),
        TinyRepo.file("ansible/site.yml", PLAY));
    List<Change> creates = p.ansibleDecoder().decodeTogether(files).stream()
        .filter(r -> r.key().type().equals("host")).map(ProviderConformanceSuite::createOf).toList();
    return p.applyAll(creates, CallContext.of("t", TinyRepo.REVISION, timeout));
  }

  private static AnsibleProvider provider(Path dir, String tag, int pause) {
    return AnsibleProvider.builder()
        .inventory("ansible/inventory")
        .playbook("ansible/site.yml")
        .inventoryOut(dir.resolve("managed/inventory.yml"))
        .extraVars(Map.of("out_dir", dir.toString(), "tag", tag, "pause", pause))
        // the killed playbook's sleeping module keeps its ansible-tmp-* directory: under dir, not in ~/.ansible/tmp
        .environment(Map.of("ANSIBLE_REMOTE_TEMP", ansibleTmp(dir).toString()))
        .build();
  }

  /** Ansible's temporary directory under {@code dir} (created if missing). */
  private static Path ansibleTmp(Path dir) {
    try {
      return Files.createDirectories(dir.resolve("ansible-tmp"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts {@link #main} in another JVM, waits for its playbook to start, kills the JVM; returns the playbook. */
  private ProcessHandle orphanedPlaybook(String tag, int pause) throws Exception {
    Process jvm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), LeftoverPlaybookTest.class.getName(),
        tmp.toString(), tag, Integer.toString(pause))
        .redirectErrorStream(true).redirectOutput(tmp.resolve("jvm-" + tag + ".log").toFile()).start();
    started.add(jvm.toHandle());
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!marks().contains("start " + tag)) {
      assertThat(System.nanoTime()).as("the other JVM's playbook starts: %s",
          Files.readString(tmp.resolve("jvm-" + tag + ".log"))).isLessThan(until);
      Thread.sleep(50);
    }
    ProcessHandle playbook = jvm.toHandle().children()
        .filter(c -> c.info().commandLine().orElse("").contains("ansible-playbook")).findFirst().orElseThrow();
    started.add(playbook);
    jvm.destroyForcibly();  // SIGKILL: no chance to stop its playbook
    jvm.waitFor();
    assertThat(playbook.isAlive()).as("the playbook outlives the killed JVM").isTrue();
    return playbook;
  }

  private List<String> marks() throws Exception {
    Path f = tmp.resolve("marks");
    return Files.exists(f) ? Files.readAllLines(f) : List.of();
  }

  private Path workDir() {
    return tmp.resolve("managed/.inventory.yml.work");
  }

  @Test
  void theNextRunWaitsForAPlaybookLeftRunningByAKilledProcessThenCleansWhatItLeft() throws Exception {
    ProcessHandle orphan = orphanedPlaybook("A", 5);
    Map<ResourceKey, Outcome> out = apply(tmp, "B", 0, Duration.ofMinutes(2));
    assertThat(out.get(ResourceKey.of("ansible", "host", "", "h1")).kind()).isEqualTo(Outcome.Kind.CREATED);
    assertThat(orphan.isAlive()).isFalse();
    assertThat(marks()).as("one after the other, never side by side").containsExactly("start A", "end A", "start B", "end B");
    assertThat(workDir().resolve("ansible-playbook.pid")).as("removed when the run ended").doesNotExist();
    try (var runs = Files.list(workDir().resolve("runs"))) {
      assertThat(runs.toList()).as("the killed process's run directory is removed too").isEmpty();
    }
    try (var files = Files.walk(workDir())) {
      assertThat(files.filter(f -> f.getFileName().toString().startsWith(".gitops-run-")).toList())
          .as("and the run playbook it left beside its playbook").isEmpty();
    }
  }

  @Test
  void aHostWhoseRunWasKilledWithItsProcessIsRecordedAsNotConvergedSoTheNextSyncRunsItAgain() throws Exception {
    ProcessHandle orphan = orphanedPlaybook("A", 60);
    orphan.descendants().forEach(ProcessHandle::destroyForcibly);
    orphan.destroyForcibly();
    orphan.onExit().get(10, TimeUnit.SECONDS);
    // the killed process recorded nothing after its run: what it wrote before is what is left
    var seen = provider(tmp, "B", 0).observe(List.of(ResourceKey.of("ansible", "host", "", "h1")),
        CallContext.of("t", TinyRepo.REVISION, Duration.ofMinutes(1))).get(ResourceKey.of("ansible", "host", "", "h1"));
    assertThat(seen.isPresent()).as("%s", seen).isTrue();
    assertThat(seen.live().path("converged").asBoolean(true)).as("%s", seen.live()).isFalse();
    assertThat(seen.live().path("reason").asText()).contains("ansible-playbook started on h1")
        .contains("did not report back");
  }

  @Test
  void aLeftoverStillRunningAtTheDeadlineRefusesTheRunNamingItsPidAndAStaleRecordIsCleaned() throws Exception {
    ProcessHandle orphan = orphanedPlaybook("A", 60);
    Map<ResourceKey, Outcome> out = apply(tmp, "B", 0, Duration.ofSeconds(3));
    Outcome o = out.get(ResourceKey.of("ansible", "host", "", "h1"));
    assertThat(o.isOk()).isFalse();
    assertThat(o.message()).contains("an ansible-playbook left by an earlier process (pid " + orphan.pid()
        + ") is still running on this inventory").contains("kill " + orphan.pid());
    assertThat(marks()).containsExactly("start A");

    // someone stops it: its record is stale, and the next run goes ahead
    orphan.descendants().forEach(ProcessHandle::destroyForcibly);
    orphan.destroyForcibly();
    orphan.onExit().get(10, TimeUnit.SECONDS);
    assertThat(workDir().resolve("ansible-playbook.pid")).exists();
    out = apply(tmp, "B", 0, Duration.ofMinutes(2));
    assertThat(out.get(ResourceKey.of("ansible", "host", "", "h1")).kind()).isEqualTo(Outcome.Kind.CREATED);
    assertThat(marks()).containsExactly("start A", "start B", "end B");
    assertThat(workDir().resolve("ansible-playbook.pid")).doesNotExist();
  }
}
