package dev.gitops.cluster.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.cluster.Await;
import dev.gitops.cluster.Coordinator;
import dev.gitops.cluster.Ownership;
import dev.gitops.cluster.Rendezvous;
import dev.gitops.testkit.TempGitRepo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Member JVMs ({@link ScenarioMember}) sharing one configuration's targets, the Git repository
 * they reconcile, the live directories they write, and the scenarios played on them: every member
 * killed, paused, resumed or stopped here, with the test's own measurements logged. Every wait has
 * a deadline; {@link #close()} resumes and kills whatever still runs.
 */
final class ScenarioCluster implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ScenarioCluster.class);
  /** Starting the JVMs and their first clones: 25 to 45 s on a 2-core machine at load 15 to 26, once more (Kubernetes) than 60 s. */
  static final Duration START_WITHIN = Duration.ofSeconds(120);
  /**
   * Every target's {@code syncTimeout}: how long one sync may take before it fails (and is retried
   * after {@code maxBackoff}). A target a member takes over starts at once, so its first sync ends
   * within this of the take: what bounds "synced" after a handover, apart from the lease's TTL,
   * which bounds "owned".
   */
  static final Duration SYNC_TIMEOUT = Duration.ofSeconds(20);

  final Path dir;
  final List<String> targets;
  final Duration ttl;
  private final String backend;
  private final List<String> backendArgs;
  private final Coordinator reader;
  private final TempGitRepo repo;
  private final Path writeLogFile;
  private final WriteLog testLog;
  private final Map<String, Process> running = new LinkedHashMap<>();
  private final List<Process> started = new ArrayList<>();
  private final Set<String> names = new TreeSet<>();
  private int generation;

  /**
   * Targets {@code t0..t<count-1>} in {@code dir}, members of {@code backend} ({@code etcd} or
   * {@code k8s}) started with {@code backendArgs}, ownership read through {@code reader} (not joined).
   */
  ScenarioCluster(Path dir, int count, Duration ttl, String backend, List<String> backendArgs, Coordinator reader) {
    this.dir = dir;
    this.targets = IntStream.range(0, count).mapToObj(i -> "t" + i).toList();
    this.ttl = ttl;
    this.backend = backend;
    this.backendArgs = List.copyOf(backendArgs);
    this.reader = reader;
    this.repo = TempGitRepo.in(dir.resolve("repo"));
    this.writeLogFile = dir.resolve("writes.log");
    this.testLog = new WriteLog(writeLogFile);
    commit();
  }

  // --- processes ---

  /**
   * A JVM running {@code mainClass} on this JVM's test class path, its output appended to {@code
   * log}, its temporary directory {@code tmp} beside {@code log}: a JVM killed with -9 runs no
   * shutdown hook, so what it put there (Vert.x's file cache, which fabric8's mock API server
   * creates) is never deleted, and must be under the test's directory rather than in /tmp.
   */
  static Process java(Path log, Class<?> mainClass, List<String> args) throws IOException {
    Path tmp = Files.createDirectories(log.resolveSibling("tmp"));
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.io.tmpdir=" + tmp,
        "-cp", System.getProperty("java.class.path"), mainClass.getName()));
    cmd.addAll(args);
    // standard input stays an open pipe: the child exits when it closes (when this JVM dies)
    return new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
  }

  /** Starts member {@code member} (again, after a kill or a stop). */
  void start(String member) throws IOException {
    Path config = dir.resolve("agent-" + member + ".yaml");
    Files.writeString(config, config(member));
    List<String> args = new ArrayList<>(List.of("--backend", backend, "--member", member, "--config", config.toString(),
        "--ttl", Long.toString(ttl.toSeconds()), "--log", writeLogFile.toString()));
    args.addAll(backendArgs);
    Process p = java(dir.resolve(member + ".log"), ScenarioMember.class, args);
    started.add(p);
    names.add(member);
    running.put(member, p);
  }

  /** The same targets for every member; its own state directory (Git caches, status files). */
  private String config(String member) {
    StringBuilder yaml = new StringBuilder("agent:\n  stateDir: \"%s\"\n  gracePeriod: 5s\n  watchConfig: false\ntargets:\n"
        .formatted(dir.resolve("state-" + member)));
    for (String t : targets) {
      yaml.append("""
            - name: %s
              source: {url: "%s", path: %s}
              provider: {type: files, directory: "%s"}
              interval: 3s
              maxBackoff: 2s
              syncTimeout: %ds
          """.formatted(t, repo.uri(), t, live(t), SYNC_TIMEOUT.toSeconds()));
    }
    return yaml.toString();
  }

  long pid(String member) {
    return running.get(member).pid();
  }

  /** {@code kill -9}; returns once the process is gone, and records it. */
  void kill(String member) throws InterruptedException {
    Process p = running.remove(member);
    p.destroyForcibly();
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).as("%s gone 10 s after kill -9", member).isTrue();
    testLog.append("X", "killed", member, WriteLog.micros(), p.pid());
  }

  /** {@code kill -STOP}, recorded first: nothing the process appends afterwards is from before. */
  void pause(String member) throws IOException, InterruptedException {
    testLog.append("X", "stopped", member, WriteLog.micros(), pid(member));
    signal(running.get(member), "STOP");
  }

  /** {@code kill -CONT}, recorded first; returns the time recorded. */
  long resume(String member) throws IOException, InterruptedException {
    long at = WriteLog.micros();
    testLog.append("X", "continued", member, at, pid(member));
    signal(running.get(member), "CONT");
    return at;
  }

  /** SIGTERM, a graceful stop (the member's shutdown hook closes its agent); see {@link #awaitExit}. */
  void terminate(String member) {
    running.get(member).destroy();
  }

  /** Waits for a terminated member to exit, and records it. */
  void awaitExit(String member) throws InterruptedException {
    Process p = running.remove(member);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("%s exited within 30 s of SIGTERM", member).isTrue();
    testLog.append("X", "exited", member, WriteLog.micros(), p.pid());
  }

  private static void signal(Process p, String signal) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).redirectErrorStream(true).start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0).as("kill -%s %s", signal, p.pid()).isTrue();
  }

  // --- Git and the live system ---

  Path live(String target) {
    return dir.resolve("live").resolve(target);
  }

  /** A new commit that changes every target's file: each owner has a write to make. */
  void commit() {
    generation++;
    for (String t : targets) {
      repo.write(t + "/hello.txt", t + " at generation " + generation + "\n");
    }
    repo.commit("generation " + generation);
  }

  /** Whether every target's live file is the one of the last commit. */
  boolean inSync() {
    return inSync(targets);
  }

  /** Whether the live files of {@code some} targets are the ones of the last commit. */
  boolean inSync(Collection<String> some) {
    for (String t : some) {
      Path f = live(t).resolve("hello.txt");
      try {
        if (!Files.isRegularFile(f) || !Files.readString(f).equals(t + " at generation " + generation + "\n")) {
          return false;
        }
      } catch (IOException e) {
        return false;  // being replaced right now
      }
    }
    return true;
  }

  // --- ownership ---

  Map<String, Ownership> owners() {
    return reader.owners();
  }

  /** Whether every target is owned, by its rendezvous assignee among {@code members}. */
  boolean placedOn(Collection<String> members) {
    Map<String, Ownership> now = owners();
    Map<String, String> want = Rendezvous.assign(targets, members);
    return now.size() == targets.size() && targets.stream().allMatch(t -> want.get(t).equals(now.get(t).member()));
  }

  /** The targets {@code member} owns in {@code owners}. */
  static Set<String> of(String member, Map<String, Ownership> owners) {
    return owners.values().stream().filter(o -> o.member().equals(member)).map(Ownership::target)
        .collect(Collectors.toCollection(TreeSet::new));
  }

  /** Waits for {@code condition}; the time it took. */
  static Duration await(String what, BooleanSupplier condition, Duration within) throws InterruptedException {
    long start = System.nanoTime();
    Await.until(what, condition, within);
    return Duration.ofNanos(System.nanoTime() - start);
  }

  WriteHistory history() throws IOException {
    return WriteHistory.read(writeLogFile);
  }

  /** The last lines each member logged, for a failure's report. */
  void logTails() {
    for (String m : names) {
      Path f = dir.resolve(m + ".log");
      try {
        if (Files.exists(f)) {
          List<String> all = Files.readAllLines(f);
          LOG.error("the last lines of {}'s log:\n{}", m, String.join("\n", all.subList(Math.max(0, all.size() - 60),
              all.size())));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  @Override
  public void close() {
    for (Process p : started) {
      if (p.isAlive()) {
        try {
          signal(p, "CONT");  // a paused member is resumed before it is killed
        } catch (IOException | InterruptedException | AssertionError e) {
          LOG.warn("kill -CONT {} failed: {}", p.pid(), e.toString());
        }
        p.destroyForcibly();
      }
    }
    for (Process p : started) {
      try {
        p.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    reader.close();
    testLog.close();
    repo.close();
  }
}
