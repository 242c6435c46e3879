package dev.gitops.cli;

import dev.gitops.api.Plan;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.render.PlanRenderer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gitops diff}: a readable per-field diff between the repository and the target. */
@Command(name = "diff", mixinStandardHelpOptions = true,
    description = {"Show, field by field, how the target differs from the repository.",
        "'+' added, '~' changed, '-' removed; values that --sensitive or the repository's .gitops.yaml mark "
            + "secret show as (sensitive) (as keyed hashes in json), whatever the change. --format markdown gives "
            + "a summary table and a diff block for a pull-request comment; json the plan file format.",
        "An incomplete diff (a resource that cannot be observed, a provider that could not plan) is shown, "
            + "and it exits 1 naming what is missing."})
final class DiffCommand implements Callable<Integer> {

  /** Output formats. */
  enum Format { text, markdown, json }

  @Mixin
  TargetOptions target;

  @Mixin
  SafetyOptions safety;

  @Mixin
  TimeoutOptions timeouts;

  @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text",
      description = "text, markdown or json (default: ${DEFAULT-VALUE}).")
  Format format;

  @Option(names = "--plan", paramLabel = "FILE",
      description = "Show a plan saved by 'gitops plan --out FILE' instead of computing one (no --repo needed);"
          + " refused (exit 1) if the file was edited. Target and safety flags, when given, must be those it was made"
          + " with.")
  Path planFile;

  @Spec
  CommandSpec spec;

  /** The plan's options, as the flags set them (the timeouts bound its provider calls, as for plan). */
  SyncOptions options() {
    return timeouts.applyTo(safety.applyTo(SyncOptions.defaults()));
  }

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    if (planFile != null) {
      Plan plan = SyncCommand.readPlan(planFile);
      // what is shown is what the id covers: an edited file is refused as sync --plan refuses it
      SyncCommand.requireItsOwnId(planFile, plan);
      requireMadeWhereTheFlagsSay(plan);
      if (!given("safety").isEmpty()) {
        // as sync --plan with these flags: a plan shown under other guard flags is not the one they would run
        SyncCommand.requireItsOptions(planFile, plan, options());
      }
      // A saved plan already has its secrets hashed: JSON is shown as saved.
      out.print(format == Format.json ? Files.readString(planFile) : render(plan, null));
      out.flush();
      // as the diff of a plan computed now: an incomplete one is exit 1 and says why
      return SyncCommand.reportedIncomplete(plan, spec.commandLine().getErr()) ? ExitCodes.ERROR : ExitCodes.OK;
    }
    try (Session s = Session.openReadOnly(target, options())) {
      Plan plan = s.reconciler().plan();
      if (format != Format.json) {
        // json is the plan file's format, read by tools: the note would break it
        s.nothingRecorded().ifPresent(note -> out.println(format == Format.markdown ? "> " + note + "\n" : note));
      }
      out.print(render(plan, s.store().secretKey()));
      out.flush();
      return SyncCommand.reportedIncomplete(plan, spec.commandLine().getErr()) ? ExitCodes.ERROR : ExitCodes.OK;
    }
  }

  /**
   * With target flags ({@code --repo}, {@code --target}, ...; none are needed), checks that the plan
   * was made where they say, as {@code sync --plan} does with the same flags: shown for a target it
   * was not made for, the diff would be read as that target's.
   */
  private void requireMadeWhereTheFlagsSay(Plan plan) {
    List<String> given = given("target");
    if (given.isEmpty()) {
      return;
    }
    try {
      target.validate();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(e.getMessage() + " (with --plan, " + String.join(", ", given)
          + " check that the plan was made there, as for 'gitops sync --plan': give the flags it was made with,"
          + " or none)", e);
    }
    SyncCommand.requireItsRevision(target, planFile, plan);
    SyncCommand.requireMadeHere(target, planFile, plan);
  }

  /** The flags of the mixin {@code name} ({@code target}, {@code safety}) given on the command line. */
  private List<String> given(String mixin) {
    java.util.Set<String> flags = new java.util.HashSet<>();
    spec.mixins().get(mixin).options().forEach(o -> flags.addAll(List.of(o.names())));
    return spec.commandLine().getParseResult().matchedOptions().stream()
        .map(o -> o.longestName()).filter(flags::contains).distinct().toList();
  }

  private String render(Plan plan, byte[] secretKey) {
    return switch (format) {
      case text -> PlanRenderer.text(plan);
      case markdown -> PlanRenderer.markdown(plan);
      case json -> PlanRenderer.json(plan, secretKey);
    };
  }
}
