package dev.gitops.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the child that writes the class-data archive ({@link ChildClassData}) runs after its own
 * command: the {@code demo} in a directory the parent names beside the archive (made here, removed
 * after by both; one a kill left is swept with stale temp files), its output discarded. The archive holds the
 * classes the JVM that wrote it loaded, so without this it held those of whichever command came
 * first: made by a first sync, a later sync of one changed file still read ~40 classes from the
 * jar at every run, parsing and verifying them; made by a no-change sync, ~200 (JGit's object copy
 * and tree walk, the incremental read). The demo plans, syncs into an empty directory, syncs again with nothing to do,
 * syncs a commit of changed files, finds and corrects drift: the paths of nearly every command on
 * a Git repository and a directory. It runs once per jar and JDK, on a daemon thread given at most
 * {@link #MOST_SECONDS}; it never changes the command's exit code or output, and a failure only
 * leaves some classes out of the archive. Left out when the command will not keep the archive
 * ({@link ChildClassData#keeps}) and under {@code --verbose}, whose log would show the demo's.
 */
final class ClassDataTraining {

  private static final Logger LOG = LoggerFactory.getLogger(ClassDataTraining.class);

  /**
   * The system property the parent gives the child that writes an archive: the absolute path of
   * the directory to make and run the demo in ({@link ChildClassData#trainingOf}).
   */
  static final String PROPERTY = "gitops.cli.cds.training";

  /** The longest the demo may run before the child exits without waiting for its end. */
  static final long MOST_SECONDS = 30;

  private ClassDataTraining() {}

  /**
   * After a command that exited with {@code code}, given {@code args}: runs the demo when this JVM
   * writes an archive ({@link #PROPERTY}) that will be kept.
   *
   * @return whether the demo ran to its end with the exit code it expects
   */
  static boolean afterCommand(int code, String... args) {
    Path dir = absolutePath(System.getProperty(PROPERTY));
    if (dir == null || !ChildClassData.keeps(code) || Main.verbose(args)) {
      return false;
    }
    AtomicBoolean done = new AtomicBoolean();
    Thread t = new Thread(() -> done.set(demo(dir)), "gitops-class-data-training");
    t.setDaemon(true);
    t.start();
    try {
      t.join(TimeUnit.SECONDS.toMillis(MOST_SECONDS));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();  // the command's exit comes first; the archive holds what was loaded
    }
    return done.get();
  }

  /** {@code value} as an absolute path; null when it is none (not set, relative, not a path here). */
  private static Path absolutePath(String value) {
    try {
      return value == null || !Path.of(value).isAbsolute() ? null : Path.of(value);
    } catch (java.nio.file.InvalidPathException e) {
      return null;  // not the parent's: the command's exit code is not to change for it
    }
  }

  /**
   * Runs the demo in {@code dir}, made here and removed after (nothing is run, nor removed, when
   * something is there already); whether it ended as it should.
   */
  static boolean demo(Path dir) {
    Path made = null;
    try {
      made = Files.createDirectory(dir);
      PrintWriter discard = new PrintWriter(Writer.nullWriter());
      int code = Main.commandLine(new GitopsCommand(), discard, discard)
          .execute("demo", "--dir", dir.toString());
      LOG.debug("the class-data training demo exited with {}", code);
      return code == ExitCodes.OK;
    } catch (IOException | RuntimeException | LinkageError e) {
      // only classes are lost: the archive holds those loaded so far
      LOG.debug("the class-data training demo failed: {}", e.toString());
      return false;
    } finally {
      Session.deleteTree(made, "the class-data training directory");
    }
  }
}
