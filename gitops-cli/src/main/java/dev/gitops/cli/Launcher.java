package dev.gitops.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The main class of {@code gitops.jar} and {@code gitops-all.jar}: the parent of a one-shot child
 * JVM ({@link OneShotJvm}), which hands every other command to {@link Main} in this JVM.
 *
 * <p>{@code gitops.jar} is the launcher jar: this class, {@link OneShotJvm} and {@link
 * ChildClassData}, with {@code Class-Path: gitops-all.jar}; {@code gitops-all.jar} beside it holds
 * every class and runs alone too ({@code java -jar gitops-all.jar}). A JVM reads the whole index of
 * entries of the jar it starts from, and {@code java -jar} reads it twice (the launcher's manifest,
 * then the class loader): for the ~34,000 entries of {@code gitops-all.jar} that was ~55 ms of
 * every command, before {@code main}, which a one-shot command's parent then paid for nothing
 * (docs/cli.md). So this class refers to nothing outside the JDK's base module but those two: the
 * {@code java} launcher resolves the types of its methods ({@link Main}'s name picocli's).
 */
final class Launcher {

  private Launcher() {}

  /**
   * Runs a one-shot command in a child JVM and exits with its code, else runs the command in this
   * JVM ({@link Main#runHere}). A launcher jar whose {@code gitops-all.jar} is missing ends every
   * command at once (exit 1), naming it.
   */
  public static void main(String[] args) {
    if (OneShotJvm.CHILD.equals(System.getProperty(OneShotJvm.PROPERTY))) {
      // the child runs the command: nothing of the parent's applies to it, and its class path is
      // gitops-all.jar itself, whose index (not yet opened where the classes come from the
      // class-data archive) a read of its manifest would parse once more
      Main.runHere(args, null);
      return;
    }
    // first, before any logger or picocli class: the parent of a child JVM loads as little as it can
    String classPath = System.getProperty("java.class.path");
    Path classes = OneShotJvm.applicationJar(classPath);
    if (classes != null && !Files.isRegularFile(classes)) {
      // to the user, as every command's errors are: SLF4J is among the classes that are missing
      System.err.println("gitops: " + classes + " is missing: " + classPath + " is the launcher and runs the classes"
          + " in it; keep the two jars in one directory (" + classes.getFileName() + " also runs alone: java -jar "
          + classes.getFileName() + ")");
      System.exit(ExitCodes.ERROR);
    }
    String inThisJvm;
    OneShotJvm.Plan plan;
    try {
      plan = OneShotJvm.planForThisProcess(args, classes != null ? classes.toString() : classPath);
      inThisJvm = plan.reason();
    } catch (RuntimeException e) {
      plan = null;
      inThisJvm = "this JVM's command line could not be read (" + e + ")";
    }
    if (plan != null && plan.reexec()) {
      String[] why = new String[1];
      Optional<Integer> code = OneShotJvm.run(plan, why);
      if (code.isPresent()) {
        plan.classData().adopt(code.get());
        System.exit(code.get());
      }
      inThisJvm = why[0];
    }
    Main.runHere(args, inThisJvm);
  }
}
