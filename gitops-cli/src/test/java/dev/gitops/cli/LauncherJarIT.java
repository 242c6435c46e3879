package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gitops.jar} is the launcher: the classes the parent of a one-shot child JVM runs, and a
 * {@code Class-Path} naming {@code gitops-all.jar}, which holds every class (docs/cli.md). Run beside
 * a stand-in {@code gitops-all.jar} that holds nothing but the child's main class, the launcher must
 * still plan and start its child: a class the parent needs that the launcher jar lacks would be
 * looked up in the stand-in and fail the command. Without {@code gitops-all.jar} every command ends
 * at once with an error naming it.
 */
class LauncherJarIT {

  @TempDir
  Path tmp;

  @Test
  void theLauncherJarHoldsNoClassButThoseOfTheParentAndNamesTheJarOfEveryClass() throws IOException {
    try (JarFile launcher = new JarFile(GitopsJar.jar().toFile())) {
      assertThat(launcher.getManifest().getMainAttributes().getValue(Attributes.Name.CLASS_PATH))
          .isEqualTo("gitops-all.jar");
      assertThat(launcher.getManifest().getMainAttributes().getValue(Attributes.Name.MAIN_CLASS))
          .isEqualTo(Launcher.class.getName());
      assertThat(launcher.stream().map(JarEntry::getName).filter(n -> n.endsWith(".class")))
          .contains("dev/gitops/cli/Launcher.class", "dev/gitops/cli/OneShotJvm.class",
              "dev/gitops/cli/ChildClassData.class")
          .allMatch(n -> n.matches("dev/gitops/cli/(Launcher|OneShotJvm(\\$.*)?|ChildClassData(\\$.*)?)\\.class"));
    }
    try (JarFile all = new JarFile(GitopsJar.allJar().toFile())) {
      assertThat(all.getManifest().getMainAttributes().getValue(Attributes.Name.MAIN_CLASS))
          .as("gitops-all.jar runs alone too").isEqualTo(Launcher.class.getName());
      assertThat(all.getEntry("picocli/CommandLine.class")).isNotNull();
    }
  }

  @Test
  void theParentRunsFromTheLauncherJarAloneAndGivesItsChildTheJarOfEveryClass() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("install dir"));
    Files.copy(GitopsJar.jar(), dir.resolve("gitops.jar"));
    standInWithAChildMain(dir.resolve("gitops-all.jar"));

    for (Map<String, String> env : List.of(Map.of("GITOPS_JVM_CDS", "false"), Map.<String, String>of())) {
      GitopsJar.Result r = java(env, "-jar", dir.resolve("gitops.jar").toString(), "sync", "--repo", "r",
          "--target", "t");

      assertThat(r.code()).as("the stand-in child's code, with class-data archive: %s\n%s", env.isEmpty(), r)
          .isEqualTo(42);
      // the jar by its real path where the child maps an archive (docs/cli.md), as given without one
      Path all = dir.resolve("gitops-all.jar");
      assertThat(r.out()).isIn("stand-in child of " + all.toRealPath() + ": sync --repo r --target t\n",
          "stand-in child of " + all + ": sync --repo r --target t\n");
      assertThat(r.err()).doesNotContain("Exception", "Error");
    }
  }

  @Test
  void withoutTheJarOfEveryClassEveryCommandEndsAtOnceNamingIt() throws Exception {
    Files.copy(GitopsJar.jar(), tmp.resolve("gitops.jar"));
    for (String[] args : List.of(new String[] {"sync", "--repo", "r", "--target", "t"}, new String[] {"--version"},
        new String[] {"run", "--config", "agent.yaml"})) {
      List<String> cmd = new java.util.ArrayList<>(List.of("-jar", tmp.resolve("gitops.jar").toString()));
      cmd.addAll(List.of(args));
      GitopsJar.Result r = java(Map.of(), cmd.toArray(String[]::new));

      assertThat(r.code()).as(r.toString()).isEqualTo(ExitCodes.ERROR);
      assertThat(r.out()).isEmpty();
      assertThat(r.errLines()).containsExactly("gitops: " + tmp.resolve("gitops-all.jar")
          + " is missing: " + tmp.resolve("gitops.jar") + " is the launcher and runs the classes in it; keep the"
          + " two jars in one directory (gitops-all.jar also runs alone: java -jar gitops-all.jar)");
    }
  }

  /** Writes a jar holding a {@code dev.gitops.cli.Main} that prints its jar and arguments and exits 42. */
  private void standInWithAChildMain(Path jar) throws IOException {
    Path src = Files.createDirectories(tmp.resolve("src/dev/gitops/cli")).resolve("Main.java");
    Files.writeString(src, """
        package dev.gitops.cli;
        public final class Main {
          public static void main(String[] args) throws Exception {
            String jar = java.nio.file.Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .toString();
            System.out.println("stand-in child of " + jar + ": " + String.join(" ", args));
            System.exit(42);
          }
        }
        """);
    Path classes = Files.createDirectories(tmp.resolve("classes"));
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
    int compiled = javac.run(null, diagnostics, diagnostics, "--release", "17", "-d", classes.toString(),
        src.toString());
    assertThat(compiled).as(diagnostics.toString(StandardCharsets.UTF_8)).isZero();
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, manifest)) {
      j.putNextEntry(new JarEntry("dev/gitops/cli/Main.class"));
      j.write(Files.readAllBytes(classes.resolve("dev/gitops/cli/Main.class")));
      j.closeEntry();
    }
  }

  /** Runs {@code java args...} in {@link #tmp} with a cache of its own and {@code env}. */
  private GitopsJar.Result java(Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
        .toString()));
    cmd.addAll(List.of(args));
    Map<String, String> all = new java.util.HashMap<>(env);
    all.put("XDG_CACHE_HOME", tmp.resolve("cache").toString());
    return GitopsJar.start(tmp, all, cmd, args);
  }
}
