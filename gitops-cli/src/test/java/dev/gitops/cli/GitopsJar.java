package dev.gitops.cli;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the built jar ({@code target/gitops.jar}) in a child JVM, for the CLI integration tests. */
final class GitopsJar {

  /** How long one command may take before the test fails. */
  static final long TIMEOUT_SECONDS = 180;

  /** What a run printed and returned. */
  record Result(int code, String out, String err) {
    /** The non-blank lines of stderr. */
    List<String> errLines() {
      return err.lines().filter(l -> !l.isBlank()).toList();
    }

    @Override
    public String toString() {
      return "exit " + code + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err;
    }
  }

  private GitopsJar() {}

  static Path jar() {
    Path jar = Path.of(System.getProperty("gitops.jar", "target/gitops.jar")).toAbsolutePath();
    if (!Files.isRegularFile(jar)) {
      fail("the runnable jar " + jar + " is missing: run 'mvn verify' (the ITs run after package)");
    }
    return jar;
  }

  /** Runs {@code java -jar gitops.jar args...} in {@code workDir}. */
  static Result run(Path workDir, String... args) throws IOException, InterruptedException {
    return run(workDir, java.util.Map.of(), args);
  }

  /** Runs {@code gitops command --repo <repo> --ref main --target <target> more...} in {@code workDir}. */
  static Result run(Path workDir, FixtureRepo repo, Path target, String command, String... more)
      throws IOException, InterruptedException {
    List<String> a = new ArrayList<>(List.of(command, "--repo", repo.dir().toString(), "--ref", "main", "--target",
        target.toString()));
    a.addAll(List.of(more));
    return run(workDir, a.toArray(String[]::new));
  }

  /** Runs {@code java -jar gitops.jar args...} in {@code workDir} with extra environment variables. */
  static Result run(Path workDir, java.util.Map<String, String> env, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-jar");
    cmd.add(jar().toString());
    cmd.addAll(List.of(args));
    Path out = Files.createTempFile(workDir, "stdout-", ".txt");
    Path err = Files.createTempFile(workDir, "stderr-", ".txt");
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile())
        .redirectOutput(out.toFile()).redirectError(err.toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      fail("gitops " + String.join(" ", args) + " did not finish within " + TIMEOUT_SECONDS + " s; stdout so far:\n"
          + Files.readString(out, StandardCharsets.UTF_8));
    }
    Result r = new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    Files.delete(out);
    Files.delete(err);
    return r;
  }
}
