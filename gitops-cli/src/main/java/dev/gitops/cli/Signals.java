package dev.gitops.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process signals {@code gitops run} answers (SIGHUP, SIGTERM, SIGINT), through the JDK's
 * {@code sun.misc.Signal}: the only way a Java process has to handle them instead of dying.
 *
 * <p>A signal the process was started ignoring (SIGHUP under {@code nohup}, SIGINT in a background
 * job) never reaches a Java handler: the JVM leaves it ignored and registers the handler without a
 * word. On Linux that is read from {@code /proc/self/status}, and {@link #on} answers false, so
 * that the caller can say that a reload by SIGHUP cannot happen instead of ignoring it silently.
 */
final class Signals {

  private static final Logger LOG = LoggerFactory.getLogger(Signals.class);

  private Signals() {}

  /**
   * Runs {@code handler} on each {@code name} signal (HUP, TERM, INT); false when it will not: the
   * JVM keeps the signal for itself, or the process ignores it.
   */
  @SuppressWarnings("restriction")
  static boolean on(String name, Runnable handler) {
    try {
      sun.misc.Signal signal = new sun.misc.Signal(name);
      if (ignoredByThisProcess(signal.getNumber())) {
        // a background job ignores SIGINT, nohup SIGHUP: the caller says what that means to the user
        LOG.info("SIG{} is ignored by this process: the JVM would never call a handler for it", name);
        return false;
      }
      sun.misc.Signal.handle(signal, s -> handler.run());
      return true;
    } catch (IllegalArgumentException e) {
      // The JVM keeps the signal for itself (-Xrs, or a platform without it): the default action stays.
      LOG.warn("cannot handle SIG{}: {}", name, e.getMessage());
      return false;
    }
  }

  /** Whether signal {@code number} is ignored by this process, as far as {@code /proc/self/status} says. */
  private static boolean ignoredByThisProcess(int number) {
    Path status = Path.of("/proc/self/status");
    if (!Files.isReadable(status)) {
      return false;  // not Linux: nothing to read it from, the handler is registered as before
    }
    try {
      return ignored(Files.readAllLines(status), number);
    } catch (IOException | RuntimeException e) {
      LOG.debug("cannot read which signals this process ignores: {}", e.toString());
      return false;
    }
  }

  /**
   * Whether the {@code SigIgn} mask of a {@code /proc/<pid>/status} text ({@code lines}) holds
   * signal {@code number} (bit {@code number - 1} of the hexadecimal mask); false without the line.
   */
  static boolean ignored(List<String> lines, int number) {
    for (String line : lines) {
      if (line.startsWith("SigIgn:")) {
        String hex = line.substring("SigIgn:".length()).strip();
        int bit = number - 1;
        int digit = hex.length() - 1 - bit / 4;
        if (bit < 0 || digit < 0) {
          return false;
        }
        int nibble = Character.digit(hex.charAt(digit), 16);
        return nibble >= 0 && (nibble >> (bit % 4) & 1) == 1;  // not hex: unknown, taken as not ignored
      }
    }
    return false;
  }
}
