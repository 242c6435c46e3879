package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * JGit's log is off in a one-shot command unless --verbose, errors included: docs/cli.md says no log
 * line is mixed into a command's output, and an error is one line. JGit's ERROR records carry a
 * stack trace (a lock file of the Git cache it cannot create: 'LockFile - Creating lock file
 * .../shallow.lock failed' and 20 lines of trace, three times, before the command's one line); the
 * CLI's logging file raised JGit to error above the default 'off'. Logging is configured once per
 * JVM, so each case runs in a JVM of its own.
 */
class JGitLogLevelTest {

  @TempDir
  Path tmp;

  @Test
  void jgitLogsNothingInAOneShotCommandAndEverythingFromInfoWithVerbose() throws Exception {
    assertThat(levels("history", "--state", tmp.toString())).isEqualTo("error=false warn=false info=false");
    assertThat(levels("--verbose", "history", "--state", tmp.toString())).isEqualTo("error=true warn=true info=true");
  }

  /** What JGit's lock file logger logs after {@code args} ran in a new JVM, as {@link Probe} prints it. */
  private static String levels(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Probe.class.getName()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
    List<String> lines = out.lines().filter(l -> l.startsWith("error=")).toList();
    assertThat(lines).as(out).hasSize(1);
    return lines.get(0);
  }

  /** Runs a command line as {@link Main#run} does, then prints which levels JGit's LockFile logger logs. */
  public static final class Probe {
    public static void main(String[] args) {
      int code = Main.run(args);
      org.slf4j.Logger jgit = LoggerFactory.getLogger("org.eclipse.jgit.internal.storage.file.LockFile");
      System.out.println("error=" + jgit.isErrorEnabled() + " warn=" + jgit.isWarnEnabled() + " info="
          + jgit.isInfoEnabled());
      System.exit(code);
    }
  }
}
