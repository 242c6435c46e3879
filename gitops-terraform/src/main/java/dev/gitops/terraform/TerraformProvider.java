package dev.gitops.terraform;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldPath;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.ProviderPlanner;
import dev.gitops.core.internal.fs.DurableFiles;
import dev.gitops.terraform.internal.Addresses;
import dev.gitops.terraform.internal.Binary;
import dev.gitops.terraform.internal.ConfigDecoder;
import dev.gitops.terraform.internal.DirectoryLock;
import dev.gitops.terraform.internal.InitInputs;
import dev.gitops.terraform.internal.KnownSecrets;
import dev.gitops.terraform.internal.OwnedAddresses;
import dev.gitops.terraform.internal.PlanReader;
import dev.gitops.terraform.internal.StateReader;
import dev.gitops.terraform.internal.StateReader.TfState;
import dev.gitops.terraform.internal.Terraform;
import dev.gitops.terraform.internal.UiStream;
import dev.gitops.terraform.internal.WorkingDirectory;
import dev.gitops.api.internal.Sha256;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Terraform or OpenTofu as a planning provider: the configuration directory from Git is
 * materialized into a per-target working directory, Terraform plans it ({@code plan -out}, read
 * back with {@code show -json}), and exactly that saved plan file is applied. Its own state is
 * its inventory; the plan's changes run as one unit of the engine's dependency graph, and its
 * outputs feed other resources ({@code ${outputs:tf:output::<name>:value}}).
 *
 * <pre>{@code
 * TerraformProvider tf = TerraformProvider.builder(Path.of("/var/lib/gitops/tf-prod"))
 *     .configDirectory("infra/prod")          // *.tf, *.tf.json, *.tfvars in the repository
 *     .binary("tofu")                         // or "terraform" (the default), or a path
 *     .variable("region", "eu-west-1")
 *     .build();
 * Reconciler reconciler = Reconciler.builder()
 *     .source(GitSource.builder().url(repoUrl).build())
 *     .provider(tf)
 *     .store(FileStateStore.open(Path.of("/var/lib/gitops/state-prod")))  // the engine's; Terraform keeps its own
 *     .build();
 * SyncResult r = reconciler.sync();           // plan, then apply exactly that plan
 * }</pre>
 *
 * <p>Keys: a resource instance is {@code tf:<type>:<module path>:<name with index>} (data sources
 * {@code data.<type>}), a root output {@code tf:output::<name>} with the document {@code
 * {"value": ...}}, a configuration file {@code tf:file:config:<path>}. Every value Terraform marks
 * sensitive is hidden before a change, observation, event, log line or exception leaves the
 * provider.
 *
 * <p>Safety: {@code init} runs only when provider requirements, modules, the backend or the lock
 * file changed; a saved plan is applied only while the state's lineage and serial are those it
 * was made with, its file is the one Terraform wrote (SHA-256) and it was made for the revision
 * being synced; a configuration directory without a root configuration file plans the teardown,
 * which the engine's deletion guard counts; an incomplete or errored plan is
 * held back (the sync is INCOMPLETE); a locked state is reported with the lock's id, holder and
 * time, and force-unlocked only by {@link #forceUnlock}. One Terraform command runs at a time per
 * provider.
 */
public final class TerraformProvider implements Provider, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TerraformProvider.class);

  private final String id;
  private final String configDirectory;
  private final WorkingDirectory dir;
  private final Terraform terraform;
  private final SortedMap<String, String> variables;
  private final List<String> varFiles;
  private final String workspace;
  private final Approval approval;
  private final boolean detectOnly;
  private final boolean adopt;
  /** Whether it only shows plans ({@link Builder#preview}): a take-over adopt allows is not recorded. */
  private final boolean preview;
  private final Duration lockTimeout;
  private final Consumer<TerraformEvent> listener;
  private final KnownSecrets scrubber;
  /** The environment set on every command ({@link Builder#environment}), over the process's own. */
  private final Map<String, String> environment;
  private final java.util.concurrent.locks.ReentrantLock lock = new java.util.concurrent.locks.ReentrantLock();
  /** How long a session waits for the working directory's lock ({@link Builder#workDirLockTimeout}). */
  private final Duration workDirLockTimeout;
  /** Where a copy of the record of the state is kept beside the engine's store ({@link Builder#stateRecordCopy}), or null. */
  private final Path stateRecordCopy;
  /** The working directory's lock while this provider's session holds it (guarded by {@link #lock}). */
  private DirectoryLock session;
  /** The session kept for an apply, with what releases it if none comes (guarded by {@link #lock}), or null. */
  private KeptSession kept;
  /** How long a session is kept for its apply: {@link #SESSION_KEPT_FOR} but in tests. */
  private final Duration keptFor;
  /** How long a kept session is kept once another waits: {@link #SESSION_YIELDS_AFTER} but in tests. */
  private final Duration yieldsAfter;
  /** The longest a session is kept after a plan for its apply, which the engine asks for next in that sync. */
  static final Duration SESSION_KEPT_FOR = Duration.ofMinutes(2);
  /** How long a session kept for its apply is kept once another waits for the working directory. */
  static final Duration SESSION_YIELDS_AFTER = Duration.ofSeconds(10);
  private static final java.util.concurrent.ScheduledExecutorService EXPIRY =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gitops-terraform-session-expiry");
        t.setDaemon(true);
        return t;
      });

  /** The plan a sync or {@link #apply(String, String, boolean, CallContext)} may apply. */
  private Pending pending;
  /** The id {@link #approve} approved (MANUAL approval). */
  private String approved;
  /** The revision the engine last asked to plan: what is wanted now. */
  private String wantedRevision;
  /** The last plan applied and its outcomes, for per-change calls after the unit was applied. */
  private String appliedPlan;
  private Map<ResourceKey, Outcome> appliedOutcomes = Map.of();

  /**
   * A saved plan: {@code sha256} is its file's digest when it was made, checked before it is applied;
   * {@code varFiles} the digests of the variable files it was made with ({@link #varFileDigests}).
   */
  private record Pending(String id, String revision, String stateToken, Path file, String sha256,
      PlanReader.Parsed parsed, List<Map.Entry<String, String>> varFiles) {
    TerraformPlan view() {
      return new TerraformPlan(id, revision, stateToken, parsed.changes(), parsed.drift(), parsed.complete(),
          parsed.applyable(), parsed.errored());
    }
  }

  private TerraformProvider(Builder b) {
    this.id = b.id;
    this.configDirectory = b.configDirectory;
    this.dir = new WorkingDirectory(b.workDir);
    this.scrubber = new KnownSecrets();
    this.environment = Map.copyOf(b.environment);
    scrubber.addAll(b.sensitiveValues);
    Binary binary = Binary.locate(b.binary, b.searchPath);
    this.terraform = new Terraform(binary, dir, b.environment, b.commandTimeout, b.interruptGrace, scrubber);
    // error locations name a file as the repository holds it: under the source's directory and the configuration's
    terraform.configDirectory(b.sourcePath.isEmpty() ? b.configDirectory
        : b.configDirectory.isEmpty() || b.configDirectory.equals(".") ? b.sourcePath
        : b.sourcePath.replaceAll("/+$", "") + "/" + b.configDirectory);
    this.variables = new TreeMap<>(b.variables);
    this.varFiles = List.copyOf(b.varFiles);
    this.workspace = b.workspace;
    this.approval = b.approval;
    this.detectOnly = b.detectOnly;
    this.adopt = b.adopt;
    this.preview = b.preview;
    this.lockTimeout = b.lockTimeout;
    this.workDirLockTimeout = b.workDirLockTimeout;
    this.keptFor = b.keptFor;
    this.yieldsAfter = b.yieldsAfter;
    this.stateRecordCopy = b.stateRecordCopy == null ? null
        : b.stateRecordCopy.toAbsolutePath().normalize().resolve(STATE_RECORD_COPY);
    this.listener = b.listener;
  }

  /**
   * A builder for a provider working in {@code workDir}, the per-target working directory (the
   * local state lives there unless the configuration names a backend).
   */
  public static Builder builder(Path workDir) {
    return new Builder(workDir);
  }

  /** Whether it takes over a working directory whose state or configuration gitops did not make ({@link Builder#adopt}). */
  public boolean adopts() {
    return adopt;
  }

  @Override
  public String id() {
    return id;
  }

  /** The working directory Terraform runs in. */
  public Path workDir() {
    return dir.root();
  }

  /** The binary's product and version, {@code Terraform 1.9.5} or {@code OpenTofu 1.8.0} (read once). */
  public String version(CallContext ctx) {
    return terraform.version(ctx);
  }

  /** The executable used. */
  public Path binary() {
    return terraform.binary().path();
  }

  /** Applies a unit in one call: the saved plan is applied once, whole. */
  @Override
  public boolean prefersBatches() {
    return true;
  }

  /**
   * Claims the files under the configuration directory: {@code *.tf}, {@code *.tf.json}, {@code
   * *.tofu}, {@code *.tofu.json}, {@code *.tfvars(.json)}, the lock file and the files they read.
   */
  @Override
  public Optional<Decoder> decoder() {
    return Optional.of(new ConfigDecoder(id, configDirectory));
  }

  @Override
  public Optional<ProviderPlanner> planner() {
    return Optional.of(new ProviderPlanner() {
      @Override
      public List<Change> plan(List<Resource> desired, CallContext ctx) {
        return TerraformProvider.this.plan(desired, ctx);
      }

      @Override
      public String stateToken(CallContext ctx) {
        lock.lock();
        try {
          return readState(ctx).token();
        } finally {
          lock.unlock();
        }
      }

      @Override
      public boolean manages(ResourceKey key) {
        return !Addresses.isOutput(key) && !Addresses.isData(key) && !Addresses.isFile(key)
            && !Addresses.isVariable(key);
      }
    });
  }

  // ------------------------------------------------------------------------------------- plan

  /**
   * Plans in a session holding the working directory's lock: kept for the apply when the plan
   * leaves something to apply (released when the apply ends, or {@link #SESSION_KEPT_FOR} after
   * the plan if none comes), released at once otherwise.
   */
  private List<Change> plan(List<Resource> desired, CallContext ctx) {
    lock.lock();
    try {
      beginSession("planning " + ctx.revision(), ctx);
      boolean keep = false;
      try {
        List<Change> out = planInSession(desired, ctx);
        keep = !preview && out.stream().anyMatch(c -> c.action() != Action.NOOP && c.action() != Action.SKIP);
        return out;
      } finally {
        if (keep) {
          keepSession();
        } else {
          endSession();
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /** Takes the working directory's lock for this provider, unless its session holds it already (caller holds {@link #lock}). */
  private void beginSession(String what, CallContext ctx) {
    if (kept != null) {
      kept.cancel();
      kept = null;
    }
    if (session == null) {
      Duration wait = ctx.remaining().compareTo(workDirLockTimeout) < 0 ? ctx.remaining() : workDirLockTimeout;
      session = DirectoryLock.acquire(dir, "provider '" + id + "' " + what, wait,
          () -> ctx.cancellation().isCancelled());
    }
  }

  /**
   * Keeps the session for the apply of the plan just made, which the engine asks for next in that
   * sync: {@link #SESSION_KEPT_FOR} at most, and only {@link #SESSION_YIELDS_AFTER} when another
   * session waits for it (this plan was only a dry run, or its sync stopped before the apply; an
   * apply that comes later takes the lock again, and refuses its plan if the other session's plan
   * replaced its file or moved the state).
   */
  private void keepSession() {
    KeptSession k = new KeptSession(session);
    k.task = EXPIRY.scheduleWithFixedDelay(k, 100, 100, java.util.concurrent.TimeUnit.MILLISECONDS);
    kept = k;
  }

  /**
   * One keeping of the session for its apply, and the check, every 100 ms on the one thread all
   * providers share, that ends it once its time is up. Only this very keeping is ended: a check
   * that was already running when a later plan kept the session anew finds itself replaced and
   * does nothing. It never waits for {@link #lock} (held through whole Terraform commands, and the
   * thread serves every provider's sessions): it tries again at its next turn.
   */
  private final class KeptSession implements Runnable {
    private final DirectoryLock held;
    private final long keptAt = System.nanoTime();
    /** The scheduled check (set under {@link #lock} before anyone can see this keeping). */
    private java.util.concurrent.ScheduledFuture<?> task;

    KeptSession(DirectoryLock held) {
      this.held = held;
    }

    @Override
    public void run() {
      long elapsed = System.nanoTime() - keptAt;
      boolean expired = elapsed >= keptFor.toNanos();
      if (!expired && !(elapsed >= yieldsAfter.toNanos() && held.wanted())) {
        return;
      }
      if (!lock.tryLock()) {
        return;  // the provider is busy (a command, or a plan or apply that ends or renews this keeping)
      }
      try {
        if (kept == this) {
          LOG.info("provider '{}': releasing the working directory {} between a plan and its apply: {}", id,
              dir.root(), expired ? "no apply within " + keptFor : "another session waits for it");
          endSession();
        }
      } finally {
        lock.unlock();
      }
    }

    void cancel() {
      task.cancel(false);
    }
  }

  /** Releases the working directory's lock if this provider holds it (caller holds {@link #lock}). */
  private void endSession() {
    if (kept != null) {
      kept.cancel();
      kept = null;
    }
    if (session != null) {
      session.release();
      session = null;
    }
  }

  private List<Change> planInSession(List<Resource> desired, CallContext ctx) {
    wantedRevision = ctx.revision();
    terraform.version(ctx);
    checkOwnedRecord(ctx);
    SortedMap<String, String> files = configFiles(desired);
    learnSensitiveVariables(files);
    dir.checkPaths(files.keySet());  // a path that could never be written is refused, whatever is planned
    if (lostWorkingDirectory() && InitInputs.backend(files).isEmpty()) {
      checkStateContinuity(readState(ctx));  // a local state: before anything is written into the directory
    }
    // No configuration file of the root module in Git (every file removed, or only a module's files, variable
    // files or notes left) means the root module is gone: its teardown, planned as one, which the engine's
    // guards count like any other deletion, never a plan of "no configuration" whatever Terraform makes of it
    boolean destroy = !InitInputs.hasRootConfiguration(files);
    if (destroy) {
      if (!files.isEmpty()) {
        LOG.warn("terraform provider '{}': the configuration directory at {} holds no root configuration file"
            + " (*.tf, *.tf.json, *.tofu, *.tofu.json; only {}): planning the teardown", id, ctx.revision(),
            files.size() > 5 ? String.join(", ", List.copyOf(files.keySet()).subList(0, 5)) + ", ..."
                : String.join(", ", files.keySet()));
      }
      // Plan the teardown with the configuration last materialized: its providers' settings destroy the objects
      files = dir.materialized();
      if (!InitInputs.hasRootConfiguration(files)) {
        LOG.info("terraform provider '{}' has no root configuration at {} and none was ever applied in {}", id,
            ctx.revision(), dir.root());
        return List.of();
      }
      // Terraform reads whatever configuration is there, the teardown too: an untracked file is refused here as well
      checkVarFiles(files.keySet(), ctx);
      checkConfiguration(files.keySet(), ctx);
      learnSensitiveVariables(files);
    } else {
      checkVarFiles(files.keySet(), ctx);
      checkConfiguration(files.keySet(), ctx);
      dir.materialize(files);
    }
    initialize(files, ctx);
    TfState state = readState(ctx);
    checkStateContinuity(state);
    checkTakeOver(state);
    seedOwned(state);  // before the state's record: its presence alone marks a lost record of owned objects
    recordState(state);
    String planId = planId(ctx.revision(), state, destroy);
    String superseded = "";
    if (approval == Approval.MANUAL && approved != null && !planId.equals(approved) && pending != null
        && pending.id().equals(approved)) {
      // the approval was of that plan: a plan made now awaits its own, and the reviewer learns why
      List<String> moved = movedSince(pending, ctx.revision(), state.token());
      superseded = "; the approved plan " + approved + " was not applied: since it was made, "
          + (moved.isEmpty() ? "what it was made with changed" : String.join("; ", moved));
      LOG.warn("terraform plan {} was approved but is not applied at {}: since it was made, {}", approved,
          ctx.revision(), moved.isEmpty() ? "what it was made with changed" : String.join("; ", moved));
      approved = null;
    }
    if (approval == Approval.MANUAL && planId.equals(approved) && pending != null && pending.id().equals(planId)
        && Files.isRegularFile(pending.file()) && unmanagedDeletes(pending.parsed(), state).isEmpty()) {
      // the apply checks that the file is still the one made (and refuses it, loudly, if it is not)
      LOG.info("terraform plan {} at {} is approved: applying exactly that saved plan", planId, ctx.revision());
      return pending.parsed().changes();
    }
    Pending made = runPlan(planId, ctx, state, destroy);
    discardOthers(made);
    pending = made;
    PlanReader.Parsed p = made.parsed();
    LOG.info("terraform plan {} at {} ({}): {}", planId, ctx.revision(), state.token(), made.view().summary());
    if (detectOnly) {
      return detectOnlyChanges(p);
    }
    Set<String> foreign = unmanagedDeletes(p, state);
    Optional<String> held = heldBack(p);
    if (held.isEmpty() && !foreign.isEmpty()) {
      LOG.warn("terraform plan {} at {} would destroy objects gitops has no record of managing in {}: {}", planId,
          ctx.revision(), dir.root(), foreign);
      return mark(p.changes(), c -> foreign.contains(Addresses.address(c.key()))
          ? c.withAction(Action.SKIP, "would " + verb(c) + "; held back: it was in the state before gitops managed "
              + dir.root() + ", or gitops has no record of a revision declaring it, so gitops does not destroy it"
              + " (declare it in Git, or remove it from the state with 'terraform state rm' or a removed block)")
              .withFlag(Change.Flag.HELD_BACK)
          : c.withAction(Action.SKIP, "would " + verb(c) + "; held back with the whole terraform plan: it would"
              + " destroy " + String.join(", ", foreign) + ", which gitops did not create").withFlag(Change.Flag.HELD_BACK));
    }
    if (held.isPresent()) {
      LOG.warn("terraform plan {} at {} cannot be applied automatically: {}", planId, ctx.revision(), held.get());
      return mark(p.changes(), c -> c.withAction(Action.SKIP, "would " + verb(c) + "; held back: " + held.get())
          .withFlag(Change.Flag.HELD_BACK));
    }
    if (approval == Approval.MANUAL && p.hasChanges()) {
      LOG.info("terraform plan {} at {} awaits approval ({})", planId, ctx.revision(), made.view().summary());
      String why = superseded;
      return mark(p.changes(), c -> c.withAction(Action.SKIP, "would " + verb(c) + "; awaiting approval of terraform"
          + " plan " + planId + " (approve(\"" + planId + "\") to apply it with the next sync)" + why));
    }
    return p.changes();
  }

  /**
   * Teaches the scrubber, before any Terraform command runs, the values of the root variables
   * {@code files} declare sensitive: as set on this provider, in the environment Terraform runs in
   * ({@code TF_VAR_<name>}, the process's or {@link Builder#environment}), in its variable files (a
   * relative one as {@code files} holds it) and
   * in the variable files Terraform loads by itself ({@code terraform.tfvars}, {@code *.auto.tfvars}).
   * Terraform's own messages (a failed check or precondition, an error) can quote them before any
   * plan shows which values are secret.
   */
  private void learnSensitiveVariables(SortedMap<String, String> files) {
    Set<String> sensitive = dev.gitops.terraform.internal.VariableFiles.sensitiveDeclared(files);
    if (sensitive.isEmpty()) {
      return;
    }
    List<String> values = new ArrayList<>();
    variables.forEach((k, v) -> {
      if (sensitive.contains(k)) {
        addValue(values, k, v);
      }
    });
    for (String name : sensitive) {
      // Terraform takes a value from TF_VAR_<name> when no -var or variable file sets one
      Optional.ofNullable(System.getenv("TF_VAR_" + name)).ifPresent(v -> addValue(values, name, v));
      Optional.ofNullable(environment.get("TF_VAR_" + name)).ifPresent(v -> addValue(values, name, v));
    }
    for (Map.Entry<String, String> f : files.entrySet()) {
      if (dev.gitops.terraform.internal.VariableFiles.loadedByTerraform(f.getKey())) {
        values.addAll(dev.gitops.terraform.internal.VariableFiles.values(f.getKey(), f.getValue(), sensitive));
      }
    }
    for (String f : varFiles) {
      Path p = varFilePath(f);
      if (!Path.of(f).isAbsolute()) {
        // the revision's file: its copy in the working directory is not written yet (or is an older revision's)
        String text = files.get(configRelative(f));
        if (text != null) {
          values.addAll(dev.gitops.terraform.internal.VariableFiles.values(p.toString(), text, sensitive));
        }
        continue;
      }
      try {
        if (Files.isRegularFile(p)) {
          values.addAll(dev.gitops.terraform.internal.VariableFiles.values(p.toString(),
              Files.readString(p, StandardCharsets.UTF_8), sensitive));
        }
      } catch (IOException e) {
        // Terraform reports the unreadable file itself; what it holds is then not quoted either.
        LOG.debug("cannot read the variable file {} for its sensitive values: {}", p, e.toString());
      }
    }
    scrubber.addAll(values);
  }

  /**
   * A sensitive variable's value as given ({@code -var}, {@code TF_VAR_<name>}), and, for a value
   * of a complex type written in HCL ({@code {user = "u", pass = "p"}}), every string in it, as a
   * variable file's values are read: Terraform's messages quote an element, not the whole text.
   */
  private static void addValue(List<String> values, String name, String value) {
    values.add(value);
    values.addAll(dev.gitops.terraform.internal.VariableFiles.values("-var.tfvars", name + " = " + value, Set.of(name)));
  }

  /**
   * Refuses, before anything is written or run, a variable file that is not there: a relative one
   * that is not a file of the configuration being planned ({@code gitFiles}, paths relative to the
   * configuration directory), an absolute one that is not a readable file on this host. Terraform
   * would only say that a file in the working directory does not exist, which names neither the
   * option nor where a relative path is read from.
   */
  private void checkVarFiles(Set<String> gitFiles, CallContext ctx) {
    for (String f : varFiles) {
      Path p = Path.of(f);
      if (p.isAbsolute()) {
        if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
          throw new TerraformException("variable file '" + f + "' (--var-file, varFiles) "
              + (Files.isDirectory(p) ? "is a directory" : Files.exists(p) ? "cannot be read" : "does not exist")
              + " on this host; nothing was planned");
        }
      } else if (!gitFiles.contains(configRelative(f))) {
        String where = configDirectory.isEmpty() || configDirectory.equals(".") ? "" : configDirectory + "/";
        throw new TerraformException("variable file '" + f + "' (--var-file, varFiles) is not in the configuration"
            + " at " + ctx.revision() + ": a relative path names a file of the configuration directory in the"
            + " repository (--path, configDirectory), and there is no " + where + configRelative(f) + " (tried "
            + varFilePath(f) + ", its copy in the working directory); give a file outside the repository by its"
            + " absolute path. Nothing was planned");
      }
    }
  }

  /** A relative variable file's path as the configuration's files are keyed: normalized, with '/'. */
  private static String configRelative(String f) {
    return Path.of(f).normalize().toString().replace('\\', '/');
  }

  /** The record of the objects gitops manages in the working directory: addresses a revision declared. */
  private static final String OWNED = "owned.json";
  /** The record of the state's lineage, serial and size per workspace, as gitops last saw it. */
  private static final String STATE_RECORD = "state.json";

  /**
   * Refuses configuration in the working directory that gitops did not write (Terraform would read
   * it with the revision's), and, at the first sync of a working directory, configuration files
   * gitops would replace or a local state with objects, unless {@link Builder#adopt adopt} was asked
   * for: before anything is written into it or {@code init} runs there. Marks a working
   * directory met for the first time as one whose take-over is pending: {@link #checkTakeOver}
   * decides once the state can be read.
   */
  private void checkConfiguration(Set<String> gitFiles, CallContext ctx) {
    SortedMap<String, String> unwritten = dir.unwrittenConfiguration();
    boolean first = !dir.managed() && !dir.hasRecord(OWNED);
    List<String> stray = new ArrayList<>();
    List<String> replaced = new ArrayList<>();
    for (String f : unwritten.keySet()) {
      if (!gitFiles.contains(f)) {
        stray.add(f);
      } else if (first) {
        replaced.add(f);
      }
    }
    if (!stray.isEmpty()) {
      throw new TerraformException("the working directory " + dir.root() + " holds configuration files gitops did not"
          + " write, which Terraform would read with the revision's: " + String.join(", ", stray) + "; remove them"
          + " (or commit them to Git): a sync applies exactly the revision's configuration; nothing was planned");
    }
    if (!first) {
      return;
    }
    if (!adopt) {
      // A local state is read before anything is written or initialized (a backend's only after init: checkTakeOver)
      List<String> objects = foreignObjects(readState(ctx));
      if (!replaced.isEmpty()) {
        throw refusal((objects.isEmpty() ? "" : describeObjects(objects) + " and ")
            + "configuration files gitops did not write (" + String.join(", ", replaced) + ")");
      }
      if (!objects.isEmpty()) {
        throw refusal(describeObjects(objects));
      }
    }
    writePendingTakeOver(ctx);
  }

  /** Starts a record of owned objects holding none, its take-over pending ({@link #checkTakeOver}). */
  private void writePendingTakeOver(CallContext ctx) {
    com.fasterxml.jackson.databind.node.ObjectNode owned = Documents.nodes().objectNode();
    owned.put("takeOver", "pending");
    owned.put("since", ctx.revision());
    dir.writeRecord(OWNED, OwnedAddresses.read(owned, Set.of(), dir.own().resolve(OWNED)).toRecord());
  }

  /**
   * A working directory gitops manages whose record of owned objects is gone while its record of
   * the state is there (written after it, since the record of owned objects exists): the record
   * was lost (removed, an older copy of {@code .gitops-terraform/} restored), not never made. Every
   * object of the state would count as gitops's and be destroyed once no revision declares it,
   * among them objects adopted and held back; so the take-over is pending again, as at the first
   * sync: refused unless {@link Builder#adopt adopt}, then nothing undeclared is destroyed. Only a
   * directory managed before either record existed has its state's objects counted as gitops's.
   */
  private void checkOwnedRecord(CallContext ctx) {
    if (!dir.managed() || dir.hasRecord(OWNED) || !dir.hasRecord(STATE_RECORD)) {
      return;
    }
    LOG.warn("provider '{}': the record of the objects gitops manages in {} is gone ({}); taking the working"
        + " directory over again, as at its first sync", id, dir.root(), dir.own().resolve(OWNED));
    writePendingTakeOver(ctx);
  }

  /**
   * Starts the record of owned objects of a working directory managed before that record existed
   * with the objects of its state, before {@link #recordState} writes the state's record: a plan
   * that fails in between leaves no state record without an owned one, which {@link
   * #checkOwnedRecord} would take for a lost record.
   */
  private void seedOwned(TfState state) {
    if (dir.hasRecord(OWNED)) {
      return;
    }
    OwnedAddresses seeded = OwnedAddresses.read(Documents.nodes().objectNode(), Set.of(), dir.own().resolve(OWNED));
    foreignObjects(state).forEach(seeded::add);
    dir.writeRecord(OWNED, seeded.toRecord());
  }

  /**
   * Ends a pending take-over once the state (local or the backend's) is read: a state with
   * objects gitops did not create is refused unless {@link Builder#adopt adopt} was asked for, at
   * every sync until then; with adopt, they are recorded as not gitops's, so never destroyed.
   */
  private void checkTakeOver(TfState state) {
    if (!"pending".equals(dir.record(OWNED).path("takeOver").asText(""))) {
      return;
    }
    List<String> objects = foreignObjects(state);
    if (!objects.isEmpty() && !adopt) {
      throw refusal(describeObjects(objects));
    }
    if (!objects.isEmpty()) {
      LOG.warn("provider '{}' adopts the Terraform working directory {}: it holds {}", id, dir.root(),
          describeObjects(objects));
    }
    if (preview) {
      // a plan only shown (gitops plan, diff, status) takes nothing over: the sync asks for adopt again
      return;
    }
    com.fasterxml.jackson.databind.node.ObjectNode owned = owned(state).toRecord();
    owned.put("takeOver", objects.isEmpty() ? "new" : "adopted");
    dir.writeRecord(OWNED, owned);
  }

  private static List<String> foreignObjects(TfState state) {
    return state.objects().keySet().stream().filter(k -> !Addresses.isData(k)).map(Addresses::address).toList();
  }

  private static String describeObjects(List<String> objects) {
    return "a Terraform state with " + objects.size() + (objects.size() == 1 ? " object" : " objects")
        + " gitops did not create (" + String.join(", ",
        objects.subList(0, Math.min(10, objects.size()))) + (objects.size() > 10 ? ", ..." : "") + ")";
  }

  private TerraformException refusal(String what) {
    return new TerraformException("refusing to take over the Terraform working directory " + dir.root()
        + ": it holds " + what + ". Adopt it explicitly (--adopt; an agent's policies.adopt: true;"
        + " TerraformProvider.Builder.adopt(true)): the revision's configuration then replaces those files, and"
        + " objects the revision does not declare are held back, never destroyed, until you declare them in Git or"
        + " remove them from the state");
  }

  /**
   * The addresses {@code p} would destroy that gitops has no record of managing (read only: a plan,
   * shown or not, records nothing). A working directory gitops managed before that record existed
   * counts the objects of its state as gitops's.
   */
  private Set<String> unmanagedDeletes(PlanReader.Parsed p, TfState state) {
    OwnedAddresses owned = owned(state);
    Set<String> foreign = new TreeSet<>();
    for (Change c : p.changes()) {
      if (isObject(c.key()) && c.action() == Action.DELETE && !owned.contains(Addresses.address(c.key()))) {
        foreign.add(Addresses.address(c.key()));
      }
    }
    return foreign;
  }

  /**
   * The record of the objects gitops manages, its addresses in Terraform's spelling (an entry
   * written before instance keys were quoted as Terraform does is read as the key it holds: {@link
   * OwnedAddresses}); without one, the objects of {@code state}.
   */
  private OwnedAddresses owned(TfState state) {
    return owned(state, List.of());
  }

  /** {@link #owned(TfState)}, the addresses of {@code alsoKnown} (a plan's) deciding a spelling as the state's do. */
  private OwnedAddresses owned(TfState state, Collection<ResourceKey> alsoKnown) {
    Set<String> inState = new TreeSet<>();
    state.objects().keySet().forEach(k -> inState.add(Addresses.address(k)));
    if (dir.hasRecord(OWNED)) {
      Set<String> known = new TreeSet<>(inState);
      alsoKnown.forEach(k -> known.add(Addresses.address(k)));
      return OwnedAddresses.read(dir.record(OWNED), known, dir.own().resolve(OWNED));
    }
    OwnedAddresses seeded = OwnedAddresses.read(Documents.nodes().objectNode(), inState, dir.own().resolve(OWNED));
    inState.forEach(seeded::add);
    return seeded;
  }

  private static boolean isObject(ResourceKey key) {
    return !Addresses.isOutput(key) && !Addresses.isData(key) && !Addresses.isFile(key) && !Addresses.isVariable(key);
  }

  /**
   * Records as managed the objects an apply of {@code p} that ran left in the state ({@code after},
   * read right after it): each the plan declared (any action but a destroy or forget: created,
   * updated, replaced, or declared unchanged, so adopted). Only an apply makes an object gitops's,
   * never a plan: a preview of a branch never merged, a dry run, a plan awaiting approval or held
   * back would otherwise make the next sync of another revision destroy what that plan declared.
   */
  private void recordApplied(PlanReader.Parsed p, TfState after) {
    // the plan's keys too: an object it destroyed, no longer in the state, still decides its entry's spelling
    OwnedAddresses owned = owned(after, p.changes().stream().map(Change::key).filter(TerraformProvider::isObject)
        .toList());
    boolean grew = !dir.hasRecord(OWNED) || owned.respelled();  // a record in the old spelling is written anew
    for (Change c : p.changes()) {
      if (isObject(c.key()) && c.action() != Action.DELETE && c.action() != Action.FORGET
          && after.objects().containsKey(c.key())) {
        grew |= owned.add(Addresses.address(c.key()));
      }
    }
    if (grew) {
      dir.writeRecord(OWNED, owned.toRecord());
    }
  }

  /**
   * Stops a plan against a state that is not the one gitops last saw: another lineage, a serial
   * that went backwards, or an empty or missing state where there was one (a state file emptied by
   * a crash, replaced, restored from an old backup). Planning then would recreate what exists.
   */
  private void checkStateContinuity(TfState now) {
    boolean lost = lostWorkingDirectory();
    com.fasterxml.jackson.databind.JsonNode seen = (lost ? copyRecord() : dir.record(STATE_RECORD))
        .path(stateRecordKey());
    String lineage = seen.path("lineage").asText("");
    if (lineage.isEmpty()) {
      return;
    }
    long serial = seen.path("serial").asLong(0);
    int objects = seen.path("objects").asInt(0);
    String was = "gitops last saw lineage " + lineage + " serial " + serial + " with " + objects + " objects";
    if (lost && objects > 0 && now.lineage().isEmpty()) {
      throw new TerraformException("the Terraform working directory " + dir.root() + " holds no state and no"
          + " record of gitops's, but gitops's record beside its state store (" + stateRecordCopy + ") says it"
          + " applied there: " + was + " (" + stateName() + "); it was lost (a volume, a clean-up), and planning now"
          + " would create those objects a second time, so nothing was planned. Restore the working directory"
          + " (its terraform.tfstate) from a backup, or import the objects into a new state (terraform import,"
          + " import blocks); to start from an empty state on purpose, remove " + stateRecordCopy
          + " and sync again");
    }
    if (lost) {
      return;  // the working directory's own record is what the checks below compare with
    }
    String why = null;
    if (now.lineage().isEmpty()) {
      why = "is empty or missing, but " + was;
    } else if (!now.lineage().equals(lineage)) {
      why = "has lineage " + now.lineage() + ", but " + was + ": it was replaced";
    } else if (now.serial() >= 0 && now.serial() < serial) {
      why = "has serial " + now.serial() + ", but " + was + ": it went backwards (restored from an older copy?)";
    } else if (now.serial() == serial && seen.has("objects") && now.objects().size() != objects) {
      // Terraform writes a new serial with every change: the same serial with other content was edited by hand
      why = "has serial " + now.serial() + " with " + now.objects().size() + " objects, but " + was
          + ": it changed without a new serial (edited, emptied of its objects?)";
    }
    if (why != null) {
      throw new TerraformException(stateName() + " " + why + "; planning against it would recreate or lose"
          + " infrastructure, so nothing was planned. Restore the state, or, if this state is the one you mean,"
          + " remove " + dir.own().resolve(STATE_RECORD) + " and sync again");
    }
  }

  /** Records the state's lineage, serial and size as seen now (an empty state is never recorded). */
  private void recordState(TfState now) {
    if (now.lineage().isEmpty()) {
      return;
    }
    com.fasterxml.jackson.databind.node.ObjectNode record = dir.record(STATE_RECORD);
    com.fasterxml.jackson.databind.JsonNode was = record.path(stateRecordKey());
    if (was.path("lineage").asText("").equals(now.lineage()) && was.path("serial").asLong(-2) == now.serial()) {
      if (stateRecordCopy != null && !Files.isRegularFile(stateRecordCopy)) {
        writeCopy(record);  // a working directory managed before the copy was kept
      }
      return;
    }
    com.fasterxml.jackson.databind.node.ObjectNode w = record.putObject(stateRecordKey());
    w.put("lineage", now.lineage());
    w.put("serial", now.serial());
    w.put("objects", now.objects().size());
    dir.writeRecord(STATE_RECORD, record);
    writeCopy(record);
  }

  /** The file name of the copy of the state's record beside the engine's store. */
  private static final String STATE_RECORD_COPY = "terraform-state-record.json";

  /**
   * Whether the working directory was lost: no record of gitops's in it (not the list of files it
   * wrote, not the state's record) while the copy beside the engine's store says gitops applied
   * there. A working directory whose {@code state.json} alone was removed (to accept a replaced
   * state, as documented) is not lost.
   */
  private boolean lostWorkingDirectory() {
    return stateRecordCopy != null && !dir.managed() && !dir.hasRecord(STATE_RECORD)
        && Files.isRegularFile(stateRecordCopy);
  }

  private com.fasterxml.jackson.databind.node.ObjectNode copyRecord() {
    return WorkingDirectory.readRecord(stateRecordCopy);
  }

  /** Keeps the state's record beside the engine's store too, where it outlives the working directory. */
  private void writeCopy(JsonNode record) {
    if (stateRecordCopy == null) {
      return;
    }
    try {
      if (!Files.isDirectory(stateRecordCopy.getParent())) {
        return;  // no store there (yet): a command that only shows a plan makes none
      }
      DurableFiles.write(stateRecordCopy, WorkingDirectory.recordBytes(record));
    } catch (IOException e) {
      LOG.warn("provider '{}': cannot keep the copy of the state's record {}: {}", id, stateRecordCopy, e.toString());
    }
  }

  /**
   * Where the record of a state is kept: per backend and workspace (a backend changed in Git is
   * another store of state, reviewed as a change of the configuration).
   */
  private String stateRecordKey() {
    String backend = InitInputs.backend(dir.materialized());
    return (backend.isEmpty() ? "(local)" : backend) + "/" + workspace;
  }

  /** The state's name for messages: its file, or the backend's state. */
  private String stateName() {
    String backend = InitInputs.backend(dir.materialized());
    if (!backend.isEmpty()) {
      return "the state of backend '" + backend + "' (workspace " + workspace + ")";
    }
    return "the state file " + (workspace.equals("default") ? dir.root().resolve("terraform.tfstate")
        : dir.root().resolve("terraform.tfstate.d").resolve(workspace).resolve("terraform.tfstate"));
  }

  /**
   * Removes every saved plan file but {@code made}'s: the plan it supersedes, and those an earlier
   * process left pending (a plan is applied only by the process that made it; another makes its own,
   * under the same id when nothing moved). A plan file holds the state and the variables' values, so
   * none is kept longer than it can be applied, and a target that plans every few minutes without
   * applying (detect-only, awaiting approval, refused) keeps one, not one per sync.
   */
  private void discardOthers(Pending made) {
    try (java.nio.file.DirectoryStream<Path> plans = Files.newDirectoryStream(dir.plans(), "*.tfplan")) {
      for (Path p : plans) {
        if (!p.equals(made.file())) {
          discard(p);
        }
      }
    } catch (IOException | java.nio.file.DirectoryIteratorException e) {
      // Superseded plan files are never applied (they are not pending); leaving them costs disk only.
      LOG.warn("provider '{}': cannot list the saved plans in {} to remove superseded ones: {}", id, dir.plans(),
          e.toString());
    }
  }

  /** The SHA-256 of the saved plan file terraform plan just wrote, hex. */
  private static String planDigest(Path file) {
    try {
      return sha256(file);
    } catch (IOException e) {
      throw new TerraformException("cannot read the saved plan file " + file + " that terraform plan wrote: "
          + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
    }
  }

  /** The SHA-256 of a saved plan file, hex (read in slices: a plan file holds the state, which can be large). */
  private static String sha256(Path planFile) throws IOException {
    java.security.MessageDigest md = Documents.sha256();
    try (java.io.InputStream in = Files.newInputStream(planFile)) {
      byte[] buffer = new byte[64 * 1024];
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        md.update(buffer, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /**
   * Why {@code plan}'s file is no longer the one Terraform wrote when it was made, if it is not: its
   * SHA-256 differs (another process or someone wrote it, a tampered file) or it cannot be read.
   */
  private static Optional<String> changedSince(Pending plan) {
    String now;
    try {
      now = sha256(plan.file());
    } catch (IOException e) {
      return Optional.of("its saved plan file " + plan.file() + " cannot be read to check it is the one made ("
          + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()) + ")");
    }
    return now.equals(plan.sha256()) ? Optional.empty() : Optional.of("its saved plan file " + plan.file()
        + " changed since it was made (SHA-256 " + plan.sha256().substring(0, 12) + "... then, "
        + now.substring(0, 12) + "... now)");
  }

  /** Removes a plan file that will never be applied (a failure to is logged: it costs disk only). */
  private static void discard(Path planFile) {
    try {
      Files.deleteIfExists(planFile);
    } catch (IOException e) {
      LOG.warn("cannot remove the saved plan file {}, which will never be applied: {}", planFile, e.toString());
    }
  }

  private static List<Change> mark(List<Change> changes, java.util.function.UnaryOperator<Change> fn) {
    List<Change> out = new ArrayList<>(changes.size());
    for (Change c : changes) {
      out.add(c.action() == Action.NOOP ? c : fn.apply(c));
    }
    return out;
  }

  private static String verb(Change c) {
    return c.action() + " (" + c.reason() + ")";
  }

  /** Why Terraform's own plan may not be applied automatically, if so. */
  private static Optional<String> heldBack(PlanReader.Parsed p) {
    if (p.errored()) {
      return Optional.of("terraform's plan errored (errored=true)");
    }
    if (!p.complete()) {
      return Optional.of("terraform's plan is incomplete (complete=false"
          + (p.deferred() > 0 ? ", " + p.deferred() + " changes deferred" : "") + ")");
    }
    if (p.deferred() > 0) {
      return Optional.of("terraform deferred " + p.deferred() + " changes");
    }
    if (!p.applyable() && p.hasChanges()) {
      return Optional.of("terraform judges the plan not applyable (applyable=false)");
    }
    return Optional.empty();
  }

  /**
   * What a detect-only provider reports: every key of the refresh-only plan (so dependents find
   * them), with anything it would do turned into a SKIP, and each drifted object a SKIP flagged DRIFT.
   */
  private static List<Change> detectOnlyChanges(PlanReader.Parsed p) {
    Map<ResourceKey, Change> out = new LinkedHashMap<>();
    for (Change c : mark(p.changes(), c -> c.withAction(Action.SKIP, "would " + verb(c) + "; detect-only: not applied"))) {
      out.put(c.key(), c);
    }
    for (Change d : p.drift()) {
      out.put(d.key(), d.withAction(Action.SKIP, d.reason() + " (detect-only: reported, not corrected)"));
    }
    return new ArrayList<>(out.values());
  }

  private Pending runPlan(String planId, CallContext ctx, TfState state, boolean destroy) {
    Path file = dir.plans().resolve(planId + ".tfplan");
    List<String> extra = new ArrayList<>(commonArgs());
    if (destroy) {
      extra.add("-destroy");
    }
    if (detectOnly) {
      extra.add("-refresh-only");
    }
    extra.addAll(variableArgs());
    try {
      Terraform.Run run = terraform.plan(file, extra, ctx, m -> event("plan", m, Map.of()));
      // the digest of the file Terraform wrote, before anything reads it: apply runs that file or nothing
      String sha256 = planDigest(file);
      PlanReader.Parsed parsed = showPlan(file, ctx, dir.key());
      scrubber.addAll(parsed.secrets());
      checkDeclared(run, parsed);
      Pending made = new Pending(planId, ctx.revision(), state.token(), file, sha256, parsed, varFileDigests());
      // what show -json read, and this plan shows, is that file too
      Optional<String> changed = changedSince(made);
      if (changed.isPresent()) {
        throw new StalePlanException(planId, changed.get() + " while it was read back; it was removed: plan again");
      }
      return made;
    } catch (RuntimeException e) {
      discard(file);  // a plan that cannot be used is not kept (it holds the variables' values)
      throw e;
    } finally {
      dir.clearVariables();
    }
  }

  /**
   * The saved plan {@code file} as {@code show -json} prints it, read ({@link PlanReader}, with the
   * root variables' changes when {@code hmacKey} is given). What cannot be read as a plan (cut short,
   * not JSON, another format) fails naming the plan file and the working directory.
   */
  private PlanReader.Parsed showPlan(Path file, CallContext ctx, byte[] hmacKey) {
    byte[] json = terraform.showPlan(file, ctx);
    try {
      return PlanReader.read(id, json, scrubber.current(), hmacKey);
    } catch (TerraformException e) {
      throw new TerraformException("cannot read what terraform show -json printed of the saved plan " + file + " in "
          + dir.root() + " (" + json.length + " bytes): " + e.getMessage(), e);
    }
  }

  /** Terraform's warning about a value for a variable the root module does not declare. */
  private static final java.util.regex.Pattern UNDECLARED = java.util.regex.Pattern.compile(
      "variable named \"([^\"]+)\" but a value was found in file \"([^\"]+)\"");

  /**
   * Refuses a plan made with a variable the configuration does not declare, as {@code terraform
   * plan -var} does: the variables reach Terraform through a variable file, where Terraform only
   * warns ("Value for undeclared variable"), so a misspelt name would plan with the default. The
   * variables the plan's configuration declares decide; without them (a plan that shows no
   * configuration), Terraform's own warnings about the provider's variable file, which name two
   * values at most (and count the others), so this is the fallback only.
   */
  private void checkDeclared(Terraform.Run run, PlanReader.Parsed parsed) {
    Set<String> undeclared = new TreeSet<>();
    if (parsed.declaredVariables() != null) {
      variables.keySet().stream().filter(v -> !parsed.declaredVariables().contains(v)).forEach(undeclared::add);
    }
    for (UiStream.Diagnostic d : run.stream().diagnostics()) {
      java.util.regex.Matcher m = UNDECLARED.matcher(d.detail());
      if ("Value for undeclared variable".equals(d.summary()) && m.find() && variables.containsKey(m.group(1))
          && Set.of(WorkingDirectory.VARIABLES_FILE, WorkingDirectory.HCL_VARIABLES_FILE)
              .contains(Path.of(m.group(2)).getFileName().toString())) {
        undeclared.add(m.group(1));
      }
    }
    if (!undeclared.isEmpty()) {
      Set<String> declared = parsed.declaredVariables();
      throw new TerraformException((undeclared.size() == 1 ? "variable '" + undeclared.iterator().next() + "' is"
          : "variables " + undeclared.stream().map(v -> "'" + v + "'").collect(java.util.stream.Collectors.joining(", "))
          + " are") + " set (--var, variable(...)) but the configuration declares no such variable"
          + (declared == null || declared.isEmpty() ? "" : " (it declares " + String.join(", ", declared) + ")")
          + "; nothing is applied");
    }
  }

  /**
   * Makes the working directory ready for a command on its state, with {@code files} materialized:
   * init when needed ({@link #ensureInit}), then the workspace selected (created the first time).
   */
  private void initialize(SortedMap<String, String> files, CallContext ctx) {
    ensureInit(files, ctx);
    if (!workspace.equals("default")) {
      terraform.selectWorkspace(workspace, ctx);
    }
  }

  /** Runs init when what it depends on changed since the last successful init (the decision is cached). */
  private void ensureInit(SortedMap<String, String> files, CallContext ctx) {
    String extra = terraform.binary().path() + "|" + terraform.version(ctx);
    SortedMap<String, String> inputs = new TreeMap<>(files);
    inputs.put(InitInputs.LOCK_FILE, dir.lockFile());
    String digest = InitInputs.digest(inputs, extra);
    if (digest.equals(dir.initDigest())) {
      LOG.debug("terraform init not needed in {}: providers, modules, backend and lock file unchanged", dir.root());
      checkModules();
      return;
    }
    LOG.info("terraform init in {}: provider requirements, modules, backend or lock file changed", dir.root());
    terraform.init(ctx);
    checkModules();  // before the decision is recorded: a refused configuration is initialized (and checked) again
    inputs.put(InitInputs.LOCK_FILE, dir.lockFile());
    dir.recordInit(InitInputs.digest(inputs, extra));
  }

  /**
   * Refuses a configuration with a module Terraform resolved outside the working directory (its
   * {@code modules.json}): it would be read from this host, not from the revision. The decoder
   * refuses the plain cases naming file and line; this is Terraform's own reading, whatever the
   * configuration's spelling (a bare block label, a commented-out source, a nested module).
   */
  private void checkModules() {
    List<String> outside = dir.modulesOutside();
    if (!outside.isEmpty()) {
      throw new TerraformException("terraform init resolved module " + String.join(", module ", outside)
          + " outside the working directory " + dir.root() + ": Terraform would read it from this host, not from the"
          + " revision, so nothing was planned. Put the module under the configuration directory (or make it a"
          + " registry or Git source)");
    }
  }

  private List<String> commonArgs() {
    List<String> out = new ArrayList<>();
    out.add("-lock-timeout=" + lockTimeout.toSeconds() + "s");
    return out;
  }

  private List<String> variableArgs() {
    List<String> out = new ArrayList<>();
    for (String f : varFiles) {
      out.add("-var-file=" + varFilePath(f));
    }
    if (!variables.isEmpty()) {
      // As -var: a variable of a list, map, set, object or tuple type takes an HCL expression, any other a string
      Set<String> complex = dev.gitops.terraform.internal.VariableFiles.complexTyped(dir.materialized());
      SortedMap<String, String> strings = new TreeMap<>();
      SortedMap<String, String> expressions = new TreeMap<>();
      variables.forEach((k, v) -> (complex.contains(k) ? expressions : strings).put(k, v));
      for (Map.Entry<String, String> e : expressions.entrySet()) {
        if (e.getValue().contains("\n") || e.getValue().contains("\r")) {
          throw new TerraformException("the value of variable '" + e.getKey() + "' (a list, map, set, object or tuple,"
              + " given as an HCL expression as -var takes it) spans lines; give it on one line or in a variable file");
        }
      }
      // Last, so they win over the files as -var would; through a file, so no value is on a command line.
      if (!strings.isEmpty()) {
        out.add("-var-file=" + dir.writeVariables(strings));
      }
      if (!expressions.isEmpty()) {
        out.add("-var-file=" + dir.writeHclVariables(expressions));
      }
    }
    return out;
  }

  /**
   * Where Terraform reads the variable file {@code f}: an absolute one where it is, a relative one
   * as the check of the revision found it ({@link #configRelative}: {@code env\\prod.tfvars} is
   * {@code env/prod.tfvars}), copied into the working directory.
   */
  private Path varFilePath(String f) {
    Path p = Path.of(f);
    return p.isAbsolute() ? p : dir.root().resolve(configRelative(f)).normalize();
  }

  /** The configuration files of {@code desired}: path -> text. */
  private SortedMap<String, String> configFiles(List<Resource> desired) {
    SortedMap<String, String> files = new TreeMap<>();
    for (Resource r : desired) {
      if (!Addresses.isFile(r.key())) {
        throw new TerraformException(r.key(), "declared at " + r.origin() + ", but the Terraform provider '" + id
            + "' takes its desired state from configuration files only (" + Addresses.file(id, "main.tf") + ")", null);
      }
      JsonNode content = r.document().get("content");
      if (content == null || !content.isTextual()) {
        throw new TerraformException(r.key(), "configuration file resource without a text 'content' (" + r.origin()
            + ")", null);
      }
      files.put(r.key().name(), content.textValue());
    }
    return files;
  }

  /** The plan id: an HMAC under the working directory's key of revision, variables, workspace, mode and state. */
  private String planId(String revision, TfState state, boolean destroy) {
    StringBuilder sb = new StringBuilder().append(revision).append('\u0000').append(workspace).append('\u0000')
        .append(destroy ? "destroy" : detectOnly ? "refresh-only" : "normal").append('\u0000').append(state.token());
    variables.forEach((k, v) -> sb.append('\u0000').append(k).append('=').append(v));
    varFileDigests().forEach(f -> sb.append('\u0000').append(f.getKey()).append('=').append(f.getValue()));
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(dir.key(), "HmacSHA256"));
      return "tf-" + HexFormat.of().formatHex(mac.doFinal(sb.toString().getBytes(StandardCharsets.UTF_8)), 0, 8);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
    }
  }

  /**
   * Each variable file ({@link Builder#varFile}, in the order given) and the SHA-256 of what it holds
   * now, or {@code missing}: part of the plan id, and what {@link #movedSince} compares.
   */
  private List<Map.Entry<String, String>> varFileDigests() {
    List<Map.Entry<String, String>> out = new ArrayList<>();
    for (String f : varFiles) {
      Path p = varFilePath(f);
      try {
        out.add(Map.entry(f, Files.isRegularFile(p) ? Sha256.hex(Files.readAllBytes(p)) : "missing"));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the variable file " + p + ": " + e.getMessage(), e);
      }
    }
    return out;
  }

  /**
   * What moved since {@code plan} was made, each in words: the revision (unless {@code revision} is
   * null), the state's lineage and serial (unless {@code stateToken} is null), a variable file's
   * content. The plan file holds the values of then: applied now, it would not apply what is
   * configured now.
   */
  private List<String> movedSince(Pending plan, String revision, String stateToken) {
    List<String> out = new ArrayList<>();
    if (revision != null && !revision.equals(plan.revision())) {
      out.add("the revision moved (" + plan.revision() + " then, " + revision + " now)");
    }
    if (stateToken != null && !stateToken.equals(plan.stateToken())) {
      out.add("the state moved (lineage/serial " + plan.stateToken() + " then, " + stateToken + " now)");
    }
    List<Map.Entry<String, String>> now = varFileDigests();  // the same files: a provider's are fixed
    for (int i = 0; i < now.size(); i++) {
      String f = now.get(i).getKey();
      String then = plan.varFiles().get(i).getValue();
      String digest = now.get(i).getValue();
      if (!digest.equals(then) && out.stream().noneMatch(o -> o.startsWith("variable file " + f + " "))) {
        out.add("variable file " + f + (digest.equals("missing") ? " is gone" : then.equals("missing")
            ? " appeared" : " changed"));
      }
    }
    return out;
  }

  // ------------------------------------------------------------------------------------ state

  /**
   * The state: without a backend block, the local state file read directly (no process started),
   * unless OpenTofu encrypted it; with one (including a local backend with its own path), or
   * encrypted, {@code state pull}.
   */
  private TfState readState(CallContext ctx) {
    SortedMap<String, String> files = dir.materialized();
    String backend = InitInputs.backend(files);
    if (backend.isEmpty()) {
      Path file = workspace.equals("default") ? dir.root().resolve("terraform.tfstate")
          : dir.root().resolve("terraform.tfstate.d").resolve(workspace).resolve("terraform.tfstate");
      if (!Files.isRegularFile(file)) {
        return TfState.empty();
      }
      byte[] bytes;
      try {
        // a slice per read: one read of a large state's size would leave a direct buffer that large with the thread
        bytes = DurableFiles.readAll(file);
      } catch (IOException e) {
        // an interrupted thread reads nothing (ClosedByInterruptException, no message): named by its type
        throw new TerraformException("cannot read the state file " + file + ": " + (e.getMessage() == null
            ? e.getClass().getSimpleName() : e.getMessage()), e);
      }
      if (!StateReader.encrypted(bytes)) {
        TfState s = StateReader.file(id, bytes, file, scrubber.current());
        scrubber.addAll(s.secrets());
        return s;
      }
      // OpenTofu's state encryption: only the binary, with the configuration's key, decrypts it
      LOG.debug("provider '{}': {} is encrypted (OpenTofu state encryption): read through state pull", id, file);
    }
    TfState s = StateReader.v4(id, terraform.statePull(ctx), "the state (state pull)", scrubber.current());
    scrubber.addAll(s.secrets());
    return s;
  }

  /**
   * Observes from the state: PRESENT with the attributes (sensitive values hidden) and the state's
   * lineage and serial as version, or ABSENT. A configuration file key is observed in the working
   * directory. If the state cannot be read, every key is UNKNOWN.
   */
  @Override
  public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
    Map<ResourceKey, Observation> out = new LinkedHashMap<>();
    TfState state;
    String token;
    try {
      lock.lock();
      try {
        TfState full = readState(ctx);
        token = full.token();
        SortedMap<String, String> files = dir.materialized();
        String backend = InitInputs.backend(files);
        // A remote backend's state is read through show -json; the local file holds everything already.
        state = backend.isEmpty() ? full
            : StateReader.representation(id, terraform.showState(ctx), scrubber.current());
        scrubber.addAll(state.secrets());
      } finally {
        lock.unlock();
      }
    } catch (RuntimeException e) {
      String why = "cannot read the terraform state: " + scrubber.scrub(e.getMessage());
      LOG.warn("provider '{}': {}", id, why);
      keys.forEach(k -> out.put(k, Observation.unknown(k, why)));
      return out;
    }
    for (ResourceKey k : keys) {
      if (Addresses.isFile(k)) {
        Path p = dir.root().resolve(k.name()).normalize();
        try {
          out.put(k, Files.isRegularFile(p) && p.startsWith(dir.root())
              ? Observation.present(k, Documents.object(Map.of("content",
                  Documents.nodes().textNode(Files.readString(p, StandardCharsets.UTF_8)))), "")
              : Observation.absent(k));
        } catch (IOException e) {
          out.put(k, Observation.unknown(k, "cannot read " + p + ": " + e.getMessage()));
        }
      } else if (Addresses.isOutput(k)) {
        StateReader.StateOutput o = state.outputs().get(k.name());
        out.put(k, o == null ? Observation.absent(k)
            : Observation.present(k, Documents.object(Map.of("value", o.value())), token));
      } else {
        StateReader.StateObject o = state.objects().get(k);
        out.put(k, o == null ? Observation.absent(k) : Observation.present(k, o.attributes(), token));
      }
    }
    return out;
  }

  // ------------------------------------------------------------------------------------ apply

  @Override
  public Outcome apply(Change change, CallContext ctx) {
    return applyAll(List.of(change), ctx).get(change.key());
  }

  /**
   * Applies the unit: exactly the saved plan the engine's plan was made from, once. It is refused
   * (every key fails, naming why) when there is no such plan, when the changes asked for are not
   * that plan's, when it was made for another revision than the one synced, or when the state's
   * lineage or serial moved since. Changes of a plan already applied get that apply's outcomes.
   */
  @Override
  public Map<ResourceKey, Outcome> applyAll(List<Change> changes, CallContext ctx) {
    lock.lock();
    try {
      Map<ResourceKey, Outcome> out = new LinkedHashMap<>();
      if (pending == null && appliedPlan != null && appliedOutcomes.keySet().containsAll(keys(changes))) {
        changes.forEach(c -> out.put(c.key(), appliedOutcomes.get(c.key())));
        return out;
      }
      try {
        if (pending == null) {
          throw new StalePlanException("(none)", "there is no saved plan to apply; plan first");
        }
        beginSession("applying " + pending.id() + " at " + ctx.revision(), ctx);
        if (detectOnly) {
          throw new TerraformException("provider '" + id + "' is detect-only: it reports drift and applies nothing");
        }
        if (!pending.revision().equals(ctx.revision())) {
          throw new StalePlanException(pending.id(), "it was made at " + pending.revision() + " but "
              + ctx.revision() + " is being applied");
        }
        Map<ResourceKey, Action> planned = new LinkedHashMap<>();
        pending.parsed().changes().forEach(c -> planned.put(c.key(), c.action()));
        for (Change c : changes) {
          if (planned.get(c.key()) != c.action()) {
            throw new StalePlanException(pending.id(), c.key() + " is to " + c.action() + ", but the saved plan "
                + (planned.containsKey(c.key()) ? "has " + planned.get(c.key()) : "does not have it"));
          }
        }
        ApplyResult r = applyPending(ctx);
        changes.forEach(c -> out.put(c.key(), r.outcomes().getOrDefault(c.key(), Outcome.unchanged())));
      } catch (TerraformException e) {
        String message = scrubber.scrub(e.getMessage());
        LOG.warn("provider '{}' did not apply at {}: {}", id, ctx.revision(), message);
        changes.forEach(c -> out.put(c.key(), Outcome.permanentFailure(message, e)));
      } finally {
        endSession();
      }
      return out;
    } finally {
      lock.unlock();
    }
  }

  private static List<ResourceKey> keys(List<Change> changes) {
    return changes.stream().map(Change::key).toList();
  }

  /**
   * Approves the pending plan {@code planId} (MANUAL approval): the next sync applies exactly that
   * saved plan, if it is still current then.
   *
   * @throws StalePlanException when {@code planId} is not the pending plan
   */
  public void approve(String planId) {
    lock.lock();
    try {
      if (pending == null || !pending.id().equals(planId)) {
        throw new StalePlanException(planId, "it is not the pending plan (pending: "
            + (pending == null ? "none" : pending.id()) + ")");
      }
      approved = planId;
      LOG.info("terraform plan {} approved", planId);
    } finally {
      lock.unlock();
    }
  }

  /** The plan a sync or {@link #apply(String, String, boolean, CallContext)} would apply, if any. */
  public Optional<TerraformPlan> pendingPlan() {
    lock.lock();
    try {
      return Optional.ofNullable(pending).map(Pending::view);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Applies the pending saved plan {@code planId} now, outside a sync: only while it is the
   * pending plan, the state's lineage and serial are those it was made with and its variable files
   * hold what they held then (the plan file holds the values of then), and (unless
   * {@code force}) only if it was made at {@code wantedRevision} and is complete. An errored or
   * unapplyable plan is never applied.
   *
   * @throws StalePlanException when the plan no longer holds
   * @throws TerraformLockException when the state is locked
   */
  public ApplyResult apply(String planId, String wantedRevision, boolean force, CallContext ctx) {
    lock.lock();
    try {
      if (pending == null || !pending.id().equals(planId)) {
        throw new StalePlanException(planId, "it is not the pending plan (pending: "
            + (pending == null ? "none" : pending.id()) + ")");
      }
      String wanted = wantedRevision != null ? wantedRevision : this.wantedRevision;
      if (!force && wanted != null && !wanted.equals(pending.revision())) {
        throw new StalePlanException(planId, "it was made at " + pending.revision() + " but " + wanted
            + " is wanted; plan again, or insist (force)");
      }
      PlanReader.Parsed p = pending.parsed();
      if (p.errored() || (!p.applyable() && p.hasChanges())) {
        throw new TerraformException("plan " + planId + " cannot be applied: " + heldBack(p).orElse("not applyable"));
      }
      if (!force && heldBack(p).isPresent()) {
        throw new TerraformException("plan " + planId + " is not applied automatically: " + heldBack(p).get()
            + "; insist (force) to apply it anyway");
      }
      beginSession("applying " + planId, ctx);
      try {
        Set<String> foreign = unmanagedDeletes(p, readState(ctx));
        if (!foreign.isEmpty()) {
          throw new TerraformException("plan " + planId + " would destroy " + String.join(", ", foreign) + ", which"
              + " gitops has no record of managing in " + dir.root() + "; it is never applied (declare them in Git, or"
              + " remove them from the state)");
        }
        return applyPending(ctx);
      } finally {
        endSession();
      }
    } finally {
      lock.unlock();
    }
  }

  /** Applies {@link #pending} (the caller holds the lock and checked everything but the state and the file). */
  private ApplyResult applyPending(CallContext ctx) {
    Pending plan = pending;
    if (!Files.isRegularFile(plan.file())) {
      throw new StalePlanException(plan.id(), "its saved plan file " + plan.file() + " is gone");
    }
    Optional<String> changed = changedSince(plan);
    if (changed.isPresent()) {
      // Another process, or someone, wrote it since: what it would apply is not what was planned and shown
      pending = null;
      approved = null;
      discard(plan.file());
      throw new StalePlanException(plan.id(), changed.get() + "; it was removed, not applied: plan again");
    }
    List<String> moved = movedSince(plan, null, null);
    if (!moved.isEmpty()) {
      // it holds the values of then: applied, it would set what is no longer configured
      pending = null;
      approved = null;
      discard(plan.file());
      throw new StalePlanException(plan.id(), "since it was made, " + String.join("; ", moved) + ": it holds the"
          + " values of then; it was removed, not applied: plan again");
    }
    TfState now = readState(ctx);
    if (!now.token().equals(plan.stateToken())) {
      throw new StalePlanException(plan.id(), "the state moved since it was made (lineage/serial "
          + plan.stateToken() + " then, " + now.token() + " now)");
    }
    Map<String, ResourceKey> byAddress = plan.parsed().keysByAddress();
    LOG.info("applying terraform plan {} at {}: {}", plan.id(), plan.revision(), plan.view().summary());
    Terraform.Run run;
    try {
      run = terraform.apply(plan.file(), commonArgs(), plan.id(), ctx, m -> event("apply", m, byAddress));
    } catch (StalePlanException | TerraformLockException e) {
      // Terraform did not start applying: this plan can never run now.
      pending = null;
      approved = null;
      throw e;
    }
    TfState after = null;
    try {
      after = readState(ctx);
    } catch (RuntimeException e) {
      // The apply stands; only the outputs for dependents are missing, and each dependent says so.
      LOG.warn("provider '{}': cannot read the state after applying plan {}: {}", id, plan.id(),
          scrubber.scrub(e.getMessage()));
    }
    SortedMap<ResourceKey, Outcome> outcomes = outcomes(plan, run, after);
    pending = null;
    approved = null;
    try {
      Files.deleteIfExists(plan.file());
    } catch (IOException e) {
      // Only a used plan file is left behind; it is never applied again (it is no longer pending).
      LOG.debug("cannot remove the applied plan file {}: {}", plan.file(), e.toString());
    }
    SortedMap<String, JsonNode> outputs = new TreeMap<>();
    String token = "";
    if (after != null) {
      TfState state = after;
      try {
        recordState(state);
        recordApplied(plan.parsed(), state);
      } catch (RuntimeException e) {
        LOG.warn("provider '{}': cannot record the state after applying plan {}: {}", id, plan.id(),
            scrubber.scrub(e.getMessage()));
      }
      token = state.token();
      state.outputs().forEach((k, o) -> {
        if (!o.sensitive()) {
          outputs.put(k, o.value());
        }
      });
      outcomes.replaceAll((k, o) -> o.isOk() ? o.withOutputs(outputsOf(k, state)) : o);
    }
    appliedPlan = plan.id();
    appliedOutcomes = Map.copyOf(outcomes);
    return new ApplyResult(plan.id(), outcomes, outputs, token);
  }

  /**
   * Per change of {@code plan}, what {@code run} did to it: a resource by its hooks, an output (which
   * has none) after a failed apply by the state read right after it ({@code after}, null when it
   * could not be read).
   */
  private SortedMap<ResourceKey, Outcome> outcomes(Pending plan, Terraform.Run run, TfState after) {
    SortedMap<ResourceKey, Outcome> out = new TreeMap<>();
    Map<String, UiStream.Message> hooks = run.stream().lastHooks();
    boolean ok = run.exitCode() == 0 && !run.timedOut() && !run.cancelled();
    String failure = ok ? "" : run.timedOut() || run.cancelled()
        ? "terraform apply " + (run.timedOut() ? "timed out" : "was cancelled") + " before it finished with this"
            + " object; the state may have moved"
        : "not applied: terraform apply failed (exit " + run.exitCode() + "): " + terraform.errors(run);
    for (Change c : plan.parsed().changes()) {
      if (c.action() == Action.NOOP) {
        continue;
      }
      UiStream.Message hook = hooks.get(Addresses.address(c.key()));
      Outcome o;
      if (!ok && after != null && Addresses.isOutput(c.key())) {
        o = writtenOutput(c, plan, after) ? success(c) : run.timedOut() || run.cancelled() ? Outcome.unknown(failure)
            : Outcome.permanentFailure(failure, null);
      } else if (hook != null && hook.type().equals("apply_errored")) {
        o = Outcome.permanentFailure(scrubber.scrub(hook.address() + ": " + hook.action() + " failed: "
            + errorsFor(run, hook.address())), null);
      } else if (ok || hook != null && hook.type().equals("apply_complete")) {
        o = success(c);
      } else if (run.timedOut() || run.cancelled()) {
        o = Outcome.unknown(failure);
      } else {
        o = Outcome.permanentFailure(failure, null);
      }
      out.put(c.key(), o);
    }
    if (!ok) {
      LOG.warn("terraform apply of plan {} at {} failed: {}", plan.id(), plan.revision(), failure);
    }
    return out;
  }

  /**
   * Whether a failed apply wrote the output {@code c} planned, as the state read right after it
   * shows: removed for a FORGET; otherwise there, with the planned value where the plan knew it and
   * shows it, else written by this apply (the state moved since the plan).
   */
  private static boolean writtenOutput(Change c, Pending plan, TfState after) {
    StateReader.StateOutput o = after.outputs().get(c.key().name());
    if (c.action() == Action.FORGET) {
      return o == null;
    }
    if (o == null) {
      return false;
    }
    FieldPath value = FieldPath.of("value");
    JsonNode planned = c.target() == null ? null : c.target().get("value");
    boolean comparable = planned != null && !c.unknown().contains(value) && c.sensitive().stream()
        .noneMatch(p -> p.isPrefixOf(value) || value.isPrefixOf(p)) && !o.sensitive();
    return comparable ? planned.equals(o.value()) : !after.token().equals(plan.stateToken());
  }

  private String errorsFor(Terraform.Run run, String address) {
    List<String> out = new ArrayList<>();
    for (UiStream.Diagnostic d : run.stream().errors()) {
      if (d.address().isEmpty() || d.address().equals(address)) {
        out.add(d.summary() + (d.detail().isEmpty() ? "" : ": " + Terraform.detail(scrubber.scrub(d.detail()))));
      }
    }
    return out.isEmpty() ? "see terraform's output" : Terraform.listed(out, 0);
  }

  private static Outcome success(Change c) {
    return switch (c.action()) {
      case CREATE -> Outcome.created();
      case UPDATE, REPLACE -> Outcome.configured();
      case DELETE -> Outcome.deleted();
      case FORGET -> new Outcome(Outcome.Kind.UNCHANGED, "forgotten: removed from the state, not destroyed", null,
          Map.of());
      default -> Outcome.unchanged();
    };
  }

  /** What {@code key} feeds dependents: an output's value, or a resource's top-level attributes that are not sensitive. */
  private static Map<String, JsonNode> outputsOf(ResourceKey key, TfState state) {
    if (Addresses.isOutput(key)) {
      StateReader.StateOutput o = state.outputs().get(key.name());
      return o == null || o.sensitive() ? Map.of() : Map.of("value", o.value());
    }
    StateReader.StateObject o = state.objects().get(key);
    if (o == null || !o.attributes().isObject()) {
      return Map.of();
    }
    Map<String, JsonNode> out = new LinkedHashMap<>();
    o.attributes().fields().forEachRemaining(e -> {
      FieldPath top = FieldPath.of(e.getKey());
      boolean secret = o.sensitive().stream().anyMatch(s -> top.isPrefixOf(s) || s.isPrefixOf(top));
      if (!secret && !e.getValue().isNull()) {
        out.put(e.getKey(), e.getValue());
      }
    });
    return out;
  }

  // ------------------------------------------------------------------------------ drift, locks

  /**
   * Detects drift without changing anything: {@code plan -refresh-only} in the provider's workspace
   * (selected as for a plan, after {@code init} when needed), reading {@code resource_drift}. Returns the drifted objects (flagged DRIFT, sensitive values hidden); empty
   * when nothing drifted (exit code 0).
   *
   * @throws TerraformLockException when the state is locked
   */
  public List<Change> detectDrift(CallContext ctx) {
    lock.lock();
    try {
      SortedMap<String, String> files = dir.materialized();
      if (files.isEmpty()) {
        return List.of();
      }
      learnSensitiveVariables(files);
      beginSession("detecting drift", ctx);
      try {
        return detectDriftInSession(files, ctx);
      } finally {
        endSession();
      }
    } finally {
      lock.unlock();
    }
  }

  private List<Change> detectDriftInSession(SortedMap<String, String> files, CallContext ctx) {
    // the workspace too: init after .terraform/ was removed leaves terraform in the default one
    initialize(files, ctx);
    Path file = dir.plans().resolve("drift.tfplan");
    List<String> extra = new ArrayList<>(commonArgs());
    extra.add("-refresh-only");
    extra.addAll(variableArgs());
    try {
      Terraform.Run run = terraform.plan(file, extra, ctx, m -> event("plan", m, Map.of()));
      if (run.exitCode() == 0) {
        return List.of();
      }
      PlanReader.Parsed p = showPlan(file, ctx, null);
      scrubber.addAll(p.secrets());
      LOG.info("provider '{}': {} objects drifted from the state", id, p.drift().size());
      return p.drift();
    } finally {
      dir.clearVariables();
      try {
        Files.deleteIfExists(file);
      } catch (IOException e) {
        // A refresh-only plan file is never applied; leaving it behind is harmless.
        LOG.debug("cannot remove {}: {}", file, e.toString());
      }
    }
  }

  /**
   * Stops managing the object of {@code key} and leaves it where it is: {@code terraform state rm
   * <address>}, which {@code Reconciler.forget} calls before it drops the key from its store.
   * Terraform's state is this provider's record of what it manages: a key forgotten by the engine
   * alone would stay there, and the next plan, made with a configuration that no longer declares
   * it, would destroy the object. The address is also dropped from the provider's record of the
   * objects gitops manages in the working directory, so nothing later counts it as gitops's.
   *
   * <p>It runs in a session of the working directory like a plan or an apply (waiting for another
   * up to {@link Builder#workDirLockTimeout}), with the working directory initialized as a plan has
   * it ({@code init} when needed, the workspace selected), the configuration last materialized
   * there and {@link Builder#lockTimeout} as {@code -lock-timeout}; a state that is not the one gitops
   * last saw (replaced, gone backwards) is refused as a plan refuses it. Terraform keeps the state
   * it replaces as a backup beside it ({@code terraform.tfstate.<timestamp>.backup}, which holds the
   * state's secrets as the state does). Idempotent: an object no longer in the state (removed
   * already, or never there), a working directory that does not exist, and a key that is not a
   * managed resource instance (an output, a data source, a variable, a configuration file: none is
   * destroyed for being undeclared) succeed without running anything. The declarative alternative is
   * a {@code removed} block with {@code lifecycle { destroy = false }} committed to Git.
   *
   * @throws TerraformLockException when the state is locked (the message names the address)
   * @throws TerraformException naming the address and Terraform's error when {@code state rm}
   *     fails, the working directory stays in use by another session, the state cannot be read or is
   *     not the one gitops last saw, or the key is a deposed object (removed with its instance only)
   */
  @Override
  public void unmark(ResourceKey key, String owner, CallContext ctx) {
    Objects.requireNonNull(key, "key");
    if (!key.provider().equals(id) || !isObject(key)) {
      LOG.debug("provider '{}': {} is not a resource instance of its state: nothing to remove", id, key);
      return;
    }
    String address = Addresses.address(key);
    if (key.name().contains(" deposed=")) {
      throw new TerraformException("cannot forget " + key + ": it is a deposed object of " + address + ", which"
          + " 'terraform state rm' removes only with the instance and all its objects; apply the configuration to"
          + " destroy the deposed object, or remove " + address + " from the state by hand");
    }
    lock.lock();
    try {
      if (!Files.isDirectory(dir.root())) {
        LOG.info("provider '{}': no working directory {}, so no state holding {}: nothing to remove", id, dir.root(),
            address);
        return;
      }
      SortedMap<String, String> files = dir.materialized();
      learnSensitiveVariables(files);
      inSession("forgetting " + address, ctx, () -> forgetInSession(key, address, files, ctx));
    } finally {
      lock.unlock();
    }
  }

  private void forgetInSession(ResourceKey key, String address, SortedMap<String, String> files, CallContext ctx) {
    if (!files.isEmpty()) {
      initialize(files, ctx);  // a backend's state is read and written through it, the workspace's
    }
    TfState state = readState(ctx);
    checkStateContinuity(state);
    if (state.objects().containsKey(key)) {
      LOG.info("provider '{}': terraform state rm {} in {}: forgotten, the object is left in place", id, address,
          dir.root());
      terraform.stateRm(address, commonArgs(), ctx);
      recordState(readState(ctx));  // its new serial: the next plan's check of the state compares with it
    } else {
      LOG.info("provider '{}': {} is not in {}: nothing to remove", id, address, stateName());
    }
    disown(address, state);
  }

  /**
   * Drops {@code address} from the record of the objects gitops manages in the working directory
   * ({@code state}, as read before, decides the spelling of an entry written before instance keys
   * were quoted as Terraform does).
   */
  private void disown(String address, TfState state) {
    if (!dir.hasRecord(OWNED)) {
      return;  // a directory managed before that record existed counts its state's objects, this one no longer
    }
    OwnedAddresses owned = owned(state);
    if (owned.remove(address)) {
      dir.writeRecord(OWNED, owned.toRecord());
    }
  }

  /**
   * Releases the state lock {@code lockId} ({@code force-unlock -force}): only when the caller
   * asks, after deciding the holder is gone. Never done on its own. It runs in a session of the
   * working directory like a plan or an apply: while another gitops session (of this process or
   * another) holds the directory, its {@code terraform} may be the lock's living holder, so this
   * waits for it up to {@link Builder#workDirLockTimeout} and then fails naming it, unlocking nothing.
   *
   * @throws TerraformException when the working directory stays in use by another session
   */
  public void forceUnlock(String lockId, CallContext ctx) {
    Objects.requireNonNull(lockId, "lockId");
    if (lockId.isBlank() || lockId.startsWith("-")) {
      throw new IllegalArgumentException("not a lock id: '" + lockId + "'");
    }
    lock.lock();
    try {
      inSession("force-unlocking state lock " + lockId, ctx, () -> {
        LOG.warn("force-unlocking terraform state lock {} in {} as asked", lockId, dir.root());
        terraform.forceUnlock(lockId, ctx);
      });
    } finally {
      lock.unlock();
    }
  }

  /**
   * Runs {@code body} in a session of the working directory ({@code what} says why, to a waiter):
   * one this provider's own plan keeps for its apply is kept so after, any other ended. Called
   * under {@code lock}.
   */
  private void inSession(String what, CallContext ctx, Runnable body) {
    boolean kept = session != null;  // this provider's own plan keeps it for its apply: kept so after
    beginSession(what, ctx);
    try {
      body.run();
    } finally {
      if (kept) {
        keepSession();
      } else {
        endSession();
      }
    }
  }

  private void event(String command, UiStream.Message m, Map<String, ResourceKey> byAddress) {
    String text = scrubber.scrub(m.text());
    ResourceKey key = m.address().isEmpty() ? null : byAddress.get(m.address());
    switch (m.type()) {
      case "apply_start", "apply_complete" -> LOG.info("terraform {}: {}", command, text);
      case "apply_errored" -> LOG.warn("terraform {}: {}", command, text);
      case "diagnostic" -> {
        // files named as the user knows them: --var or their variable file, not the provider's own file
        String detail = Terraform.detail(scrubber.scrub(terraform.userPaths(
            m.body().path("diagnostic").path("detail").asText(""))));
        text = detail.isEmpty() ? text : text + ": " + detail;
        if (m.level().equals("error") || m.level().equals("warn")) {
          // a warning is Terraform's to show too: a failed check block, a deprecation, an undeclared value
          LOG.warn("terraform {}: {}", command, text);
        } else {
          LOG.debug("terraform {}: {}", command, text);
        }
      }
      default -> LOG.debug("terraform {}: {}", command, text);
    }
    if (listener != null) {
      try {
        listener.accept(new TerraformEvent(m.type(), command, m.address(), key, m.action(), m.elapsed(), text,
            m.level().isEmpty() ? "info" : m.level()));
      } catch (RuntimeException e) {
        // A listener must not break a run; its failure is logged and otherwise ignored.
        LOG.warn("terraform event listener failed on {}: {}", m.type(), e.toString());
      }
    }
  }

  /**
   * Releases the working directory's lock if a plan of this provider still holds it for an apply
   * that did not come (the CLI and the agent close their providers when a command or target ends).
   */
  @Override
  public void close() {
    lock.lock();
    try {
      endSession();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public String toString() {
    return "TerraformProvider[" + id + ", " + dir.root() + ", " + terraform.binary() + "]";
  }

  /** Builds a {@link TerraformProvider}. */
  public static final class Builder {
    private final Path workDir;
    private String id = "tf";
    private String configDirectory = "";
    private String sourcePath = "";
    private String binary = "terraform";
    private String searchPath = System.getenv("PATH");
    private final SortedMap<String, String> variables = new TreeMap<>();
    private final List<String> sensitiveValues = new ArrayList<>();
    private final List<String> varFiles = new ArrayList<>();
    private String workspace = "default";
    private Approval approval = Approval.AUTO;
    private boolean detectOnly;
    private boolean adopt;
    private boolean preview;
    private Duration commandTimeout = Duration.ofHours(1);
    private Duration interruptGrace = Duration.ofMinutes(1);
    private Duration lockTimeout = Duration.ZERO;
    private Duration workDirLockTimeout = Duration.ofMinutes(1);
    private Duration keptFor = SESSION_KEPT_FOR;
    private Duration yieldsAfter = SESSION_YIELDS_AFTER;
    private Path stateRecordCopy;
    private final Map<String, String> environment = new LinkedHashMap<>();
    private Consumer<TerraformEvent> listener;

    private Builder(Path workDir) {
      this.workDir = Objects.requireNonNull(workDir, "workDir");
    }

    /** The provider id keys name (default {@code tf}). */
    public Builder id(String id) {
      Objects.requireNonNull(id, "id");
      if (id.isBlank()) {
        throw new IllegalArgumentException("provider id must not be blank");
      }
      this.id = id;
      return this;
    }

    /** The configuration directory, relative to the source's root (default: the root). */
    public Builder configDirectory(String directory) {
      this.configDirectory = Objects.requireNonNull(directory, "directory");
      return this;
    }

    /**
     * The directory of the repository the source itself reads ({@code GitSource.Builder.path}, the
     * CLI's {@code --path}, an agent target's {@code source.path}; default: the root), for messages
     * only: the source hands the configuration's files relative to it, and Terraform's errors name a
     * file as the repository holds it ({@code on infra/main.tf line 2}, not {@code main.tf}).
     */
    public Builder sourcePath(String path) {
      this.sourcePath = Objects.requireNonNull(path, "path").replace('\\', '/').replaceAll("^(\\./)+", "")
          .replaceAll("/+$", "");
      if (this.sourcePath.equals(".")) {
        this.sourcePath = "";
      }
      return this;
    }

    /**
     * The binary: a name looked up on {@code PATH} ({@code terraform}, the default, or {@code
     * tofu}) or a path to the executable.
     */
    public Builder binary(String nameOrPath) {
      this.binary = Objects.requireNonNull(nameOrPath, "nameOrPath");
      return this;
    }

    /** The directories searched for a binary given by name (default: the {@code PATH} environment variable). */
    public Builder searchPath(String path) {
      this.searchPath = Objects.requireNonNull(path, "path");
      return this;
    }

    /** A variable ({@code -var} semantics: it wins over variable files); never put on a command line. */
    public Builder variable(String name, String value) {
      checkName(name);
      variables.put(name, Objects.requireNonNull(value, () -> "value of variable " + name));
      return this;
    }

    /** A variable whose value is secret: also scrubbed from every message. */
    public Builder sensitiveVariable(String name, String value) {
      variable(name, value);
      sensitiveValues.add(value);
      return this;
    }

    /**
     * A variable file ({@code -var-file}): a relative path names a file of the configuration
     * directory in the repository (read from the revision being planned, never from the process's
     * working directory), an absolute one a file on this host. A relative file the revision does not
     * hold, or an absolute one that does not exist, fails the plan naming it before Terraform runs.
     *
     * @throws IllegalArgumentException for a blank path, one that is not a path, or a relative path
     *     that leaves the configuration directory ({@code ../x.tfvars})
     */
    public Builder varFile(String path) {
      Objects.requireNonNull(path, "path");
      if (path.isBlank()) {
        throw new IllegalArgumentException("variable file path must not be blank");
      }
      Path p;
      try {
        p = Path.of(path);
      } catch (java.nio.file.InvalidPathException e) {
        throw new IllegalArgumentException("variable file '" + path + "' is not a path: " + e.getMessage(), e);
      }
      if (!p.isAbsolute() && (p.normalize().startsWith("..") || p.normalize().toString().isEmpty())) {
        // only the configuration directory is copied: '..' would read a file beside the working directory
        throw new IllegalArgumentException("variable file '" + path + "' is not a file of the configuration"
            + " directory: a relative path names a file under it, as the revision holds it; give a file elsewhere"
            + " by its absolute path");
      }
      varFiles.add(path);
      return this;
    }

    /**
     * The workspace (default {@code default}); selected, or created, before planning. A name of
     * letters, digits, {@code _}, {@code .} and {@code -}, not starting with {@code -} (Terraform
     * would take it for an option) nor {@code .} or {@code ..}, which Terraform 1.11.4 creates but
     * keeps in {@code terraform.tfstate.d/..}: the workspace {@code ..} plans and applies against
     * the default workspace's state.
     */
    public Builder workspace(String workspace) {
      Objects.requireNonNull(workspace, "workspace");
      if (!workspace.matches("[A-Za-z0-9_.-]+") || workspace.startsWith("-") || workspace.equals(".")
          || workspace.equals("..")) {
        throw new IllegalArgumentException("workspace name '" + workspace + "' is not valid (letters, digits, _ . -;"
            + " not starting with '-', not '.' or '..', whose state file would be another workspace's or none)");
      }
      this.workspace = workspace;
      return this;
    }

    /** Apply at once (AUTO, the default) or stop at a pending plan (MANUAL). */
    public Builder approval(Approval approval) {
      this.approval = Objects.requireNonNull(approval, "approval");
      return this;
    }

    /** Only report drift ({@code plan -refresh-only}); never apply. */
    public Builder detectOnly(boolean detectOnly) {
      this.detectOnly = detectOnly;
      return this;
    }

    /**
     * Takes over a working directory that already holds a state or configuration files gitops did
     * not make (default: refused, naming them). The revision's configuration replaces those files;
     * objects of that state the revision does not declare are held back, never destroyed, until a
     * revision declares them or they leave the state.
     */
    public Builder adopt(boolean adopt) {
      this.adopt = adopt;
      return this;
    }

    /**
     * A provider for a command that only shows a plan ({@code gitops plan}, {@code diff}, {@code
     * status}; default false): with {@link #adopt}, a working directory gitops did not make is
     * planned as taken over but that decision is not recorded, so a later sync takes it over only
     * when it is given {@code adopt} itself. Terraform still runs in the working directory to plan.
     * Such a provider also releases the working directory as soon as it has planned: without
     * {@code preview}, a plan that leaves changes keeps the directory for the apply that a sync asks
     * for next (another provider that plans the same directory meanwhile waits up to 10 seconds for
     * it), until that apply, {@link TerraformProvider#close()}, or 2 minutes. A program that only
     * calls {@code Reconciler.plan()} builds its provider with {@code preview(true)}, or closes it.
     */
    public Builder preview(boolean preview) {
      this.preview = preview;
      return this;
    }

    /** The longest one Terraform command may run (also bounded by each call's deadline; default 1 h). */
    public Builder commandTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("commandTimeout must be positive, was " + timeout);
      }
      this.commandTimeout = timeout;
      return this;
    }

    /** {@code d}, refused when null (named {@code param}) or negative (named {@code setting}). */
    private static Duration nonNegative(String setting, Duration d, String param) {
      Objects.requireNonNull(d, param);
      if (d.isNegative()) {
        throw new IllegalArgumentException(setting + " must not be negative, was " + d);
      }
      return d;
    }

    /**
     * How long a command cut off (the call's deadline, a cancellation) may take to stop after it is
     * interrupted, as Ctrl-C would (default 1 minute): Terraform starts nothing new, lets the
     * operations in flight end and writes its state. Then it is killed with every process it
     * started; killed mid-apply, it can leave objects it created out of the state.
     */
    public Builder interruptGrace(Duration grace) {
      this.interruptGrace = nonNegative("interruptGrace", grace, "grace");
      return this;
    }

    /** How long Terraform waits for the state lock ({@code -lock-timeout}, default 0: fail at once). */
    public Builder lockTimeout(Duration timeout) {
      this.lockTimeout = nonNegative("lockTimeout", timeout, "timeout");
      return this;
    }

    /**
     * A directory outside the working directory (the engine's state store: the CLI's {@code --state},
     * an agent target's store) where the provider keeps a copy of its record of the state (lineage,
     * serial, number of objects), {@code terraform-state-record.json}. A working directory lost with
     * its state (a volume gone, a directory cleaned up) while that copy says objects were applied is
     * then refused, not planned from scratch. Default: none.
     */
    public Builder stateRecordCopy(Path directory) {
      this.stateRecordCopy = Objects.requireNonNull(directory, "directory");
      return this;
    }

    /**
     * How long a session waits for the working directory's own lock (default 1 minute; bounded by
     * the call's deadline), which one gitops session (plan, then its apply) holds while it writes
     * the directory, whatever process or provider it is: another is refused after that, naming the
     * directory and the holder (its pid, host and what it does). Zero: refused at once.
     */
    public Builder workDirLockTimeout(Duration timeout) {
      this.workDirLockTimeout = nonNegative("workDirLockTimeout", timeout, "timeout");
      return this;
    }

    /** Tests only: how long a session is kept for its apply, and once another waits for it. */
    Builder sessionKeptFor(Duration keptFor, Duration yieldsAfter) {
      this.keptFor = Objects.requireNonNull(keptFor, "keptFor");
      this.yieldsAfter = Objects.requireNonNull(yieldsAfter, "yieldsAfter");
      return this;
    }

    /**
     * An environment variable for every command (credentials, {@code TF_CLI_CONFIG_FILE}, ...).
     * {@code TF_WORKSPACE}, {@code TF_CLI_ARGS} and {@code TF_CLI_ARGS_<command>} are refused, and
     * never passed on from this process's environment either: Terraform would plan and apply in
     * another workspace, or with other arguments, than the state the provider reads and guards.
     *
     * @throws IllegalArgumentException for one of those names
     */
    public Builder environment(String name, String value) {
      Objects.requireNonNull(name, "name");
      if (dev.gitops.terraform.internal.CommandRunner.isWithheld(name)) {
        throw new IllegalArgumentException(name + " is not passed to terraform: the provider keeps its state in the"
            + " working directory's default workspace and gives terraform its own arguments");
      }
      environment.put(name, Objects.requireNonNull(value, "value"));
      return this;
    }

    /** Receives progress events of plan and apply. */
    public Builder listener(Consumer<TerraformEvent> listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * The provider.
     *
     * @throws TerraformException naming what was looked for when the binary cannot be found
     */
    public TerraformProvider build() {
      return new TerraformProvider(this);
    }

    private static void checkName(String name) {
      Objects.requireNonNull(name, "name");
      if (!name.matches("[A-Za-z_][A-Za-z0-9_-]*")) {
        throw new IllegalArgumentException("variable name '" + name + "' is not a Terraform identifier");
      }
    }
  }
}
