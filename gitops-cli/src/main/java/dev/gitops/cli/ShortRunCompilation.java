package dev.gitops.cli;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JIT policy of a one-shot {@code gitops} process that runs its command in the JVM the user
 * started, not in {@link OneShotJvm}'s child (which is started C1-only, the cheaper policy): every
 * method is kept out of HotSpot's optimizing compiler (C2), so hot code stays at C1's quick compile.
 * A command such as {@code gitops sync} runs for seconds and then exits; C2 spent 4–5 s of CPU
 * compiling the sync's code in a first sync of 10,000 files, on a 2-core machine about half the
 * process's CPU, taken from the sync itself, and its faster code never paid that back before the
 * process ended. The policy is a compiler directive added on a background thread at start (the same
 * as {@code jcmd PID Compiler.directives_add}), so no JVM flag is needed on the {@code java -jar}
 * line. The JDK's message digests are the exception: C2 compiles SHA-256 to the CPU's SHA
 * instructions, which a first sync of 10,000 files spends 10–15% of its main thread on at C1 (plan
 * id, document digests), for the compile of a few small methods.
 *
 * <p>Not applied in {@link OneShotJvm}'s child, to {@code gitops run} (the long-running agent, for
 * which C2's code pays off), nor to {@code --help} and {@code --version}, nor with {@code
 * -Dgitops.cli.c2=true}; a JVM whose diagnostic commands are not reachable keeps its default and
 * says why at debug level. It applies where a one-shot command stays in the JVM the user started:
 * {@code GITOPS_JVM_REEXEC=false}, JIT or observing JVM options, a child that could not be started.
 * Only {@link Main#main} applies it: {@link Main#run}, which tests and embedding applications call,
 * leaves their JVM alone.
 */
final class ShortRunCompilation {

  private static final Logger LOG = LoggerFactory.getLogger(ShortRunCompilation.class);

  /** The system property that keeps C2 when {@code true}. */
  static final String KEEP_C2 = "gitops.cli.c2";

  /**
   * The directives, the first match applying: the JDK's message digests ({@code
   * sun.security.provider}: SHA-256 of every plan id, document digest and store record) may be
   * compiled by C2, whose code for them is the CPU's SHA instructions (an intrinsic C1 does not
   * have: about 8 times C1's speed on SHA-256); no method of any other class is compiled by C2.
   */
  static final String DIRECTIVE = "[{ match: \"sun/security/provider/*.*\", c2: { Exclude: false } },"
      + " { match: \"*.*\", c2: { Exclude: true } }]";

  /** How many directives {@link #DIRECTIVE} holds: the JVM's reply to adding them counts them. */
  private static final int DIRECTIVES = 2;

  private ShortRunCompilation() {}

  /** Whether a process running {@code args} gets the policy. */
  static boolean appliesTo(String... args) {
    if (Boolean.getBoolean(KEEP_C2) || OneShotJvm.CHILD.equals(System.getProperty(OneShotJvm.PROPERTY))) {
      return false;
    }
    return OneShotJvm.oneShot(args);
  }

  /** Adds the directive from a daemon thread when {@link #appliesTo} says so; returns at once. */
  static void startFor(String... args) {
    if (!appliesTo(args)) {
      return;
    }
    Thread t = new Thread(ShortRunCompilation::addDirective, "gitops-jit-policy");
    t.setDaemon(true);
    t.start();
  }

  /** Adds {@link #DIRECTIVE} to this JVM's compiler directives; false (logged) when the JVM refuses it. */
  static boolean addDirective() {
    Path file = null;
    try {
      file = Files.createTempFile("gitops-jit", ".json");
      Files.writeString(file, DIRECTIVE);
      Object reply = ManagementFactory.getPlatformMBeanServer().invoke(
          new ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerDirectivesAdd",
          new Object[] {new String[] {file.toString()}}, new String[] {String[].class.getName()});
      LOG.debug("compiler directive added: {}", reply);
      return String.valueOf(reply).contains(DIRECTIVES + " compiler directives added");
    } catch (Exception | LinkageError e) {
      LOG.debug("keeping the JVM's default compilation: the compiler directive could not be added ({})", e.toString());
      return false;
    } finally {
      if (file != null) {
        try {
          Files.deleteIfExists(file);
        } catch (java.io.IOException e) {
          LOG.debug("could not delete {}: {}", file, e.toString());
        }
      }
    }
  }
}
