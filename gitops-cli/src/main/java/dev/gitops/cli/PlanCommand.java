package dev.gitops.cli;

import dev.gitops.api.Plan;
import dev.gitops.api.PlanRefusedException;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.internal.plan.DeletionGuard;
import dev.gitops.core.plan.PlanCodec;
import dev.gitops.core.render.PlanRenderer;
import dev.gitops.core.store.FileStateStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gitops plan}: shows what a sync would do, and can save the plan for review. */
@Command(name = "plan", mixinStandardHelpOptions = true,
    description = {"Show what a sync would change, without changing anything.",
        "Deletions are shown; the mass-deletion guard only refuses at sync time, and a plan it would refuse "
            + "says so in a warning line, naming the flag that allows it (the exit code is a plan's). With --out "
            + "the plan is saved as JSON (secret values hashed) for review and 'gitops sync --plan'.",
        "A plan that is incomplete (a resource that cannot be observed, a provider that could not plan) is "
            + "shown, and it exits 1 naming what is missing."})
final class PlanCommand implements Callable<Integer> {

  @Mixin
  TargetOptions target;

  @Mixin
  SafetyOptions safety;

  @Mixin
  TimeoutOptions timeouts;

  @Option(names = "--out", paramLabel = "FILE", description = "Save the plan as JSON to FILE for review and 'gitops sync --plan FILE'.")
  Path out;

  @Option(names = "--detailed-exitcode", description = "Exit 2 when changes are pending, 0 when none (like terraform plan).")
  boolean detailedExitCode;

  @Spec
  CommandSpec spec;

  /** The plan's options, as the flags set them (the timeouts bound its provider calls). */
  SyncOptions options() {
    return timeouts.applyTo(safety.applyTo(SyncOptions.defaults()));
  }

  /**
   * Makes sure the store has its secret key before a plan is saved: the plan file holds sensitive
   * values as HMACs under it, and {@code sync --plan} can check them only under the same key (a
   * key made for this command alone would make every sensitive value differ). The key is the one
   * thing {@code plan --out} creates in the store (its directory owner-only).
   */
  private void keepSecretKey() {
    target.validate();
    Session.terraformTarget(target);  // owner-only, before the default store under it creates it
    // read when it exists; created (race-safe, owner-only, no lock taken) when it does not
    try (FileStateStore store = FileStateStore.open(target.stateDir())) {
      // loaded first: a key deleted from a store whose records hold hashes under it is refused, never made anew
      store.load();
      store.secretKey();
    }
  }

  /**
   * Refuses an {@code --out} no plan can be saved to before anything is planned or created: an
   * empty one (the working directory), a directory, or a file in the state store (a plan written
   * over the store's journal would lose what gitops owns).
   */
  private void checkOut() {
    if (out.toString().isBlank()) {
      throw new IllegalArgumentException("--out is empty: give the file to save the plan to");
    }
    Path file = out.toAbsolutePath().normalize();
    if (Files.isSymbolicLink(file)) {
      // written through, a link (dangling or not) could put the plan anywhere: in the store, in the target
      throw new IllegalArgumentException("--out " + out + " is a symbolic link: give the file itself");
    }
    if (Files.isDirectory(file)) {
      throw new IllegalArgumentException("--out " + out + " is a directory: give the file to save the plan to");
    }
    if (Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(file)) {
      throw new IllegalArgumentException("--out " + out + " is not a regular file (a FIFO, a socket or a device):"
          + " give the file to save the plan to");
    }
    target.validate();
    Path store = target.stateDir().toAbsolutePath().normalize();
    if (resolved(file).startsWith(resolved(store))) {
      throw new IllegalArgumentException("--out " + out + " is inside the state store " + store
          + ": save the plan elsewhere");
    }
    // the files provider's and Terraform's target directories are gitops's whole; Ansible's is only
    // the directory of its managed inventory, the one file there a plan must not replace
    Path live = "ansible".equals(target.provider) ? target.inventoryOut.toAbsolutePath().normalize()
        : target.targetDir();
    if (live != null && resolved(file).startsWith(resolved(live))) {
      // a plan is read-only: saving it over a file the target holds would change the live system
      throw new IllegalArgumentException("--out " + out + " is inside the target " + live
          + ", which a plan does not change: save the plan elsewhere");
    }
  }

  /**
   * A line saying that the mass-deletion guard would refuse a sync of {@code plan} under these
   * flags (as {@code sync} and {@code sync --dry-run} would, exit 3), naming the flag that allows
   * it, or empty: the plan itself is shown and ends as any plan does, since it refuses nothing.
   */
  private java.util.Optional<String> guardWarning(Plan plan) {
    try {
      DeletionGuard.check(plan, options().budget());
      return java.util.Optional.empty();
    } catch (PlanRefusedException r) {
      return java.util.Optional.of("warning: 'gitops sync' with these flags would exit " + ExitCodes.REFUSED + ", "
          + ExitCodes.refusal(r));
    }
  }

  /** {@code path} (absolute, normalised) with the links of its nearest existing ancestor resolved. */
  static Path resolved(Path path) {
    for (Path dir = path; dir != null; dir = dir.getParent()) {
      try {
        return dir.toRealPath().resolve(dir.relativize(path));
      } catch (IOException e) {
        // not there (yet): its parent, then
      }
    }
    return path;
  }

  @Override
  public Integer call() throws Exception {
    PrintWriter w = spec.commandLine().getOut();
    MadeForTheStore made = null;
    if (out != null) {
      checkOut();
      made = MadeForTheStore.before(target);
    }
    Session opened = null;
    Plan plan;
    try {
      if (out != null) {
        keepSecretKey();
      }
      opened = Session.openReadOnly(target, options());
      plan = opened.reconciler().plan();
    } catch (RuntimeException | Error e) {
      // nothing was planned (a bad --ref, an unreadable repository): the key is of no use yet
      try {
        if (opened != null) {
          opened.close();
        }
      } finally {
        if (made != null) {
          made.undo(Set.of("secret.key"));
        }
      }
      throw e;
    }
    try (Session s = opened) {
      s.source().readWarnings().forEach(warning -> w.println("warning: " + PlanRenderer.oneLine(warning)));
      s.nothingRecorded().ifPresent(w::println);
      w.print(PlanRenderer.text(plan));
      guardWarning(plan).ifPresent(w::println);
      if (out != null) {
        Path file = out.toAbsolutePath();
        try {
          if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
          }
          // a link put there since the check is not followed (O_NOFOLLOW): the write fails instead
          try (java.io.Writer writer = new java.io.OutputStreamWriter(Files.newOutputStream(file,
              java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING,
              java.nio.file.StandardOpenOption.WRITE, java.nio.file.LinkOption.NOFOLLOW_LINKS),
              java.nio.charset.StandardCharsets.UTF_8)) {
            writer.write(PlanCodec.toJson(plan, s.store().secretKey()));
          }
        } catch (IOException e) {
          throw new IllegalArgumentException("--out " + out + ": cannot write the plan there: " + ExitCodes.oneLine(e), e);
        }
        w.println("Saved plan " + PlanRenderer.shortId(plan.id()) + " to " + out
            + "; apply exactly this plan with 'gitops sync --plan " + out + "' (same flags).");
      }
      w.flush();
      if (SyncCommand.reportedIncomplete(plan, spec.commandLine().getErr())) {
        return ExitCodes.ERROR;
      }
      return detailedExitCode && plan.hasChanges() ? ExitCodes.PENDING : ExitCodes.OK;
    }
  }
}
