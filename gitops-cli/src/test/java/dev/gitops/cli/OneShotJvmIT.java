package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A one-shot command through the real jar runs in a child JVM: its exit code, stdout and stderr are
 * the command's, the opt-out runs it in the JVM started, the child does not start another, and a
 * signal to the JVM started ends both with that signal's exit code. The JVMs are counted by the line each prints on stderr for
 * {@code JAVA_TOOL_OPTIONS} ("Picked up ..."), which the child inherits with the environment.
 */
class OneShotJvmIT {

  private static final String MARK = "-Dgitops.test.jvm=counted";
  private static final String PICKED_UP = "Picked up JAVA_TOOL_OPTIONS: " + MARK;

  @TempDir
  Path tmp;

  private FixtureRepo repo;
  private Path target;

  @BeforeEach
  void fixture() throws Exception {
    repo = FixtureRepo.init(tmp.resolve("repo"));
    repo.write("app.properties", "name=shop\n").write("db.properties", "url=jdbc:x\n").commit("initial");
    target = tmp.resolve("target");
  }

  @AfterEach
  void close() {
    repo.close();
  }

  private static long jvms(GitopsJar.Result r) {
    return r.err().lines().filter(l -> l.equals(PICKED_UP)).count();
  }

  private GitopsJar.Result gitops(Map<String, String> env, String... args) throws Exception {
    Map<String, String> all = new java.util.HashMap<>(env);
    all.put("JAVA_TOOL_OPTIONS", MARK);
    return GitopsJar.launch(tmp, all, args);
  }

  private String[] sync(String... more) {
    List<String> a = new ArrayList<>(List.of("sync", "--repo", repo.dir().toString(), "--ref", "main", "--target",
        target.toString()));
    a.addAll(List.of(more));
    return a.toArray(String[]::new);
  }

  @Test
  void exitCodesStdoutAndStderrAreTheChildsAndTheChildStartsNoOther() throws Exception {
    // 2: changes pending, on stdout
    GitopsJar.Result dryRun = gitops(Map.of(), sync("--dry-run"));
    assertThat(dryRun.code()).as(dryRun.toString()).isEqualTo(ExitCodes.PENDING);
    assertThat(dryRun.out()).contains("Dry run: nothing was applied; 2 to create");
    assertThat(jvms(dryRun)).as(dryRun.toString()).isEqualTo(2);
    // 0: synced
    GitopsJar.Result synced = gitops(Map.of(), sync());
    assertThat(synced.code()).as(synced.toString()).isZero();
    assertThat(synced.out()).contains("Synced main@");
    assertThat(Files.readString(target.resolve("app.properties"))).isEqualTo("name=shop\n");
    assertThat(jvms(synced)).isEqualTo(2);
    // 1: a usage error, one line on stderr
    GitopsJar.Result usage = gitops(Map.of(), sync("--no-such-flag"));
    assertThat(usage.code()).isEqualTo(ExitCodes.ERROR);
    assertThat(usage.errLines()).contains("gitops: Unknown option: '--no-such-flag' (see 'gitops sync --help')");
    assertThat(jvms(usage)).isEqualTo(2);
    // 3: refused by a safety guard (everything gitops owns would be deleted)
    repo.remove("app.properties").remove("db.properties").commit("empty");
    GitopsJar.Result refused = gitops(Map.of(), sync());
    assertThat(refused.code()).as(refused.toString()).isEqualTo(ExitCodes.REFUSED);
    assertThat(refused.errLines()).anyMatch(l -> l.startsWith("gitops: refused by "));
  }

  private List<Path> archives(Path cache) throws java.io.IOException {
    Path dir = cache.resolve("gitops").resolve("jvm");
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (java.util.stream.Stream<Path> s = Files.list(dir)) {
      return s.sorted().toList();
    }
  }

  @Test
  void theFirstChildMakesTheClassDataArchiveTheNextMapAndTheOutputIsTheCommandsAlone() throws Exception {
    Path cache = tmp.resolve("cache");
    GitopsJar.Result first = gitops(Map.of("XDG_CACHE_HOME", cache.toString()), sync("--dry-run"));
    assertThat(first.code()).as(first.toString()).isEqualTo(ExitCodes.PENDING);
    List<Path> made = archives(cache);
    assertThat(made).as("one archive, no temp file left").singleElement()
        .satisfies(a -> assertThat(a.getFileName().toString()).endsWith("-" + Files.size(a) + ".jsa"));
    java.nio.file.attribute.FileTime madeAt = Files.getLastModifiedTime(made.get(0));

    GitopsJar.Result next = gitops(Map.of("XDG_CACHE_HOME", cache.toString()), sync("--dry-run"));

    assertThat(next.code()).isEqualTo(ExitCodes.PENDING);
    assertThat(next.out()).as("the JVM's CDS messages stay off").isEqualTo(first.out());
    assertThat(next.err()).isEqualTo(first.err());
    assertThat(archives(cache)).isEqualTo(made);
    assertThat(Files.getLastModifiedTime(made.get(0))).as("mapped, not made again").isEqualTo(madeAt);
    GitopsJar.Result off = gitops(Map.of("XDG_CACHE_HOME", tmp.resolve("off").toString(), "GITOPS_JVM_CDS", "false"),
        sync("--dry-run"));
    assertThat(off.out()).isEqualTo(first.out());
    assertThat(tmp.resolve("off")).doesNotExist();
  }

  /**
   * The archive the first command makes holds the classes of the demo its child runs unseen after
   * the command ({@link ClassDataTraining}): after a first sync made it, a sync of a changed file and
   * a no-change sync load (nearly) no class from the jar, where an archive made without the demo
   * (under {@code --verbose}) left dozens of them to the jar, parsed and verified at every run. The
   * first sync's output is its own, and the demo's directory is removed.
   */
  @Test
  void theArchiveOfAFirstSyncHoldsTheClassesOfASyncOfAChangeAndOfANoChangeSync() throws Exception {
    Map<String, Path> archive = new java.util.LinkedHashMap<>();
    for (String mode : List.of("trained", "untrained")) {
      Path cache = tmp.resolve("cache-" + mode);
      target = tmp.resolve("target-" + mode);
      GitopsJar.Result first = GitopsJar.launch(tmp, Map.of("XDG_CACHE_HOME", cache.toString()),
          mode.equals("trained") ? sync() : sync("--verbose"));
      assertThat(first.code()).as(first.toString()).isZero();
      assertThat(archives(cache)).as(mode + ": the archive alone, the demo's directory removed").singleElement();
      archive.put(mode, archives(cache).get(0));
      if (mode.equals("trained")) {
        assertThat(first.out()).as("the command's output alone").startsWith("Read main@")
            .doesNotContain("Demo", "== Step");
      }
    }
    repo.write("app.properties", "name=shop\nport=1\n").commit("one file");
    Map<String, List<String>> fromJar = new java.util.LinkedHashMap<>();
    for (String run : List.of("one file", "no change")) {
      for (String mode : archive.keySet()) {
        target = tmp.resolve("target-" + mode);
        fromJar.put(mode + ", " + run, classesFromTheJar(archive.get(mode), sync()));
      }
    }
    assertThat(fromJar.get("trained, one file")).as("a sync of a changed file").hasSizeLessThan(5);
    assertThat(fromJar.get("trained, no change")).as("a no-change sync").hasSizeLessThan(5);
    assertThat(fromJar.get("untrained, one file")).as("the same without the demo").hasSizeGreaterThan(20);
  }

  /**
   * The classes the child of {@code args} reads from the jar rather than {@code archive}, run as the
   * launcher starts it with the archive required ({@code -Xshare:on}: one that does not map fails).
   */
  private List<String> classesFromTheJar(Path archive, String... args) throws Exception {
    Path log = Files.createTempFile(tmp, "class-load-", ".log");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    cmd.addAll(OneShotJvm.FLAGS);
    cmd.addAll(List.of("-D" + OneShotJvm.PROPERTY + "=" + OneShotJvm.CHILD, "-XX:SharedArchiveFile=" + archive,
        "-Xshare:on", ChildClassData.QUIET, "-Xlog:class+load=info:file=" + log, "-cp",
        GitopsJar.allJar().toRealPath().toString(), Main.class.getName()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true)
        .redirectOutput(tmp.resolve("child.out").toFile()).start();
    assertThat(p.waitFor(GitopsJar.TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(Files.readString(tmp.resolve("child.out"))).isZero();
    try (Stream<String> lines = Files.lines(log)) {
      return lines.filter(l -> l.contains("source: jar:") || l.contains("source: file:")).toList();
    }
  }

  @Test
  void theOptOutTheAgentAndTheVersionRunInTheJvmStarted() throws Exception {
    GitopsJar.Result byEnv = gitops(Map.of("GITOPS_JVM_REEXEC", "false"), sync("--dry-run"));
    assertThat(byEnv.code()).as(byEnv.toString()).isEqualTo(ExitCodes.PENDING);
    assertThat(jvms(byEnv)).isEqualTo(1);
    GitopsJar.Result version = gitops(Map.of(), "--version");
    assertThat(version.code()).isZero();
    assertThat(jvms(version)).isEqualTo(1);
  }

  @Test
  void theOptOutPropertyIsLoggedAtDebugLevelWhyTheCommandStaysHere() throws Exception {
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dgitops.cli.reexec=false", "-Dorg.slf4j.simpleLogger.defaultLogLevel=debug", "-jar",
        GitopsJar.jar().toString(), "sync", "--repo", repo.dir().toString(), "--target", target.toString(), "--dry-run");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("JAVA_TOOL_OPTIONS", MARK);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(GitopsJar.TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isEqualTo(ExitCodes.PENDING);
    assertThat(out).contains("running the command in this JVM, not a child JVM: -Dgitops.cli.reexec=false");
    assertThat(out.lines().filter(l -> l.equals(PICKED_UP)).count()).isEqualTo(1);
  }

  /**
   * A signal to the JVM started (or, as Ctrl-C in a terminal, to both JVMs) ends the child and both
   * exit with the code that signal gives one JVM, whichever JVM it reached first.
   */
  @ParameterizedTest(name = "SIG{0} to {2}: exit {1}")
  @CsvSource({"TERM, 143, the JVM started", "INT, 130, the JVM started", "HUP, 129, the JVM started",
      "INT, 130, both JVMs", "TERM, 143, both JVMs"})
  void aSignalEndsTheChildAndBothExitWithThatSignalsCode(String signal, int code, String to) throws Exception {
    // a Git server that accepts the connection and never answers: the child's sync waits in its fetch
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      server.setSoTimeout((int) TimeUnit.SECONDS.toMillis(GitopsJar.TIMEOUT_SECONDS));
      List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
          GitopsJar.jar().toString(), "sync", "--repo", "http://127.0.0.1:" + server.getLocalPort() + "/config.git",
          "--target", target.toString());
      Path log = tmp.resolve("out.txt");
      Path stdin = Files.writeString(tmp.resolve("in.txt"), "");
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
          .redirectInput(stdin.toFile());
      pb.environment().put("XDG_CACHE_HOME", GitopsJar.cacheHome().toString());
      Process parent = pb.start();
      try (Socket fetch = server.accept()) {
        // the sync is running: in a child JVM of the one started
        List<ProcessHandle> children = parent.toHandle().children().filter(c -> c.info().command()
            .map(x -> x.endsWith("java")).orElse(false)).toList();
        assertThat(children).as(Files.readString(log)).hasSize(1);
        ProcessHandle child = children.get(0);
        assertThat(child.info().arguments().orElseThrow()).contains("-Dgitops.cli.reexec=child")
            .contains(GitopsJar.allJar().toRealPath().toString());
        // the JVM started ran the launcher jar alone: its class loader keeps open what it opened
        Path parentFds = Path.of("/proc", String.valueOf(parent.pid()), "fd");
        if (Files.isDirectory(parentFds)) {
          assertThat(openFiles(parentFds)).contains(GitopsJar.jar().toRealPath())
              .doesNotContain(GitopsJar.allJar().toRealPath());
        }
        // no command reads stdin today; the child has the parent's, as it has its stdout and stderr
        Path fds = Path.of("/proc", String.valueOf(child.pid()), "fd");
        if (Files.isDirectory(fds)) {
          assertThat(Files.readSymbolicLink(fds.resolve("0"))).isEqualTo(stdin.toRealPath());
          assertThat(Files.readSymbolicLink(fds.resolve("1"))).isEqualTo(log.toRealPath());
          assertThat(Files.readSymbolicLink(fds.resolve("2"))).isEqualTo(log.toRealPath());
        }
        assumeFalse(ignores(parent.pid(), signal) || ignores(child.pid(), signal),
            "SIG" + signal + " is ignored by the processes this JVM starts (inherited): it cannot end them");
        kill(signal, parent.pid());
        if (to.equals("both JVMs")) {
          kill(signal, child.pid());
        }
        assertThat(parent.waitFor(60, TimeUnit.SECONDS)).as("the JVM started exits").isTrue();
        assertThat(parent.exitValue()).as(Files.readString(log)).isEqualTo(code);
        assertThat(child.onExit().get(60, TimeUnit.SECONDS).isAlive()).isFalse();
        assertThat(parent.toHandle().descendants().count()).isZero();
      } finally {
        parent.destroyForcibly();
      }
    }
  }

  /** The files the links in {@code fds} (a process's {@code /proc/<pid>/fd}) point to. */
  private static List<Path> openFiles(Path fds) throws java.io.IOException {
    List<Path> open = new ArrayList<>();
    try (Stream<Path> links = Files.list(fds)) {
      for (Path fd : links.toList()) {
        try {
          open.add(Files.readSymbolicLink(fd));
        } catch (java.io.IOException e) {
          // closed since it was listed
        }
      }
    }
    return open;
  }

  private static void kill(String signal, long pid) throws Exception {
    Process kill = new ProcessBuilder("kill", "-s", signal, Long.toString(pid)).inheritIO().start();
    assertThat(kill.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).as("kill -s %s %d", signal, pid).isZero();
  }

  /** Whether process {@code pid} ignores {@code signal} (its {@code SigIgn} mask; false where /proc is not). */
  private static boolean ignores(long pid, String signal) throws Exception {
    Path status = Path.of("/proc", Long.toString(pid), "status");
    if (!Files.isReadable(status)) {
      return false;
    }
    int number = switch (signal) {
      case "HUP" -> 1;
      case "INT" -> 2;
      case "TERM" -> 15;
      default -> throw new IllegalArgumentException(signal);
    };
    for (String line : Files.readAllLines(status)) {
      if (line.startsWith("SigIgn:")) {
        long mask = Long.parseUnsignedLong(line.substring("SigIgn:".length()).trim(), 16);
        return (mask & (1L << (number - 1))) != 0;
      }
    }
    return false;
  }
}
