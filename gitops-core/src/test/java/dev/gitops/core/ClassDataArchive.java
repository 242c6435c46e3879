package dev.gitops.core;

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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A dynamic class-data archive (JDK 17 AppCDS) for the child JVMs a test suite starts by the
 * hundred: a child started with it maps the classes of one training run already parsed and
 * verified instead of loading them from the jars, about half of a short child's start on a 2-core
 * machine. The archive is made once, by one training run with {@code -XX:ArchiveClassesAtExit}, and
 * only read after that. An archive holds classes from jars only, so the class path's directories
 * (a module's {@code target/classes}) are copied into jars first. A child behaves the same with or
 * without it: the JVM loads a class the archive does not hold from the class path, and ignores an
 * archive made by another JDK or for another class path. (A truncated archive file is not ignored:
 * JDK 17 dies at start, which is why the CLI does not make one for its users; here the file is
 * written once, before any child starts.) When the training run fails, children start without an
 * archive and the reason is logged once.
 *
 * <pre>{@code
 * ClassDataArchive cds = ClassDataArchive.make(System.getProperty("java.class.path"),
 *     List.of("-XX:TieredStopAtLevel=1"), List.of(Child.class.getName(), "train"));
 * List<String> cmd = new ArrayList<>(List.of(ClassDataArchive.java(), "-XX:TieredStopAtLevel=1"));
 * cmd.addAll(cds.flags());
 * cmd.addAll(List.of("-cp", cds.classPath(), Child.class.getName(), "work"));
 * }</pre>
 */
public final class ClassDataArchive {

  private static final Logger log = LoggerFactory.getLogger(ClassDataArchive.class);

  /** The JVM's own CDS messages off: a child's output is what it printed itself. */
  private static final List<String> QUIET = List.of("-Xlog:cds=off", "-Xlog:cds+dynamic=off");

  private final String classPath;
  private final List<String> flags;

  private ClassDataArchive(String classPath, List<String> flags) {
    this.classPath = classPath;
    this.flags = flags;
  }

  /** The {@code java} launcher of the running JVM. */
  public static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /**
   * Makes an archive of what {@code java <jvmFlags> -cp <classPath> <training...>} loads, under a
   * temporary directory deleted when this JVM exits. {@code training} is a main class and its
   * arguments; it must exit 0 within two minutes. Children must start with the same {@code jvmFlags}
   * (the archive's classes were verified under them) and with {@link #classPath()}.
   */
  public static ClassDataArchive make(String classPath, List<String> jvmFlags, List<String> training) {
    try {
      Path dir = Files.createTempDirectory("gitops-child-cds-");
      Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
      String jarred = jarredClassPath(classPath, dir);
      Path archive = dir.resolve("children.jsa");
      List<String> cmd = new ArrayList<>(List.of(java()));
      cmd.addAll(jvmFlags);
      cmd.add("-XX:ArchiveClassesAtExit=" + archive);
      cmd.addAll(QUIET);
      cmd.addAll(List.of("-cp", jarred));
      cmd.addAll(training);
      Path out = dir.resolve("training.out");
      Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
          .redirectOutput(out.toFile()).start();
      boolean ended = p.waitFor(120, TimeUnit.SECONDS);
      if (!ended || p.exitValue() != 0 || !Files.isRegularFile(archive)) {
        p.destroyForcibly();
        log.warn("child JVMs start without a class-data archive: the training run {}:\n{}",
            ended ? "exited " + p.exitValue() : "hung", Files.readString(out, StandardCharsets.UTF_8));
        return new ClassDataArchive(classPath, List.of());
      }
      List<String> flags = new ArrayList<>(List.of("-XX:SharedArchiveFile=" + archive));
      flags.addAll(QUIET);
      return new ClassDataArchive(jarred, List.copyOf(flags));
    } catch (IOException | UncheckedIOException e) {
      log.warn("child JVMs start without a class-data archive: {}", e.toString());
      return new ClassDataArchive(classPath, List.of());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new ClassDataArchive(classPath, List.of());
    }
  }

  /** The class path a child starts with: the one given, its directories replaced by jars. */
  public String classPath() {
    return classPath;
  }

  /** The JVM options that map the archive (none when there is no archive). */
  public List<String> flags() {
    return flags;
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

  private static void deleteTree(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : (Iterable<Path>) files.sorted(java.util.Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(f);
      }
    } catch (IOException e) {
      // a shutdown hook: what is left stays in the temporary directory, nothing else to do
      log.debug("could not delete {}: {}", dir, e.toString());
    }
  }
}
