package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OneShotJvmTest {

  private static final String JAVA = "/opt/jdk/bin/java";
  private static final String JAR = "/opt/gitops/gitops.jar";

  /** The plan for {@code java jvmOptions... -jar JAR args...} with no property and an empty environment. */
  private static OneShotJvm.Plan jar(List<String> jvmOptions, String... args) {
    return plan(jvmOptions, Map.of(), args);
  }

  private static OneShotJvm.Plan plan(List<String> jvmOptions, Map<String, String> env, String... args) {
    List<String> argv = new ArrayList<>(jvmOptions);
    argv.add("-jar");
    argv.add(JAR);
    argv.addAll(List.of(args));
    return OneShotJvm.plan(args, JAVA, argv.toArray(String[]::new), JAR, null, null, env);
  }

  @Test
  void aOneShotCommandRunsInAChildWithTheFlagsTheUsersOptionsAndEveryArgumentUnchanged() {
    OneShotJvm.Plan p = jar(List.of("-Xmx2g", "-Dfoo=a b"), "sync", "--repo", "r", "--target", "t t", "");
    assertThat(p.reexec()).isTrue();
    List<String> expected = new ArrayList<>();
    expected.add(JAVA);
    expected.addAll(OneShotJvm.FLAGS);
    expected.addAll(List.of("-Xmx2g", "-Dfoo=a b", "-Dgitops.cli.reexec=child", "-cp", JAR, "dev.gitops.cli.Main",
        "sync", "--repo", "r", "--target", "t t", ""));
    assertThat(p.command()).isEqualTo(expected);
  }

  @Test
  void aClassPathLaunchKeepsItsOtherOptionsAndTakesTheClassPathFromTheJvm() {
    String[] args = {"plan", "--repo", "r"};
    String[] argv = {"-cp", "a.jar:b.jar", "--add-opens", "java.base/java.lang=ALL-UNNAMED", "dev.gitops.cli.Main",
        "plan", "--repo", "r"};
    OneShotJvm.Plan p = OneShotJvm.plan(args, JAVA, argv, "a.jar:b.jar", null, null, Map.of());
    assertThat(p.command()).containsSubsequence("--add-opens", "java.base/java.lang=ALL-UNNAMED",
        "-Dgitops.cli.reexec=child", "-cp", "a.jar:b.jar", "dev.gitops.cli.Main", "plan", "--repo", "r");
    assertThat(p.command()).containsOnlyOnce("-cp");
  }

  @Test
  void aClassPathLaunchOfTheJarsMainClassIsOneToo() {
    String[] args = {"sync", "--repo", "r"};
    String[] argv = {"-cp", "/opt/gitops/gitops.jar", "dev.gitops.cli.Launcher", "sync", "--repo", "r"};
    OneShotJvm.Plan p = OneShotJvm.plan(args, JAVA, argv, "/opt/gitops/gitops-all.jar", null, null, Map.of());
    assertThat(p.reexec()).as(String.valueOf(p.reason())).isTrue();
    assertThat(p.command()).containsSubsequence("-cp", "/opt/gitops/gitops-all.jar", "dev.gitops.cli.Main", "sync",
        "--repo", "r");
    String[] other = {"-cp", "/opt/gitops/gitops.jar", "com.example.Wrapper", "sync", "--repo", "r"};
    assertThat(OneShotJvm.plan(args, JAVA, other, "/opt/gitops/gitops.jar", null, null, Map.of()).reason())
        .isEqualTo("this JVM was not started with -jar or -cp ... dev.gitops.cli.Main (or dev.gitops.cli.Launcher)");
  }

  /** A jar at {@code jar} holding a manifest with {@code classPath} as its Class-Path (none when null). */
  private static Path jarWithClassPath(Path jar, String classPath) throws IOException {
    java.util.jar.Manifest m = new java.util.jar.Manifest();
    m.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
    if (classPath != null) {
      m.getMainAttributes().put(java.util.jar.Attributes.Name.CLASS_PATH, classPath);
    }
    Files.createDirectories(jar.getParent());
    try (java.io.OutputStream out = Files.newOutputStream(jar);
        java.util.jar.JarOutputStream j = new java.util.jar.JarOutputStream(out, m)) {
      j.putNextEntry(new java.util.jar.JarEntry("dev/gitops/cli/Launcher.class"));
      j.closeEntry();
    }
    return jar;
  }

  @Test
  void theJarOfEveryClassIsTheOneJarALaunchersClassPathNamesBesideIt(@TempDir Path tmp) throws IOException {
    Path launcher = jarWithClassPath(tmp.resolve("install dir/gitops.jar"), "gitops-all.jar");
    assertThat(OneShotJvm.applicationJar(launcher.toString()))
        .as("beside it, whether it exists or not").isEqualTo(tmp.resolve("install dir/gitops-all.jar"));
    Path encoded = jarWithClassPath(tmp.resolve("b/gitops.jar"), "lib/all%20classes.jar");
    assertThat(OneShotJvm.applicationJar(encoded.toString())).isEqualTo(tmp.resolve("b/lib/all classes.jar"));
    Path renamed = Files.copy(launcher, tmp.resolve("install dir/gitops"));
    assertThat(OneShotJvm.applicationJar(renamed.toString())).as("a launcher renamed without .jar")
        .isEqualTo(tmp.resolve("install dir/gitops-all.jar"));

    assertThat(OneShotJvm.applicationJar(jarWithClassPath(tmp.resolve("c/all.jar"), null).toString()))
        .as("a jar that names none: it holds the classes itself").isNull();
    assertThat(OneShotJvm.applicationJar(jarWithClassPath(tmp.resolve("d/x.jar"), "a.jar b.jar").toString()))
        .as("several").isNull();
    assertThat(OneShotJvm.applicationJar(jarWithClassPath(tmp.resolve("e/x.jar"), "classes/").toString()))
        .as("a directory").isNull();
    assertThat(OneShotJvm.applicationJar(launcher + java.io.File.pathSeparator + encoded)).isNull();
    assertThat(OneShotJvm.applicationJar(tmp.resolve("missing.jar").toString())).isNull();
    assertThat(OneShotJvm.applicationJar(Files.writeString(tmp.resolve("junk.jar"), "not a zip").toString())).isNull();
    assertThat(OneShotJvm.applicationJar(tmp.toString())).isNull();
    assertThat(OneShotJvm.applicationJar(null)).isNull();
  }

  @Test
  void theAgentHelpAndVersionRunHereWithNothingToSay() {
    for (String[] args : List.of(new String[] {"run", "--config", "a.yaml"}, new String[] {"--version"},
        new String[] {"sync", "--help"}, new String[] {"help", "sync"}, new String[] {"--verbose", "run"},
        new String[0])) {
      OneShotJvm.Plan p = jar(List.of(), args);
      assertThat(p.reexec()).as(String.join(" ", args)).isFalse();
      assertThat(p.reason()).as(String.join(" ", args)).isNull();
    }
    // an option's value that reads like a subcommand does not decide it
    assertThat(jar(List.of(), "sync", "--repo", "run").reexec()).isTrue();
  }

  @Test
  void thePropertyAndTheEnvironmentTurnItOffAndSaySo() {
    String[] args = {"sync", "--repo", "r"};
    String[] argv = {"-jar", JAR, "sync", "--repo", "r"};
    OneShotJvm.Plan byProperty = OneShotJvm.plan(args, JAVA, argv, JAR, "false", null, Map.of());
    assertThat(byProperty.reexec()).isFalse();
    assertThat(byProperty.reason()).contains("-Dgitops.cli.reexec=false");
    OneShotJvm.Plan byEnv = OneShotJvm.plan(args, JAVA, argv, JAR, null, null, Map.of("GITOPS_JVM_REEXEC", "false"));
    assertThat(byEnv.reexec()).isFalse();
    assertThat(byEnv.reason()).contains("GITOPS_JVM_REEXEC=false");
    assertThat(OneShotJvm.plan(args, JAVA, argv, JAR, null, null, Map.of("GITOPS_JVM_REEXEC", "true")).reexec()).isTrue();
    OneShotJvm.Plan keepC2 = OneShotJvm.plan(args, JAVA, argv, JAR, null, "true", Map.of());
    assertThat(keepC2.reexec()).isFalse();
    assertThat(keepC2.reason()).contains("gitops.cli.c2=true");
  }

  @Test
  void theChildNeverReexecutes() {
    String[] args = {"sync", "--repo", "r"};
    String[] argv = {"-XX:TieredStopAtLevel=1", "-Dgitops.cli.reexec=child", "-cp", JAR, "dev.gitops.cli.Main", "sync",
        "--repo", "r"};
    OneShotJvm.Plan p = OneShotJvm.plan(args, JAVA, argv, JAR, OneShotJvm.CHILD, null, Map.of());
    assertThat(p.reexec()).isFalse();
    assertThat(p.reason()).isNull();
  }

  @Test
  void optionsThatChooseTheJitOrObserveTheProcessKeepItHere() {
    for (String option : List.of("-XX:TieredStopAtLevel=4", "-XX:-TieredCompilation", "-Xint", "-Xcomp",
        "-agentlib:jdwp=transport=dt_socket,server=y,address=5005", "-javaagent:a.jar", "-agentpath:/x.so",
        "-XX:StartFlightRecording=filename=x.jfr", "-Xlog:class+load", "-verbose:gc", "-XX:+PrintCompilation",
        "-XX:ArchiveClassesAtExit=a.jsa")) {
      OneShotJvm.Plan p = jar(List.of("-Xmx1g", option), "sync", "--repo", "r");
      assertThat(p.reexec()).as(option).isFalse();
      assertThat(p.reason()).as(option).contains(option);
    }
    for (String variable : List.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS")) {
      OneShotJvm.Plan p = plan(List.of(), Map.of(variable, " -Dx=1  -agentlib:jdwp=server=y "), "sync", "--repo", "r");
      assertThat(p.reexec()).as(variable).isFalse();
      assertThat(p.reason()).as(variable).contains(variable).contains("-agentlib:jdwp=server=y");
      assertThat(plan(List.of(), Map.of(variable, "-Dx=1"), "sync").reexec()).as(variable).isTrue();
    }
  }

  @Test
  void theUsersCollectorAndHeapAreGivenToTheChildAfterTheFlags() {
    OneShotJvm.Plan p = jar(List.of("-XX:+UseSerialGC", "-Xmx512m"), "sync");
    assertThat(p.command()).containsSubsequence("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx512m",
        "dev.gitops.cli.Main", "sync");
    assertThat(p.command()).containsOnlyOnce("-XX:+UseSerialGC").doesNotContain("-Xmn16m");
  }

  @Test
  void theChildGetsTheParallelCollectorWithASmallYoungGenerationUnlessTheUserChoseThem() {
    assertThat(jar(List.of("-Xmx2g"), "sync").command()).containsSubsequence("-XX:TieredStopAtLevel=1",
        "-XX:+UseParallelGC", "-Xmn16m", "-Xmx2g");
    // a collector of the user's: two collectors would stop the child JVM at its start
    for (String gc : List.of("-XX:+UseG1GC", "-XX:+UseSerialGC", "-XX:+UseZGC", "-XX:+UseShenandoahGC")) {
      List<String> command = jar(List.of(gc), "plan").command();
      assertThat(command).as(gc).contains("-XX:TieredStopAtLevel=1", gc).doesNotContain("-XX:+UseParallelGC", "-Xmn16m");
      assertThat(plan(List.of(), Map.of("JAVA_TOOL_OPTIONS", "-Xss1m " + gc), "sync").command()).as(gc)
          .doesNotContain("-XX:+UseParallelGC", "-Xmn16m");
    }
    // the user's choice of ours is theirs, given once
    assertThat(jar(List.of("-XX:+UseParallelGC"), "sync").command()).containsOnlyOnce("-XX:+UseParallelGC")
        .doesNotContain("-Xmn16m");
    // a heap under 64 MB gets no -Xmn16m (the JVM warns when it does not fit), a larger one keeps it
    for (String small : List.of("-Xmx16m", "-Xms8m", "-XX:MaxHeapSize=32m", "-XX:InitialHeapSize=1M", "-Xmx65535k",
        "-Xmx1048576", "-Xmxlots")) {
      assertThat(jar(List.of(small), "sync").command()).as(small).contains("-XX:+UseParallelGC", small)
          .doesNotContain("-Xmn16m");
    }
    for (String large : List.of("-Xmx64m", "-Xms128M", "-XX:MaxHeapSize=2g", "-Xmx1T", "-XX:MaxHeapFreeRatio=10")) {
      assertThat(jar(List.of(large), "sync").command()).as(large).contains("-XX:+UseParallelGC", "-Xmn16m", large);
    }
    assertThat(OneShotJvm.bytes("512m")).isEqualTo(512L << 20);
    assertThat(OneShotJvm.bytes("2G")).isEqualTo(2L << 30);
    assertThat(OneShotJvm.bytes("4096")).isEqualTo(4096);
    assertThat(OneShotJvm.bytes("99999999999999999g")).isEqualTo(Long.MAX_VALUE);
    for (String bad : List.of("", "m", "1.5g", "-1m", "12x4")) {
      assertThat(OneShotJvm.bytes(bad)).as(bad).isEqualTo(-1);
    }
    // a young generation of the user's replaces -Xmn16m, the parallel collector stays
    for (String young : List.of("-Xmn64m", "-XX:NewSize=8m", "-XX:MaxNewSize=1g", "-XX:NewRatio=3")) {
      assertThat(jar(List.of(young), "sync").command()).as(young).contains("-XX:+UseParallelGC", young)
          .doesNotContain("-Xmn16m");
    }
  }

  @Test
  void theChildTenuresAtTheFirstCollectionUnlessTheUserChoseACollectorOrATenuring() {
    assertThat(jar(List.of("-Xmx2g"), "sync").command()).containsSubsequence("-XX:+UseParallelGC", "-Xmn16m",
        "-XX:MaxTenuringThreshold=0", "-Xmx2g");
    assertThat(jar(List.of("-Xmn64m"), "sync").command()).contains("-XX:MaxTenuringThreshold=0");
    assertThat(jar(List.of("-XX:+UseG1GC"), "sync").command()).doesNotContain("-XX:MaxTenuringThreshold=0");
    // an initial threshold of the user's above ours would stop the child JVM at its start
    for (String tenuring : List.of("-XX:InitialTenuringThreshold=5", "-XX:MaxTenuringThreshold=15",
        "-XX:+AlwaysTenure", "-XX:+NeverTenure")) {
      assertThat(jar(List.of(tenuring), "sync").command()).as(tenuring).contains("-XX:+UseParallelGC", tenuring)
          .doesNotContain("-XX:MaxTenuringThreshold=0");
      assertThat(plan(List.of(), Map.of("JDK_JAVA_OPTIONS", tenuring), "sync").command()).as(tenuring)
          .doesNotContain("-XX:MaxTenuringThreshold=0");
    }
  }

  @Test
  void onAKernelThatMakesHugePagesOnRequestTheChildAsksForThemUnlessTheUserChosePages() {
    String[] args = {"sync", "--repo", "r"};
    String[] argv = {"-Xmx2g", "-jar", JAR, "sync", "--repo", "r"};
    assertThat(OneShotJvm.plan(args, JAVA, argv, JAR, null, null, Map.of(), true).command())
        .containsSubsequence("-XX:TieredStopAtLevel=1", "-XX:+UseParallelGC", "-Xmn16m", OneShotJvm.HUGE_PAGES,
            "-Xmx2g", "dev.gitops.cli.Main", "sync");
    assertThat(OneShotJvm.plan(args, JAVA, argv, JAR, null, null, Map.of(), false).command())
        .doesNotContain(OneShotJvm.HUGE_PAGES);
    // the user's choice of pages, on the command line or through an option variable, is theirs alone
    for (String pages : List.of("-XX:-UseTransparentHugePages", "-XX:+UseTransparentHugePages", "-XX:+UseLargePages",
        "-XX:-UseLargePages", "-XX:LargePageSizeInBytes=1g", "-XX:+UseHugeTLBFS", "-XX:+UseSHM")) {
      List<String> command = OneShotJvm.plan(args, JAVA, new String[] {pages, "-jar", JAR, "sync", "--repo", "r"}, JAR,
          null, null, Map.of(), true).command();
      assertThat(command).as(pages).containsOnlyOnce(pages);
      if (!pages.equals(OneShotJvm.HUGE_PAGES)) {
        assertThat(command).as(pages).doesNotContain(OneShotJvm.HUGE_PAGES);
      }
      assertThat(OneShotJvm.plan(args, JAVA, argv, JAR, null, null, Map.of("JDK_JAVA_OPTIONS", pages), true).command())
          .as(pages).doesNotContain(OneShotJvm.HUGE_PAGES);
    }
    // a collector of the user's does not change the pages
    assertThat(OneShotJvm.plan(args, JAVA, new String[] {"-XX:+UseG1GC", "-jar", JAR, "sync", "--repo", "r"}, JAR, null,
        null, Map.of(), true).command()).contains(OneShotJvm.HUGE_PAGES, "-XX:+UseG1GC");
  }

  @Test
  void theKernelsModeOfHugePagesIsOnRequestOnlyWhenMadviseIsSelected(@TempDir Path tmp) throws IOException {
    Path mode = tmp.resolve("enabled");
    Files.writeString(mode, "always [madvise] never\n");
    assertThat(OneShotJvm.hugePagesOnRequest(mode)).isTrue();
    // the kernel makes them unasked, or never: the flag would change nothing, or make the JVM warn
    Files.writeString(mode, "[always] madvise never\n");
    assertThat(OneShotJvm.hugePagesOnRequest(mode)).isFalse();
    Files.writeString(mode, "always madvise [never]\n");
    assertThat(OneShotJvm.hugePagesOnRequest(mode)).isFalse();
    Files.writeString(mode, "");
    assertThat(OneShotJvm.hugePagesOnRequest(mode)).isFalse();
    assertThat(OneShotJvm.hugePagesOnRequest(tmp.resolve("absent"))).isFalse();
    assertThat(OneShotJvm.hugePagesOnRequest(tmp)).as("a directory").isFalse();
  }

  @Test
  void onThisHostAChildGivenHugePagesStartsWithoutAWord() throws Exception {
    Assumptions.assumeTrue(OneShotJvm.hugePagesOnRequest(OneShotJvm.HUGE_PAGES_MODE),
        "a kernel that makes transparent huge pages on request (madvise)");
    // every flag the child gets here, huge pages and tenuring included
    List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
        .toString()));
    command.addAll(OneShotJvm.flags(List.of(), Map.of(), true));
    assertThat(command).contains(OneShotJvm.HUGE_PAGES, "-XX:MaxTenuringThreshold=0");
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), OneShotJvmTest.class.getName(), "0"));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).isZero();
    assertThat(out).as("what the JVM said").isEmpty();
  }

  @Test
  void aCommandLineItCannotReadBackRunsHere() {
    String[] args = {"sync", "--repo", "r"};
    // unknown, truncated or altered command lines
    assertThat(OneShotJvm.plan(args, JAVA, null, JAR, null, null, Map.of()).reason()).contains("not known");
    assertThat(OneShotJvm.plan(args, null, new String[] {"-jar", JAR, "sync", "--repo", "r"}, JAR, null, null,
        Map.of()).reexec()).isFalse();
    assertThat(OneShotJvm.plan(args, JAVA, new String[] {"-jar", JAR, "sync", "--repo"}, JAR, null, null, Map.of())
        .reason()).contains("does not end with the command's arguments");
    assertThat(OneShotJvm.plan(args, JAVA, new String[] {"-jar", JAR, "sync", "--repo", "x"}, JAR, null, null, Map.of())
        .reason()).contains("does not end with the command's arguments");
    // a module launch, an argument file, another main class
    assertThat(OneShotJvm.plan(args, JAVA, new String[] {"-p", "mods", "-m", "dev.gitops.cli/dev.gitops.cli.Main",
        "sync", "--repo", "r"}, JAR, null, null, Map.of()).reexec()).isFalse();
    assertThat(OneShotJvm.plan(args, JAVA, new String[] {"@opts", "-jar", JAR, "sync", "--repo", "r"}, JAR, null, null,
        Map.of()).reason()).contains("@opts");
    assertThat(OneShotJvm.plan(args, JAVA, new String[] {"-cp", JAR, "com.example.Wrapper", "sync", "--repo", "r"}, JAR,
        null, null, Map.of()).reason()).contains("not started with -jar");
  }

  /** Run by the tests below as the child: exits with the code its argument names. */
  public static void main(String[] args) {
    System.exit(Integer.parseInt(args[0]));
  }

  @Test
  void theChildsExitCodeIsReturned() {
    for (int code : new int[] {0, 1, 3}) {
      String[] why = new String[1];
      Optional<Integer> got = OneShotJvm.run(new OneShotJvm.Plan(List.of(Path.of(System.getProperty("java.home"), "bin",
          "java").toString(), "-cp", System.getProperty("java.class.path"), OneShotJvmTest.class.getName(),
          String.valueOf(code)), null), why);
      assertThat(got).contains(code);
      assertThat(why[0]).isNull();
    }
  }

  @Test
  void aChildThatCannotStartSaysWhyAndRunsNothing() {
    String[] why = new String[1];
    Optional<Integer> got = OneShotJvm.run(new OneShotJvm.Plan(List.of("/nonexistent/bin/java", "-version"), null), why);
    assertThat(got).isEmpty();
    assertThat(why[0]).contains("could not be started").contains("/nonexistent/bin/java");
  }

  @Test
  void aCommandLineIsSplitAtItsNulBytesWithOrWithoutAFinalOne() {
    byte[] raw = "java\0-jar\0a b\0\0é\0".getBytes(StandardCharsets.UTF_8);
    assertThat(OneShotJvm.nulSeparated(raw, StandardCharsets.UTF_8)).containsExactly("java", "-jar", "a b", "", "é");
    assertThat(OneShotJvm.nulSeparated("java\0x".getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8))
        .containsExactly("java", "x");
    assertThat(OneShotJvm.nulSeparated(new byte[0], StandardCharsets.UTF_8)).isEmpty();
  }

  @Test
  void thisProcessIsReadFromProcAsTheJdkReadsIt() {
    Assumptions.assumeTrue(Files.isDirectory(Path.of("/proc/self")), "a system with /proc");
    ProcessHandle.Info info = ProcessHandle.current().info();
    OneShotJvm.Launch self = OneShotJvm.Launch.ofThisProcess();
    assertThat(self.executable()).isEqualTo(info.command().orElseThrow());
    assertThat(self.arguments()).containsExactly(info.arguments().orElseThrow());
  }
}
