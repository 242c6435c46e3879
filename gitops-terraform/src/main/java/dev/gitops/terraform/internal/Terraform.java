package dev.gitops.terraform.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.spi.CallContext;
import dev.gitops.core.internal.Durations;
import dev.gitops.terraform.StalePlanException;
import dev.gitops.terraform.TerraformException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Terraform (or OpenTofu) commands this provider runs, in one working directory: each an
 * argument list with {@code -input=false}, never through a shell, with the working directory's
 * environment, a deadline and the caller's cancellation. Failures become exceptions whose
 * messages carry Terraform's error summaries, scrubbed of known secrets, never its raw output.
 */
public final class Terraform {

  private static final Logger LOG = LoggerFactory.getLogger(Terraform.class);

  private final Binary binary;
  private final WorkingDirectory dir;
  private final Map<String, String> environment;
  private final Duration commandTimeout;
  /** Output files of commands whose JVM ended are removed once they are this old (by the next process). */
  private static final Duration STALE_OUTPUT = Duration.ofDays(1);
  private volatile boolean staleOutputRemoved;
  /** How long an interrupted command may take to stop (write its state) before it is killed. */
  private final Duration interruptGrace;
  private final KnownSecrets scrubber;
  private final CommandRunner runner = new CommandRunner();
  private volatile String version;

  /** Commands of {@code binary} in {@code dir}. */
  public Terraform(Binary binary, WorkingDirectory dir, Map<String, String> environment, Duration commandTimeout,
      Duration interruptGrace, KnownSecrets scrubber) {
    this.binary = binary;
    this.dir = dir;
    Map<String, String> env = new LinkedHashMap<>();
    // Automation mode: no prompts, no upgrade checks, output for machines.
    env.put("TF_IN_AUTOMATION", "1");
    env.put("TF_INPUT", "0");
    env.put("CHECKPOINT_DISABLE", "1");
    env.putAll(environment);
    System.getenv().keySet().stream().filter(CommandRunner::isWithheld).sorted().forEach(name ->
        LOG.warn("{} in this process's environment is not passed to terraform: the provider keeps its state in the"
            + " working directory's default workspace and gives terraform its own arguments", name));
    // Terraform's data directory is the working directory's own .terraform/, whatever the
    // environment says: the init record and the check of installed modules read it there
    env.put("TF_DATA_DIR", ".terraform");
    this.environment = Map.copyOf(env);
    this.commandTimeout = commandTimeout;
    this.interruptGrace = interruptGrace;
    this.scrubber = scrubber;
  }

  /** Where the working directory's configuration is in the repository ("" for its root), for error locations. */
  private volatile String configDirectory = "";

  /** Names error locations by the repository's paths: a file of the working directory is one of {@code directory}. */
  public void configDirectory(String directory) {
    String d = directory.replace('\\', '/').replaceAll("^(\\./)+", "").replaceAll("/+$", "");
    this.configDirectory = d.equals(".") ? "" : d;
  }

  /**
   * A diagnostic's file as the user knows it: a configuration file by its path in the repository,
   * the provider's own variable file by what it holds, a file of the working directory that is not
   * the revision's (a module {@code init} installed under {@code .terraform/}) by its absolute path,
   * anything else (a variable file given by an absolute path) as Terraform names it.
   */
  String location(String file) {
    java.nio.file.Path p;
    try {
      p = java.nio.file.Path.of(file);
    } catch (java.nio.file.InvalidPathException e) {
      return file;  // not a path of this host: Terraform's own words are all there is
    }
    java.nio.file.Path abs = (p.isAbsolute() ? p : dir.root().resolve(p)).normalize();
    if (abs.getFileName() != null && (abs.getFileName().toString().equals(WorkingDirectory.VARIABLES_FILE)
        || abs.getFileName().toString().equals(WorkingDirectory.HCL_VARIABLES_FILE))) {
      return PROVIDER_VARIABLES + " (--var)";
    }
    if (!abs.startsWith(dir.root())) {
      return file;
    }
    String rel = dir.root().relativize(abs).toString().replace('\\', '/');
    if (rel.equals(".terraform") || rel.startsWith(".terraform/") || rel.startsWith(".gitops-terraform/")) {
      return abs.toString();  // Terraform's or the provider's, never in the repository
    }
    return configDirectory.isEmpty() ? rel : configDirectory + "/" + rel;
  }

  /**
   * Where a diagnostic points: "at file:line", or for a line of the provider's own file of HCL
   * values, which the user never sees, the variable whose value it is.
   */
  private String at(String file, int line) {
    java.nio.file.Path name = java.nio.file.Path.of(file).getFileName();
    String variable = name != null && name.toString().equals(WorkingDirectory.HCL_VARIABLES_FILE)
        ? dir.hclVariableAt(line) : null;
    if (variable != null) {
      return "in the value of variable '" + variable + "' (--var, variable(...)), as an HCL expression";
    }
    return "at " + location(file) + (line > 0 ? ":" + line : "");
  }

  /** The binary. */
  public Binary binary() {
    return binary;
  }

  /** The working directory. */
  public WorkingDirectory dir() {
    return dir;
  }

  /** What a run of a streaming command (plan, apply) came to. */
  public record Run(int exitCode, boolean timedOut, boolean cancelled, UiStream stream, String stderr) {}

  /**
   * The product and version, {@code Terraform 1.9.5} or {@code OpenTofu 1.8.0}, read once from
   * {@code version -json} (or the first line of {@code version}).
   */
  public String version(CallContext ctx) {
    String v = version;
    if (v != null) {
      return v;
    }
    CommandRunner.Result r = run(List.of("version", "-json"), ctx, null);
    requireFinished("version -json", r);  // one that hangs is not asked a second time
    String number = "";
    if (r.exitCode() == 0) {
      try {
        JsonNode n = PlanReader.JSON.readTree(r.stdout());
        number = n.path("terraform_version").asText(n.path("tofu_version").asText(""));
      } catch (java.io.IOException e) {
        // An old binary without -json prints text: read below.
        number = "";
      }
    }
    if (number.isEmpty()) {
      CommandRunner.Result plain = run(List.of("version"), ctx, null);
      requireFinished("version", plain);
      String first = plain.stdoutText().strip().lines().findFirst().orElse("");
      number = first.replaceFirst("^(Terraform|OpenTofu)\\s+v?", "");
      if (plain.exitCode() != 0 || number.isEmpty()) {
        throw new TerraformException(binary.path() + " does not answer 'version' (exit " + plain.exitCode() + "): "
            + firstLine(plain.stderr()));
      }
    }
    v = binary.product() + " " + number.replaceFirst("^v", "");
    version = v;
    LOG.info("using {} at {} in {}", v, binary.path(), dir.root());
    return v;
  }

  /**
   * Throws when {@code r}, a run of {@code terraform <what>}, did not finish: timed out or cancelled,
   * it was stopped, and its exit status (143 after SIGTERM) and output say nothing of why.
   */
  private void requireFinished(String what, CommandRunner.Result r) {
    if (r.timedOut() || r.cancelled()) {
      throw new TerraformException(binary.path() + " " + what + (r.timedOut() ? " timed out (command timeout "
          + Durations.human(commandTimeout) + ", or what was left of the call's deadline)"
          : " was cancelled") + " in " + dir.root() + " and was stopped");
    }
  }

  /** {@code init -input=false}. */
  public void init(CallContext ctx) {
    CommandRunner.Result r = run(List.of("init", "-input=false", "-no-color"), ctx, null);
    if (r.timedOut() || r.cancelled()) {
      throw new TerraformException("terraform init " + (r.timedOut() ? "timed out" : "was cancelled") + " in "
          + dir.root());
    }
    if (r.exitCode() != 0) {
      throw new TerraformException("terraform init failed in " + dir.root() + " (exit " + r.exitCode() + "): "
          + scrubber.scrub(failed(r.stderr() + "\n" + r.stdoutText(), 6)));
    }
  }

  /** {@code workspace select -or-create=true <name>}. */
  public void selectWorkspace(String name, CallContext ctx) {
    CommandRunner.Result r = run(List.of("workspace", "select", "-or-create=true", name), ctx, null);
    requireFinished("workspace select " + name, r);
    if (r.exitCode() != 0) {
      throw new TerraformException("cannot select workspace '" + name + "' in " + dir.root() + " (exit "
          + r.exitCode() + "): " + scrubber.scrub(failed(r.stderr(), 4)));
    }
  }

  /**
   * {@code plan -input=false -json -detailed-exitcode -out=<file>} with {@code extra} arguments.
   * Exit 0 (no changes) and 2 (changes) are success.
   *
   * @throws dev.gitops.terraform.TerraformLockException when the state is locked
   * @throws TerraformException when planning failed or timed out
   */
  public Run plan(Path planFile, List<String> extra, CallContext ctx, Consumer<UiStream.Message> listener) {
    List<String> args = new ArrayList<>(List.of("plan", "-input=false", "-json", "-detailed-exitcode",
        "-out=" + planFile));
    args.addAll(extra);
    Run run = stream(args, ctx, listener);
    if (run.timedOut() || run.cancelled()) {
      throw new TerraformException("terraform plan " + (run.timedOut() ? "timed out" : "was cancelled") + " in "
          + dir.root() + "; nothing was applied");
    }
    if (run.exitCode() != 0 && run.exitCode() != 2) {
      throw failure("plan", run);
    }
    return run;
  }

  /** {@code show -json <planfile>}: the plan representation. */
  public byte[] showPlan(Path planFile, CallContext ctx) {
    CommandRunner.Result r = run(List.of("show", "-json", "-no-color", planFile.toString()), ctx, null);
    if (r.exitCode() != 0 || r.timedOut() || r.cancelled()) {
      throw new TerraformException("terraform show -json of the saved plan failed in " + dir.root() + " (exit "
          + r.exitCode() + (r.timedOut() ? ", timed out" : "") + "): " + scrubber.scrub(failed(r.stderr(), 4)));
    }
    return r.stdout();
  }

  /** {@code show -json}: the state representation. */
  public byte[] showState(CallContext ctx) {
    CommandRunner.Result r = run(List.of("show", "-json", "-no-color"), ctx, null);
    if (r.exitCode() != 0 || r.timedOut() || r.cancelled()) {
      throw new TerraformException("terraform show -json of the state failed in " + dir.root() + " (exit "
          + r.exitCode() + (r.timedOut() ? ", timed out" : "") + "): " + scrubber.scrub(failed(r.stderr(), 4)));
    }
    return r.stdout();
  }

  /** {@code state pull}: the raw state (version 4), from any backend. */
  public byte[] statePull(CallContext ctx) {
    CommandRunner.Result r = run(List.of("state", "pull"), ctx, null);
    if (r.exitCode() != 0 || r.timedOut() || r.cancelled()) {
      throw new TerraformException("terraform state pull failed in " + dir.root() + " (exit " + r.exitCode()
          + (r.timedOut() ? ", timed out" : "") + "): " + scrubber.scrub(failed(r.stderr(), 4)));
    }
    return r.stdout();
  }

  /**
   * {@code apply -input=false -json <planfile>}: exactly the saved plan. A non-zero exit is
   * returned, not thrown (per-resource outcomes come from the stream), except a lock error and a
   * stale plan.
   *
   * @throws dev.gitops.terraform.TerraformLockException when the state is locked
   * @throws StalePlanException when Terraform finds the saved plan stale
   */
  public Run apply(Path planFile, List<String> extra, String planId, CallContext ctx,
      Consumer<UiStream.Message> listener) {
    List<String> args = new ArrayList<>(List.of("apply", "-input=false", "-json"));
    args.addAll(extra);
    args.add(planFile.toString());
    Run run = stream(args, ctx, listener);
    if (run.exitCode() != 0 && !run.timedOut() && !run.cancelled()) {
      Optional<dev.gitops.terraform.TerraformLockException> lock =
          UiStream.lockError(run.stream().diagnostics(), run.stderr(), scrubber).map(this::withLiveHolder);
      if (lock.isPresent()) {
        throw lock.get();
      }
      for (UiStream.Diagnostic d : run.stream().errors()) {
        if (d.summary().toLowerCase(java.util.Locale.ROOT).contains("saved plan is stale")) {
          throw new StalePlanException(planId, "terraform refused it: " + scrubber.scrub(d.summary() + ": "
              + detail(scrubber.scrub(d.detail()))));
        }
      }
    }
    return run;
  }

  /** {@code force-unlock -force <id>}. */
  public void forceUnlock(String lockId, CallContext ctx) {
    CommandRunner.Result r = run(List.of("force-unlock", "-force", lockId), ctx, null);
    if (r.exitCode() != 0 || r.timedOut()) {
      throw new TerraformException("terraform force-unlock " + lockId + " failed in " + dir.root() + " (exit "
          + r.exitCode() + "): " + scrubber.scrub(failed(r.stderr() + "\n" + r.stdoutText(), 4)));
    }
  }

  /**
   * {@code state rm -no-color <extra> <address>}: Terraform forgets the object at {@code address},
   * leaving it in place; with a local state it keeps the state it replaces as a backup beside it
   * ({@code terraform.tfstate.<timestamp>.backup}).
   *
   * @throws dev.gitops.terraform.TerraformLockException when the state is locked, naming the address
   * @throws TerraformException naming the address and Terraform's errors when it failed or did not finish
   */
  public void stateRm(String address, List<String> extra, CallContext ctx) {
    List<String> args = new ArrayList<>(List.of("state", "rm", "-no-color"));
    args.addAll(extra);
    args.add(address);
    CommandRunner.Result r = run(args, ctx, null);
    String what = "terraform state rm " + address;
    if (r.timedOut() || r.cancelled()) {
      throw new TerraformException(what + (r.timedOut() ? " timed out" : " was cancelled") + " in " + dir.root()
          + ": whether it was removed is read from the state the next time");
    }
    if (r.exitCode() != 0) {
      Optional<dev.gitops.terraform.TerraformLockException> lock =
          UiStream.lockError(List.of(), r.stderr(), scrubber).map(this::withLiveHolder);
      if (lock.isPresent()) {
        dev.gitops.terraform.TerraformLockException e = lock.get();
        throw new dev.gitops.terraform.TerraformLockException(what + " failed in " + dir.root() + ": "
            + e.getMessage(), e.lockId(), e.who(), e.created(), e.operation(), e.path());
      }
      throw new TerraformException(what + " failed in " + dir.root() + " (exit " + r.exitCode() + "): "
          + scrubber.scrub(failed(r.stderr() + "\n" + r.stdoutText(), 4)));
    }
  }

  /** The failure of a streaming command: a lock error with its details, or the error summaries. */
  TerraformException failure(String command, Run run) {
    Optional<dev.gitops.terraform.TerraformLockException> lock =
        UiStream.lockError(run.stream().diagnostics(), run.stderr(), scrubber).map(this::withLiveHolder);
    if (lock.isPresent()) {
      return lock.get();
    }
    return new TerraformException("terraform " + command + " failed in " + dir.root() + " (exit " + run.exitCode()
        + "): " + errors(run));
  }

  /**
   * {@code e} as it should read when a process of this binary still runs in the working directory
   * (one a gitops process that ended left running, or someone's): its holder is alive, so the
   * advice is to wait for it, never to force-unlock.
   */
  dev.gitops.terraform.TerraformLockException withLiveHolder(dev.gitops.terraform.TerraformLockException e) {
    List<Long> pids = runningHere();
    if (pids.isEmpty()) {
      return e;
    }
    String message = e.getMessage();
    int advice = message.indexOf("; gitops never breaks a lock by itself");
    String head = advice < 0 ? message : message.substring(0, advice);
    return new dev.gitops.terraform.TerraformLockException(head + "; its holder is still running: "
        + binary.path().getFileName() + " (pid " + pids.stream().map(String::valueOf)
            .collect(java.util.stream.Collectors.joining(", pid ")) + ") in " + dir.root()
        + " (left running by a gitops process that ended, or someone's). Wait for it to finish, which releases the"
        + " lock; do not force-unlock a lock whose holder runs", e.lockId(), e.who(), e.created(), e.operation(),
        e.path());
  }

  /**
   * The processes of this binary (its executable, or a script run by an interpreter) other than
   * this JVM's running in the working directory, as {@code /proc/<pid>/cwd} says (Linux; elsewhere none).
   */
  List<Long> runningHere() {
    Path root;
    try {
      root = dir.root().toRealPath();
    } catch (java.io.IOException e) {
      return List.of();
    }
    String exe = binary.path().toString();
    String name = binary.path().getFileName().toString();
    List<Long> out = new ArrayList<>();
    ProcessHandle.allProcesses().filter(ProcessHandle::isAlive).forEach(p -> {
      try {
        Path cwd = Path.of("/proc", Long.toString(p.pid()), "cwd");
        if (!java.nio.file.Files.isSymbolicLink(cwd) || !java.nio.file.Files.readSymbolicLink(cwd).equals(root)) {
          return;
        }
        ProcessHandle.Info info = p.info();
        boolean command = info.command().map(c -> c.equals(exe) || Path.of(c).getFileName().toString().equals(name))
            .orElse(false);
        boolean script = info.arguments().map(a -> a.length > 0 && a[0].equals(exe)).orElse(false);
        if (command || script) {
          out.add(p.pid());
        }
      } catch (java.io.IOException | RuntimeException e) {
        // another user's process, or one that ended meanwhile: not ours to name
      }
    });
    return out;
  }

  /**
   * Terraform's errors of {@code run} (or the end of its standard error), scrubbed: each once, at
   * most {@value #MAX_ERRORS}, saying how many more there were ({@link #listed}).
   */
  public String errors(Run run) {
    List<String> out = new ArrayList<>();
    for (UiStream.Diagnostic d : run.stream().errors()) {
      out.add(d.summary() + (d.detail().isEmpty() ? "" : ": " + detail(scrubber.scrub(userPaths(d.detail()))))
          + (d.address().isEmpty() ? "" : " (" + d.address() + ")")
          + (d.file().isEmpty() ? "" : " (" + at(d.file(), d.line()) + ")"));
    }
    if (out.isEmpty() && run.stream().droppedErrors() == 0) {
      String tail = failed(run.stderr(), 4);
      out.add(tail.isEmpty() ? String.join(" | ", run.stream().plainLines().stream().limit(4).toList()) : tail);
    }
    String said = scrubber.scrub(listed(out, run.stream().droppedErrors()));
    // a message ending in "(exit 3): " leaves the reader to guess whether anything was said
    return said.isBlank() ? "it printed nothing on stdout or stderr" : said;
  }

  /**
   * Where a detail's text says a variable or other object is "declared at main.tf:8,1-13" (as in
   * "The given value is not suitable for var.n declared at main.tf:8,1-13"), the file is named as
   * {@link #location} names it ({@code declared at infra/main.tf:8}), not relative to the working
   * directory.
   */
  String declaredAt(String detail) {
    java.util.regex.Matcher m = DECLARED_AT.matcher(detail);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(out, java.util.regex.Matcher.quoteReplacement(
          m.group(1) + location(m.group(2)) + ":" + m.group(3)));
    }
    m.appendTail(out);
    return out.toString();
  }

  /**
   * A diagnostic's detail with every file it names as the user knows it: a configuration file's
   * "declared at" as {@link #declaredAt} names it, and the variable file of Terraform's warning
   * about a value for a variable the configuration does not declare ("... but a value was found in
   * file \"/work/.gitops-terraform/variables.tfvars.json\""): the provider's own file of the
   * variables set on it as those ({@code --var}, {@code variable(...)}), which the user never sees, a
   * variable file of the configuration by its path in the repository, one given by an absolute path
   * as given.
   */
  public String userPaths(String detail) {
    java.util.regex.Matcher m = FOUND_IN_FILE.matcher(declaredAt(detail));
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String where = location(m.group(1));
      m.appendReplacement(out, java.util.regex.Matcher.quoteReplacement(where.startsWith(PROVIDER_VARIABLES)
          ? "a value was set for it on the provider (--var, variable(...))"
          : "a value was found in file \"" + where + "\""));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** How {@link #location} names the provider's own variable files. */
  private static final String PROVIDER_VARIABLES = "the variables set on the provider";

  /** The file of Terraform's "Value for undeclared variable" warning (Go's %q: no quote inside). */
  private static final java.util.regex.Pattern FOUND_IN_FILE = java.util.regex.Pattern.compile(
      "a value was found in file \"([^\"]+)\"");

  /** "declared at main.tf:8,1-13", "defined at modules/m/vars.tf:2,1-3": a configuration file's range in a detail. */
  private static final java.util.regex.Pattern DECLARED_AT = java.util.regex.Pattern.compile(
      "\\b((?:declared|defined) at )([^\\s:,\"]+\\.(?:tf|tofu|tf\\.json|tofu\\.json)):(\\d+)(?:,\\d+(?:-\\d+(?:,\\d+)?)?)?");

  private Run stream(List<String> args, CallContext ctx, Consumer<UiStream.Message> listener) {
    UiStream stream = new UiStream(listener);
    CommandRunner.Result r = run(args, ctx, stream);
    return new Run(r.exitCode(), r.timedOut(), r.cancelled(), stream, r.stderr());
  }

  private CommandRunner.Result run(List<String> args, CallContext ctx, Consumer<String> lines) {
    List<String> argv = new ArrayList<>(args.size() + 1);
    argv.add(binary.path().toString());
    argv.addAll(args);
    Duration timeout = ctx.remaining().compareTo(commandTimeout) < 0 ? ctx.remaining() : commandTimeout;
    Path scratch = dir.own();  // the working directory exists before anything runs in it
    if (!staleOutputRemoved) {
      CommandRunner.removeStale(scratch, STALE_OUTPUT);
      staleOutputRemoved = true;
    }
    LOG.debug("running {} {} in {} (timeout {})", binary.path().getFileName(), args.get(0), dir.root(), timeout);
    try {
      CommandRunner.Result r = runner.run(new CommandRunner.Command(argv, dir.root(), environment, timeout,
          () -> ctx.cancellation().isCancelled(), lines, interruptGrace, scratch));
      if (r.timedOut()) {
        LOG.warn("{} {} did not finish within {} in {}: interrupted", binary.path().getFileName(), args.get(0),
            timeout, dir.root());
      }
      return r;
    } catch (java.io.UncheckedIOException e) {
      throw new TerraformException("cannot run " + binary.path() + " " + args.get(0) + " in " + dir.root() + ": "
          + e.getMessage(), e);
    }
  }

  /** The most lines of a diagnostic's detail shown: its first, and the last ones up to this many. */
  static final int DETAIL_LINES = 20;
  /** The most characters of a diagnostic's detail shown: its start, and its end up to this many. */
  static final int DETAIL_CHARS = 4096;

  /**
   * A diagnostic's detail on one line ({@code " | "} between its lines, blank ones left out), in
   * full up to {@link #DETAIL_LINES} lines and {@link #DETAIL_CHARS} characters; a longer one keeps
   * its first line and its end, where a failed command's own error usually is ("Output: step 1 ok
   * | step 2 ok | ERROR: quota exceeded"), saying how much was left out. Give it scrubbed text: a cut
   * through a secret would leave a part the scrubber no longer knows, and a secret of several lines
   * is no longer one once they are joined.
   */
  public static String detail(String s) {
    if (s == null) {
      return "";
    }
    List<String> lines = s.strip().lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    if (lines.size() > DETAIL_LINES) {
      List<String> kept = new ArrayList<>();
      kept.add(lines.get(0));
      kept.add("(" + (lines.size() - DETAIL_LINES) + " lines left out)");
      kept.addAll(lines.subList(lines.size() - (DETAIL_LINES - 1), lines.size()));
      lines = kept;
    }
    String out = String.join(" | ", lines);
    if (out.length() > DETAIL_CHARS) {
      String head = lines.get(0).length() > 200 ? lines.get(0).substring(0, 200) : lines.get(0);
      out = head + " | ... (" + (out.length() - DETAIL_CHARS) + " characters left out) ... "
          + out.substring(out.length() - (DETAIL_CHARS - head.length()));
    }
    return out;
  }

  /** The first line of {@code s}, stripped ({@code ""} for null). */
  public static String firstLine(String s) {
    return s == null ? "" : s.strip().lines().findFirst().orElse("");
  }

  /**
   * What a failed command printed, on one line ({@code " | "} between lines): each of its errors
   * with up to {@code n - 1} lines after it, else its last {@code n} lines; files named as Terraform
   * names them ({@link #whatFailed(String, int, UnaryOperator)}).
   */
  static String whatFailed(String s, int n) {
    return whatFailed(s, n, UnaryOperator.identity());
  }

  /**
   * What a failed command printed, on one line ({@code " | "} between lines): each of its errors
   * (an {@code Error:} line and up to {@code n - 1} lines after it, to the next error or warning),
   * an error printed twice once, at most {@value #MAX_ERRORS} of them (saying how many more there
   * were), else its last {@code n} lines. Every error is kept because the first is not always the
   * cause: a trailing comma in a {@code .tf.json} file is reported after the errors it leads to.
   * {@code init}'s announcement that errors follow ("Terraform encountered problems during
   * initialisation ...") is not an error of its own: the ones after it are. {@code init}'s progress
   * lines ("Initializing the backend...", "- m in modules/m") say nothing about what failed and
   * are left out. A diagnostic's "on main.tf line 3" names the file by {@code file} (Terraform
   * names it relative to the working directory): with {@code f -> "infra/" + f}, "{@code Error: Invalid
   * expression | on infra/main.tf line 2, ...}".
   */
  static String whatFailed(String s, int n, UnaryOperator<String> file) {
    return whatFailedAt(s, n, (f, line) -> "on " + file.apply(f) + " line " + line);
  }

  /** How many of a failed command's errors its message shows. */
  static final int MAX_ERRORS = 10;

  /**
   * {@code errors} joined by {@code "; "}, each once, at most {@value #MAX_ERRORS}, then how many
   * more there were, counting {@code dropped} ones not listed at all: a plan of a {@code for_each}
   * of 300 instances whose precondition fails has 300 errors, and its message was every one of them
   * (130 KB in a sync's result, its log line and the agent's status).
   */
  public static String listed(java.util.Collection<String> errors, int dropped) {
    return listed(errors, dropped, "; ");
  }

  /** {@link #listed(java.util.Collection, int)} joined by {@code separator}. */
  private static String listed(java.util.Collection<String> errors, int dropped, String separator) {
    java.util.Set<String> once = new java.util.LinkedHashSet<>(errors);
    int more = Math.max(0, once.size() - MAX_ERRORS) + dropped;
    String shown = once.stream().limit(MAX_ERRORS).collect(java.util.stream.Collectors.joining(separator));
    return more == 0 ? shown : shown + (shown.isEmpty() ? "" : separator) + "(" + more + " more error"
        + (more == 1 ? "" : "s") + ")";
  }

  /** {@link #whatFailed(String, int, UnaryOperator)}, with "on X line N" replaced by {@code on.apply(X, N)}. */
  private static String whatFailedAt(String s, int n, java.util.function.BiFunction<String, Integer, String> on) {
    if (s == null) {
      return "";
    }
    // Terraform frames a diagnostic in box-drawing characters on a terminal ("│ Error: ..."): only the text is kept
    List<String> lines = s.strip().lines().map(l -> BOX.matcher(l).replaceFirst("").strip())
        .filter(l -> !l.isEmpty() && !PROGRESS.matcher(l).matches()).map(l -> {
          java.util.regex.Matcher m = ON.matcher(l);
          return m.matches() ? on.apply(m.group(1), Integer.parseInt(m.group(2))) + m.group(3) : l;
        }).toList();
    java.util.LinkedHashSet<String> errors = new java.util.LinkedHashSet<>();
    String announcement = null;
    for (int i = 0; i < lines.size(); i++) {
      if (!lines.get(i).startsWith("Error:")) {
        continue;
      }
      int end = i + 1;
      while (end < lines.size() && !lines.get(end).startsWith("Error:") && !lines.get(end).startsWith("Warning:")) {
        end++;
      }
      String error = String.join(" | ", lines.subList(i, Math.min(end, i + n)));
      if (ANNOUNCEMENT.matcher(lines.get(i)).lookingAt()) {
        announcement = announcement == null ? error : announcement;
      } else {
        errors.add(error);
      }
    }
    if (errors.isEmpty() && announcement != null) {
      return announcement;  // the announcement alone is what there is, if no error follows it
    }
    if (!errors.isEmpty()) {
      // the errors say what failed; what Terraform printed after each is mostly advice
      return listed(errors, 0, " | ");
    }
    return String.join(" | ", lines.subList(Math.max(0, lines.size() - n), lines.size()));
  }

  /** Where a diagnostic of Terraform's text output points: "on main.tf line 3, in resource ...:". */
  private static final java.util.regex.Pattern ON = java.util.regex.Pattern.compile("on (.+?) line (\\d{1,9})([,:].*|)");

  /** {@code init}'s announcement that the configuration's errors follow (Terraform's and OpenTofu's words). */
  private static final java.util.regex.Pattern ANNOUNCEMENT = java.util.regex.Pattern.compile(
      "Error: (Terraform|OpenTofu) encountered problems during initiali[sz]ation");

  /** {@code init}'s progress on standard output: what it initializes, finds, installs. */
  private static final java.util.regex.Pattern PROGRESS = java.util.regex.Pattern.compile(
      "Initializing [^.]*\\.\\.\\.|Upgrading modules\\.\\.\\.|Downloading \\S+ .*for \\S+\\.\\.\\."
      + "|- [A-Za-z0-9_.-]+ in \\S+|- (Finding|Installing|Installed|Using|Reusing) .*"
      + "|- \\S+ is built in to (Terraform|OpenTofu)|(Terraform|OpenTofu) has been successfully initialized!");

  /**
   * A diagnostic's "on X line N" for the user: a configuration file by its path in the repository,
   * a line of the provider's own file of HCL values by the variable whose value it is.
   */
  private String on(String file, int line) {
    String variable = file.replace('\\', '/').endsWith("/" + WorkingDirectory.HCL_VARIABLES_FILE)
        || file.equals(WorkingDirectory.HCL_VARIABLES_FILE) ? dir.hclVariableAt(line) : null;
    if (variable != null) {
      return "in the value of variable '" + variable + "' (--var, variable(...)), as an HCL expression";
    }
    String where = location(file);
    return where.startsWith(PROVIDER_VARIABLES) ? "in " + where : "on " + where + " line " + line;
  }

  /** {@link #whatFailed(String, int, UnaryOperator)} with files named as the user knows them ({@link #on}). */
  private String failed(String s, int n) {
    return whatFailedAt(s, n, this::on);
  }

  /** The frame Terraform draws around a diagnostic, at the start of a line. */
  private static final java.util.regex.Pattern BOX = java.util.regex.Pattern.compile("^\\s*[\u2502\u2575\u2577]\\s?");
}
