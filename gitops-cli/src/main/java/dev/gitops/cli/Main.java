package dev.gitops.cli;

import dev.gitops.core.source.GitSource;
import dev.gitops.core.store.FileStateStore;
import java.io.PrintWriter;
import java.util.Arrays;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/**
 * The {@code gitops} command line.
 *
 * <pre class="language-shell">{@code
 * java -jar gitops.jar plan --repo https://example.com/config.git --target /srv/config
 * java -jar gitops.jar sync --repo ./config --target /srv/config --max-deletions 5
 * java -jar gitops.jar demo
 * }</pre>
 *
 * <p>Only {@link #main} exits the JVM; {@link #run} returns the exit code, for tests and embedding.
 *
 * <pre>{@code
 * int code = Main.run("plan", "--repo", "./config", "--target", "/srv/config", "--detailed-exitcode");
 * boolean pending = code == ExitCodes.PENDING;
 * }</pre>
 */
public final class Main {

  private Main() {}

  /**
   * Runs the command line and exits with its code. A one-shot command runs in a child JVM started
   * with flags for a short run ({@link OneShotJvm}: C1 only), whose exit code this process exits
   * with; where it runs in this JVM instead, its code is kept out of the JIT's optimizing compiler
   * ({@link ShortRunCompilation}). JGit finds Git's system configuration without running {@code
   * git} where it can ({@link GitSystemConfig}). A child that writes the class-data archive runs
   * the demo unseen after its command ({@link ClassDataTraining}). {@code java -jar gitops.jar}
   * starts here too, through {@link Launcher}, the jar's main class.
   */
  public static void main(String[] args) {
    Launcher.main(args);
  }

  /**
   * The command run in this JVM, then the exit with its code ({@link #main}); {@code inThisJvm} says
   * why when a child JVM could have run it, else null.
   */
  static void runHere(String[] args, String inThisJvm) {
    // before ShortRunCompilation, whose class creates a logger
    configureLogging(args);
    if (inThisJvm != null) {
      LoggerFactory.getLogger(Main.class).debug("running the command in this JVM, not a child JVM: {}", inThisJvm);
    }
    ShortRunCompilation.startFor(args);
    if (!OneShotJvm.helpOrVersion(args)) {
      warmUp();
      // not for --help or --version, which open no repository: it would load JGit's classes for nothing
      GitSystemConfig.install();
    }
    int code = run(args);
    // the command's output is out before the training's time, if any
    System.out.flush();
    System.err.flush();
    ClassDataTraining.afterCommand(code, args);
    System.exit(code);
  }

  /**
   * Starts {@link FileStateStore#warmUp}, then {@link GitSource#warmUp}, on a daemon thread: the
   * store's JSON codec (about 300 classes, ~0.2 s of a one-shot command's start at C1) and JGit's
   * message texts are initialized on the other core while this thread parses the command line,
   * instead of in front of the store's first read and the source's first repository. Every
   * command but help and version reads a store, and most read a source.
   */
  private static void warmUp() {
    Thread t = new Thread(() -> {
      try {
        FileStateStore.warmUp();
        GitSource.warmUp();
      } catch (RuntimeException | LinkageError e) {
        // only time is lost: the first read initializes what failed here and reports it
        LoggerFactory.getLogger(Main.class).debug("warming up the store's codec or JGit failed: {}", e.toString());
      }
    }, "gitops-warm-up");
    t.setDaemon(true);
    t.start();
  }

  /** Runs the command line with the process's standard streams and returns the exit code. */
  public static int run(String... args) {
    configureLogging(args);
    return execute(commandLine(new GitopsCommand(), new PrintWriter(System.out, true), new PrintWriter(LogLines.userErr(), true),
        subcommandNamedIn(args)), args);
  }

  /**
   * Executes {@code cl}; an {@link OutOfMemoryError} that ends the command (picocli hands only
   * exceptions to {@link ExitCodes.ExecutionErrors}) is printed as one line too, not as the JVM's
   * stack trace, with the exit code of an error.
   */
  static int execute(CommandLine cl, String... args) {
    try {
      return cl.execute(args);
    } catch (OutOfMemoryError e) {
      PrintWriter err = cl.getErr();
      err.println("gitops: " + ExitCodes.describe(e));
      if (GitopsCommand.isVerbose(cl)) {
        e.printStackTrace(err);
      }
      err.flush();
      return ExitCodes.ERROR;
    }
  }

  /**
   * The subcommand {@code args} run when their first word that is not an option is one's name
   * exactly (the root's options take no value), else null: no subcommand, a misspelt one, which
   * the usage error answers with the list, or the root's help or version before it ({@code gitops
   * --help sync} prints the root's usage, which lists every subcommand).
   */
  static String subcommandNamedIn(String... args) {
    for (String a : args) {
      if (a.startsWith("-")) {
        if (OneShotJvm.helpOrVersion(a)) {
          return null;
        }
      } else {
        for (Class<?> sub : GitopsCommand.SUBCOMMANDS) {
          if (a.equals(nameOf(sub))) {
            return a;
          }
        }
        return null;
      }
    }
    return null;
  }

  private static String nameOf(Class<?> command) {
    return command.getAnnotation(CommandLine.Command.class).name();
  }

  /**
   * Sets the log level {@code --verbose} asks for, and for {@code run} the agent's logging. It must be set
   * before the first logger exists;
   * picocli's parse is too late for classes that create loggers while being loaded.
   */
  private static void configureLogging(String... args) {
    // a logged value must not break its line: the log's System.err escapes, the command's does not
    LogLines.install();
    boolean verbose = verbose(args);
    if ("run".equals(subcommandNamedIn(args))) {
      // The agent's only witness of a failing target, a repository down, a dropped notification or
      // an unreachable coordinator is its log: warnings and errors by default, each line with its
      // time and the thread (a target's loop runs on "target <name>"). Set before any logger exists.
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "info" : "warn");
      // JGit's warnings carry stack traces for what the engine rebuilds and logs itself (a corrupt pack
      // in the Git cache): its errors only, unless verbose (set below)
      System.setProperty("org.slf4j.simpleLogger.log.org.eclipse.jgit", "error");
      System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
      System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
      System.setProperty("org.slf4j.simpleLogger.showThreadName", "true");
    }
    if (verbose) {
      GitopsCommand.enableVerboseLogging();
    }
  }

  /** Whether {@code args} ask for the engine's log ({@code --verbose} or {@code -v}). */
  static boolean verbose(String... args) {
    return Arrays.asList(args).contains("--verbose") || Arrays.asList(args).contains("-v");
  }

  /** A command line for {@code command} writing to {@code out} and {@code err}, with the CLI's error handling. */
  public static CommandLine commandLine(Object command, PrintWriter out, PrintWriter err) {
    return commandLine(command, out, err, null);
  }

  /**
   * {@link #commandLine(Object, PrintWriter, PrintWriter)}; for a {@link GitopsCommand}, with the
   * subcommand named {@code only} alone when it is not null, else with every subcommand. picocli
   * builds a command's model from its annotations when it is added, about 90 ms of a one-shot
   * command's start for the eight it does not run.
   */
  static CommandLine commandLine(Object command, PrintWriter out, PrintWriter err, String only) {
    CommandLine cl = new CommandLine(command);
    if (command instanceof GitopsCommand) {
      for (Class<?> sub : GitopsCommand.SUBCOMMANDS) {
        if (only == null || only.equals(nameOf(sub))) {
          cl.addSubcommand(sub);
        }
      }
    }
    // after the subcommands: picocli hands these settings to the subcommands there are now
    cl.setOut(out);
    cl.setErr(err);
    cl.setExitCodeExceptionMapper(new ExitCodes.Mapper());
    cl.setExecutionExceptionHandler(new ExitCodes.ExecutionErrors());
    cl.setParameterExceptionHandler(new ExitCodes.UsageErrors());
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    return cl;
  }
}
