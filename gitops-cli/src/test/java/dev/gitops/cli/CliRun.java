package dev.gitops.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * A {@code gitops} command line run in the test's own JVM, with the CLI's error handling: its
 * exit code and what it printed on each stream.
 */
record CliRun(int code, String out, String err) {

  /** Runs {@code args} as the {@code gitops} command does. */
  static CliRun gitops(String... args) {
    return run(new GitopsCommand(), args);
  }

  /** Runs {@code args} against {@code command} as {@link Main#commandLine} sets it up. */
  static CliRun run(Object command, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.commandLine(command, new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
    return new CliRun(code, out.toString(), err.toString());
  }
}
