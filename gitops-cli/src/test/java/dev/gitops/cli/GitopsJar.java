package dev.gitops.cli;

import static org.assertj.core.api.Assertions.fail;

import dev.gitops.core.ClassDataArchive;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.eclipse.jgit.api.errors.GitAPIException;

/**
 * Runs the built jars in a child JVM, for the CLI integration tests: {@code target/gitops.jar}, the
 * launcher, and {@code target/gitops-all.jar} beside it, every class.
 *
 * <p>{@link #run} starts the JVM a one-shot command runs in: the one {@code java -jar gitops.jar}
 * re-executes ({@link OneShotJvm}: its flags, marked as the child), so each command costs one JVM
 * start, not two, and it maps a class-data archive of a training {@code sync} ({@link
 * ClassDataArchive}), which halves that start; the ITs run over a hundred commands. {@link #launch}
 * is {@code java -jar gitops.jar} itself, for the tests of the re-execution ({@code OneShotJvmIT}).
 */
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

  /** The launcher jar, {@code gitops.jar}. */
  static Path jar() {
    return built(Path.of(System.getProperty("gitops.jar", "target/gitops.jar")).toAbsolutePath());
  }

  /** The jar of every class, {@code gitops-all.jar} beside {@link #jar()}: the one-shot child's class path. */
  static Path allJar() {
    return built(jar().resolveSibling("gitops-all.jar"));
  }

  private static Path built(Path jar) {
    if (!Files.isRegularFile(jar)) {
      fail("the runnable jar " + jar + " is missing: run 'mvn verify' (the ITs run after package)");
    }
    return jar;
  }

  /** Runs the command {@code args} in {@code workDir}, as {@link #run(Path, Map, String...)}. */
  static Result run(Path workDir, String... args) throws IOException, InterruptedException {
    return run(workDir, Map.of(), args);
  }

  /** Runs {@code gitops command --repo <repo> --ref main --target <target> more...} in {@code workDir}. */
  static Result run(Path workDir, FixtureRepo repo, Path target, String command, String... more)
      throws IOException, InterruptedException {
    List<String> a = new ArrayList<>(List.of(command, "--repo", repo.dir().toString(), "--ref", "main", "--target",
        target.toString()));
    a.addAll(List.of(more));
    return run(workDir, a.toArray(String[]::new));
  }

  /**
   * Runs the command {@code args} in {@code workDir}, in the JVM {@code java -jar gitops.jar} would
   * re-execute it in, with extra environment variables.
   */
  static Result run(Path workDir, Map<String, String> env, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(ClassDataArchive.java()));
    cmd.addAll(Child.FLAGS);
    cmd.addAll(Child.ARCHIVE.flags());
    cmd.addAll(List.of("-cp", Child.ARCHIVE.classPath(), Main.class.getName()));
    cmd.addAll(List.of(args));
    return start(workDir, env, cmd, args);
  }

  /**
   * Runs {@code java -jar gitops.jar args...}, the launcher and its child, in {@code workDir} with
   * extra environment variables.
   */
  static Result launch(Path workDir, Map<String, String> env, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(ClassDataArchive.java(), "-jar", jar().toString()));
    cmd.addAll(List.of(args));
    Map<String, String> all = new java.util.HashMap<>(env);
    all.putIfAbsent("XDG_CACHE_HOME", cacheHome().toString());
    return start(workDir, all, cmd, args);
  }

  /**
   * The {@code XDG_CACHE_HOME} of the launches of the jar: the child's class-data archive ({@link
   * ChildClassData}) in the build directory, not the user's cache.
   */
  static Path cacheHome() {
    return jar().resolveSibling("test-cache");
  }

  /**
   * Runs {@code cmd} in {@code workDir} with this JVM's environment, less the JVM option variables
   * ({@code JAVA_TOOL_OPTIONS}, ...: a developer's own would add lines to stderr), plus {@code env};
   * {@code args} name the command in a timeout's message.
   */
  static Result start(Path workDir, Map<String, String> env, List<String> cmd, String... args)
      throws IOException, InterruptedException {
    Path out = Files.createTempFile(workDir, "stdout-", ".txt");
    Path err = Files.createTempFile(workDir, "stderr-", ".txt");
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile())
        .redirectOutput(out.toFile()).redirectError(err.toFile());
    pb.environment().keySet().removeAll(OneShotJvm.OPTION_VARIABLES);
    pb.environment().putAll(env);
    Process p = pb.start();
    if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      fail("gitops " + String.join(" ", args) + " did not finish within " + TIMEOUT_SECONDS + " s; stdout so far:\n"
          + Files.readString(out, StandardCharsets.UTF_8));
    }
    Result r = new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
    Files.delete(out);
    Files.delete(err);
    return r;
  }

  /** The JVM of a one-shot command as the launcher starts it, with a class-data archive made once per test JVM. */
  private static final class Child {
    static final List<String> FLAGS = flags();
    static final ClassDataArchive ARCHIVE = train();

    private static List<String> flags() {
      List<String> flags = new ArrayList<>(OneShotJvm.FLAGS);
      flags.add("-D" + OneShotJvm.PROPERTY + "=" + OneShotJvm.CHILD);
      return List.copyOf(flags);
    }

    /**
     * The archive of a first sync of a one-file repository and of the demo run after it, whose files
     * stay in the build directory ({@code mvn clean} removes them).
     */
    private static ClassDataArchive train() {
      Path dir = null;
      try {
        dir = Files.createTempDirectory(jar().getParent(), "cli-training-");
        try (FixtureRepo repo = FixtureRepo.init(dir.resolve("repo"))) {
          repo.write("app.properties", "name=shop\n").commit("training");
        }
        // with the demo a child writing an archive runs after its command (ClassDataTraining), as the launcher's does
        List<String> training = new ArrayList<>(FLAGS);
        training.add("-D" + ClassDataTraining.PROPERTY + "=" + dir.resolve("class-data-training"));
        return ClassDataArchive.make(allJar().toString(), training, List.of(Main.class.getName(), "sync", "--repo",
            dir.resolve("repo").toString(), "--ref", "main", "--target", dir.resolve("target").toString()));
      } catch (IOException | GitAPIException e) {
        throw new IllegalStateException("could not set up the CLI's training run in "
            + (dir == null ? "a new directory beside " + jar() : dir) + ": " + e.getMessage(), e);
      }
    }
  }
}
