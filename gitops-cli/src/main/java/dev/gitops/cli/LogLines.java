package dev.gitops.cli;

import dev.gitops.core.render.PlanRenderer;
import java.io.PrintStream;

/**
 * The standard error stream the log writes to, one record a line: slf4j-simple writes each record
 * with one {@code println} to {@code System.err} as it is at that moment (and a stack trace with
 * one {@code println} a frame), so a stream that escapes control and format characters in what it
 * is given to print ({@link PlanRenderer#printable}) keeps a line break or a terminal escape in a
 * logged value (a file name from Git, a provider's message, a configuration value) from forging a
 * log line of its own or redrawing the operator's screen. The command's own output and errors do
 * not go through it: they are written to {@link #userErr()}, the stream the process started with.
 *
 * <pre>{@code
 * LogLines.install();
 * LoggerFactory.getLogger("x").warn("cannot read {}", "a\n[main] ERROR forged");  // one line: a\n[main] ...
 * }</pre>
 */
final class LogLines extends PrintStream {

  private final PrintStream raw;

  private LogLines(PrintStream raw) {
    super(raw, true);
    this.raw = raw;
  }

  /** Makes {@code System.err} a log stream over the one it is now, once. */
  static synchronized void install() {
    if (!(System.err instanceof LogLines)) {
      System.setErr(new LogLines(System.err));
    }
  }

  /** The standard error stream the log stream writes to: the one the command's messages go to. */
  static PrintStream userErr() {
    PrintStream err = System.err;
    return err instanceof LogLines l ? l.raw : err;
  }

  @Override
  public void println(String x) {
    super.println(PlanRenderer.printable(String.valueOf(x)));
  }

  @Override
  public void println(Object x) {
    super.println(PlanRenderer.printable(String.valueOf(x)));
  }

  @Override
  public void print(String s) {
    super.print(PlanRenderer.printable(String.valueOf(s)));
  }

  @Override
  public void print(Object obj) {
    super.print(PlanRenderer.printable(String.valueOf(obj)));
  }
}
