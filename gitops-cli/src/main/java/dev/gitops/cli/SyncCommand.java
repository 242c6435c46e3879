package dev.gitops.cli;

import dev.gitops.api.Action;
import dev.gitops.api.Outcome;
import dev.gitops.api.Plan;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncResult;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.internal.plan.PlanOptions;
import dev.gitops.core.plan.PlanCodec;
import dev.gitops.core.render.PlanRenderer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.MalformedInputException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gitops sync}: makes the target match the repository. */
@Command(name = "sync", mixinStandardHelpOptions = true,
    description = {"Make the target match the repository: plan, check the safety guards, apply, record.",
        "With --plan FILE, run exactly the reviewed plan: it is checked against its id and recomputed first, and "
            + "refused (exit 1, naming the first difference) if the file was edited or the stored state or the "
            + "live files moved since. A plan made with --verify-key-ring is verified as it records, flag or none.",
        "When some resources cannot be observed the sync is incomplete: the rest is synced, nothing is deleted or "
            + "replaced, and it exits 1 naming them."})
final class SyncCommand implements Callable<Integer> {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SyncCommand.class);

  /** What a sync that records nothing may have left in a new store: its lock file and Git cache (and a key). */
  private static final java.util.Set<String> LEFT_BEFORE_RECORDING =
      java.util.Set.of("lock", "git-cache", "secret.key");

  @Mixin
  TargetOptions target;

  @Mixin
  SafetyOptions safety;

  @Mixin
  TimeoutOptions timeouts;

  @Option(names = "--dry-run", description = "Plan and report, apply and record nothing; exit 2 when changes are pending, "
      + "3 when a safety guard would refuse the sync, 1 when the plan is incomplete (as the sync would).")
  boolean dryRun;

  @Option(names = "--plan", paramLabel = "FILE", description = "Run the reviewed plan saved by 'gitops plan --out FILE'.")
  Path planFile;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    Plan reviewed = planFile == null ? null : readPlan(planFile);
    if (reviewed != null) {
      requireUnedited(reviewed);
      requireItsRevision(target, planFile, reviewed);
      verifyAsRecorded(reviewed);
      requireMadeHere(target, planFile, reviewed);
      requireItsOptions(planFile, reviewed, options());
    }
    ProgressListener progress = new ProgressListener(out);
    // a sync that fails before it records anything (a --ref the repository does not have) leaves no new store
    MadeForTheStore made = dryRun ? null : MadeForTheStore.before(target);
    try {
      return sync(reviewed, progress, out);
    } catch (RuntimeException | Error e) {
      if (made != null) {
        made.undo(LEFT_BEFORE_RECORDING);
      }
      throw e;
    }
  }

  private int sync(Plan reviewed, ProgressListener progress, PrintWriter out) {
    // a dry run writes nothing: neither the target nor the store is created, locked or changed
    try (Session s = dryRun ? Session.openReadOnly(target, options(), List.of(progress))
        : Session.open(target, options(), List.of(progress))) {
      progress.explainRewrites(s.source()::historyRewrittenReason);
      progress.showReadWarnings(s.source()::readWarnings);
      SyncResult result;
      try {
        result = reviewed != null ? s.reconciler().apply(reviewed) : s.reconciler().sync();
      } catch (dev.gitops.api.PlanMismatchException e) {
        // the plan no longer holds: said with the file it came from, as every other --plan error is,
        // and, when this very plan was applied already, said so rather than "the state changed"
        String applied = s.reconciler().history().stream()
            .filter(h -> h.planId().equals(reviewed.id()) && h.succeeded()).findFirst()
            .map(h -> "plan " + PlanRenderer.shortId(reviewed.id()) + " was applied already (history entry "
                + PlanRenderer.printable(h.id()) + "); make a new plan with 'gitops plan --out'")
            .orElse(null);
        if (applied != null) {
          throw new IllegalArgumentException("--plan " + planFile + ": " + applied, e);
        }
        throw refused(planFile, e);
      } catch (dev.gitops.api.SourceException e) {
        if (reviewed == null) {
          throw e;
        }
        // the plan records its repository and requireMadeHere found it to be --repo's: the commit left it
        throw MissingRevision.fact(e, reviewed.revision()).map(fact -> new dev.gitops.api.SourceException("--plan "
            + planFile + ": the reviewed plan's revision " + PlanRenderer.shortRevision(reviewed.revision())
            + " is no longer in the repository it was made from, --repo " + target.repo + " (" + fact + "): the commit"
            + " has left every branch and tag there since the plan was made (a force push, a deleted branch); make a new plan with 'gitops plan --out'",
            e)).orElseThrow(() -> e);
      } finally {
        // the output may still be printing on its own thread: the report follows it
        progress.awaitOutput();
      }
      return report(result, s, out, spec.commandLine().getErr());
    }
  }

  /**
   * A reviewed plan that does not hold, as {@code sync --plan} and {@code diff --plan} refuse it
   * (exit 1): {@code --plan FILE: plan ... no longer holds: ...}.
   */
  static IllegalArgumentException refused(Path planFile, dev.gitops.api.PlanMismatchException e) {
    return new IllegalArgumentException("--plan " + planFile + ": " + ExitCodes.describe(e), e);
  }

  /**
   * Refuses a plan file that no longer matches its own id (it was edited after it was written), as
   * the check of a reviewed plan does first ({@link PlanCodec#checkId}), in the same words.
   */
  static void requireItsOwnId(Path planFile, Plan saved) {
    try {
      PlanCodec.checkId(saved, null);  // read from a file: its sensitive values are hashed already
    } catch (dev.gitops.api.PlanMismatchException e) {
      throw refused(planFile, e);
    }
  }

  /**
   * Refuses a reviewed plan file that no longer matches its own id (it was edited after it was
   * written) first, before any other check of it and before anything is created, locked or fetched
   * into a store: as the check of a reviewed plan refuses it, naming the first difference from the
   * plan computed now, which is computed read-only for that (nothing is created). When no plan can
   * be computed now (a flag, the source), the refusal says only that the file was edited.
   */
  private void requireUnedited(Plan reviewed) {
    try {
      PlanCodec.checkId(reviewed, null);  // read from a file: its sensitive values are hashed already
      return;
    } catch (dev.gitops.api.PlanMismatchException edited) {
      try {
        verifyAsRecorded(reviewed);  // the plan computed now records the verification as the file does
        try (Session s = Session.openReadOnly(target, options())) {
          PlanCodec.checkReviewed(reviewed, s.reconciler().plan(reviewed.revision()), s.store().secretKey());
        }
      } catch (dev.gitops.api.PlanMismatchException located) {
        throw refused(planFile, located);
      } catch (RuntimeException cannotLocate) {
        // the edit is refused all the same, without where it is
        LOG.debug("cannot compute a plan now to locate the edit of {}: {}", planFile, cannotLocate.toString());
      }
      throw refused(planFile, edited);
    }
  }

  /** Refuses a {@code --ref} that names another revision than the reviewed plan's, which it runs at. */
  static void requireItsRevision(TargetOptions target, Path planFile, Plan reviewed) {
    if (target.ref != null && !namesRevision(target.ref, reviewed.revision())) {
      // a reviewed plan runs at its own revision: a --ref naming another one was silently ignored
      throw new IllegalArgumentException("--ref " + target.ref + " does not name the revision of the reviewed plan "
          + planFile + " (" + reviewed.revision() + "): a reviewed plan runs at its own revision; drop --ref, or"
          + " make a new plan at " + target.ref);
    }
  }

  /**
   * Refuses, before anything is opened or created, a reviewed plan made for another owner,
   * repository, sub-path, provider, live system or state store than these flags give, naming the
   * flag: the plan's changes were computed there (the id covers what the plan records, so an
   * edited record is refused when the plan is checked).
   */
  static void requireMadeHere(TargetOptions target, Path planFile, Plan reviewed) {
    target.validate();
    Map<String, String> now = new java.util.LinkedHashMap<>();
    now.put("owner", target.owner);
    target.setting().forEach((name, value) -> now.put(PlanOptions.SETTING + name, value));
    for (Map.Entry<String, String> e : now.entrySet()) {
      String was = reviewed.options().get(e.getKey());
      if (!e.getValue().equals(was)) {
        String flag = target.flagOf(e.getKey());
        throw new IllegalArgumentException(flag + " " + shownSetting(e.getKey(), e.getValue()) + ": the reviewed plan "
            + planFile + (was == null ? " records no " + flag + " (make it again with 'gitops plan --out')"
                : " was made for " + flag + " " + shownSetting(e.getKey(), was))
            + "; a reviewed plan runs only where it was made: give the same flags, or make a new plan");
      }
    }
  }

  /**
   * Refuses, before anything is opened or created, a reviewed plan made with other options than
   * {@code options} give ({@code --prune}, {@code --adopt}, {@code --allow-empty}, {@code
   * --max-deletions}: the guard it is checked against), as the check of a reviewed plan refuses it,
   * in the same words: its id covers them, and shown or run under others it is not what was reviewed.
   */
  static void requireItsOptions(Path planFile, Plan reviewed, SyncOptions options) {
    for (Map.Entry<String, String> e : options.planOptions().asMap().entrySet()) {
      String was = reviewed.options().get(e.getKey());
      if (!e.getKey().startsWith(PlanOptions.SETTING) && !e.getValue().equals(was)) {
        // where the plan was made is requireMadeHere's, naming the flag
        throw refused(planFile, new dev.gitops.api.PlanMismatchException(reviewed.id(), reviewed.id(), List.of(),
            "it was computed with other options", null, "/options/" + e.getKey(),
            "reviewed: " + was + ", now: " + e.getValue()));
      }
    }
  }

  /**
   * Verifies the commit of a reviewed plan made with {@code --verify-key-ring} as the plan recorded
   * it ({@code setting.verifyMode}, {@code setting.verifyKeyRing}, {@code setting.verifyKeyRingSha256},
   * which its id covers), flags or none: such a plan is never applied unverified. Without {@code
   * --verify-key-ring} the recorded file is used, and refused when it is gone or its SHA-256 is no
   * longer the recorded one (a key removed from the ring since must not still pass); with the flag
   * that ring is used (a rotated ring), a difference logged at INFO. {@code --verify-mode}, when
   * given, wins over the recorded mode. The plans this command makes record what the reviewed plan
   * recorded, so that the plan computed now matches it; a plan made without verification is
   * verified only as the flags say.
   */
  private void verifyAsRecorded(Plan reviewed) {
    Map<String, String> recorded = new java.util.LinkedHashMap<>();
    for (String name : List.of(TargetOptions.VERIFY_MODE, TargetOptions.VERIFY_KEY_RING,
        TargetOptions.VERIFY_KEY_RING_SHA256)) {
      String value = reviewed.options().get(PlanOptions.SETTING + name);
      if (value != null) {
        recorded.put(name, value);
      }
    }
    target.recordVerification(recorded);
    if (recorded.isEmpty()) {
      return;
    }
    String mode = recorded.get(TargetOptions.VERIFY_MODE);
    String ring = recorded.get(TargetOptions.VERIFY_KEY_RING);
    String digest = recorded.get(TargetOptions.VERIFY_KEY_RING_SHA256);
    if (mode == null || ring == null || digest == null) {
      throw new IllegalArgumentException("--plan " + planFile + " records only part of how its commit was verified ("
          + String.join(", ", recorded.keySet().stream().map(n -> PlanOptions.SETTING + n).toList())
          + "); make the plan again with 'gitops plan --verify-key-ring FILE --out'");
    }
    String said = "the reviewed plan " + planFile + " was made with the commit's signature verified (setting."
        + TargetOptions.VERIFY_KEY_RING + " " + PlanRenderer.printable(ring) + ", SHA-256 " + digest + ", setting."
        + TargetOptions.VERIFY_MODE + " " + mode + ")";
    if (target.verifyMode == null) {
      target.verifyMode = mode;
    } else if (!target.verifyMode.equalsIgnoreCase(mode)) {
      LOG.info("--verify-mode {} as given, not the mode {} the reviewed plan {} recorded", target.verifyMode, mode,
          planFile);
    }
    if (target.verifyKeyRing != null) {
      // a ring the user names is the one trusted now (a rotated ring is legitimate); a file it cannot read
      // is said by validate(), naming the flag
      Path given = target.verifyKeyRing.toAbsolutePath().normalize();
      String now = digestOrNull(given);
      if (now != null && !now.equals(digest)) {
        LOG.info("{}; verifying against --verify-key-ring {} as given (SHA-256 {})", said, given, now);
      }
      return;
    }
    Path file = Path.of(ring);
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("--plan " + planFile + ": " + said + ", and " + PlanRenderer.printable(ring)
          + " is no longer a file: a plan made with verification is applied only verified; pass --verify-key-ring"
          + " FILE to verify against the key ring trusted now");
    }
    String now = digestOrNull(file);
    if (!digest.equals(now)) {
      throw new IllegalArgumentException("--plan " + planFile + ": " + said + ", and the file "
          + (now == null ? "cannot be read now" : "now has SHA-256 " + now) + ": a key may have been removed from it"
          + " since; pass --verify-key-ring " + PlanRenderer.printable(ring) + " to verify against the key ring as it"
          + " is now, or make a new plan");
    }
    target.verifyKeyRing = file;
  }

  /** The SHA-256 of {@code file}, or null when it cannot be read (why is said where the file is read to verify). */
  private static String digestOrNull(Path file) {
    try {
      return TargetOptions.sha256(file);
    } catch (IOException e) {
      LOG.debug("cannot read {} to digest it: {}", file, e.toString());
      return null;
    }
  }

  /**
   * A recorded setting in a message: the repository's root path as {@code .}, no rules as {@code
   * (none)}, control characters escaped.
   */
  private static String shownSetting(String name, String value) {
    if (value.isEmpty()) {
      return name.equals("setting.path") ? "." : "(none)";
    }
    return PlanRenderer.printable(value);
  }

  /**
   * Whether {@code ref} names {@code revision} ({@code main@sha1:<hex>}): its ref part (with or
   * without {@code refs/heads/} or {@code refs/tags/}) or its whole commit id.
   */
  static boolean namesRevision(String ref, String revision) {
    int at = revision.indexOf("@sha1:");
    if (at < 0) {
      return ref.equals(revision);
    }
    String label = revision.substring(0, at);
    String commit = revision.substring(at + "@sha1:".length());
    String name = ref;
    for (String prefix : List.of("refs/heads/", "refs/tags/", "heads/", "tags/")) {
      if (ref.startsWith(prefix)) {
        name = ref.substring(prefix.length());  // every spelling of a branch or tag the source takes
        break;
      }
    }
    return name.equals(label) || ref.equals(label) || ref.equalsIgnoreCase(commit);
  }

  /** The sync's options, as the flags set them. */
  SyncOptions options() {
    return timeouts.applyTo(safety.applyTo(SyncOptions.builder().dryRun(dryRun).build()));
  }

  /** Reads a plan file, naming the file in errors. */
  static Plan readPlan(Path file) throws IOException {
    if (file.toString().isBlank()) {
      // an empty path is the working directory: never a plan file by accident
      throw new IllegalArgumentException("--plan is empty: give the plan file 'gitops plan --out' saved");
    }
    if (Files.exists(file) && !Files.isRegularFile(file) && !Files.isDirectory(file)) {
      // a FIFO would block the read for ever, a device read without end
      throw new IllegalArgumentException("--plan " + file + " is not a regular file (a FIFO, a socket or a device):"
          + " give the plan file 'gitops plan --out' saved");
    }
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("--plan " + file + ": no such file", e);
    } catch (MalformedInputException e) {
      throw new IllegalArgumentException("--plan " + file + ": not a plan file: not UTF-8 text", e);
    } catch (IOException e) {
      throw new IllegalArgumentException("--plan " + file + ": " + (Files.isDirectory(file)
          ? "is a directory, not a plan file" : "cannot read it: " + ExitCodes.oneLine(e)), e);
    }
    try {
      return PlanCodec.fromJson(text);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("--plan " + file + ": " + ExitCodes.oneLine(e), e);
    }
  }

  /** Prints how a sync ended and returns the exit code. */
  static int report(SyncResult result, Session s, PrintWriter out, PrintWriter err) {
    Plan plan = result.plan();
    String rev = PlanRenderer.shortRevision(result.revision());
    if (result.status() == SyncResult.Status.PLANNED) {
      if (!plan.isComplete()) {
        // What the sync would report: an incomplete plan is never "nothing to do".
        out.println("Dry run: nothing was applied; " + plan.summary() + ".");
        printUnknown(plan, out);
        out.flush();
        err.println("gitops: dry run of " + rev + ": " + incomplete(plan));
        err.flush();
        return ExitCodes.ERROR;
      }
      int skipped = plan.changes(Action.SKIP).size();
      out.println(plan.hasChanges() ? "Dry run: nothing was applied; " + plan.summary() + "."
          : skipped > 0 ? "Dry run: nothing to apply; " + skipped + " skipped (listed above with why)."
          : "Dry run: nothing to do; " + s.target() + " matches " + rev + ".");
      out.flush();
      return plan.hasChanges() ? ExitCodes.PENDING : ExitCodes.OK;
    }
    if (result.status() == SyncResult.Status.INCOMPLETE) {
      out.println("Synced " + rev + " in part: " + counts(result) + " (history entry " + result.historyId() + ").");
      printUnknown(plan, out);
      out.flush();
      err.println("gitops: sync of " + rev + " is incomplete: " + incomplete(plan));
      err.flush();
      return ExitCodes.ERROR;
    }
    if (!result.isSuccessful()) {
      for (Map.Entry<ResourceKey, Outcome> f : result.failures().entrySet()) {
        out.println("  failed " + ProgressListener.shown(f.getKey()) + ": "
            + ProgressListener.message(f.getKey(), f.getValue().message()));
      }
      if (!plan.isComplete()) {
        out.println("  incomplete: " + incomplete(plan));
      }
      out.flush();
      err.println("gitops: sync of " + rev + " failed for " + result.failures().size() + " of "
          + result.outcomes().size() + " resources (history entry " + result.historyId() + ")");
      err.flush();
      return ExitCodes.ERROR;
    }
    int skipped = plan.changes(Action.SKIP).size();
    if (!plan.hasChanges() && skipped > 0) {
      // a skipped object is not in line with Git: never "already matches"
      out.println("Nothing applied to " + s.target() + " at " + rev + ": " + skipped + " skipped (listed above with why), "
          + result.count(Outcome.Kind.UNCHANGED) + " unchanged (history entry " + result.historyId() + ").");
    } else if (!plan.hasChanges()) {
      out.println("Nothing to do: " + s.target() + " already matches " + rev + " (" + result.count(Outcome.Kind.UNCHANGED)
          + " unchanged).");
    } else {
      out.println("Synced " + rev + ": " + counts(result) + " (history entry " + result.historyId() + ").");
    }
    out.flush();
    return ExitCodes.OK;
  }

  /**
   * Whether {@code plan} is incomplete, after saying so on {@code err} in one line: what {@code
   * plan} and {@code diff} end with, like the sync would (never "no changes", never success;
   * {@code terraform plan} exits 1 on an error too).
   */
  static boolean reportedIncomplete(Plan plan, PrintWriter err) {
    if (plan.isComplete()) {
      return false;
    }
    err.println("gitops: plan of " + PlanRenderer.shortRevision(plan.revision()) + " is incomplete: "
        + incomplete(plan));
    err.flush();
    return true;
  }

  /** How many keys a one-line message names before it says "and N more". */
  private static final int NAMED = 10;

  /**
   * One line saying why a plan is incomplete: the keys that could not be observed, the searches
   * for marked objects and the planning providers' plans that failed, and the deletions and
   * replacements held back.
   */
  static String incomplete(Plan plan) {
    StringBuilder sb = new StringBuilder();
    if (!plan.unknown().isEmpty()) {
      sb.append("could not observe ").append(plan.unknown().size())
          .append(plan.unknown().size() == 1 ? " resource (" : " resources (")
          .append(names(plan.unknown())).append(')');
    }
    for (Map.Entry<String, String> e : plan.unobserved().entrySet()) {
      // "marked objects of provider 'k8s': listMarked failed: ...", "plan of provider 'tf': could not plan: ..."
      sb.append(sb.length() == 0 ? "" : "; ").append(PlanRenderer.oneLine(e.getKey())).append(": ")
          .append(PlanRenderer.oneLine(e.getValue()));
    }
    List<ResourceKey> held = plan.heldBack();
    if (!held.isEmpty()) {
      // "change", not "deletion": the engine holds back deletes and replaces, but a planning
      // provider may hold back its whole plan, creates included (terraform), and a held change is a
      // SKIP whose reason alone says what it would have done
      sb.append("; ").append(held.size()).append(held.size() == 1 ? " change" : " changes").append(" held back")
          .append(" (").append(names(held)).append(")");
    }
    // a key that could not be observed may itself be a deletion the plan could not make: no count of zero
    sb.append(held.isEmpty() ? "; " : ": ")
        .append("nothing is deleted or replaced until every resource can be observed");
    return sb.toString();
  }

  private static String names(java.util.Collection<ResourceKey> keys) {
    StringBuilder sb = new StringBuilder();
    int n = 0;
    for (ResourceKey k : keys) {
      if (n == NAMED) {
        sb.append(", and ").append(keys.size() - NAMED).append(" more");
        break;
      }
      sb.append(n++ == 0 ? "" : ", ").append(ProgressListener.shown(k));
    }
    return sb.toString();
  }

  /** Each key that could not be observed, with the provider's reason, one per line. */
  static void printUnknown(Plan plan, PrintWriter out) {
    for (ResourceKey k : plan.unknown()) {
      out.println("  unknown " + ProgressListener.shown(k)
          + plan.change(k).map(c -> ": " + ProgressListener.message(k, c.reason())).orElse(""));
    }
    plan.unobserved().forEach((what, why) -> out.println("  unknown " + PlanRenderer.oneLine(what) + ": "
        + PlanRenderer.oneLine(why)));
  }

  /**
   * {@code 1 created, 2 updated, 0 deleted, 3 unchanged, 0 skipped}, each outcome counted as its
   * progress line calls it ({@link ProgressListener#verb(Action, Outcome)}): so {@code 1 replaced}
   * and {@code 1 forgotten} are added when a replace or a forget was done (a provider reports a
   * replace CREATED or CONFIGURED, a forget UNCHANGED). Failures are reported on their own lines.
   */
  static String counts(SyncResult r) {
    // the only actions whose outcome is named apart (Plan#change is a scan: one map for all)
    Map<ResourceKey, Action> named = new java.util.HashMap<>();
    for (dev.gitops.api.Change c : r.plan().changes()) {
      if (c.action() == Action.REPLACE || c.action() == Action.FORGET) {
        named.put(c.key(), c.action());
      }
    }
    Map<String, Integer> n = new java.util.HashMap<>();
    for (Map.Entry<ResourceKey, Outcome> e : r.outcomes().entrySet()) {
      n.merge(ProgressListener.verb(named.getOrDefault(e.getKey(), Action.NOOP), e.getValue()), 1, Integer::sum);
    }
    StringBuilder sb = new StringBuilder();
    for (String verb : List.of("created", "updated", "replaced", "deleted", "forgotten", "unchanged", "skipped")) {
      int count = n.getOrDefault(verb, 0);
      if (count > 0 || !(verb.equals("replaced") || verb.equals("forgotten"))) {
        sb.append(sb.length() == 0 ? "" : ", ").append(count).append(' ').append(verb);
      }
    }
    return sb.toString();
  }
}
