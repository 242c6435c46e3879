package dev.gitops.cli;

import dev.gitops.agent.StateDirectoryInUseException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The holder of a lock, as an error names it, checked against the processes of this host. A lock
 * is an OS file lock, released when its holder dies, but the pid its holder wrote into the lock
 * file stays there after a {@code kill -9}: a state store's lock then names the dead writer while a
 * reader (which writes no pid) holds it. Such a pid is said to be one that is no longer running
 * here, never named as the holder.
 *
 * <pre>{@code
 * String line = LockHolders.checked("store /srv/t/.gitops is locked by process 4242, lock file ...");
 * // "... is locked by another process (the lock file names pid 4242, which is not running on this host: ...)"
 * }</pre>
 */
final class LockHolders {

  /** How a state store's lock error names its holder ({@code FileStateStore}). */
  private static final Pattern STORE_HOLDER = Pattern.compile("is locked by process (\\d{1,19}),");

  private LockHolders() {}

  /** {@code line} with a state store's holder that is not running here described as such; else as it is. */
  static String checked(String line) {
    Matcher m = STORE_HOLDER.matcher(line);
    if (!m.find() || running(m.group(1))) {
      return line;
    }
    return line.substring(0, m.start()) + "is locked by another process (the lock file names pid " + m.group(1)
        + ", which is not running on this host: it held the lock last, and the process that holds it now wrote no"
        + " pid, as a reader such as plan, diff, status or history writes none)," + line.substring(m.end());
  }

  /** The agent's refusal of a state directory held by another, its holder checked as {@link #checked} does. */
  static Optional<String> checked(StateDirectoryInUseException e) {
    Optional<String> pid = e.holderPid();
    String named = pid.map(p -> " (pid " + p + ")").orElse("");
    if (pid.isEmpty() || running(pid.get()) || e.getMessage() == null || !e.getMessage().contains(named)) {
      return Optional.empty();
    }
    return Optional.of(e.getMessage().replace(named, " (its lock file names pid " + pid.get() + ", which is not"
        + " running on this host: the agent that holds it now has not written its pid yet)"));
  }

  /** Whether the process {@code pid} runs on this host (a pid too large to be one is not). */
  static boolean running(String pid) {
    try {
      return ProcessHandle.of(Long.parseLong(pid)).map(ProcessHandle::isAlive).orElse(false);
    } catch (NumberFormatException e) {
      return false;  // more digits than a long: no process has it
    }
  }
}
