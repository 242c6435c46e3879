package dev.gitops.cli;

import java.io.File;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * The JVM a one-shot {@code gitops} command runs in: {@link Main#main} re-executes the same {@code
 * java} as a child process with JVM flags chosen for a short run ({@link #FLAGS}: C1 only),
 * passing every argument unchanged, and exits with the child's exit code. A
 * command such as {@code gitops sync} runs for seconds and exits; true C1-only compilation ({@code
 * -XX:TieredStopAtLevel=1}) is 25–30% less CPU than the C2-excluding directive {@link
 * ShortRunCompilation} can add from inside, but it is not a flag a running JVM or a jar's manifest
 * can set, so a second JVM is started with it (about 0.1 s of start-up, far less than it saves).
 *
 * <p>The child inherits stdin, stdout, stderr, the working directory and the environment; the
 * parent's own JVM options (such as {@code -Xmx} or {@code -D}) are passed on after the chosen
 * flags, so the user's settings win. SIGINT, SIGTERM and SIGHUP to the parent are passed to the
 * child as SIGTERM, which ends the child's JVM as those signals end an in-process command (the
 * store's crash promises hold at any point, see docs/reliability.md); the parent waits for the
 * child and exits with its code; a child ended for the parent's signal gives the code of a JVM ended
 * by that signal (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP), as in one JVM. A SIGKILL of the parent cannot
 * be passed on: the child then finishes its command alone.
 *
 * <p>The command runs in the parent's JVM instead (as before this class existed) for {@code run}
 * (the long-running agent, for which C2 pays off), {@code help}, {@code --help} and {@code
 * --version}; with {@code -Dgitops.cli.reexec=false} or {@code GITOPS_JVM_REEXEC=false}; with {@code
 * -Dgitops.cli.c2=true}; when the parent's JVM options choose the JIT themselves ({@code
 * -XX:TieredStopAtLevel}, {@code -Xint}, ...) or observe the process ({@code -agentlib}, {@code
 * -javaagent}, JFR, {@code -Xlog}, {@code -verbose}, {@code -XX:+Print...}: the user watches the
 * process they started), also through {@code JAVA_TOOL_OPTIONS}, {@code JDK_JAVA_OPTIONS} or {@code
 * _JAVA_OPTIONS}; when the JVM's command line cannot be read back or is not a plain {@code -jar} or
 * {@code -cp} launch; when the signals cannot be handled ({@code -Xrs}); and when the child cannot
 * be started. The child, marked with {@code -Dgitops.cli.reexec=child}, never re-executes.
 *
 * <p>The child maps the class-data archive an earlier child of the same jar wrote, and the first
 * child of a jar writes it ({@link ChildClassData}).
 *
 * <p>This class runs before anything else in {@code main} and uses the JDK's base module only: no
 * picocli, no logging, no lambdas, so the parent loads few classes before the child starts.
 */
final class OneShotJvm {

  /** The system property: {@code false} runs the command in this JVM; {@link #CHILD} marks the child. */
  static final String PROPERTY = "gitops.cli.reexec";

  /** The environment variable: {@code false} runs the command in this JVM. */
  static final String ENV = "GITOPS_JVM_REEXEC";

  /** The value of {@link #PROPERTY} the launcher gives its child. */
  static final String CHILD = "child";

  /**
   * The child's JVM flags, chosen by measurement on the B3 benchmark (benchmarks/README.md, branch
   * {@code launcher}, the subsection "Issue 13 on {@code main}" and "Looked at again on 12-04,
   * 23:30"): C1 only, whose quick compile a run of seconds pays back, and the parallel collector
   * with a 16 MB young generation. G1 grew a one-shot command's heap for its pause goals (a
   * no-change sync of 10,000 files touched ~180 MB, a first sync ~550 MB); a small young generation
   * touched ~130 MB and ~280 MB for the same or less CPU (a first sync of 40,000 files: 18 s and 640
   * MB against 21 s and 1.47 GB). The parallel collector rather than the serial one: the records of
   * the store and the desired state survive and are copied, and the serial collector copied them
   * on one core while every other thread stood still (a no-change sync of 10,000 files: 12 pauses,
   * 119 ms, against 20 pauses, 87 ms); the parallel one took 30 ms off that sync's whole process
   * and 70 ms off a one-file sync's, for ~5% more user CPU. What survives a young collection is
   * tenured at once ({@code -XX:MaxTenuringThreshold=0}): nearly all of it is those records, which
   * live to the end of the command, and copying it between the survivor spaces first was half of
   * the collections' work (a no-change sync of 10,000 files: ~120 ms of pauses against ~70 ms,
   * 1.33 s against 1.23 s, benchmarks/README.md, "Looked at again on 12-05, 16:00"). The collector
   * flags are left out when the user's JVM options choose a collector ({@link #COLLECTOR_FLAGS}),
   * the {@code -Xmn} when they size the young generation or give a heap under 64 MB, the tenuring
   * when they set one ({@link #TENURING}). On a kernel that makes transparent huge pages on
   * request, {@link #HUGE_PAGES} is added.
   */
  static final List<String> FLAGS = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseParallelGC", "-Xmn16m",
      "-XX:MaxTenuringThreshold=0");

  /** The flags of {@link #FLAGS} that choose the collector, its young generation and its tenuring. */
  static final List<String> COLLECTOR_FLAGS = List.of("-XX:+UseParallelGC", "-Xmn16m", "-XX:MaxTenuringThreshold=0");

  /** The flag of {@link #FLAGS} that tenures at the first young collection. */
  private static final String TENURE_AT_ONCE = "-XX:MaxTenuringThreshold=0";

  /**
   * Prefixes of JVM options that set the tenuring: the user's choice replaces {@link
   * #TENURE_AT_ONCE} (an initial threshold above the largest one stops the JVM at its start).
   */
  private static final List<String> TENURING = List.of("-XX:MaxTenuringThreshold", "-XX:InitialTenuringThreshold",
      "-XX:+AlwaysTenure", "-XX:-AlwaysTenure", "-XX:+NeverTenure", "-XX:-NeverTenure");

  /**
   * The flag that backs the child's heap with transparent huge pages, given when the kernel makes
   * them on request only ({@code [madvise]} in {@link #HUGE_PAGES_MODE}, as Debian's and Ubuntu's
   * kernels do): the JVM then asks for them, one page fault per 2 MB instead of per 4 KB. A
   * one-shot command touches its heap once, so its page faults are a good part of its system time:
   * on a host whose faults are dear (a virtual machine), a no-change sync of 10,000 files took
   * 1.19 s against 1.38 s without it, its child 1.00 s against 1.17 s (benchmarks/README.md,
   * "Looked at again on 12-05"). A kernel that compacts memory to find huge pages on a fault may
   * stall a fragmented host instead; {@code -XX:-UseTransparentHugePages} turns them off. With
   * {@code [always]} the kernel does it unasked, with {@code [never]} the JVM would warn that it
   * cannot: in both the flag is not given. The user's own page options replace it ({@link #PAGES}).
   */
  static final String HUGE_PAGES = "-XX:+UseTransparentHugePages";

  /** The kernel's setting of transparent huge pages: the selected one of its modes is in brackets. */
  static final Path HUGE_PAGES_MODE = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");

  /** Prefixes of JVM options that choose the heap's pages: the user's choice replaces {@link #HUGE_PAGES}. */
  private static final List<String> PAGES = List.of("-XX:+UseLargePages", "-XX:-UseLargePages",
      "-XX:+UseTransparentHugePages", "-XX:-UseTransparentHugePages", "-XX:LargePageSizeInBytes",
      "-XX:+UseHugeTLBFS", "-XX:-UseHugeTLBFS", "-XX:+UseSHM", "-XX:-UseSHM");

  /** Prefixes of JVM options that size the young generation: the user's choice replaces {@code -Xmn16m}. */
  private static final List<String> YOUNG = List.of("-Xmn", "-XX:NewSize", "-XX:MaxNewSize", "-XX:NewRatio");

  /** Prefixes of JVM options that size the heap, followed by the size. */
  private static final List<String> HEAP = List.of("-Xms", "-Xmx", "-XX:InitialHeapSize=", "-XX:MaxHeapSize=",
      "-XX:MinHeapSize=");

  /**
   * A heap the user sized below this gets no {@code -Xmn16m}: a young generation that does not fit
   * the initial or the largest heap makes the JVM print warnings (at 16 MB and below).
   */
  static final long SMALL_HEAP = 64L << 20;

  /** The main class of the child: this CLI's. */
  private static final String MAIN = "dev.gitops.cli.Main";

  /** The main class of the jars ({@link Launcher}), which a {@code -cp} launch may name as well. */
  private static final String LAUNCHER = "dev.gitops.cli.Launcher";

  /** Launcher options whose value is the next argument ({@code java -cp X}, ...). */
  private static final List<String> WITH_VALUE = List.of("-cp", "-classpath", "--class-path", "-p", "--module-path",
      "--upgrade-module-path", "--add-modules", "--limit-modules", "--add-exports", "--add-opens", "--add-reads",
      "--patch-module");

  /** The class path options, replaced by the child's own {@code -cp}. */
  private static final List<String> CLASS_PATH = List.of("-cp", "-classpath", "--class-path");

  /** Prefixes of JVM options that choose the JIT: the user's choice is kept by running in this JVM. */
  private static final List<String> JIT = List.of("-XX:TieredStopAtLevel", "-XX:+TieredCompilation",
      "-XX:-TieredCompilation", "-XX:CompilerDirectivesFile", "-Xint", "-Xcomp");

  /**
   * Prefixes of JVM options that observe, debug or record the process: run in this JVM, the one the
   * user started (two JVMs would also bind the same debug port or write the same file).
   */
  private static final List<String> OBSERVING = List.of("-agentlib", "-agentpath", "-javaagent", "-Xrun", "-Xdebug",
      "-Xlog", "-verbose", "-XX:StartFlightRecording", "-XX:+FlightRecorder", "-XX:FlightRecorderOptions",
      "-XX:+Print", "-XX:+Log", "-XX:+Trace", "-XX:+CITime", "-XX:ArchiveClassesAtExit", "-XX:DumpLoadedClassList",
      "-Xshare:dump", "-XX:NativeMemoryTracking");

  /** The environment variables the JVM or the {@code java} launcher read options from. */
  static final List<String> OPTION_VARIABLES = List.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS");

  private OneShotJvm() {}

  /**
   * What {@code main} does with a command line: the child's command line, or the reason the
   * command runs in this JVM ({@code null} reason for commands that never re-execute: nothing to say).
   */
  record Plan(List<String> command, String reason, ChildClassData classData) {
    Plan(List<String> command, String reason) {
      this(command, reason, ChildClassData.none());
    }

    static Plan here(String reason) {
      return new Plan(null, reason);
    }

    boolean reexec() {
      return command != null;
    }

    /** The child's JVM options: its command from the {@code java} executable up to its class path. */
    List<String> jvm() {
      return command.subList(0, command.indexOf("-cp"));
    }

    /** The child's class path. */
    String classPath() {
      return command.get(command.indexOf("-cp") + 1);
    }

    /**
     * This plan with {@code data}'s flags given to the child, right after its {@code java}, and
     * {@code data}'s class path for the child's, when it has one.
     */
    Plan with(ChildClassData data) {
      List<String> withFlags = new ArrayList<>(command.size() + data.flags().size());
      withFlags.add(command.get(0));
      withFlags.addAll(data.flags());
      withFlags.addAll(command.subList(1, command.size()));
      if (data.classPath() != null) {
        withFlags.set(withFlags.indexOf("-cp") + 1, data.classPath());
      }
      return new Plan(List.copyOf(withFlags), reason, data);
    }
  }

  /** Whether {@code args} ask for help or the version only, which runs no command. */
  static boolean helpOrVersion(String... args) {
    for (String a : args) {
      if (a.equals("--help") || a.equals("-h") || a.equals("--version") || a.equals("-V")) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code args} run a one-shot command: not {@code run}, not help or the version. */
  static boolean oneShot(String... args) {
    if (helpOrVersion(args)) {
      return false;
    }
    // the top-level options take no value: the subcommand is the first argument that is not an option
    for (String a : args) {
      if (!a.startsWith("-")) {
        return !a.equals("run") && !a.equals("help");
      }
    }
    return false;
  }

  /**
   * {@link #plan} for this process: its arguments, its {@code java}, its command line and
   * environment; the child gets {@code classPath} ({@link #applicationJar}, else this JVM's).
   */
  static Plan planForThisProcess(String[] args, String classPath) {
    Launch self = Launch.ofThisProcess();
    String javaHome = System.getProperty("java.home");
    String java = self.executable() != null ? self.executable()
        : javaHome == null ? null : javaHome + File.separator + "bin" + File.separator + "java";
    Map<String, String> env = System.getenv();
    Plan plan = plan(args, java, self.arguments(), classPath,
        System.getProperty(PROPERTY), System.getProperty(ShortRunCompilation.KEEP_C2), env,
        oneShot(args) && hugePagesOnRequest(HUGE_PAGES_MODE));  // read only for a command that may re-execute
    if (!plan.reexec()) {
      return plan;
    }
    return plan.with(ChildClassData.forChild(plan.jvm(), plan.classPath(), javaHome,
        System.getProperty("java.vm.name"), System.getProperty("java.vm.version"),
        System.getProperty(ChildClassData.PROPERTY), env,
        ChildClassData.cacheDirectory(env, System.getProperty("user.home"))));
  }

  /**
   * The jar holding the CLI's classes when {@code classPath} (a JVM's {@code java.class.path}) is a
   * launcher jar: one jar whose manifest's {@code Class-Path} names one jar, as {@code gitops.jar}
   * names {@code gitops-all.jar} beside it ({@link Launcher}); that jar, resolved against the launcher's
   * directory as the class loader resolves it, whether it exists or not. Null for any other class
   * path: several entries, a jar that names none or several ({@code gitops-all.jar} run alone), or
   * one that cannot be read. The child JVM gets that jar alone for its class path: its class-data
   * archive then holds every class of one jar ({@link ChildClassData}). Cheap in the JVM started
   * from {@code classPath}: its class loader holds that jar open, and an open jar's index is shared.
   */
  static Path applicationJar(String classPath) {
    // by its manifest, not its name: a launcher renamed (`gitops`, `gitops.JAR`) is one still; a
    // directory or another file fails the open below
    if (classPath == null || classPath.isEmpty() || classPath.contains(File.pathSeparator)) {
      return null;
    }
    try (JarFile jar = new JarFile(classPath, false)) {
      Manifest manifest = jar.getManifest();
      String entries = manifest == null ? null : manifest.getMainAttributes().getValue(Attributes.Name.CLASS_PATH);
      if (entries == null || entries.isBlank()) {
        return null;
      }
      String[] named = entries.strip().split("\\s+");
      if (named.length != 1 || !named[0].endsWith(".jar")) {
        return null;
      }
      // a relative URL, as the class loader reads it (a space in a name is %20)
      return Path.of(Path.of(classPath).toAbsolutePath().toUri().resolve(named[0]));
    } catch (IOException | RuntimeException e) {
      return null;  // not a jar this JVM could have been launched from: its class path is the child's
    }
  }

  /**
   * A process's executable and the arguments after it, as {@link ProcessHandle.Info#command()} and
   * {@link ProcessHandle.Info#arguments()} give them; either null when not known.
   */
  record Launch(String executable, String[] arguments) {

    /**
     * This process's: read from {@code /proc/self/exe} and {@code /proc/self/cmdline} where they
     * exist, the files the JDK reads for {@code ProcessHandle.info()} on Linux, without the rest of
     * {@code info()} (the user's name looked up, the start time, the CPU time: ~10 ms of every
     * command's start); from {@code ProcessHandle.info()} elsewhere.
     */
    static Launch ofThisProcess() {
      Path proc = Path.of("/proc/self");
      if (Files.isDirectory(proc)) {
        try {
          String[] argv = nulSeparated(Files.readAllBytes(proc.resolve("cmdline")), platformCharset());
          if (argv.length > 0) {
            return new Launch(Files.readSymbolicLink(proc.resolve("exe")).toString(),
                Arrays.copyOfRange(argv, 1, argv.length));
          }
        } catch (IOException | RuntimeException e) {
          // not readable here (a restricted /proc): the JDK's own way below
        }
      }
      ProcessHandle.Info info = ProcessHandle.current().info();
      return new Launch(info.command().orElse(null), info.arguments().orElse(null));
    }

    /** The charset the JDK decodes file names and command lines with. */
    private static Charset platformCharset() {
      String name = System.getProperty("sun.jnu.encoding");
      try {
        return name == null ? Charset.defaultCharset() : Charset.forName(name);
      } catch (IllegalArgumentException e) {
        return Charset.defaultCharset();  // a name this JDK does not know: what it falls back to itself
      }
    }
  }

  /** The strings of {@code raw}, each ended by a NUL byte (the last one's NUL may be missing), in {@code cs}. */
  static String[] nulSeparated(byte[] raw, Charset cs) {
    List<String> out = new ArrayList<>();
    int from = 0;
    for (int i = 0; i < raw.length; i++) {
      if (raw[i] == 0) {
        out.add(new String(raw, from, i - from, cs));
        from = i + 1;
      }
    }
    if (from < raw.length) {
      out.add(new String(raw, from, raw.length - from, cs));
    }
    return out.toArray(new String[0]);
  }

  /**
   * Whether {@code modeFile} (the kernel's {@link #HUGE_PAGES_MODE}) selects {@code madvise}:
   * transparent huge pages for the memory a process asks them for. False when it selects another
   * mode or cannot be read (no such kernel setting: not Linux, or a kernel without them).
   */
  static boolean hugePagesOnRequest(Path modeFile) {
    // "always [madvise] never": a line of a few words (sysfs says 4096 bytes for any of its files)
    try (java.io.InputStream in = Files.newInputStream(modeFile)) {
      return new String(in.readNBytes(256), java.nio.charset.StandardCharsets.US_ASCII).contains("[madvise]");
    } catch (IOException | RuntimeException e) {
      return false;  // not readable here: the child runs on the kernel's default pages, as before
    }
  }

  /**
   * {@link #plan(String[], String, String[], String, String, String, Map, boolean)} on a host whose
   * kernel gives no huge pages on request.
   */
  static Plan plan(String[] args, String java, String[] argv, String classPath, String property, String keepC2,
      Map<String, String> env) {
    return plan(args, java, argv, classPath, property, keepC2, env, false);
  }

  /**
   * The child's command line for {@code args}, or why they run in this JVM.
   *
   * @param java the {@code java} executable of this process, null when unknown
   * @param argv this JVM's arguments after the executable (its JVM options, the main class or
   *     {@code -jar JAR}, then {@code args}), null when unknown
   * @param classPath this JVM's {@code java.class.path}
   * @param property the value of {@link #PROPERTY}, null when not set
   * @param keepC2 the value of {@code gitops.cli.c2}, null when not set
   * @param env the environment
   * @param hugePagesOnRequest whether the kernel backs memory with transparent huge pages when a
   *     process asks ({@link #hugePagesOnRequest(Path)}): the child then asks ({@link #HUGE_PAGES})
   */
  static Plan plan(String[] args, String java, String[] argv, String classPath, String property, String keepC2,
      Map<String, String> env, boolean hugePagesOnRequest) {
    if (!oneShot(args)) {
      return Plan.here(null);
    }
    if (CHILD.equals(property)) {
      return Plan.here(null);
    }
    if ("false".equalsIgnoreCase(property)) {
      return Plan.here("-D" + PROPERTY + "=false");
    }
    String fromEnv = env.get(ENV);
    if (fromEnv != null && fromEnv.strip().equalsIgnoreCase("false")) {
      return Plan.here(ENV + "=false");
    }
    if ("true".equalsIgnoreCase(keepC2)) {
      return Plan.here("-D" + ShortRunCompilation.KEEP_C2 + "=true keeps the JVM's compilers");
    }
    for (String variable : OPTION_VARIABLES) {
      String value = env.get(variable);
      if (value != null) {
        for (String option : value.strip().split("\\s+")) {
          String why = keptHere(option);
          if (why != null) {
            return Plan.here(variable + " has " + option + ", which " + why);
          }
        }
      }
    }
    if (java == null || argv == null || classPath == null || classPath.isEmpty()) {
      return Plan.here("this JVM's command line is not known");
    }
    int head = argv.length - args.length;
    if (head < 1) {
      return Plan.here("this JVM's command line does not end with the command's arguments");
    }
    for (int i = 0; i < args.length; i++) {
      if (!argv[head + i].equals(args[i])) {
        return Plan.here("this JVM's command line does not end with the command's arguments");
      }
    }
    // head = the JVM options, then "-jar JAR" or the main class
    List<String> options = new ArrayList<>();
    int end;
    if (head >= 2 && argv[head - 2].equals("-jar")) {
      end = head - 2;
    } else if (argv[head - 1].equals(MAIN) || argv[head - 1].equals(LAUNCHER)) {
      end = head - 1;
    } else {
      return Plan.here("this JVM was not started with -jar or -cp ... " + MAIN + " (or " + LAUNCHER + ")");
    }
    for (int i = 0; i < end; i++) {
      String option = argv[i];
      if (!option.startsWith("-")) {
        // an @argfile, a second main class: not a launch this reads back with confidence
        return Plan.here("this JVM's command line has " + option + " before the main class");
      }
      if (option.equals("-m") || option.equals("--module") || option.startsWith("--module=")
          || option.equals("--source") || option.equals("-jar")) {
        return Plan.here("this JVM's command line has " + option);
      }
      String why = keptHere(option);
      if (why != null) {
        return Plan.here("this JVM has " + option + ", which " + why);
      }
      if (WITH_VALUE.contains(option)) {
        if (i + 1 >= end) {
          return Plan.here("this JVM's command line has " + option + " without a value");
        }
        if (!CLASS_PATH.contains(option)) {
          options.add(option);
          options.add(argv[i + 1]);
        }
        i++;
      } else if (!option.startsWith("--class-path=")) {
        options.add(option);
      }
    }
    List<String> command = new ArrayList<>();
    command.add(java);
    // the user's options come after: none of them chooses the JIT (that stays in this JVM), so a
    // -Xmx of theirs applies as given; a collector of theirs replaces the child's (two would stop the JVM)
    command.addAll(flags(options, env, hugePagesOnRequest));
    command.addAll(options);
    command.add("-D" + PROPERTY + "=" + CHILD);
    command.add("-cp");
    command.add(classPath);
    command.add(MAIN);
    command.addAll(List.of(args));
    return new Plan(List.copyOf(command), null);
  }

  /**
   * {@link #FLAGS} without the collector flags when {@code options} or the option variables of {@code
   * env} choose a collector ({@code -XX:+UseG1GC}, ...), without {@code -Xmn16m} when they size the
   * young generation or give a heap under {@link #SMALL_HEAP}, without the tenuring when they set
   * one ({@link #TENURING}); with {@link #HUGE_PAGES} when {@code hugePagesOnRequest} and they choose
   * no pages of their own ({@link #PAGES}).
   */
  static List<String> flags(List<String> options, Map<String, String> env, boolean hugePagesOnRequest) {
    List<String> all = new ArrayList<>(options);
    for (String variable : OPTION_VARIABLES) {
      String value = env.get(variable);
      if (value != null) {
        all.addAll(List.of(value.strip().split("\\s+")));
      }
    }
    boolean collector = false;
    boolean young = false;
    boolean pages = false;
    boolean tenuring = false;
    for (String option : all) {
      pages |= startsWithAny(option, PAGES);
      tenuring |= startsWithAny(option, TENURING);
      collector |= (option.startsWith("-XX:+Use") || option.startsWith("-XX:-Use")) && option.endsWith("GC");
      young |= startsWithAny(option, YOUNG);
      for (String p : HEAP) {
        if (option.startsWith(p)) {
          long size = bytes(option.substring(p.length()));
          young |= size < SMALL_HEAP;  // unreadable (-1) too: the JVM will say what is wrong with it
        }
      }
    }
    List<String> flags = new ArrayList<>(FLAGS);
    if (collector) {
      flags.removeAll(COLLECTOR_FLAGS);
    } else if (young) {
      flags.remove("-Xmn16m");
    }
    if (tenuring) {
      flags.remove(TENURE_AT_ONCE);
    }
    if (hugePagesOnRequest && !pages) {
      flags.add(HUGE_PAGES);
    }
    return flags;
  }

  /** A JVM size ({@code 512m}, {@code 2G}, {@code 1048576}) in bytes; -1 when it is not one. */
  static long bytes(String size) {
    if (size.isEmpty()) {
      return -1;
    }
    char unit = Character.toLowerCase(size.charAt(size.length() - 1));
    int shift = switch (unit) {
      case 'k' -> 10;
      case 'm' -> 20;
      case 'g' -> 30;
      case 't' -> 40;
      default -> 0;
    };
    String digits = shift == 0 ? size : size.substring(0, size.length() - 1);
    if (digits.isEmpty() || digits.length() > 18 || !digits.chars().allMatch(Character::isDigit)) {
      return -1;
    }
    long n = Long.parseLong(digits);
    return n > (Long.MAX_VALUE >> shift) ? Long.MAX_VALUE : n << shift;
  }

  /** Why {@code option} keeps the command in this JVM, or null when it can be passed to the child. */
  private static String keptHere(String option) {
    if (startsWithAny(option, JIT)) {
      return "chooses the JIT";
    }
    return startsWithAny(option, OBSERVING) ? "observes this process" : null;
  }

  /** Whether {@code option} starts with one of {@code prefixes}. */
  private static boolean startsWithAny(String option, List<String> prefixes) {
    for (String p : prefixes) {
      if (option.startsWith(p)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Starts {@code plan}'s child with this process's stdio, passes INT, TERM and HUP to it, waits,
   * and returns its exit code; empty, with the reason in {@code why[0]}, when it could not be
   * started (nothing ran: the caller runs the command here).
   */
  static Optional<Integer> run(Plan plan, String[] why) {
    Child child = new Child();
    List<sun.misc.Signal> handled = new ArrayList<>();
    List<sun.misc.SignalHandler> previous = new ArrayList<>();
    for (String name : new String[] {"INT", "TERM", "HUP"}) {
      try {
        sun.misc.Signal signal = new sun.misc.Signal(name);
        previous.add(sun.misc.Signal.handle(signal, child));
        handled.add(signal);
      } catch (IllegalArgumentException e) {
        // the JVM keeps the signal (-Xrs): it could not be passed on, so the command runs here
        restore(handled, previous);
        why[0] = "SIG" + name + " cannot be handled (" + e.getMessage() + ")";
        return Optional.empty();
      }
    }
    Process process;
    try {
      process = new ProcessBuilder(plan.command()).inheritIO().start();
    } catch (IOException | RuntimeException e) {
      restore(handled, previous);
      why[0] = "the child JVM could not be started (" + e + ")";
      return Optional.empty();
    }
    child.started(process);
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return Optional.of(child.exitCode(process.waitFor()));
        } catch (InterruptedException e) {
          // the exit code is the child's: keep waiting for it (a signal has already been passed on)
          interrupted = true;
        }
      }
    } finally {
      // this JVM is left as it was found (the caller may go on, as a test does)
      restore(handled, previous);
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void restore(List<sun.misc.Signal> handled, List<sun.misc.SignalHandler> previous) {
    for (int i = 0; i < handled.size(); i++) {
      sun.misc.Signal.handle(handled.get(i), previous.get(i));
    }
  }

  /**
   * The signal handler: a signal ends the child (SIGTERM), also one that arrives before the child
   * has started, which is then ended as soon as it has.
   */
  private static final class Child implements sun.misc.SignalHandler {
    /** The exit code of a JVM ended by SIGTERM, which is how the child ends when a signal is passed on. */
    static final int TERMINATED = 128 + 15;

    private Process process;
    /** The number of the first signal this process received, 0 while none has. */
    private int signal;

    synchronized void started(Process p) {
      process = p;
      if (signal != 0) {
        p.destroy();
      }
    }

    @Override
    public synchronized void handle(sun.misc.Signal s) {
      if (signal == 0) {
        signal = s.getNumber();
      }
      if (process != null) {
        process.destroy();
      }
    }

    /**
     * The code this process exits with once the child exited with {@code code}: the child's, except
     * that a child ended by the SIGTERM passed on for the parent's SIGINT or SIGHUP gives the code of
     * a JVM ended by that signal (130, 129), as the command run in one JVM would have, and not 143.
     */
    synchronized int exitCode(int code) {
      return signal != 0 && code == TERMINATED ? 128 + signal : code;
    }
  }
}
