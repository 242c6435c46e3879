package dev.gitops.reliability;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * Starts a main class of this test classpath in a child JVM, tuned for a fast start: C1 only, the
 * serial collector, and a class-data archive of the classes a crash child loads ({@link Sharing}).
 */
final class ChildJvm {

  /** What the child printed and how it ended. */
  record Result(int exit, String out) {
    boolean killed() {
      return exit == CrashChild.SIGKILL_EXIT;
    }
  }

  private static final List<String> FLAGS = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto",
      "-Xmx192m");

  private ChildJvm() {}

  static Result run(Path workDir, Class<?> main, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(java());
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

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /**
   * A dynamic class-data archive (JDK 17 AppCDS) of what an uninterrupted {@link CrashChild} run
   * loads, made once per test JVM: a child then maps those classes already parsed and verified
   * instead of loading them from the jars, about half of a crash child's 1 s start on a 2-core
   * machine, and the crash suites start a few hundred children. An archive holds classes from jars
   * only, so the classpath's directories (this module's test classes) are copied into jars first.
   * A child behaves the same with or without it (the JVM falls back to loading classes when it
   * cannot map the archive); when it cannot be made, the children start without one and the
   * reason is printed once.
   */
  private record Sharing(String classPath, List<String> flags) {

    /** The JVM's own CDS messages off: a child's output is what it printed itself. */
    private static final List<String> QUIET = List.of("-Xlog:cds=off", "-Xlog:cds+dynamic=off");

    static final Sharing ARCHIVE = make();

    private static Sharing make() {
      String plain = System.getProperty("java.class.path");
      try {
        Path dir = Files.createTempDirectory("gitops-child-cds-");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> CrashWorld.deleteTree(dir)));
        String classPath = jarredClassPath(plain, dir);
        Path archive = dir.resolve("children.jsa");
        Path desired = dir.resolve("desired");
        CrashWorld.writeTree(desired, CrashSafetyTest.STEPS.get(0));
        List<String> cmd = new ArrayList<>(List.of(java()));
        cmd.addAll(FLAGS);
        cmd.add("-XX:ArchiveClassesAtExit=" + archive);
        cmd.addAll(QUIET);
        cmd.addAll(List.of("-cp", classPath, CrashChild.class.getName(), desired.toString(),
            dir.resolve("target").toString(), "rev-1", "0"));
        Path out = dir.resolve("dump.out");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        boolean ended = p.waitFor(120, TimeUnit.SECONDS);
        if (!ended || p.exitValue() != 0 || !Files.isRegularFile(archive)) {
          p.destroyForcibly();
          System.err.println("crash children start without a class-data archive: the dump run "
              + (ended ? "exited " + p.exitValue() : "hung") + ":\n" + Files.readString(out, StandardCharsets.UTF_8));
          return new Sharing(plain, List.of());
        }
        List<String> flags = new ArrayList<>(List.of("-XX:SharedArchiveFile=" + archive));
        flags.addAll(QUIET);
        return new Sharing(classPath, List.copyOf(flags));
      } catch (IOException | UncheckedIOException e) {
        System.err.println("crash children start without a class-data archive: " + e);
        return new Sharing(plain, List.of());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return new Sharing(plain, List.of());
      }
    }

    /** {@code classPath} with each directory replaced by a jar of its files, written under {@code dir}. */
    private static String jarredClassPath(String classPath, Path dir) throws IOException {
      List<String> entries = new ArrayList<>();
      for (String entry : classPath.split(File.pathSeparator)) {
        Path p = Path.of(entry);
        if (Files.isDirectory(p)) {
          Path jar = dir.resolve("classes-" + entries.size() + ".jar");
          jar(p, jar);
          entries.add(jar.toString());
        } else if (!entry.isEmpty()) {
          entries.add(entry);
        }
      }
      return String.join(File.pathSeparator, entries);
    }

    private static void jar(Path classes, Path jar) throws IOException {
      try (OutputStream os = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(os);
           Stream<Path> files = Files.walk(classes)) {
        for (Path f : (Iterable<Path>) files.sorted()::iterator) {
          String name = classes.relativize(f).toString().replace(File.separatorChar, '/');
          if (name.isEmpty()) {
            continue;
          }
          boolean directory = Files.isDirectory(f);
          out.putNextEntry(new JarEntry(directory ? name + "/" : name));
          if (!directory) {
            Files.copy(f, out);
          }
          out.closeEntry();
        }
      }
    }
  }
}
