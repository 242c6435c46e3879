package dev.gitops.cli;

import dev.gitops.api.PlanMismatchException;
import dev.gitops.api.PlanRefusedException;
import dev.gitops.api.StoreOwnerException;
import dev.gitops.core.render.PlanRenderer;
import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/**
 * The CLI's exit codes and the picocli handlers that map errors to them.
 *
 * <ul>
 *   <li>{@value #OK}: success, nothing pending
 *   <li>{@value #ERROR}: an error (bad flag, unreadable source, failed sync, stale plan, a state store
 *       that is locked, corrupt or another owner's)
 *   <li>{@value #PENDING}: changes are pending ({@code plan --detailed-exitcode}, {@code sync
 *       --dry-run}, {@code status})
 *   <li>{@value #REFUSED}: a safety guard refused the plan
 *   <li>130, 143, 129: ended by SIGINT, SIGTERM or SIGHUP (128 + the signal's number, set by the JVM)
 * </ul>
 *
 * <pre class="language-shell">{@code
 * gitops plan --repo ./config --target /srv/config --detailed-exitcode
 * case $? in
 *   0) echo "in sync" ;;
 *   2) echo "changes pending" ;;
 *   *) echo "failed: see the message gitops printed" ;;
 * esac
 * }</pre>
 *
 * <p>Errors are printed as one line, {@code gitops: <message>}, plus the stack trace when {@code
 * --verbose} is on.
 */
public final class ExitCodes {

  /** Success, nothing pending. */
  public static final int OK = 0;
  /** An error. */
  public static final int ERROR = 1;
  /** Changes are pending. */
  public static final int PENDING = 2;
  /** A safety guard refused. */
  public static final int REFUSED = 3;

  private ExitCodes() {}

  /** The exit code for an error that ended a command. */
  public static int forException(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof PlanRefusedException) {
        return REFUSED;
      }
    }
    return ERROR;
  }

  /**
   * One line saying what went wrong, in the CLI's words: the library names no flags, so a guard's
   * refusal and a plan that differs in its options are worded here with the flags that control
   * them; anything else is its message (or its type when it has none).
   */
  public static String describe(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof PlanRefusedException r) {
        return refusal(r);
      }
      if (c instanceof OutOfMemoryError oom) {
        return outOfMemory(oom);
      }
      if (c instanceof StoreOwnerException o) {
        return anotherOwners(o);
      }
    }
    if (t instanceof PlanMismatchException m && m.field() != null && m.field().startsWith("/options/")) {
      // every flag that is one of the plan's options, or a plan made with --adopt reads as a wrong --prune
      return oneLine(m) + "; use the same --prune, --adopt, --allow-empty and " + DeletionLimit.FLAG
          + " for 'gitops plan --out' and 'gitops sync --plan'";
    }
    return oneLine(t);
  }

  /**
   * What ran out, the heap this JVM may use, and the flag that gives it more. A JVM that runs out
   * of heap stops like a killed one: the state store is written so that the next run recovers
   * from any point (docs/reliability.md), so nothing recorded is lost.
   */
  static String outOfMemory(OutOfMemoryError e) {
    long max = Runtime.getRuntime().maxMemory();
    String heap = max == Long.MAX_VALUE ? "" : ": this JVM may use at most " + (max >> 20) + " MB of heap";
    return "out of memory (" + (e.getMessage() == null ? "OutOfMemoryError" : e.getMessage()) + ")" + heap
        + "; give it more, for example 'java -Xmx" + moreHeapGb(max) + "g -jar gitops.jar ...' (the state store"
        + " recovers as after an interrupted run)";
  }

  /** Twice the heap {@code max} (bytes) in whole GB, at least 2: never the heap it already has. */
  static long moreHeapGb(long max) {
    if (max == Long.MAX_VALUE) {
      return 2;
    }
    long twiceMb = 2 * (max >> 20);
    return Math.max(2, (twiceMb + 1023) / 1024);
  }

  /** A store of another owner, with the flags that lead out: the store's owner, or a store of one's own. */
  static String anotherOwners(StoreOwnerException e) {
    return "the state store " + e.store() + " belongs to --owner " + e.recordedOwner() + ", not to --owner "
        + e.requestedOwner() + ": each would take the other's records as its own and drop what it does not declare;"
        + " nothing was applied or recorded. Run with --owner " + e.recordedOwner() + ", or give --owner "
        + e.requestedOwner() + " a store of its own with --state DIR (the default store, .gitops/ in the directory of"
        + " --target or --inventory-out, is shared by every owner and every inventory file there)";
  }

  /** The guard that refuses a planning provider's plan that deletes or replaces while prune is off. */
  static final String PRUNE_GUARD = "prune";

  /**
   * A guard's refusal with the flag that would allow it: the mass-deletion guard's in the CLI's
   * words, the prune guard's (a planning provider's plan that deletes or replaces under {@code
   * --no-prune}) as the library says it, with the flag; another guard's as the library says it.
   */
  static String refusal(PlanRefusedException r) {
    String head = "refused by " + r.guard() + (r.provider() == null ? "" : " for provider '" + r.provider() + "'") + ": ";
    // the flag is one of a plan's options: 'sync --plan' with it alone is refused as another plan
    String reviewed = " (a reviewed plan is made again with it: 'gitops plan --out' and 'gitops sync --plan' take"
        + " the same flags)";
    if (r.limit() == null) {
      // the library names no flag: prune is on unless --no-prune turns it off
      return oneLine(r) + (PRUNE_GUARD.equals(r.guard()) ? " Prune is off because of --no-prune: run without it"
          + " to apply the plan whole (a reviewed plan is made again without it: 'gitops plan --out' and 'gitops"
          + " sync --plan' take the same flags)" : "");
    }
    return head + switch (r.limit()) {
      case EVERYTHING -> "the sync would delete or replace " + (r.owned() == 1 ? "the only resource" : "all "
          + r.owned() + " resources") + " gitops owns (are --path and --ref right?); pass --allow-empty if that is"
          + " intended" + reviewed;
      case MAX_COUNT -> "the sync would delete or replace " + r.deletions() + " of the " + r.owned()
          + " resources gitops owns, more than " + DeletionLimit.FLAG + " " + r.budget() + " allows" + reviewed;
      case MAX_PERCENT -> "the sync would delete or replace " + r.deletions() + " of the " + r.owned()
          + " resources gitops owns (" + (r.deletions() * 100L / Math.max(1, r.owned())) + "%), more than "
          + DeletionLimit.FLAG + " " + r.budget() + "% allows" + reviewed;
    };
  }

  /** One line saying what went wrong: the message, or the exception type when it has none. */
  public static String oneLine(Throwable t) {
    String m = t.getMessage();
    if (m == null || m.isBlank()) {
      m = t.getClass().getSimpleName() + (t.getCause() != null ? ": " + oneLine(t.getCause()) : "");
    }
    // a message may quote a file name or a value from the repository: printed escaped, on one line
    return PlanRenderer.oneLine(m);
  }

  /** Maps exceptions to exit codes (picocli asks it when a command throws). */
  static final class Mapper implements CommandLine.IExitCodeExceptionMapper {
    @Override
    public int getExitCode(Throwable exception) {
      return forException(exception);
    }
  }

  /** Prints an exception that ended a command as one line, the stack trace only when verbose. */
  static final class ExecutionErrors implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception ex, CommandLine commandLine, CommandLine.ParseResult parseResult) {
      PrintWriter err = commandLine.getErr();
      err.println("gitops: " + describe(ex));
      if (GitopsCommand.isVerbose(commandLine)) {
        StringWriter trace = new StringWriter();
        ex.printStackTrace(new PrintWriter(trace));
        err.print(trace);
      }
      err.flush();
      return forException(ex);
    }
  }

  /** Bad usage is an error (exit 1, not picocli's default 2, which here means "changes pending"). */
  static final class UsageErrors implements CommandLine.IParameterExceptionHandler {
    @Override
    public int handleParseException(CommandLine.ParameterException ex, String[] args) {
      CommandLine cmd = ex.getCommandLine();
      PrintWriter err = cmd.getErr();
      err.println("gitops: " + oneLine(ex) + " (see '" + cmd.getCommandSpec().qualifiedName() + " --help')");
      err.flush();
      return ERROR;
    }
  }
}
