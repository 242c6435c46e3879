package dev.gitops.reliability;

import dev.gitops.core.ClassDataArchive;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starts a main class of this test classpath in a child JVM, tuned for a fast start: C1 only, the
 * serial collector, slf4j-simple instead of logback (whose XML configuration was a third of a
 * child's start) and a class-data archive of the classes a crash child loads ({@link Sharing}).
 */
final class ChildJvm {

  /** What the child printed and how it ended. */
  record Result(int exit, String out) {
    boolean killed() {
      return exit == CrashChild.SIGKILL_EXIT;
    }
  }

  /** A child's JVM options, without the class-data archive's; warnings and errors go to its output. */
  static final List<String> FLAGS = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto",
      "-Xmx192m", "-Dslf4j.provider=org.slf4j.simple.SimpleServiceProvider", "-Dslf4j.internal.verbosity=WARN",
      "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");

  private ChildJvm() {}

  static Result run(Path workDir, Class<?> main, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(ClassDataArchive.java());
    cmd.addAll(FLAGS);
    cmd.addAll(Sharing.ARCHIVE.flags());
    cmd.addAll(List.of("-cp", Sharing.ARCHIVE.classPath(), main.getName()));
    cmd.addAll(List.of(args));
    Files.createDirectories(workDir);
    Path out = Files.createTempFile(workDir, "child-", ".out");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      throw new AssertionError("child " + main.getSimpleName() + " " + String.join(" ", args) + " hung:\n"
          + Files.readString(out, StandardCharsets.UTF_8));
    }
    String text = Files.readString(out, StandardCharsets.UTF_8);
    Files.delete(out);
    return new Result(p.exitValue(), text);
  }

  /**
   * The class-data archive of what an uninterrupted {@link CrashChild} run loads, made once per test
   * JVM: the crash suites start a few hundred children.
   */
  private static final class Sharing {
    static final ClassDataArchive ARCHIVE = make();

    private static ClassDataArchive make() {
      Path dir;
      try {
        dir = Files.createTempDirectory("gitops-crash-training-");
        CrashWorld.writeTree(dir.resolve("desired"), CrashSafetyTest.STEPS.get(0));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      try {
        return ClassDataArchive.make(System.getProperty("java.class.path"), FLAGS, List.of(CrashChild.class.getName(),
            dir.resolve("desired").toString(), dir.resolve("target").toString(), "rev-1", "0"));
      } finally {
        CrashWorld.deleteTree(dir);
      }
    }
  }
}
