package dev.gitops.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/**
 * What the child that writes the class-data archive ({@link ChildClassData}) runs after its own
 * command: {@code gitops demo} in a temporary directory, its output discarded, so that the archive
 * holds the classes of the common commands (plan, a first sync, a no-change sync, a sync of a
 * change and a removal, diff, status, drift corrected, history), not only of the one command that
 * happened to make it. An archive made by a first {@code sync --dry-run} left a later sync of a change
 * to load 66 of gitops's classes from the jar (5 with the trained archive, {@code OneShotJvmIT}); one
 * made by a first sync of 10,000 files, 205 classes from the jar for a one-file sync (182 trained,
 * most of them picocli's, whose Java 5 class files no dynamic archive holds). Loading the classes an
 * archive holds still costs (about 100 ms of that sync's main thread, against 115 ms untrained:
 * benchmarks/README.md, "Looked at again on 12-03, 10:20").
 *
 * <p>It runs in the writing child only ({@value #PROPERTY}{@code =true}, set by {@link
 * ChildClassData}), after the command's output is written and only when the command ran to its
 * end (an archive is kept for those alone, {@link ChildClassData#keeps}); it never changes the
 * command's exit code and is bounded by {@link #LIMIT}: past it, or on any failure, the archive
 * holds what was loaded by then.
 */
final class ClassDataTraining {

  private static final Logger LOG = LoggerFactory.getLogger(ClassDataTraining.class);

  /** The system property that asks the child to train after its command. */
  static final String PROPERTY = "gitops.cli.cds.train";

  /** How long the training may take before the child exits without waiting for the rest of it. */
  static final Duration LIMIT = Duration.ofSeconds(20);

  private ClassDataTraining() {}

  /** After the child's command ended with {@code code}: trains when this child writes the archive and keeps it. */
  static void afterCommand(int code) {
    if (Boolean.getBoolean(PROPERTY) && ChildClassData.keeps(code)) {
      run(LIMIT);
    }
  }

  /**
   * Runs the demo in a new temporary directory (deleted after) on a daemon thread, with this
   * process's standard streams (where the log writes) silenced meanwhile; waits at most {@code
   * limit}. Returns whether the demo ran to its end, exit 0, within it.
   */
  static boolean run(Duration limit) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    PrintStream silent = new PrintStream(OutputStream.nullOutputStream(), true);
    AtomicInteger code = new AtomicInteger(-1);
    Path dir;
    try {
      dir = Files.createTempDirectory("gitops-cds-training-");
    } catch (IOException | RuntimeException e) {
      LOG.debug("no class-data training: no temporary directory ({}); the archive holds the command's classes", e.toString());
      return false;
    }
    Thread demo = new Thread(() -> {
      PrintWriter nowhere = new PrintWriter(silent, true);
      CommandLine cl = Main.commandLine(new GitopsCommand(), nowhere, nowhere, "demo");
      code.set(cl.execute("demo", "--dir", dir.toString()));
    }, "gitops-cds-training");
    demo.setDaemon(true);
    System.setOut(silent);
    System.setErr(silent);
    try {
      demo.start();
      demo.join(limit.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();  // the child is exiting anyway: the archive holds what was loaded
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
    boolean done = !demo.isAlive() && code.get() == ExitCodes.OK;
    if (!demo.isAlive()) {
      deleteTree(dir);
    }
    LOG.debug("class-data training {}", done ? "done" : "not finished (the archive holds what was loaded)");
    return done;
  }

  /** Deletes {@code dir} and everything under it, as far as it can: a leftover is a temporary directory. */
  private static void deleteTree(Path dir) {
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("the class-data training left {} behind: {}", dir, e.toString());
    }
  }
}
