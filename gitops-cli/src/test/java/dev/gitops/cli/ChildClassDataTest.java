package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one-shot child's class-data archive, with real JVMs: made by the child, tried before it is
 * moved into place, used by the next child, and never given to a JVM when it is cut short.
 */
class ChildClassDataTest {

  private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
  private static final String VM = System.getProperty("java.vm.name");
  private static final List<String> JVM = List.of(JAVA, "-XX:TieredStopAtLevel=1", "-Dgitops.cli.reexec=child");

  @TempDir
  Path tmp;

  private Path jar;
  private Path cache;

  @BeforeEach
  void emptyJar() throws IOException {
    jar = tmp.resolve("app.jar");
    try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, new Manifest())) {
      j.flush();
    }
    cache = tmp.resolve("cache");
  }

  private ChildClassData forChild(Map<String, String> env, String property) {
    return ChildClassData.forChild(JVM, jar.toString(), System.getProperty("java.home"), VM,
        System.getProperty("java.vm.version"), property, env, cache);
  }

  private ChildClassData forChild() {
    return forChild(Map.of(), null);
  }

  /** Runs a JVM as the child would (its options, {@code data}'s flags, the class path) on {@code -version}. */
  private static int child(ChildClassData data, String... more) throws Exception {
    List<String> cmd = new ArrayList<>(JVM);
    cmd.addAll(data.flags());
    cmd.addAll(List.of(more));
    cmd.addAll(List.of("-cp", data.classPath(), "-version"));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return p.exitValue();
  }

  /** An archive made as the first command of the jar makes it: written by a child, tried, moved in. */
  private Path madeArchive() throws Exception {
    ChildClassData first = forChild();
    child(first);
    Path archive = first.adopt(ExitCodes.OK);
    assertThat(archive).isNotNull();
    return archive;
  }

  private List<Path> cached() throws IOException {
    if (!Files.isDirectory(cache)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(cache)) {
      return s.sorted().toList();
    }
  }

  @Test
  void theFirstChildWritesTheArchiveWhichIsTriedMovedIntoPlaceAndMappedByTheNext() throws Exception {
    ChildClassData first = forChild();
    assertThat(first.writes()).isTrue();
    assertThat(first.classPath()).as("the jar by its real path").isEqualTo(jar.toRealPath().toString());
    assertThat(first.flags()).hasSize(3).anyMatch(f -> f.startsWith("-XX:ArchiveClassesAtExit=" + cache))
        .contains(ChildClassData.QUIET);
    String training = first.flags().get(2);
    assertThat(training).as("the training demo's directory, in the cache")
        .startsWith("-D" + ClassDataTraining.PROPERTY + "=" + cache).endsWith(".training.tmp");
    assertThat(child(first)).isZero();
    // what the child's demo would leave if it were killed: the parent removes it
    Path demo = Files.createDirectories(Path.of(training.substring(training.indexOf('=') + 1)).resolve("repo"));
    Files.writeString(demo.resolve("app.properties"), "x");

    Path archive = first.adopt(ExitCodes.PENDING);

    assertThat(demo.getParent()).as("removed with what it held").doesNotExist();

    assertThat(archive).as("a command that ran to its end, changes pending").isNotNull();
    assertThat(cached()).containsExactly(archive);
    assertThat(archive.getFileName().toString()).endsWith("-" + Files.size(archive) + ".jsa");
    ChildClassData next = forChild();
    assertThat(next.writes()).isFalse();
    assertThat(next.flags()).containsExactly("-XX:SharedArchiveFile=" + archive, ChildClassData.QUIET);
    assertThat(child(next, "-Xshare:on")).as("a JVM that requires the archive starts with it").isZero();
    assertThat(next.adopt(0)).isNull();
    assertThat(cached()).containsExactly(archive);
  }

  @Test
  void anArchiveCutShortIsNeverGivenToAJvmAndIsMadeAgain() throws Exception {
    Path archive = madeArchive();
    try (FileChannel c = FileChannel.open(archive, StandardOpenOption.WRITE)) {
      c.truncate(Files.size(archive) / 2);  // a JVM mapping this dies with SIGBUS (JDK 17)
    }

    ChildClassData next = forChild();

    assertThat(next.writes()).isTrue();
    assertThat(next.flags()).noneMatch(f -> f.startsWith("-XX:SharedArchiveFile"));
    assertThat(cached()).as("the cut archive is deleted").isEmpty();
  }

  @Test
  void aWrittenArchiveIsDroppedWhenTheChildFailedOrNoJvmStartsWithIt() throws Exception {
    for (int code : new int[] {ExitCodes.ERROR, 143}) {
      ChildClassData failed = forChild();
      child(failed);
      assertThat(failed.adopt(code)).as("exit %d", code).isNull();
      assertThat(cached()).as("exit %d: nothing adopted, the written file deleted, the try counted", code)
          .singleElement().satisfies(f -> assertThat(f.getFileName().toString()).endsWith("-tries"));
    }
    Files.delete(cached().get(0));

    ChildClassData cut = forChild();
    child(cut);
    Path written = cache.resolve(cut.flags().get(0).substring("-XX:ArchiveClassesAtExit=".length()));
    try (FileChannel c = FileChannel.open(written, StandardOpenOption.WRITE)) {
      c.truncate(Files.size(written) / 2);
    }
    List<Path> reportsBefore = crashReports();
    assertThat(cut.adopt(0)).as("the trial JVM dies on it").isNull();
    assertThat(cached()).as("no archive, no crash report: the try counted")
        .singleElement().satisfies(f -> assertThat(f.getFileName().toString()).endsWith("-tries"));
    assertThat(crashReports()).as("none in the working directory either").isEqualTo(reportsBefore);
  }

  private static List<Path> crashReports() throws IOException {
    try (Stream<Path> s = Files.list(Path.of("").toAbsolutePath())) {
      return s.filter(f -> f.getFileName().toString().startsWith("hs_err")).sorted().toList();
    }
  }

  @Test
  void theChildIsGivenTheFlagsAfterItsJavaAndTheJarByItsRealPath() throws Exception {
    Path link = Files.createSymbolicLink(tmp.resolve("link.jar"), jar);
    String[] args = {"sync", "--repo", "r"};
    OneShotJvm.Plan plan = OneShotJvm.plan(args, JAVA, new String[] {"-Xmx1g", "-jar", link.toString(), "sync",
        "--repo", "r"}, link.toString(), null, null, Map.of());
    ChildClassData data = ChildClassData.forChild(plan.jvm(), plan.classPath(), System.getProperty("java.home"), VM,
        "1", null, Map.of(), cache);

    OneShotJvm.Plan with = plan.with(data);

    List<String> expected = new ArrayList<>();
    expected.add(JAVA);
    expected.addAll(data.flags());
    expected.addAll(OneShotJvm.FLAGS);
    expected.addAll(List.of("-Xmx1g", "-Dgitops.cli.reexec=child", "-cp", jar.toRealPath().toString(),
        "dev.gitops.cli.Main", "sync", "--repo", "r"));
    assertThat(with.command()).isEqualTo(expected);
    assertThat(with.classData()).isSameAs(data);
    assertThat(plan.with(ChildClassData.none()).command()).isEqualTo(plan.command());
  }

  @Test
  void aTryCountThatIsNoRegularFileIsNeverOpenedAndIsReplacedByOne() throws Exception {
    ChildClassData failed = forChild();
    child(failed);
    assertThat(failed.adopt(ExitCodes.ERROR)).isNull();
    Path count = cached().get(0);
    assertThat(count.getFileName().toString()).endsWith("-tries");
    Files.delete(count);
    // a FIFO where the count is: opening it to read or to write would wait for a writer or reader forever
    Process mkfifo = new ProcessBuilder("mkfifo", count.toString()).redirectErrorStream(true).start();
    assertThat(mkfifo.waitFor(20, TimeUnit.SECONDS)).isTrue();
    assertThat(mkfifo.exitValue()).isZero();

    ChildClassData next = Assertions.assertTimeoutPreemptively(Duration.ofSeconds(30), () -> forChild());
    assertThat(next.writes()).as("no count read: tried again").isTrue();
    child(next);
    assertThat(Assertions.assertTimeoutPreemptively(Duration.ofSeconds(60), () -> next.adopt(ExitCodes.ERROR)))
        .isNull();
    assertThat(count).as("the FIFO replaced by a regular count").isRegularFile().hasContent("1");

    Files.delete(count);
    Files.createSymbolicLink(count, tmp.resolve("elsewhere"));
    ChildClassData linked = forChild();
    child(linked);
    assertThat(linked.adopt(ExitCodes.ERROR)).isNull();
    assertThat(tmp.resolve("elsewhere")).as("a link is not followed").doesNotExist();
    assertThat(count).isRegularFile().hasContent("1");
  }

  @Test
  void afterThreeCommandsWhoseArchiveWasNotTakenTheChildrenBackOffAndALaterGoodOneStillGetsIt()
      throws Exception {
    List<Boolean> wrote = new ArrayList<>();
    for (int command = 1; command <= 9; command++) {
      ChildClassData failing = forChild();
      wrote.add(failing.writes());
      if (failing.writes()) {
        child(failing);
      } else {
        assertThat(failing.flags()).as("command %d", command).isEmpty();
      }
      assertThat(failing.adopt(ExitCodes.ERROR)).isNull();
    }
    assertThat(wrote).as("commands 1-3 write, then only the 5th and the 9th (4 and 8 failed before them)")
        .containsExactly(true, true, true, false, true, false, false, false, true);

    ChildClassData notYet = forChild();
    assertThat(notYet.writes()).as("the 10th after nine failures").isFalse();
    Path count = cached().get(0);
    assertThat(Files.readString(count)).as("every command without an archive counted").isEqualTo("10");

    Files.writeString(count, "16");
    ChildClassData good = forChild();
    assertThat(good.writes()).as("the 17th: 16 failed before it").isTrue();
    child(good);
    Path archive = good.adopt(ExitCodes.OK);
    assertThat(archive).isNotNull();
    assertThat(cached()).as("the count is gone with the archive taken").containsExactly(archive);
    assertThat(forChild().flags()).as("the next command maps it").contains("-XX:SharedArchiveFile=" + archive);
  }

  @Test
  void aNewBuildOfTheJarMakesANewArchiveAndMovingItInDeletesTheOldOne() throws Exception {
    Path old = madeArchive();
    Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() - 60_000));

    ChildClassData rebuilt = forChild();

    assertThat(rebuilt.writes()).as("another version of the jar").isTrue();
    child(rebuilt);
    Path now = rebuilt.adopt(0);
    assertThat(now).isNotEqualTo(old);
    assertThat(cached()).containsExactly(now);
  }

  @Test
  void optionsUnderWhichNoJvmCanWriteAnArchiveGiveTheChildNoFlagAndAreNotTriedAgain() throws Exception {
    // the JDK's base archive is made with compressed class pointers: without them no base archive loads
    List<String> noBase = List.of(JAVA, "-XX:-UseCompressedClassPointers", "-Dgitops.cli.reexec=child");
    ChildClassData off = ChildClassData.forChild(noBase, jar.toString(), System.getProperty("java.home"), VM,
        System.getProperty("java.vm.version"), null, Map.of(), cache);

    assertThat(off.flags()).as("a child given -XX:ArchiveClassesAtExit here would not start").isEmpty();
    assertThat(off.writes()).isFalse();
    assertThat(cached()).singleElement().satisfies(f -> assertThat(f.getFileName().toString()).endsWith("-unable"));
    Files.writeString(cached().get(0), "kept");
    assertThat(ChildClassData.forChild(noBase, jar.toString(), System.getProperty("java.home"), VM,
        System.getProperty("java.vm.version"), null, Map.of(), cache).flags()).isEmpty();
    assertThat(Files.readString(cached().get(0))).as("not tried again").isEqualTo("kept");
    assertThat(forChild().writes()).as("other options are tried on their own").isTrue();
  }

  @Test
  void theCacheIsMadeOwnerOnlyAndOneOthersMayWriteIntoIsNotUsed() throws Exception {
    ChildClassData first = forChild();
    assertThat(first.writes()).isTrue();
    assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(cache)))
        .isEqualTo("rwx------");
    child(first);
    Path archive = first.adopt(0);

    Files.setPosixFilePermissions(cache, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
    ChildClassData shared = forChild();

    assertThat(shared.flags()).as("an archive anyone could have planted is never mapped").isEmpty();
    assertThat(shared.writes()).isFalse();
    assertThat(cached()).containsExactly(archive);
  }

  @Test
  void anArchiveThatIsALinkIsNeverMappedAndIsMadeAgain() throws Exception {
    Path archive = madeArchive();
    Path elsewhere = Files.move(archive, tmp.resolve("elsewhere.jsa"));
    Files.createSymbolicLink(archive, elsewhere);

    ChildClassData next = forChild();

    assertThat(next.flags()).noneMatch(f -> f.startsWith("-XX:SharedArchiveFile"));
    assertThat(next.writes()).isTrue();
    assertThat(cached()).as("the link is deleted, not what it points to").isEmpty();
    assertThat(elsewhere).exists();
  }

  @Test
  void staleTempFilesAreSweptAndFreshOnesKept() throws Exception {
    Files.createDirectories(cache);
    Path stale = Files.writeString(cache.resolve("x-y.123.tmp"), "left by a parent that was killed");
    Files.setLastModifiedTime(stale, FileTime.fromMillis(System.currentTimeMillis() - TimeUnit.HOURS.toMillis(1)));
    Path fresh = Files.writeString(cache.resolve("x-y.456.tmp"), "another parent's, being written");
    // a training directory a kill left, with what the demo had made in it
    Path training = Files.createDirectories(cache.resolve("x-y.789.training.tmp"));
    Files.writeString(Files.createDirectories(training.resolve("repo")).resolve("f"), "x");
    Files.createSymbolicLink(training.resolve("out"), jar);
    for (Path p : List.of(training.resolve("repo"), training)) {
      Files.setLastModifiedTime(p, FileTime.fromMillis(System.currentTimeMillis() - TimeUnit.HOURS.toMillis(1)));
    }

    assertThat(forChild().writes()).as("the sweep does not keep the child from its archive").isTrue();

    assertThat(stale).doesNotExist();
    assertThat(training).as("removed with what it held").doesNotExist();
    assertThat(jar).as("a link in it removed, not followed").exists();
    assertThat(fresh).exists();
  }

  @Test
  void theSwitchesAClassPathThatIsNotOneJarAnotherVmOrNoCacheGiveNoArchive() throws IOException {
    List<ChildClassData> off = List.of(forChild(Map.of(ChildClassData.ENV, "false"), null),
        forChild(Map.of(ChildClassData.ENV, " FALSE "), null), forChild(Map.of(), "false"),
        ChildClassData.forChild(JVM, jar + java.io.File.pathSeparator + jar, System.getProperty("java.home"), VM, "1",
            null, Map.of(), cache),
        ChildClassData.forChild(JVM, tmp.toString(), System.getProperty("java.home"), VM, "1", null, Map.of(), cache),
        ChildClassData.forChild(JVM, jar.toString(), System.getProperty("java.home"), "Eclipse OpenJ9 VM", "1", null,
            Map.of(), cache),
        ChildClassData.forChild(JVM, jar.toString(), System.getProperty("java.home"), VM, "1", null, Map.of(), null),
        // class sharing chosen by the user: theirs stands
        ChildClassData.forChild(List.of(JAVA, "-XX:SharedArchiveFile=theirs.jsa"), jar.toString(),
            System.getProperty("java.home"), VM, "1", null, Map.of(), cache),
        ChildClassData.forChild(JVM, jar.toString(), System.getProperty("java.home"), VM, "1", null,
            Map.of("JAVA_TOOL_OPTIONS", "-Xmx1g -Xshare:off"), cache));
    for (ChildClassData d : off) {
      assertThat(d.flags()).isEmpty();
      assertThat(d.classPath()).isNull();
      assertThat(d.writes()).isFalse();
    }
    assertThat(cached()).isEmpty();
    assertThat(forChild(Map.of(ChildClassData.ENV, "true"), null).writes()).isTrue();
  }

  @Test
  void theCacheIsXdgsOrUnderTheHomeDirectory() {
    assertThat(ChildClassData.cacheDirectory(Map.of("XDG_CACHE_HOME", "/var/cache/me"), "/home/me"))
        .isEqualTo(Path.of("/var/cache/me/gitops/jvm"));
    assertThat(ChildClassData.cacheDirectory(Map.of("XDG_CACHE_HOME", "relative"), "/home/me"))
        .as("a relative XDG_CACHE_HOME is ignored, as the spec says").isEqualTo(Path.of("/home/me/.cache/gitops/jvm"));
    assertThat(ChildClassData.cacheDirectory(Map.of(), "/home/me")).isEqualTo(Path.of("/home/me/.cache/gitops/jvm"));
    assertThat(ChildClassData.cacheDirectory(Map.of(), "?")).isNull();
    assertThat(ChildClassData.cacheDirectory(Map.of(), null)).isNull();
  }
}
