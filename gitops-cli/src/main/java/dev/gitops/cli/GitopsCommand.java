package dev.gitops.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The top-level {@code gitops} command: holds the subcommands and the global {@code --verbose}.
 *
 * <pre class="language-shell">{@code
 * gitops --help                                                 # the commands and the exit codes
 * gitops sync --repo ./config --target /srv/config --verbose    # info logging, stack traces with errors
 * }</pre>
 */
@Command(name = "gitops", mixinStandardHelpOptions = true, version = "gitops 0.1.0",
    description = {
        "Keeps a directory of files in line with what a Git repository declares: plan, review, sync, "
            + "detect and correct drift, roll back. Try 'gitops demo' for a tour.",
        "",
        "State: unless --state is given, the state store (what gitops owns, last-applied state, history) "
            + "lives in <target>/.gitops/, which the files provider never reconciles; the Git cache lives in "
            + "<state>/git-cache."},
    footerHeading = "%nExit codes:%n",
    footer = {
        "  0  success, nothing pending",
        "  1  error",
        "  2  changes pending (plan --detailed-exitcode, sync --dry-run, status)",
        "  3  refused by a safety guard (for example the mass-deletion guard)",
        "  130, 143, 129  ended by SIGINT (Ctrl-C), SIGTERM or SIGHUP (128 + the signal's",
        "     number); what was applied and recorded stays. 'gitops run' exits 0 after a",
        "     SIGTERM or SIGINT and reloads on SIGHUP (docs/agent.md)"})
public final class GitopsCommand implements Callable<Integer> {

  /**
   * The subcommands, in the order the usage lists them. {@link Main#commandLine} adds them (not the
   * annotation), so that a command line that names one builds the model of that one only.
   */
  static final List<Class<?>> SUBCOMMANDS = List.of(PlanCommand.class, SyncCommand.class, DiffCommand.class,
      StatusCommand.class, HistoryCommand.class, RollbackCommand.class, ForgetCommand.class, DemoCommand.class,
      ImagesCommand.class, RunCommand.class);

  private boolean verbose;

  @Spec
  CommandSpec spec;

  /** Turns on info logging and stack traces. */
  @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
      description = "Log what the engine does (level info) and print stack traces with errors.")
  void setVerbose(boolean on) {
    this.verbose = on;
    if (on) {
      enableVerboseLogging();
    }
  }

  /** Whether {@code --verbose} was given. */
  public boolean verbose() {
    return verbose;
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    spec.commandLine().getErr().println("gitops: a command is required");
    return ExitCodes.ERROR;
  }

  /** Raises slf4j-simple's level to info, JGit's too; effective only before the first logger is created. */
  static void enableVerboseLogging() {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "info");
    System.setProperty("org.slf4j.simpleLogger.log.org.eclipse.jgit", "info");
  }

  /** Whether the command line's root command is a {@link GitopsCommand} run with {@code --verbose}. */
  static boolean isVerbose(CommandLine commandLine) {
    Object root = commandLine.getCommandSpec().root().userObject();
    return root instanceof GitopsCommand g && g.verbose;
  }
}
