package dev.gitops.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process signals {@code gitops run} answers (SIGHUP, SIGTERM, SIGINT), through the JDK's
 * {@code sun.misc.Signal}: the only way a Java process has to handle them instead of dying.
 */
final class Signals {

  private static final Logger LOG = LoggerFactory.getLogger(Signals.class);

  private Signals() {}

  /** Runs {@code handler} on each {@code name} signal (HUP, TERM, INT); false when this JVM does not let us. */
  @SuppressWarnings("restriction")
  static boolean on(String name, Runnable handler) {
    try {
      sun.misc.Signal.handle(new sun.misc.Signal(name), s -> handler.run());
      return true;
    } catch (IllegalArgumentException e) {
      // The JVM keeps the signal for itself (-Xrs, or a platform without it): the default action stays.
      LOG.warn("cannot handle SIG{}: {}", name, e.getMessage());
      return false;
    }
  }
}
