package dev.gitops.cli;

import dev.gitops.api.Plan;
import dev.gitops.api.PlanRefusedException;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncListener;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.plan.PlanCodec;
import dev.gitops.core.render.PlanRenderer;
import dev.gitops.core.store.FileStateStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
        "Deletions are shown; the safety guards only refuse at sync time, and a plan 'gitops sync' with the same "
            + "flags would refuse (the mass-deletion guard; --no-prune with a planning provider whose plan deletes or "
            + "replaces) says so in a warning line, naming the flag that allows it (the exit code is a plan's). With --out "
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
   * The plan of these flags, with the refusal {@code gitops sync} with the same flags would exit 3
   * for, if any. The plan is computed by a dry run of the sync, so the refusal comes from the very
   * checks that refuse {@code sync} and {@code sync --dry-run} (the mass-deletion guard, a planning
   * provider's plan that deletes or replaces under {@code --no-prune}, and any guard added there),
   * never from a copy of one of them here; a refused dry run hands over the plan it refused through
   * its {@link SyncEvent.Planned} event.
   */
  record Planned(Plan plan, java.util.Optional<PlanRefusedException> refusal) {

    /** The line {@code plan} prints for the refusal, naming the flag that allows it, or empty. */
    java.util.Optional<String> warning() {
      return refusal.map(r -> "warning: 'gitops sync' with these flags would exit " + ExitCodes.REFUSED + ", "
          + ExitCodes.describe(r));
    }
  }

  /** Plans as {@code sync --dry-run} would with these flags, in a read-only session: see {@link Planned}. */
  private Session planned(java.util.concurrent.atomic.AtomicReference<Planned> into) {
    java.util.concurrent.atomic.AtomicReference<Plan> seen = new java.util.concurrent.atomic.AtomicReference<>();
    SyncListener capture = e -> {
      if (e instanceof SyncEvent.Planned p) {
        seen.set(p.plan());
      }
    };
    Session s = Session.openReadOnly(target, options().toBuilder().dryRun(true).build(), List.of(capture));
    try {
      try {
        into.set(new Planned(s.reconciler().sync().plan(), java.util.Optional.empty()));
      } catch (PlanRefusedException r) {
        if (seen.get() == null) {
          throw r;  // refused before a plan was made: not a warning, the error it is
        }
        into.set(new Planned(seen.get(), java.util.Optional.of(r)));
      }
      return s;
    } catch (RuntimeException | Error e) {
      s.close();
      throw e;
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
    Session opened;
    java.util.concurrent.atomic.AtomicReference<Planned> planned = new java.util.concurrent.atomic.AtomicReference<>();
    try {
      if (out != null) {
        keepSecretKey();
      }
      opened = planned(planned);
    } catch (RuntimeException | Error e) {
      // nothing was planned (a bad --ref, an unreadable repository): the key is of no use yet (the
      // session was closed by planned())
      if (made != null) {
        made.undo(Set.of("secret.key"));
      }
      throw e;
    }
    Plan plan = planned.get().plan();
    try (Session s = opened) {
      s.source().readWarnings().forEach(warning -> w.println("warning: " + PlanRenderer.oneLine(warning)));
      s.nothingRecorded().ifPresent(w::println);
      w.print(PlanRenderer.text(plan));
      planned.get().warning().ifPresent(w::println);
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
