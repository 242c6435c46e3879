package dev.gitops.ansible.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.api.spi.CallContext;
import dev.gitops.core.internal.Durations;
import dev.gitops.core.internal.fs.Executables;
import dev.gitops.core.redact.Scrubber;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@code ansible-playbook} once for a set of hosts and reads what happened to each through the
 * {@code gitops_jsonl} callback plugin this module ships: the plugin is extracted into the work
 * directory and enabled through the environment ({@code ANSIBLE_CALLBACK_PLUGINS}, {@code
 * ANSIBLE_STDOUT_CALLBACK}). The command is an argument list, never a shell; the hosts go through
 * a limit file ({@code --limit @file}), extra variables through a JSON file ({@code -e @file}).
 * What runs is a playbook written beside the playbook that imports it and then marks, in one more
 * play, the hosts that came through it (see {@link HostResult#completed()}). The run stops at its
 * timeout, at its call's stop time (a little before the call's deadline: see {@link
 * #stopTime(CallContext)}) or when the call is cancelled.
 */
public final class PlaybookRunner {

  private static final Logger LOG = LoggerFactory.getLogger(PlaybookRunner.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PREFIX = "GITOPS-JSONL ";
  private static final String PLUGIN = "gitops_jsonl";
  /**
   * The name of the play (and its one task) run after the playbook: the callback plugin reports
   * each host that reaches it as {@code completed} and shows nothing else of it.
   */
  private static final String COMPLETED = "gitops-jsonl: playbook completed";

  /**
   * How to run.
   *
   * @param binary the ansible-playbook executable
   * @param environment added to the inherited environment
   * @param vaultPasswordFile passed as {@code --vault-password-file}, or null
   * @param forks {@code --forks}, or 0 for Ansible's default
   * @param extraVars passed as {@code -e @file} when not empty
   * @param timeout the longest a run may take
   * @param sensitiveNames variable names (with '*') whose values the plugin scrubs
   */
  public record Options(String binary, Map<String, String> environment, Path vaultPasswordFile, int forks,
      JsonNode extraVars, Duration timeout, List<String> sensitiveNames) {
    /** Copies. */
    public Options {
      Objects.requireNonNull(binary, "binary");
      environment = Map.copyOf(environment);
      Objects.requireNonNull(extraVars, "extraVars");
      Objects.requireNonNull(timeout, "timeout");
      sensitiveNames = List.copyOf(sensitiveNames);
    }
  }

  /** What a host came to in one run. */
  public enum HostStatus {
    /** Every task ran, nothing changed. */
    OK,
    /** Every task ran, some changed something. */
    CHANGED,
    /** A task failed. */
    FAILED,
    /** Ansible could not reach the host. */
    UNREACHABLE,
    /** No task ran for the host (no play matched it). */
    NOT_RUN
  }

  /** One task's diff on one host (check mode with --diff). */
  public record TaskDiff(String task, String diff) {}

  /**
   * One host's result.
   *
   * @param host the host
   * @param status the outcome
   * @param stats Ansible's counters (ok, changed, failures, unreachable, skipped, rescued, ignored)
   * @param failedTask the first task that failed or found the host unreachable, or ""
   * @param taskPath that task's {@code file:line} in the source (the playbook's or its role's), or ""
   * @param message its message (scrubbed): Ansible's msg, then the return code and the end of the
   *     error output when the task had them; or ""
   * @param changedTasks tasks that changed (or would change, in check mode) something
   * @param diffs diffs of changed tasks, in check mode
   * @param completed whether the host came through the whole playbook: the play the runner appends
   *     after it ran there. Ansible ends a play, and the playbook, for every host when a serial batch
   *     fails as a whole or {@code max_fail_percentage} or {@code any_errors_fatal} aborts it; the
   *     hosts it did not fail itself then stop half-way, or before their first task, without a
   *     failure of their own.
   */
  public record HostResult(String host, HostStatus status, Map<String, Integer> stats, String failedTask,
      String taskPath, String message, List<String> changedTasks, List<TaskDiff> diffs, boolean completed) {}

  /**
   * What a run came to.
   *
   * @param exitCode the process's exit code (-1 when it was stopped)
   * @param hosts results by host
   * @param played whether a play started (else the playbook or inventory could not be read)
   * @param stderr the end of the error output, scrubbed
   * @param stopped why the run was stopped (timeout, cancelled), or ""
   * @param debuggerQuit whether Ansible's task debugger opened (its prompt was printed): with no one
   *     to answer it, it quits and Ansible stops the playbook with exit 99, as if interrupted
   * @param inventoryProblem why Ansible read no host from the inventory of the run, in its words
   *     (it could not parse it, or found no host in it), or "" when its error output says neither
   */
  public record Result(int exitCode, Map<String, HostResult> hosts, boolean played, String stderr, String stopped,
      boolean debuggerQuit, String inventoryProblem) {}

  /** The task debugger's prompt ("[h1] TASK: install (debug)> "), which it prints to the output. */
  private static final java.util.regex.Pattern DEBUGGER_PROMPT = java.util.regex.Pattern.compile(
      "^\\[[^\\]]*\\] TASK: .*\\(debug\\)> ");

  /** One step the plugin reported, for progress events. */
  public record Step(String host, String task, String status, String detail) {}

  /** Receives steps as they happen. */
  @FunctionalInterface
  public interface Progress {
    /** A step on a host. */
    void step(Step step);
  }

  /**
   * The settings that make every run run every task of the playbook (tags {@code all}, none
   * skipped), whatever the caller's environment or an {@code ansible.cfg}'s {@code [tags]} say.
   * The provider's {@code environment(map)} may not give them.
   */
  public static final Map<String, String> WHOLE_PLAYBOOK = Map.of("ANSIBLE_RUN_TAGS", "all", "ANSIBLE_SKIP_TAGS", "");

  /**
   * The setting that keeps Ansible's task debugger off, whatever the caller's environment or an
   * {@code ansible.cfg} say: a run has no one to answer it. The provider's {@code environment(map)}
   * may not give it.
   */
  public static final Map<String, String> NO_DEBUGGER = Map.of("ANSIBLE_ENABLE_TASK_DEBUGGER", "False");

  /**
   * The settings that let Ansible read the managed inventory, which is YAML, whatever the caller's
   * environment or an {@code ansible.cfg} say: the {@code yaml} inventory plugin alone (a plugin
   * list without it, {@code ini} say, read no host from it, and the run ran on none), with its
   * default file extensions (a list without {@code .yml} had it pass the file by), and an inventory
   * it still cannot read is an error of the run ({@code ERROR! No inventory was parsed}) rather
   * than a warning and a play on no host. The provider's {@code environment(map)} may not give them.
   */
  public static final Map<String, String> MANAGED_INVENTORY = Map.of("ANSIBLE_INVENTORY_ENABLED", "yaml",
      "ANSIBLE_YAML_FILENAME_EXT", ".yaml,.yml,.json", "ANSIBLE_INVENTORY_PLUGIN_EXTS", ".yaml,.yml,.json",
      "ANSIBLE_INVENTORY_UNPARSED_FAILED", "True");

  /**
   * The values of {@code LC_ALL} under which Ansible refuses to start ("ERROR: Ansible requires the
   * locale encoding to be UTF-8; Detected None."): they name no encoding, and set in {@code LC_ALL}
   * they keep Python from taking the C locale for C.UTF-8 as it does when only {@code LANG} or
   * {@code LC_CTYPE} says C. The provider's {@code environment(map)} may not give them.
   */
  public static final Set<String> NOT_UTF8_LC_ALL = Set.of("C", "POSIX");

  /**
   * Leaves out of {@code env}, the environment of an {@code ansible-playbook} about to start, an
   * {@code LC_ALL} of {@link #NOT_UTF8_LC_ALL} inherited from this process (scripts and CI machines
   * export {@code LC_ALL=C} for byte-wise sorting), with a warning: under it Ansible exits at once,
   * every run and every syntax check with it. Without it, Python reads the C locale as C.UTF-8, or
   * {@code LC_CTYPE} and {@code LANG} decide.
   */
  static void utf8Locale(Map<String, String> env) {
    String all = env.get("LC_ALL");
    if (all != null && NOT_UTF8_LC_ALL.contains(all)) {
      env.remove("LC_ALL");
      LOG.warn("LC_ALL={} of this process's environment is not passed to ansible-playbook: Ansible requires a UTF-8"
          + " locale and exits under that one; set LC_ALL to a UTF-8 locale (C.UTF-8) to choose another", all);
    }
  }

  /** What to do when ansible-playbook is on no PATH directory. */
  public static final String INSTALL =
      "install Ansible (ansible-core) there, or configure the executable's path with ansiblePlaybook(path)";

  private final Options options;
  private final Path workDir;
  private final PidFile pidFile;
  private final java.util.function.Supplier<? extends Collection<String>> moreSensitiveNames;

  /** A runner using {@code workDir} for its plugin, limit files and logs. */
  public PlaybookRunner(Options options, Path workDir) {
    this(options, workDir, Set::of);
  }

  /**
   * A runner whose plugin also scrubs the variables {@code moreSensitiveNames} names at each run
   * (those of vault-encrypted files, which reach Ansible decrypted: only their names mark them).
   */
  public PlaybookRunner(Options options, Path workDir,
      java.util.function.Supplier<? extends Collection<String>> moreSensitiveNames) {
    this.options = options;
    this.workDir = workDir;
    this.pidFile = new PidFile(workDir);
    this.moreSensitiveNames = moreSensitiveNames;
  }

  /** Extracts the callback plugin into the work directory (idempotent). */
  private Path pluginDir() throws IOException {
    Path dir = workDir.resolve("callback_plugins");
    Files.createDirectories(dir);
    Path file = dir.resolve(PLUGIN + ".py");
    try (InputStream in = PlaybookRunner.class.getResourceAsStream("/dev/gitops/ansible/" + PLUGIN + ".py")) {
      if (in == null) {
        throw new IOException("the callback plugin " + PLUGIN + ".py is missing from the gitops-ansible jar");
      }
      byte[] bytes = in.readAllBytes();
      if (!Files.exists(file) || !java.util.Arrays.equals(Files.readAllBytes(file), bytes)) {
        ManagedInventory.write(file, bytes);
      }
    }
    return dir;
  }

  /** The most a call's runs stop ahead of its deadline (see {@link #stopTime(CallContext)}). */
  private static final Duration STOP_AHEAD = Duration.ofSeconds(1);
  /**
   * The least a call's runs stop ahead of its deadline: the time to stop a playbook's processes
   * (Ansible ends within tens of milliseconds of SIGTERM) and record its hosts, on a loaded machine.
   */
  private static final Duration STOP_AHEAD_MIN = Duration.ofMillis(250);

  /**
   * When the runs of the call {@code ctx} stop, taken once when the call begins and shared by every
   * run it makes (the apply's and a decommission's after it): a little before the call's deadline,
   * by a tenth of the time then left (as the Kubernetes provider does), at least a quarter second
   * (the time to stop a playbook and record its hosts) and at most a second. The engine
   * gives up on a call at its deadline exactly, reporting only that it did not return; a run
   * stopped this much earlier is stopped, and its hosts' outcomes (naming the deadline and the task
   * each host was running) returned, before that. No run starts once it has come.
   */
  public static Instant stopTime(CallContext ctx) {
    Duration left = ctx.remaining();
    Duration ahead = left.dividedBy(10);
    ahead = ahead.compareTo(STOP_AHEAD_MIN) < 0 ? STOP_AHEAD_MIN : ahead.compareTo(STOP_AHEAD) > 0 ? STOP_AHEAD : ahead;
    return ctx.deadline().minus(ahead);
  }

  /**
   * Runs {@code playbook} with {@code inventory} for {@code hosts}; {@code check} adds {@code
   * --check --diff}. Returns when the process ended or was stopped: at its timeout, at {@code
   * stopAt} (the call's {@link #stopTime(CallContext)}) or when the call is cancelled.
   *
   * @throws NotStarted when {@code stopAt} has come, or the call was cancelled, before the process
   *     could start
   */
  public Result run(Path inventory, Path playbook, Collection<String> hosts, boolean check, CallContext ctx,
      Instant stopAt, Scrubber scrubber, Progress progress) throws IOException, InterruptedException {
    Path program = Executables.locate("ansible-playbook", options.binary(), System.getenv("PATH"), INSTALL);
    awaitLeftover(ctx, stopAt);
    Path runs = Files.createDirectories(workDir.resolve("runs"));
    removeLeftRunDirectories(runs, workDir.resolve("bundles"));
    Path runDir = Files.createTempDirectory(runs, "run-");
    try {
      return runIn(program, runDir, inventory, playbook, hosts, check, ctx, stopAt, scrubber, progress);
    } finally {
      BundleDirectory.deleteTree(runDir);
      Path wrapper = playbook.resolveSibling(".gitops-" + runDir.getFileName() + ".yml");
      try {
        Files.deleteIfExists(wrapper);
      } catch (IOException e) {
        LOG.debug("cannot remove {}: {}", wrapper, e.toString());
      }
    }
  }

  /**
   * Waits for a playbook that an earlier process started on this work directory and left running
   * (it was killed, or its JVM exited before it could stop the playbook), up to the call's stop
   * time {@code stopAt}. Waiting rather than refusing at once: such a playbook is usually the
   * previous sync's own run finishing its hosts, and it ends by itself; waiting serialises the two runs as if that
   * sync had ended normally, while refusing would fail every sync (and have the engine retry it)
   * until the leftover ends, with no safety gained. A leftover still running at the stop time is
   * refused with its pid, so a hung one is never silently run beside, nor killed behind the
   * user's back: it may be in the middle of changing a host.
   *
   * @throws Busy when it still runs at the stop time or the call is cancelled
   */
  private void awaitLeftover(CallContext ctx, Instant stopAt) throws IOException, InterruptedException {
    Optional<PidFile.Live> live = pidFile.live();
    if (live.isEmpty()) {
      return;
    }
    LOG.warn("{}; waiting for it to end (until {}) before running ansible-playbook at {}", live.get().describe(),
        ctx.deadline(), ctx.revision());
    while (live.isPresent()) {
      if (ctx.cancellation().isCancelled() || !Instant.now().isBefore(stopAt)) {
        throw new Busy(live.get().describe() + "; " + (ctx.cancellation().isCancelled() ? "cancelled" : "the call's"
            + " deadline (" + ctx.deadline() + ") came") + " while waiting for it to end. A second ansible-playbook is"
            + " not run on the same hosts beside it: wait for it, or stop it (kill " + live.get().pid() + ") and sync"
            + " again");
      }
      Thread.sleep(Math.max(1, Math.min(200, Duration.between(Instant.now(), stopAt).toMillis())));
      live = pidFile.live();
    }
    LOG.info("the earlier ansible-playbook has ended; running at {}", ctx.revision());
  }

  /**
   * Removes run directories a killed process left (a live run's directory is its own and is
   * removed when it ends; none runs here now, the caller having waited for any).
   */
  private static void removeLeftRunDirectories(Path runs, Path bundles) {
    try (java.util.stream.Stream<Path> s = Files.list(runs)) {
      s.filter(d -> d.getFileName().toString().startsWith("run-") && Files.isDirectory(d)).forEach(d -> {
        LOG.info("removing {}, left by an earlier run that did not end", d);
        BundleDirectory.deleteTree(d);
      });
    } catch (IOException e) {
      LOG.warn("cannot list {} to remove what earlier runs left: {}", runs, e.toString());
    }
    // and the run playbooks such runs left beside their playbooks (see withCompletionPlay)
    if (!Files.isDirectory(bundles)) {
      return;
    }
    try (java.util.stream.Stream<Path> s = Files.walk(bundles)) {
      for (Path f : (Iterable<Path>) s::iterator) {
        String n = f.getFileName().toString();
        if (n.startsWith(".gitops-run-") && n.endsWith(".yml") && Files.isRegularFile(f)) {
          Files.deleteIfExists(f);
        }
      }
    } catch (IOException | java.io.UncheckedIOException e) {
      LOG.warn("cannot remove the run playbooks earlier runs left in {}: {}", bundles, e.toString());
    }
  }

  /**
   * The executable exists but the system cannot start it: not executable by this user, or a script
   * whose interpreter ({@code #!} line) is missing, as when the virtualenv Ansible was installed in
   * is gone. Retrying does not help; the message names the executable and, for a script, its
   * interpreter.
   */
  public static final class CannotStart extends IOException {
    private static final long serialVersionUID = 1L;

    CannotStart(Path program, IOException cause) {
      super("cannot start " + program + ": " + reason(cause) + interpreter(program), cause);
    }

    /** The system's reason ("error=2, No such file or directory") without Java's repetition of the command. */
    private static String reason(IOException e) {
      String m = String.valueOf(e.getMessage());
      int at = m.indexOf("error=");
      return at >= 0 ? m.substring(at) : m;
    }

    /** For a script, its interpreter and whether it exists. */
    private static String interpreter(Path program) {
      try (InputStream in = Files.newInputStream(program)) {
        String first = new String(in.readNBytes(256), StandardCharsets.UTF_8).lines().findFirst().orElse("");
        if (!first.startsWith("#!")) {
          return "";
        }
        String[] words = first.substring(2).strip().split("\\s+");
        Path interpreter = Path.of(words[0]);
        return " (a script whose interpreter, on its #! line, is " + interpreter
            + (Files.isExecutable(interpreter) ? "" : ", which does not exist or is not executable: reinstall Ansible"
                + " or configure another executable with ansiblePlaybook(path)") + ")";
      } catch (IOException | RuntimeException e) {
        return "";  // unreadable: the system's reason says enough
      }
    }
  }

  /**
   * The call was done (its stop time came, shortly before its deadline, or it was cancelled) before
   * ansible-playbook started: nothing was started, so nothing ran on any host. A playbook started
   * after the stop time would be stopped a moment later, perhaps half-way through its first task.
   */
  public static final class NotStarted extends IOException {
    private static final long serialVersionUID = 1L;

    NotStarted(String message) {
      super(message);
    }

    /**
     * Thrown when {@code ctx} is cancelled or its stop time {@code stopAt} (see {@link
     * PlaybookRunner#stopTime(CallContext)}) has come: what starts then would be stopped at once.
     */
    public static void unlessTimeLeft(CallContext ctx, Instant stopAt) throws NotStarted {
      if (ctx.cancellation().isCancelled()) {
        throw new NotStarted("the call was cancelled before ansible-playbook started; nothing ran");
      }
      if (!Instant.now().isBefore(stopAt)) {
        throw new NotStarted("the call's deadline (" + ctx.deadline() + ") came before ansible-playbook could start"
            + " (none starts in the last " + Durations.human(Duration.between(stopAt, ctx.deadline()))
            + " before it, when it would be stopped at once); nothing ran");
      }
    }
  }

  /** Another ansible-playbook runs on this inventory: running a second one beside it is refused. */
  public static final class Busy extends IOException {
    private static final long serialVersionUID = 1L;

    Busy(String message) {
      super(message);
    }
  }

  private Result runIn(Path program, Path runDir, Path inventory, Path playbook, Collection<String> hosts, boolean check,
      CallContext ctx, Instant stopAt, Scrubber scrubber, Progress progress) throws IOException, InterruptedException {
    Path cwd = playbook.toAbsolutePath().normalize().getParent();
    Path limit = runDir.resolve("limit");
    Files.write(limit, String.join("\n", new TreeSet<>(hosts)).concat("\n").getBytes(StandardCharsets.UTF_8));
    List<String> args = new ArrayList<>();
    args.add(program.toString());
    args.add("-i");
    args.add(inventory.toString());
    args.add("--limit");
    args.add("@" + underWorkDir(cwd, limit));
    if (options.forks() > 0) {
      args.add("--forks");
      args.add(Integer.toString(options.forks()));
    }
    if (options.extraVars().size() > 0) {
      Path extra = runDir.resolve("extra-vars.json");
      ManagedInventory.write(extra, JSON.writeValueAsBytes(options.extraVars()));
      args.add("-e");
      args.add("@" + extra);
    }
    if (options.vaultPasswordFile() != null) {
      args.add("--vault-password-file");
      args.add(options.vaultPasswordFile().toAbsolutePath().toString());
    }
    if (check) {
      args.add("--check");
      args.add("--diff");
    }
    // after "--" nothing can be taken for an option, whatever the path looks like
    args.add("--");
    args.add(withCompletionPlay(playbook, runDir).toString());

    ProcessBuilder pb = new ProcessBuilder(args).directory(cwd.toFile());
    Map<String, String> env = pb.environment();
    env.putAll(options.environment());
    // A run stopped at its timeout or on cancellation, or whose JVM was killed, leaves Ansible's
    // temporary directories behind: the controller's (ANSIBLE_LOCAL_TEMP, ~/.ansible/tmp/ansible-local-*
    // by default) and the payload directories of the modules it runs on this machine (TMPDIR,
    // ansible_<module>_payload_*). Under the run directory they go with it, when the run ends or, after
    // a kill, when the next run removes what earlier runs left. Given in the provider's environment,
    // they are the user's and left as given.
    temporaryDirectory(env, "ANSIBLE_LOCAL_TEMP", runDir.resolve("local-tmp"));
    temporaryDirectory(env, "TMPDIR", runDir.resolve("tmp"));
    String localTemp = env.get("ANSIBLE_LOCAL_TEMP");
    String plugins = underWorkDir(cwd, pluginDir());
    String existing = env.get("ANSIBLE_CALLBACK_PLUGINS");
    env.put("ANSIBLE_CALLBACK_PLUGINS", existing == null || existing.isEmpty() ? plugins : plugins + ":" + existing);
    env.put("ANSIBLE_STDOUT_CALLBACK", PLUGIN);
    // Every run runs the whole playbook: a host that comes through it is recorded as converged to
    // the digest of every file, so a tag selection inherited from the caller's environment or set
    // by an ansible.cfg's [tags] (which these variables override) would record as converged a host
    // whose skipped tasks never ran, and a run tag would skip the completion play too.
    // No task debugger either: with its input at /dev/null it quits at the first failed task and
    // ansible-playbook exits 99 mid-play, as if interrupted, leaving every other host of the batch
    // unknown, at every sync for as long as one host fails.
    // And the managed inventory read as what it is, YAML: an inventory plugin list without yaml
    // (ANSIBLE_INVENTORY_ENABLED=ini, an ansible.cfg's enable_plugins) read no host from it.
    Map<String, String> forced = new java.util.TreeMap<>(WHOLE_PLAYBOOK);
    forced.putAll(NO_DEBUGGER);
    forced.putAll(MANAGED_INVENTORY);
    for (Map.Entry<String, String> t : forced.entrySet()) {
      String inherited = env.put(t.getKey(), t.getValue());
      if (inherited != null && !inherited.equals(t.getValue())) {
        LOG.warn("{}={} of this process's environment is not passed to ansible-playbook: {}", t.getKey(), inherited,
            NO_DEBUGGER.containsKey(t.getKey()) ? "no run has anyone to answer the task debugger"
                : MANAGED_INVENTORY.containsKey(t.getKey()) ? "the managed inventory is YAML, read by the yaml inventory"
                    + " plugin" : "every run runs the whole playbook");
      }
    }
    utf8Locale(env);
    env.put("ANSIBLE_NOCOLOR", "1");
    env.put("ANSIBLE_FORCE_COLOR", "0");
    env.put("ANSIBLE_RETRY_FILES_ENABLED", "false");
    env.put("PYTHONUNBUFFERED", "1");
    Set<String> sensitive = new TreeSet<>(options.sensitiveNames());
    sensitive.addAll(moreSensitiveNames.get());
    env.put("GITOPS_SENSITIVE_VARS", String.join(",", sensitive));
    pb.redirectError(runDir.resolve("stderr").toFile());
    pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));

    Instant started = Instant.now();
    Instant deadline = stopAt;  // after any wait for a leftover: the run has what is left
    String stopsAt = "at its call's deadline (the engine's call timeout; the CLI's --call-timeout), stopped "
        + Durations.human(Duration.between(stopAt, ctx.deadline()))
        + " ahead of it so that the call returns this in time";
    Instant ownDeadline = Instant.now().plus(options.timeout());
    if (ownDeadline.isBefore(deadline)) {
      deadline = ownDeadline;
      stopsAt = "after " + Durations.human(options.timeout()) + " (its timeout)";
    }
    LOG.info("ansible-playbook {}{} for {} host(s) at {}", playbook.getFileName(), check ? " --check --diff" : "",
        hosts.size(), ctx.revision());
    // nothing starts after the call's stop time: the time may have gone to an earlier run of the
    // same call (a decommission after a converge) or to waiting for a leftover playbook
    NotStarted.unlessTimeLeft(ctx, stopAt);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new CannotStart(program, e);
    }
    try {
      pidFile.record(p, program.toString());
    } catch (IOException e) {
      // unrecorded, it could be run beside if this process died: not started at all
      stop(p, grace(Duration.between(started, deadline), ctx));
      throw new IOException("cannot record the ansible-playbook it started in " + pidFile.file() + ": " + e.getMessage(), e);
    }
    try {
      return await(p, runDir, inventory, playbook, hosts, ctx, deadline, Duration.between(started, deadline), stopsAt,
          scrubber, progress, diff -> sourcePaths(stableTemporaryPaths(diff, localTemp)));
    } finally {
      if (!p.isAlive()) {
        pidFile.clear(p.pid());
      }
    }
  }

  /** Points {@code variable} at {@code dir} (made here) unless the provider's environment gives it. */
  private void temporaryDirectory(Map<String, String> env, String variable, Path dir) throws IOException {
    if (!options.environment().containsKey(variable)) {
      env.put(variable, Files.createDirectories(dir).toString());
    }
  }

  private Result await(Process p, Path runDir, Path inventory, Path playbook, Collection<String> hosts, CallContext ctx,
      Instant deadline, Duration given, String limit, Scrubber scrubber, Progress progress,
      java.util.function.UnaryOperator<String> diffs) throws InterruptedException {
    Path stderr = runDir.resolve("stderr");
    Collector collector = new Collector(scrubber, progress, this::sourcePath, this::sourcePaths, diffs);
    Thread reader = new Thread(() -> collector.read(p.getInputStream()), "ansible-playbook-output");
    reader.setDaemon(true);
    reader.start();
    String stopped = "";
    try {
      // woken at the deadline itself, not up to 100 ms after it: the stop time is only a little ahead of the call's
      while (!p.waitFor(Math.max(1, Math.min(100, Duration.between(Instant.now(), deadline).toMillis())),
          TimeUnit.MILLISECONDS)) {
        if (ctx.cancellation().isCancelled()) {
          stopped = "cancelled";
        } else if (!Instant.now().isBefore(deadline)) {
          stopped = "timed out " + limit;
        }
        if (!stopped.isEmpty()) {
          stop(p, grace(given, ctx));
          break;
        }
      }
    } catch (InterruptedException e) {
      // An abandoned call is interrupted: the playbook must not go on changing hosts that the
      // engine now holds unknown, nor run beside the next sync's playbook on the same hosts.
      stop(p, grace(given, ctx));
      throw e;
    }
    reader.join(TimeUnit.SECONDS.toMillis(10));
    String err = sourcePaths(scrubber.scrub(tail(stderr)));
    int code = stopped.isEmpty() ? p.exitValue() : -1;
    if (!stopped.isEmpty()) {
      stopped += collector.running();
    }
    LOG.info("ansible-playbook {} ended: exit {}{}", playbook.getFileName(), code, stopped.isEmpty() ? "" : " (" + stopped + ")");
    return new Result(code, collector.results(hosts), collector.played, err, stopped, collector.debugger,
        inventoryProblem(err, inventory));
  }

  /** The start of a warning or an error in Ansible's error output; what follows up to the next one is its text. */
  private static final java.util.regex.Pattern ANSIBLE_SAYS = java.util.regex.Pattern.compile(
      "(?m)^(?:\\[WARNING\\]:|ERROR!)");

  /**
   * Why Ansible read no host from {@code inventory}, from its error output {@code stderr}: it could
   * not parse the file ("Unable to parse … as an inventory source", "No inventory was parsed"), or
   * found no host in it ("provided hosts list is empty"). Its warnings to that effect, each on one
   * line (Ansible wraps them), joined; "" when it said neither. The run then matched none of its
   * hosts, which a bare "no host matched" would leave unexplained.
   */
  static String inventoryProblem(String stderr, Path inventory) {
    List<String> said = new ArrayList<>();
    java.util.regex.Matcher m = ANSIBLE_SAYS.matcher(stderr);
    List<Integer> starts = new ArrayList<>();
    while (m.find()) {
      starts.add(m.start());
    }
    for (int i = 0; i < starts.size(); i++) {
      String one = stderr.substring(starts.get(i), i + 1 < starts.size() ? starts.get(i + 1) : stderr.length())
          .replaceFirst("^\\[WARNING\\]:\\s*", "").replaceAll("\\s*\\R\\s*", " ").strip();
      if (one.contains("as an inventory source") || one.contains("No inventory was parsed")
          || one.startsWith("* Failed to parse") || one.contains("provided hosts list is empty")) {
        said.add(one);
      }
    }
    if (said.isEmpty()) {
      return "";
    }
    boolean unread = said.stream().anyMatch(w -> w.contains("as an inventory source") || w.contains("No inventory was parsed"));
    return (unread ? "Ansible could not read the inventory " + inventory + " (it is YAML, read by the yaml inventory plugin)"
        : "Ansible found no host in the inventory " + inventory) + ", so the run matched none of its hosts: "
        + String.join("; ", said);
  }

  /**
   * {@code file} (under the work directory, as the run's working directory {@code cwd} is) as a
   * path relative to {@code cwd}: "..", "runs", "run-…" and such names only. Ansible splits a
   * {@code --limit} argument on white space, commas and colons (so "@/var/lib/my gitops/…" named
   * a limit file "/var/lib/my"), and a callback plugin path list on colons; the absolute path of a
   * work directory may hold any of them.
   */
  private static String underWorkDir(Path cwd, Path file) {
    return cwd.relativize(file.toAbsolutePath().normalize()).toString();
  }

  /**
   * A playbook beside {@code playbook} (so that its {@code group_vars}, {@code host_vars} and roles
   * are found as before) that imports it and then runs one play, {@link #COMPLETED}, on every host
   * still in the run: the plugin reports each host that reaches it, so a host Ansible stopped
   * without a failure of its own (a serial batch that failed, {@code max_fail_percentage}, {@code
   * any_errors_fatal}: the playbook ends there) is told from one that ran every task. Removed with
   * the run directory's other files when the run ends.
   */
  private static Path withCompletionPlay(Path playbook, Path runDir) throws IOException {
    Path wrapper = playbook.resolveSibling(".gitops-" + runDir.getFileName() + ".yml");
    String name = InventoryYaml.string(COMPLETED);
    String text = "# Written by gitops-ansible for one run: the playbook, then a play marking the hosts that"
        + " completed it.\n"
        + "- import_playbook: " + InventoryYaml.string(playbook.getFileName().toString()) + "\n"
        + "- name: " + name + "\n"
        + "  hosts: all\n"
        + "  gather_facts: false\n"
        + "  tasks:\n"
        + "    - name: " + name + "\n"
        + "      ansible.builtin.debug:\n"
        + "        msg: completed\n"
        + "      changed_when: false\n";
    ManagedInventory.write(wrapper, text.getBytes(StandardCharsets.UTF_8));
    return wrapper;
  }

  /**
   * A task's {@code file:line} as the source names it: the playbook runs from a bundle directory
   * ({@code <work>/bundles/<content hash>/}), whose paths below it are the repository's.
   */
  private String sourcePath(String fileAndLine) {
    int colon = fileAndLine.lastIndexOf(':');
    String file = colon > 0 ? fileAndLine.substring(0, colon) : fileAndLine;
    String line = colon > 0 ? fileAndLine.substring(colon) : "";
    try {
      Path f = Path.of(file);
      Path bundles = workDir.resolve("bundles");
      List<Path> roots = new ArrayList<>(List.of(bundles));
      if (Files.isDirectory(bundles)) {
        roots.add(bundles.toRealPath());  // Ansible resolves links in the paths it loads
      }
      for (Path root : roots) {
        if (f.startsWith(root) && f.getNameCount() > root.getNameCount() + 1) {
          return f.subpath(root.getNameCount() + 1, f.getNameCount()) + line;
        }
      }
    } catch (IOException | java.nio.file.InvalidPathException e) {
      // shown as Ansible gave it
    }
    return fileAndLine;
  }

  /**
   * {@code text} (Ansible's message) with every path into a bundle directory as the source names
   * it: "'play/site.yml': line 4", not the path of the copy under the work directory.
   */
  private String sourcePaths(String text) {
    Path bundles = workDir.resolve("bundles").toAbsolutePath().normalize();
    List<Path> roots = new ArrayList<>(List.of(bundles));
    try {
      if (Files.isDirectory(bundles)) {
        roots.add(bundles.toRealPath());  // Ansible resolves links in the paths it loads
      }
    } catch (IOException e) {
      // the path as given is replaced still
    }
    String out = text;
    for (Path root : roots) {
      out = out.replaceAll(java.util.regex.Pattern.quote(root + "/") + "[0-9a-f]{64}/", "");
    }
    return out;
  }

  /**
   * The directories Ansible makes in its local temporary directory, named anew at every run: one per
   * process ({@code ansible-local-<pid><random>}) and one per task ({@code tmp<random>}).
   */
  private static final String LOCAL_TEMP_DIRS = "/ansible-local-[^/\\s]*/(?:tmp[^/\\s]*/)?";
  /** What stands for them, and the local temporary directory above them, in a diff. */
  static final String RENDERED = "(rendered)/";

  /**
   * {@code diff} (a task's, in check mode) with the paths that are new at every run written one way:
   * a template is rendered into Ansible's local temporary directory, {@code localTemp} (the run's own,
   * under the work directory, unless the environment gives one), in directories named at random,
   * before it is compared, and its diff names that file ({@code +++ after: …/runs/run-…/local-tmp/
   * ansible-local-…/tmp…/app.conf.j2}, now {@code +++ after: (rendered)/app.conf.j2}). Otherwise no
   * two observations of the same drift were equal, and a reviewed plan correcting it never matched
   * the plan computed again when it was applied.
   */
  static String stableTemporaryPaths(String diff, String localTemp) {
    String out = diff;
    if (localTemp != null && !localTemp.isEmpty()) {
      List<Path> roots = new ArrayList<>();
      try {
        Path root = Path.of(localTemp).toAbsolutePath().normalize();
        roots.add(root);
        if (Files.isDirectory(root)) {
          roots.add(root.toRealPath());  // Ansible resolves links in the path it is given
        }
      } catch (IOException | java.nio.file.InvalidPathException e) {
        // not a path this system takes: the pattern below still finds the directories Ansible made
      }
      for (Path root : roots) {
        out = out.replaceAll(java.util.regex.Pattern.quote(root.toString()) + LOCAL_TEMP_DIRS,
            java.util.regex.Matcher.quoteReplacement(RENDERED));
      }
    }
    // one given otherwise (an ansible.cfg's local_tmp): the directories it makes, and the path above them
    return out.replaceAll("(?:/[^/\\s]+)*" + LOCAL_TEMP_DIRS, java.util.regex.Matcher.quoteReplacement(RENDERED));
  }

  /** The longest a stopped playbook is given between SIGTERM and SIGKILL. */
  static final Duration GRACE_MAX = Duration.ofSeconds(5);
  /** The least a stopped playbook is given between SIGTERM and SIGKILL. */
  static final Duration GRACE_MIN = Duration.ofMillis(100);
  /** How long, after SIGKILL, a process is waited for (it ends at once unless stuck in the kernel). */
  private static final Duration KILLED_WAIT = Duration.ofSeconds(1);

  /**
   * How long a run given {@code given} (from its start to its deadline) may take to end after
   * SIGTERM before it is killed: a tenth of {@code given}, at most {@link #GRACE_MAX} (5 s) and no
   * more than half of what is then left before the call's deadline when that is still ahead (so a
   * playbook that ignores SIGTERM is killed, and its hosts' outcomes returned, before the engine
   * gives up on the call), and at least {@link #GRACE_MIN} (100 ms). Ansible ends within tens of
   * milliseconds of SIGTERM; only a playbook, module or plugin that ignores it waits that long.
   */
  static Duration grace(Duration given, CallContext ctx) {
    Duration g = given.dividedBy(10);
    g = g.compareTo(GRACE_MAX) > 0 ? GRACE_MAX : g;
    Duration left = ctx == null ? Duration.ZERO : Duration.between(Instant.now(), ctx.deadline());
    if (!left.isNegative() && !left.isZero() && left.dividedBy(2).compareTo(g) < 0) {
      g = left.dividedBy(2);
    }
    return g.compareTo(GRACE_MIN) < 0 ? GRACE_MIN : g;
  }

  /**
   * SIGTERM to the process and every process it started (Ansible's workers, the modules they run
   * and theirs), then, once the process ended or after {@code grace} (see {@link #grace}),
   * SIGKILL to whatever of that tree is left, including what it started meanwhile. Waits through
   * an interrupt, which it passes on: the thread of an abandoned call is interrupted, and the
   * playbook must stop all the same.
   */
  static void stop(Process p, Duration grace) {
    Set<ProcessHandle> tree = new java.util.LinkedHashSet<>(p.descendants().toList());
    p.destroy();
    tree.forEach(ProcessHandle::destroy);
    boolean interrupted = Thread.interrupted();
    try {
      if (!waitThroughInterrupts(p, grace)) {
        LOG.warn("ansible-playbook (pid {}) did not stop within {} of SIGTERM: killed with every process it started",
            p.pid(), Durations.human(grace));
      }
      // what was started since: by the process while it lives, by its children after it ended (an
      // orphan descends from init, not from it, so it is looked for below those known already)
      p.descendants().forEach(tree::add);
      for (ProcessHandle h : List.copyOf(tree)) {
        h.descendants().forEach(tree::add);
      }
      // the process first: killed after its children, it could start another on seeing them end
      p.destroyForcibly();
      tree.forEach(ProcessHandle::destroyForcibly);
      if (!waitThroughInterrupts(p, KILLED_WAIT)) {
        LOG.warn("ansible-playbook (pid {}) still runs {} after SIGKILL (stuck in the kernel?)", p.pid(),
            Durations.human(KILLED_WAIT));
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Waits up to {@code d} for {@code p} to end, an interrupt notwithstanding (it is kept). */
  private static boolean waitThroughInterrupts(Process p, Duration d) {
    long until = System.nanoTime() + d.toNanos();
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return p.waitFor(Math.max(0, until - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static String tail(Path file) {
    try {
      return lastBytes(file, 4000).strip();
    } catch (IOException e) {
      return "(no error output: " + e.getMessage() + ")";
    }
  }

  /**
   * The text of the last {@code max} bytes of {@code file} (from the first whole UTF-8 character),
   * read from its end: an error output may be far larger than what is shown of it, gigabytes even,
   * which read whole would not fit in an array.
   */
  static String lastBytes(Path file, int max) throws IOException {
    try (java.nio.channels.SeekableByteChannel ch = Files.newByteChannel(file)) {
      long size = ch.size();
      long from = Math.max(0, size - max);
      ch.position(from);
      java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate((int) (size - from));
      while (buf.hasRemaining() && ch.read(buf) >= 0) {
        // reads until the buffer is full or the file ends (it may shrink meanwhile)
      }
      byte[] b = buf.array();
      int start = 0;
      while (from > 0 && start < buf.position() && (b[start] & 0xC0) == 0x80) {
        start++;  // a character cut at the start: its continuation bytes are no text
      }
      return new String(b, start, buf.position() - start, StandardCharsets.UTF_8);
    }
  }

  /** Reads the plugin's lines and keeps per-host results. */
  private static final class Collector {
    private final Scrubber scrubber;
    private final Progress progress;
    private final java.util.function.UnaryOperator<String> paths;
    private final java.util.function.UnaryOperator<String> texts;
    private final java.util.function.UnaryOperator<String> diffTexts;
    private final Map<String, String[]> firstFailure = new LinkedHashMap<>();
    private final Map<String, List<String>> changed = new LinkedHashMap<>();
    private final Map<String, List<TaskDiff>> diffs = new LinkedHashMap<>();
    private final Map<String, Map<String, Integer>> stats = new LinkedHashMap<>();
    private final Set<String> unreachable = new TreeSet<>();
    private final Set<String> failed = new TreeSet<>();
    private final Set<String> completed = new TreeSet<>();
    /** The task each host has started and not reported a result of: name and repository file:line. */
    private final Map<String, String[]> running = new TreeMap<>();
    volatile boolean played;
    volatile boolean debugger;

    Collector(Scrubber scrubber, Progress progress, java.util.function.UnaryOperator<String> paths,
        java.util.function.UnaryOperator<String> texts, java.util.function.UnaryOperator<String> diffTexts) {
      this.scrubber = scrubber;
      this.progress = progress;
      this.paths = paths;
      this.texts = texts;
      this.diffTexts = diffTexts;
    }

    void read(InputStream in) {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          if (!line.startsWith(PREFIX)) {
            if (DEBUGGER_PROMPT.matcher(line).find()) {
              debugger = true;
            }
            if (!line.isBlank()) {
              LOG.debug("ansible-playbook: {}", scrubber.scrub(line));
            }
            continue;
          }
          JsonNode e;
          try {
            e = JSON.readTree(line.substring(PREFIX.length()));
          } catch (IOException ex) {
            LOG.warn("unreadable line from the gitops_jsonl callback: {}", ex.getMessage());
            continue;
          }
          handle(e);
        }
      } catch (IOException e) {
        // the process was stopped or closed its output; the exit code tells the rest
        LOG.debug("reading ansible-playbook output: {}", e.toString());
      }
    }

    private synchronized void handle(JsonNode e) {
      String event = e.path("event").asText();
      String host = e.path("host").asText();
      String task = scrubber.scrub(e.path("task").asText());
      switch (event) {
        case "play" -> played = true;
        case "completed" -> completed.add(host);
        case "start" -> {
          String at = e.path("path").asText("");
          running.put(host, new String[] {task, at.isEmpty() ? "" : paths.apply(at)});
          progress.step(new Step(host, task, "started", ""));
        }
        case "result" -> {
          running.remove(host);
          String status = e.path("status").asText();
          String msg = texts.apply(failureMessage(e, scrubber));
          boolean ignored = e.path("ignored").asBoolean(false);
          if ((status.equals("failed") && !ignored) || status.equals("unreachable")) {
            String at = e.path("path").asText("");
            firstFailure.putIfAbsent(host, new String[] {task, at.isEmpty() ? "" : paths.apply(at), msg});
            (status.equals("failed") ? failed : unreachable).add(host);
          }
          if (status.equals("changed")) {
            changed.computeIfAbsent(host, h -> new ArrayList<>()).add(task);
          }
          String diff = e.path("diff").asText("");
          if (!diff.isEmpty()) {
            diffs.computeIfAbsent(host, h -> new ArrayList<>())
                .add(new TaskDiff(task, diffTexts.apply(scrubber.scrub(diff))));
          }
          progress.step(new Step(host, task, ignored ? "failed (ignored)" : status, msg));
        }
        case "stats" -> e.path("hosts").fields().forEachRemaining(h -> {
          Map<String, Integer> counts = new LinkedHashMap<>();
          h.getValue().fields().forEachRemaining(c -> counts.put(c.getKey(), c.getValue().asInt()));
          stats.put(h.getKey(), counts);
        });
        case "warning" -> LOG.warn("gitops_jsonl: {}", scrubber.scrub(e.path("msg").asText()));
        default -> { }
      }
    }

    /**
     * What a failed task said: Ansible's msg (for a command, often only "non-zero return code"),
     * then the return code and the last lines of its error output, which say what went wrong
     * on one line (the plugin bounds them and scrubs secrets from them; each part is scrubbed again
     * here before its lines are joined, so that a secret of several lines is still found).
     */
    static String failureMessage(JsonNode e, Scrubber scrubber) {
      StringBuilder sb = new StringBuilder(scrubber.scrub(e.path("msg").asText("")).strip());
      if (e.hasNonNull("rc")) {
        sb.append(sb.length() == 0 ? "" : " ").append("(rc ").append(e.get("rc").asText()).append(')');
      }
      for (String stream : new String[] {"stderr", "stdout"}) {
        String text = scrubber.scrub(e.path(stream).asText("")).strip();
        if (!text.isEmpty()) {
          sb.append(sb.length() == 0 ? "" : "; ").append(stream).append(": ")
              .append(String.join(" | ", text.lines().map(String::strip).filter(l -> !l.isEmpty()).toList()));
        }
      }
      if (sb.length() == 0 && e.path("no_log").asBoolean(false)) {
        // the plugin keeps only the status of a no_log result: say why there is nothing to show
        sb.append("its output is hidden (no_log: true on the task)");
      }
      return sb.toString();
    }

    /**
     * The tasks still running, for the reason of a stopped run: " while task 'x' (file:line) ran on
     * h1, h2" (at most three tasks named), or " while it ran" when none had started.
     */
    synchronized String running() {
      Map<String, List<String>> byTask = new LinkedHashMap<>();
      running.forEach((host, t) -> byTask.computeIfAbsent("task '" + t[0] + "'" + (t[1].isEmpty() ? "" : " ("
          + t[1] + ")"), k -> new ArrayList<>()).add(host));
      if (byTask.isEmpty()) {
        return " while it ran";
      }
      List<String> parts = new ArrayList<>();
      byTask.entrySet().stream().limit(3).forEach(t -> parts.add(t.getKey() + " ran on " + String.join(", ",
          t.getValue().subList(0, Math.min(5, t.getValue().size())))
          + (t.getValue().size() > 5 ? " and " + (t.getValue().size() - 5) + " more" : "")));
      return " while " + String.join("; ", parts) + (byTask.size() > 3 ? "; and " + (byTask.size() - 3)
          + " more tasks" : "");
    }

    synchronized Map<String, HostResult> results(Collection<String> hosts) {
      Map<String, HostResult> out = new LinkedHashMap<>();
      Set<String> all = new TreeSet<>(hosts);
      all.addAll(stats.keySet());
      for (String h : all) {
        Map<String, Integer> s = stats.getOrDefault(h, Map.of());
        HostStatus status;
        if (s.getOrDefault("unreachable", 0) > 0 || unreachable.contains(h) && s.isEmpty()) {
          status = HostStatus.UNREACHABLE;
        } else if (s.getOrDefault("failures", 0) > 0 || failed.contains(h) && s.isEmpty()) {
          status = HostStatus.FAILED;
        } else if (s.isEmpty()) {
          status = HostStatus.NOT_RUN;
        } else if (s.getOrDefault("changed", 0) > 0) {
          status = HostStatus.CHANGED;
        } else {
          status = HostStatus.OK;
        }
        String[] f = firstFailure.getOrDefault(h, new String[] {"", "", ""});
        out.put(h, new HostResult(h, status, s, f[0], f[1], f[2], changed.getOrDefault(h, List.of()),
            diffs.getOrDefault(h, List.of()), completed.contains(h)));
      }
      return out;
    }
  }
}
