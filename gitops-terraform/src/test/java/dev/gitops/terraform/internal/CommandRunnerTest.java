package dev.gitops.terraform.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A command cut off by its deadline or a cancellation is interrupted first, as Ctrl-C would, so
 * that Terraform can write its state; only one that does not stop within its grace is killed, with
 * every process it started.
 */
class CommandRunnerTest {

  @TempDir
  Path dir;

  private CommandRunner.Result run(String script, Duration timeout, Duration grace) throws Exception {
    Path sh = dir.resolve("cmd.sh");
    Files.writeString(sh, script);
    return new CommandRunner().run(new CommandRunner.Command(List.of("bash", sh.toString()), dir, Map.of(), timeout,
        () -> false, null, grace, dir));
  }

  @Test
  void aCommandCutOffIsInterruptedAndMayFinishItsWork() throws Exception {
    long start = System.nanoTime();
    CommandRunner.Result r = run("""
        trap 'echo "state written" > state; exit 130' TERM
        sleep 30 & wait
        """, Duration.ofMillis(300), Duration.ofSeconds(20));
    assertThat(r.timedOut()).isTrue();
    assertThat(Files.readString(dir.resolve("state"))).as("the interrupt handler ran").isEqualTo("state written\n");
    assertThat(r.exitCode()).isEqualTo(130);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).as("it stopped when it was done, not after the grace")
        .isLessThan(Duration.ofSeconds(15));
  }

  @Test
  void aCommandThatIgnoresTheInterruptIsKilledAfterItsGraceWithWhatItStarted() throws Exception {
    CommandRunner.Result r = run("""
        trap '' TERM
        sleep 30 &
        echo $! > child
        wait
        echo "never" > finished
        """, Duration.ofMillis(300), Duration.ofMillis(500));
    assertThat(r.timedOut()).isTrue();
    assertThat(dir.resolve("finished")).doesNotExist();
    long child = Long.parseLong(Files.readString(dir.resolve("child")).strip());
    ProcessHandle.of(child).ifPresent(h -> {
      h.onExit().orTimeout(5, TimeUnit.SECONDS).join();
      assertThat(h.isAlive()).as("the process it started is killed too").isFalse();
    });
  }

  @Test
  void theEndOfALongStandardErrorIsKeptWhereTerraformPrintsItsError() throws Exception {
    // TF_LOG=DEBUG in the environment: megabytes of log before the error; only the first 256 KB were kept
    CommandRunner.Result r = run("""
        echo "first log line" >&2
        for i in $(seq 1 20000); do echo "2026-12-08T00:00:00.000Z [DEBUG] provider: plugin process line $i" >&2; done
        printf 'Error: Failed to query available provider packages\n\nthe real cause\n' >&2
        exit 1
        """, Duration.ofSeconds(60), Duration.ofSeconds(1));
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.stderr()).startsWith("first log line\n").contains(" bytes of standard error left out) ...\n")
        .endsWith("Error: Failed to query available provider packages\n\nthe real cause\n")
        .doesNotContain("plugin process line 10000\n");
    assertThat(r.stderr().length()).isLessThanOrEqualTo(CommandRunner.STDERR_LIMIT + 100);
    assertThat(r.stderr().lines().filter(l -> l.startsWith("2026")))
        .allSatisfy(l -> assertThat(l).matches("2026-12-08T00:00:00.000Z \\[DEBUG\\] provider: plugin process line \\d+"));
  }

  @Test
  void outputIsReadFromFilesThatAreRemovedWhenTheCommandEndsAndStaleOnesAfterADay() throws Exception {
    List<String> lines = new java.util.ArrayList<>();
    Path sh = dir.resolve("cmd.sh");
    Files.writeString(sh, "echo one; echo two >&2; printf 'three'\n");
    CommandRunner.Result r = new CommandRunner().run(new CommandRunner.Command(List.of("bash", sh.toString()), dir,
        Map.of(), Duration.ofSeconds(30), () -> false, lines::add, Duration.ofSeconds(1), dir));
    assertThat(lines).containsExactly("one", "three");
    assertThat(r.stderr()).isEqualTo("two\n");
    assertThat(r.exitCode()).isZero();
    try (java.util.stream.Stream<Path> left = Files.list(dir)) {
      assertThat(left.map(p -> p.getFileName().toString())).containsExactly("cmd.sh");
    }
    Path old = Files.writeString(dir.resolve("command-1.out"), "from a JVM that ended");
    Path recent = Files.writeString(dir.resolve("command-2.err"), "perhaps still running");
    Files.setLastModifiedTime(old, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis()
        - Duration.ofDays(2).toMillis()));
    CommandRunner.removeStale(dir, Duration.ofDays(1));
    assertThat(old).doesNotExist();
    assertThat(recent).exists();
  }

  /**
   * The JVM may end while Terraform runs (a one-shot command past an abandoned call, a kill -9):
   * writing to a pipe nobody reads, a Go program dies of SIGPIPE, which in the middle of writing
   * its local state leaves it empty. Its output goes to files, so it finishes on its own.
   */
  @Test
  void aCommandOutlivesTheJvmThatStartedItWithoutABrokenPipe() throws Exception {
    Path sh = dir.resolve("outlive.sh");
    // the child JVM starts this and dies at once; it writes after that, then records that it could
    Files.writeString(sh, "echo > started; sleep 1; for i in $(seq 1 200); do echo line $i; done; echo > finished\n");
    Path main = dir.resolve("Starter.java");
    Files.writeString(main, """
        import dev.gitops.terraform.internal.CommandRunner;
        import java.nio.file.Path;
        import java.time.Duration;
        import java.util.List;
        import java.util.Map;
        public class Starter {
          public static void main(String[] a) {
            Path dir = Path.of(a[0]);
            new Thread(() -> new CommandRunner().run(new CommandRunner.Command(List.of("bash", a[1]), dir, Map.of(),
                Duration.ofMinutes(1), () -> false, line -> { }, Duration.ofSeconds(1), dir))).start();
            long end = System.nanoTime() + 30_000_000_000L;
            while (!java.nio.file.Files.exists(dir.resolve("started")) && System.nanoTime() < end) {
              try { Thread.sleep(20); } catch (InterruptedException e) { }
            }
            Runtime.getRuntime().halt(9);
          }
        }
        """);
    Process jvm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
        System.getProperty("java.class.path"), main.toString(), dir.toString(), sh.toString())
        .redirectErrorStream(true).start();
    assertThat(jvm.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(jvm.exitValue()).as(new String(jvm.getInputStream().readAllBytes())).isEqualTo(9);
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!Files.exists(dir.resolve("finished")) && System.nanoTime() < end) {
      Thread.sleep(100);
    }
    assertThat(dir.resolve("finished")).as("the command finished after its JVM died").exists();
  }

  @Test
  void aCancelledCommandIsInterruptedToo() throws Exception {
    Path sh = dir.resolve("cmd.sh");
    Files.writeString(sh, "trap 'echo interrupted > state; exit 130' TERM\nsleep 30 & wait\n");
    long cancelAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
    CommandRunner.Result r = new CommandRunner().run(new CommandRunner.Command(List.of("bash", sh.toString()), dir,
        Map.of(), Duration.ofMinutes(1), () -> System.nanoTime() > cancelAt, null, Duration.ofSeconds(20), dir));
    assertThat(r.cancelled()).isTrue();
    assertThat(Files.readString(dir.resolve("state"))).isEqualTo("interrupted\n");
  }

  @Test
  void aCommandRunningWhenItsJvmIsSignalledIsInterruptedAndTheJvmWaitsForItToStop() throws Exception {
    Path sh = dir.resolve("apply.sh");
    // as terraform apply: Ctrl-C lets the operation in flight end and writes the state before it exits
    Files.writeString(sh, """
        trap 'sleep 1; echo "state written" > state; exit 1' TERM
        echo $$ > started
        while true; do sleep 0.1; done
        """);
    Process jvm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
        System.getProperty("java.class.path"), ShutdownProbe.class.getName(), sh.toString(), dir.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("jvm.log").toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    // the shell makes the file before it writes its pid into it: wait for the line, not for the file
    while (!(Files.exists(dir.resolve("started")) && Files.readString(dir.resolve("started")).endsWith("\n"))
        && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    long command = Long.parseLong(Files.readString(dir.resolve("started")).strip());
    try {
      jvm.destroy();  // SIGTERM, as the CLI's launcher passes on Ctrl-C
      assertThat(jvm.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(ProcessHandle.of(command).map(ProcessHandle::isAlive).orElse(false))
          .as("the command does not outlive its JVM: %s", Files.readString(dir.resolve("jvm.log"))).isFalse();
      assertThat(dir.resolve("state")).as("it was interrupted, and the JVM waited while it wrote its state")
          .hasContent("state written");
    } finally {
      ProcessHandle.of(command).ifPresent(ProcessHandle::destroyForcibly);
    }
  }

  /**
   * A library registers no process-wide hook when its classes load or a provider is built: the
   * hook that interrupts a running command on shutdown is there while one runs, and gone after.
   */
  @Test
  void noShutdownHookIsRegisteredUntilACommandRunsAndNoneAfterItEnded() throws Exception {
    Path sh = dir.resolve("wait.sh");
    Files.writeString(sh, "#!/bin/bash\necho > started; while [ ! -e go ]; do sleep 0.02; done\n");
    // the provider's binary too: building one checks that it is executable, and runs nothing
    Files.setPosixFilePermissions(sh, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    Process jvm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "--add-opens", "java.base/java.lang=ALL-UNNAMED", "-cp",
        System.getProperty("java.class.path"), HookProbe.class.getName(), sh.toString(), dir.toString())
        .redirectErrorStream(true).start();
    String out = new String(jvm.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(jvm.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(jvm.exitValue()).as(out).isZero();
    String[] last = out.strip().lines().reduce((a, b) -> b).orElse("").split(" ");
    assertThat(last).as(out).hasSize(4);
    int base = Integer.parseInt(last[0]);
    assertThat(Integer.parseInt(last[1])).as("hooks after loading CommandRunner and building a provider").isEqualTo(base);
    assertThat(Integer.parseInt(last[2])).as("hooks while a command runs").isEqualTo(base + 1);
    assertThat(Integer.parseInt(last[3])).as("hooks after it ended").isEqualTo(base);
  }
}
